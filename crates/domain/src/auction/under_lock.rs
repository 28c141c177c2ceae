//! An auction under its row lock: grabbing, turbo, edits, cancellation and
//! the changes time alone brings.

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::auction::{Auction, AuctionDetails, AuctionSnapshot, AuctionStatus};
use crate::audit::{AUCTION_FIELDS, AuctionCancelled, AuditedReservation, Changes, Facts, TurboStarted};
use crate::booking_code::BookingCode;
use crate::domain_events::{AuditDetails, Payload, Room};
use crate::error::DomainError;
use crate::ids::{ReservationId, UserId};
use crate::mail::Notice;
use crate::reservation::{CancelledBy, Reservation, ReservationStatus, ReservationTarget};
use crate::unit_of_work::{Effects, Policy};

/// An auction under its row lock, with its live reservation (also locked).
#[derive(Debug, Clone)]
pub struct AuctionUnit {
    pub auction: Auction,
    /// The reservation in HOLD (even if lapsed), CONFIRMED, CHECKED_IN or NO_SHOW, if any.
    pub live: Option<Reservation>,
    /// Users whose reservation on this auction ended unused (they may not grab again).
    pub ended_holders: Vec<UserId>,
    /// The id a reservation created by this decision takes.
    pub next_reservation_id: ReservationId,
    pub effects: Effects,
}

