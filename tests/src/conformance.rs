//! The storage-adapter conformance suite: every adapter must pass it.
//!
//! Each check is a function generic over a [`Backend`]; an adapter's test file
//! instantiates them all with [`conformance_tests!`](crate::conformance_tests).
//! Races are real (hundreds of tasks on one row) and every invariant is then
//! checked with a query against the adapter's own database.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hothour_domain::account::{NewStudio, NewUser};
use hothour_domain::ports::{
    AccountStore, AuctionStore, BookingCodes, EventHolds, EventPublisher, EventStore, EventsHolds, JobStore, LockMode,
    Locks, NoPublisher, OutboxStore, PaymentRecords, ReservationStore, WaitlistStore,
};
use hothour_domain::{
    Actor, AuctionId, AuctionInput, AuctionStatus, DomainError, EventId, EventInput, ManualClock, Money, Policy,
    PriceScheduleInput, ReservationStatus, ReservationTarget, Role, Services, StoredEvent, StudioId, TurboConfig,
    UserId,
};

/// What the suite needs from an adapter under test.
pub trait Backend: Send + Sync + 'static {
    type Store: AccountStore
        + AuctionStore
        + EventStore
        + ReservationStore
        + JobStore
        + OutboxStore
        + PaymentRecords
        + WaitlistStore
        + BookingCodes
        + Clone
        + 'static;

    /// A backend on a fresh, migrated, empty database.
    fn fresh() -> impl Future<Output = Self> + Send
    where
        Self: Sized;

    fn store(&self) -> Self::Store;

    /// Runs a query returning one integer (portable SQL only).
    fn scalar(&self, sql: &str) -> impl Future<Output = i64> + Send;
}

pub type Svc<B> = Services<<B as Backend>::Store, ManualClock, NoPublisher>;

/// A studio, its admin, a clock and the services, on a fresh database.
pub struct World<B: Backend> {
    pub backend: B,
    pub clock: ManualClock,
    pub services: Arc<Svc<B>>,
    pub studio: StudioId,
    pub admin: Actor,
}

/// A fixed instant the suite's clocks start from.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, 1, 9, 0, 0).unwrap()
}

pub fn money(value: &str) -> Money {
    Money::parse(value).expect("valid money")
}

impl<B: Backend> World<B> {
    pub async fn new() -> World<B> {
        let backend = B::fresh().await;
        let store = backend.store();
        let clock = ManualClock::new(epoch());
        let studio = store
            .create_studio(NewStudio {
                name: "Studio Nine".into(),
                address: "Moda Cd. 9, Istanbul".into(),
                timezone: "Europe/Istanbul".into(),
                maps_url: None,
            })
            .await
            .expect("studio");
        let admin_user = store.create_user(new_user("admin@studio9.test", Role::User)).await.expect("admin user");
        let services = Arc::new(Services::new(store, clock.clone(), NoPublisher, Policy::default()));
        World { backend, clock, services, studio: studio.id, admin: Actor::studio_admin(admin_user.id, studio.id) }
    }

    pub async fn user(&self, email: &str) -> Actor {
        let user = self.backend.store().create_user(new_user(email, Role::User)).await.expect("user");
        Actor::user(user.id)
    }

    /// `n` users, created concurrently.
    pub async fn users(&self, prefix: &str, n: usize) -> Vec<Actor> {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let store = self.backend.store();
            let email = format!("{prefix}{i}@example.test");
            tasks.spawn(async move { store.create_user(new_user(&email, Role::User)).await.expect("user").id });
        }
        let mut users = Vec::with_capacity(n);
        while let Some(id) = tasks.join_next().await {
            users.push(Actor::user(id.expect("task")));
        }
        users
    }

    /// An event starting in two days.
    pub async fn event(&self, capacity: i64) -> EventId {
        let input = EventInput {
            title: "Salsa night".into(),
            description: "Beginners welcome".into(),
            capacity,
            price: money("150.00"),
            starts_at: epoch() + Duration::days(2),
            ends_at: epoch() + Duration::days(2) + Duration::hours(2),
            is_active: true,
        };
        self.services.create_event(&self.admin, None, input).await.expect("event").id
    }

    /// An auction from `epoch` for 120 minutes: 500 → floor 100, −50 every
    /// 60 min, turbo −20 every 5 min in the last 30 min; session 3 h later.
    pub async fn auction(&self) -> AuctionId {
        self.services.create_auction(&self.admin, None, auction_input(epoch())).await.expect("auction").id
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.backend.scalar(sql).await
    }
}

pub fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        password_hash: "$2b$04$not.a.real.hash.for.tests.only.......................".into(),
        full_name: "Test Person".into(),
        phone: None,
        role,
        locale: Default::default(),
    }
}

pub fn auction_input(starts_at: DateTime<Utc>) -> AuctionInput {
    AuctionInput {
        title: "Reformer pilates, 19:00".into(),
        description: "One spot left".into(),
        schedule: PriceScheduleInput {
            start_price: money("500.00"),
            floor_price: money("100.00"),
            drop_amount: money("50.00"),
            drop_interval: Duration::minutes(60),
            starts_at,
            ends_at: starts_at + Duration::minutes(120),
            turbo: Some(TurboConfig {
                trigger_before: Duration::minutes(30),
                drop_amount: money("20.00"),
                interval: Duration::minutes(5),
            }),
        },
        scheduled_at: starts_at + Duration::minutes(180),
        session_minutes: hothour_domain::auction::SESSION_MINUTES_DEFAULT,
    }
}

fn tally<T>(results: &[Result<T, DomainError>]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for result in results {
        let key = match result {
            Ok(_) => "ok".to_owned(),
            Err(error) => format!("{error:?}"),
        };
        *counts.entry(key).or_default() += 1;
    }
    counts
}

// --- races ------------------------------------------------------------------

