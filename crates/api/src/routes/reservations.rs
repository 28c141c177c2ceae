//! Reservations: one's own, a studio's, confirm, cancel, check-in.

use actix_web::{HttpResponse, get, post, web};
use hothour_domain::ports::ReservationFilter;
use hothour_domain::{DomainError, ReservationId, StudioId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, ok};
use crate::auth::Caller;
use crate::dto::{CheckInIn, CheckInOut, ReservationOut, ReservationPage, ReservationStatus, parse_choice};
use crate::json::StrictJson;
use crate::openapi::rules;
use crate::pagination::{Cursor, PageSize, encode_id_cursor, limit, split_page};
use crate::problem::ProblemCode as C;
use crate::{AppState, calendar};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(my_reservations)
        .service(get_reservation)
        .service(reservation_calendar)
        .service(confirm_reservation)
        .service(cancel_reservation)
        .service(studio_reservations)
        .service(check_in);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReservationQuery {
    /// The status now.
    #[param(value_type = Option<ReservationStatus>)]
    status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(inline)]
    limit: Option<PageSize>,
    /// `next_cursor` of the previous page.
    #[param(inline)]
    cursor: Option<Cursor>,
}

/// Whose reservations a page lists.
enum Whose {
    Caller,
    Studio(StudioId),
}

async fn list(state: &AppState, caller: &Caller, whose: Whose, query: ReservationQuery) -> Reply {
    let limit = limit(query.limit)?;
    let status = parse_choice::<ReservationStatus>("status", query.status.as_deref())?;
    let filter = ReservationFilter { status, ..Default::default() };
    let before = query.cursor.as_ref().map(Cursor::id).transpose()?.map(ReservationId);
    let reservations = match whose {
        Whose::Caller => state.services.list_my_reservations(&caller.actor, filter, limit + 1, before).await?,
        Whose::Studio(studio) => {
            state.services.list_studio_reservations(&caller.actor, studio, filter, limit + 1, before).await?
        }
    };
    let (reservations, next_cursor) = split_page(reservations, limit, |r| encode_id_cursor(r.id.0));
    ok(&ReservationPage { items: state.reservation_outs(&reservations).await?, next_cursor })
}

/// The caller's reservations, newest first, history included.
#[utoipa::path(
    tag = "reservations", operation_id = "listMyReservations", params(ReservationQuery),
    responses((status = 200, description = "One page of reservations", body = ReservationPage)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/reservations")]
async fn my_reservations(state: State, caller: Caller, query: web::Query<ReservationQuery>) -> Reply {
    list(&state, &caller, Whose::Caller, query.into_inner()).await
}

/// One reservation (its owner's or its studio's).
#[utoipa::path(
    tag = "reservations", operation_id = "getReservation", params(("id" = i64, Path, description = "Reservation id")),
    responses((status = 200, description = "The reservation", body = ReservationOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/reservations/{id}")]
async fn get_reservation(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    ok(&state.reservation_out(&state.services.get_reservation(&caller.actor, ReservationId(*id)).await?).await?)
}

/// One's reservation as a calendar entry (RFC 5545): one event, in UTC, named
/// by a UID that stays the same for the reservation. Its owner's only.
#[utoipa::path(
    tag = "reservations", operation_id = "getReservationCalendar",
    params(("id" = i64, Path, description = "Reservation id")),
    responses(
        (status = 200, description = "The reservation's session as an iCalendar file", body = String,
            content_type = "text/calendar"),
    ),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/reservations/{id}/calendar.ics")]
async fn reservation_calendar(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    let reservation = state.services.get_reservation(&caller.actor, ReservationId(*id)).await?;
    // A studio may read its reservations, but the calendar is the owner's.
    if reservation.user_id != caller.user_id() {
        return Err(DomainError::NotFound("reservation").into());
    }
    let reservation = state.reservation_out(&reservation).await?;
    Ok(HttpResponse::Ok()
        .content_type(calendar::CONTENT_TYPE)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"hothour-{}.ics\"", reservation.id)))
        .body(calendar::reservation_ics(&reservation, state.now())))
}

/// Confirms one's hold before it expires; confirming again returns the booking unchanged.
#[utoipa::path(
    tag = "reservations", operation_id = "confirmReservation", params(("id" = i64, Path, description = "Reservation id")),
    responses((status = 200, description = "The booking, with its booking code", body = ReservationOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[
        C::HoldExpired, C::InvalidState, C::PaymentRequired, C::PaymentProcessing, C::PaymentProviderUnavailable,
    ])))),
)]
#[post("/reservations/{id}/confirm")]
async fn confirm_reservation(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    ok(&state.reservation_out(&state.services.confirm(&caller.actor, ReservationId(*id)).await?).await?)
}

/// Cancels a hold, or a booking before the cut-off (studio admins: any time).
#[utoipa::path(
    tag = "reservations", operation_id = "cancelReservation", params(("id" = i64, Path, description = "Reservation id")),
    responses((status = 200, description = "The reservation", body = ReservationOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::CancellationClosed, C::InvalidState])))),
)]
#[post("/reservations/{id}/cancel")]
async fn cancel_reservation(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    ok(&state.reservation_out(&state.services.cancel_reservation(&caller.actor, ReservationId(*id)).await?).await?)
}

/// A studio's reservations, newest first (its admins and platform admins).
#[utoipa::path(
    tag = "reservations", operation_id = "listStudioReservations",
    params(("id" = i64, Path, description = "Studio id"), ReservationQuery),
    responses((status = 200, description = "One page of reservations", body = ReservationPage)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/studios/{id}/reservations")]
async fn studio_reservations(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<ReservationQuery>,
) -> Reply {
    list(&state, &caller, Whose::Studio(StudioId(*id)), query.into_inner()).await
}

/// Checks a booking in at the studio's door by its booking code, from
/// `check_in_opens_before_seconds` (`GET /config`) before its session starts
/// until the session ends; outside that window `check_in_not_open`, naming
/// the session's start in `session_starts_at`. A code used before is answered
/// 200 at any time, unchanged, with `already_checked_in: true`. A code of
/// another studio is not found.
#[utoipa::path(
    tag = "reservations", operation_id = "checkIn",
    request_body(content = CheckInIn, example = json!({ "booking_code": "7KQ2M9XD" })),
    params(("id" = i64, Path, description = "Studio id")),
    responses(
        (status = 200, description = "The booking, checked in now or already before, with its holder and its session", body = CheckInOut),
    ),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::InvalidState, C::CheckInNotOpen])))),
)]
#[post("/studios/{id}/check-in")]
async fn check_in(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<CheckInIn>) -> Reply {
    let check_in = state.services.check_in(&caller.actor, StudioId(*id), &body.0.booking_code).await?;
    // A deleted account's booking still gets in, nameless.
    let holder = state.accounts.user(check_in.reservation.user_id).await?.map(|user| user.full_name);
    let reservation = state.reservation_out(&check_in.reservation).await?;
    ok(&CheckInOut::new(&check_in, holder.unwrap_or_default(), reservation))
}
