//! The HTTP routes under `/api/v1`, each documented for OpenAPI.

pub mod accounts;
pub mod alerts;
pub mod auctions;
pub mod audit;
pub mod door;
pub mod events;
pub mod mailbox;
pub mod meta;
pub mod numbers;
pub mod ops;
pub mod payments;
pub mod reservations;
pub mod studios;
pub mod waitlist;

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use hothour_domain::{DomainError, Reservation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::auth::Caller;
use crate::idempotency::{self, Answer};
use crate::metrics::Metrics;
use crate::problem::{Problem, ProblemCode};

/// What every handler shares.
type State = web::Data<AppState>;

/// What a handler answers: a response, or a problem.
type Reply = Result<HttpResponse, Problem>;

/// `200 OK` with `value` as JSON.
fn ok(value: &impl Serialize) -> Reply {
    Ok(HttpResponse::Ok().json(value))
}

/// `201 Created` with `value` as JSON.
fn created(value: &impl Serialize) -> Reply {
    Ok(HttpResponse::Created().json(value))
}

/// `202 Accepted` with `value` as JSON (what was recorded; email follows).
fn accepted(value: &impl Serialize) -> Reply {
    Ok(HttpResponse::Accepted().json(value))
}

/// `202 Accepted` with no body.
fn accepted_empty() -> Reply {
    Ok(HttpResponse::Accepted().finish())
}

/// `204 No Content`.
fn no_content() -> Reply {
    Ok(HttpResponse::NoContent().finish())
}

/// A hold or a grab: within the caller's booking budget, its body read as
/// `T`, run at most once per `Idempotency-Key`, decided on the instance's
/// decision runtime (see [`AppState::decisions`]), its outcome counted, and
/// answered with the reservation it made.
async fn book<T, F, Fut>(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    body: &[u8],
    count: fn(&Metrics, &'static str),
    make: F,
) -> Reply
where
    T: DeserializeOwned,
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = Result<Reservation, DomainError>> + Send + 'static,
{
    state.limits.check_booking(caller.user_id().0)?;
    let input: T = crate::json::parse_request(req, body)?;
    idempotency::run(state, caller.user_id(), req, body, || async {
        let result = state.decide(make(input)).await.map_err(Problem::from);
        count(&state.metrics, result.as_ref().map_or_else(|p| p.code.as_str(), |_| "created"));
        Ok(Answer::json(StatusCode::CREATED, &state.reservation_out(&result?).await?))
    })
    .await
}

/// Every documented route, relative to `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    // Routes are tried in this order, each with a pattern parameter matched
    // by a regular expression: the busiest (reads, holds and grabs) first.
    // No path matches a pattern of two modules.
    events::configure(cfg);
    auctions::configure(cfg);
    accounts::configure(cfg);
    studios::configure(cfg);
    mailbox::configure(cfg);
    waitlist::configure(cfg);
    alerts::configure(cfg);
    reservations::configure(cfg);
    numbers::configure(cfg);
    door::configure(cfg);
    payments::configure(cfg);
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