/// Users looked up by id in one query: those that exist, whatever the order
/// or duplicates asked for.
pub async fn users_are_found_by_id_together<B: Backend>() {
    let world = World::<B>::new().await;
    let store = world.backend.store();
    let ada = store.create_user(new_user("ada@example.test", Role::User)).await.expect("ada");
    let bob = store.create_user(new_user("bob@example.test", Role::PlatformAdmin)).await.expect("bob");
    let mut found = store.find_users(&[bob.id, UserId(bob.id.0 + 1000), ada.id, bob.id]).await.expect("users");
    found.sort_by_key(|user| user.id);
    assert_eq!(found, vec![ada.clone(), bob.clone()]);
    assert_eq!(store.find_users(&[]).await.expect("no users"), Vec::new());
}

/// 200 concurrent 1-seat holds on capacity 50: exactly 50 succeed.
pub async fn concurrent_holds_never_oversell<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(50).await;
    let users = world.users("racer", 200).await;
    let mut tasks = tokio::task::JoinSet::new();
    for user in users {
        let services = world.services.clone();
        tasks.spawn(async move { services.hold(&user, event, 1).await });
    }
    let results: Vec<_> = tasks.join_all().await;
    let counts = tally(&results);
    assert_eq!(counts.get("ok"), Some(&50), "{counts:?}");
    assert_eq!(counts.get("InsufficientCapacity { available: 0 }"), Some(&150), "{counts:?}");

    let live = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE event_id = {} AND status = 'HOLD'", event.0))
        .await;
    let seats = world
        .count(&format!(
            "SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE event_id = {} AND status = 'HOLD'",
            event.0
        ))
        .await;
    assert_eq!((live, seats), (50, 50));
    let record = world.services.get_event(event).await.unwrap();
    assert_eq!(
        (record.availability.available, record.availability.held_seats, record.availability.held_count),
        (0, 50, 50)
    );
}

