//! Units of work: what a use case sees and changes while its parent row is
//! locked. An adapter loads a unit under the lock, hands it to a synchronous
//! decision, then persists what the decision changed (the parent row, the
//! reservations in [`Effects::reservations`]), the events and the audit
//! entries, and commits.
//!
//! Each aggregate has its unit next to it ([`crate::auction::AuctionUnit`],
//! [`crate::event::EventUnit`], [`crate::reservation::ReservationUnit`]);
//! this module holds what they share, and names what a decision locks (a
//! [`LockTarget`]) to get each of them.

use chrono::{DateTime, Duration, Utc};

use crate::actor::Actor;
use crate::auction::AuctionUnit;
use crate::domain_events::{AuditDetails, AuditEntry, DomainEvent, EventKind, Payload, Room};
use crate::error::DomainError;
use crate::event::EventUnit;
use crate::ids::{AlertId, AuctionId, EventId, ReservationId, StudioId, UserId};
use crate::mail::{Mail, Notice, Recipient};
use crate::reservation::{EventReservationsUnit, Parent, Reservation, ReservationSnapshot, ReservationUnit};
use crate::waitlist::WaitlistChange;

/// A decision taken under a lock: it reads and changes the unit `U` as of
/// `now` and answers `T`; an error leaves nothing behind.
pub trait Decision<U, T>: FnOnce(&mut U, DateTime<Utc>) -> Result<T, DomainError> + Send {}

impl<U, T, F> Decision<U, T> for F where F: FnOnce(&mut U, DateTime<Utc>) -> Result<T, DomainError> + Send {}

/// What a unit of work ends as: its parent rows as the decision left them
/// (one, but for [`EventsHolds`]), and the rest of what the decision changed.
pub trait UnitOfWork {
    fn into_parts(self) -> (Vec<Parent>, Effects);
}

impl UnitOfWork for AuctionUnit {
    fn into_parts(self) -> (Vec<Parent>, Effects) {
        (vec![Parent::Auction(self.auction)], self.effects)
    }
}

impl UnitOfWork for EventUnit {
    fn into_parts(self) -> (Vec<Parent>, Effects) {
        (vec![Parent::Event(self.event)], self.effects)
    }
}

impl UnitOfWork for ReservationUnit {
    fn into_parts(self) -> (Vec<Parent>, Effects) {
        (vec![self.parent], self.effects)
    }
}

impl UnitOfWork for EventReservationsUnit {
    fn into_parts(self) -> (Vec<Parent>, Effects) {
        (vec![self.parent], self.effects)
    }
}

/// What a decision is taken under the lock of: its key names the rows (the
/// parent first), its unit is what the decision sees of them. An
/// [`AuctionId`] locks the auction, then its live reservation; a
/// [`ReservationId`], the reservation's parent, then the reservation.
pub trait LockTarget: Send {
    type Unit: UnitOfWork + Send;
}

/// An event with its lapsed holds and the live holds of `users` (those about
/// to hold seats), and one fresh reservation id for each of them. Its
/// waiting list is read when some hold lapsed (their seats go to it first)
/// or when `waiting_list` says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHolds {
    pub event: EventId,
    pub users: Vec<UserId>,
    pub waiting_list: bool,
}

impl EventHolds {
    /// The event with its waiting list, for a decision that places no hold.
    pub fn of(event: EventId) -> EventHolds {
        EventHolds { event, users: Vec::new(), waiting_list: true }
    }

    /// Holds for `users`: the waiting list is read only when a hold lapsed,
    /// so the hot path pays nothing for it otherwise.
    pub fn for_users(event: EventId, users: Vec<UserId>) -> EventHolds {
        EventHolds { event, users, waiting_list: false }
    }
}

/// Several events' [`EventHolds`], decided in one transaction: the events
/// are locked in id order (so two such decisions never wait on each other
/// in a cycle), then their holds. An event that is not there is left out of
/// the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsHolds {
    targets: Vec<EventHolds>,
}

