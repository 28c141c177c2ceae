//! Events with a seat capacity, and the seat accounting of SPEC §5.

use chrono::{DateTime, Utc};

use crate::auction::check_text;
use crate::domain_events::{Payload, Room};
use crate::error::DomainError;
use crate::ids::{EventId, ReservationId, StudioId, UserId};
use crate::instant;
use crate::money::Money;
use crate::ports::CatalogueItem;
use crate::reservation::{Reservation, ReservationStatus, ReservationTarget};
use crate::unit_of_work::{Effects, Policy};
use crate::validation::ValidationErrors;

mod cancellation;
mod under_lock;
mod visibility;
mod waiting;

pub use cancellation::EventCancellation;
pub use under_lock::EventUnit;
pub use visibility::{HiddenEvents, Visibility};

/// The largest capacity an event may have.
pub const MAX_CAPACITY: u32 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInput {
    pub title: String,
    pub description: String,
    pub capacity: i64,
    pub price: Money,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub is_active: bool,
}

/// The validated, editable part of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDetails {
    pub title: String,
    pub description: String,
    pub capacity: u32,
    pub price: Money,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub is_active: bool,
}

impl EventDetails {
    /// Validates `input`; its instants are truncated to microseconds first.
    pub fn new(input: EventInput) -> Result<EventDetails, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_text(&mut errors, &input.title, &input.description);
        errors.check(input.capacity >= 0, "capacity", "must not be negative");
        errors.check(input.capacity <= i64::from(MAX_CAPACITY), "capacity", "must be at most 1000000");
        let starts_at = instant::accept_field(&mut errors, "starts_at", input.starts_at);
        let ends_at = instant::accept_field(&mut errors, "ends_at", input.ends_at);
        errors.check(starts_at < ends_at, "ends_at", "must be after starts_at");
        errors.into_result(EventDetails {
            title: input.title.trim().to_owned(),
            description: input.description,
            capacity: input.capacity.clamp(0, i64::from(MAX_CAPACITY)) as u32,
            price: input.price,
            starts_at,
            ends_at,
            is_active: input.is_active,
        })
    }

    pub fn to_input(&self) -> EventInput {
        EventInput {
            title: self.title.clone(),
            description: self.description.clone(),
            capacity: i64::from(self.capacity),
            price: self.price,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            is_active: self.is_active,
        }
    }
}

impl CatalogueItem for EventDetails {
    type Row = Event;
}

/// A change to some of an event's fields; the others keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub capacity: Option<i64>,
    pub price: Option<Money>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub is_active: Option<bool>,
}

impl EventPatch {
    /// `current` with this patch's fields changed, validated as a whole.
    pub fn apply(self, current: &EventDetails) -> Result<EventDetails, ValidationErrors> {
        let current = current.to_input();
        EventDetails::new(EventInput {
            title: self.title.unwrap_or(current.title),
            description: self.description.unwrap_or(current.description),
            capacity: self.capacity.unwrap_or(current.capacity),
            price: self.price.unwrap_or(current.price),
            starts_at: self.starts_at.unwrap_or(current.starts_at),
            ends_at: self.ends_at.unwrap_or(current.ends_at),
            is_active: self.is_active.unwrap_or(current.is_active),
        })
    }
}

/// Seats taken, per the stored reservation statuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeatCounts {
    /// Seats in stored HOLD reservations.
    pub held_seats: u32,
    pub held_count: u32,
    /// Seats in CONFIRMED, CHECKED_IN and NO_SHOW reservations.
    pub confirmed_seats: u32,
    pub confirmed_count: u32,
}

impl SeatCounts {
    pub fn taken(&self) -> u32 {
        self.held_seats + self.confirmed_seats
    }

    /// Adds a reservation in `status` to the counts.
    fn add(&mut self, status: ReservationStatus, quantity: u32) {
        if status == ReservationStatus::Hold {
            self.held_seats += quantity;
            self.held_count += 1;
        } else if status.is_booked() {
            self.confirmed_seats += quantity;
            self.confirmed_count += 1;
        }
    }

