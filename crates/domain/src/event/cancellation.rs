//! A studio cancels an event: one decision under the event's lock ends
//! every hold and booking it has, frees their seats, takes the event off
//! sale for good and tells each holder, the studio and the catalogue.

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::audit::{AuditedReservation, EventCancelled, Facts};
use crate::domain_events::{AuditDetails, Payload, Room};
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::ReservationId;
use crate::mail::Notice;
use crate::reservation::{CancelledBy, EventReservationsUnit, Parent, PaymentStatus, ReservationStatus};
use crate::unit_of_work::Policy;
use crate::waitlist::WaitlistChange;

/// What cancelling an event did: the event as it now stands, and the
/// reservations whose money is to go back (their refunds start after the commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCancellation {
    pub event: Event,
    pub refunds: Vec<ReservationId>,
}

impl EventReservationsUnit {
    /// Cancels the event (its studio's admins and platform admins) with every
    /// live hold and booking (loaded with [`crate::ports::EventBookings`]):
    /// each is CANCELLED and its holder told; lapsed holds are expired; bookings
    /// already checked in or marked no-show stay as they are. A paid booking's
    /// money is marked to go back. Cancelling twice is `EventCancelled`.
    pub fn cancel_event(
        &mut self,
        actor: &Actor,
        now: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<EventCancellation, DomainError> {
        let EventReservationsUnit { parent, reservations, waiting, effects } = self;
        let Parent::Event(event) = parent else {
            return Err(DomainError::NotFound("event"));
        };
        if event.is_deleted() || !actor.manages(event.studio_id) {
            return Err(DomainError::NotFound("event"));
        }
        if event.is_cancelled() {
            return Err(DomainError::EventCancelled);
        }
        let mut cancelled = Vec::new();
        let mut refunds = Vec::new();
        for reservation in reservations.iter_mut() {
            let before = reservation.status;
            let payload = match reservation.status_at(now) {
                ReservationStatus::Hold | ReservationStatus::Confirmed => {
                    let audited = AuditedReservation::of(reservation, now);
                    reservation.cancel(now, CancelledBy::Studio, event.details.starts_at, policy.cancel_cutoff)?;
                    if reservation.payment.status == PaymentStatus::RefundPending {
                        refunds.push(reservation.id);
                    }
                    if before.is_booked() {
                        effects.mail(reservation.user_id, Notice::session_cancelled(reservation, now));
                    }
                    cancelled.push(audited);
                    Payload::ReservationCancelled
                }
                ReservationStatus::Expired if before == ReservationStatus::Hold => {
                    reservation.expire(now).map_err(|_| DomainError::InvalidState(reservation.status_at(now)))?;
                    Payload::ReservationExpired
                }
                // Checked in, no-show or ended: history, kept as it is.
                _ => continue,
            };
            event.account(before, reservation);
            effects.save(reservation);
            effects.reservation_event(reservation, payload, now);
        }
        event.cancelled_at = Some(now);
        event.details.is_active = false;
        // Nothing will come back to wait for: the line ends with the event.
        for waiter in waiting.waiters.drain(..) {
            effects.waitlist.push(WaitlistChange::Left { event: event.id, user: waiter.user_id, at: now });
        }
        let snapshot = event.snapshot(event.availability(0, 0));
        let details = AuditDetails::EventCancel(EventCancelled {
            event: Facts::of_event(&snapshot),
            cancelled_reservations: cancelled,
        });
        // Off sale: its room and the catalogue hear it inactive (the public is told it is hidden).
        effects.emit(&[Room::Event(event.id), Room::Studio(event.studio_id)], Payload::AvailabilityChanged(snapshot));
        effects.audit(actor, Some(event.studio_id), event.id.to_string(), &details);
        Ok(EventCancellation { event: event.clone(), refunds })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::auction::tests::STUDIO;
    use crate::domain_events::{AuditAction, EventKind};
    use crate::event::SeatCounts;
    use crate::event::tests::{EVENT, event, seats};
    use crate::ids::UserId;
    use crate::payments::IntentId;
    use crate::reservation::Reservation;
    use crate::reservation::tests::t;
    use crate::unit_of_work::Effects;
    use crate::unit_of_work::tests::{admin, count, other_studio_admin, policy};

    const ADA: UserId = UserId(21);
    const BOB: UserId = UserId(22);
    const CEM: UserId = UserId(23);
    const DEV: UserId = UserId(24);

    /// A 10-seat event (starting at t(600)) with Ada's live hold of 2, Bob's
    /// paid booking of 3, Cem's hold of 1 that lapsed at t(4) and Dev's
    /// booking of 1, already checked in.
    fn unit() -> EventReservationsUnit {
        let mut paid = seats(2, BOB, ReservationStatus::Confirmed, 3, t(-10));
        paid.payment.open(IntentId("pi_bob".into()));
        paid.payment.status = PaymentStatus::Succeeded;
        paid.payment.amount = paid.total_price;
        let mut checked_in = seats(4, DEV, ReservationStatus::Confirmed, 1, t(-10));
        let door = crate::reservation::CheckInWindow {
            session_starts_at: t(600),
            session_ends_at: t(700),
            opens_before: chrono::Duration::days(1),
        };
        checked_in.check_in(t(-5), door).unwrap();
        let reservations = vec![
            seats(1, ADA, ReservationStatus::Hold, 2, t(30)),
            paid,
            seats(3, CEM, ReservationStatus::Hold, 1, t(4)),
            checked_in,
        ];
        let mut event = event(10);
        for reservation in &reservations {
            event.account_new(reservation);
        }
        EventReservationsUnit {
            parent: Parent::Event(event),
            reservations,
            waiting: Default::default(),
            effects: Effects::default(),
        }
    }

    fn parent_event(unit: &EventReservationsUnit) -> &Event {
        match &unit.parent {
            Parent::Event(event) => event,
            Parent::Auction(_) => panic!("not an event"),
        }
    }

    fn status_of(unit: &EventReservationsUnit, id: i64) -> ReservationStatus {
        let saved = unit.effects.reservations.iter().find(|r| r.id == ReservationId(id));
        saved.or_else(|| unit.reservations.iter().find(|r| r.id == ReservationId(id))).unwrap().status
    }

    #[test]
    fn every_live_hold_and_booking_is_cancelled_in_one_decision() {
        let mut unit = unit();
        let done = unit.cancel_event(&admin(), t(5), &policy()).unwrap();
        assert_eq!(status_of(&unit, 1), ReservationStatus::Cancelled);
        assert_eq!(status_of(&unit, 2), ReservationStatus::Cancelled);
        assert_eq!(status_of(&unit, 3), ReservationStatus::Expired, "a lapsed hold ends as it would have");
        assert_eq!(status_of(&unit, 4), ReservationStatus::CheckedIn, "history stays");
        assert!(unit.effects.reservations.iter().all(|r: &Reservation| r.id != ReservationId(4)));

        let event = parent_event(&unit);
        assert_eq!((event.cancelled_at, event.details.is_active), (Some(t(5)), false));
        assert_eq!(event.seats, SeatCounts { held_seats: 0, held_count: 0, confirmed_seats: 1, confirmed_count: 1 });
        assert_eq!(done.event, *event);
        assert_eq!(done.refunds, vec![ReservationId(2)], "only the paid booking's money goes back");
        let paid = unit.effects.reservations.iter().find(|r| r.id == ReservationId(2)).unwrap();
        assert_eq!(paid.payment.status, PaymentStatus::RefundPending);
    }

    #[test]
    fn each_holder_the_studio_and_the_event_room_are_told_once() {
        let mut unit = unit();
        unit.cancel_event(&admin(), t(5), &policy()).unwrap();
        let effects = &unit.effects;
        for user in [ADA, BOB] {
            assert_eq!(count(effects, Room::User(user), EventKind::ReservationCancelled), 1, "{user:?}");
        }
        assert_eq!(count(effects, Room::User(CEM), EventKind::ReservationExpired), 1);
        assert_eq!(count(effects, Room::User(DEV), EventKind::ReservationCancelled), 0);
        assert_eq!(count(effects, Room::Studio(STUDIO), EventKind::ReservationCancelled), 2);
        assert_eq!(count(effects, Room::Event(EVENT), EventKind::AvailabilityChanged), 1);
        assert_eq!(count(effects, Room::Studio(STUDIO), EventKind::AvailabilityChanged), 1);
        let last = effects.events.last().unwrap();
        assert_eq!((last.data["is_active"].clone(), last.data["available"].clone()), (false.into(), 9.into()));
        assert_eq!(last.data["cancelled_at"], "2026-06-01T12:05:00Z");
    }

    #[test]
    fn each_booking_it_ended_is_mailed_that_the_session_is_off_and_no_hold_is() {
        let mut unit = unit();
        unit.cancel_event(&admin(), t(5), &policy()).unwrap();
        let [mail] = unit.effects.mail.as_slice() else { panic!("{:?}", unit.effects.mail) };
        assert_eq!(mail.recipient, BOB.into(), "Ada's hold is no news; Dev's checked-in booking stays");
        let crate::mail::Notice::SessionCancelled { reservation } = &mail.notice else { panic!("{mail:?}") };
        assert_eq!(reservation.payment.status, PaymentStatus::RefundPending, "its money goes back");
    }

    #[test]
    fn the_cancellation_is_audited_with_what_it_ended() {
        let mut unit = unit();
        unit.cancel_event(&admin(), t(5), &policy()).unwrap();
        let [entry] = unit.effects.audit.as_slice() else { panic!("{:?}", unit.effects.audit) };
        assert_eq!((entry.action, entry.target.as_str()), (AuditAction::EventCancel, "event:3"));
        assert_eq!(entry.details["title"], "Salsa night");
        let ended: Vec<_> = entry.details["cancelled_reservations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["reservation_id"].clone(), r["previous_status"].clone()))
            .collect();
        assert_eq!(ended, vec![(1.into(), "HOLD".into()), (2.into(), "CONFIRMED".into())]);
    }

    #[test]
    fn a_cancelled_event_cannot_be_cancelled_again_or_edited() {
        let mut unit = unit();
        unit.cancel_event(&admin(), t(5), &policy()).unwrap();
        let before = unit.clone();
        assert_eq!(unit.cancel_event(&admin(), t(6), &policy()), Err(DomainError::EventCancelled));
        assert_eq!(unit.effects, before.effects);

        let mut edit = crate::event::EventUnit {
            event: parent_event(&unit).clone(),
            lapsed_holds: Vec::new(),
            live_holds: Default::default(),
            fresh_ids: Vec::new(),
            waiting: Default::default(),
            effects: Effects::default(),
        };
        let mut details = edit.event.details.clone();
        details.is_active = true;
        assert_eq!(edit.update(&admin(), details), Err(DomainError::EventCancelled));
        assert_eq!(edit.place_hold(ADA, 1, t(7), &policy()), Err(DomainError::NotFound("event")));
    }

    #[test]
    fn only_its_studio_may_cancel_it_and_a_deleted_event_is_not_found() {
        for actor in [other_studio_admin(), Actor::user(ADA)] {
            let mut unit = unit();
            assert_eq!(unit.cancel_event(&actor, t(5), &policy()), Err(DomainError::NotFound("event")), "{actor:?}");
            assert_eq!(unit.effects, Effects::default());
        }
        assert!(unit().cancel_event(&Actor::platform_admin(UserId(92)), t(5), &policy()).is_ok());
        let mut deleted = unit();
        if let Parent::Event(event) = &mut deleted.parent {
            event.deleted_at = Some(t(1));
        }
        assert_eq!(deleted.cancel_event(&admin(), t(5), &policy()), Err(DomainError::NotFound("event")));
    }

    #[test]
    fn an_event_may_be_cancelled_after_it_started_its_bookings_go_with_it() {
        let mut unit = unit();
        let later = t(600) + Duration::minutes(5);
        unit.cancel_event(&admin(), later, &policy()).unwrap();
        assert_eq!(status_of(&unit, 2), ReservationStatus::Cancelled, "the studio cancels whenever it must");
    }
}
