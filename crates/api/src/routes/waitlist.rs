//! Events' waiting lists: join a full event's line, see one's place, leave.

use actix_web::{delete, get, post, web};
use hothour_domain::EventId;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, created, no_content, ok};
use crate::auth::Caller;
use crate::dto::{WaitingPlaceOut, WaitlistIn};
use crate::json::StrictJson;
use crate::openapi::rules;
use crate::problem::ProblemCode as C;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(join_waitlist).service(waiting_place).service(leave_waitlist);
}

/// Joins a full event's waiting list for `quantity` seats: only while fewer
/// are available (else hold them: 409 `seats_available`), once per user.
/// When seats return (a hold lapses, a booking is cancelled, capacity
/// grows) they go to the list first: in order of joining, each waiter whose
/// quantity fits the seats free is offered a hold of them (`hold_offered` on
/// `user:{id}`, and an email), to confirm like any hold before it lapses;
/// an offer that lapses passes to the next in line.
#[utoipa::path(
    tag = "events", operation_id = "joinWaitlist",
    request_body(content = WaitlistIn, example = json!({ "quantity": 2 })),
    params(("id" = i64, Path, description = "Event id")),
    responses((status = 201, description = "The caller's place in line", body = WaitingPlaceOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[
        C::BookingNotAllowed, C::SeatsAvailable, C::AlreadyWaiting, C::HoldAlreadyExists, C::EventNotOpen,
        C::EventCancelled, C::NotFound,
    ])))),
)]
#[post("/events/{id}/waitlist")]
async fn join_waitlist(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<WaitlistIn>) -> Reply {
    let place = state.services.join_waitlist(&caller.actor, EventId(*id), body.0.quantity).await?;
    created(&WaitingPlaceOut::from(place))
}

/// The caller's place in the event's waiting list (404 when not waiting:
/// never joined, left, or already offered seats).
#[utoipa::path(
    tag = "events", operation_id = "getWaitingPlace", params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, description = "The caller's place in line", body = WaitingPlaceOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::NotFound])))),
)]
#[get("/events/{id}/waitlist/me")]
async fn waiting_place(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    ok(&WaitingPlaceOut::from(state.services.waiting_place(&caller.actor, EventId(*id)).await?))
}

/// Leaves the event's waiting list.
#[utoipa::path(
    tag = "events", operation_id = "leaveWaitlist", params(("id" = i64, Path, description = "Event id")),
    responses((status = 204, description = "Off the list")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::NotFound])))),
)]
#[delete("/events/{id}/waitlist/me")]
async fn leave_waitlist(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    state.services.leave_waitlist(&caller.actor, EventId(*id)).await?;
    no_content()
}
