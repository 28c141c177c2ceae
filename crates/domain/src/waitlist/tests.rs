//! The waiting list's rules, without a database.

use std::collections::BTreeMap;

use super::*;
use crate::actor::Actor;
use crate::domain_events::EventKind;
use crate::error::DomainError;
use crate::event::EventUnit;
use crate::event::tests::{EVENT, event, seats};
use crate::mail::MailKind;
use crate::reservation::tests::t;
use crate::reservation::{Parent, ReservationUnit};
use crate::unit_of_work::tests::policy;

fn waiter(user: i64, quantity: u32) -> Waiter {
    Waiter { user_id: UserId(user), quantity, joined_at: t(-30 + user), hold: None }
}

fn users(waiters: &[Waiter], chosen: &[usize]) -> Vec<i64> {
    chosen.iter().map(|&i| waiters[i].user_id.0).collect()
}

#[test]
fn offers_go_in_order_of_joining_to_each_waiter_who_fits() {
    let line = [waiter(1, 2), waiter(2, 1), waiter(3, 3), waiter(4, 1)];
    assert_eq!(users(&line, &choose_offers(&line, 0, |_| true)), Vec::<i64>::new());
    assert_eq!(users(&line, &choose_offers(&line, 1, |_| true)), vec![2], "the first who fits, not the first");
    assert_eq!(users(&line, &choose_offers(&line, 2, |_| true)), vec![1]);
    assert_eq!(users(&line, &choose_offers(&line, 3, |_| true)), vec![1, 2]);
    assert_eq!(users(&line, &choose_offers(&line, 4, |_| true)), vec![1, 2, 4], "3 does not fit in the one left");
    assert_eq!(users(&line, &choose_offers(&line, 7, |_| true)), vec![1, 2, 3, 4]);
    assert_eq!(users(&line, &choose_offers(&line, 100, |_| true)), vec![1, 2, 3, 4]);
    let not_two = |w: &Waiter| w.user_id != UserId(2);
    assert_eq!(users(&line, &choose_offers(&line, 3, not_two)), vec![1, 4], "one who may not hold is passed over");
}

#[test]
fn offers_never_exceed_the_seats() {
    // Every line of 1..=4 waiters with quantities 1..=3 and every seat count up to 8.
    for seats in 0..=8u32 {
        for code in 0..(3u32.pow(4)) {
            let line: Vec<Waiter> = (0..4).map(|i| waiter(i64::from(i), (code / 3u32.pow(i)) % 3 + 1)).collect();
            let chosen = choose_offers(&line, seats, |_| true);
            let given: u32 = chosen.iter().map(|&i| line[i].quantity).sum();
            assert!(given <= seats, "{seats} seats, line {code}");
            assert!(chosen.windows(2).all(|w| w[0] < w[1]), "in order");
            // Nobody left out would have fit in what is left.
            let left = seats - given;
            assert!(line.iter().enumerate().all(|(i, w)| chosen.contains(&i) || w.quantity > left));
        }
    }
}

/// A 4-seat event, full (two holds of 2, one lapsed at t(0)), with `line` waiting.
fn full_event(line: Vec<Waiter>) -> EventUnit {
    let live = seats(5, UserId(50), ReservationStatus::Hold, 2, t(3));
    let lapsed = seats(6, UserId(51), ReservationStatus::Hold, 2, t(0));
    let mut event = event(4);
    event.account_new(&live);
    event.account_new(&lapsed);
    let fresh_ids = (0..line.len() as i64).rev().map(|i| ReservationId(200 + i)).collect();
    EventUnit {
        event,
        lapsed_holds: vec![lapsed],
        live_holds: BTreeMap::new(),
        fresh_ids: Vec::new(),
        waiting: WaitingList { waiters: line, fresh_ids },
        effects: Effects::default(),
    }
}