/// 100 users hold at once, 20 of them twice, beside 5 holds for a user who
/// does not exist: they are decided in shared transactions, and each gets
/// the answer it would have had alone (the bad one fails only itself).
pub async fn concurrent_holds_are_decided_together_each_as_alone<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(120).await;
    let users = world.users("batch", 100).await;
    let ghost = Actor::user(hothour_domain::UserId(999_999_999));
    let mut requests: Vec<(Actor, &str)> = users.iter().map(|user| (*user, "first")).collect();
    requests.extend(users.iter().take(20).map(|user| (*user, "again")));
    requests.extend((0..5).map(|_| (ghost, "ghost")));
    let mut tasks = tokio::task::JoinSet::new();
    for (user, kind) in requests {
        let services = world.services.clone();
        tasks.spawn(async move { (user, kind, services.hold(&user, event, 1).await) });
    }
    let answers = tasks.join_all().await;
    let mut held = std::collections::HashMap::new();
    for (user, kind, answer) in &answers {
        match (kind, answer) {
            (&"ghost", Err(DomainError::NotFound("user"))) => {}
            (&"first" | &"again", Ok(hold)) => {
                assert!(held.insert(user.user_id, hold.id).is_none(), "{:?} holds twice", user.user_id);
                assert_eq!((hold.user_id, hold.quantity), (user.user_id, 1));
            }
            (&"first" | &"again", Err(DomainError::HoldAlreadyExists)) => {}
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    assert_eq!(held.len(), 100, "every user holds once, whichever of their two requests won");
    let (batches, holds) = world.services.hold_batches();
    assert_eq!(holds, 125, "every request was decided");
    assert!(batches < holds, "concurrent holds shared transactions: {batches} for {holds}");

    let live = world
        .count(&format!(
            "SELECT COUNT(DISTINCT user_id) + 1000 * COUNT(*) FROM reservations WHERE event_id = {} AND status = 'HOLD'",
            event.0
        ))
        .await;
    assert_eq!(live, 100 + 1000 * 100, "one live hold per user in the database");
    let record = world.services.get_event(event).await.unwrap();
    assert_eq!((record.availability.held_seats, record.availability.available), (100, 20));
}

/// 160 users hold at once on 16 events of 3 seats (10 each), beside holds on
/// an event that is not there and holds by a user who does not exist. On one
/// event a hold lapsed and someone waits for a seat. Holds queued for
/// different events share transactions, and each gets the answer it would
/// have had alone: 3 per event win (the waiter first where seats returned),
/// the rest are told the event is full, the bad ones fail only themselves.
pub async fn holds_on_many_events_share_transactions_each_as_alone<B: Backend>() {
    let world = World::<B>::new().await;
    let mut events = Vec::new();
    for _ in 0..16 {
        events.push(world.event(3).await);
    }
    let (lapsing, waiter) = (world.user("lapsing@example.test").await, world.user("waiter@example.test").await);
    let lapsed = world.services.hold(&lapsing, events[0], 3).await.unwrap();
    world.services.join_waitlist(&waiter, events[0], 1).await.unwrap();
    world.clock.advance(Duration::minutes(6));

    // The port: events locked in id order, one that is not there left out.
    let missing = EventId(999_999_999);
    let targets = EventsHolds::new([events[2], missing, events[1]].map(|event| EventHolds::for_users(event, vec![])));
    let store = world.backend.store();
    let locked = store.locked(targets, LockMode::Wait, &world.clock, |units, _now| {
        Ok(units.units.iter().map(|unit| unit.event.id).collect::<Vec<_>>())
    });
    assert_eq!(locked.await.unwrap().unwrap().value, vec![events[1], events[2]]);

    let users = world.users("spread", 160).await;
    let ghost = Actor::user(UserId(999_999_999));
    let mut requests: Vec<(Actor, EventId)> =
        users.iter().enumerate().map(|(i, user)| (*user, events[i % events.len()])).collect();
    requests.extend(users.iter().take(5).map(|user| (*user, missing)));
    requests.extend(events.iter().take(5).map(|event| (ghost, *event)));
    let mut tasks = tokio::task::JoinSet::new();
    for (user, event) in requests {
        let services = world.services.clone();
        tasks.spawn(async move { (user, event, services.hold(&user, event, 1).await) });
    }
    let answers = tasks.join_all().await;
    let mut won = std::collections::HashMap::<EventId, usize>::new();
    for (user, event, answer) in &answers {
        match answer {
            Ok(hold) => {
                assert_eq!(
                    (hold.user_id, hold.target, hold.quantity),
                    (user.user_id, ReservationTarget::Event(*event), 1)
                );
                *won.entry(*event).or_default() += 1;
            }
            Err(DomainError::InsufficientCapacity { available: 0 }) => assert!(events.contains(event)),
            Err(DomainError::NotFound("event")) => assert_eq!(*event, missing),
            Err(DomainError::NotFound("user")) => assert_eq!(*user, ghost),
            other => panic!("unexpected answer for {:?} on {event:?}: {other:?}", user.user_id),
        }
    }
    let (across, batches) = (world.services.hold_batches_across_events(), world.services.hold_batches().0);
    assert!(across > 0, "some transactions decided holds on several events ({across} of {batches})");

    for (i, event) in events.iter().enumerate() {
        let expected = if i == 0 { 2 } else { 3 };
        assert_eq!(won.get(event).copied().unwrap_or(0), expected, "winners on event {i}");
        let holds = world
            .count(&format!(
                "SELECT COUNT(*) * 1000 + COALESCE(SUM(quantity), 0) FROM reservations \
                 WHERE event_id = {} AND status = 'HOLD'",
                event.0
            ))
            .await;
        assert_eq!(holds, 3 * 1000 + 3, "three 1-seat holds on event {i} in the database");
        let counted =
            world.count(&format!("SELECT held_seats * 1000 + held_count FROM events WHERE id = {}", event.0)).await;
        assert_eq!(counted, 3 * 1000 + 3, "the event row counts them");
    }
    let expired = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE id = {} AND status = 'EXPIRED'", lapsed.id.0))
        .await;
    assert_eq!(expired, 1, "the lapsed hold was expired in the race");
    let offered = world
        .count(&format!(
            "SELECT COUNT(*) FROM reservations WHERE event_id = {} AND user_id = {} AND status = 'HOLD'",
            events[0].0, waiter.user_id.0
        ))
        .await;
    assert_eq!(offered, 1, "the seat that came back went to the waiter first");
}

/// One write over several events hands out every reservation id once: the
/// ids drawn for the holds of each event and those drawn for the waiting
/// lists of events whose holds lapsed never coincide (on SQLite, where ids
/// follow the largest stored one, a waiting list once skipped only its own
/// event's ids and a waiter's offer overwrote another event's hold).
pub async fn one_write_over_several_events_hands_out_each_id_once<B: Backend>() {
    let world = World::<B>::new().await;
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(world.event(3).await);
    }
    // On the last two events a hold lapses while someone waits.
    for (i, event) in events.iter().enumerate().skip(1) {
        let lapsing = world.user(&format!("lapsing{i}@example.test")).await;
        world.services.hold(&lapsing, *event, 3).await.unwrap();
        let waiter = world.user(&format!("waiter{i}@example.test")).await;
        world.services.join_waitlist(&waiter, *event, 1).await.unwrap();
    }
    world.clock.advance(Duration::minutes(6));
    let users = world.users("several", 6).await;
    let targets = EventsHolds::new(
        events.iter().map(|event| EventHolds::for_users(*event, users.iter().map(|u| u.user_id).collect())),
    );
    let store = world.backend.store();
    let ids = store
        .locked(targets, LockMode::Wait, &world.clock, |units, _now| {
            Ok(units
                .units
                .iter()
                .flat_map(|unit| unit.fresh_ids.iter().chain(&unit.waiting.fresh_ids).copied())
                .collect::<Vec<_>>())
        })
        .await
        .unwrap()
        .unwrap()
        .value;
    let waiting: usize = 2;
    assert_eq!(ids.len(), 3 * users.len() + waiting, "an id for each hold and each possible offer: {ids:?}");
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "every id handed out once: {ids:?}");
}

/// Keeps every event the services hand on after a commit.
#[derive(Clone, Default)]
struct Recorder(Arc<std::sync::Mutex<Vec<StoredEvent>>>);

impl EventPublisher for Recorder {
    fn publish(&self, events: Vec<StoredEvent>) {
        self.0.lock().expect("recorder").extend(events);
    }
}

/// What a write hands on after it commits (to the instance's fan-out and
/// read model) is what the outbox holds: the same sequence numbers, rooms,
/// kinds, data and instants (to the microsecond, as stored), here for holds
/// decided together over several events.
pub async fn the_events_a_write_hands_on_are_the_outbox_rows<B: Backend>() {
    let world = World::<B>::new().await;
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(world.event(100).await);
    }
    let recorder = Recorder::default();
    let clock = ManualClock::new(epoch() + Duration::nanoseconds(123_456_789));
    let services = Arc::new(Services::new(world.backend.store(), clock, recorder.clone(), Policy::default()));
    let users = world.users("outbox", 40).await;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, user) in users.iter().enumerate() {
        let (services, user, event) = (services.clone(), *user, events[i % events.len()]);
        tasks.spawn(async move { services.hold(&user, event, 1).await.expect("a hold") });
    }
    tasks.join_all().await;

    let mut handed_on = recorder.0.lock().expect("recorder").clone();
    handed_on.sort_by_key(|event| event.seq);
    assert!(handed_on.len() >= 2 * users.len(), "a hold_created and an availability change per hold at least");
    let (first, last) = (handed_on[0].seq, handed_on[handed_on.len() - 1].seq);
    let stored = world.backend.store().events_between(first, last).await.expect("the outbox");
    assert_eq!(handed_on, stored);
    assert!(stored.iter().all(|event| event.at == epoch() + Duration::microseconds(123_456)), "{:?}", stored[0].at);
}

