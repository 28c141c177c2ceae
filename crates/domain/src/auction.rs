//! The auction lifecycle (SPEC §4): status follows from time and the live
//! reservation; the stored status is only what a job last persisted.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AuctionId, StudioId};
use crate::money::Money;
use crate::pricing::{PriceSchedule, PriceScheduleInput};
use crate::reservation::{Reservation, ReservationStatus};
use crate::validation::ValidationErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuctionStatus {
    Draft,
    Active,
    Held,
    Sold,
    Expired,
    Cancelled,
}

impl AuctionStatus {
    pub const ALL: [AuctionStatus; 6] = [
        AuctionStatus::Draft,
        AuctionStatus::Active,
        AuctionStatus::Held,
        AuctionStatus::Sold,
        AuctionStatus::Expired,
        AuctionStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuctionStatus::Draft => "DRAFT",
            AuctionStatus::Active => "ACTIVE",
            AuctionStatus::Held => "HELD",
            AuctionStatus::Sold => "SOLD",
            AuctionStatus::Expired => "EXPIRED",
            AuctionStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(value: &str) -> Option<AuctionStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == value)
    }
}

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 5_000;

/// Checks a title and description the way every catalogue item wants them.
pub(crate) fn check_text(errors: &mut ValidationErrors, title: &str, description: &str) {
    let title_chars = title.trim().chars().count();
    errors.check(title_chars > 0, "title", "must not be blank");
    errors.check(title_chars <= TITLE_MAX_CHARS, "title", "must be at most 200 characters");
    errors.check(
        description.chars().count() <= DESCRIPTION_MAX_CHARS,
        "description",
        "must be at most 5000 characters",
    );
}

/// What a studio asks for when it lists a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionInput {
    pub title: String,
    pub description: String,
    pub schedule: PriceScheduleInput,
    pub scheduled_at: DateTime<Utc>,
}

/// The validated, editable part of an auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionDetails {
    pub title: String,
    pub description: String,
    pub schedule: PriceSchedule,
    /// When the session itself takes place.
    pub scheduled_at: DateTime<Utc>,
}

impl AuctionDetails {
    pub fn new(input: AuctionInput) -> Result<AuctionDetails, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_text(&mut errors, &input.title, &input.description);
        errors.check(input.schedule.ends_at <= input.scheduled_at, "scheduled_at", "must not be before ends_at");
        let schedule = PriceSchedule::new(input.schedule);
        match schedule {
            Ok(schedule) => errors.into_result(AuctionDetails {
                title: input.title.trim().to_owned(),
                description: input.description,
                schedule,
                scheduled_at: input.scheduled_at,
            }),
            Err(schedule_errors) => {
                errors.merge(schedule_errors);
                Err(errors)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auction {
    pub id: AuctionId,
    pub studio_id: StudioId,
    pub details: AuctionDetails,
    /// As last persisted; [`Auction::status_at`] is the truth.
    pub stored_status: AuctionStatus,
    /// Set when the studio triggered turbo before its automatic start.
    pub turbo_started_at: Option<DateTime<Utc>>,
    /// Set once the start of turbo has been announced (early or automatic).
    pub turbo_announced: bool,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An auction as a person sees it at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionView {
    pub status: AuctionStatus,
    pub current_price: Money,
    pub next_price: Option<Money>,
    pub next_change_at: Option<DateTime<Utc>>,
    pub turbo_active: bool,
    /// The price locked by the holder while HELD.
    pub held_price: Option<Money>,
}

impl Auction {
    pub fn schedule(&self) -> &PriceSchedule {
        &self.details.schedule
    }

    pub fn starts_at(&self) -> DateTime<Utc> {
        self.details.schedule.starts_at()
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.details.schedule.ends_at()
    }

    /// The status at `now`, given the auction's live reservation (if any).
    /// Correct whether or not a background job has persisted anything.
    pub fn status_at(&self, live: Option<&Reservation>, now: DateTime<Utc>) -> AuctionStatus {
        if self.cancelled_at.is_some() {
            return AuctionStatus::Cancelled;
        }
        if let Some(reservation) = live {
            if reservation.status.is_booked() {
                return AuctionStatus::Sold;
            }
            if reservation.is_live_hold_at(now) {
                return AuctionStatus::Held;
            }
        }
        if now < self.starts_at() {
            AuctionStatus::Draft
        } else if now >= self.ends_at() {
            AuctionStatus::Expired
        } else {
            AuctionStatus::Active
        }
    }

    pub fn price_at(&self, now: DateTime<Utc>) -> Money {
        self.schedule().price_at(now, self.turbo_started_at)
    }

    pub fn turbo_active_at(&self, now: DateTime<Utc>) -> bool {
        self.schedule().turbo_active_at(now, self.turbo_started_at)
    }

    /// When a hold taken at `now` lapses: the hold time, but never past the session.
    pub fn hold_expiry(&self, now: DateTime<Utc>, hold_ttl: Duration) -> DateTime<Utc> {
        (now + hold_ttl).min(self.details.scheduled_at)
    }

    pub fn view(&self, live: Option<&Reservation>, now: DateTime<Utc>) -> AuctionView {
        let status = self.status_at(live, now);
        let schedule_price = self.price_at(now);
        let turbo_active = self.turbo_active_at(now);
        match status {
            AuctionStatus::Sold => AuctionView {
                status,
                current_price: live.map_or(schedule_price, |r| r.unit_price),
                next_price: None,
                next_change_at: None,
                turbo_active: false,
                held_price: None,
            },
            AuctionStatus::Expired | AuctionStatus::Cancelled => AuctionView {
                status,
                current_price: schedule_price,
                next_price: None,
                next_change_at: None,
                turbo_active: false,
                held_price: None,
            },
            AuctionStatus::Draft | AuctionStatus::Active | AuctionStatus::Held => {
                let next_change_at = self.schedule().next_change_at(now, self.turbo_started_at);
                AuctionView {
                    status,
                    current_price: schedule_price,
                    next_price: next_change_at.map(|at| self.price_at(at)),
                    next_change_at,
                    turbo_active: status != AuctionStatus::Draft && turbo_active,
                    held_price: live
                        .filter(|r| r.status == ReservationStatus::Hold && status == AuctionStatus::Held)
                        .map(|r| r.unit_price),
                }
            }
        }
    }

    /// The auction's room state for live clients.
    pub fn to_json(&self, live: Option<&Reservation>, now: DateTime<Utc>) -> serde_json::Value {
        let view = self.view(live, now);
        serde_json::json!({
            "auction_id": self.id.0,
            "studio_id": self.studio_id.0,
            "status": view.status,
            "current_price": view.current_price,
            "next_price": view.next_price,
            "next_change_at": view.next_change_at,
            "turbo_active": view.turbo_active,
            "turbo_started_at": self.turbo_started_at,
            "held_price": view.held_price,
        })
    }
}
