//! One reservation under its parent's lock and its own: confirming,
//! cancelling, expiring, checking in and marking no-shows, with what each
//! does to the parent auction or event.

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::auction::{Auction, AuctionSnapshot, AuctionStatus};
use crate::audit::AuditedReservation;
use crate::booking_code::BookingCode;
use crate::domain_events::{AuditDetails, Payload, Room};
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::ReservationId;
use crate::mail::Notice;
use crate::payments::Intent;
use crate::reservation::{
    CancelledBy, CheckInWindow, ConfirmError, Reservation, ReservationSnapshot, ReservationStatus, Settlement,
    Transition,
};
use crate::unit_of_work::{Effects, Policy};
use crate::waitlist::WaitingList;

/// The parent of a reservation, locked before the reservation itself.
#[derive(Debug, Clone)]
pub enum Parent {
    Auction(Auction),
    Event(Event),
}

/// How a confirmation ended: a booking, or a hold found lapsed (which is
/// then persisted as EXPIRED before the caller hears `hold_expired`).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmOutcome {
    Confirmed(Box<Reservation>),
    Expired,
}

/// A booking at the door: checked in by this request, or before it (a used code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIn {
    pub reservation: Reservation,
    /// When it was checked in: now, or the first time for a used code.
    pub checked_in_at: DateTime<Utc>,
    pub already_checked_in: bool,
}

/// One reservation under its parent's lock and its own.
#[derive(Debug, Clone)]
pub struct ReservationUnit {
    pub reservation: Reservation,
    pub parent: Parent,
    /// The parent event's waiting list (empty for an auction).
    pub waiting: WaitingList,
    pub effects: Effects,
}

/// Several reservations of one event under the event's lock and their own,
/// decided one after another as each would have been alone.
#[derive(Debug, Clone)]
pub struct EventReservationsUnit {
    pub parent: Parent,
    pub reservations: Vec<Reservation>,
    /// The event's waiting list.
    pub waiting: WaitingList,
    pub effects: Effects,
}

