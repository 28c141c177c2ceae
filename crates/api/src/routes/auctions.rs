//! Dutch auctions: the catalogue, the price schedule, turbo, and grabbing.

use actix_web::{HttpRequest, delete, get, patch, post, web};
use hothour_domain::ports::{AuctionFilter, AuctionRecord};
use hothour_domain::{AuctionId, DomainError, StudioId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, book, created, no_content, ok};
use crate::AppServices;
use crate::auth::Caller;
use crate::dto::{
    AuctionIn, AuctionList, AuctionOut, AuctionPage, AuctionPatchIn, AuctionSeriesIn, AuctionStatus, GrabIn,
    PriceStepOut, ReservationOut, parse_choice,
};
use crate::idempotency;
use crate::json::StrictJson;
use crate::metrics::Metrics;
use crate::openapi::rules;
use crate::pagination::{Cursor, PageSize, encode_time_cursor, limit, split_page};
use crate::problem::ProblemCode as C;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_auction).service(create_auction_series);
    // Before `/auctions/{id}`: another method on `/auctions/batch` is 405, not a missing auction "batch".
    cfg.route("/auctions/batch", web::route().to(super::not_found));
    cfg.service(list_auctions)
        .service(get_auction)
        .service(auction_schedule)
        .service(update_auction)
        .service(cancel_auction)
        .service(delete_auction)
        .service(trigger_turbo)
        .service(grab_auction);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuctionQuery {
    studio_id: Option<i64>,
    /// The status now.
    #[param(value_type = Option<AuctionStatus>)]
    status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(inline)]
    limit: Option<PageSize>,
    /// `next_cursor` of the previous page.
    #[param(inline)]
    cursor: Option<Cursor>,
}

/// Lists a slot as a descending-price auction.
#[utoipa::path(
    tag = "auctions", operation_id = "createAuction",
    request_body(content = AuctionIn, example = json!({
        "title": "Reformer pilates, 19:00", "description": "", "start_price": "500.00", "floor_price": "100.00",
        "drop_amount": "50.00", "drop_interval_minutes": 10, "starts_at": "2030-03-01T15:00:00Z",
        "ends_at": "2030-03-01T18:00:00Z", "scheduled_at": "2030-03-01T19:00:00Z",
        "turbo": { "trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 2 },
    })),
    responses((status = 201, description = "The new auction", body = AuctionOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::NotFound])))),
)]
#[post("/auctions")]
async fn create_auction(state: State, caller: Caller, body: StrictJson<AuctionIn>) -> Reply {
    let studio = body.0.studio_id.map(StudioId);
    let input = body.0.into_input()?;
    let auction = state.services.create_auction(&caller.actor, studio, input).await?;
    created(&state.auction_out_now(&AuctionRecord { auction, live: None }).await?)
}

/// Lists a slot and its weekly repeats in one go, all or none: the auction as
/// `POST /auctions` takes it, then a copy every week at the same wall-clock
/// times in the studio's time zone while its session falls on or before
/// `repeat.until`, at most 52 auctions in all. Each is validated as a single
/// auction is; a copy's messages name its week.
#[utoipa::path(
    tag = "auctions", operation_id = "createAuctionSeries",
    request_body(content = AuctionSeriesIn, example = json!({
        "title": "Reformer pilates, 19:00", "description": "", "start_price": "500.00", "floor_price": "100.00",
        "drop_amount": "50.00", "drop_interval_minutes": 10, "starts_at": "2030-03-01T15:00:00Z",
        "ends_at": "2030-03-01T18:00:00Z", "scheduled_at": "2030-03-01T19:00:00Z", "turbo": null,
        "repeat": { "every": "week", "until": "2030-04-30" },
    })),
    responses((status = 201, description = "Every auction created, in order of their sessions", body = AuctionList)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::NotFound])))),
)]
#[post("/auctions/batch")]
async fn create_auction_series(state: State, caller: Caller, body: StrictJson<AuctionSeriesIn>) -> Reply {
    let (first, repeat) = body.0.split();
    let studio = AppServices::acting_studio(&caller.actor, first.studio_id.map(StudioId))?;
    let timezone = state.studio_summary(studio).await?.timezone;
    let zone = timezone.parse().map_err(|_| DomainError::storage_message(format!("studio zone {timezone}")))?;
    let input = first.into_input()?;
    let auctions =
        state.services.create_weekly_auctions(&caller.actor, Some(studio), input, zone, repeat.until).await?;
    let records: Vec<AuctionRecord> =
        auctions.into_iter().map(|auction| AuctionRecord { auction, live: None }).collect();
    created(&AuctionList { items: state.auction_outs(&records).await? })
}

/// Lists auctions by start time, each with its price and status now.
#[utoipa::path(
    tag = "auctions", operation_id = "listAuctions", params(AuctionQuery),
    responses((status = 200, description = "One page of auctions", body = AuctionPage)),
    extensions(("x-hothour" = json!(rules::public(&[])))),
)]
#[get("/auctions")]
async fn list_auctions(state: State, query: web::Query<AuctionQuery>) -> Reply {
    let query = query.into_inner();
    let limit = limit(query.limit)?;
    let status = parse_choice::<AuctionStatus>("status", query.status.as_deref())?;
    let after = query.cursor.as_ref().map(Cursor::time).transpose()?.map(|(at, id)| (at, AuctionId(id)));
    let filter = AuctionFilter { studio_id: query.studio_id.map(StudioId), status };
    let records = state.services.list_auctions(filter, limit + 1, after).await?;
    let (records, next_cursor) =
        split_page(records, limit, |r| encode_time_cursor(r.auction.starts_at(), r.auction.id.0));
    ok(&AuctionPage { items: state.auction_outs(&records).await?, next_cursor })
}