impl EventsHolds {
    /// The targets in event id order, one per event (the users of targets on
    /// the same event joined).
    pub fn new(targets: impl IntoIterator<Item = EventHolds>) -> EventsHolds {
        let mut merged: Vec<EventHolds> = Vec::new();
        let mut targets: Vec<EventHolds> = targets.into_iter().collect();
        targets.sort_by_key(|target| target.event);
        for target in targets {
            match merged.last_mut() {
                Some(last) if last.event == target.event => {
                    last.users.extend(target.users);
                    last.waiting_list |= target.waiting_list;
                }
                _ => merged.push(target),
            }
        }
        EventsHolds { targets: merged }
    }

    /// One target per event, in event id order.
    pub fn into_targets(self) -> Vec<EventHolds> {
        self.targets
    }
}

/// The events of an [`EventsHolds`] that are there, each under its lock, in
/// event id order.
#[derive(Debug, Clone, Default)]
pub struct EventUnits {
    pub units: Vec<EventUnit>,
}

impl UnitOfWork for EventUnits {
    fn into_parts(self) -> (Vec<Parent>, Effects) {
        let mut parents = Vec::with_capacity(self.units.len());
        let mut effects = Effects::default();
        for unit in self.units {
            parents.push(Parent::Event(unit.event));
            effects.merge(unit.effects);
        }
        (parents, effects)
    }
}

/// An event, then those of reservations `ids` that belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventReservations {
    pub event: EventId,
    pub ids: Vec<ReservationId>,
}

/// An event, then every reservation of it that still holds or books seats:
/// its holds (lapsed or not) and its confirmed bookings (not those checked
/// in or marked no-show: they are history), and its waiting list. What
/// cancelling the event ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventBookings {
    pub event: EventId,
}

impl LockTarget for AuctionId {
    type Unit = AuctionUnit;
}

impl LockTarget for EventHolds {
    type Unit = EventUnit;
}

impl LockTarget for EventsHolds {
    type Unit = EventUnits;
}

impl LockTarget for ReservationId {
    type Unit = ReservationUnit;
}

impl LockTarget for EventReservations {
    type Unit = EventReservationsUnit;
}

impl LockTarget for EventBookings {
    type Unit = EventReservationsUnit;
}

/// What a decision changed besides its parent row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// New or changed reservations, the last version of each, to upsert in order.
    pub reservations: Vec<Reservation>,
    pub events: Vec<DomainEvent>,
    pub audit: Vec<AuditEntry>,
    /// Messages to send once this commits (the mail outbox, SPEC §14).
    pub mail: Vec<Mail>,
    /// Price alerts fired or ended, to delete.
    pub dropped_alerts: Vec<AlertId>,
    /// Who joined, left or was offered seats from an event's waiting list.
    pub waitlist: Vec<WaitlistChange>,
}

impl Effects {
    pub fn save(&mut self, reservation: &Reservation) {
        match self.reservations.iter_mut().find(|r| r.id == reservation.id) {
            Some(saved) => *saved = reservation.clone(),
            None => self.reservations.push(reservation.clone()),
        }
    }

    /// Adds what a later decision did.
    pub fn merge(&mut self, later: Effects) {
        for reservation in &later.reservations {
            self.save(reservation);
        }
        self.events.extend(later.events);
        self.audit.extend(later.audit);
        self.mail.extend(later.mail);
        self.dropped_alerts.extend(later.dropped_alerts);
        self.waitlist.extend(later.waitlist);
    }

    /// Keeps only the last `kind` event of each room: decisions made together
    /// announce where they ended, not every step on the way.
    pub fn keep_last_of_each_room(&mut self, kind: EventKind) {
        let mut seen = std::collections::HashSet::new();
        let keep: Vec<bool> =
            self.events.iter().rev().map(|event| event.kind != kind || seen.insert(event.room)).collect();
        let mut keep = keep.into_iter().rev();
        self.events.retain(|_| keep.next().unwrap_or(true));
    }

    /// Announces `payload` to each of `rooms`, serialized once for them all.
    pub fn emit(&mut self, rooms: &[Room], payload: Payload) {
        let Some((last, others)) = rooms.split_last() else {
            return;
        };
        let event = DomainEvent::new(*last, &payload);
        for room in others {
            self.events.push(DomainEvent { room: *room, ..event.clone() });
        }
        self.events.push(event);
    }