/// Offers the seats free in `parent`, an event, to its waiting list.
fn offer_to_waiting_list(
    parent: &mut Parent,
    waiting: &mut WaitingList,
    effects: &mut Effects,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Vec<Reservation> {
    match parent {
        Parent::Event(event) => waiting.offer_seats(event, effects, now, policy),
        Parent::Auction(_) => Vec::new(),
    }
}

impl EventReservationsUnit {
    /// Runs `decide` on reservation `id` with the parent as the decisions
    /// before it left it. A refusal changes nothing.
    pub fn decide<T>(
        &mut self,
        id: ReservationId,
        decide: impl FnOnce(&mut ReservationUnit) -> Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let index = self
            .reservations
            .iter()
            .position(|reservation| reservation.id == id)
            .ok_or(DomainError::NotFound("reservation"))?;
        let mut unit = ReservationUnit {
            reservation: self.reservations[index].clone(),
            parent: self.parent.clone(),
            waiting: WaitingList::default(),
            effects: Effects::default(),
        };
        let answer = decide(&mut unit)?;
        self.reservations[index] = unit.reservation;
        self.parent = unit.parent;
        self.effects.merge(unit.effects);
        Ok(answer)
    }

    /// Offers the seats the decisions returned to the waiting list.
    pub fn offer_waiting_list(&mut self, now: DateTime<Utc>, policy: &Policy) -> Vec<Reservation> {
        offer_to_waiting_list(&mut self.parent, &mut self.waiting, &mut self.effects, now, policy)
    }
}

impl ReservationUnit {
    /// The reservation under its parent, as loaded (no waiting list).
    pub fn new(reservation: Reservation, parent: Parent) -> ReservationUnit {
        ReservationUnit { reservation, parent, waiting: WaitingList::default(), effects: Effects::default() }
    }

    /// Offers the seats the decision returned to the parent event's waiting list.
    pub fn offer_waiting_list(&mut self, now: DateTime<Utc>, policy: &Policy) -> Vec<Reservation> {
        offer_to_waiting_list(&mut self.parent, &mut self.waiting, &mut self.effects, now, policy)
    }

    fn session_at(&self) -> DateTime<Utc> {
        match &self.parent {
            Parent::Auction(auction) => auction.details.scheduled_at,
            Parent::Event(event) => event.details.starts_at,
        }
    }

    fn session_ends_at(&self) -> DateTime<Utc> {
        match &self.parent {
            Parent::Auction(auction) => auction.details.session_ends_at(),
            Parent::Event(event) => event.details.ends_at,
        }
    }

    /// Applies the reservation's change from `before` to the parent and tells everyone.
    fn follow_up(
        &mut self,
        before: ReservationStatus,
        payload: fn(ReservationSnapshot) -> Payload,
        now: DateTime<Utc>,
    ) {
        let reservation = self.reservation.clone();
        self.effects.save(&reservation);
        self.effects.reservation_event(&reservation, payload, now);
        match &mut self.parent {
            Parent::Auction(auction) => {
                let live = Some(&reservation).filter(|r| r.is_live_at(now));
                let status = auction.status_at(live, now);
                let changed = status != auction.stored_status;
                auction.stored_status = status;
                let announce: Option<fn(AuctionSnapshot) -> Payload> = match status {
                    AuctionStatus::Sold if before == ReservationStatus::Hold => Some(Payload::AuctionBooked),
                    AuctionStatus::Active => Some(Payload::AuctionReopened),
                    _ if changed => Some(Payload::AuctionUpdated),
                    _ => None,
                };
                if let Some(payload) = announce {
                    let rooms = [Room::Auction(auction.id), Room::Studio(auction.studio_id)];
                    self.effects.emit(&rooms, payload(auction.snapshot(live, now)));
                }
            }
            Parent::Event(event) => {
                event.account(before, &reservation);
                let snapshot = event.snapshot(event.availability(0, 0));
                let rooms = [Room::Event(event.id), Room::Studio(event.studio_id)];
                self.effects.emit(&rooms, Payload::AvailabilityChanged(snapshot));
            }
        }
    }

    /// Confirms the owner's hold under `code` (a fresh random code). A lapsed
    /// hold is expired instead.
    pub fn confirm(
        &mut self,
        actor: &Actor,
        now: DateTime<Utc>,
        code: BookingCode,
    ) -> Result<ConfirmOutcome, DomainError> {
        if self.reservation.user_id != actor.user_id {
            return Err(DomainError::NotFound("reservation"));
        }
        let before = self.reservation.status;
        match self.reservation.confirm(now, code) {
            Ok(Transition::Changed) => {
                self.follow_up(before, Payload::BookingConfirmed, now);
                self.mail_owner(Notice::booking_confirmed(&self.reservation, now));
                Ok(ConfirmOutcome::Confirmed(Box::new(self.reservation.clone())))
            }
            Ok(Transition::Unchanged) => Ok(ConfirmOutcome::Confirmed(Box::new(self.reservation.clone()))),
            Err(ConfirmError::HoldExpired) if self.reservation.status == ReservationStatus::Hold => {
                self.expire(now)?;
                Ok(ConfirmOutcome::Expired)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Applies a succeeded payment (see [`Reservation::settlement`]): a live
    /// hold is confirmed under `code`; a lapsed one is expired and its money
    /// marked to go back, as is money that does not match.
    pub fn settle_payment(
        &mut self,
        intent: &Intent,
        currency: &str,
        now: DateTime<Utc>,
        code: BookingCode,
    ) -> Result<Settlement, DomainError> {
        let settlement = self.reservation.settlement(intent, currency, now);
        match settlement {
            Settlement::Confirm => {
                let before = self.reservation.status;
                self.reservation.confirm(now, code)?;
                self.reservation.payment.succeed(intent);
                self.follow_up(before, Payload::BookingConfirmed, now);
                self.effects.reservation_event(&self.reservation, Payload::PaymentSucceeded, now);
                self.audit_payment(AuditDetails::PaymentSucceeded, now);
                self.mail_owner(Notice::booking_confirmed(&self.reservation, now));
            }
            Settlement::Refund(_) => {
                if self.reservation.status == ReservationStatus::Hold && !self.reservation.is_live_hold_at(now) {
                    self.expire(now)?;
                }
                self.reservation.payment.refund_all(intent);
                self.effects.save(&self.reservation);
            }
            Settlement::AlreadyApplied | Settlement::RefundExtra => {}
        }
        Ok(settlement)
    }

    /// Records that the money owed went back (`amount`), and tells the owner and the studio.
    pub fn refunded(&mut self, amount: crate::money::Money, now: DateTime<Utc>) {
        self.reservation.payment.refunded(amount);
        self.effects.save(&self.reservation);
        self.effects.reservation_event(&self.reservation, Payload::PaymentRefunded, now);
        self.audit_payment(AuditDetails::PaymentRefunded, now);
        self.mail_owner(Notice::payment_refunded(&self.reservation, now));
    }

    /// Records a message to the reservation's owner.
    fn mail_owner(&mut self, notice: Notice) {
        self.effects.mail(self.reservation.user_id, notice);
    }

    /// Audits what happened to the reservation's money, as its owner's doing.
    fn audit_payment(&mut self, details: fn(AuditedReservation) -> AuditDetails, now: DateTime<Utc>) {
        let facts = AuditedReservation::of(&self.reservation, now);
        let (owner, studio) = (Actor::user(self.reservation.user_id), Some(self.reservation.studio_id));
        self.effects.audit(&owner, studio, self.reservation.id.to_string(), &details(facts));
    }

    /// Expires the reservation if it is a lapsed hold.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        let before = self.reservation.status;
        self.reservation.expire(now).map_err(|_| DomainError::InvalidState(self.reservation.status_at(now)))?;
        self.follow_up(before, Payload::ReservationExpired, now);
        Ok(())
    }

    /// Cancels as the owner (bound by the cut-off) or as the studio.
    pub fn cancel(&mut self, actor: &Actor, now: DateTime<Utc>, policy: &Policy) -> Result<(), DomainError> {
        let by = if self.reservation.user_id == actor.user_id {
            CancelledBy::Owner
        } else if actor.manages(self.reservation.studio_id) {
            CancelledBy::Studio
        } else {
            return Err(DomainError::NotFound("reservation"));
        };
        let before = self.reservation.status;
        let facts = AuditedReservation::of(&self.reservation, now);
        self.reservation.cancel(now, by, self.session_at(), policy.cancel_cutoff)?;
        self.follow_up(before, Payload::ReservationCancelled, now);
        // A hold let go is no news; a booking cancelled is.
        if before.is_booked() {
            self.mail_owner(Notice::booking_cancelled(&self.reservation, by, now));
        }
        if by == CancelledBy::Studio {
            let (studio, target) = (Some(self.reservation.studio_id), self.reservation.id.to_string());
            self.effects.audit(actor, studio, target, &AuditDetails::ReservationCancel(facts));
        }
        Ok(())
    }

    /// Marks a booking nobody checked in as NO_SHOW once the session and the
    /// grace period have passed. Returns whether it changed.
    pub fn mark_no_show(&mut self, now: DateTime<Utc>, policy: &Policy) -> bool {
        let before = self.reservation.status;
        if self.reservation.mark_no_show(now, self.session_at(), policy.no_show_grace).is_err() {
            return false;
        }
        self.follow_up(before, Payload::ReservationNoShow, now);
        true
    }

    /// Records the booking's reminder when its session starts within
    /// `policy.reminder_before` and has not started; once per booking (the
    /// outbox keeps one message per cause, recipient and kind). A booking
    /// made inside that window still gets it.
    pub fn remind(&mut self, now: DateTime<Utc>, policy: &Policy) -> bool {
        let starts = self.session_at();
        let due = self.reservation.status == ReservationStatus::Confirmed
            && now < starts
            && starts <= now + policy.reminder_before;
        if due {
            self.effects.mail(self.reservation.user_id, Notice::booking_reminder(&self.reservation, now));
        }
        due
    }

    /// Checks the booking in at the studio's door, while it is open (see
    /// [`CheckInWindow`]). A booking already checked in is answered as it
    /// is, at any time, and nothing is written or announced again.
    pub fn check_in(&mut self, actor: &Actor, now: DateTime<Utc>, policy: &Policy) -> Result<CheckIn, DomainError> {
        if !actor.manages(self.reservation.studio_id) {
            return Err(DomainError::NotFound("booking"));
        }
        let window = CheckInWindow {
            session_starts_at: self.session_at(),
            session_ends_at: self.session_ends_at(),
            opens_before: policy.check_in_opens_before,
        };
        let before = self.reservation.status;
        let facts = AuditedReservation::of(&self.reservation, now);
        let transition = self.reservation.check_in(now, window)?;
        if transition == Transition::Changed {
            self.follow_up(before, Payload::ReservationCheckedIn, now);
            let (studio, target) = (Some(self.reservation.studio_id), self.reservation.id.to_string());
            self.effects.audit(actor, studio, target, &AuditDetails::ReservationCheckIn(facts));
        }
        Ok(CheckIn {
            reservation: self.reservation.clone(),
            // Every check-in stores its time; a row without one is answered as checked in now.
            checked_in_at: self.reservation.checked_in_at.unwrap_or(now),
            already_checked_in: transition == Transition::Unchanged,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::auction::tests::{AUCTION, HOLDER, STUDIO, auction, slot};
    use crate::domain_events::AuditAction;
    use crate::domain_events::EventKind;
    use crate::event::SeatCounts;
    use crate::event::tests::{event, seats};
    use crate::ids::UserId;
    use crate::reservation::tests::{code, t};
    use crate::reservation::{PaymentStatus, RefundReason};
    use crate::unit_of_work::tests::{
        STRANGER, admin, assert_emitted, auction_rooms, count, emitted, event_rooms, other_studio_admin, policy,
        user_rooms,
    };

    fn owner() -> Actor {
        Actor::user(HOLDER)
    }

    /// [`HOLDER`]'s reservation of the auction slot, under the auction as
    /// the job left it.
    fn slot_unit(reservation: Reservation, stored_status: AuctionStatus) -> ReservationUnit {
        let mut auction = auction();
        auction.stored_status = stored_status;
        ReservationUnit::new(reservation, Parent::Auction(auction))
    }

    /// [`HOLDER`]'s reservation of 2 seats of a 10-seat event starting at t(600).
    fn seats_unit(status: ReservationStatus, expires_at: DateTime<Utc>) -> ReservationUnit {
        let reservation = seats(7, HOLDER, status, 2, expires_at);
        let mut event = event(10);
        event.account_new(&reservation);
        ReservationUnit::new(reservation, Parent::Event(event))
    }

    fn parent_event(unit: &ReservationUnit) -> &Event {
        match &unit.parent {
            Parent::Event(event) => event,
            Parent::Auction(_) => panic!("not an event"),
        }
    }

    fn parent_auction(unit: &ReservationUnit) -> &Auction {
        match &unit.parent {
            Parent::Auction(auction) => auction,
            Parent::Event(_) => panic!("not an auction"),
        }
    }

    /// A succeeded payment of `amount` for reservation 7 (the seats unit's).
    fn paid(intent: &str, amount: &str) -> crate::payments::Intent {
        crate::payments::Intent {
            id: crate::payments::IntentId(intent.into()),
            client_secret: String::new(),
            status: crate::payments::IntentStatus::Succeeded,
            amount: crate::money::Money::parse(amount).unwrap(),
            currency: "TRY".into(),
            reservation: Some(ReservationId(7)),
        }
    }

    #[test]
    fn a_payment_for_a_live_hold_confirms_it_once() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.reservation.payment.open(paid("pi_1", "20.00").id);
        assert_eq!(unit.settle_payment(&paid("pi_1", "20.00"), "TRY", t(4), code()), Ok(Settlement::Confirm));
        assert_eq!(unit.reservation.status, ReservationStatus::Confirmed);
        assert_eq!(unit.reservation.payment.status, PaymentStatus::Succeeded);
        assert_eq!(parent_event(&unit).seats.confirmed_seats, 2);
        let first = unit.clone();
        // The webhook again, or the client's confirm after it.
        assert_eq!(unit.settle_payment(&paid("pi_1", "20.00"), "TRY", t(6), code()), Ok(Settlement::AlreadyApplied));
        assert_eq!(unit.effects, first.effects);
        assert_eq!(unit.reservation, first.reservation);
    }

    #[test]
    fn a_payment_after_the_hold_lapsed_expires_it_and_is_to_be_refunded() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.reservation.payment.open(paid("pi_1", "20.00").id);
        let settled = unit.settle_payment(&paid("pi_1", "20.00"), "TRY", t(5), code());
        assert_eq!(settled, Ok(Settlement::Refund(RefundReason::HoldLapsed)));
        assert_eq!(unit.reservation.status, ReservationStatus::Expired);
        assert_eq!(unit.reservation.booking_code, None);
        assert_eq!(unit.reservation.payment.status, PaymentStatus::RefundPending);
        assert_eq!(unit.reservation.payment.owed().to_string(), "20.00");
        assert_eq!(parent_event(&unit).seats, SeatCounts::default());
        assert_eq!(unit.effects.reservations.last(), Some(&unit.reservation));
    }

    #[test]
    fn a_payment_for_a_cancelled_hold_or_of_the_wrong_amount_is_to_be_refunded() {
        let mut cancelled = seats_unit(ReservationStatus::Cancelled, t(5));
        cancelled.reservation.payment.open(paid("pi_1", "20.00").id);
        let settled = cancelled.settle_payment(&paid("pi_1", "20.00"), "TRY", t(1), code());
        assert_eq!(settled, Ok(Settlement::Refund(RefundReason::Cancelled)));
        assert_eq!(cancelled.reservation.payment.status, PaymentStatus::RefundPending);

        for (amount, currency) in [("19.99", "TRY"), ("20.00", "EUR")] {
            let mut unit = seats_unit(ReservationStatus::Hold, t(5));
            unit.reservation.payment.open(paid("pi_1", amount).id);
            let settled = unit.settle_payment(&paid("pi_1", amount), currency, t(1), code());
            assert_eq!(settled, Ok(Settlement::Refund(RefundReason::Mismatch)), "{amount}");
            assert_eq!(unit.reservation.status, ReservationStatus::Hold, "never confirmed");
        }
    }

    #[test]
    fn a_payment_this_service_did_not_open_for_the_hold_never_confirms_it() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        let settled = unit.settle_payment(&paid("pi_foreign", "20.00"), "TRY", t(1), code());
        assert_eq!(settled, Ok(Settlement::RefundExtra));
        assert_eq!(unit.reservation.status, ReservationStatus::Hold);
        assert_eq!(unit.effects, Effects::default());
        unit.reservation.payment.open(paid("pi_1", "20.00").id);
        let settled = unit.settle_payment(&paid("pi_foreign", "20.00"), "TRY", t(1), code());
        assert_eq!(settled, Ok(Settlement::RefundExtra), "another than the one opened");
    }

    #[test]
    fn a_second_payment_for_a_paid_booking_goes_back_and_leaves_the_first() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.reservation.payment.open(paid("pi_1", "20.00").id);
        unit.settle_payment(&paid("pi_1", "20.00"), "TRY", t(1), code()).unwrap();
        let first = unit.clone();
        assert_eq!(unit.settle_payment(&paid("pi_2", "20.00"), "TRY", t(2), code()), Ok(Settlement::RefundExtra));
        assert_eq!(unit.reservation, first.reservation);
        assert_eq!(unit.effects, first.effects);
    }

    #[test]
    fn only_the_owner_may_confirm() {
        for actor in [Actor::user(STRANGER), admin(), Actor::platform_admin(UserId(92))] {
            let mut unit = seats_unit(ReservationStatus::Hold, t(5));
            assert_eq!(unit.confirm(&actor, t(1), code()), Err(DomainError::NotFound("reservation")), "{actor:?}");
            assert_eq!(unit.reservation.status, ReservationStatus::Hold);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn confirming_seats_moves_them_from_held_to_confirmed() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        let ConfirmOutcome::Confirmed(booking) = unit.confirm(&owner(), t(4), code()).unwrap() else {
            panic!("not confirmed");
        };
        assert_eq!(booking.status, ReservationStatus::Confirmed);
        assert_eq!(booking.booking_code, Some(code()));
        assert_eq!(booking.confirmed_at, Some(t(4)));
        assert_eq!(unit.reservation, *booking);
        assert_eq!(unit.effects.reservations, vec![*booking]);

        let event = parent_event(&unit);
        assert_eq!(event.seats, SeatCounts { held_seats: 0, held_count: 0, confirmed_seats: 2, confirmed_count: 1 });
        assert_eq!(event.available(), 8);
        assert_emitted(
            &unit.effects,
            &[user_rooms(HOLDER, EventKind::BookingConfirmed), event_rooms(EventKind::AvailabilityChanged)],
        );
        assert_eq!(unit.effects.events[2].data["confirmed_seats"], 2);
    }

    #[test]
    fn confirming_a_lapsed_hold_expires_it() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        assert_eq!(unit.confirm(&owner(), t(5), code()), Ok(ConfirmOutcome::Expired));
        assert_eq!(unit.reservation.status, ReservationStatus::Expired);
        let [expired] = unit.effects.reservations.as_slice() else { panic!("{:?}", unit.effects.reservations) };
        assert_eq!(expired.status, ReservationStatus::Expired);
        assert_eq!(expired.booking_code, None);
        assert_eq!(parent_event(&unit).seats, SeatCounts::default());
        assert_emitted(
            &unit.effects,
            &[user_rooms(HOLDER, EventKind::ReservationExpired), event_rooms(EventKind::AvailabilityChanged)],
        );
    }

    #[test]
    fn confirming_twice_returns_the_booking_unchanged() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.confirm(&owner(), t(1), code()).unwrap();
        let first = unit.clone();
        assert_eq!(
            unit.confirm(&owner(), t(30), code()),
            Ok(ConfirmOutcome::Confirmed(Box::new(first.reservation.clone())))
        );
        assert_eq!(unit.effects, first.effects);
        assert_eq!(parent_event(&unit), parent_event(&first));
    }

    #[test]
    fn confirming_an_ended_reservation_is_an_invalid_state() {
        let mut unit = seats_unit(ReservationStatus::Cancelled, t(5));
        assert_eq!(unit.confirm(&owner(), t(1), code()), Err(DomainError::InvalidState(ReservationStatus::Cancelled)));
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn confirming_an_auction_hold_books_the_slot() {
        let mut unit = slot_unit(slot(ReservationStatus::Hold, "450.00", t(66)), AuctionStatus::Held);
        assert!(matches!(unit.confirm(&owner(), t(62), code()), Ok(ConfirmOutcome::Confirmed(_))));
        assert_eq!(parent_auction(&unit).stored_status, AuctionStatus::Sold);
        assert_emitted(
            &unit.effects,
            &[user_rooms(HOLDER, EventKind::BookingConfirmed), auction_rooms(EventKind::AuctionBooked)],
        );
        assert_eq!(unit.effects.events[2].data["current_price"], "450.00");
    }

    #[test]
    fn an_auction_hold_may_be_confirmed_after_ends_at_while_it_lasts() {
        let mut unit = slot_unit(slot(ReservationStatus::Hold, "350.00", t(124)), AuctionStatus::Held);
        assert!(matches!(unit.confirm(&owner(), t(123), code()), Ok(ConfirmOutcome::Confirmed(_))));
        assert_eq!(parent_auction(&unit).stored_status, AuctionStatus::Sold);
        assert_eq!(count(&unit.effects, Room::Auction(AUCTION), EventKind::AuctionBooked), 1);
    }

    #[test]
    fn an_auction_hold_found_lapsed_at_confirm_reopens_the_auction() {
        let mut unit = slot_unit(slot(ReservationStatus::Hold, "450.00", t(66)), AuctionStatus::Held);
        assert_eq!(unit.confirm(&owner(), t(66), code()), Ok(ConfirmOutcome::Expired));
        assert_eq!(unit.effects.reservations[0].status, ReservationStatus::Expired);
        assert_eq!(parent_auction(&unit).stored_status, AuctionStatus::Active);
        assert_eq!(count(&unit.effects, Room::Auction(AUCTION), EventKind::AuctionReopened), 1);
    }

    /// The messages a decision recorded: (recipient, kind, cause).
    fn mailed(effects: &Effects) -> Vec<(UserId, crate::mail::MailKind, String)> {
        effects
            .mail
            .iter()
            .filter_map(|mail| Some((mail.recipient.user()?, mail.notice.kind(), mail.notice.cause())))
            .collect()
    }

    #[test]
    fn a_booking_is_mailed_to_its_owner_once_confirmed_or_paid() {
        use crate::mail::MailKind::BookingConfirmed;
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.confirm(&owner(), t(4), code()).unwrap();
        assert_eq!(mailed(&unit.effects), [(HOLDER, BookingConfirmed, "reservation:7".to_owned())]);
        let Notice::BookingConfirmed { reservation } = &unit.effects.mail[0].notice else { panic!("not a booking") };
        assert_eq!(reservation.booking_code, Some(code()));
        let before = unit.effects.clone();
        unit.confirm(&owner(), t(4), code()).unwrap();
        assert_eq!(unit.effects, before, "a confirmed booking confirmed again is no news");

        let mut paid_unit = seats_unit(ReservationStatus::Hold, t(5));
        paid_unit.reservation.payment.open(paid("pi_1", "20.00").id);
        paid_unit.settle_payment(&paid("pi_1", "20.00"), "TRY", t(4), code()).unwrap();
        assert_eq!(mailed(&paid_unit.effects), [(HOLDER, BookingConfirmed, "reservation:7".to_owned())]);

        let mut lapsed = seats_unit(ReservationStatus::Hold, t(5));
        lapsed.confirm(&owner(), t(5), code()).unwrap();
        assert!(lapsed.effects.mail.is_empty(), "a lapsed hold books nothing");
    }

    #[test]
    fn a_cancelled_booking_is_mailed_to_its_owner_saying_by_whom_but_a_hold_let_go_is_not() {
        use crate::mail::MailKind::BookingCancelled;
        let mut hold = seats_unit(ReservationStatus::Hold, t(5));
        hold.cancel(&owner(), t(1), &policy()).unwrap();
        assert!(hold.effects.mail.is_empty());

        for (actor, by) in [(owner(), CancelledBy::Owner), (admin(), CancelledBy::Studio)] {
            let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
            unit.reservation.payment.open(paid("pi_1", "20.00").id);
            unit.reservation.payment.succeed(&paid("pi_1", "20.00"));
            unit.cancel(&actor, t(1), &policy()).unwrap();
            assert_eq!(mailed(&unit.effects), [(HOLDER, BookingCancelled, "reservation:7".to_owned())]);
            let Notice::BookingCancelled { reservation, by: said } = &unit.effects.mail[0].notice else {
                panic!("not a cancellation")
            };
            assert_eq!(*said, by);
            assert_eq!(reservation.payment.status, PaymentStatus::RefundPending, "the refund is on its way");
        }
    }

    #[test]
    fn a_refund_that_went_through_is_mailed_to_the_payer_with_the_amount() {
        use crate::mail::MailKind::{BookingCancelled, PaymentRefunded};
        let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
        unit.reservation.payment.open(paid("pi_1", "20.00").id);
        unit.reservation.payment.succeed(&paid("pi_1", "20.00"));
        unit.cancel(&owner(), t(1), &policy()).unwrap();
        unit.refunded(crate::money::Money::parse("20.00").unwrap(), t(2));
        let cause = "reservation:7".to_owned();
        assert_eq!(
            mailed(&unit.effects),
            [(HOLDER, BookingCancelled, cause.clone()), (HOLDER, PaymentRefunded, cause)]
        );
        let Notice::PaymentRefunded { reservation } = &unit.effects.mail[1].notice else { panic!("not a refund") };
        assert_eq!(reservation.payment.status, PaymentStatus::Refunded);
        assert_eq!(reservation.payment.refunded_amount, crate::money::Money::parse("20.00").unwrap());
    }

    #[test]
    fn the_owner_may_cancel_a_hold() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.cancel(&owner(), t(1), &policy()).unwrap();
        assert_eq!(unit.reservation.status, ReservationStatus::Cancelled);
        assert_eq!(unit.reservation.cancelled_at, Some(t(1)));
        assert_eq!(parent_event(&unit).seats, SeatCounts::default());
        assert_emitted(
            &unit.effects,
            &[user_rooms(HOLDER, EventKind::ReservationCancelled), event_rooms(EventKind::AvailabilityChanged)],
        );
        assert!(unit.effects.audit.is_empty(), "an owner's cancellation is not an administrative action");
    }

    #[test]
    fn the_studio_may_cancel_a_booking_and_it_is_audited() {
        for actor in [admin(), Actor::platform_admin(UserId(92))] {
            let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
            unit.cancel(&actor, t(1), &policy()).unwrap();
            assert_eq!(unit.reservation.status, ReservationStatus::Cancelled);
            assert_eq!(parent_event(&unit).seats, SeatCounts::default());
            assert_eq!(count(&unit.effects, Room::User(HOLDER), EventKind::ReservationCancelled), 1);
            let [entry] = unit.effects.audit.as_slice() else { panic!("{:?}", unit.effects.audit) };
            assert_eq!((entry.actor, entry.studio_id), (actor.user_id, Some(STUDIO)));
            assert_eq!((entry.action, entry.target.as_str()), (AuditAction::ReservationCancel, "reservation:7"));
            assert_eq!(entry.details["previous_status"], "CONFIRMED");
            assert_eq!((&entry.details["quantity"], &entry.details["total_price"]), (&2.into(), &"20.00".into()));
            assert_eq!(entry.details["user_id"], HOLDER.0);
        }
    }

    #[test]
    fn strangers_cannot_cancel_and_do_not_learn_the_reservation_exists() {
        for actor in [Actor::user(STRANGER), other_studio_admin()] {
            let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
            assert_eq!(unit.cancel(&actor, t(1), &policy()), Err(DomainError::NotFound("reservation")), "{actor:?}");
            assert_eq!(unit.reservation.status, ReservationStatus::Confirmed);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn the_owner_cannot_cancel_after_the_cut_off_but_the_studio_can() {
        // The event starts at t(600); the cut-off is 2 h before, at t(480).
        let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
        unit.clone().cancel(&owner(), t(480), &policy()).unwrap();
        assert_eq!(unit.cancel(&owner(), t(481), &policy()), Err(DomainError::CancellationClosed));
        assert_eq!(unit.reservation.status, ReservationStatus::Confirmed);
        assert_eq!(parent_event(&unit).seats.confirmed_seats, 2);
        assert_eq!(unit.effects, Effects::default());

        unit.cancel(&admin(), t(590), &policy()).unwrap();
        assert_eq!(unit.reservation.status, ReservationStatus::Cancelled);
    }

    #[test]
    fn the_cut_off_of_an_auction_booking_counts_from_the_session() {
        // Session at t(180): the owner may cancel until t(60).
        let booking = slot(ReservationStatus::Confirmed, "500.00", t(30));
        slot_unit(booking.clone(), AuctionStatus::Sold).cancel(&owner(), t(60), &policy()).unwrap();
        assert_eq!(
            slot_unit(booking, AuctionStatus::Sold).cancel(&owner(), t(61), &policy()),
            Err(DomainError::CancellationClosed)
        );
    }

    #[test]
    fn cancelling_a_sold_slot_before_ends_at_reopens_the_auction() {
        let booking = slot(ReservationStatus::Confirmed, "500.00", t(30));
        for (actor, now) in [(owner(), t(40)), (admin(), t(100))] {
            let mut unit = slot_unit(booking.clone(), AuctionStatus::Sold);
            unit.cancel(&actor, now, &policy()).unwrap();
            assert_eq!(parent_auction(&unit).stored_status, AuctionStatus::Active, "{actor:?}");
            assert_emitted(
                &unit.effects,
                &[user_rooms(HOLDER, EventKind::ReservationCancelled), auction_rooms(EventKind::AuctionReopened)],
            );
            let reopened = &unit.effects.events[2].data;
            assert_eq!(reopened["status"], "ACTIVE");
            assert_eq!(reopened["current_price"], if now == t(40) { "500.00" } else { "410.00" });
        }
    }

    #[test]
    fn cancelling_a_sold_slot_after_ends_at_expires_the_auction() {
        let booking = slot(ReservationStatus::Confirmed, "450.00", t(65));
        let mut unit = slot_unit(booking, AuctionStatus::Sold);
        unit.cancel(&admin(), t(130), &policy()).unwrap();
        assert_eq!(parent_auction(&unit).stored_status, AuctionStatus::Expired);
        assert_eq!(count(&unit.effects, Room::Auction(AUCTION), EventKind::AuctionReopened), 0);
        assert_eq!(count(&unit.effects, Room::Auction(AUCTION), EventKind::AuctionUpdated), 1);
        assert_eq!(unit.effects.events[2].data["status"], "EXPIRED");
    }

    #[test]
    fn only_the_studio_checks_people_in() {
        for actor in [owner(), Actor::user(STRANGER), other_studio_admin()] {
            let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
            assert_eq!(unit.check_in(&actor, t(600), &policy()), Err(DomainError::NotFound("booking")), "{actor:?}");
            assert_eq!(unit.reservation.status, ReservationStatus::Confirmed);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    /// A seat reservation in `status`, checked in by the studio at `at`.
    fn checked_in(status: ReservationStatus, at: DateTime<Utc>) -> ReservationUnit {
        let mut unit = seats_unit(status, t(-10));
        let answer = unit.check_in(&admin(), at, &policy()).unwrap();
        let expected = CheckIn { reservation: unit.reservation.clone(), checked_in_at: at, already_checked_in: false };
        assert_eq!(answer, expected);
        assert_eq!(unit.reservation.status, ReservationStatus::CheckedIn);
        unit
    }

    #[test]
    fn check_in_marks_the_booking_and_keeps_the_seats() {
        let unit = checked_in(ReservationStatus::Confirmed, t(600));
        assert_eq!(unit.reservation.checked_in_at, Some(t(600)));
        assert_eq!(
            parent_event(&unit).seats,
            SeatCounts { held_seats: 0, held_count: 0, confirmed_seats: 2, confirmed_count: 1 }
        );
        assert_eq!(count(&unit.effects, Room::User(HOLDER), EventKind::ReservationCheckedIn), 1);
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, AuditAction::ReservationCheckIn);
    }

    #[test]
    fn checking_in_twice_changes_nothing_and_emits_nothing() {
        let mut unit = checked_in(ReservationStatus::Confirmed, t(600));
        unit.effects = Effects::default();
        let first = unit.clone();

        // Again, and again once the door has closed (the event ends at t(660)).
        for at in [t(605), t(700)] {
            let answer = unit.check_in(&admin(), at, &policy()).unwrap();
            let reservation = first.reservation.clone();
            assert_eq!(answer, CheckIn { reservation, checked_in_at: t(600), already_checked_in: true });
        }
        assert_eq!(unit.reservation, first.reservation);
        assert_eq!(unit.reservation.checked_in_at, Some(t(600)));
        assert_eq!(parent_event(&unit), parent_event(&first));
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn the_door_of_an_event_opens_before_it_starts_and_closes_when_it_ends() {
        // The event runs from t(600) to t(660); the door opens 2 h before.
        let not_open = Err(DomainError::CheckInNotOpen { session_starts_at: t(600) });
        for at in [t(479), t(660), t(900)] {
            let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
            assert_eq!(unit.check_in(&admin(), at, &policy()), not_open, "{at}");
            assert_eq!(unit.reservation.status, ReservationStatus::Confirmed);
            assert_eq!(unit.effects, Effects::default());
        }
        checked_in(ReservationStatus::Confirmed, t(480));
        checked_in(ReservationStatus::Confirmed, t(659));
        let early_door = Policy { check_in_opens_before: Duration::minutes(30), ..policy() };
        let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
        assert_eq!(unit.check_in(&admin(), t(569), &early_door), not_open);
        unit.check_in(&admin(), t(570), &early_door).unwrap();
    }

    #[test]
    fn the_door_of_an_auction_slot_closes_when_its_session_ends() {
        // The session is at t(180) and lasts its `session_minutes`.
        let auction = auction();
        let ends = auction.details.session_ends_at();
        assert_eq!(ends, t(180) + Duration::minutes(auction.details.session_minutes));
        let booking = slot(ReservationStatus::Confirmed, "450.00", t(65));
        let not_open = Err(DomainError::CheckInNotOpen { session_starts_at: t(180) });
        for at in [t(59), ends] {
            let mut unit = slot_unit(booking.clone(), AuctionStatus::Sold);
            assert_eq!(unit.check_in(&admin(), at, &policy()), not_open, "{at}");
        }
        for at in [t(60), ends - Duration::microseconds(1)] {
            slot_unit(booking.clone(), AuctionStatus::Sold).check_in(&admin(), at, &policy()).unwrap();
        }
    }

    #[test]
    fn a_no_show_latecomer_may_still_be_checked_in() {
        let unit = checked_in(ReservationStatus::NoShow, t(640));
        assert_eq!(parent_event(&unit).seats.confirmed_seats, 2);
    }

    #[test]
    fn checking_in_an_auction_booking_leaves_the_auction_sold_and_quiet() {
        let mut unit = slot_unit(slot(ReservationStatus::Confirmed, "450.00", t(65)), AuctionStatus::Sold);
        unit.check_in(&admin(), t(180), &policy()).unwrap();
        assert_eq!(parent_auction(&unit).stored_status, AuctionStatus::Sold);
        assert_eq!(emitted(&unit.effects), user_rooms(HOLDER, EventKind::ReservationCheckedIn));
    }

    #[test]
    fn a_hold_cannot_be_checked_in() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(605));
        let refused = Err(DomainError::InvalidState(ReservationStatus::Hold));
        assert_eq!(unit.check_in(&admin(), t(600), &policy()), refused);
        assert_eq!(unit.check_in(&admin(), t(1), &policy()), refused, "a hold is refused as one, door open or not");
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn a_booking_is_reminded_once_inside_the_window_before_its_session() {
        use crate::mail::MailKind;

        let mut unit = seats_unit(ReservationStatus::Confirmed, t(5));
        assert!(!unit.remind(t(419), &policy()), "more than three hours ahead");
        assert!(unit.effects.mail.is_empty());
        assert!(unit.remind(t(420), &policy()));
        let [mail] = &unit.effects.mail[..] else { panic!("{:?}", unit.effects.mail) };
        let reminder = (mail.recipient.user(), mail.notice.kind(), mail.notice.cause());
        assert_eq!(reminder, (Some(HOLDER), MailKind::BookingReminder, "reservation:7".to_owned()));
        assert!(unit.effects.events.is_empty() && unit.effects.reservations.is_empty(), "nothing else changes");
        assert!(!seats_unit(ReservationStatus::Confirmed, t(5)).remind(t(600), &policy()), "started");
        assert!(!seats_unit(ReservationStatus::Cancelled, t(5)).remind(t(500), &policy()), "cancelled");
        assert!(!seats_unit(ReservationStatus::Hold, t(505)).remind(t(500), &policy()), "a hold is no booking");
    }
}
