//! The reservation state machine shared by auction slots and event seats (SPEC §6).
//!
//! ```text
//! HOLD ──confirm (before expires_at)──▶ CONFIRMED ──check-in──▶ CHECKED_IN
//!   │                                      │  └──(session + grace passes)──▶ NO_SHOW
//!   ├──expires_at passes──▶ EXPIRED        └──cancel (before the cut-off)──▶ CANCELLED
//!   └──cancel──▶ CANCELLED
//! ```

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::booking_code::BookingCode;
use crate::ids::{AuctionId, EventId, ReservationId, StudioId, UserId};
use crate::money::Money;
use crate::payments::Intent;

mod payment;
mod under_lock;

pub use crate::memory::{KnownReservations, ReservationFacts};
pub use payment::{Payment, PaymentStatus, PaymentSummary, RefundReason, Settlement};
pub use under_lock::{CheckIn, ConfirmOutcome, EventReservationsUnit, Parent, ReservationUnit};

/// A reservation's status at the time of the answer (a lapsed hold shows EXPIRED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    Hold,
    Confirmed,
    CheckedIn,
    NoShow,
    Expired,
    Cancelled,
}

impl ReservationStatus {
    pub const ALL: [ReservationStatus; 6] = [
        ReservationStatus::Hold,
        ReservationStatus::Confirmed,
        ReservationStatus::CheckedIn,
        ReservationStatus::NoShow,
        ReservationStatus::Expired,
        ReservationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Hold => "HOLD",
            ReservationStatus::Confirmed => "CONFIRMED",
            ReservationStatus::CheckedIn => "CHECKED_IN",
            ReservationStatus::NoShow => "NO_SHOW",
            ReservationStatus::Expired => "EXPIRED",
            ReservationStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(value: &str) -> Option<ReservationStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == value)
    }

    /// Seats or a slot taken for good (a booking, used or not).
    pub fn is_booked(self) -> bool {
        matches!(self, ReservationStatus::Confirmed | ReservationStatus::CheckedIn | ReservationStatus::NoShow)
    }
}

/// What a reservation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationTarget {
    Auction(AuctionId),
    Event(EventId),
}

impl ReservationTarget {
    pub fn kind(self) -> ReservationKind {
        match self {
            ReservationTarget::Auction(_) => ReservationKind::Auction,
            ReservationTarget::Event(_) => ReservationKind::Event,
        }
    }

    /// The auction's id or the event's, the other `None`: the target as the
    /// API and the outbox name it.
    pub fn ids(self) -> (Option<AuctionId>, Option<EventId>) {
        match self {
            ReservationTarget::Auction(id) => (Some(id), None),
            ReservationTarget::Event(id) => (None, Some(id)),
        }
    }
}

/// As its `kind`, `auction_id` and `event_id`.
impl Serialize for ReservationTarget {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Named {
            kind: ReservationKind,
            auction_id: Option<AuctionId>,
            event_id: Option<EventId>,
        }
        let (auction_id, event_id) = self.ids();
        Named { kind: self.kind(), auction_id, event_id }.serialize(serializer)
    }
}

/// What a reservation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReservationKind {
    Auction,
    Event,
}

impl ReservationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationKind::Auction => "auction",
            ReservationKind::Event => "event",
        }
    }
}

/// Who cancels: the owner is bound by the cut-off, the studio is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    Owner,
    Studio,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: ReservationId,
    pub user_id: UserId,
    pub studio_id: StudioId,
    pub target: ReservationTarget,
    /// The stored status; see [`Reservation::status_at`] for the status at an instant.
    pub status: ReservationStatus,
    pub quantity: u32,
    pub unit_price: Money,
    pub total_price: Money,
    pub expires_at: DateTime<Utc>,
    pub booking_code: Option<BookingCode>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub payment: Payment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmError {
    #[error("the hold expired before it was confirmed")]
    HoldExpired,
    #[error("a {0:?} reservation cannot be confirmed")]
    InvalidState(ReservationStatus),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("cancellation closed: bookings can only be cancelled until the cut-off before the session")]
    CancellationClosed,
    #[error("a {0:?} reservation cannot be cancelled")]
    InvalidState(ReservationStatus),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExpireError {
    #[error("the hold is still live")]
    StillLive,
    #[error("a {0:?} reservation does not expire")]
    InvalidState(ReservationStatus),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckInError {
    #[error("check-in is not open: the session starts at {session_starts_at}")]
    NotOpen { session_starts_at: DateTime<Utc> },
    #[error("a {0:?} reservation cannot be checked in")]
    InvalidState(ReservationStatus),
}

/// When a session's door is open for check-in: from `opens_at` (some time
/// before the session starts) until the session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInWindow {
    pub session_starts_at: DateTime<Utc>,
    pub session_ends_at: DateTime<Utc>,
    pub opens_before: Duration,
}

