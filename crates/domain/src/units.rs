//! Units of work: what a use case sees and changes while its parent row is
//! locked. An adapter loads a unit under the lock, hands it to a synchronous
//! decision, then persists what the decision changed (the parent row, the
//! reservations in [`Effects::reservations`]), the events and the audit
//! entries, and commits.

use chrono::{DateTime, Duration, Utc};

use crate::actor::Actor;
use crate::auction::{Auction, AuctionDetails, AuctionStatus};
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

    /// Grabs the slot at the price of `now`: a HOLD, or a booking when
    /// `confirm` is set (one-tap "grab now").
    pub fn grab(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
        policy: &Policy,
        confirm: bool,
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
        if confirm {
            reservation.confirm(now)?;
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
        let data = self.event.availability_json(self.event.availability(0, 0));
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
                let data = event.availability_json(event.availability(0, 0));
                let rooms = [Room::Event(event.id), Room::Studio(event.studio_id)];
                self.effects.emit(&rooms, EventKind::AvailabilityChanged, data);
            }
        }
    }

    /// Confirms the owner's hold. A lapsed hold is expired instead.
    pub fn confirm(&mut self, actor: &Actor, now: DateTime<Utc>) -> Result<ConfirmOutcome, DomainError> {
        if self.reservation.user_id != actor.user_id {
            return Err(DomainError::NotFound("reservation"));
        }
        let before = self.reservation.status;
        match self.reservation.confirm(now) {
            Ok(Transition::Changed) => {
                self.follow_up(before, EventKind::BookingConfirmed, now);
                Ok(ConfirmOutcome::Confirmed(self.reservation.clone()))
            }
            Ok(Transition::Unchanged) => Ok(ConfirmOutcome::Confirmed(self.reservation.clone())),
            Err(crate::reservation::ConfirmError::HoldExpired) => {
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
