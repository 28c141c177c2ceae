//! Catalogue and history reads, the outbox log and the background jobs'
//! queries on SQLite: the same pages, orders and effective statuses as on
//! PostgreSQL.

mod common;

use chrono::Duration;
use common::{World, auction_input, epoch, money};
use hothour_domain::ports::{
    ActiveFilter, AuctionFilter, EventFilter, JobStore, OutboxStore, QueryStore, ReservationFilter, ReservationStore,
};
use hothour_domain::{AuctionId, AuctionStatus, ReservationStatus, ReservationTarget};

/// The admin's auction of the usual prices, starting at `starts_at`.
async fn standard_auction(world: &World, starts_at: chrono::DateTime<chrono::Utc>) -> AuctionId {
    let input = auction_input(starts_at, money("500.00"), money("100.00"), money("50.00"), money("20.00"));
    world.services.create_auction(&world.admin, None, input).await.unwrap().id
}

#[tokio::test]
async fn events_page_by_start_then_id_with_availability_at_now() {
    let world = World::new("q-events").await;
    let store = &world.db.store;
    let mut ids = Vec::new();
    for days in [3, 2, 2, 4] {
        let mut input = world.event_input(money("10.00"), 5);
        input.starts_at = epoch() + Duration::days(days);
        input.ends_at = input.starts_at + Duration::hours(1);
        ids.push(world.services.create_event(&world.admin, None, input).await.unwrap().id);
    }
    let mut hidden = world.event_input(money("10.00"), 5);
    hidden.is_active = false;
    let hidden = world.services.create_event(&world.admin, None, hidden).await.unwrap().id;

    let first = store.list_events(EventFilter::default(), epoch(), 2, None).await.unwrap();
    assert_eq!(first.iter().map(|r| r.event.id).collect::<Vec<_>>(), vec![ids[1], ids[2]]);
    let cursor = first.last().map(|r| (r.event.details.starts_at, r.event.id));
    let second = store.list_events(EventFilter::default(), epoch(), 2, cursor).await.unwrap();
    assert_eq!(second.iter().map(|r| r.event.id).collect::<Vec<_>>(), vec![ids[0], ids[3]]);

    let inactive = EventFilter { active: ActiveFilter::Inactive, ..Default::default() };
    let listed = store.list_events(inactive, epoch(), 10, None).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.event.id).collect::<Vec<_>>(), vec![hidden]);
    let all = EventFilter { active: ActiveFilter::All, studio_id: Some(world.studio), ..Default::default() };
    assert_eq!(store.list_events(all, epoch(), 10, None).await.unwrap().len(), 5);
    let window = EventFilter {
        starts_after: Some(epoch() + Duration::days(2)),
        starts_before: Some(epoch() + Duration::days(3)),
        ..Default::default()
    };
    assert_eq!(store.list_events(window, epoch(), 10, None).await.unwrap().len(), 2);

    // A hold counts until it lapses, swept or not.
    let alice = world.user("alice@example.test").await;
    let hold = world.services.hold(&alice, ids[1], 3).await.unwrap();
    let listed = store.list_events(EventFilter::default(), epoch(), 1, None).await.unwrap();
    assert_eq!((listed[0].availability.available, listed[0].availability.held_seats), (2, 3));
    let listed = store.list_events(EventFilter::default(), hold.expires_at, 1, None).await.unwrap();
    assert_eq!((listed[0].availability.available, listed[0].availability.held_seats), (5, 0));
}

#[tokio::test]
async fn auctions_filter_by_their_status_at_now() {
    let world = World::new("q-auctions").await;
    let store = &world.db.store;
    let active = standard_auction(&world, epoch()).await;
    let held = standard_auction(&world, epoch()).await;
    let draft = standard_auction(&world, epoch() + Duration::hours(1)).await;
    let alice = world.user("alice@example.test").await;
    let hold = world.services.grab(&alice, held, false).await.unwrap();

    let by = |status| AuctionFilter { status: Some(status), ..Default::default() };
    let ids =
        |records: Vec<hothour_domain::ports::AuctionRecord>| records.iter().map(|r| r.auction.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_auctions(by(AuctionStatus::Active), epoch(), 10, None).await.unwrap()), vec![active]);
    assert_eq!(ids(store.list_auctions(by(AuctionStatus::Draft), epoch(), 10, None).await.unwrap()), vec![draft]);
    let listed = store.list_auctions(by(AuctionStatus::Held), epoch(), 10, None).await.unwrap();
    assert_eq!(ids(listed.clone()), vec![held]);
    assert_eq!(listed[0].live.as_ref().map(|r| r.id), Some(hold.id));
    // Once the hold lapses the auction is ACTIVE again, before any sweep.
    let later = hold.expires_at;
    assert_eq!(ids(store.list_auctions(by(AuctionStatus::Active), later, 10, None).await.unwrap()), vec![active, held]);
    let page = store.list_auctions(AuctionFilter::default(), epoch(), 2, None).await.unwrap();
    assert_eq!(ids(page.clone()), vec![active, held]);
    let cursor = page.last().map(|r| (r.auction.schedule().starts_at(), r.auction.id));
    assert_eq!(ids(store.list_auctions(AuctionFilter::default(), epoch(), 2, cursor).await.unwrap()), vec![draft]);
}