impl CheckInWindow {
    /// When the door opens: `opens_before` the session starts (for a
    /// session at the dawn of time, at the dawn of time).
    pub fn opens_at(&self) -> DateTime<Utc> {
        self.session_starts_at.checked_sub_signed(self.opens_before).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whether `now` is in [`opens_at`](Self::opens_at), session end).
    pub fn is_open_at(&self, now: DateTime<Utc>) -> bool {
        self.opens_at() <= now && now < self.session_ends_at
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoShowError {
    #[error("the session and its grace period have not passed yet")]
    TooEarly,
    #[error("a {0:?} reservation cannot become a no-show")]
    InvalidState(ReservationStatus),
}

/// Whether a transition changed anything; repeating an idempotent one does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Changed,
    Unchanged,
}

impl Reservation {
    /// A hold is live iff `expires_at > now`, everywhere.
    pub fn is_live_hold_at(&self, now: DateTime<Utc>) -> bool {
        self.status == ReservationStatus::Hold && self.expires_at > now
    }

    /// Holds or has booked its seats or slot at `now`.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.is_live_hold_at(now) || self.status.is_booked()
    }

    /// The effective status: a lapsed hold that no job has swept yet is EXPIRED.
    pub fn status_at(&self, now: DateTime<Utc>) -> ReservationStatus {
        if self.status == ReservationStatus::Hold && self.expires_at <= now {
            ReservationStatus::Expired
        } else {
            self.status
        }
    }

    /// Ended without being used: lapsed or cancelled.
    pub fn ended_unused_at(&self, now: DateTime<Utc>) -> bool {
        matches!(self.status_at(now), ReservationStatus::Expired | ReservationStatus::Cancelled)
    }

    /// Books a live hold under `code` (a fresh random code; unused when the
    /// reservation was already confirmed).
    pub fn confirm(&mut self, now: DateTime<Utc>, code: BookingCode) -> Result<Transition, ConfirmError> {
        match self.status_at(now) {
            ReservationStatus::Hold => {
                self.status = ReservationStatus::Confirmed;
                self.confirmed_at = Some(now);
                self.booking_code = Some(code);
                Ok(Transition::Changed)
            }
            ReservationStatus::Confirmed => Ok(Transition::Unchanged),
            // Lapsed, whether or not a sweep has marked it yet.
            ReservationStatus::Expired => Err(ConfirmError::HoldExpired),
            other => Err(ConfirmError::InvalidState(other)),
        }
    }