#[test]
fn a_lapsed_hold_goes_to_the_waiting_list_first() {
    let mut unit = full_event(vec![waiter(1, 3), waiter(2, 1), waiter(3, 1), waiter(4, 1)]);
    unit.expire_lapsed_holds(t(1));
    let offered = unit.offer_waiting_list(t(1), &policy());
    let to: Vec<(i64, u32, i64)> = offered.iter().map(|h| (h.user_id.0, h.quantity, h.id.0)).collect();
    assert_eq!(to, vec![(2, 1, 200), (3, 1, 201)], "the first two who fit, ids in order");
    assert!(offered.iter().all(|h| h.status == ReservationStatus::Hold && h.expires_at == t(6)));
    assert_eq!(unit.event.available(), 0, "offered seats count like any hold");
    assert_eq!(unit.live_holds.get(&UserId(2)), Some(&ReservationId(200)));
    let still: Vec<i64> = unit.waiting.waiters.iter().map(|w| w.user_id.0).collect();
    assert_eq!(still, vec![1, 4], "the offered left the line");
    // Nobody else can take them now.
    unit.fresh_ids = vec![ReservationId(300)];
    let refused = unit.place_hold(UserId(60), 1, t(1), &policy());
    assert_eq!(refused, Err(DomainError::InsufficientCapacity { available: 0 }));

    let offers = unit.effects.events.iter().filter(|e| e.kind == EventKind::HoldOffered);
    let rooms: Vec<String> = offers.map(|e| e.room.to_string()).collect();
    assert_eq!(rooms, vec!["user:2", "user:3"]);
    let mailed: Vec<(i64, MailKind)> =
        unit.effects.mail.iter().map(|m| (m.recipient.user().map_or(0, |u| u.0), m.notice.kind())).collect();
    assert_eq!(mailed, vec![(2, MailKind::WaitlistOffer), (3, MailKind::WaitlistOffer)]);
    assert_eq!(unit.effects.mail[0].notice.cause(), "reservation:200");
    assert_eq!(
        unit.effects.waitlist,
        vec![
            WaitlistChange::Offered { event: EVENT, user: UserId(2), reservation: ReservationId(200), at: t(1) },
            WaitlistChange::Offered { event: EVENT, user: UserId(3), reservation: ReservationId(201), at: t(1) },
        ]
    );
}

#[test]
fn an_offer_never_outlasts_the_start_and_none_is_made_once_it_passed() {
    let mut unit = full_event(vec![waiter(1, 1)]);
    unit.expire_lapsed_holds(t(598));
    assert_eq!(unit.offer_waiting_list(t(598), &policy())[0].expires_at, t(600));

    let mut started = full_event(vec![waiter(1, 1)]);
    started.expire_lapsed_holds(t(600));
    assert!(started.offer_waiting_list(t(600), &policy()).is_empty());
    let mut cancelled = full_event(vec![waiter(1, 1)]);
    cancelled.event.cancelled_at = Some(t(0));
    cancelled.expire_lapsed_holds(t(1));
    assert!(cancelled.offer_waiting_list(t(1), &policy()).is_empty());
    assert!(cancelled.effects.waitlist.is_empty());
}

#[test]
fn a_waiter_whose_hold_stands_is_passed_over_until_it_ends() {
    let mut holding = waiter(51, 1);
    holding.hold = Some(ReservationId(6));
    let mut other = waiter(52, 1);
    other.hold = Some(ReservationId(5));
    // 51's own hold is the lapsed one: expired by this decision, it no longer stands.
    let mut unit = full_event(vec![other, holding, waiter(3, 1)]);
    unit.expire_lapsed_holds(t(1));
    let offered: Vec<i64> = unit.offer_waiting_list(t(1), &policy()).iter().map(|h| h.user_id.0).collect();
    assert_eq!(offered, vec![51, 3]);
}