    /// Removes a reservation in `status` from the counts.
    fn remove(&mut self, status: ReservationStatus, quantity: u32) {
        if status == ReservationStatus::Hold {
            self.held_seats = self.held_seats.saturating_sub(quantity);
            self.held_count = self.held_count.saturating_sub(1);
        } else if status.is_booked() {
            self.confirmed_seats = self.confirmed_seats.saturating_sub(quantity);
            self.confirmed_count = self.confirmed_count.saturating_sub(1);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub studio_id: StudioId,
    pub details: EventDetails,
    /// Counts over stored statuses. Under the event's lock, after its lapsed
    /// holds are expired, they are exact at `now`; a read without the lock
    /// subtracts lapsed holds itself (see [`Event::availability`]).
    pub seats: SeatCounts,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Set when the studio cancelled it: off sale for good (inactive), every
    /// hold and booking it had cancelled with it.
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What the catalogue shows about seats at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Availability {
    pub capacity: u32,
    pub available: u32,
    pub held_seats: u32,
    pub held_count: u32,
    pub confirmed_seats: u32,
    pub confirmed_count: u32,
}

impl Event {
    /// Seats at `now`, given the seats and count of lapsed holds that no one
    /// has swept yet (both zero under the event's lock after expiring them).
    pub fn availability(&self, lapsed_seats: u32, lapsed_count: u32) -> Availability {
        let held_seats = self.seats.held_seats.saturating_sub(lapsed_seats);
        let held_count = self.seats.held_count.saturating_sub(lapsed_count);
        let taken = held_seats + self.seats.confirmed_seats;
        Availability {
            capacity: self.details.capacity,
            available: self.details.capacity.saturating_sub(taken),
            held_seats,
            held_count,
            confirmed_seats: self.seats.confirmed_seats,
            confirmed_count: self.seats.confirmed_count,
        }
    }

    /// Seats free for a new hold; exact under the lock once lapsed holds are expired.
    pub fn available(&self) -> u32 {
        self.details.capacity.saturating_sub(self.seats.taken())
    }

    /// Moves `reservation`'s seats from the status it had to the one it has now.
    pub fn account(&mut self, before: ReservationStatus, reservation: &Reservation) {
        self.seats.remove(before, reservation.quantity);
        self.seats.add(reservation.status, reservation.quantity);
    }

    /// Counts a new reservation.
    pub fn account_new(&mut self, reservation: &Reservation) {
        self.seats.add(reservation.status, reservation.quantity);
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled_at.is_some()
    }

    /// Whether anyone may hold seats now: on sale (active, neither deleted
    /// nor cancelled) and not started.
    pub fn takes_holds(&self, now: DateTime<Utc>) -> bool {
        self.details.is_active && !self.is_deleted() && !self.is_cancelled() && now < self.details.starts_at
    }

    /// A new hold `id` of `quantity` seats for `user` at the event's price,
    /// lasting the hold time but never past the event's start. Not counted yet.
    pub fn new_hold(
        &self,
        id: ReservationId,
        user: UserId,
        quantity: u32,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Reservation, DomainError> {
        let unit_price = self.details.price;
        let total_price = unit_price
            .checked_mul(i64::from(quantity))
            .ok_or_else(|| DomainError::validation("quantity", "the total price is too large"))?;
        Ok(Reservation {
            id,
            user_id: user,
            studio_id: self.studio_id,
            target: ReservationTarget::Event(self.id),
            status: ReservationStatus::Hold,
            quantity,
            unit_price,
            total_price,
            expires_at: (now + policy.hold_ttl).min(self.details.starts_at),
            booking_code: None,
            created_at: now,
            confirmed_at: None,
            checked_in_at: None,
            cancelled_at: None,
            payment: Default::default(),
        })
    }

    /// Tells the event's room and its studio's the seats as they are now.
    pub fn announce_seats(&self, effects: &mut Effects) {
        let snapshot = self.snapshot(self.availability(0, 0));
        effects.emit(&[Room::Event(self.id), Room::Studio(self.studio_id)], Payload::AvailabilityChanged(snapshot));
    }

    /// Who may see the event now (a deleted event is announced inactive).
    pub fn visibility(&self) -> Visibility {
        Visibility::of(self.details.is_active && !self.is_deleted(), self.studio_id)
    }

    /// The event with the given seats, as the API and the live protocol show it.
    pub fn snapshot(&self, availability: Availability) -> EventSnapshot {
        let details = &self.details;
        EventSnapshot {
            id: self.id,
            studio_id: self.studio_id,
            title: details.title.clone(),
            description: details.description.clone(),
            capacity: availability.capacity,
            price: details.price,
            starts_at: details.starts_at,
            ends_at: details.ends_at,
            is_active: details.is_active,
            cancelled_at: self.cancelled_at,
            available: availability.available,
            held_seats: availability.held_seats,
            held_count: availability.held_count,
            confirmed_seats: availability.confirmed_seats,
            confirmed_count: availability.confirmed_count,
        }
    }
}

/// An event with its seats as the outbox stores it and the API answers it
/// (the api crate maps it field by field to `EventOut`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventSnapshot {
    pub id: EventId,
    pub studio_id: StudioId,
    pub title: String,
    pub description: String,
    pub capacity: u32,
    pub price: Money,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub is_active: bool,
    /// When the studio cancelled it (a row written before cancellations existed has none).
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
    pub available: u32,
    pub held_seats: u32,
    pub held_count: u32,
    pub confirmed_seats: u32,
    pub confirmed_count: u32,
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Duration;

    use super::*;
    use crate::auction::tests::{STUDIO, m};
    use crate::ids::{ReservationId, UserId};
    use crate::reservation::tests::{code, hold, t};
    use crate::reservation::{Reservation, ReservationTarget};

    pub(crate) const EVENT: EventId = EventId(3);

    pub(crate) fn event(capacity: u32) -> Event {
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
            cancelled_at: None,
            created_at: t(-60),
        }
    }

    /// A reservation of `quantity` seats of the event.
    pub(crate) fn seats(
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
            payment: Default::default(),
        }
    }

    #[test]
    fn holds_and_bookings_take_seats_and_release_them() {
        let mut e = event(10);
        let mut r = hold(5);
        e.account_new(&r);
        assert_eq!(e.available(), 8);
        assert_eq!(e.seats.held_count, 1);

        r.confirm(t(1), code()).unwrap();
        e.account(ReservationStatus::Hold, &r);
        assert_eq!((e.seats.held_seats, e.seats.confirmed_seats), (0, 2));
        assert_eq!(e.available(), 8);

        let door = crate::reservation::CheckInWindow {
            session_starts_at: e.details.starts_at,
            session_ends_at: e.details.ends_at,
            opens_before: chrono::Duration::days(1),
        };
        r.check_in(t(2), door).unwrap();
        e.account(ReservationStatus::Confirmed, &r);
        assert_eq!((e.seats.confirmed_seats, e.seats.confirmed_count), (2, 1));
        assert_eq!(e.available(), 8);
    }

    #[test]
    fn expiry_and_cancellation_free_seats() {
        let mut e = event(10);
        let mut r = hold(5);
        e.account_new(&r);
        r.expire(t(5)).unwrap();
        e.account(ReservationStatus::Hold, &r);
        assert_eq!(e.available(), 10);
        assert_eq!(e.seats, SeatCounts::default());
    }

    #[test]
    fn availability_ignores_lapsed_holds_that_were_not_swept() {
        let mut e = event(10);
        e.account_new(&hold(5));
        e.account_new(&hold(5));
        let at = e.availability(2, 1);
        assert_eq!((at.available, at.held_seats, at.held_count), (8, 2, 1));
    }

    #[test]
    fn validation_names_each_field() {
        let errors = EventDetails::new(EventInput {
            title: "  ".into(),
            description: String::new(),
            capacity: -1,
            price: Money::ZERO,
            starts_at: t(10),
            ends_at: t(10),
            is_active: true,
        })
        .unwrap_err();
        for field in ["title", "capacity", "ends_at"] {
            assert!(errors.has(field), "{field} missing in {errors}");
        }
    }

    #[test]
    fn a_free_event_is_valid() {
        let mut input = event(0).details.to_input();
        input.price = Money::ZERO;
        let details = EventDetails::new(input).unwrap();
        assert_eq!(details.capacity, 0);
        assert_eq!(details.price, Money::ZERO);
    }
}