    /// Marks a lapsed hold EXPIRED.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<(), ExpireError> {
        match self.status {
            ReservationStatus::Hold if self.expires_at <= now => {
                self.status = ReservationStatus::Expired;
                Ok(())
            }
            ReservationStatus::Hold => Err(ExpireError::StillLive),
            other => Err(ExpireError::InvalidState(other)),
        }
    }

    /// Cancels a live hold, or a booking before the owner's cut-off
    /// (`session_at − cutoff`); the studio may cancel a booking at any time.
    /// A paid booking's money is then to be refunded.
    pub fn cancel(
        &mut self,
        now: DateTime<Utc>,
        by: CancelledBy,
        session_at: DateTime<Utc>,
        cutoff: Duration,
    ) -> Result<(), CancelError> {
        match self.status_at(now) {
            ReservationStatus::Hold => {}
            ReservationStatus::Confirmed => {
                // A session at the dawn of time has its cut-off long behind it.
                let closes_at = session_at.checked_sub_signed(cutoff);
                if by == CancelledBy::Owner && closes_at.is_none_or(|closes_at| now > closes_at) {
                    return Err(CancelError::CancellationClosed);
                }
            }
            other => return Err(CancelError::InvalidState(other)),
        }
        self.status = ReservationStatus::Cancelled;
        self.cancelled_at = Some(now);
        self.payment.start_refund();
        Ok(())
    }

    /// Checks a booking in while the session's door is open; a NO_SHOW
    /// latecomer may still come in. A second check-in changes nothing, at
    /// any time: the door is told the code was used, and when.
    pub fn check_in(&mut self, now: DateTime<Utc>, window: CheckInWindow) -> Result<Transition, CheckInError> {
        match self.status {
            ReservationStatus::Confirmed | ReservationStatus::NoShow if !window.is_open_at(now) => {
                Err(CheckInError::NotOpen { session_starts_at: window.session_starts_at })
            }
            ReservationStatus::Confirmed | ReservationStatus::NoShow => {
                self.status = ReservationStatus::CheckedIn;
                self.checked_in_at = Some(now);
                Ok(Transition::Changed)
            }
            ReservationStatus::CheckedIn => Ok(Transition::Unchanged),
            _ => Err(CheckInError::InvalidState(self.status_at(now))),
        }
    }

    /// A booking nobody checked in by `session_at + grace` becomes NO_SHOW.
    pub fn mark_no_show(
        &mut self,
        now: DateTime<Utc>,
        session_at: DateTime<Utc>,
        grace: Duration,
    ) -> Result<(), NoShowError> {
        match self.status {
            ReservationStatus::Confirmed if session_at.checked_add_signed(grace).is_some_and(|due| now >= due) => {
                self.status = ReservationStatus::NoShow;
                Ok(())
            }
            ReservationStatus::Confirmed => Err(NoShowError::TooEarly),
            other => Err(NoShowError::InvalidState(other)),
        }
    }

    /// What a succeeded payment `intent` (in the deployment's `currency`)
    /// does to this reservation at `now`. Money for a live hold confirms it;
    /// money it cannot keep goes back.
    pub fn settlement(&self, intent: &Intent, currency: &str, now: DateTime<Utc>) -> Settlement {
        let kept = matches!(
            self.payment.status,
            PaymentStatus::Succeeded | PaymentStatus::RefundPending | PaymentStatus::Refunded
        );
        let own = self.payment.intent.as_ref() == Some(&intent.id);
        if kept && own {
            return Settlement::AlreadyApplied;
        }
        // Only the payment this service opened for the reservation (and gave
        // its owner) confirms it; any other is money to give back.
        if kept || !own {
            return Settlement::RefundExtra;
        }
        if !intent.pays_for(self.id, self.total_price, currency) {
            return Settlement::Refund(RefundReason::Mismatch);
        }
        match self.status_at(now) {
            ReservationStatus::Hold => Settlement::Confirm,
            ReservationStatus::Expired => Settlement::Refund(RefundReason::HoldLapsed),
            ReservationStatus::Cancelled => Settlement::Refund(RefundReason::Cancelled),
            // Booked without this payment (confirmed while payments were off).
            ReservationStatus::Confirmed | ReservationStatus::CheckedIn | ReservationStatus::NoShow => {
                Settlement::RefundExtra
            }
        }
    }

    /// The reservation as the API and the live protocol show it, at `now`.
    pub fn snapshot(&self, now: DateTime<Utc>) -> ReservationSnapshot {
        let (auction_id, event_id) = self.target.ids();
        ReservationSnapshot {
            id: self.id,
            kind: self.target.kind(),
            auction_id,
            event_id,
            user_id: self.user_id,
            status: self.status_at(now),
            quantity: self.quantity,
            unit_price: self.unit_price,
            total_price: self.total_price,
            expires_at: self.expires_at,
            booking_code: self.booking_code.clone(),
            created_at: self.created_at,
            confirmed_at: self.confirmed_at,
            checked_in_at: self.checked_in_at,
            payment: self.payment.summary(),
        }
    }
}