/// 60 holders confirm at once, 10 of them twice (a repeated confirmation
/// answers the booking again): the confirmations share transactions and each
/// gets the answer it would have had alone.
pub async fn concurrent_confirmations_are_decided_together<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(100).await;
    let users = world.users("confirmer", 60).await;
    let mut holds = Vec::new();
    for user in &users {
        holds.push((*user, world.services.hold(user, event, 1).await.expect("a hold").id));
    }
    let mut requests = holds.clone();
    requests.extend(holds.iter().take(10).copied());
    let mut tasks = tokio::task::JoinSet::new();
    for (user, hold) in requests {
        let services = world.services.clone();
        tasks.spawn(async move { services.confirm(&user, hold).await });
    }
    let results = tasks.join_all().await;
    let counts = tally(&results);
    assert_eq!(counts.get("ok"), Some(&70), "{counts:?}");
    let mut codes = std::collections::HashMap::new();
    for booking in results.iter().filter_map(|r| r.as_ref().ok()) {
        assert_eq!(booking.status, ReservationStatus::Confirmed);
        let code = booking.booking_code.clone().expect("a code");
        assert_eq!(*codes.entry(booking.id).or_insert_with(|| code.clone()), code, "one code per booking");
    }
    let distinct: std::collections::HashSet<_> = codes.values().collect();
    assert_eq!((codes.len(), distinct.len()), (60, 60), "every booking has its own code");
    let (batches, confirms) = world.services.confirm_batches();
    assert_eq!(confirms, 70);
    assert!(batches < confirms, "{batches} transactions for {confirms} confirmations");

    let confirmed = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE event_id = {} AND status = 'CONFIRMED'", event.0))
        .await;
    let counters =
        world.count(&format!("SELECT confirmed_seats * 1000 + held_seats FROM events WHERE id = {}", event.0)).await;
    assert_eq!((confirmed, counters), (60, 60 * 1000));
}

/// 100 users grab one auction at once: exactly one HOLD.
pub async fn concurrent_grabs_have_one_winner<B: Backend>() {
    let world = World::<B>::new().await;
    let auction = world.auction().await;
    world.clock.advance(Duration::minutes(10));
    let users = world.users("grabber", 100).await;
    let mut tasks = tokio::task::JoinSet::new();
    for (i, user) in users.into_iter().enumerate() {
        let services = world.services.clone();
        // Half of them grab and confirm at once.
        tasks.spawn(async move { services.grab(&user, auction, i % 2 == 0).await });
    }
    let results: Vec<_> = tasks.join_all().await;
    let counts = tally(&results);
    assert_eq!(counts.get("ok"), Some(&1), "{counts:?}");
    let refused =
        counts.get("AuctionOnHold").copied().unwrap_or(0) + counts.get("AuctionAlreadyBooked").copied().unwrap_or(0);
    assert_eq!(refused, 99, "{counts:?}");

    let live = world
        .count(&format!(
            "SELECT COUNT(*) FROM reservations WHERE auction_id = {} AND status IN ('HOLD', 'CONFIRMED')",
            auction.0
        ))
        .await;
    assert_eq!(live, 1);
    let taken = world
        .count(&format!("SELECT COUNT(*) FROM auctions WHERE id = {} AND status IN ('HELD', 'SOLD')", auction.0))
        .await;
    assert_eq!(taken, 1);
    // Grabs that reached the lock shared it (the others were refused before it).
    let (batches, grabs) = world.services.grab_batches();
    assert!(grabs <= 100 && (grabs <= 1 || batches < grabs), "{batches} transactions for {grabs} grabs");
}

/// Two sweepers at once expire every lapsed hold exactly once.
pub async fn concurrent_sweeps_expire_each_hold_once<B: Backend>() {
    let world = World::<B>::new().await;
    let users = world.users("sleeper", 12).await;
    let mut events = Vec::new();
    for _ in 0..8 {
        events.push(world.event(100).await);
    }
    let mut auctions = Vec::new();
    for _ in 0..6 {
        auctions.push(world.auction().await);
    }
    world.clock.advance(Duration::minutes(1));
    for event in &events {
        for user in &users {
            world.services.hold(user, *event, 2).await.unwrap();
        }
    }
    for (auction, user) in auctions.iter().zip(&users) {
        world.services.grab(user, *auction, false).await.unwrap();
    }
    let total = (events.len() * users.len() + auctions.len()) as i64;
    assert_eq!(world.count("SELECT COUNT(*) FROM reservations WHERE status = 'HOLD'").await, total);

    world.clock.advance(Duration::minutes(10));
    let sweeper = |services: Arc<Svc<B>>| async move {
        let mut swept = 0;
        loop {
            let report = services.expire_lapsed_holds(3).await.expect("sweep");
            swept += report.parents;
            if report.parents == 0 && report.skipped == 0 {
                return swept;
            }
            tokio::task::yield_now().await;
        }
    };
    let (a, b) =
        tokio::join!(tokio::spawn(sweeper(world.services.clone())), tokio::spawn(sweeper(world.services.clone())));
    let parents = a.unwrap() + b.unwrap();
    assert_eq!(parents, events.len() + auctions.len(), "each parent swept once");

    assert_eq!(world.count("SELECT COUNT(*) FROM reservations WHERE status = 'HOLD'").await, 0);
    assert_eq!(world.count("SELECT COUNT(*) FROM reservations WHERE status = 'EXPIRED'").await, total);
    let announced =
        world.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reservation_expired' AND room LIKE 'user:%'").await;
    assert_eq!(announced, total, "each expiry announced exactly once");
    assert_eq!(world.count("SELECT COALESCE(SUM(held_seats), 0) FROM events").await, 0);
    assert_eq!(world.count("SELECT COUNT(*) FROM auctions WHERE status = 'ACTIVE'").await, auctions.len() as i64);
}

