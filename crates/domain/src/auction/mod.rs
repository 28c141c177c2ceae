//! The auction lifecycle (SPEC §4): status follows from time and the live
//! reservation; the stored status is only what a job last persisted.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AuctionId, StudioId};
use crate::instant;
use crate::money::Money;
use crate::ports::CatalogueItem;
use crate::reservation::{Reservation, ReservationStatus};
use crate::validation::ValidationErrors;

pub mod pricing;
mod repeat;
mod under_lock;

use pricing::{PriceSchedule, PriceScheduleInput, TurboConfig};

pub use crate::memory::KnownAuctions;
pub use repeat::{MAX_WEEKLY_AUCTIONS, weekly};
pub use under_lock::AuctionUnit;

/// An auction's status at the time of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    errors.check(!title.trim().is_empty(), "title", "must not be blank");
    errors.check(title.chars().count() <= TITLE_MAX_CHARS, "title", "must be at most 200 characters");
    errors.check(
        description.chars().count() <= DESCRIPTION_MAX_CHARS,
        "description",
        "must be at most 5000 characters",
    );
}

/// How long a slot's session lasts when the studio does not say, in minutes.
pub const SESSION_MINUTES_DEFAULT: i64 = 60;
/// The longest session, in minutes (a day).
pub const SESSION_MINUTES_MAX: i64 = 1440;

/// What a studio asks for when it lists a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionInput {
    pub title: String,
    pub description: String,
    pub schedule: PriceScheduleInput,
    pub scheduled_at: DateTime<Utc>,
    /// How long the session lasts from `scheduled_at`, 1 to [`SESSION_MINUTES_MAX`].
    pub session_minutes: i64,
}

/// The validated, editable part of an auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionDetails {
    pub title: String,
    pub description: String,
    pub schedule: PriceSchedule,
    /// When the session itself takes place.
    pub scheduled_at: DateTime<Utc>,
    /// How long the session lasts from `scheduled_at`.
    pub session_minutes: i64,
}

impl AuctionDetails {
    /// When the session ends.
    pub fn session_ends_at(&self) -> DateTime<Utc> {
        self.scheduled_at + Duration::minutes(self.session_minutes)
    }

    /// Validates `input`; its instants are truncated to microseconds first.
    pub fn new(input: AuctionInput) -> Result<AuctionDetails, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_text(&mut errors, &input.title, &input.description);
        let scheduled_at = instant::accept_field(&mut errors, "scheduled_at", input.scheduled_at);
        let ends_at = instant::accept(input.schedule.ends_at).unwrap_or(input.schedule.ends_at);
        errors.check(ends_at <= scheduled_at, "scheduled_at", "must not be before ends_at");
        errors.check(
            (1..=SESSION_MINUTES_MAX).contains(&input.session_minutes),
            "session_minutes",
            "must be between 1 and 1440 minutes",
        );
        let schedule = PriceSchedule::new(input.schedule);
        match schedule {
            Ok(schedule) => errors.into_result(AuctionDetails {
                title: input.title.trim().to_owned(),
                description: input.description,
                schedule,
                scheduled_at,
                session_minutes: input.session_minutes,
            }),
            Err(schedule_errors) => {
                errors.merge(schedule_errors);
                Err(errors)
            }
        }
    }
}

impl CatalogueItem for AuctionDetails {
    type Row = Auction;
}

/// A change to some of an auction's fields; the others keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuctionPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub start_price: Option<Money>,
    pub floor_price: Option<Money>,
    pub drop_amount: Option<Money>,
    pub drop_interval: Option<Duration>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub session_minutes: Option<i64>,
    /// `Some(None)` removes turbo.
    pub turbo: Option<Option<TurboConfig>>,
}

