//! An event under its row lock: holding seats, edits and deletion.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::audit::{Changes, EVENT_FIELDS, Facts};
use crate::domain_events::{AuditDetails, Payload};
use crate::error::DomainError;
use crate::event::{Event, EventDetails};
use crate::ids::{ReservationId, UserId};
use crate::reservation::{Reservation, ReservationStatus};
use crate::unit_of_work::{Effects, Policy};
use crate::waitlist::WaitingList;

/// An event under its row lock, with its lapsed holds (locked), the live
/// holds of the users deciding (one or a batch of them), and ids for the
/// reservations the decisions may create.
#[derive(Debug, Clone)]
pub struct EventUnit {
    pub event: Event,
    /// Stored HOLDs with `expires_at <= now`: they no longer count.
    pub lapsed_holds: Vec<Reservation>,
    /// The live hold on this event of each deciding user who has one.
    pub live_holds: BTreeMap<UserId, ReservationId>,
    /// Unused reservation ids, taken from the end.
    pub fresh_ids: Vec<ReservationId>,
    /// The waiting list, when the decision may return seats or touches it.
    pub waiting: WaitingList,
    pub effects: Effects,
}

impl EventUnit {
    /// Records what the actor did to the event.
    fn audit(&mut self, actor: &Actor, details: &AuditDetails) {
        self.effects.audit(actor, Some(self.event.studio_id), self.event.id.to_string(), details);
    }

    fn announce_availability(&mut self) {
        self.event.announce_seats(&mut self.effects);
    }

    /// Expires every lapsed hold, freeing its seats. Returns how many.
    pub fn expire_lapsed_holds(&mut self, now: DateTime<Utc>) -> usize {
        let lapsed = std::mem::take(&mut self.lapsed_holds);
        let count = lapsed.len();
        for mut hold in lapsed {
            if hold.expire(now).is_ok() {
                self.event.account(ReservationStatus::Hold, &hold);
                self.effects.save(&hold);
                self.effects.reservation_event(&hold, Payload::ReservationExpired, now);
            }
        }
        if count > 0 {
            self.announce_availability();
        }
        count
    }

    /// Only users book, and to them a hidden event does not exist.
    pub(super) fn check_visible_to(&self, user: UserId) -> Result<(), DomainError> {
        if self.event.is_deleted() || !self.event.visibility().allows(Some(&Actor::user(user))) {
            return Err(DomainError::NotFound("event"));
        }
        Ok(())
    }

    /// The seats asked for, to hold or to wait for: within the policy, and
    /// only before the event starts.
    pub(super) fn seats_asked(&self, quantity: i64, now: DateTime<Utc>, policy: &Policy) -> Result<u32, DomainError> {
        if quantity < 1 || quantity > i64::from(policy.max_seats_per_hold) {
            return Err(DomainError::validation(
                "quantity",
                &format!("must be between 1 and {}", policy.max_seats_per_hold),
            ));
        }
        if now >= self.event.details.starts_at {
            return Err(DomainError::EventNotOpen);
        }
        Ok(quantity as u32)
    }