#[tokio::test]
async fn reservations_list_newest_first_by_effective_status() {
    let world = World::new("q-reservations").await;
    let store = &world.db.store;
    let event =
        world.services.create_event(&world.admin, None, world.event_input(money("10.00"), 10)).await.unwrap().id;
    let alice = world.user("alice@example.test").await;
    let bob = world.user("bob@example.test").await;
    let first = world.services.hold(&alice, event, 1).await.unwrap();
    let second = world.services.hold(&bob, event, 1).await.unwrap();
    world.services.confirm(&bob, second.id).await.unwrap();

    let mine = ReservationFilter { user_id: Some(alice.user_id), ..Default::default() };
    assert_eq!(store.list_reservations(mine, epoch(), 10, None).await.unwrap().len(), 1);
    let studio = ReservationFilter { studio_id: Some(world.studio), ..Default::default() };
    let all = store.list_reservations(studio, epoch(), 10, None).await.unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![second.id, first.id], "newest first");
    assert_eq!(
        store
            .list_reservations(studio, epoch(), 10, Some(second.id))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![first.id]
    );

    let status = |s| ReservationFilter { status: Some(s), ..Default::default() };
    let lapsed = first.expires_at;
    assert_eq!(store.list_reservations(status(ReservationStatus::Hold), epoch(), 10, None).await.unwrap().len(), 1);
    assert!(store.list_reservations(status(ReservationStatus::Hold), lapsed, 10, None).await.unwrap().is_empty());
    let expired = store.list_reservations(status(ReservationStatus::Expired), lapsed, 10, None).await.unwrap();
    assert_eq!(expired.iter().map(|r| r.id).collect::<Vec<_>>(), vec![first.id], "a lapsed hold shows as EXPIRED");
    assert_eq!(store.list_reservations(status(ReservationStatus::Confirmed), lapsed, 10, None).await.unwrap().len(), 1);

    assert_eq!(store.parents_with_lapsed_holds(epoch(), 10).await.unwrap(), vec![]);
    assert_eq!(store.parents_with_lapsed_holds(lapsed, 10).await.unwrap(), vec![ReservationTarget::Event(event)]);
}

#[tokio::test]
async fn audit_entries_list_newest_first_per_studio() {
    let world = World::new("q-audit").await;
    let store = &world.db.store;
    for _ in 0..3 {
        world.services.create_event(&world.admin, None, world.event_input(money("1.00"), 1)).await.unwrap();
    }
    let entries = store.list_audit(Some(world.studio), 2, None).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].id > entries[1].id);
    assert_eq!(entries[0].action, "event.create");
    assert_eq!(entries[0].details["title"], "Salsa night");
    assert_eq!(entries[0].created_at, epoch());
    assert_eq!(store.list_audit(None, 10, Some(entries[1].id)).await.unwrap().len(), 1);
    assert!(store.list_audit(Some(hothour_domain::StudioId(999)), 10, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn jobs_find_auctions_to_settle_and_bookings_not_shown() {
    let world = World::new("q-jobs").await;
    let store = &world.db.store;
    let draft = standard_auction(&world, epoch() + Duration::minutes(10)).await;
    assert!(store.auctions_to_settle(epoch(), 10).await.unwrap().is_empty());
    assert_eq!(store.auctions_to_settle(epoch() + Duration::minutes(10), 10).await.unwrap(), vec![draft]);
    world.clock.set(epoch() + Duration::minutes(10));
    assert_eq!(world.services.settle_due_auctions(10).await.unwrap().changed, 1);
    // Turbo starts 30 minutes before the end (minute 100 of 120 after the start at minute 10).
    assert!(store.auctions_to_settle(epoch() + Duration::minutes(99), 10).await.unwrap().is_empty());
    assert_eq!(store.auctions_to_settle(epoch() + Duration::minutes(100), 10).await.unwrap(), vec![draft]);

    let alice = world.user("alice@example.test").await;
    let booked = world.services.grab(&alice, draft, true).await.unwrap();
    let session = epoch() + Duration::minutes(10 + 180);
    let grace = Duration::minutes(15);
    assert!(store.due_no_shows(session + grace - Duration::microseconds(1), grace, 10).await.unwrap().is_empty());
    assert_eq!(store.due_no_shows(session + grace, grace, 10).await.unwrap(), vec![booked.id]);
}

#[tokio::test]
async fn the_outbox_resumes_a_room_and_prunes_old_events() {
    let world = World::new("q-outbox").await;
    let store = &world.db.store;
    let auction = standard_auction(&world, epoch()).await;
    let room = format!("auction:{}", auction.0);
    assert_eq!(store.latest_seq(&room).await.unwrap(), 0);
    let alice = world.user("alice@example.test").await;
    world.services.grab(&alice, auction, false).await.unwrap();
    let latest = store.latest_seq(&room).await.unwrap();
    assert!(latest > 0);
    let replay = store.events_since(&room, 0, 100).await.unwrap().expect("nothing pruned yet");
    assert_eq!(replay.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["auction_held"]);
    assert_eq!(store.events_since(&room, latest, 100).await.unwrap(), Some(vec![]));

    world.clock.set(epoch() + Duration::minutes(1));
    world.services.cancel_auction(&world.admin, auction).await.unwrap();
    let newest = store.latest_seq(&room).await.unwrap();
    assert!(store.prune_events(epoch() + Duration::seconds(1)).await.unwrap() > 0);
    assert_eq!(store.events_since(&room, 0, 100).await.unwrap(), None, "pruned: take a snapshot");
    let kept = store.events_since(&room, newest - 1, 100).await.unwrap().expect("still kept");
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![newest]);
    assert_eq!(
        store.latest_seq_overall().await.unwrap(),
        store.events_after(0, 100).await.unwrap().last().unwrap().seq
    );
}