impl AuctionPatch {
    /// `current` with this patch's fields changed, validated as a whole.
    pub fn apply(self, current: &AuctionDetails) -> Result<AuctionDetails, ValidationErrors> {
        let schedule = &current.schedule;
        AuctionDetails::new(AuctionInput {
            title: self.title.unwrap_or_else(|| current.title.clone()),
            description: self.description.unwrap_or_else(|| current.description.clone()),
            schedule: PriceScheduleInput {
                start_price: self.start_price.unwrap_or(schedule.start_price()),
                floor_price: self.floor_price.unwrap_or(schedule.floor_price()),
                drop_amount: self.drop_amount.unwrap_or(schedule.drop_amount()),
                drop_interval: self.drop_interval.unwrap_or(schedule.drop_interval()),
                starts_at: self.starts_at.unwrap_or(schedule.starts_at()),
                ends_at: self.ends_at.unwrap_or(schedule.ends_at()),
                turbo: self.turbo.unwrap_or_else(|| schedule.turbo().cloned()),
            },
            scheduled_at: self.scheduled_at.unwrap_or(current.scheduled_at),
            session_minutes: self.session_minutes.unwrap_or(current.session_minutes),
        })
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
    /// Set when the studio deleted it, which only an auction no one ever
    /// reserved allows: its row is then removed (nothing refers to it).
    pub deleted_at: Option<DateTime<Utc>>,
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

    /// The auction as the API and the live protocol show it at `now`.
    pub fn snapshot(&self, live: Option<&Reservation>, now: DateTime<Utc>) -> AuctionSnapshot {
        self.snapshot_with(&self.view(live, now))
    }

    /// The auction as the API and the live protocol show it, given its view
    /// (computed here, or kept by the read model).
    pub fn snapshot_with(&self, view: &AuctionView) -> AuctionSnapshot {
        let schedule = self.schedule();
        AuctionSnapshot {
            id: self.id,
            studio_id: self.studio_id,
            title: self.details.title.clone(),
            description: self.details.description.clone(),
            start_price: schedule.start_price(),
            floor_price: schedule.floor_price(),
            drop_amount: schedule.drop_amount(),
            drop_interval_minutes: schedule.drop_interval().num_minutes(),
            starts_at: schedule.starts_at(),
            ends_at: schedule.ends_at(),
            scheduled_at: self.details.scheduled_at,
            session_minutes: self.details.session_minutes,
            turbo: schedule.turbo().map(|turbo| TurboSnapshot {
                trigger_before_minutes: turbo.trigger_before.num_minutes(),
                drop_amount: turbo.drop_amount,
                interval_minutes: turbo.interval.num_minutes(),
            }),
            status: view.status,
            current_price: view.current_price,
            next_price: view.next_price,
            next_change_at: view.next_change_at,
            turbo_active: view.turbo_active,
            turbo_started_at: self.turbo_started_at,
            held_price: view.held_price,
        }
    }
}

/// An auction as the outbox stores it and the API answers it at one instant
/// (the api crate maps it field by field to `AuctionOut`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionSnapshot {
    pub id: AuctionId,
    pub studio_id: StudioId,
    pub title: String,
    pub description: String,
    pub start_price: Money,
    pub floor_price: Money,
    pub drop_amount: Money,
    pub drop_interval_minutes: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub scheduled_at: DateTime<Utc>,
    /// Outbox rows written before sessions had a length read as the default hour.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: i64,
    pub turbo: Option<TurboSnapshot>,
    pub status: AuctionStatus,
    pub current_price: Money,
    pub next_price: Option<Money>,
    pub next_change_at: Option<DateTime<Utc>>,
    pub turbo_active: bool,
    pub turbo_started_at: Option<DateTime<Utc>>,
    pub held_price: Option<Money>,
}

fn default_session_minutes() -> i64 {
    SESSION_MINUTES_DEFAULT
}