#[test]
fn a_cancelled_booking_goes_to_the_waiting_list_and_a_lapsed_offer_passes_on() {
    let booking = seats(7, UserId(50), ReservationStatus::Confirmed, 2, t(-1));
    let mut event = event(2);
    event.account_new(&booking);
    let mut unit = ReservationUnit::new(booking, Parent::Event(event));
    unit.waiting = WaitingList {
        waiters: vec![waiter(1, 2), waiter(2, 2)],
        fresh_ids: vec![ReservationId(201), ReservationId(200)],
    };
    unit.cancel(&Actor::user(UserId(50)), t(1), &policy()).unwrap();
    let offer = unit.offer_waiting_list(t(1), &policy()).remove(0);
    assert_eq!((offer.user_id, offer.quantity, offer.expires_at), (UserId(1), 2, t(6)));
    assert!(unit.effects.mail.iter().any(|m| m.notice.kind() == MailKind::BookingCancelled));
    let Parent::Event(event) = unit.parent.clone() else { unreachable!() };
    assert_eq!(event.available(), 0);

    // The offer lapses unconfirmed: its seats go to the next in line.
    let mut lapsed = ReservationUnit::new(offer, Parent::Event(event));
    lapsed.waiting = WaitingList { waiters: vec![waiter(2, 2)], fresh_ids: vec![ReservationId(300)] };
    lapsed.expire(t(6)).unwrap();
    let next = lapsed.offer_waiting_list(t(6), &policy());
    assert_eq!(next.iter().map(|h| h.user_id).collect::<Vec<_>>(), vec![UserId(2)]);
    assert!(lapsed.waiting.waiters.is_empty());
    assert_eq!(
        lapsed.effects.reservations.iter().map(|r| (r.id.0, r.status)).collect::<Vec<_>>(),
        vec![(200, ReservationStatus::Expired), (300, ReservationStatus::Hold)]
    );
}

#[test]
fn growing_capacity_offers_the_new_seats() {
    let mut unit = full_event(vec![waiter(1, 2), waiter(2, 2)]);
    unit.lapsed_holds.clear();
    let details = crate::event::EventDetails { capacity: 6, ..unit.event.details.clone() };
    unit.update(&crate::unit_of_work::tests::admin(), details).unwrap();
    let offered: Vec<i64> = unit.offer_waiting_list(t(1), &policy()).iter().map(|h| h.user_id.0).collect();
    assert_eq!(offered, vec![1]);
}

#[test]
fn joining_needs_a_full_event_once_per_user() {
    let mut unit = full_event(vec![waiter(1, 1)]);
    let user = UserId(70);
    let join = |unit: &mut EventUnit, quantity| unit.join_waitlist(user, quantity, t(0), &policy());
    assert!(matches!(join(&mut unit.clone(), 0), Err(DomainError::Validation(_))));
    assert!(matches!(join(&mut unit.clone(), 11), Err(DomainError::Validation(_))));
    let place = join(&mut unit, 1).unwrap();
    assert_eq!((place.place, place.quantity, place.since), (2, 1, t(0)));
    assert_eq!(join(&mut unit, 1), Err(DomainError::AlreadyWaiting));
    assert_eq!(unit.effects.waitlist.len(), 1);

    // With seats enough to hold, there is nothing to wait for.
    let mut freed = full_event(Vec::new());
    freed.expire_lapsed_holds(t(1));
    assert_eq!(freed.join_waitlist(user, 2, t(1), &policy()), Err(DomainError::SeatsAvailable { available: 2 }));
    assert!(freed.join_waitlist(user, 3, t(1), &policy()).is_ok(), "fewer than 3 are available");

    let mut holding = full_event(Vec::new());
    holding.live_holds.insert(user, ReservationId(9));
    assert_eq!(holding.join_waitlist(user, 1, t(0), &policy()), Err(DomainError::HoldAlreadyExists));
    assert_eq!(full_event(Vec::new()).join_waitlist(user, 1, t(600), &policy()), Err(DomainError::EventNotOpen));

    unit.leave_waitlist(user, t(2)).unwrap();
    assert_eq!(unit.leave_waitlist(user, t(2)), Err(DomainError::NotFound("waiting list entry")));
    assert_eq!(unit.waiting.place_of(EVENT, UserId(1)).map(|p| p.place), Some(1));
}
