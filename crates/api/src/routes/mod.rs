//! The HTTP routes under `/api/v1`, each documented for OpenAPI.

pub mod accounts;
pub mod auctions;
pub mod audit;
pub mod events;
pub mod ops;
pub mod reservations;
pub mod studios;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::problem::Problem;

/// Every documented route, relative to `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    accounts::configure(cfg);
    studios::configure(cfg);
    events::configure(cfg);
    auctions::configure(cfg);
    reservations::configure(cfg);
    audit::configure(cfg);
    // The live protocol is described in the README, not in OpenAPI.
    cfg.route("/ws", actix_web::web::get().to(crate::live::socket::upgrade));
}

/// Anything unrouted.
pub async fn not_found() -> HttpResponse {
    Problem::new(StatusCode::NOT_FOUND, "route_not_found", "no such route").error_response()
}

pub fn forbidden(detail: &str) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
}

pub use crate::client_ip::client_ip;