    /// Records a message to `recipient`, sent after the commit.
    pub fn mail(&mut self, recipient: impl Into<Recipient>, notice: Notice) {
        self.mail.push(Mail { recipient: recipient.into(), notice });
    }

    pub fn audit(&mut self, actor: &Actor, studio: Option<StudioId>, target: String, details: &AuditDetails) {
        self.audit.push(AuditEntry::new(actor.user_id, studio, target, details));
    }

    /// Tells the reservation's owner and studio what became of it.
    pub(crate) fn reservation_event(
        &mut self,
        reservation: &Reservation,
        payload: fn(ReservationSnapshot) -> Payload,
        now: DateTime<Utc>,
    ) {
        let rooms = [Room::User(reservation.user_id), Room::Studio(reservation.studio_id)];
        self.emit(&rooms, payload(reservation.snapshot(now)));
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
    /// How long before the session starts its door opens for check-in.
    pub check_in_opens_before: Duration,
    /// How long before the session a booking's reminder is sent.
    pub reminder_before: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            hold_ttl: Duration::minutes(5),
            max_seats_per_hold: 10,
            cancel_cutoff: Duration::hours(2),
            no_show_grace: Duration::minutes(15),
            check_in_opens_before: Duration::hours(2),
            reminder_before: Duration::hours(3),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! What the tests of every unit share.

    use super::*;
    use crate::auction::tests::{AUCTION, STUDIO};
    use crate::domain_events::EventKind;
    use crate::event::tests::EVENT;
    use crate::ids::{ReservationId, StudioId, UserId};
    use crate::money::Money;
    use crate::reservation::{ReservationStatus, ReservationTarget};

    /// The id of the reservation a decision creates.
    pub(crate) const NEW: ReservationId = ReservationId(100);
    pub(crate) const BUYER: UserId = UserId(10);
    pub(crate) const STRANGER: UserId = UserId(11);

    /// The hold a decision creates for [`BUYER`]: `quantity` seats of
    /// `target` at `unit_price` each, taken at `created_at`.
    pub(crate) fn buyer_hold(
        target: ReservationTarget,
        quantity: u32,
        unit_price: Money,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Reservation {
        Reservation {
            id: NEW,
            user_id: BUYER,
            studio_id: STUDIO,
            target,
            status: ReservationStatus::Hold,
            quantity,
            unit_price,
            total_price: unit_price.checked_mul(i64::from(quantity)).unwrap(),
            expires_at,
            booking_code: None,
            created_at,
            confirmed_at: None,
            checked_in_at: None,
            cancelled_at: None,
            payment: Default::default(),
        }
    }

    pub(crate) fn policy() -> Policy {
        Policy::default()
    }

    pub(crate) fn admin() -> Actor {
        Actor::studio_admin(UserId(90), STUDIO)
    }

    pub(crate) fn other_studio_admin() -> Actor {
        Actor::studio_admin(UserId(91), StudioId(2))
    }

    /// Who got what, in order.
    pub(crate) fn emitted(effects: &Effects) -> Vec<(Room, EventKind)> {
        effects.events.iter().map(|event| (event.room, event.kind)).collect()
    }

    /// Asserts who got what, in order: each pair of rooms in turn.
    pub(crate) fn assert_emitted(effects: &Effects, expected: &[[(Room, EventKind); 2]]) {
        assert_eq!(emitted(effects), expected.concat());
    }

    pub(crate) fn count(effects: &Effects, room: Room, kind: EventKind) -> usize {
        effects.events.iter().filter(|event| event.room == room && event.kind == kind).count()
    }

    pub(crate) fn auction_rooms(kind: EventKind) -> [(Room, EventKind); 2] {
        [(Room::Auction(AUCTION), kind), (Room::Studio(STUDIO), kind)]
    }

    pub(crate) fn user_rooms(user: UserId, kind: EventKind) -> [(Room, EventKind); 2] {
        [(Room::User(user), kind), (Room::Studio(STUDIO), kind)]
    }

    pub(crate) fn event_rooms(kind: EventKind) -> [(Room, EventKind); 2] {
        [(Room::Event(EVENT), kind), (Room::Studio(STUDIO), kind)]
    }
}