    /// Holds `quantity` seats for `user` at the event's price.
    pub fn place_hold(
        &mut self,
        user: UserId,
        quantity: i64,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Reservation, DomainError> {
        self.check_visible_to(user)?;
        let quantity = self.seats_asked(quantity, now, policy)?;
        if self.live_holds.contains_key(&user) {
            return Err(DomainError::HoldAlreadyExists);
        }
        let available = self.event.available();
        if available < quantity {
            return Err(DomainError::InsufficientCapacity { available });
        }
        let id = *self
            .fresh_ids
            .last()
            .ok_or_else(|| DomainError::storage_message("no reservation id was drawn for a hold"))?;
        let reservation = self.event.new_hold(id, user, quantity, now, policy)?;
        self.fresh_ids.pop();
        self.event.account_new(&reservation);
        self.live_holds.insert(user, reservation.id);
        self.effects.save(&reservation);
        self.effects.reservation_event(&reservation, Payload::HoldCreated, now);
        self.announce_availability();
        Ok(reservation)
    }

    /// Replaces the event's details; capacity may not drop below the seats
    /// reserved now.
    pub fn update(&mut self, actor: &Actor, details: EventDetails) -> Result<(), DomainError> {
        if self.event.is_deleted() {
            return Err(DomainError::NotFound("event"));
        }
        // Its bookings are gone and its customers told: a cancelled event stays so.
        if self.event.is_cancelled() {
            return Err(DomainError::EventCancelled);
        }
        let reserved = self.event.seats.taken();
        if details.capacity < reserved {
            return Err(DomainError::CapacityBelowReserved { reserved });
        }
        let before = self.event.snapshot(self.event.availability(0, 0));
        self.event.details = details;
        let after = self.event.snapshot(self.event.availability(0, 0));
        // Announced even when the seats stay the same: the snapshot carries
        // every detail, and every instance's read model must hear of the change.
        self.announce_availability();
        let changes = Changes::between(&before, &after, EVENT_FIELDS);
        self.audit(actor, &AuditDetails::EventUpdate(changes));
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
        // Off sale for good: the event's rooms (and every read model) hear it.
        self.event.details.is_active = false;
        self.announce_availability();
        let facts = Facts::of_event(&self.event.snapshot(self.event.availability(0, 0)));
        self.audit(actor, &AuditDetails::EventDelete(facts));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::tests::{STUDIO, m};
    use crate::domain_events::{AuditAction, EventKind, Room};
    use crate::event::SeatCounts;
    use crate::event::tests::{EVENT, event, seats};
    use crate::money::Money;
    use crate::reservation::ReservationTarget;
    use crate::reservation::tests::t;
    use crate::unit_of_work::tests::{
        BUYER, NEW, STRANGER, admin, assert_emitted, buyer_hold, count, emitted, event_rooms, policy, user_rooms,
    };

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
            live_holds: BTreeMap::new(),
            fresh_ids: vec![NEW],
            waiting: WaitingList::default(),
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
        // Hidden from the booker: not found, whatever the quantity.
        assert_eq!(assert_hold_refused(inactive.clone(), 1, t(0), &policy()), DomainError::NotFound("event"));
        assert_eq!(assert_hold_refused(inactive, 0, t(0), &policy()), DomainError::NotFound("event"));
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
    fn holds_decided_together_answer_as_each_would_alone() {
        let mut unit = event_unit(3, &[], &[]);
        unit.fresh_ids = vec![ReservationId(103), ReservationId(102), ReservationId(101)];
        let first = unit.place_hold(BUYER, 2, t(0), &policy()).unwrap();
        assert_eq!(unit.place_hold(BUYER, 1, t(0), &policy()).unwrap_err(), DomainError::HoldAlreadyExists);
        let refused = unit.place_hold(STRANGER, 2, t(0), &policy()).unwrap_err();
        assert_eq!(refused, DomainError::InsufficientCapacity { available: 1 });
        let second = unit.place_hold(STRANGER, 1, t(0), &policy()).unwrap();
        assert_eq!((first.id, second.id), (ReservationId(101), ReservationId(102)), "ids in decision order");
        assert_eq!(unit.effects.reservations, vec![first, second], "refusals leave nothing to write");
        assert_eq!(unit.event.available(), 0);
        assert_eq!(unit.fresh_ids, vec![ReservationId(103)]);

        unit.effects.keep_last_of_each_room(EventKind::AvailabilityChanged);
        let availability: Vec<_> =
            unit.effects.events.iter().filter(|e| e.kind == EventKind::AvailabilityChanged).collect();
        assert_eq!(availability.len(), 2, "one for the event's room, one for the studio's");
        assert!(availability.iter().all(|e| e.data["available"] == 0), "the last word on availability");
        let holds = unit.effects.events.iter().filter(|e| e.kind == EventKind::HoldCreated).count();
        assert_eq!(holds, 4, "every hold is still announced, to its user and to the studio");
    }

    #[test]
    fn a_user_holds_at_most_once_per_event() {
        let mut unit = event_unit(10, &[seats(5, BUYER, ReservationStatus::Hold, 1, t(3))], &[]);
        unit.live_holds.insert(BUYER, ReservationId(5));
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
        assert_eq!(hold, buyer_hold(ReservationTarget::Event(EVENT), 3, m("10.00"), t(0), t(5)));
        assert_eq!(hold.total_price, m("30.00"));
        assert_eq!(
            unit.event.seats,
            SeatCounts { held_seats: 3, held_count: 1, confirmed_seats: 0, confirmed_count: 0 }
        );
        assert_eq!(unit.event.available(), 7);
        assert_eq!(unit.live_holds.get(&BUYER), Some(&NEW));
        assert!(unit.fresh_ids.is_empty(), "the id was used");
        assert_eq!(unit.effects.reservations, vec![hold]);

        assert_emitted(
            &unit.effects,
            &[user_rooms(BUYER, EventKind::HoldCreated), event_rooms(EventKind::AvailabilityChanged)],
        );
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
        assert_eq!(unit.effects.audit[0].action, AuditAction::EventUpdate);
        assert_eq!(
            unit.effects.audit[0].details,
            serde_json::json!({ "changes": { "capacity": { "from": 10, "to": 6 } } })
        );
    }

    #[test]
    fn an_update_that_keeps_the_capacity_is_announced_too() {
        let mut unit = event_unit(10, &[], &[]);
        let details = EventDetails { title: "Tango night".into(), ..unit.event.details.clone() };
        unit.update(&admin(), details).unwrap();
        assert_eq!(unit.event.details.title, "Tango night");
        assert_eq!(emitted(&unit.effects), event_rooms(EventKind::AvailabilityChanged));
        assert_eq!(unit.effects.events[0].data["title"], "Tango night");
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
        unit.effects = Effects::default();
        unit.delete(&admin(), t(3)).unwrap();
        assert_eq!(unit.event.deleted_at, Some(t(3)));
        assert_eq!(emitted(&unit.effects), event_rooms(EventKind::AvailabilityChanged), "off sale, announced");
        assert_eq!(unit.effects.events[0].data["is_active"], false);
        assert_eq!(unit.effects.audit.len(), 1);
        assert_eq!(unit.effects.audit[0].action, AuditAction::EventDelete);
        assert_eq!(unit.effects.audit[0].target, "event:3");
    }
}
