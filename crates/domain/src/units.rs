//! Units of work: what a use case sees and changes while its parent row is
//! locked. An adapter loads a unit under the lock, hands it to a synchronous
//! decision, then persists what the decision changed (the parent row, the
//! reservations in [`Effects::reservations`]), the events and the audit
//! entries, and commits.

use chrono::{DateTime, Duration, Utc};

use crate::actor::Actor;
use crate::auction::{Auction, AuctionDetails, AuctionStatus};
use crate::booking_code::BookingCode;
use crate::error::DomainError;
use crate::event::{Event, EventDetails};
use crate::events::{AuditEntry, DomainEvent, EventKind, Room};
use crate::ids::{ReservationId, UserId};
use crate::reservation::{CancelledBy, Reservation, ReservationStatus, ReservationTarget, Transition};

/// What a decision changed besides its parent row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// New or changed reservations, the last version of each, to upsert in order.
    pub reservations: Vec<Reservation>,
    pub events: Vec<DomainEvent>,
    pub audit: Vec<AuditEntry>,
}

impl Effects {
    pub fn save(&mut self, reservation: &Reservation) {
        match self.reservations.iter_mut().find(|r| r.id == reservation.id) {
            Some(saved) => *saved = reservation.clone(),
            None => self.reservations.push(reservation.clone()),
        }
    }

    pub fn emit(&mut self, rooms: &[Room], kind: EventKind, data: serde_json::Value) {
        for room in rooms {
            self.events.push(DomainEvent::new(*room, kind, data.clone()));
        }
    }

    pub fn audit(
        &mut self,
        actor: &Actor,
        studio: Option<crate::ids::StudioId>,
        action: &'static str,
        target: String,
        details: serde_json::Value,
    ) {
        self.audit.push(AuditEntry { actor: actor.user_id, studio_id: studio, action, target, details });
    }

    fn reservation_event(&mut self, reservation: &Reservation, kind: EventKind, now: DateTime<Utc>) {
        let rooms = [Room::User(reservation.user_id), Room::Studio(reservation.studio_id)];
        self.emit(&rooms, kind, reservation.to_json(now));
    }
}

/// Rules on reservations that hold for every parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a hold lasts before it must be confirmed.
    pub hold_ttl: Duration,
    /// The most seats one hold may take.
    pub max_seats_per_hold: u32,
    /// Until how long before the session an owner may cancel a booking.
    pub cancel_cutoff: Duration,
    /// How long after the session starts an unchecked booking becomes NO_SHOW.
    pub no_show_grace: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            hold_ttl: Duration::minutes(5),
            max_seats_per_hold: 10,
            cancel_cutoff: Duration::hours(2),
            no_show_grace: Duration::minutes(15),
        }
    }
}

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
    pub fn status_at(&self, now: DateTime<Utc>) -> AuctionStatus {
        self.auction.status_at(self.live.as_ref(), now)
    }

    fn rooms(&self) -> [Room; 2] {
        [Room::Auction(self.auction.id), Room::Studio(self.auction.studio_id)]
    }

    fn announce(&mut self, kind: EventKind, now: DateTime<Utc>) {
        let data = self.auction.to_json(self.live.as_ref(), now);
        let rooms = self.rooms();
        self.effects.emit(&rooms, kind, data);
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
        self.effects.reservation_event(&hold, EventKind::ReservationExpired, now);
        self.ended_holders.push(hold.user_id);
        self.settle_status(now);
        self.reopen_or_close(now);
        true
    }

    /// Announces the auction after its reservation went away.
    fn reopen_or_close(&mut self, now: DateTime<Utc>) {
        let kind = if self.status_at(now) == AuctionStatus::Active {
            EventKind::AuctionReopened
        } else {
            EventKind::AuctionUpdated
        };
        self.announce(kind, now);
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
        };
        self.live = Some(reservation.clone());
        self.settle_status(now);
        self.effects.reservation_event(&reservation, EventKind::HoldCreated, now);
        self.announce(EventKind::AuctionHeld, now);
        if let Some(code) = confirm_with {
            reservation.confirm(now, code)?;
            self.live = Some(reservation.clone());
            self.settle_status(now);
            self.effects.reservation_event(&reservation, EventKind::BookingConfirmed, now);
            self.announce(EventKind::AuctionBooked, now);
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
        self.auction.turbo_started_at = Some(now);
        self.auction.turbo_announced = true;
        self.announce(EventKind::TurboTriggered, now);
        self.effects.audit(
            actor,
            Some(self.auction.studio_id),
            "auction.turbo",
            self.auction.id.to_string(),
            serde_json::json!({}),
        );
        Ok(())
    }

    /// Replaces the auction's details; only while it is a DRAFT.
    pub fn update(&mut self, actor: &Actor, details: AuctionDetails, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status_at(now) != AuctionStatus::Draft {
            return Err(DomainError::AuctionNotEditable);
        }
        self.auction.details = details;
        self.settle_status(now);
        self.announce(EventKind::AuctionUpdated, now);
        self.effects.audit(
            actor,
            Some(self.auction.studio_id),
            "auction.update",
            self.auction.id.to_string(),
            serde_json::json!({}),
        );
        Ok(())
    }

    /// Cancels the auction and its live reservation; the holder is told.
    pub fn cancel(&mut self, actor: &Actor, now: DateTime<Utc>, policy: &Policy) -> Result<(), DomainError> {
        match self.status_at(now) {
            AuctionStatus::Cancelled => return Ok(()),
            AuctionStatus::Expired => return Err(DomainError::AuctionClosed),
            _ => {}
        }
        if let Some(mut reservation) = self.live.take_if(|r| r.is_live_at(now)) {
            reservation.cancel(now, CancelledBy::Studio, self.auction.details.scheduled_at, policy.cancel_cutoff)?;
            self.effects.save(&reservation);
            self.effects.reservation_event(&reservation, EventKind::ReservationCancelled, now);
        }
        self.auction.cancelled_at = Some(now);
        self.settle_status(now);
        self.announce(EventKind::AuctionUpdated, now);
        self.effects.audit(
            actor,
            Some(self.auction.studio_id),
            "auction.cancel",
            self.auction.id.to_string(),
            serde_json::json!({}),
        );
        Ok(())
    }

    /// Persists a status that time alone changed (DRAFT→ACTIVE, →EXPIRED,
    /// turbo start) and announces it once. Returns whether anything changed.
    pub fn settle(&mut self, now: DateTime<Utc>) -> bool {
        let mut changed = self.expire_lapsed_hold(now);
        let status = self.status_at(now);
        if status != self.auction.stored_status {
            self.settle_status(now);
            self.announce(EventKind::AuctionUpdated, now);
            changed = true;
        }
        if !self.auction.turbo_announced
            && matches!(status, AuctionStatus::Active | AuctionStatus::Held)
            && self.auction.turbo_active_at(now)
        {
            self.auction.turbo_announced = true;
            self.announce(EventKind::TurboTriggered, now);
            changed = true;
        }
        changed
    }
}