// --- time -------------------------------------------------------------------

/// Held seats count until `expires_at` and are free exactly then, before any sweep.
pub async fn held_seats_return_exactly_at_expiry<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(3).await;
    let (alice, bob) = (world.user("alice@example.test").await, world.user("bob@example.test").await);
    let hold = world.services.hold(&alice, event, 3).await.unwrap();
    assert_eq!(hold.expires_at, epoch() + Duration::minutes(5));

    world.clock.set(hold.expires_at - Duration::microseconds(1));
    assert_eq!(world.services.get_event(event).await.unwrap().availability.available, 0);
    assert_eq!(world.services.hold(&bob, event, 1).await, Err(DomainError::InsufficientCapacity { available: 0 }));

    world.clock.set(hold.expires_at);
    let at_expiry = world.services.get_event(event).await.unwrap().availability;
    assert_eq!((at_expiry.available, at_expiry.held_seats, at_expiry.held_count), (3, 0, 0));
    let bobs = world.services.hold(&bob, event, 3).await.expect("seats are free at expires_at");
    assert_eq!(bobs.status, ReservationStatus::Hold);
    let statuses = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE id = {} AND status = 'EXPIRED'", hold.id.0))
        .await;
    assert_eq!(statuses, 1, "the lapsed hold was expired under the event lock");
}

/// A hold whose decision also expires more lapsed holds than one statement
/// writes (500 reservations): the holder's own lapsed hold is expired in the
/// first statement and their new hold written in a later one, which must see
/// the first (one live hold per user and event).
pub async fn a_new_hold_after_hundreds_of_lapsed_ones_sees_its_own_expire<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(600).await;
    let alice = world.user("alice@example.test").await;
    let first = world.services.hold(&alice, event, 1).await.expect("alice's first hold");
    let mut holds = tokio::task::JoinSet::new();
    for other in world.users("lapsing", 500).await {
        let services = world.services.clone();
        holds.spawn(async move { services.hold(&other, event, 1).await.expect("another hold") });
    }
    while let Some(hold) = holds.join_next().await {
        assert!(hold.expect("task").id > first.id, "alice's hold is the oldest");
    }

    world.clock.set(first.expires_at);
    let again = world.services.hold(&alice, event, 1).await.expect("alice holds again once hers lapsed");
    assert_eq!(again.status, ReservationStatus::Hold);
    let count = |status: &str| {
        format!("SELECT COUNT(*) FROM reservations WHERE event_id = {} AND status = '{status}'", event.0)
    };
    assert_eq!(world.count(&count("EXPIRED")).await, 501, "every lapsed hold expired in that decision");
    assert_eq!(world.count(&count("HOLD")).await, 1);
    let availability = world.services.get_event(event).await.unwrap().availability;
    assert_eq!((availability.held_seats, availability.held_count, availability.available), (1, 1, 599));
}

/// Confirming at or after `expires_at` fails, and the hold is stored EXPIRED.
pub async fn confirm_after_expiry_fails<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(10).await;
    let alice = world.user("alice@example.test").await;
    let hold = world.services.hold(&alice, event, 2).await.unwrap();
    world.clock.set(hold.expires_at);
    assert_eq!(world.services.confirm(&alice, hold.id).await, Err(DomainError::HoldExpired));
    let expired = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE id = {} AND status = 'EXPIRED'", hold.id.0))
        .await;
    assert_eq!(expired, 1);
    assert_eq!(world.count(&format!("SELECT held_seats FROM events WHERE id = {}", event.0)).await, 0);
    assert_eq!(
        world.services.confirm(&alice, hold.id).await,
        Err(DomainError::HoldExpired),
        "also once it is stored EXPIRED"
    );
}

/// A held auction reopens at its schedule's price when the hold lapses, and
/// the lapsed holder may not grab it again.
pub async fn held_auction_reopens_at_schedule_price<B: Backend>() {
    let world = World::<B>::new().await;
    let auction = world.auction().await;
    let (alice, bob) = (world.user("alice@example.test").await, world.user("bob@example.test").await);

    world.clock.set(epoch() + Duration::minutes(58));
    let hold = world.services.grab(&alice, auction, false).await.unwrap();
    assert_eq!(hold.unit_price, money("500.00"));
    let (_, view) = world.services.get_auction(auction).await.unwrap();
    assert_eq!(view.status, AuctionStatus::Held);
    assert_eq!(view.held_price, Some(money("500.00")));

    world.clock.set(hold.expires_at);
    let (_, view) = world.services.get_auction(auction).await.unwrap();
    assert_eq!(view.status, AuctionStatus::Active, "reopened before any sweep");
    assert_eq!(view.current_price, money("450.00"));

    assert_eq!(world.services.grab(&alice, auction, false).await, Err(DomainError::RegrabNotAllowed));
    let second = world.services.grab(&bob, auction, false).await.unwrap();
    assert_eq!(second.unit_price, money("450.00"));
    let statuses = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE auction_id = {} AND status = 'EXPIRED'", auction.0))
        .await;
    assert_eq!(statuses, 1);
}

// --- the rest of the state machines -----------------------------------------

