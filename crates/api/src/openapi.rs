//! The parts of the OpenAPI document that no single route owns.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "HotHour API",
        description = "Descending-price (Dutch) auctions for a studio's empty slots, events with seats, and two-phase (hold → confirm) reservations. Errors are RFC 9457 problem+json with a stable `code`.",
        version = "1.0.0",
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "me", description = "The signed-in user"),
        (name = "studios", description = "Studios and their admins"),
        (name = "events", description = "Events with seats, and holds"),
        (name = "auctions", description = "Dutch auctions and grabbing"),
        (name = "reservations", description = "Holds and bookings"),
        (name = "admin", description = "Administration"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