/// An event under its row lock, with its lapsed holds (locked) and whether
/// the requesting user already holds seats.
#[derive(Debug, Clone)]
pub struct EventUnit {
    pub event: Event,
    /// Stored HOLDs with `expires_at <= now`: they no longer count.
    pub lapsed_holds: Vec<Reservation>,
    /// The requesting user's live hold on this event, if any.
    pub user_live_hold: Option<ReservationId>,
    pub next_reservation_id: ReservationId,
    pub effects: Effects,
}

impl EventUnit {
    fn announce_availability(&mut self) {
        let data = self.event.to_json(self.event.availability(0, 0));
        self.effects.emit(
            &[Room::Event(self.event.id), Room::Studio(self.event.studio_id)],
            EventKind::AvailabilityChanged,
            data,
        );
    }

    /// Expires every lapsed hold, freeing its seats. Returns how many.
    pub fn expire_lapsed_holds(&mut self, now: DateTime<Utc>) -> usize {
        let lapsed = std::mem::take(&mut self.lapsed_holds);
        let count = lapsed.len();
        for mut hold in lapsed {
            if hold.expire(now).is_ok() {
                self.event.account(ReservationStatus::Hold, &hold);
                self.effects.save(&hold);
                self.effects.reservation_event(&hold, EventKind::ReservationExpired, now);
            }
        }
        if count > 0 {
            self.announce_availability();
        }
        count
    }

    /// Holds `quantity` seats for `user` at the event's price.
    pub fn place_hold(
        &mut self,
        user: UserId,
        quantity: i64,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Reservation, DomainError> {
        if self.event.is_deleted() {
            return Err(DomainError::NotFound("event"));
        }
        if quantity < 1 || quantity > i64::from(policy.max_seats_per_hold) {
            return Err(DomainError::validation(
                "quantity",
                &format!("must be between 1 and {}", policy.max_seats_per_hold),
            ));
        }
        let quantity = quantity as u32;
        if !self.event.details.is_active || now >= self.event.details.starts_at {
            return Err(DomainError::EventNotOpen);
        }
        if self.user_live_hold.is_some() {
            return Err(DomainError::HoldAlreadyExists);
        }
        let available = self.event.available();
        if available < quantity {
            return Err(DomainError::InsufficientCapacity { available });
        }
        let unit_price = self.event.details.price;
        let total_price = unit_price
            .checked_mul(i64::from(quantity))
            .ok_or_else(|| DomainError::validation("quantity", "the total price is too large"))?;
        let reservation = Reservation {
            id: self.next_reservation_id,
            user_id: user,
            studio_id: self.event.studio_id,
            target: ReservationTarget::Event(self.event.id),
            status: ReservationStatus::Hold,
            quantity,
            unit_price,
            total_price,
            expires_at: (now + policy.hold_ttl).min(self.event.details.starts_at),
            booking_code: None,
            created_at: now,
            confirmed_at: None,
            checked_in_at: None,
            cancelled_at: None,
        };
        self.event.account_new(&reservation);
        self.user_live_hold = Some(reservation.id);
        self.effects.save(&reservation);
        self.effects.reservation_event(&reservation, EventKind::HoldCreated, now);
        self.announce_availability();
        Ok(reservation)
    }

    /// Replaces the event's details; capacity may not drop below the seats
    /// reserved now.
    pub fn update(&mut self, actor: &Actor, details: EventDetails) -> Result<(), DomainError> {
        if self.event.is_deleted() {
            return Err(DomainError::NotFound("event"));
        }
        let reserved = self.event.seats.taken();
        if details.capacity < reserved {
            return Err(DomainError::CapacityBelowReserved { reserved });
        }
        let capacity_changed = details.capacity != self.event.details.capacity;
        self.event.details = details;
        if capacity_changed {
            self.announce_availability();
        }
        self.effects.audit(
            actor,
            Some(self.event.studio_id),
            "event.update",
            self.event.id.to_string(),
            serde_json::json!({}),
        );
        Ok(())
    }

    /// Removes the event from the catalogue; refused while anyone holds or booked seats.
    pub fn delete(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.event.is_deleted() {
            return Err(DomainError::NotFound("event"));
        }
        if self.event.seats.taken() > 0 {
            return Err(DomainError::EventHasReservations);
        }
        self.event.deleted_at = Some(now);
        self.effects.audit(
            actor,
            Some(self.event.studio_id),
            "event.delete",
            self.event.id.to_string(),
            serde_json::json!({}),
        );
        Ok(())
    }
}

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
    Confirmed(Reservation),
    Expired,
}

