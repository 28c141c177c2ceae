//! The use cases of auctions, events and reservations against the in-memory
//! store: their rules, without a database (the adapters' conformance suite
//! and the HTTP tests cover the same flows on both real stores).

use chrono::Duration;
use futures_executor::block_on;

use super::Services;
use super::fakes::FakeCatalogue;
use crate::actor::Actor;
use crate::auction::tests::{STUDIO, auction_input, m};
use crate::clock::ManualClock;
use crate::domain_events::AuditAction;
use crate::error::DomainError;
use crate::event::EventInput;
use crate::ids::{StudioId, UserId};
use crate::ports::NoPublisher;
use crate::reservation::ReservationStatus;
use crate::reservation::tests::t;
use crate::unit_of_work::Policy;

type World = Services<FakeCatalogue, ManualClock, NoPublisher>;

fn world() -> (World, FakeCatalogue, ManualClock) {
    let (store, clock) = (FakeCatalogue::default(), ManualClock::new(t(30)));
    (Services::new(store.clone(), clock.clone(), NoPublisher, Policy::default()), store, clock)
}

fn admin() -> Actor {
    Actor::studio_admin(UserId(1), STUDIO)
}

fn ada() -> Actor {
    Actor::user(UserId(10))
}

fn bob() -> Actor {
    Actor::user(UserId(11))
}

fn event_input(capacity: i64) -> EventInput {
    EventInput {
        title: "Salsa night".into(),
        description: String::new(),
        capacity,
        price: m("150.00"),
        starts_at: t(600),
        ends_at: t(660),
        is_active: true,
    }
}

#[test]
fn only_admins_of_the_studio_list_auctions_and_each_listing_is_audited() {
    let (services, store, _) = world();
    let refused = block_on(services.create_auction(&ada(), Some(STUDIO), auction_input()));
    assert!(matches!(refused, Err(DomainError::Forbidden(_))), "{refused:?}");
    let other = Actor::studio_admin(UserId(2), StudioId(2));
    let refused = block_on(services.create_auction(&other, Some(STUDIO), auction_input()));
    assert_eq!(refused.map(|a| a.id), Err(DomainError::NotFound("studio")));
    assert!(store.rows().auctions.is_empty());

    let auction = block_on(services.create_auction(&admin(), None, auction_input())).unwrap();
    let rows = store.rows();
    assert_eq!(rows.auctions[&auction.id].studio_id, STUDIO, "an admin's own studio by default");
    assert_eq!(rows.audit.len(), 1);
    assert_eq!(rows.audit[0].action, AuditAction::AuctionCreate);
    assert_eq!(rows.outbox.iter().map(|e| e.room.as_str()).collect::<Vec<_>>(), ["studio:1"]);
}

#[test]
fn another_studios_admin_is_refused_before_any_lock_is_taken() {
    let (services, store, _) = world();
    let auction = block_on(services.create_auction(&admin(), None, auction_input())).unwrap();
    let event = block_on(services.create_event(&admin(), None, event_input(5))).unwrap();
    let other = Actor::studio_admin(UserId(2), StudioId(2));
    assert_eq!(block_on(services.cancel_auction(&other, auction.id)).err(), Some(DomainError::NotFound("auction")));
    assert_eq!(block_on(services.trigger_turbo(&other, auction.id)).err(), Some(DomainError::NotFound("auction")));
    assert_eq!(block_on(services.delete_event(&other, event.id)).err(), Some(DomainError::NotFound("event")));
    assert_eq!(store.rows().locks_taken, 0, "refused from what is known, without locking");
    block_on(services.cancel_auction(&admin(), auction.id)).unwrap();
    assert_eq!(store.rows().locks_taken, 1);
}

#[test]
fn the_first_grab_holds_the_slot_and_the_next_hear_why_they_lost() {
    let (services, store, _) = world();
    let auction = block_on(services.create_auction(&admin(), None, auction_input())).unwrap();
    let hold = block_on(services.grab(&ada(), auction.id, false)).unwrap();
    assert_eq!((hold.status, hold.unit_price), (ReservationStatus::Hold, m("500.00")));
    assert_eq!(block_on(services.grab(&bob(), auction.id, false)).err(), Some(DomainError::AuctionOnHold));
    assert_eq!(block_on(services.grab(&admin(), auction.id, false)).err(), Some(DomainError::BookingNotAllowed));

    let booked = block_on(services.confirm(&ada(), hold.id)).unwrap();
    assert_eq!(booked.status, ReservationStatus::Confirmed);
    assert!(booked.booking_code.is_some());
    assert_eq!(block_on(services.grab(&bob(), auction.id, false)).err(), Some(DomainError::AuctionAlreadyBooked));
    assert_eq!(store.rows().reservations.len(), 1, "one winner, one reservation");
    assert_eq!(block_on(services.confirm(&bob(), hold.id)).err(), Some(DomainError::NotFound("reservation")));
}