/// A reservation as the outbox stores it and the API answers it (the api
/// crate maps it field by field to `ReservationOut`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationSnapshot {
    pub id: ReservationId,
    /// With the matching id set and the other null.
    pub kind: ReservationKind,
    pub auction_id: Option<AuctionId>,
    pub event_id: Option<EventId>,
    pub user_id: UserId,
    pub status: ReservationStatus,
    pub quantity: u32,
    pub unit_price: Money,
    pub total_price: Money,
    pub expires_at: DateTime<Utc>,
    pub booking_code: Option<BookingCode>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Outbox rows written before check-in times were announced have none.
    #[serde(default)]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Outbox rows written before payments existed have none.
    #[serde(default)]
    pub payment: PaymentSummary,
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::TimeZone;

    use super::*;

    pub(crate) fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    /// A stored reservation event for `target`, as the outbox keeps it.
    pub(crate) fn stored_reservation(
        seq: i64,
        room: &str,
        target: ReservationTarget,
        status: ReservationStatus,
        expires_at: DateTime<Utc>,
    ) -> crate::domain_events::StoredEvent {
        let (auction_id, event_id) = match target {
            ReservationTarget::Auction(id) => (Some(id), None),
            ReservationTarget::Event(id) => (None, Some(id)),
        };
        let money = crate::Money::parse("25.00").unwrap();
        let snapshot = ReservationSnapshot {
            id: ReservationId(1),
            kind: target.kind(),
            auction_id,
            event_id,
            user_id: UserId(3),
            status,
            quantity: 1,
            unit_price: money,
            total_price: money,
            expires_at,
            booking_code: None,
            created_at: t(0),
            confirmed_at: None,
            checked_in_at: None,
            payment: PaymentSummary::default(),
        };
        crate::domain_events::StoredEvent {
            seq,
            room: room.into(),
            kind: "hold_created".into(),
            data: serde_json::to_value(snapshot).unwrap(),
            at: t(0),
        }
    }

    pub(crate) fn code() -> BookingCode {
        BookingCode::from_random([1, 2, 3, 4, 5])
    }

    pub(crate) fn hold(expires_in_minutes: i64) -> Reservation {
        Reservation {
            id: ReservationId(7),
            user_id: UserId(1),
            studio_id: StudioId(1),
            target: ReservationTarget::Event(EventId(3)),
            status: ReservationStatus::Hold,
            quantity: 2,
            unit_price: Money::parse("10.00").unwrap(),
            total_price: Money::parse("20.00").unwrap(),
            expires_at: t(expires_in_minutes),
            booking_code: None,
            created_at: t(0),
            confirmed_at: None,
            checked_in_at: None,
            cancelled_at: None,
            payment: Default::default(),
        }
    }

    fn in_status(status: ReservationStatus) -> Reservation {
        Reservation { status, ..hold(5) }
    }

    const SESSION: i64 = 24 * 60;
    const CUTOFF: i64 = 120;

    #[test]
    fn a_hold_is_live_until_exactly_expires_at() {
        let r = hold(5);
        assert!(r.is_live_hold_at(t(4)));
        assert!(!r.is_live_hold_at(t(5)));
        assert_eq!(r.status_at(t(5)), ReservationStatus::Expired);
        assert_eq!(r.status_at(t(4)), ReservationStatus::Hold);
    }

    #[test]
    fn confirm_before_expiry_books_with_a_code() {
        let mut r = hold(5);
        assert_eq!(r.confirm(t(4), code()), Ok(Transition::Changed));
        assert_eq!(r.status, ReservationStatus::Confirmed);
        assert_eq!(r.confirmed_at, Some(t(4)));
        assert_eq!(r.booking_code, Some(code()));
    }

    #[test]
    fn confirm_at_expiry_fails_with_hold_expired() {
        let mut r = hold(5);
        assert_eq!(r.confirm(t(5), code()), Err(ConfirmError::HoldExpired));
        assert_eq!(r.status, ReservationStatus::Hold);
    }

    #[test]
    fn confirming_twice_is_unchanged() {
        let mut r = hold(5);
        r.confirm(t(1), code()).unwrap();
        let before = r.clone();
        let another = BookingCode::from_random([9; 5]);
        assert_eq!(r.confirm(t(30), another), Ok(Transition::Unchanged));
        assert_eq!(r, before);
    }

    #[test]
    fn confirm_from_other_states_is_invalid() {
        for status in [ReservationStatus::CheckedIn, ReservationStatus::NoShow, ReservationStatus::Cancelled] {
            assert_eq!(in_status(status).confirm(t(1), code()), Err(ConfirmError::InvalidState(status)));
        }
        assert_eq!(
            in_status(ReservationStatus::Expired).confirm(t(1), code()),
            Err(ConfirmError::HoldExpired),
            "a swept hold is as expired as a lapsed one"
        );
    }

    #[test]
    fn expire_only_lapsed_holds() {
        let mut r = hold(5);
        assert_eq!(r.expire(t(4)), Err(ExpireError::StillLive));
        assert_eq!(r.expire(t(5)), Ok(()));
        assert_eq!(r.status, ReservationStatus::Expired);
        assert_eq!(r.expire(t(6)), Err(ExpireError::InvalidState(ReservationStatus::Expired)));
        for status in [ReservationStatus::Confirmed, ReservationStatus::Cancelled, ReservationStatus::CheckedIn] {
            assert_eq!(in_status(status).expire(t(60)), Err(ExpireError::InvalidState(status)));
        }
    }

    #[test]
    fn a_live_hold_can_be_cancelled_by_its_owner() {
        let mut r = hold(5);
        r.cancel(t(1), CancelledBy::Owner, t(SESSION), Duration::minutes(CUTOFF)).unwrap();
        assert_eq!(r.status, ReservationStatus::Cancelled);
        assert_eq!(r.cancelled_at, Some(t(1)));
    }

    #[test]
    fn a_lapsed_hold_cannot_be_cancelled() {
        let mut r = hold(5);
        assert_eq!(
            r.cancel(t(5), CancelledBy::Owner, t(SESSION), Duration::minutes(CUTOFF)),
            Err(CancelError::InvalidState(ReservationStatus::Expired))
        );
    }

    #[test]
    fn the_owner_cancels_a_booking_only_until_the_cut_off() {
        let cutoff = Duration::minutes(CUTOFF);
        let mut early = in_status(ReservationStatus::Confirmed);
        early.cancel(t(SESSION - CUTOFF), CancelledBy::Owner, t(SESSION), cutoff).unwrap();
        assert_eq!(early.status, ReservationStatus::Cancelled);

        let mut late = in_status(ReservationStatus::Confirmed);
        assert_eq!(
            late.cancel(t(SESSION - CUTOFF + 1), CancelledBy::Owner, t(SESSION), cutoff),
            Err(CancelError::CancellationClosed)
        );
        late.cancel(t(SESSION + 5), CancelledBy::Studio, t(SESSION), cutoff).unwrap();
        assert_eq!(late.status, ReservationStatus::Cancelled);
    }

    #[test]
    fn cancelling_a_paid_booking_sends_its_money_back_and_an_unpaid_one_owes_nothing() {
        let cutoff = Duration::minutes(CUTOFF);
        let mut paid = in_status(ReservationStatus::Confirmed);
        paid.payment.status = PaymentStatus::Succeeded;
        paid.payment.amount = paid.total_price;
        paid.cancel(t(1), CancelledBy::Studio, t(SESSION), cutoff).unwrap();
        assert_eq!(paid.payment.status, PaymentStatus::RefundPending);
        assert_eq!(paid.payment.owed(), paid.total_price);

        let mut unpaid = hold(5);
        unpaid.cancel(t(1), CancelledBy::Owner, t(SESSION), cutoff).unwrap();
        assert_eq!(unpaid.payment.status, PaymentStatus::None);
        assert_eq!(unpaid.payment.owed(), Money::ZERO);
    }

    #[test]
    fn finished_reservations_cannot_be_cancelled() {
        for status in [
            ReservationStatus::CheckedIn,
            ReservationStatus::NoShow,
            ReservationStatus::Expired,
            ReservationStatus::Cancelled,
        ] {
            assert_eq!(
                in_status(status).cancel(t(1), CancelledBy::Studio, t(SESSION), Duration::minutes(CUTOFF)),
                Err(CancelError::InvalidState(status))
            );
        }
    }

    /// The door of a session at [`SESSION`] lasting an hour, open two hours before.
    fn door() -> CheckInWindow {
        CheckInWindow {
            session_starts_at: t(SESSION),
            session_ends_at: t(SESSION + 60),
            opens_before: Duration::minutes(120),
        }
    }

    #[test]
    fn check_in_is_idempotent_and_admits_latecomers() {
        let mut r = in_status(ReservationStatus::Confirmed);
        assert_eq!(r.check_in(t(SESSION - 10), door()), Ok(Transition::Changed));
        assert_eq!(r.check_in(t(SESSION - 9), door()), Ok(Transition::Unchanged));
        assert_eq!(r.checked_in_at, Some(t(SESSION - 10)));

        let mut late = in_status(ReservationStatus::NoShow);
        assert_eq!(late.check_in(t(SESSION + 50), door()), Ok(Transition::Changed));
        assert_eq!(late.status, ReservationStatus::CheckedIn);
    }

    #[test]
    fn the_door_opens_before_the_session_and_closes_at_its_end() {
        let not_open = Err(CheckInError::NotOpen { session_starts_at: t(SESSION) });
        for status in [ReservationStatus::Confirmed, ReservationStatus::NoShow] {
            for (at, open) in
                [(SESSION - 121, false), (SESSION - 120, true), (SESSION + 59, true), (SESSION + 60, false)]
            {
                let mut r = in_status(status);
                let expected = if open { Ok(Transition::Changed) } else { not_open };
                assert_eq!(r.check_in(t(at), door()), expected, "{status:?} at {at}");
                assert_eq!(r.status == ReservationStatus::CheckedIn, open);
            }
        }
        let dawn = CheckInWindow { session_starts_at: DateTime::<Utc>::MIN_UTC, ..door() };
        assert!(dawn.is_open_at(DateTime::<Utc>::MIN_UTC), "opens no later than the session starts");
    }

    #[test]
    fn a_used_code_answers_unchanged_even_outside_the_window() {
        let mut r = in_status(ReservationStatus::Confirmed);
        r.check_in(t(SESSION), door()).unwrap();
        for at in [SESSION - 600, SESSION + 600] {
            assert_eq!(r.check_in(t(at), door()), Ok(Transition::Unchanged));
        }
        assert_eq!(r.checked_in_at, Some(t(SESSION)));
    }

    #[test]
    fn holds_and_ended_reservations_cannot_be_checked_in() {
        let now = t(SESSION);
        assert_eq!(hold(5).check_in(now, door()), Err(CheckInError::InvalidState(ReservationStatus::Expired)));
        assert_eq!(hold(SESSION + 5).check_in(now, door()), Err(CheckInError::InvalidState(ReservationStatus::Hold)));
        for status in [ReservationStatus::Expired, ReservationStatus::Cancelled] {
            assert_eq!(in_status(status).check_in(now, door()), Err(CheckInError::InvalidState(status)));
            assert_eq!(
                in_status(status).check_in(t(0), door()),
                Err(CheckInError::InvalidState(status)),
                "closed or not"
            );
        }
    }

    #[test]
    fn no_show_only_after_session_and_grace() {
        let grace = Duration::minutes(15);
        let mut r = in_status(ReservationStatus::Confirmed);
        assert_eq!(r.mark_no_show(t(SESSION + 14), t(SESSION), grace), Err(NoShowError::TooEarly));
        assert_eq!(r.mark_no_show(t(SESSION + 15), t(SESSION), grace), Ok(()));
        assert_eq!(r.status, ReservationStatus::NoShow);
        assert_eq!(
            in_status(ReservationStatus::CheckedIn).mark_no_show(t(SESSION + 60), t(SESSION), grace),
            Err(NoShowError::InvalidState(ReservationStatus::CheckedIn))
        );
    }

    #[test]
    fn a_snapshot_shows_the_effective_status() {
        let r = hold(5);
        assert_eq!(r.snapshot(t(6)).status, ReservationStatus::Expired);
        let snapshot = r.snapshot(t(1));
        assert_eq!(snapshot.status, ReservationStatus::Hold);
        assert_eq!(snapshot.total_price, Money::parse("20.00").unwrap());
        assert_eq!(
            (snapshot.kind, snapshot.auction_id, snapshot.event_id),
            (ReservationKind::Event, None, Some(EventId(3)))
        );
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in ReservationStatus::ALL {
            assert_eq!(ReservationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ReservationStatus::parse("hold"), None);
    }
}