/// One auction with its current price, next price, next change and status now.
#[utoipa::path(
    tag = "auctions", operation_id = "getAuction", params(("id" = i64, Path, description = "Auction id")),
    responses((status = 200, description = "The auction, with its price and status now", body = AuctionOut)),
    extensions(("x-hothour" = json!(rules::public(&[]).tagged()))),
)]
#[get("/auctions/{id}")]
async fn get_auction(req: HttpRequest, state: State, id: web::Path<i64>) -> Reply {
    let (record, view) = state.read_auction(AuctionId(*id)).await?;
    crate::etag::tagged_json(&req, &state.auction_out(&record.auction, &view).await?)
}

/// The price steps from `starts_at` to the floor or the end, for charts.
#[utoipa::path(
    tag = "auctions", operation_id = "getAuctionSchedule", params(("id" = i64, Path, description = "Auction id")),
    responses((status = 200, description = "The price steps", body = Vec<PriceStepOut>)),
    extensions(("x-hothour" = json!(rules::public(&[])))),
)]
#[get("/auctions/{id}/schedule")]
async fn auction_schedule(state: State, id: web::Path<i64>) -> Reply {
    let (record, _) = state.read_auction(AuctionId(*id)).await?;
    let steps = record.auction.schedule().steps(record.auction.turbo_started_at);
    ok(&steps.iter().map(PriceStepOut::of).collect::<Vec<_>>())
}

/// Changes an auction while it is still a DRAFT.
#[utoipa::path(
    tag = "auctions", operation_id = "updateAuction", request_body = AuctionPatchIn,
    params(("id" = i64, Path, description = "Auction id")),
    responses((status = 200, description = "The auction, with its price and status now", body = AuctionOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::AuctionNotEditable])))),
)]
#[patch("/auctions/{id}")]
async fn update_auction(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<AuctionPatchIn>) -> Reply {
    let updated = state.services.update_auction(&caller.actor, AuctionId(*id), body.0.into_patch()?).await?;
    ok(&state.auction_out_now(&updated).await?)
}

/// Cancels an auction and its live reservation (the holder is told).
#[utoipa::path(
    tag = "auctions", operation_id = "cancelAuction", params(("id" = i64, Path, description = "Auction id")),
    responses((status = 200, description = "The auction, with its price and status now", body = AuctionOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::AuctionClosed, C::InvalidState])))),
)]
#[post("/auctions/{id}/cancel")]
async fn cancel_auction(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    ok(&state.auction_out_now(&state.services.cancel_auction(&caller.actor, AuctionId(*id)).await?).await?)
}

/// Deletes an auction no one ever reserved; one that had any reservation
/// (even one that lapsed or was cancelled) is cancelled instead.
#[utoipa::path(
    tag = "auctions", operation_id = "deleteAuction", params(("id" = i64, Path, description = "Auction id")),
    responses((status = 204, description = "Deleted")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::AuctionHasReservations])))),
)]
#[delete("/auctions/{id}")]
async fn delete_auction(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    state.services.delete_auction(&caller.actor, AuctionId(*id)).await?;
    no_content()
}

/// Starts turbo now, ahead of its automatic start. Never raises the price.
#[utoipa::path(
    tag = "auctions", operation_id = "triggerTurbo", params(("id" = i64, Path, description = "Auction id")),
    responses((status = 200, description = "The auction, with its price and status now", body = AuctionOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden, C::TurboAlreadyActive, C::TurboNotAvailable])))),
)]
#[post("/auctions/{id}/turbo")]
async fn trigger_turbo(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    ok(&state.auction_out_now(&state.services.trigger_turbo(&caller.actor, AuctionId(*id)).await?).await?)
}

/// Grabs the slot at the current price: a hold to confirm, or a booking with `{"confirm": true}`.
#[utoipa::path(
    tag = "auctions", operation_id = "grabAuction",
    request_body(content = Option<GrabIn>, example = json!({ "confirm": false })),
    params(("id" = i64, Path, description = "Auction id"), idempotency::KeyHeader),
    responses((status = 201, description = "The hold (or booking)", body = ReservationOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[
        C::BookingNotAllowed, C::AuctionOnHold, C::AuctionAlreadyBooked, C::AuctionNotStarted, C::AuctionClosed,
        C::RegrabNotAllowed, C::PaymentRequired, C::RateLimited,
    ]).idempotent()))),
)]
#[post("/auctions/{id}/grab")]
async fn grab_auction(state: State, caller: Caller, id: web::Path<i64>, req: HttpRequest, body: web::Bytes) -> Reply {
    let (shared, actor, id) = (state.clone(), caller.actor, AuctionId(*id));
    book(&state, &caller, &req, &body, Metrics::grab, move |input: GrabIn| async move {
        shared.services.grab(&actor, id, input.confirm).await
    })
    .await
}