#[test]
fn holds_take_seats_until_none_are_left_and_a_lapsed_hold_gives_them_back() {
    let (services, store, clock) = world();
    let event = block_on(services.create_event(&admin(), None, event_input(3))).unwrap();
    let ada_hold = block_on(services.hold(&ada(), event.id, 2)).unwrap();
    assert_eq!(
        block_on(services.hold(&bob(), event.id, 2)).err(),
        Some(DomainError::InsufficientCapacity { available: 1 })
    );
    block_on(services.hold(&bob(), event.id, 1)).unwrap();
    assert_eq!(block_on(services.get_event_from_store(event.id)).unwrap().availability.available, 0);
    assert_eq!(block_on(services.hold(&ada(), event.id, 1)).err(), Some(DomainError::HoldAlreadyExists));

    clock.advance(Policy::default().hold_ttl + Duration::seconds(1));
    assert_eq!(block_on(services.get_event_from_store(event.id)).unwrap().availability.available, 3);
    assert_eq!(block_on(services.confirm(&ada(), ada_hold.id)).err(), Some(DomainError::HoldExpired));
    assert_eq!(store.rows().reservations[&ada_hold.id].status, ReservationStatus::Expired, "persisted as EXPIRED");
    let again = block_on(services.hold(&bob(), event.id, 3)).unwrap();
    assert_eq!(again.quantity, 3, "every seat came back, Bob's own lapsed hold's too");
}

#[test]
fn a_new_event_is_announced_to_its_studio_like_a_new_auction() {
    let (services, store, _) = world();
    let event = block_on(services.create_event(&admin(), None, event_input(5))).unwrap();
    let rows = store.rows();
    let announced: Vec<_> = rows.outbox.iter().map(|e| (e.room.as_str(), e.kind.as_str())).collect();
    assert_eq!(announced, [("studio:1", "availability_changed")]);
    assert_eq!(rows.outbox[0].data["id"], event.id.0);
}

#[test]
fn cancelling_an_event_cancels_its_holds_and_bookings_and_announces_each() {
    let (services, store, _) = world();
    let event = block_on(services.create_event(&admin(), None, event_input(5))).unwrap();
    let booked = block_on(services.hold(&ada(), event.id, 2)).unwrap();
    block_on(services.confirm(&ada(), booked.id)).unwrap();
    let held = block_on(services.hold(&bob(), event.id, 1)).unwrap();
    let other = Actor::studio_admin(UserId(2), StudioId(2));
    assert_eq!(block_on(services.cancel_event(&other, event.id)).err(), Some(DomainError::NotFound("event")));

    let cancelled = block_on(services.cancel_event(&admin(), event.id)).unwrap();
    assert_eq!(cancelled.available(), 5);
    let rows = store.rows();
    for id in [booked.id, held.id] {
        assert_eq!(rows.reservations[&id].status, ReservationStatus::Cancelled);
    }
    let told: Vec<_> =
        rows.outbox.iter().filter(|e| e.kind == "reservation_cancelled").map(|e| e.room.as_str()).collect();
    assert_eq!(told, ["user:10", "studio:1", "user:11", "studio:1"]);
    drop(rows);
    assert_eq!(block_on(services.cancel_event(&admin(), event.id)).err(), Some(DomainError::EventCancelled));
    assert_eq!(block_on(services.hold(&ada(), event.id, 1)).err(), Some(DomainError::NotFound("event")));
}

#[test]
fn a_weekly_repeat_creates_every_auction_in_one_commit() {
    let (services, store, _) = world();
    let until = t(180).date_naive() + chrono::Days::new(14);
    let created = block_on(services.create_weekly_auctions(&admin(), None, auction_input(), chrono_tz::UTC, until));
    let created = created.unwrap();
    let sessions: Vec<_> = created.iter().map(|a| a.details.scheduled_at).collect();
    assert_eq!(sessions, [t(180), t(180) + Duration::weeks(1), t(180) + Duration::weeks(2)]);
    let rows = store.rows();
    assert_eq!((rows.auctions.len(), rows.audit.len(), rows.outbox.len()), (3, 3, 3));
    drop(rows);
    let refused = block_on(services.create_weekly_auctions(&ada(), None, auction_input(), chrono_tz::UTC, until));
    assert!(matches!(refused, Err(DomainError::Forbidden(_))), "{refused:?}");
}

#[test]
fn deleting_an_auction_removes_it_unless_someone_reserved_it() {
    let (services, store, _) = world();
    let unwanted = block_on(services.create_auction(&admin(), None, auction_input())).unwrap();
    block_on(services.delete_auction(&admin(), unwanted.id)).unwrap();
    assert!(!store.rows().auctions.contains_key(&unwanted.id));
    assert_eq!(block_on(services.get_auction(unwanted.id)).err(), Some(DomainError::NotFound("auction")));

    let grabbed = block_on(services.create_auction(&admin(), None, auction_input())).unwrap();
    block_on(services.grab(&ada(), grabbed.id, false)).unwrap();
    assert_eq!(block_on(services.delete_auction(&admin(), grabbed.id)), Err(DomainError::AuctionHasReservations));
    assert!(store.rows().auctions.contains_key(&grabbed.id));
}