/// One reservation under its parent's lock and its own.
#[derive(Debug, Clone)]
pub struct ReservationUnit {
    pub reservation: Reservation,
    pub parent: Parent,
    pub effects: Effects,
}

impl ReservationUnit {
    fn session_at(&self) -> DateTime<Utc> {
        match &self.parent {
            Parent::Auction(auction) => auction.details.scheduled_at,
            Parent::Event(event) => event.details.starts_at,
        }
    }

    /// Applies the reservation's change from `before` to the parent and tells everyone.
    fn follow_up(&mut self, before: ReservationStatus, kind: EventKind, now: DateTime<Utc>) {
        let reservation = self.reservation.clone();
        self.effects.save(&reservation);
        self.effects.reservation_event(&reservation, kind, now);
        match &mut self.parent {
            Parent::Auction(auction) => {
                let live = Some(&reservation).filter(|r| r.is_live_at(now));
                let status = auction.status_at(live, now);
                let changed = status != auction.stored_status;
                auction.stored_status = status;
                let auction_kind = match status {
                    AuctionStatus::Sold if before == ReservationStatus::Hold => Some(EventKind::AuctionBooked),
                    AuctionStatus::Active => Some(EventKind::AuctionReopened),
                    _ if changed => Some(EventKind::AuctionUpdated),
                    _ => None,
                };
                if let Some(auction_kind) = auction_kind {
                    let data = auction.to_json(live, now);
                    let rooms = [Room::Auction(auction.id), Room::Studio(auction.studio_id)];
                    self.effects.emit(&rooms, auction_kind, data);
                }
            }
            Parent::Event(event) => {
                event.account(before, &reservation);
                let data = event.to_json(event.availability(0, 0));
                let rooms = [Room::Event(event.id), Room::Studio(event.studio_id)];
                self.effects.emit(&rooms, EventKind::AvailabilityChanged, data);
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
                self.follow_up(before, EventKind::BookingConfirmed, now);
                Ok(ConfirmOutcome::Confirmed(self.reservation.clone()))
            }
            Ok(Transition::Unchanged) => Ok(ConfirmOutcome::Confirmed(self.reservation.clone())),
            Err(crate::reservation::ConfirmError::HoldExpired)
                if self.reservation.status == ReservationStatus::Hold =>
            {
                self.expire(now)?;
                Ok(ConfirmOutcome::Expired)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Expires the reservation if it is a lapsed hold.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        let before = self.reservation.status;
        self.reservation.expire(now).map_err(|_| DomainError::InvalidState(self.reservation.status_at(now)))?;
        self.follow_up(before, EventKind::ReservationExpired, now);
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
        self.reservation.cancel(now, by, self.session_at(), policy.cancel_cutoff)?;
        self.follow_up(before, EventKind::ReservationCancelled, now);
        if by == CancelledBy::Studio {
            self.effects.audit(
                actor,
                Some(self.reservation.studio_id),
                "reservation.cancel",
                self.reservation.id.to_string(),
                serde_json::json!({}),
            );
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
        self.follow_up(before, EventKind::ReservationNoShow, now);
        true
    }

    /// Checks the booking in at the studio's door.
    pub fn check_in(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<(), DomainError> {
        if !actor.manages(self.reservation.studio_id) {
            return Err(DomainError::NotFound("booking"));
        }
        let before = self.reservation.status;
        if self.reservation.check_in(now)? == Transition::Changed {
            self.follow_up(before, EventKind::ReservationCheckedIn, now);
            self.effects.audit(
                actor,
                Some(self.reservation.studio_id),
                "reservation.check_in",
                self.reservation.id.to_string(),
                serde_json::json!({}),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::AuctionInput;
    use crate::auction::tests::{HOLDER, STUDIO, auction, auction_input, auction_without_turbo, m, slot};
    use crate::event::SeatCounts;
    use crate::ids::{AuctionId, EventId, StudioId};
    use crate::money::Money;
    use crate::reservation::tests::{code, t};

    const AUCTION: AuctionId = AuctionId(1);
    const EVENT: EventId = EventId(3);
    /// The id of the reservation a decision creates.
    const NEW: ReservationId = ReservationId(100);
    const BUYER: UserId = UserId(10);
    const STRANGER: UserId = UserId(11);

    fn policy() -> Policy {
        Policy::default()
    }

    fn admin() -> Actor {
        Actor::studio_admin(UserId(90), STUDIO)
    }

    fn other_studio_admin() -> Actor {
        Actor::studio_admin(UserId(91), StudioId(2))
    }

    /// Who got what, in order.
    fn emitted(effects: &Effects) -> Vec<(Room, EventKind)> {
        effects.events.iter().map(|event| (event.room, event.kind)).collect()
    }

    fn count(effects: &Effects, room: Room, kind: EventKind) -> usize {
        effects.events.iter().filter(|event| event.room == room && event.kind == kind).count()
    }

    fn auction_rooms(kind: EventKind) -> [(Room, EventKind); 2] {
        [(Room::Auction(AUCTION), kind), (Room::Studio(STUDIO), kind)]
    }

    fn user_rooms(user: UserId, kind: EventKind) -> [(Room, EventKind); 2] {
        [(Room::User(user), kind), (Room::Studio(STUDIO), kind)]
    }

    fn event_rooms(kind: EventKind) -> [(Room, EventKind); 2] {
        [(Room::Event(EVENT), kind), (Room::Studio(STUDIO), kind)]
    }

    // --- AuctionUnit -----------------------------------------------------

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
        let mut unit = auction_unit(None);
        unit.auction.stored_status = AuctionStatus::Active;
        let hold = unit.grab(BUYER, t(61), &policy(), None).unwrap();
        assert_eq!(
            hold,
            Reservation {
                id: NEW,
                user_id: BUYER,
                studio_id: STUDIO,
                target: ReservationTarget::Auction(AUCTION),
                status: ReservationStatus::Hold,
                quantity: 1,
                unit_price: m("450.00"),
                total_price: m("450.00"),
                expires_at: t(66),
                booking_code: None,
                created_at: t(61),
                confirmed_at: None,
                checked_in_at: None,
                cancelled_at: None,
            }
        );
        assert_eq!(unit.live, Some(hold.clone()));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Held);
        assert_eq!(unit.status_at(t(65)), AuctionStatus::Held);
        assert_eq!(unit.effects.reservations, vec![hold]);
    }

    #[test]
    fn grab_tells_the_user_and_the_auction_rooms() {
        let mut unit = auction_unit(None);
        unit.grab(BUYER, t(61), &policy(), None).unwrap();
        let expected: Vec<_> = user_rooms(BUYER, EventKind::HoldCreated)
            .into_iter()
            .chain(auction_rooms(EventKind::AuctionHeld))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);

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

        let expected: Vec<_> = user_rooms(BUYER, EventKind::HoldCreated)
            .into_iter()
            .chain(auction_rooms(EventKind::AuctionHeld))
            .chain(user_rooms(BUYER, EventKind::BookingConfirmed))
            .chain(auction_rooms(EventKind::AuctionBooked))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
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

        let expected: Vec<_> = user_rooms(HOLDER, EventKind::ReservationExpired)
            .into_iter()
            .chain(auction_rooms(EventKind::AuctionReopened))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
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

        assert_eq!(
            unit.effects.audit,
            vec![AuditEntry {
                actor: admin().user_id,
                studio_id: Some(STUDIO),
                action: "auction.turbo",
                target: "auction:1".into(),
                details: serde_json::json!({}),
            }]
        );
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
        assert_eq!(unit.effects.audit[0].action, "auction.update");
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
    fn cancelling_a_held_auction_cancels_the_hold_and_tells_the_holder() {
        let mut unit = held_unit();
        unit.cancel(&admin(), t(10), &policy()).unwrap();
        assert_eq!(unit.auction.cancelled_at, Some(t(10)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Cancelled);
        assert_eq!(unit.live, None);
        let [cancelled] = unit.effects.reservations.as_slice() else { panic!("{:?}", unit.effects.reservations) };
        assert_eq!(cancelled.status, ReservationStatus::Cancelled);
        assert_eq!(cancelled.cancelled_at, Some(t(10)));

        let expected: Vec<_> = user_rooms(HOLDER, EventKind::ReservationCancelled)
            .into_iter()
            .chain(auction_rooms(EventKind::AuctionUpdated))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
        assert_eq!(unit.effects.events[2].data["status"], "CANCELLED");
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, "auction.cancel");
        assert_eq!(unit.effects.audit[0].target, "auction:1");
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
        let mut unit = auction_unit(None);
        unit.auction.stored_status = AuctionStatus::Active;
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
        let mut unit = auction_unit(None);
        unit.auction.stored_status = AuctionStatus::Active;
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
        let mut unit = auction_unit(None);
        unit.auction.stored_status = AuctionStatus::Active;
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
        let expected: Vec<_> = auction_rooms(EventKind::AuctionUpdated)
            .into_iter()
            .chain(auction_rooms(EventKind::TurboTriggered))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
        assert!(!unit.settle(t(96)));
    }

    #[test]
    fn settle_expires_a_lapsed_hold_and_reopens_once() {
        let mut unit = held_unit();
        assert!(unit.settle(t(15)));
        assert_eq!(unit.auction.stored_status, AuctionStatus::Active);
        assert_eq!(unit.live, None);
        let expected: Vec<_> = user_rooms(HOLDER, EventKind::ReservationExpired)
            .into_iter()
            .chain(auction_rooms(EventKind::AuctionReopened))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
        assert!(!unit.settle(t(16)));
    }

    // --- EventUnit -------------------------------------------------------

    fn event(capacity: u32) -> Event {
        Event {
            id: EVENT,
            studio_id: STUDIO,
            details: EventDetails {
                title: "Salsa night".into(),
                description: String::new(),
                capacity,
                price: m("10.00"),
                starts_at: t(600),
                ends_at: t(660),
                is_active: true,
            },
            seats: SeatCounts::default(),
            deleted_at: None,
            created_at: t(-60),
        }
    }

    /// A reservation of `quantity` seats of the event.
    fn seats(
        id: i64,
        user: UserId,
        status: ReservationStatus,
        quantity: u32,
        expires_at: DateTime<Utc>,
    ) -> Reservation {
        let unit_price = m("10.00");
        Reservation {
            id: ReservationId(id),
            user_id: user,
            studio_id: STUDIO,
            target: ReservationTarget::Event(EVENT),
            status,
            quantity,
            unit_price,
            total_price: unit_price.checked_mul(i64::from(quantity)).unwrap(),
            expires_at,
            booking_code: status.is_booked().then(code),
            created_at: expires_at - Duration::minutes(5),
            confirmed_at: status.is_booked().then_some(expires_at - Duration::minutes(1)),
            checked_in_at: None,
            cancelled_at: None,
        }
    }

    /// An event whose stored counts include `reservations`; `lapsed` of them
    /// are handed to the unit as lapsed holds.
    fn event_unit(capacity: u32, reservations: &[Reservation], lapsed: &[Reservation]) -> EventUnit {
        let mut event = event(capacity);
        for reservation in reservations.iter().chain(lapsed) {
            event.account_new(reservation);
        }
        EventUnit {
            event,
            lapsed_holds: lapsed.to_vec(),
            user_live_hold: None,
            next_reservation_id: NEW,
            effects: Effects::default(),
        }
    }

    fn assert_hold_refused(mut unit: EventUnit, quantity: i64, now: DateTime<Utc>, policy: &Policy) -> DomainError {
        let before = unit.event.clone();
        let error = unit.place_hold(BUYER, quantity, now, policy).unwrap_err();
        assert_eq!(unit.event, before, "{error:?} changed the event");
        assert_eq!(unit.effects, Effects::default(), "{error:?} had effects");
        error
    }

    fn is_validation_of(error: &DomainError, field: &str) -> bool {
        matches!(error, DomainError::Validation(errors) if errors.has(field))
    }

    #[test]
    fn a_hold_needs_between_one_and_the_maximum_seats() {
        for quantity in [0, -1, 11, i64::MAX] {
            let error = assert_hold_refused(event_unit(100, &[], &[]), quantity, t(0), &policy());
            assert!(is_validation_of(&error, "quantity"), "{quantity}: {error:?}");
        }
        let small = Policy { max_seats_per_hold: 3, ..policy() };
        let error = assert_hold_refused(event_unit(100, &[], &[]), 4, t(0), &small);
        assert!(is_validation_of(&error, "quantity"), "{error:?}");

        for quantity in [1, 10] {
            assert!(event_unit(100, &[], &[]).place_hold(BUYER, quantity, t(0), &policy()).is_ok(), "{quantity}");
        }
    }

    #[test]
    fn a_hold_needs_an_active_event_that_has_not_started() {
        let mut inactive = event_unit(10, &[], &[]);
        inactive.event.details.is_active = false;
        assert_eq!(assert_hold_refused(inactive, 1, t(0), &policy()), DomainError::EventNotOpen);
        for now in [t(600), t(630), t(700)] {
            assert_eq!(assert_hold_refused(event_unit(10, &[], &[]), 1, now, &policy()), DomainError::EventNotOpen);
        }
        assert!(event_unit(10, &[], &[]).place_hold(BUYER, 1, t(599), &policy()).is_ok());
    }

    #[test]
    fn a_deleted_event_is_not_found() {
        let mut unit = event_unit(10, &[], &[]);
        unit.event.deleted_at = Some(t(-1));
        assert_eq!(assert_hold_refused(unit.clone(), 1, t(0), &policy()), DomainError::NotFound("event"));
        // Even a bad quantity is answered with 404 first.
        assert_eq!(assert_hold_refused(unit, 0, t(0), &policy()), DomainError::NotFound("event"));
    }

    #[test]
    fn a_user_holds_at_most_once_per_event() {
        let mut unit = event_unit(10, &[seats(5, BUYER, ReservationStatus::Hold, 1, t(3))], &[]);
        unit.user_live_hold = Some(ReservationId(5));
        assert_eq!(assert_hold_refused(unit, 1, t(0), &policy()), DomainError::HoldAlreadyExists);
    }

    #[test]
    fn a_hold_cannot_take_more_seats_than_are_available() {
        let taken = [
            seats(5, STRANGER, ReservationStatus::Hold, 2, t(3)),
            seats(6, UserId(12), ReservationStatus::Confirmed, 2, t(-10)),
        ];
        let unit = event_unit(5, &taken, &[]);
        assert_eq!(
            assert_hold_refused(unit.clone(), 2, t(0), &policy()),
            DomainError::InsufficientCapacity { available: 1 }
        );
        let mut unit = unit;
        assert!(unit.place_hold(BUYER, 1, t(0), &policy()).is_ok());
        assert_eq!(unit.event.available(), 0);
    }

    #[test]
    fn a_full_event_reports_no_seats_available() {
        let unit = event_unit(2, &[seats(5, STRANGER, ReservationStatus::Confirmed, 2, t(-10))], &[]);
        assert_eq!(assert_hold_refused(unit, 1, t(0), &policy()), DomainError::InsufficientCapacity { available: 0 });
    }

    #[test]
    fn a_hold_takes_seats_at_the_events_price() {
        let mut unit = event_unit(10, &[], &[]);
        let hold = unit.place_hold(BUYER, 3, t(0), &policy()).unwrap();
        assert_eq!(
            hold,
            Reservation {
                id: NEW,
                user_id: BUYER,
                studio_id: STUDIO,
                target: ReservationTarget::Event(EVENT),
                status: ReservationStatus::Hold,
                quantity: 3,
                unit_price: m("10.00"),
                total_price: m("30.00"),
                expires_at: t(5),
                booking_code: None,
                created_at: t(0),
                confirmed_at: None,
                checked_in_at: None,
                cancelled_at: None,
            }
        );
        assert_eq!(
            unit.event.seats,
            SeatCounts { held_seats: 3, held_count: 1, confirmed_seats: 0, confirmed_count: 0 }
        );
        assert_eq!(unit.event.available(), 7);
        assert_eq!(unit.user_live_hold, Some(NEW));
        assert_eq!(unit.effects.reservations, vec![hold]);

        let expected: Vec<_> = user_rooms(BUYER, EventKind::HoldCreated)
            .into_iter()
            .chain(event_rooms(EventKind::AvailabilityChanged))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
        let availability = &unit.effects.events[2].data;
        assert_eq!(availability["available"], 7);
        assert_eq!(availability["held_seats"], 3);
        assert_eq!(availability["held_count"], 1);
    }

    #[test]
    fn a_free_event_gives_free_holds() {
        let mut unit = event_unit(10, &[], &[]);
        unit.event.details.price = Money::ZERO;
        let hold = unit.place_hold(BUYER, 2, t(0), &policy()).unwrap();
        assert_eq!((hold.unit_price, hold.total_price), (Money::ZERO, Money::ZERO));
    }

    #[test]
    fn a_hold_never_outlasts_the_start_of_the_event() {
        let mut unit = event_unit(10, &[], &[]);
        let hold = unit.place_hold(BUYER, 1, t(598), &policy()).unwrap();
        assert_eq!(hold.expires_at, t(600));
    }

    #[test]
    fn expiring_lapsed_holds_frees_their_seats_and_announces_once() {
        let lapsed = [
            seats(5, STRANGER, ReservationStatus::Hold, 2, t(3)),
            seats(6, UserId(12), ReservationStatus::Hold, 3, t(4)),
        ];
        let booked = [seats(7, UserId(13), ReservationStatus::Confirmed, 1, t(-10))];
        let mut unit = event_unit(10, &booked, &lapsed);
        assert_eq!(unit.event.available(), 4);

        assert_eq!(unit.expire_lapsed_holds(t(5)), 2);
        assert!(unit.lapsed_holds.is_empty());
        assert_eq!(
            unit.event.seats,
            SeatCounts { held_seats: 0, held_count: 0, confirmed_seats: 1, confirmed_count: 1 }
        );
        assert_eq!(unit.event.available(), 9);
        let statuses: Vec<_> = unit.effects.reservations.iter().map(|r| (r.id, r.status)).collect();
        assert_eq!(
            statuses,
            vec![(ReservationId(5), ReservationStatus::Expired), (ReservationId(6), ReservationStatus::Expired)]
        );
        assert_eq!(count(&unit.effects, Room::User(STRANGER), EventKind::ReservationExpired), 1);
        assert_eq!(count(&unit.effects, Room::User(UserId(12)), EventKind::ReservationExpired), 1);
        assert_eq!(count(&unit.effects, Room::Event(EVENT), EventKind::AvailabilityChanged), 1);
        assert_eq!(count(&unit.effects, Room::Studio(STUDIO), EventKind::AvailabilityChanged), 1);
        let availability = &unit.effects.events.last().unwrap().data;
        assert_eq!(availability["available"], 9);

        // The freed seats can be held at once.
        assert!(unit.place_hold(BUYER, 9, t(5), &policy()).is_ok());
    }

    #[test]
    fn expiring_no_lapsed_holds_announces_nothing() {
        let mut unit = event_unit(10, &[seats(5, STRANGER, ReservationStatus::Hold, 2, t(3))], &[]);
        assert_eq!(unit.expire_lapsed_holds(t(1)), 0);
        assert_eq!(unit.event.available(), 8);
        assert_eq!(unit.effects, Effects::default());
    }

    fn with_capacity(unit: &EventUnit, capacity: u32) -> EventDetails {
        EventDetails { capacity, ..unit.event.details.clone() }
    }

    #[test]
    fn capacity_cannot_drop_below_the_reserved_seats() {
        let taken = [
            seats(5, STRANGER, ReservationStatus::Hold, 4, t(3)),
            seats(6, UserId(12), ReservationStatus::Confirmed, 2, t(-10)),
        ];
        let mut unit = event_unit(10, &taken, &[]);
        let before = unit.event.clone();
        assert_eq!(
            unit.update(&admin(), with_capacity(&unit, 5)),
            Err(DomainError::CapacityBelowReserved { reserved: 6 })
        );
        assert_eq!(unit.event, before);
        assert_eq!(unit.effects, Effects::default());

        unit.update(&admin(), with_capacity(&unit, 6)).unwrap();
        assert_eq!(unit.event.details.capacity, 6);
        assert_eq!(unit.event.available(), 0);
        assert_eq!(emitted(&unit.effects), event_rooms(EventKind::AvailabilityChanged));
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, "event.update");
    }

    #[test]
    fn an_update_that_keeps_the_capacity_announces_no_availability() {
        let mut unit = event_unit(10, &[], &[]);
        let details = EventDetails { title: "Tango night".into(), ..unit.event.details.clone() };
        unit.update(&admin(), details).unwrap();
        assert_eq!(unit.event.details.title, "Tango night");
        assert!(unit.effects.events.is_empty());
        assert_eq!(unit.effects.audit.len(), 1);
    }

    #[test]
    fn a_deleted_event_cannot_be_updated_or_deleted_again() {
        let mut unit = event_unit(10, &[], &[]);
        unit.delete(&admin(), t(1)).unwrap();
        assert_eq!(unit.update(&admin(), with_capacity(&unit, 20)), Err(DomainError::NotFound("event")));
        assert_eq!(unit.delete(&admin(), t(2)), Err(DomainError::NotFound("event")));
        assert_eq!(unit.event.deleted_at, Some(t(1)));
    }

    #[test]
    fn an_event_with_live_seats_cannot_be_deleted() {
        for status in [ReservationStatus::Hold, ReservationStatus::Confirmed, ReservationStatus::CheckedIn] {
            let mut unit = event_unit(10, &[seats(5, STRANGER, status, 1, t(3))], &[]);
            assert_eq!(unit.delete(&admin(), t(1)), Err(DomainError::EventHasReservations), "{status:?}");
            assert_eq!(unit.event.deleted_at, None);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn an_event_whose_holds_all_lapsed_can_be_deleted() {
        let mut unit = event_unit(10, &[], &[seats(5, STRANGER, ReservationStatus::Hold, 2, t(3))]);
        unit.expire_lapsed_holds(t(3));
        unit.delete(&admin(), t(3)).unwrap();
        assert_eq!(unit.event.deleted_at, Some(t(3)));
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, "event.delete");
        assert_eq!(unit.effects.audit[0].target, "event:3");
    }

    // --- ReservationUnit -------------------------------------------------

    fn owner() -> Actor {
        Actor::user(HOLDER)
    }

    /// [`HOLDER`]'s reservation of the auction slot, under the auction as
    /// the job left it.
    fn slot_unit(reservation: Reservation, stored_status: AuctionStatus) -> ReservationUnit {
        let mut auction = auction();
        auction.stored_status = stored_status;
        ReservationUnit { reservation, parent: Parent::Auction(auction), effects: Effects::default() }
    }

    /// [`HOLDER`]'s reservation of 2 seats of a 10-seat event starting at t(600).
    fn seats_unit(status: ReservationStatus, expires_at: DateTime<Utc>) -> ReservationUnit {
        let reservation = seats(7, HOLDER, status, 2, expires_at);
        let mut event = event(10);
        event.account_new(&reservation);
        ReservationUnit { reservation, parent: Parent::Event(event), effects: Effects::default() }
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
        assert_eq!(unit.reservation, booking);
        assert_eq!(unit.effects.reservations, vec![booking]);

        let event = parent_event(&unit);
        assert_eq!(event.seats, SeatCounts { held_seats: 0, held_count: 0, confirmed_seats: 2, confirmed_count: 1 });
        assert_eq!(event.available(), 8);
        let expected: Vec<_> = user_rooms(HOLDER, EventKind::BookingConfirmed)
            .into_iter()
            .chain(event_rooms(EventKind::AvailabilityChanged))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
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
        let expected: Vec<_> = user_rooms(HOLDER, EventKind::ReservationExpired)
            .into_iter()
            .chain(event_rooms(EventKind::AvailabilityChanged))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
    }

    #[test]
    fn confirming_twice_returns_the_booking_unchanged() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.confirm(&owner(), t(1), code()).unwrap();
        let first = unit.clone();
        assert_eq!(unit.confirm(&owner(), t(30), code()), Ok(ConfirmOutcome::Confirmed(first.reservation.clone())));
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
        let expected: Vec<_> = user_rooms(HOLDER, EventKind::BookingConfirmed)
            .into_iter()
            .chain(auction_rooms(EventKind::AuctionBooked))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
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

    #[test]
    fn the_owner_may_cancel_a_hold() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        unit.cancel(&owner(), t(1), &policy()).unwrap();
        assert_eq!(unit.reservation.status, ReservationStatus::Cancelled);
        assert_eq!(unit.reservation.cancelled_at, Some(t(1)));
        assert_eq!(parent_event(&unit).seats, SeatCounts::default());
        let expected: Vec<_> = user_rooms(HOLDER, EventKind::ReservationCancelled)
            .into_iter()
            .chain(event_rooms(EventKind::AvailabilityChanged))
            .collect();
        assert_eq!(emitted(&unit.effects), expected);
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
            assert_eq!(
                unit.effects.audit,
                vec![AuditEntry {
                    actor: actor.user_id,
                    studio_id: Some(STUDIO),
                    action: "reservation.cancel",
                    target: "reservation:7".into(),
                    details: serde_json::json!({}),
                }]
            );
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
            let expected: Vec<_> = user_rooms(HOLDER, EventKind::ReservationCancelled)
                .into_iter()
                .chain(auction_rooms(EventKind::AuctionReopened))
                .collect();
            assert_eq!(emitted(&unit.effects), expected);
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
            assert_eq!(unit.check_in(&actor, t(600)), Err(DomainError::NotFound("booking")), "{actor:?}");
            assert_eq!(unit.reservation.status, ReservationStatus::Confirmed);
            assert_eq!(unit.effects, Effects::default());
        }
    }

    #[test]
    fn check_in_marks_the_booking_and_keeps_the_seats() {
        let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
        unit.check_in(&admin(), t(600)).unwrap();
        assert_eq!(unit.reservation.status, ReservationStatus::CheckedIn);
        assert_eq!(unit.reservation.checked_in_at, Some(t(600)));
        assert_eq!(
            parent_event(&unit).seats,
            SeatCounts { held_seats: 0, held_count: 0, confirmed_seats: 2, confirmed_count: 1 }
        );
        assert_eq!(count(&unit.effects, Room::User(HOLDER), EventKind::ReservationCheckedIn), 1);
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, "reservation.check_in");
    }

    #[test]
    fn checking_in_twice_changes_nothing_and_emits_nothing() {
        let mut unit = seats_unit(ReservationStatus::Confirmed, t(-10));
        unit.check_in(&admin(), t(600)).unwrap();
        unit.effects = Effects::default();
        let first = unit.clone();

        unit.check_in(&admin(), t(605)).unwrap();
        assert_eq!(unit.reservation, first.reservation);
        assert_eq!(unit.reservation.checked_in_at, Some(t(600)));
        assert_eq!(parent_event(&unit), parent_event(&first));
        assert_eq!(unit.effects, Effects::default());
    }

    #[test]
    fn a_no_show_latecomer_may_still_be_checked_in() {
        let mut unit = seats_unit(ReservationStatus::NoShow, t(-10));
        unit.check_in(&admin(), t(640)).unwrap();
        assert_eq!(unit.reservation.status, ReservationStatus::CheckedIn);
        assert_eq!(parent_event(&unit).seats.confirmed_seats, 2);
    }

    #[test]
    fn checking_in_an_auction_booking_leaves_the_auction_sold_and_quiet() {
        let mut unit = slot_unit(slot(ReservationStatus::Confirmed, "450.00", t(65)), AuctionStatus::Sold);
        unit.check_in(&admin(), t(180)).unwrap();
        assert_eq!(parent_auction(&unit).stored_status, AuctionStatus::Sold);
        assert_eq!(emitted(&unit.effects), user_rooms(HOLDER, EventKind::ReservationCheckedIn));
    }

    #[test]
    fn a_hold_cannot_be_checked_in() {
        let mut unit = seats_unit(ReservationStatus::Hold, t(5));
        assert_eq!(unit.check_in(&admin(), t(1)), Err(DomainError::InvalidState(ReservationStatus::Hold)));
        assert_eq!(unit.effects, Effects::default());
    }
}
