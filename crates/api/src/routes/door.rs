//! The studio's door: the day's sessions and a session's roster (the
//! check-in itself is with the reservations).

use actix_web::{get, web};
use hothour_domain::{AuctionId, EventId, ReservationTarget, StudioId, ValidationErrors};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, ok};
use crate::auth::Caller;
use crate::dto::{DoorSessionOut, RosterEntryOut, RosterOut, StudioDayOut};
use crate::openapi::rules;
use crate::problem::Problem;
use crate::query_date::QueryDate;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(studio_sessions).service(studio_roster);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    /// The day, `YYYY-MM-DD` in the studio's time zone, from 1970-01-01 to
    /// 9999-12-31; today there when left out.
    #[param(inline)]
    date: Option<QueryDate>,
}

/// A studio's sessions of one day in its time zone, with how many are coming
/// to each (its admins and platform admins; to anyone else the studio is not found).
#[utoipa::path(
    tag = "studios", operation_id = "listStudioSessions",
    params(("id" = i64, Path, description = "Studio id"), SessionsQuery),
    responses((status = 200, description = "The day's auctions and events, by start time", body = StudioDayOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/studios/{id}/sessions")]
async fn studio_sessions(state: State, caller: Caller, id: web::Path<i64>, query: web::Query<SessionsQuery>) -> Reply {
    let date = query.date.as_ref().map(|date| date.date("date")).transpose().map_err(invalid)?;
    let day = state.services.studio_day(&caller.actor, StudioId(*id), date).await?;
    let policy = &state.config.policy;
    ok(&StudioDayOut {
        date: day.date.format("%Y-%m-%d").to_string(),
        timezone: day.timezone,
        starts_at: day.starts_at,
        ends_at: day.ends_at,
        items: day.sessions.iter().map(|door| DoorSessionOut::of(door, policy)).collect(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RosterQuery {
    /// The auction whose slot's roster to read (give this or `event_id`).
    auction_id: Option<i64>,
    /// The event whose roster to read (give this or `auction_id`).
    event_id: Option<i64>,
}

impl RosterQuery {
    /// The session asked for: exactly one of `auction_id` and `event_id`.
    fn target(&self) -> Result<ReservationTarget, ValidationErrors> {
        match (self.auction_id, self.event_id) {
            (Some(id), None) => Ok(ReservationTarget::Auction(AuctionId(id))),
            (None, Some(id)) => Ok(ReservationTarget::Event(EventId(id))),
            (given, _) => {
                let message = "give exactly one of auction_id and event_id";
                let mut errors = ValidationErrors::new();
                errors.add("auction_id", message);
                if given.is_none() {
                    errors.add("event_id", message);
                }
                Err(errors)
            }
        }
    }
}

/// Who is coming to one of the studio's sessions: its bookings and the holds
/// still being paid for, with their holders' names, by name (its admins and
/// platform admins; another studio's session, or a deleted event, is not found).
#[utoipa::path(
    tag = "studios", operation_id = "getStudioRoster",
    params(("id" = i64, Path, description = "Studio id"), RosterQuery),
    responses((status = 200, description = "The session and its live reservations", body = RosterOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/studios/{id}/roster")]
async fn studio_roster(state: State, caller: Caller, id: web::Path<i64>, query: web::Query<RosterQuery>) -> Reply {
    let target = query.target().map_err(invalid)?;
    let studio = StudioId(*id);
    let roster = state.services.roster(&caller.actor, studio, target).await?;
    let timezone = state.studio_summary(studio).await?.timezone;
    ok(&RosterOut {
        session: DoorSessionOut::of(&roster.session, &state.config.policy),
        timezone,
        items: roster.entries.iter().map(|entry| RosterEntryOut::of(entry, roster.at)).collect(),
    })
}

fn invalid(errors: ValidationErrors) -> Problem {
    hothour_domain::DomainError::Validation(errors).into()
}