/// Hold → confirm → check-in by booking code; the studio sees it, others do not.
pub async fn hold_confirm_and_check_in<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(10).await;
    let alice = world.user("alice@example.test").await;
    let hold = world.services.hold(&alice, event, 2).await.unwrap();
    assert_eq!(hold.total_price, money("300.00"));
    assert_eq!(world.services.hold(&alice, event, 1).await, Err(DomainError::HoldAlreadyExists));

    world.clock.advance(Duration::minutes(4));
    let booked = world.services.confirm(&alice, hold.id).await.unwrap();
    assert_eq!(booked.status, ReservationStatus::Confirmed);
    let code = booked.booking_code.clone().expect("a booking code");
    assert_eq!(world.services.confirm(&alice, hold.id).await.unwrap(), booked, "confirming twice is unchanged");
    let availability = world.services.get_event(event).await.unwrap().availability;
    assert_eq!((availability.confirmed_seats, availability.confirmed_count, availability.available), (2, 1, 8));

    let mallory = world.user("mallory@example.test").await;
    assert_eq!(world.services.confirm(&mallory, hold.id).await, Err(DomainError::NotFound("reservation")));

    let other_studio_admin = Actor::studio_admin(world.admin.user_id, StudioId(world.studio.0 + 1000));
    assert_eq!(
        world.services.check_in(&other_studio_admin, world.studio, code.as_str()).await,
        Err(DomainError::NotFound("booking"))
    );
    let typed = code.as_str().to_lowercase();
    let starts_at = world.services.get_event(event).await.unwrap().event.details.starts_at;
    assert_eq!(
        world.services.check_in(&world.admin, world.studio, &typed).await,
        Err(DomainError::CheckInNotOpen { session_starts_at: starts_at }),
        "days before the session"
    );
    world.clock.set(starts_at - world.services.policy().check_in_opens_before);
    let checked = world.services.check_in(&world.admin, world.studio, &typed).await.unwrap();
    assert_eq!(checked.reservation.status, ReservationStatus::CheckedIn);
    assert_eq!(checked.reservation.checked_in_at, Some(world.clock_now()));
    assert!(!checked.already_checked_in);
    world.clock.advance(Duration::days(1));
    let again = world.services.check_in(&world.admin, world.studio, code.as_str()).await.unwrap();
    assert_eq!(again.reservation, checked.reservation, "a used code is answered as it was, the door shut or not");
    assert!(again.already_checked_in);
    assert_eq!(world.count("SELECT COUNT(*) FROM audit_log WHERE action = 'reservation.check_in'").await, 1);
}

/// One-tap grab-and-confirm sells the slot; cancelling before the end reopens it.
pub async fn grab_confirm_and_cancel_reopens<B: Backend>() {
    let world = World::<B>::new().await;
    let auction = world.auction().await;
    let alice = world.user("alice@example.test").await;
    let bob = world.user("bob@example.test").await;
    world.clock.set(epoch() + Duration::minutes(100));
    let booked = world.services.grab(&alice, auction, true).await.unwrap();
    assert_eq!(booked.status, ReservationStatus::Confirmed);
    // 500 − 50 (one hour) − 2 × 20 (turbo since minute 90) = 410
    assert_eq!(booked.unit_price, money("410.00"));
    let (_, view) = world.services.get_auction(auction).await.unwrap();
    assert_eq!((view.status, view.current_price, view.next_change_at), (AuctionStatus::Sold, money("410.00"), None));
    assert_eq!(world.services.grab(&bob, auction, false).await, Err(DomainError::AuctionAlreadyBooked));

    world.clock.set(epoch() + Duration::minutes(110));
    world.services.cancel_reservation(&world.admin, booked.id).await.unwrap();
    let (_, view) = world.services.get_auction(auction).await.unwrap();
    assert_eq!(view.status, AuctionStatus::Active);
    assert_eq!(view.current_price, money("370.00"));
    assert_eq!(world.services.grab(&alice, auction, false).await, Err(DomainError::RegrabNotAllowed));
    assert!(world.services.grab(&bob, auction, false).await.is_ok());
}

/// Grabs are refused by state: not started, closed, cancelled; studio admins cannot book.
pub async fn grab_refusals_name_the_state<B: Backend>() {
    let world = World::<B>::new().await;
    let later = world
        .services
        .create_auction(&world.admin, None, auction_input(epoch() + Duration::hours(1)))
        .await
        .unwrap()
        .id;
    let alice = world.user("alice@example.test").await;
    assert_eq!(world.services.grab(&alice, later, false).await, Err(DomainError::AuctionNotStarted));
    assert_eq!(world.services.grab(&world.admin, later, false).await, Err(DomainError::BookingNotAllowed));

    world.clock.set(epoch() + Duration::hours(1) + Duration::minutes(120));
    assert_eq!(world.services.grab(&alice, later, false).await, Err(DomainError::AuctionClosed), "past ends_at");

    let cancelled =
        world.services.create_auction(&world.admin, None, auction_input(world.clock_now())).await.unwrap().id;
    world.services.cancel_auction(&world.admin, cancelled).await.unwrap();
    assert_eq!(world.services.grab(&alice, cancelled, false).await, Err(DomainError::AuctionClosed));
    assert_eq!(world.services.grab(&alice, AuctionId(999_999), false).await, Err(DomainError::NotFound("auction")));
}

/// Cancelling a held auction cancels the hold and tells the holder.
pub async fn cancelling_an_auction_cancels_its_hold<B: Backend>() {
    let world = World::<B>::new().await;
    let auction = world.auction().await;
    let alice = world.user("alice@example.test").await;
    let hold = world.services.grab(&alice, auction, false).await.unwrap();
    let stranger = Actor::studio_admin(world.admin.user_id, StudioId(world.studio.0 + 1000));
    assert_eq!(world.services.cancel_auction(&stranger, auction).await, Err(DomainError::NotFound("auction")));

    world.services.cancel_auction(&world.admin, auction).await.unwrap();
    let reservation = world.services.get_reservation(&alice, hold.id).await.unwrap();
    assert_eq!(reservation.status, ReservationStatus::Cancelled);
    let told = world
        .count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'reservation_cancelled' AND room = 'user:{}'",
            alice.user_id.0
        ))
        .await;
    assert_eq!(told, 1);
    assert_eq!(world.count("SELECT COUNT(*) FROM audit_log WHERE action = 'auction.cancel'").await, 1);
}