impl AuctionUnit {
    /// Records what the actor did to the auction.
    fn audit(&mut self, actor: &Actor, details: &AuditDetails) {
        self.effects.audit(actor, Some(self.auction.studio_id), self.auction.id.to_string(), details);
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> AuctionStatus {
        self.auction.status_at(self.live.as_ref(), now)
    }

    fn rooms(&self) -> [Room; 2] {
        [Room::Auction(self.auction.id), Room::Studio(self.auction.studio_id)]
    }

    /// Tells the auction's rooms what became of it.
    fn announce(&mut self, payload: fn(AuctionSnapshot) -> Payload, now: DateTime<Utc>) {
        let snapshot = self.auction.snapshot(self.live.as_ref(), now);
        let rooms = self.rooms();
        self.effects.emit(&rooms, payload(snapshot));
    }

    /// Records the status that follows from time and reservation state.
    fn settle_status(&mut self, now: DateTime<Utc>) {
        self.auction.stored_status = self.status_at(now);
    }

    /// Expires the auction's lapsed hold, if it has one. The auction reopens
    /// (or ends, past `ends_at`) at whatever its schedule says for `now`.
    pub fn expire_lapsed_hold(&mut self, now: DateTime<Utc>) -> bool {
        let Some(mut hold) = self.live.take_if(|r| r.status == ReservationStatus::Hold && r.expires_at <= now) else {
            return false;
        };
        hold.expire(now).expect("a lapsed hold expires");
        self.effects.save(&hold);
        self.effects.reservation_event(&hold, Payload::ReservationExpired, now);
        self.ended_holders.push(hold.user_id);
        self.settle_status(now);
        self.reopen_or_close(now);
        true
    }

    /// Announces the auction after its reservation went away.
    fn reopen_or_close(&mut self, now: DateTime<Utc>) {
        if self.status_at(now) == AuctionStatus::Active {
            self.announce(Payload::AuctionReopened, now);
        } else {
            self.announce(Payload::AuctionUpdated, now);
        }
    }

    /// Grabs the slot at the price of `now`: a HOLD, or a booking under the
    /// given code when `confirm_with` is set (one-tap "grab now").
    pub fn grab(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
        policy: &Policy,
        confirm_with: Option<BookingCode>,
    ) -> Result<Reservation, DomainError> {
        match self.status_at(now) {
            AuctionStatus::Active => {}
            AuctionStatus::Held => return Err(DomainError::AuctionOnHold),
            AuctionStatus::Sold => return Err(DomainError::AuctionAlreadyBooked),
            AuctionStatus::Draft => return Err(DomainError::AuctionNotStarted),
            AuctionStatus::Expired | AuctionStatus::Cancelled => return Err(DomainError::AuctionClosed),
        }
        if self.ended_holders.contains(&user) {
            return Err(DomainError::RegrabNotAllowed);
        }
        let price = self.auction.price_at(now);
        let mut reservation = Reservation {
            id: self.next_reservation_id,
            user_id: user,
            studio_id: self.auction.studio_id,
            target: ReservationTarget::Auction(self.auction.id),
            status: ReservationStatus::Hold,
            quantity: 1,
            unit_price: price,
            total_price: price,
            expires_at: self.auction.hold_expiry(now, policy.hold_ttl),
            booking_code: None,
            created_at: now,
            confirmed_at: None,
            checked_in_at: None,
            cancelled_at: None,
            payment: Default::default(),
        };
        self.live = Some(reservation.clone());
        self.settle_status(now);
        self.effects.reservation_event(&reservation, Payload::HoldCreated, now);
        self.announce(Payload::AuctionHeld, now);
        if let Some(code) = confirm_with {
            reservation.confirm(now, code)?;
            self.live = Some(reservation.clone());
            self.settle_status(now);
            self.effects.reservation_event(&reservation, Payload::BookingConfirmed, now);
            self.announce(Payload::AuctionBooked, now);
        }
        self.effects.save(&reservation);
        Ok(reservation)
    }

    /// Starts turbo now, ahead of its automatic start. Never raises the price.
    pub fn trigger_turbo(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<(), DomainError> {
        if !matches!(self.status_at(now), AuctionStatus::Active | AuctionStatus::Held)
            || self.auction.schedule().turbo().is_none()
        {
            return Err(DomainError::TurboNotAvailable);
        }
        if self.auction.turbo_active_at(now) {
            return Err(DomainError::TurboAlreadyActive);
        }
        let price = self.auction.price_at(now);
        self.auction.turbo_started_at = Some(now);
        self.auction.turbo_announced = true;
        self.announce(Payload::TurboTriggered, now);
        let details = AuditDetails::AuctionTurbo(TurboStarted { title: self.auction.details.title.clone(), price });
        self.audit(actor, &details);
        Ok(())
    }

    /// Replaces the auction's details; only while it is a DRAFT.
    pub fn update(&mut self, actor: &Actor, details: AuctionDetails, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status_at(now) != AuctionStatus::Draft {
            return Err(DomainError::AuctionNotEditable);
        }
        let before = self.auction.snapshot(self.live.as_ref(), now);
        self.auction.details = details;
        self.settle_status(now);
        self.announce(Payload::AuctionUpdated, now);
        let after = self.auction.snapshot(self.live.as_ref(), now);
        let changes = AuditDetails::AuctionUpdate(Changes::between(&before, &after, AUCTION_FIELDS));
        self.audit(actor, &changes);
        Ok(())
    }

    /// Cancels the auction and its live reservation; the holder is told.
    pub fn cancel(&mut self, actor: &Actor, now: DateTime<Utc>, policy: &Policy) -> Result<(), DomainError> {
        match self.status_at(now) {
            AuctionStatus::Cancelled => return Ok(()),
            AuctionStatus::Expired => return Err(DomainError::AuctionClosed),
            _ => {}
        }
        let previous_status = self.status_at(now);
        let mut cancelled_reservation = None;
        if let Some(mut reservation) = self.live.take_if(|r| r.is_live_at(now)) {
            cancelled_reservation = Some(AuditedReservation::of(&reservation, now));
            let was_booked = reservation.status.is_booked();
            reservation.cancel(now, CancelledBy::Studio, self.auction.details.scheduled_at, policy.cancel_cutoff)?;
            self.effects.save(&reservation);
            self.effects.reservation_event(&reservation, Payload::ReservationCancelled, now);
            if was_booked {
                self.effects.mail(reservation.user_id, Notice::session_cancelled(&reservation, now));
            }
        }
        self.auction.cancelled_at = Some(now);
        self.settle_status(now);
        self.announce(Payload::AuctionUpdated, now);
        let details = AuditDetails::AuctionCancel(AuctionCancelled {
            title: self.auction.details.title.clone(),
            previous_status,
            cancelled_reservation,
        });
        self.audit(actor, &details);
        Ok(())
    }

    /// Deletes the auction, which only one that no one ever reserved allows
    /// (otherwise its history would go with it: cancel it instead). Its rooms
    /// hear it deleted, as it was.
    pub fn delete(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.live.is_some() || !self.ended_holders.is_empty() {
            return Err(DomainError::AuctionHasReservations);
        }
        self.announce(Payload::AuctionDeleted, now);
        let facts = Facts::of_auction(&self.auction.snapshot(None, now));
        self.audit(actor, &AuditDetails::AuctionDelete(facts));
        self.auction.deleted_at = Some(now);
        Ok(())
    }

    /// Persists a status that time alone changed (DRAFT→ACTIVE, →EXPIRED,
    /// turbo start) and announces it once. Returns whether anything changed.
    pub fn settle(&mut self, now: DateTime<Utc>) -> bool {
        let mut changed = self.expire_lapsed_hold(now);
        let status = self.status_at(now);
        if status != self.auction.stored_status {
            self.settle_status(now);
            self.announce(Payload::AuctionUpdated, now);
            changed = true;
        }
        if !self.auction.turbo_announced
            && matches!(status, AuctionStatus::Active | AuctionStatus::Held)
            && self.auction.turbo_active_at(now)
        {
            self.auction.turbo_announced = true;
            self.announce(Payload::TurboTriggered, now);
            changed = true;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::auction::AuctionInput;
    use crate::auction::tests::{AUCTION, HOLDER, STUDIO, auction, auction_input, auction_without_turbo, m, slot};
    use crate::domain_events::AuditAction;
    use crate::domain_events::EventKind;
    use crate::reservation::tests::{code, t};
    use crate::unit_of_work::tests::{
        BUYER, NEW, STRANGER, admin, assert_emitted, auction_rooms, buyer_hold, count, emitted, policy, user_rooms,
    };

    fn auction_unit(live: Option<Reservation>) -> AuctionUnit {
        AuctionUnit {
            auction: auction(),
            live,
            ended_holders: Vec::new(),
            next_reservation_id: NEW,
            effects: Effects::default(),
        }
    }

    /// The auction held by [`HOLDER`] at 500.00 until t(15).
    fn held_unit() -> AuctionUnit {
        let mut unit = auction_unit(Some(slot(ReservationStatus::Hold, "500.00", t(15))));
        unit.auction.stored_status = AuctionStatus::Held;
        unit
    }

    /// The auction booked by [`HOLDER`] at 450.00.
    fn sold_unit() -> AuctionUnit {
        let mut unit = auction_unit(Some(slot(ReservationStatus::Confirmed, "450.00", t(65))));
        unit.auction.stored_status = AuctionStatus::Sold;
        unit
    }

    fn cancelled_unit() -> AuctionUnit {
        let mut unit = auction_unit(None);
        unit.auction.cancelled_at = Some(t(5));
        unit.auction.stored_status = AuctionStatus::Cancelled;
        unit
    }

    fn assert_grab_refused(mut unit: AuctionUnit, now: DateTime<Utc>, expected: DomainError) {
        let before_live = unit.live.clone();
        let before_auction = unit.auction.clone();
        assert_eq!(unit.grab(BUYER, now, &policy(), None), Err(expected.clone()), "at {now}");
        assert_eq!(unit.live, before_live, "{expected:?} changed the live reservation");
        assert_eq!(unit.auction, before_auction, "{expected:?} changed the auction");
        assert_eq!(unit.effects, Effects::default(), "{expected:?} had effects");
    }

    #[test]
    fn an_auction_no_one_reserved_is_deleted_and_its_rooms_told() {
        for unit in [auction_unit(None), cancelled_unit()] {
            let mut unit = unit;
            unit.delete(&admin(), t(10)).unwrap();
            assert_eq!(unit.auction.deleted_at, Some(t(10)));
            assert_eq!(emitted(&unit.effects), auction_rooms(EventKind::AuctionDeleted));
            assert_eq!(unit.effects.events[0].data["id"], AUCTION.0);
            let [entry] = unit.effects.audit.as_slice() else { panic!("{:?}", unit.effects.audit) };
            assert_eq!((entry.action, entry.target.as_str()), (AuditAction::AuctionDelete, "auction:1"));
            assert_eq!(entry.details["title"], "Sunrise yoga");
        }
    }

    #[test]
    fn an_auction_anyone_ever_reserved_is_not_deleted() {
        let mut lapsed = auction_unit(None);
        lapsed.ended_holders.push(BUYER);
        for mut unit in [held_unit(), sold_unit(), lapsed] {
            assert_eq!(unit.delete(&admin(), t(70)), Err(DomainError::AuctionHasReservations));
            assert_eq!(unit.auction.deleted_at, None);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn grab_is_refused_while_someone_holds_the_auction() {
        assert_grab_refused(held_unit(), t(10), DomainError::AuctionOnHold);
    }

    #[test]
    fn grab_is_refused_once_the_auction_is_sold() {
        assert_grab_refused(sold_unit(), t(70), DomainError::AuctionAlreadyBooked);
        assert_grab_refused(sold_unit(), t(130), DomainError::AuctionAlreadyBooked);
    }

    #[test]
    fn grab_is_refused_before_the_auction_starts() {
        assert_grab_refused(auction_unit(None), t(-1), DomainError::AuctionNotStarted);
    }

    #[test]
    fn grab_is_refused_from_ends_at_even_if_the_stored_status_says_active() {
        for now in [t(120), t(121), t(500)] {
            let mut unit = auction_unit(None);
            unit.auction.stored_status = AuctionStatus::Active;
            assert_grab_refused(unit, now, DomainError::AuctionClosed);
        }
    }

    #[test]
    fn grab_is_refused_on_a_cancelled_auction() {
        assert_grab_refused(cancelled_unit(), t(10), DomainError::AuctionClosed);
    }

    #[test]
    fn regrab_is_refused_to_a_former_holder_of_an_active_auction() {
        let mut unit = auction_unit(None);
        unit.ended_holders.push(BUYER);
        assert_grab_refused(unit.clone(), t(10), DomainError::RegrabNotAllowed);
        // Anyone else may still grab it.
        assert!(unit.grab(STRANGER, t(10), &policy(), None).is_ok());
    }

    #[test]
    fn regrab_is_checked_only_after_the_state_checks() {
        let with_former_holder = |mut unit: AuctionUnit| {
            unit.ended_holders.push(BUYER);
            unit
        };
        assert_grab_refused(with_former_holder(held_unit()), t(10), DomainError::AuctionOnHold);
        assert_grab_refused(with_former_holder(sold_unit()), t(70), DomainError::AuctionAlreadyBooked);
        assert_grab_refused(with_former_holder(auction_unit(None)), t(-1), DomainError::AuctionNotStarted);
        assert_grab_refused(with_former_holder(auction_unit(None)), t(120), DomainError::AuctionClosed);
        assert_grab_refused(with_former_holder(cancelled_unit()), t(10), DomainError::AuctionClosed);
    }

    #[test]
    fn grab_locks_the_price_of_now_in_a_hold() {
        let mut unit = started_unit();
        let hold = unit.grab(BUYER, t(61), &policy(), None).unwrap();
        assert_eq!(hold, buyer_hold(ReservationTarget::Auction(AUCTION), 1, m("450.00"), t(61), t(66)));
        assert_eq!(unit.live, Some(hold.clone()));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Held);
        assert_eq!(unit.status_at(t(65)), AuctionStatus::Held);
        assert_eq!(unit.effects.reservations, vec![hold]);
    }

    #[test]
    fn grab_tells_the_user_and_the_auction_rooms() {
        let mut unit = auction_unit(None);
        unit.grab(BUYER, t(61), &policy(), None).unwrap();
        assert_emitted(
            &unit.effects,
            &[user_rooms(BUYER, EventKind::HoldCreated), auction_rooms(EventKind::AuctionHeld)],
        );

        let held = &unit.effects.events[2].data;
        assert_eq!(held["status"], "HELD");
        assert_eq!(held["held_price"], "450.00");
        let created = &unit.effects.events[0].data;
        assert_eq!(created["status"], "HOLD");
        assert_eq!(created["unit_price"], "450.00");
        assert!(unit.effects.audit.is_empty());
    }

    #[test]
    fn grab_during_turbo_locks_the_turbo_price() {
        let mut unit = auction_unit(None);
        let hold = unit.grab(BUYER, t(101), &policy(), None).unwrap();
        assert_eq!(hold.unit_price, m("410.00"));
    }

    #[test]
    fn a_hold_taken_near_the_session_lapses_at_the_session() {
        let mut unit = auction_unit(None);
        let long_holds = Policy { hold_ttl: Duration::hours(2), ..policy() };
        let hold = unit.grab(BUYER, t(119), &long_holds, None).unwrap();
        assert_eq!(hold.expires_at, t(180));
    }

    #[test]
    fn grab_with_confirm_books_at_once() {
        let mut unit = auction_unit(None);
        let booking = unit.grab(BUYER, t(61), &policy(), Some(code())).unwrap();
        assert_eq!(booking.status, ReservationStatus::Confirmed);
        assert_eq!(booking.booking_code, Some(code()));
        assert_eq!(booking.confirmed_at, Some(t(61)));
        assert_eq!(booking.unit_price, m("450.00"));
        assert_eq!(unit.live, Some(booking.clone()));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Sold);
        assert_eq!(unit.effects.reservations, vec![booking]);

        assert_emitted(
            &unit.effects,
            &[
                user_rooms(BUYER, EventKind::HoldCreated),
                auction_rooms(EventKind::AuctionHeld),
                user_rooms(BUYER, EventKind::BookingConfirmed),
                auction_rooms(EventKind::AuctionBooked),
            ],
        );
        let booked = &unit.effects.events[6].data;
        assert_eq!(booked["status"], "SOLD");
        assert_eq!(booked["current_price"], "450.00");
        assert!(booked["next_price"].is_null());
    }

    #[test]
    fn expire_lapsed_hold_does_nothing_without_a_reservation() {
        let mut unit = auction_unit(None);
        assert!(!unit.expire_lapsed_hold(t(30)));
        assert_eq!(unit.effects, Effects::default());
        assert!(unit.ended_holders.is_empty());
    }

    #[test]
    fn expire_lapsed_hold_leaves_a_live_hold_alone() {
        let mut unit = held_unit();
        assert!(!unit.expire_lapsed_hold(t(15) - Duration::microseconds(1)));
        assert_eq!(unit.live, held_unit().live);
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn expire_lapsed_hold_leaves_a_booking_alone_after_its_hold_time() {
        let mut unit = sold_unit();
        assert!(!unit.expire_lapsed_hold(t(100)));
        assert_eq!(unit.live, sold_unit().live);
        assert_eq!(unit.auction.stored_status, AuctionStatus::Sold);
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn expire_lapsed_hold_expires_it_and_reopens_the_auction() {
        let mut unit = held_unit();
        assert!(unit.expire_lapsed_hold(t(15)));
        assert_eq!(unit.live, None);
        assert_eq!(unit.ended_holders, vec![HOLDER]);
        assert_eq!(unit.auction.stored_status, AuctionStatus::Active);
        let [expired] = unit.effects.reservations.as_slice() else { panic!("{:?}", unit.effects.reservations) };
        assert_eq!(expired.status, ReservationStatus::Expired);
        assert_eq!(expired.id, ReservationId(7));

        assert_emitted(
            &unit.effects,
            &[user_rooms(HOLDER, EventKind::ReservationExpired), auction_rooms(EventKind::AuctionReopened)],
        );
        assert_eq!(unit.effects.events[2].data["status"], "ACTIVE");
        assert!(unit.effects.events[2].data["held_price"].is_null());

        // The former holder may not grab again; someone else may.
        assert_eq!(unit.grab(HOLDER, t(16), &policy(), None), Err(DomainError::RegrabNotAllowed));
        assert!(unit.grab(BUYER, t(16), &policy(), None).is_ok());
    }

    #[test]
    fn a_hold_lapsing_after_ends_at_leaves_the_auction_expired() {
        let mut unit = auction_unit(Some(slot(ReservationStatus::Hold, "350.00", t(124))));
        unit.auction.stored_status = AuctionStatus::Held;
        assert!(unit.expire_lapsed_hold(t(125)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Expired);
        assert_eq!(count(&unit.effects, Room::Auction(AUCTION), EventKind::AuctionReopened), 0);
        assert_eq!(count(&unit.effects, Room::Auction(AUCTION), EventKind::AuctionUpdated), 1);
        assert_eq!(count(&unit.effects, Room::User(HOLDER), EventKind::ReservationExpired), 1);
    }

    #[test]
    fn turbo_is_not_available_without_a_turbo_configuration() {
        let mut unit = AuctionUnit { auction: auction_without_turbo(), ..auction_unit(None) };
        assert_eq!(unit.trigger_turbo(&admin(), t(10)), Err(DomainError::TurboNotAvailable));
        assert_eq!(unit.auction.turbo_started_at, None);
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn turbo_is_not_available_outside_active_and_held() {
        let cases = [
            (auction_unit(None), t(-10)),
            (auction_unit(None), t(120)),
            (sold_unit(), t(70)),
            (cancelled_unit(), t(10)),
        ];
        for (mut unit, now) in cases {
            assert_eq!(unit.trigger_turbo(&admin(), now), Err(DomainError::TurboNotAvailable), "at {now}");
            assert_eq!(unit.auction.turbo_started_at, None);
            assert!(!unit.auction.turbo_announced);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn turbo_may_be_triggered_early_on_an_active_auction() {
        let mut unit = auction_unit(None);
        unit.trigger_turbo(&admin(), t(70)).unwrap();
        assert_eq!(unit.auction.turbo_started_at, Some(t(70)));
        assert!(unit.auction.turbo_announced);
        assert!(unit.auction.turbo_active_at(t(70)));
        assert_eq!(unit.auction.price_at(t(70)), m("450.00"));
        assert_eq!(unit.auction.price_at(t(75)), m("430.00"));

        assert_eq!(emitted(&unit.effects), auction_rooms(EventKind::TurboTriggered));
        let data = &unit.effects.events[0].data;
        assert_eq!(data["turbo_active"], true);
        assert_eq!(data["current_price"], "450.00");
        assert_eq!(data["next_price"], "430.00");

        let [entry] = unit.effects.audit.as_slice() else { panic!("{:?}", unit.effects.audit) };
        assert_eq!(
            (entry.actor, entry.studio_id, entry.action),
            (admin().user_id, Some(STUDIO), AuditAction::AuctionTurbo)
        );
        assert_eq!(entry.target, "auction:1");
        assert_eq!(entry.details, serde_json::json!({ "title": "Sunrise yoga", "price": "450.00" }));
    }

    #[test]
    fn turbo_may_be_triggered_on_a_held_auction_without_touching_the_locked_price() {
        let mut unit = held_unit();
        unit.trigger_turbo(&admin(), t(10)).unwrap();
        assert_eq!(unit.auction.turbo_started_at, Some(t(10)));
        assert_eq!(unit.live.as_ref().map(|r| r.unit_price), Some(m("500.00")));
        let view = unit.auction.view(unit.live.as_ref(), t(10));
        assert_eq!(view.status, AuctionStatus::Held);
        assert_eq!(view.held_price, Some(m("500.00")));
        assert!(view.turbo_active);
    }

    #[test]
    fn triggering_turbo_never_changes_the_price_at_the_trigger_instant() {
        let instants = (0..90).map(t).chain([
            t(60) - Duration::microseconds(1),
            t(59) + Duration::seconds(59),
            t(89) + Duration::nanoseconds(1),
        ]);
        for now in instants {
            let mut unit = auction_unit(None);
            let before = unit.auction.price_at(now);
            unit.trigger_turbo(&admin(), now).unwrap();
            assert_eq!(unit.auction.price_at(now), before, "at {now}");
            assert!(unit.auction.price_at(now + Duration::minutes(5)) < before, "at {now}");
        }
    }

    #[test]
    fn turbo_cannot_be_triggered_twice() {
        let mut unit = auction_unit(None);
        unit.trigger_turbo(&admin(), t(70)).unwrap();
        let after_first = unit.clone();
        assert_eq!(unit.trigger_turbo(&admin(), t(71)), Err(DomainError::TurboAlreadyActive));
        assert_eq!(unit.auction, after_first.auction);
        assert_eq!(unit.effects, after_first.effects);
    }

    #[test]
    fn turbo_cannot_be_triggered_once_it_started_on_its_own() {
        for now in [t(90), t(100), t(119)] {
            let mut unit = auction_unit(None);
            assert_eq!(unit.trigger_turbo(&admin(), now), Err(DomainError::TurboAlreadyActive), "at {now}");
            assert_eq!(unit.auction.turbo_started_at, None);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn a_draft_may_be_updated() {
        let mut unit = auction_unit(None);
        let details = AuctionDetails::new(AuctionInput { title: "Evening yoga".into(), ..auction_input() }).unwrap();
        unit.update(&admin(), details.clone(), t(-10)).unwrap();
        assert_eq!(unit.auction.details, details);
        assert_eq!(unit.auction.stored_status, AuctionStatus::Draft);
        assert_eq!(emitted(&unit.effects), auction_rooms(EventKind::AuctionUpdated));
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, AuditAction::AuctionUpdate);
        assert_eq!(
            unit.effects.audit[0].details,
            serde_json::json!({ "changes": { "title": { "from": "Sunrise yoga", "to": "Evening yoga" } } })
        );
    }

    #[test]
    fn only_a_draft_may_be_updated() {
        let details = AuctionDetails::new(AuctionInput { title: "Evening yoga".into(), ..auction_input() }).unwrap();
        let cases = [
            (auction_unit(None), t(0)),
            (held_unit(), t(10)),
            (sold_unit(), t(70)),
            (auction_unit(None), t(120)),
            (cancelled_unit(), t(-10)),
        ];
        for (mut unit, now) in cases {
            let before = unit.auction.clone();
            assert_eq!(unit.update(&admin(), details.clone(), now), Err(DomainError::AuctionNotEditable), "at {now}");
            assert_eq!(unit.auction, before);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn cancelling_a_sold_auction_mails_its_booker_the_session_is_off_but_not_a_holder() {
        let mut sold = sold_unit();
        sold.cancel(&admin(), t(70), &policy()).unwrap();
        let [mail] = sold.effects.mail.as_slice() else { panic!("{:?}", sold.effects.mail) };
        assert_eq!(mail.recipient, HOLDER.into());
        let crate::mail::Notice::SessionCancelled { reservation } = &mail.notice else { panic!("{mail:?}") };
        assert_eq!(reservation.status, ReservationStatus::Cancelled);

        let mut held = held_unit();
        held.cancel(&admin(), t(10), &policy()).unwrap();
        assert!(held.effects.mail.is_empty());
    }

    #[test]
    fn cancelling_a_held_auction_cancels_the_hold_and_tells_the_holder() {
        let mut unit = held_unit();
        unit.cancel(&admin(), t(10), &policy()).unwrap();
        assert_eq!(unit.auction.cancelled_at, Some(t(10)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Cancelled);
        assert_eq!(unit.live, None);
        let [cancelled] = unit.effects.reservations.as_slice() else { panic!("{:?}", unit.effects.reservations) };
        assert_eq!(cancelled.status, ReservationStatus::Cancelled);
        assert_eq!(cancelled.cancelled_at, Some(t(10)));

        assert_emitted(
            &unit.effects,
            &[user_rooms(HOLDER, EventKind::ReservationCancelled), auction_rooms(EventKind::AuctionUpdated)],
        );
        assert_eq!(unit.effects.events[2].data["status"], "CANCELLED");
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, AuditAction::AuctionCancel);
        assert_eq!(unit.effects.audit[0].target, "auction:1");
        let details = &unit.effects.audit[0].details;
        assert_eq!((&details["title"], &details["previous_status"]), (&"Sunrise yoga".into(), &"HELD".into()));
        assert_eq!(details["cancelled_reservation"]["previous_status"], "HOLD");
        assert_eq!(details["cancelled_reservation"]["user_id"], HOLDER.0);
        assert_eq!(details["cancelled_reservation"]["total_price"], "500.00");
    }

    #[test]
    fn the_studio_may_cancel_a_sold_auction_even_past_the_owners_cut_off() {
        let mut unit = sold_unit();
        // Session at t(180), 2 h cut-off: the owner could no longer cancel at t(100).
        unit.cancel(&admin(), t(100), &policy()).unwrap();
        assert_eq!(unit.auction.stored_status, AuctionStatus::Cancelled);
        assert_eq!(unit.effects.reservations[0].status, ReservationStatus::Cancelled);
        assert_eq!(count(&unit.effects, Room::User(HOLDER), EventKind::ReservationCancelled), 1);
    }

    #[test]
    fn a_draft_or_active_auction_can_be_cancelled() {
        for now in [t(-10), t(10)] {
            let mut unit = auction_unit(None);
            unit.cancel(&admin(), now, &policy()).unwrap();
            assert_eq!(unit.status_at(now), AuctionStatus::Cancelled);
            assert!(unit.effects.reservations.is_empty());
            assert_eq!(emitted(&unit.effects), auction_rooms(EventKind::AuctionUpdated));
        }
    }

    #[test]
    fn cancelling_a_cancelled_auction_changes_nothing() {
        let mut unit = held_unit();
        unit.cancel(&admin(), t(10), &policy()).unwrap();
        let after_first = unit.clone();
        unit.cancel(&admin(), t(20), &policy()).unwrap();
        assert_eq!(unit.auction, after_first.auction);
        assert_eq!(unit.auction.cancelled_at, Some(t(10)));
        assert_eq!(unit.effects, after_first.effects);
    }

    #[test]
    fn an_expired_auction_cannot_be_cancelled() {
        let mut unit = auction_unit(None);
        assert_eq!(unit.cancel(&admin(), t(120), &policy()), Err(DomainError::AuctionClosed));
        assert_eq!(unit.auction.cancelled_at, None);
        assert_eq!(unit.effects, Effects::default());
    }

    /// The example auction as a job left it once it started (ACTIVE).
    fn started_unit() -> AuctionUnit {
        let mut unit = auction_unit(None);
        unit.auction.stored_status = AuctionStatus::Active;
        unit
    }

    #[test]
    fn settle_does_nothing_while_nothing_changed() {
        let mut unit = auction_unit(None);
        assert!(!unit.settle(t(-5)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Draft);
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn settle_persists_the_start_once() {
        let mut unit = auction_unit(None);
        assert!(unit.settle(t(0)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Active);
        assert_eq!(emitted(&unit.effects), auction_rooms(EventKind::AuctionUpdated));
        assert_eq!(unit.effects.events[0].data["status"], "ACTIVE");

        assert!(!unit.settle(t(1)));
        assert_eq!(unit.effects.events.len(), 2);
    }

    #[test]
    fn settle_persists_the_end_once() {
        let mut unit = started_unit();
        assert!(unit.settle(t(120)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Expired);
        assert_eq!(emitted(&unit.effects), auction_rooms(EventKind::AuctionUpdated));
        assert_eq!(unit.effects.events[0].data["status"], "EXPIRED");
        // Turbo was never announced while it ran, and no longer is.
        assert!(!unit.auction.turbo_announced);

        assert!(!unit.settle(t(121)));
        assert_eq!(unit.effects.events.len(), 2);
    }

    #[test]
    fn settle_announces_the_automatic_turbo_start_once() {
        let mut unit = started_unit();
        assert!(!unit.settle(t(90) - Duration::microseconds(1)));
        assert!(unit.settle(t(90)));
        assert!(unit.auction.turbo_announced);
        assert_eq!(emitted(&unit.effects), auction_rooms(EventKind::TurboTriggered));

        assert!(!unit.settle(t(91)));
        assert!(!unit.settle(t(100)));
        assert_eq!(unit.effects.events.len(), 2);
    }

    #[test]
    fn settle_does_not_announce_a_triggered_turbo_again() {
        let mut unit = started_unit();
        unit.trigger_turbo(&admin(), t(70)).unwrap();
        let announced = count(&unit.effects, Room::Auction(AUCTION), EventKind::TurboTriggered);
        assert!(!unit.settle(t(71)));
        assert!(!unit.settle(t(95)));
        assert_eq!(count(&unit.effects, Room::Auction(AUCTION), EventKind::TurboTriggered), announced);
    }

    #[test]
    fn settle_persists_both_the_start_and_the_turbo_when_late() {
        let mut unit = auction_unit(None);
        assert!(unit.settle(t(95)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Active);
        assert_emitted(
            &unit.effects,
            &[auction_rooms(EventKind::AuctionUpdated), auction_rooms(EventKind::TurboTriggered)],
        );
        assert!(!unit.settle(t(96)));
    }

    #[test]
    fn settle_expires_a_lapsed_hold_and_reopens_once() {
        let mut unit = held_unit();
        assert!(unit.settle(t(15)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Active);
        assert_eq!(unit.live, None);
        assert_emitted(
            &unit.effects,
            &[user_rooms(HOLDER, EventKind::ReservationExpired), auction_rooms(EventKind::AuctionReopened)],
        );
        assert!(!unit.settle(t(16)));
    }
}