/// The turbo phase of an [`AuctionSnapshot`], in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurboSnapshot {
    pub trigger_before_minutes: i64,
    pub drop_amount: Money,
    pub interval_minutes: i64,
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Duration;

    use super::*;
    use crate::booking_code::BookingCode;
    use crate::ids::{ReservationId, UserId};
    use crate::reservation::ReservationTarget;
    use crate::reservation::tests::t;

    pub(crate) const STUDIO: StudioId = StudioId(1);
    pub(crate) const AUCTION: AuctionId = AuctionId(1);
    /// The user holding or owning [`slot`].
    pub(crate) const HOLDER: UserId = UserId(1);

    pub(crate) fn m(amount: &str) -> Money {
        Money::parse(amount).unwrap()
    }

    /// 500 → 100 from t(0) to t(120), −50 every 60 min; turbo −20 every 5 min
    /// in the last 30 min. Prices: 500 until t(60), 450 until t(95), then
    /// 430, 410, 390, 370 and 350 from t(115) on (also after `ends_at`).
    pub(crate) fn schedule_input() -> PriceScheduleInput {
        PriceScheduleInput {
            start_price: m("500.00"),
            floor_price: m("100.00"),
            drop_amount: m("50.00"),
            drop_interval: Duration::minutes(60),
            starts_at: t(0),
            ends_at: t(120),
            turbo: Some(TurboConfig {
                trigger_before: Duration::minutes(30),
                drop_amount: m("20.00"),
                interval: Duration::minutes(5),
            }),
        }
    }

    pub(crate) fn auction_input() -> AuctionInput {
        AuctionInput {
            title: "Sunrise yoga".into(),
            description: "Mats provided".into(),
            schedule: schedule_input(),
            scheduled_at: t(180),
            session_minutes: SESSION_MINUTES_DEFAULT,
        }
    }

    /// The example auction, as stored when it was created (DRAFT).
    pub(crate) fn auction() -> Auction {
        Auction {
            id: AUCTION,
            studio_id: STUDIO,
            details: AuctionDetails::new(auction_input()).unwrap(),
            stored_status: AuctionStatus::Draft,
            turbo_started_at: None,
            turbo_announced: false,
            cancelled_at: None,
            deleted_at: None,
            created_at: t(-60),
        }
    }

    pub(crate) fn auction_without_turbo() -> Auction {
        let mut input = auction_input();
        input.schedule.turbo = None;
        Auction { details: AuctionDetails::new(input).unwrap(), ..auction() }
    }

    /// [`HOLDER`]'s reservation of the example slot at `price`, in `status`,
    /// grabbed five minutes before `expires_at`.
    pub(crate) fn slot(status: ReservationStatus, price: &str, expires_at: DateTime<Utc>) -> Reservation {
        let id = ReservationId(7);
        let grabbed_at = expires_at - Duration::minutes(5);
        let booked = status.is_booked();
        Reservation {
            id,
            user_id: HOLDER,
            studio_id: STUDIO,
            target: ReservationTarget::Auction(AUCTION),
            status,
            quantity: 1,
            unit_price: m(price),
            total_price: m(price),
            expires_at,
            booking_code: booked.then(|| BookingCode::from_random([0, 0, 0, 0, 7])),
            created_at: grabbed_at,
            confirmed_at: booked.then_some(grabbed_at),
            checked_in_at: (status == ReservationStatus::CheckedIn).then_some(grabbed_at),
            cancelled_at: (status == ReservationStatus::Cancelled).then_some(grabbed_at),
            payment: Default::default(),
        }
    }

    // --- AuctionDetails::new ---------------------------------------------

    #[test]
    fn details_accept_a_valid_input_and_trim_the_title() {
        let details =
            AuctionDetails::new(AuctionInput { title: "  Sunrise yoga \n".into(), ..auction_input() }).unwrap();
        assert_eq!(details.title, "Sunrise yoga");
        assert_eq!(details.description, "Mats provided");
        assert_eq!(details.scheduled_at, t(180));
        assert_eq!(details.schedule, PriceSchedule::new(schedule_input()).unwrap());
    }

    #[test]
    fn details_reject_a_blank_title() {
        for title in ["", "   ", "\t\n"] {
            let errors = AuctionDetails::new(AuctionInput { title: title.into(), ..auction_input() }).unwrap_err();
            assert!(errors.has("title"), "{title:?}: {errors}");
            assert_eq!(errors.fields().len(), 1, "{errors}");
        }
    }

    #[test]
    fn details_reject_overlong_text() {
        let errors = AuctionDetails::new(AuctionInput {
            title: "x".repeat(TITLE_MAX_CHARS + 1),
            description: "y".repeat(DESCRIPTION_MAX_CHARS + 1),
            ..auction_input()
        })
        .unwrap_err();
        assert!(errors.has("title"), "{errors}");
        assert!(errors.has("description"), "{errors}");

        let at_the_limit = AuctionDetails::new(AuctionInput {
            title: "é".repeat(TITLE_MAX_CHARS),
            description: "ü".repeat(DESCRIPTION_MAX_CHARS),
            ..auction_input()
        });
        assert!(at_the_limit.is_ok(), "limits count characters, not bytes");
    }

    #[test]
    fn details_reject_a_session_before_the_auction_ends() {
        let errors = AuctionDetails::new(AuctionInput { scheduled_at: t(119), ..auction_input() }).unwrap_err();
        assert!(errors.has("scheduled_at"), "{errors}");
        assert_eq!(errors.fields().len(), 1, "{errors}");
    }

    #[test]
    fn details_accept_a_session_right_at_the_end_of_the_auction() {
        let details = AuctionDetails::new(AuctionInput { scheduled_at: t(120), ..auction_input() }).unwrap();
        assert_eq!(details.scheduled_at, t(120));
    }

    #[test]
    fn details_merge_schedule_errors_with_their_own_field_errors() {
        let mut schedule = schedule_input();
        schedule.floor_price = m("600.00");
        schedule.drop_interval = Duration::seconds(30);
        let errors =
            AuctionDetails::new(AuctionInput { title: " ".into(), scheduled_at: t(100), schedule, ..auction_input() })
                .unwrap_err();
        for field in ["title", "scheduled_at", "start_price", "floor_price", "drop_interval_minutes"] {
            assert!(errors.has(field), "{field} missing in {errors}");
        }
    }

    #[test]
    fn details_report_schedule_errors_alone_when_the_rest_is_fine() {
        let mut schedule = schedule_input();
        schedule.ends_at = t(0);
        let errors =
            AuctionDetails::new(AuctionInput { schedule, scheduled_at: t(180), ..auction_input() }).unwrap_err();
        assert!(errors.has("ends_at"), "{errors}");
        assert!(!errors.has("title") && !errors.has("scheduled_at"), "{errors}");
    }

    // --- status_at -------------------------------------------------------

    /// Asserts the auction's status at each instant, given its live reservation.
    fn assert_statuses(a: &Auction, live: Option<&Reservation>, expected: &[(DateTime<Utc>, AuctionStatus)]) {
        for (now, status) in expected {
            assert_eq!(a.status_at(live, *now), *status, "at {now}");
        }
    }

    const JUST_BEFORE: Duration = Duration::microseconds(1);

    #[test]
    fn an_auction_is_a_draft_before_it_starts() {
        assert_statuses(
            &auction(),
            None,
            &[(t(-60), AuctionStatus::Draft), (t(0) - JUST_BEFORE, AuctionStatus::Draft)],
        );
    }

    #[test]
    fn an_auction_is_active_from_starts_at_until_just_before_ends_at() {
        let active = [t(0), t(60), t(120) - JUST_BEFORE].map(|now| (now, AuctionStatus::Active));
        assert_statuses(&auction(), None, &active);
    }

    #[test]
    fn an_auction_is_held_while_its_hold_is_live() {
        let hold = slot(ReservationStatus::Hold, "500.00", t(15));
        assert_statuses(
            &auction(),
            Some(&hold),
            &[(t(10), AuctionStatus::Held), (t(15) - JUST_BEFORE, AuctionStatus::Held)],
        );
    }

    #[test]
    fn an_auction_is_active_again_exactly_when_its_hold_expires() {
        let hold = slot(ReservationStatus::Hold, "500.00", t(15));
        assert_statuses(&auction(), Some(&hold), &[(t(15), AuctionStatus::Active), (t(16), AuctionStatus::Active)]);
    }

    #[test]
    fn a_hold_taken_just_before_the_end_keeps_the_auction_held_past_ends_at() {
        let hold = slot(ReservationStatus::Hold, "350.00", t(124));
        assert_statuses(&auction(), Some(&hold), &[(t(122), AuctionStatus::Held), (t(124), AuctionStatus::Expired)]);
    }

    #[test]
    fn an_auction_is_sold_once_its_reservation_is_booked() {
        let a = auction();
        for status in [ReservationStatus::Confirmed, ReservationStatus::CheckedIn, ReservationStatus::NoShow] {
            let booking = slot(status, "450.00", t(65));
            for now in [t(61), t(119), t(120), t(500)] {
                assert_eq!(a.status_at(Some(&booking), now), AuctionStatus::Sold, "{status:?} at {now}");
            }
        }
    }

    #[test]
    fn an_ended_reservation_does_not_hold_the_auction() {
        let a = auction();
        for status in [ReservationStatus::Expired, ReservationStatus::Cancelled] {
            let ended = slot(status, "500.00", t(15));
            assert_eq!(a.status_at(Some(&ended), t(10)), AuctionStatus::Active, "{status:?}");
        }
    }

    #[test]
    fn an_unsold_auction_expires_at_ends_at() {
        assert_statuses(&auction(), None, &[(t(120), AuctionStatus::Expired), (t(1_000), AuctionStatus::Expired)]);
        let lapsed = slot(ReservationStatus::Hold, "450.00", t(70));
        assert_statuses(&auction(), Some(&lapsed), &[(t(120), AuctionStatus::Expired)]);
    }

    #[test]
    fn a_cancelled_auction_stays_cancelled_whatever_the_time_or_reservation() {
        let a = Auction { cancelled_at: Some(t(10)), ..auction() };
        assert_statuses(&a, None, &[t(-10), t(30), t(300)].map(|now| (now, AuctionStatus::Cancelled)));
        let booking = slot(ReservationStatus::Confirmed, "500.00", t(15));
        assert_statuses(&a, Some(&booking), &[(t(30), AuctionStatus::Cancelled)]);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in AuctionStatus::ALL {
            assert_eq!(AuctionStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(AuctionStatus::parse("active"), None);
    }

    // --- view ------------------------------------------------------------

    /// A view without turbo or a held price: `status`, the `current` price,
    /// and the `next` change (minute, price), if any.
    fn plain_view(status: AuctionStatus, current: &str, next: Option<(i64, &str)>) -> AuctionView {
        AuctionView {
            status,
            current_price: m(current),
            next_price: next.map(|(_, price)| m(price)),
            next_change_at: next.map(|(minute, _)| t(minute)),
            turbo_active: false,
            held_price: None,
        }
    }

    #[test]
    fn a_draft_shows_the_start_price_and_the_first_drop() {
        let view = auction().view(None, t(-30));
        assert_eq!(view, plain_view(AuctionStatus::Draft, "500.00", Some((60, "450.00"))));
    }

    #[test]
    fn an_active_auction_shows_the_schedule_price_and_its_next_step() {
        let view = auction().view(None, t(61));
        assert_eq!(view, plain_view(AuctionStatus::Active, "450.00", Some((95, "430.00"))));
    }

    #[test]
    fn an_active_auction_in_turbo_says_so() {
        let view = auction().view(None, t(96));
        assert_eq!(view.status, AuctionStatus::Active);
        assert!(view.turbo_active);
        assert_eq!(view.current_price, m("430.00"));
        assert_eq!((view.next_change_at, view.next_price), (Some(t(100)), Some(m("410.00"))));
    }

    #[test]
    fn a_held_auction_shows_the_locked_price_besides_the_schedule() {
        let hold = slot(ReservationStatus::Hold, "500.00", t(62));
        let view = auction().view(Some(&hold), t(61));
        assert_eq!(
            view,
            AuctionView {
                held_price: Some(m("500.00")),
                ..plain_view(AuctionStatus::Held, "450.00", Some((95, "430.00")))
            }
        );
    }

    #[test]
    fn the_held_price_disappears_when_the_hold_lapses() {
        let hold = slot(ReservationStatus::Hold, "500.00", t(62));
        let view = auction().view(Some(&hold), t(62));
        assert_eq!(view.status, AuctionStatus::Active);
        assert_eq!(view.held_price, None);
        assert_eq!(view.current_price, m("450.00"));
    }

    #[test]
    fn a_sold_auction_shows_the_sale_price_and_no_next_change() {
        let booking = slot(ReservationStatus::Confirmed, "450.00", t(65));
        for now in [t(61), t(100), t(130)] {
            let view = auction().view(Some(&booking), now);
            assert_eq!(view, plain_view(AuctionStatus::Sold, "450.00", None), "at {now}");
        }
        let snapshot = auction().snapshot(Some(&booking), t(100));
        assert_eq!(snapshot.status, AuctionStatus::Sold);
        assert_eq!(snapshot.current_price, m("450.00"));
        assert_eq!((snapshot.next_price, snapshot.next_change_at, snapshot.held_price), (None, None, None));
    }

    #[test]
    fn an_expired_auction_has_no_next_change() {
        let view = auction().view(None, t(130));
        assert_eq!(view, plain_view(AuctionStatus::Expired, "350.00", None));
    }

    #[test]
    fn a_cancelled_auction_has_no_next_change() {
        let a = Auction { cancelled_at: Some(t(10)), ..auction() };
        let view = a.view(None, t(30));
        assert_eq!(view.status, AuctionStatus::Cancelled);
        assert_eq!((view.next_price, view.next_change_at, view.held_price), (None, None, None));
        assert!(!view.turbo_active);
    }

    #[test]
    fn a_snapshot_carries_the_view_and_the_ids() {
        let hold = slot(ReservationStatus::Hold, "500.00", t(62));
        let snapshot = auction().snapshot(Some(&hold), t(61));
        assert_eq!((snapshot.id, snapshot.studio_id), (AUCTION, STUDIO));
        assert_eq!(snapshot.status, AuctionStatus::Held);
        assert_eq!(snapshot.current_price, m("450.00"));
        assert_eq!(snapshot.held_price, Some(m("500.00")));
        assert_eq!(snapshot.next_price, Some(m("430.00")));
        assert!(!snapshot.turbo_active);
        assert_eq!(snapshot.turbo_started_at, None);
    }

    // --- hold_expiry -----------------------------------------------------

    #[test]
    fn a_hold_lasts_the_hold_time() {
        assert_eq!(auction().hold_expiry(t(10), Duration::minutes(5)), t(15));
    }

    #[test]
    fn a_hold_never_outlasts_the_session() {
        let a = auction();
        assert_eq!(a.hold_expiry(t(119), Duration::minutes(5)), t(124));
        assert_eq!(a.hold_expiry(t(119), Duration::minutes(61)), t(180));
        assert_eq!(a.hold_expiry(t(119), Duration::hours(24)), t(180));
    }
}