/// Turbo triggers once, never raises the price, and only on a turbo auction that is open.
pub async fn turbo_trigger_rules<B: Backend>() {
    let world = World::<B>::new().await;
    let auction = world.auction().await;
    world.clock.set(epoch() + Duration::minutes(61));
    let before = world.services.get_auction(auction).await.unwrap().1.current_price;
    let record = world.services.trigger_turbo(&world.admin, auction).await.unwrap();
    assert_eq!(record.auction.turbo_started_at, Some(epoch() + Duration::minutes(61)));
    let (_, view) = world.services.get_auction(auction).await.unwrap();
    assert!(view.turbo_active);
    assert_eq!(view.current_price, before, "triggering never raises (or drops) the price at once");
    assert_eq!(world.services.trigger_turbo(&world.admin, auction).await, Err(DomainError::TurboAlreadyActive));
    world.clock.advance(Duration::minutes(5));
    assert_eq!(world.services.get_auction(auction).await.unwrap().1.current_price, money("430.00"));

    let mut plain = auction_input(epoch());
    plain.schedule.turbo = None;
    let plain = world.services.create_auction(&world.admin, None, plain).await.unwrap().id;
    assert_eq!(world.services.trigger_turbo(&world.admin, plain).await, Err(DomainError::TurboNotAvailable));
    let turbo_events =
        world.count("SELECT COUNT(*) FROM outbox WHERE kind = 'turbo_triggered' AND room LIKE 'auction:%'").await;
    assert_eq!(turbo_events, 1);
}

/// Capacity cannot drop below reserved seats; an event with live reservations cannot be deleted.
pub async fn event_capacity_and_deletion_rules<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(10).await;
    let alice = world.user("alice@example.test").await;
    world.services.hold(&alice, event, 4).await.unwrap();

    let capacity = |seats| hothour_domain::EventPatch { capacity: Some(seats), ..Default::default() };
    assert_eq!(
        world.services.update_event(&world.admin, event, capacity(3)).await,
        Err(DomainError::CapacityBelowReserved { reserved: 4 })
    );
    world.services.update_event(&world.admin, event, capacity(4)).await.unwrap();
    assert_eq!(world.services.delete_event(&world.admin, event).await, Err(DomainError::EventHasReservations));

    world.clock.advance(Duration::minutes(5));
    world.services.delete_event(&world.admin, event).await.expect("the only hold lapsed");
    assert_eq!(world.services.get_event(event).await, Err(DomainError::NotFound("event")));
    assert_eq!(world.services.hold(&alice, event, 1).await, Err(DomainError::NotFound("event")));
}

/// Even a buggy decision cannot oversell or double-book: the database's
/// constraints refuse it, and the adapter maps the violation to the domain error.
pub async fn database_constraints_back_the_rules<B: Backend>() {
    let world = World::<B>::new().await;
    let store = world.backend.store();
    let alice = world.user("alice@example.test").await;
    let bob = world.user("bob@example.test").await;

    let auction = world.auction().await;
    let first = world.services.grab(&alice, auction, false).await.unwrap();
    let buggy_grab = store
        .locked(auction, LockMode::Wait, &world.clock, |unit, _now| {
            // Skips every rule and writes a second live reservation.
            let mut second = first.clone();
            second.id = unit.next_reservation_id;
            second.user_id = bob.user_id;
            unit.effects.save(&second);
            Ok(())
        })
        .await;
    assert_eq!(buggy_grab.map(|c| c.map(|c| c.value)), Err(DomainError::AuctionOnHold));

    let event = world.event(2).await;
    let buggy_hold = store
        .locked(EventHolds::of(event), LockMode::Wait, &world.clock, |unit, _now| {
            unit.event.seats.held_seats = 3;
            Ok(())
        })
        .await;
    assert_eq!(buggy_hold.map(|c| c.map(|c| c.value)), Err(DomainError::InsufficientCapacity { available: 0 }));

    let held = world.services.hold(&alice, event, 1).await.unwrap();
    let buggy_second_hold = store
        .locked(EventHolds::for_users(event, vec![bob.user_id]), LockMode::Wait, &world.clock, |unit, _now| {
            let mut again = held.clone();
            again.id = unit.fresh_ids[0];
            unit.effects.save(&again);
            Ok(())
        })
        .await;
    assert_eq!(buggy_second_hold.map(|c| c.map(|c| c.value)), Err(DomainError::HoldAlreadyExists));

    let live = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE auction_id = {} AND status = 'HOLD'", auction.0))
        .await;
    assert_eq!(live, 1, "the refused write left nothing behind");
    assert_eq!(world.count(&format!("SELECT held_seats FROM events WHERE id = {}", event.0)).await, 1);
}

/// The hold path pays nothing for waiting lists: a batch of holds reads the
/// event's line only when one of its holds lapsed (seats return and go to
/// the line first); decisions that may return seats otherwise always read it.
pub async fn holds_read_the_waiting_list_only_when_seats_return<B: Backend>() {
    let world = World::<B>::new().await;
    let store = world.backend.store();
    let event = world.event(1).await;
    let (alice, bob, carol) = (
        world.user("alice@example.test").await,
        world.user("bob@example.test").await,
        world.user("carol@example.test").await,
    );
    world.services.hold(&alice, event, 1).await.unwrap();
    world.services.join_waitlist(&bob, event, 1).await.unwrap();
    let line = |target: EventHolds| {
        let store = store.clone();
        let clock = world.clock.clone();
        async move {
            let read = store.locked(target, LockMode::Wait, &clock, |unit, _now| {
                Ok((unit.waiting.waiters.len(), unit.waiting.fresh_ids.len()))
            });
            read.await.unwrap().unwrap().value
        }
    };
    assert_eq!(line(EventHolds::for_users(event, vec![carol.user_id])).await, (0, 0), "no hold lapsed: not read");
    assert_eq!(line(EventHolds::of(event)).await, (1, 1), "one waiter, one id for an offer");
    world.clock.advance(Duration::minutes(6));
    assert_eq!(line(EventHolds::for_users(event, vec![carol.user_id])).await, (1, 1), "a hold lapsed: read");
    // The lapsed hold goes to bob, not to carol who asks for it.
    assert_eq!(world.services.hold(&carol, event, 1).await, Err(DomainError::InsufficientCapacity { available: 0 }));
    let offered = world
        .count(&format!(
            "SELECT COUNT(*) FROM reservations WHERE event_id = {} AND user_id = {} AND status = 'HOLD'",
            event.0, bob.user_id.0
        ))
        .await;
    assert_eq!(offered, 1);
}

