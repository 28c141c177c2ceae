//! The HTTP routes under `/api/v1`, each documented for OpenAPI.

pub mod accounts;
pub mod auctions;
pub mod audit;
pub mod events;
pub mod meta;
pub mod ops;
pub mod reservations;
pub mod studios;

use actix_web::{HttpRequest, HttpResponse, ResponseError};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problem::{Problem, ProblemCode};

/// Every documented route, relative to `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    accounts::configure(cfg);
    studios::configure(cfg);
    events::configure(cfg);
    auctions::configure(cfg);
    reservations::configure(cfg);
    crate::payments::configure(cfg);
    audit::configure(cfg);
    meta::configure(cfg);
    // The live protocol is described in the README, not in OpenAPI.
    cfg.route("/ws", actix_web::web::get().to(crate::live::socket::upgrade));
}

/// Anything unrouted: 405 with `Allow` on a known path, else 404.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let allowed = crate::allowed_methods(req.path());
    if allowed.is_empty() {
        return Problem::new(ProblemCode::RouteNotFound, "no such route").error_response();
    }
    let mut response = Problem::new(ProblemCode::MethodNotAllowed, format!("this route takes {}", allowed.join(", ")))
        .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    response
}

pub use crate::client_ip::client_key;
