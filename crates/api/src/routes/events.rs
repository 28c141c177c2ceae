//! Events with seats, and holds on them.

use actix_web::{HttpRequest, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use hothour_domain::ports::{ActiveFilter, EventFilter};
use hothour_domain::{Actor, DomainError, EventId, StudioId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, book, created, no_content, ok};
use crate::auth::{Caller, MaybeCaller};
use crate::dto::{ActiveChoice, EventIn, EventOut, EventPage, EventPatchIn, HoldIn, ReservationOut, parse_choice};
use crate::idempotency;
use crate::json::{StrictJson, query_instant};
use crate::metrics::Metrics;
use crate::openapi::rules;
use crate::pagination::{Cursor, PageSize, encode_time_cursor, limit, split_page};
use crate::problem::ProblemCode as C;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_event)
        .service(list_events)
        .service(get_event)
        .service(update_event)
        .service(delete_event)
        .service(cancel_event)
        .service(hold_seats);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    studio_id: Option<i64>,
    /// `true` (default), `false` or `all`; inactive events are shown only to their studio's admins.
    #[param(value_type = Option<ActiveChoice>)]
    is_active: Option<String>,
    /// Only events starting at or after this instant.
    starts_after: Option<DateTime<Utc>>,
    /// Only events starting before this instant.
    starts_before: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 20).
    #[param(inline)]
    limit: Option<PageSize>,
    /// `next_cursor` of the previous page.
    #[param(inline)]
    cursor: Option<Cursor>,
}

/// Who is looking, if anyone signed in.
fn viewer(caller: &MaybeCaller) -> Option<&Actor> {
    caller.0.as_ref().map(|caller| &caller.actor)
}

/// Creates an event.
#[utoipa::path(
    tag = "events", operation_id = "createEvent",
    request_body(content = EventIn, example = json!({
        "title": "Sound bath", "description": "", "capacity": 12, "price": "150.00",
        "starts_at": "2030-03-02T18:00:00Z", "ends_at": "2030-03-02T19:30:00Z", "is_active": true,
    })),
    responses((status = 201, description = "The new event, with its availability now", body = EventOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::NotFound])))),
)]
#[post("/events")]
async fn create_event(state: State, caller: Caller, body: StrictJson<EventIn>) -> Reply {
    let studio = body.0.studio_id.map(StudioId);
    let event = state.services.create_event(&caller.actor, studio, body.0.into_input()).await?;
    created(&state.event_out_of(event.id).await?)
}

/// Lists events by start time, each with its availability now.
#[utoipa::path(
    tag = "events", operation_id = "listEvents", params(EventQuery),
    responses((status = 200, description = "One page of events", body = EventPage)),
    extensions(("x-hothour" = json!(rules::optional(&[C::Forbidden, C::NotFound])))),
)]
#[get("/events")]
async fn list_events(state: State, caller: MaybeCaller, query: web::Query<EventQuery>) -> Reply {
    let query = query.into_inner();
    let limit = limit(query.limit)?;
    let active = match parse_choice::<ActiveChoice>("is_active", query.is_active.as_deref())? {
        None | Some(ActiveChoice::True) => ActiveFilter::Active,
        Some(ActiveChoice::False) => ActiveFilter::Inactive,
        Some(ActiveChoice::All) => ActiveFilter::All,
    };
    let studio_id = query.studio_id.map(StudioId);
    let after = query.cursor.as_ref().map(Cursor::time).transpose()?.map(|(at, id)| (at, EventId(id)));
    let starts_after = query_instant("starts_after", query.starts_after)?;
    let starts_before = query_instant("starts_before", query.starts_before)?;
    let filter = EventFilter { studio_id, active, starts_after, starts_before };
    let records = state.services.list_events(viewer(&caller), filter, limit + 1, after).await?;
    let (records, next_cursor) =
        split_page(records, limit, |r| encode_time_cursor(r.event.details.starts_at, r.event.id.0));
    ok(&EventPage { items: state.event_outs(&records).await?, next_cursor })
}

/// One event with its availability now.
#[utoipa::path(
    tag = "events", operation_id = "getEvent", params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, description = "The event, with its availability now", body = EventOut)),
    extensions(("x-hothour" = json!(rules::optional(&[]).tagged()))),
)]
#[get("/events/{id}")]
async fn get_event(req: HttpRequest, state: State, caller: MaybeCaller, id: web::Path<i64>) -> Reply {
    let record = state.read_event(EventId(*id)).await?;
    if !record.event.visibility().allows(viewer(&caller)) {
        return Err(DomainError::NotFound("event").into());
    }
    crate::etag::tagged_json(&req, &state.event_out(&record).await?)
}

/// Changes an event; capacity cannot drop below the seats already reserved.
#[utoipa::path(
    tag = "events", operation_id = "updateEvent", request_body = EventPatchIn,
    params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, description = "The event, with its availability now", body = EventOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::CapacityBelowReserved, C::EventCancelled])))),
)]
#[patch("/events/{id}")]
async fn update_event(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<EventPatchIn>) -> Reply {
    state.services.update_event(&caller.actor, EventId(*id), body.0.into_patch()).await?;
    ok(&state.event_out_of(EventId(*id)).await?)
}

/// Removes an event from the catalogue; refused while it has live reservations.
#[utoipa::path(
    tag = "events", operation_id = "deleteEvent", params(("id" = i64, Path, description = "Event id")),
    responses((status = 204, description = "Removed")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::EventHasReservations])))),
)]
#[delete("/events/{id}")]
async fn delete_event(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    state.services.delete_event(&caller.actor, EventId(*id)).await?;
    no_content()
}

/// Cancels an event (its studio's admins and platform admins): every hold and
/// booking it has is cancelled in the same decision, each holder is told
/// (`reservation_cancelled` on `user:{id}`), paid bookings are refunded, and
/// the event is off sale for good (inactive, with `cancelled_at`). Bookings
/// already checked in stay as they are.
#[utoipa::path(
    tag = "events", operation_id = "cancelEvent", params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, description = "The event, cancelled, with its seats now", body = EventOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::EventCancelled])))),
)]
#[post("/events/{id}/cancel")]
async fn cancel_event(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    state.services.cancel_event(&caller.actor, EventId(*id)).await?;
    ok(&state.event_out_of(EventId(*id)).await?)
}

/// Holds seats for a few minutes; confirm the reservation before it expires.
#[utoipa::path(
    tag = "events", operation_id = "holdSeats",
    request_body(content = Option<HoldIn>, example = json!({ "quantity": 2 })),
    params(("id" = i64, Path, description = "Event id"), idempotency::KeyHeader),
    responses((status = 201, description = "The hold", body = ReservationOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[
        C::BookingNotAllowed, C::InsufficientCapacity, C::HoldAlreadyExists, C::EventNotOpen, C::RateLimited,
    ]).idempotent()))),
)]
#[post("/events/{id}/holds")]
async fn hold_seats(state: State, caller: Caller, id: web::Path<i64>, req: HttpRequest, body: web::Bytes) -> Reply {
    let (shared, actor, id) = (state.clone(), caller.actor, EventId(*id));
    book(&state, &caller, &req, &body, Metrics::hold, move |input: HoldIn| async move {
        shared.services.hold(&actor, id, input.quantity).await
    })
    .await
}