impl<B: Backend> World<B> {
    fn clock_now(&self) -> DateTime<Utc> {
        use hothour_domain::Clock;
        self.clock.now()
    }
}

/// Bookings nobody checked in become NO_SHOW after the session plus the
/// grace period, exactly once; a latecomer can still be checked in.
pub async fn unchecked_bookings_become_no_shows<B: Backend>() {
    let world = World::<B>::new().await;
    let event = world.event(10).await;
    let alice = world.user("alice@example.test").await;
    let hold = world.services.hold(&alice, event, 1).await.unwrap();
    let booked = world.services.confirm(&alice, hold.id).await.unwrap();
    let session = world.services.get_event(event).await.unwrap().event.details.starts_at;

    world.clock.set(session + world.services.policy().no_show_grace - Duration::seconds(1));
    assert_eq!(world.services.mark_no_shows(10).await.unwrap().changed, 0, "not before the grace period ends");
    world.clock.set(session + world.services.policy().no_show_grace);
    assert_eq!(world.services.mark_no_shows(10).await.unwrap().changed, 1);
    assert_eq!(world.services.mark_no_shows(10).await.unwrap().changed, 0, "only once");
    let no_show = world
        .count(&format!("SELECT COUNT(*) FROM reservations WHERE id = {} AND status = 'NO_SHOW'", hold.id.0))
        .await;
    assert_eq!(no_show, 1);
    let seats = world.services.get_event(event).await.unwrap().availability;
    assert_eq!((seats.confirmed_seats, seats.available), (1, 9), "a no-show keeps its seat");

    let code = booked.booking_code.unwrap();
    let late = world.services.check_in(&world.admin, world.studio, code.as_str()).await.unwrap();
    assert_eq!(late.reservation.status, ReservationStatus::CheckedIn);
    assert!(!late.already_checked_in);
}

/// Status changes made by time alone are persisted and announced once:
/// DRAFT → ACTIVE at `starts_at`, the turbo start, → EXPIRED at `ends_at`.
pub async fn time_driven_auction_changes_are_settled_once<B: Backend>() {
    let world = World::<B>::new().await;
    let auction = world
        .services
        .create_auction(&world.admin, None, auction_input(epoch() + Duration::minutes(10)))
        .await
        .unwrap()
        .id;
    let stored =
        |status: &str| format!("SELECT COUNT(*) FROM auctions WHERE id = {} AND status = '{status}'", auction.0);
    assert_eq!(world.count(&stored("DRAFT")).await, 1);

    world.clock.set(epoch() + Duration::minutes(10));
    assert_eq!(world.services.settle_due_auctions(10).await.unwrap().changed, 1);
    assert_eq!(world.services.settle_due_auctions(10).await.unwrap().changed, 0);
    assert_eq!(world.count(&stored("ACTIVE")).await, 1);

    // Turbo starts 30 minutes before the end (minute 100 from its start).
    world.clock.set(epoch() + Duration::minutes(10 + 90));
    assert_eq!(world.services.settle_due_auctions(10).await.unwrap().changed, 1);
    world.clock.advance(Duration::minutes(5));
    assert_eq!(world.services.settle_due_auctions(10).await.unwrap().changed, 0);
    let room = format!("auction:{}", auction.0);
    let turbo =
        world.count(&format!("SELECT COUNT(*) FROM outbox WHERE room = '{room}' AND kind = 'turbo_triggered'")).await;
    assert_eq!(turbo, 1, "turbo is announced exactly once");

    world.clock.set(epoch() + Duration::minutes(10 + 120));
    assert_eq!(world.services.settle_due_auctions(10).await.unwrap().changed, 1);
    assert_eq!(world.count(&stored("EXPIRED")).await, 1);
    let updates =
        world.count(&format!("SELECT COUNT(*) FROM outbox WHERE room = '{room}' AND kind = 'auction_updated'")).await;
    assert_eq!(updates, 2, "one announcement for ACTIVE, one for EXPIRED");
    assert!(world.backend.store().latest_seq(&room).await.unwrap() > 0);
}

/// Instantiates every conformance check as a test on `$backend`.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ty) => {
        $crate::conformance_tests!(@each $backend;
            users_are_found_by_id_together,
            concurrent_holds_never_oversell,
            concurrent_holds_are_decided_together_each_as_alone,
            holds_on_many_events_share_transactions_each_as_alone,
            one_write_over_several_events_hands_out_each_id_once,
            the_events_a_write_hands_on_are_the_outbox_rows,
            concurrent_grabs_have_one_winner,
            concurrent_confirmations_are_decided_together,
            concurrent_sweeps_expire_each_hold_once,
            held_seats_return_exactly_at_expiry,
            a_new_hold_after_hundreds_of_lapsed_ones_sees_its_own_expire,
            confirm_after_expiry_fails,
            held_auction_reopens_at_schedule_price,
            hold_confirm_and_check_in,
            grab_confirm_and_cancel_reopens,
            grab_refusals_name_the_state,
            cancelling_an_auction_cancels_its_hold,
            turbo_trigger_rules,
            event_capacity_and_deletion_rules,
            database_constraints_back_the_rules,
            unchecked_bookings_become_no_shows,
            time_driven_auction_changes_are_settled_once,
            holds_read_the_waiting_list_only_when_seats_return,
        );
    };
    (@each $backend:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $crate::conformance::$name::<$backend>().await;
            }
        )*
    };
}
