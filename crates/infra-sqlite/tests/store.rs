//! The SQLite store's own promises: how it opens a file, the single writer,
//! the outbox bus, errors in the domain's terms, tokens and idempotency keys.

mod common;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use common::{TestDb, World, epoch, money, new_user};
use hothour_domain::account::{NewStudio, User};
use hothour_domain::audit::Changes;
use hothour_domain::ports::{
    AccountStore, Creates, EventHolds, IdempotencyBegin, IdempotencyClaim, IdempotencyStore, LockMode, Locks, NewEvent,
    NewRefreshToken, OutboxStore, TokenRotation, TokenStore,
};
use hothour_domain::{AuditDetails, AuditEntry, DomainError, EventDetails, EventId, StudioId, UserId};
use hothour_infra_sqlite::{Heard, SqliteConfig};
use hothour_migrations::{Migrator, MigratorTrait};

#[tokio::test]
async fn connect_creates_the_file_and_its_directory_in_wal_mode() {
    let db = TestDb::new("open").await;
    assert!(db.dir.0.join("nested").join("hothour.db").is_file());
    assert_eq!(db.text("PRAGMA journal_mode").await, "wal");
    assert_eq!(db.scalar("PRAGMA foreign_keys").await, 1);
    assert!(db.scalar("PRAGMA busy_timeout").await > 0);
    db.store.ping().await.unwrap();
    assert!(db.store.stream_epoch().await.unwrap() > 0, "the epoch is when the schema was applied");
}

#[tokio::test]
async fn an_in_memory_database_works_too() {
    let store = hothour_infra_sqlite::connect(&SqliteConfig::new("sqlite::memory:")).await.unwrap();
    Migrator::up(store.connection(), None).await.unwrap();
    let studio = store
        .create_studio(NewStudio { name: "Mem".into(), address: String::new(), timezone: "UTC".into(), maps_url: None })
        .await
        .unwrap();
    assert_eq!(store.find_studio(studio.id).await.unwrap().map(|s| s.name), Some("Mem".into()));
}

#[tokio::test]
async fn the_schema_migrates_down_and_up_again() {
    let db = TestDb::new("down").await;
    Migrator::down(db.store.connection(), None).await.unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'").await, 0);
    Migrator::up(db.store.connection(), None).await.unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'").await, 1);
}

/// Starts a decision on `event` that holds the write lock until `release` is sent.
async fn hold_the_write_lock(
    world: &World,
    event: hothour_domain::EventId,
) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<Result<(), DomainError>>) {
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (store, clock) = (world.db.store.clone(), world.clock.clone());
    let holder = tokio::spawn(async move {
        store
            .locked(EventHolds::of(event), LockMode::Wait, &clock, move |_unit, _now| {
                entered_tx.send(()).unwrap();
                // Blocks this worker thread while the lock is held, on purpose.
                release_rx.recv().unwrap();
                Ok(())
            })
            .await
            .map(|_| ())
    });
    entered_rx.await.unwrap();
    (release_tx, holder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn background_decisions_skip_while_a_write_is_under_way() {
    let world = World::new("skip").await;
    let event = world.services.create_event(&world.admin, None, world.event_input(money("10.00"), 5)).await.unwrap();
    let auction = world
        .services
        .create_auction(
            &world.admin,
            None,
            common::auction_input(epoch(), money("500.00"), money("100.00"), money("50.00"), money("20.00")),
        )
        .await
        .unwrap();
    let (release, holder) = hold_the_write_lock(&world, event.id).await;

    let store = &world.db.store;
    assert!(
        store.locked(EventHolds::of(event.id), LockMode::Skip, &world.clock, |_, _| Ok(())).await.unwrap().is_none()
    );
    assert!(store.locked(auction.id, LockMode::Skip, &world.clock, |_, _| Ok(())).await.unwrap().is_none());
    assert_eq!(world.services.expire_lapsed_holds(10).await.unwrap().parents, 0);
    // Reads do not wait for the writer.
    assert_eq!(world.services.get_event(event.id).await.unwrap().availability.available, 5);

    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    assert!(
        store.locked(EventHolds::of(event.id), LockMode::Skip, &world.clock, |_, _| Ok(())).await.unwrap().is_some()
    );
    assert!(
        store
            .locked(EventHolds::of(EventId(999)), LockMode::Skip, &world.clock, |_, _| Ok(()))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_write_that_waits_too_long_is_busy() {
    let mut world = World::new("busy").await;
    let store = hothour_infra_sqlite::connect(&{
        let mut config =
            SqliteConfig::new(world.db.dir.0.join("nested").join("hothour.db").to_string_lossy().into_owned());
        config.lock_timeout = StdDuration::from_millis(200);
        config
    })
    .await
    .unwrap();
    world.db.store = store.clone();
    world.services = hothour_domain::Services::new(
        store,
        world.clock.clone(),
        hothour_domain::ports::NoPublisher,
        hothour_domain::Policy::default(),
    );
    let event = world.services.create_event(&world.admin, None, world.event_input(money("10.00"), 5)).await.unwrap();
    let alice = world.user("alice@example.test").await;
    let (release, holder) = hold_the_write_lock(&world, event.id).await;
    assert_eq!(world.services.hold(&alice, event.id, 1).await, Err(DomainError::Busy));
    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    assert!(world.services.hold(&alice, event.id, 1).await.is_ok(), "free again once the writer is done");
}

#[tokio::test]
async fn committed_outbox_ranges_are_sent_on_the_bus() {
    let world = World::new("bus").await;
    let event = world.services.create_event(&world.admin, None, world.event_input(money("10.00"), 5)).await.unwrap();
    let mut bus = world.db.store.listen().await.unwrap();
    let alice = world.user("alice@example.test").await;
    let hold = world.services.hold(&alice, event.id, 2).await.unwrap();

    let Heard::Range(first, last) = bus.recv().await.unwrap() else { panic!("a committed range") };
    assert!(first <= last);
    assert_eq!(last, world.db.store.latest_seq_overall().await.unwrap());
    let events = world.db.store.events_between(first, last).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| (e.room.as_str(), e.kind.as_str())).collect();
    assert!(kinds.contains(&(format!("user:{}", alice.user_id.0).as_str(), "hold_created")), "{kinds:?}");
    assert!(kinds.contains(&(format!("event:{}", event.id.0).as_str(), "availability_changed")), "{kinds:?}");
    assert!(events.iter().all(|e| e.at == epoch()));

    world.services.confirm(&alice, hold.id).await.unwrap();
    let Heard::Range(next_first, next_last) = bus.recv().await.unwrap() else { panic!("a committed range") };
    assert_eq!(next_first, last + 1, "ranges follow each other in commit order");
    assert_eq!(world.db.store.events_after(last, 100).await.unwrap().len() as i64, next_last - next_first + 1);

    // A refused decision stores nothing and sends nothing.
    assert!(world.services.hold(&alice, event.id, 10).await.is_err());
    // The next announcement is the next commit's, right after the last one.
    let bob = world.user("bob@example.test").await;
    world.services.hold(&bob, event.id, 1).await.unwrap();
    let Heard::Range(after_refusal, _) = bus.recv().await.unwrap() else { panic!("a committed range") };
    assert_eq!(after_refusal, next_last + 1, "the refused decision announced nothing");
}

#[tokio::test]
async fn violated_references_and_unique_emails_are_domain_errors() {
    let world = World::new("errors").await;
    let store = &world.db.store;
    assert_eq!(store.create_user(new_user("ADMIN@studio9.test")).await, Err(DomainError::EmailTaken));

    let missing_studio = StudioId(999);
    let details = EventDetails::new(world.event_input(money("1.00"), 1)).unwrap();
    let new_event = NewEvent { studio_id: missing_studio, details, created_at: epoch() };
    let created = store.create(new_event, |_| Default::default()).await;
    assert_eq!(created.map(|c| c.value.id), Err(DomainError::NotFound("studio")));

    let auction = hothour_domain::AuctionDetails::new(common::auction_input(
        epoch(),
        money("500.00"),
        money("100.00"),
        money("50.00"),
        money("20.00"),
    ))
    .unwrap();
    let new_auction =
        hothour_domain::ports::NewAuction { studio_id: missing_studio, details: auction, created_at: epoch() };
    let created = store.create(new_auction, |_| Default::default()).await;
    assert_eq!(created.map(|c| c.value.id), Err(DomainError::NotFound("studio")));

    let nobody = UserId(999);
    assert_eq!(
        store.issue_refresh_token(nobody, NewRefreshToken { hash: "hash", expires_at: epoch() }).await,
        Err(DomainError::NotFound("user")),
        "a token for no one"
    );
    assert_eq!(
        store.begin_idempotent(&claim(nobody, "k", "POST /x", "h", epoch())).await,
        Err(DomainError::NotFound("user"))
    );
    let details = AuditDetails::StudioUpdate(Changes::default());
    let entry = AuditEntry::new(world.admin.user_id, Some(missing_studio), "studio:999".into(), &details);
    assert_eq!(store.record_audit(entry).await, Err(DomainError::NotFound("studio")));

    assert_eq!(
        store.assign_studio_admin(missing_studio, "nobody@example.test").await,
        Err(DomainError::NotFound("user"))
    );
    world.user("bob@example.test").await;
    assert_eq!(
        store.assign_studio_admin(missing_studio, "bob@example.test").await,
        Err(DomainError::NotFound("studio"))
    );
    let bob = store.assign_studio_admin(world.studio, "bob@example.test").await.unwrap();
    assert_eq!(bob.studio_id, Some(world.studio));
    let other = store
        .create_studio(NewStudio {
            name: "Other".into(),
            address: String::new(),
            timezone: "UTC".into(),
            maps_url: None,
        })
        .await
        .unwrap();
    assert_eq!(store.assign_studio_admin(other.id, "bob@example.test").await, Err(DomainError::AlreadyAdministers));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let world = World::new("tokens").await;
    let store = &world.db.store;
    let user = world.admin.user_id;
    let later = epoch() + Duration::days(7);
    let issue = |user, hash, expires_at| store.issue_refresh_token(user, NewRefreshToken { hash, expires_at });
    let rotate = |old_hash, hash, expires_at, now| {
        store.rotate_refresh_token(TokenRotation { old_hash, new: NewRefreshToken { hash, expires_at }, now })
    };
    assert_eq!(issue(user, "first", later).await, Ok(0), "the first session generation");
    assert_eq!(
        world.db.scalar("SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = 'first' AND family_id = id").await,
        1,
        "a family is named after its first token"
    );
    let rotated = |answer: Result<User, DomainError>| answer.map(|user| (user.id, user.session_generation));
    assert_eq!(rotated(rotate("first", "second", later, epoch()).await), Ok((user, 0)));
    assert_eq!(rotated(rotate("second", "third", later, epoch()).await), Ok((user, 0)));
    assert_eq!(
        rotate("first", "stolen", later, epoch()).await,
        Err(DomainError::InvalidRefreshToken),
        "a revoked token came back"
    );
    assert_eq!(
        rotate("third", "fourth", later, epoch()).await,
        Err(DomainError::InvalidRefreshToken),
        "the whole family was revoked"
    );
    assert_eq!(rotate("unknown", "x", later, epoch()).await, Err(DomainError::InvalidRefreshToken));

    issue(user, "short", epoch() + Duration::minutes(1)).await.unwrap();
    assert_eq!(
        rotate("short", "y", later, epoch() + Duration::minutes(1)).await,
        Err(DomainError::InvalidRefreshToken),
        "expired at expires_at"
    );

    issue(user, "a", later).await.unwrap();
    issue(user, "b", later).await.unwrap();
    store.revoke_refresh_token(user, "a").await.unwrap();
    assert_eq!(rotate("a", "a2", later, epoch()).await, Err(DomainError::InvalidRefreshToken));
    assert_eq!(store.change_password(user, "new-hash".into()).await, Ok(1), "the next session generation");
    assert_eq!(store.password_hash(user).await.unwrap().as_deref(), Some("new-hash"));
    assert_eq!(rotate("b", "b2", later, epoch()).await, Err(DomainError::InvalidRefreshToken));
    assert_eq!(world.db.scalar("SELECT COUNT(*) FROM refresh_tokens WHERE revoked_at IS NULL").await, 0);

    assert_eq!(issue(user, "c", later).await, Ok(1));
    assert_eq!(store.revoke_all_refresh_tokens(user).await, Ok(2));
    assert_eq!(rotate("c", "c2", later, epoch()).await, Err(DomainError::InvalidRefreshToken));
    assert_eq!(issue(user, "d", later).await, Ok(2));
    assert_eq!(rotated(rotate("d", "d2", later, epoch()).await), Ok((user, 2)));
}

/// A claim at `at` with a 10-second lease, kept for 24 hours.
fn claim<'a>(user: UserId, key: &'a str, request: &'a str, hash: &'a str, at: DateTime<Utc>) -> IdempotencyClaim<'a> {
    IdempotencyClaim {
        user,
        key,
        request,
        request_hash: hash,
        now: at,
        lease_until: at + Duration::seconds(10),
        expires_at: at + Duration::hours(24),
    }
}

/// The admin claims `key` for `POST /events/1/holds` with a body hashed `hash`, at `at`.
async fn begin(world: &World, key: &str, hash: &str, at: DateTime<Utc>) -> Result<IdempotencyBegin, DomainError> {
    world.db.store.begin_idempotent(&claim(world.admin.user_id, key, "POST /events/1/holds", hash, at)).await
}

#[tokio::test]
async fn idempotency_keys_start_replay_and_expire() {
    let world = World::new("idempotency").await;
    let (store, user, now) = (&world.db.store, world.admin.user_id, epoch());
    let begin = |key, hash, at| begin(&world, key, hash, at);

    assert_eq!(begin("k1", "h", now).await, Ok(IdempotencyBegin::Started));
    assert_eq!(begin("k1", "h", now).await, Ok(IdempotencyBegin::InProgress));
    assert_eq!(begin("k1", "other", now).await, Ok(IdempotencyBegin::Mismatch));
    assert_eq!(
        store.begin_idempotent(&claim(user, "k1", "POST /events/2/holds", "h", now)).await,
        Ok(IdempotencyBegin::Mismatch)
    );
    store.finish_idempotent(user, "k1", 201, b"{\"id\":1}".to_vec()).await.unwrap();
    let replay = Ok(IdempotencyBegin::Replay { status: 201, body: b"{\"id\":1}".to_vec() });
    assert_eq!(begin("k1", "h", now).await, replay);
    assert_eq!(begin("k1", "h", now + Duration::minutes(1)).await, replay, "an answer outlives the lease");
    let expires = now + Duration::hours(24);
    assert_eq!(begin("k1", "h", expires).await, Ok(IdempotencyBegin::Started), "an expired key is claimed anew");

    assert_eq!(begin("k2", "h", now).await, Ok(IdempotencyBegin::Started));
    store.abandon_idempotent(user, "k2", now + Duration::seconds(10)).await.unwrap();
    assert_eq!(begin("k2", "h", now).await, Ok(IdempotencyBegin::Started));
}

#[tokio::test]
async fn an_unanswered_key_runs_again_after_its_lease() {
    let world = World::new("idempotency-lease").await;
    let (store, user, now) = (&world.db.store, world.admin.user_id, epoch());
    let begin = |hash, at| begin(&world, "k", hash, at);

    assert_eq!(begin("h", now).await, Ok(IdempotencyBegin::Started));
    assert_eq!(begin("h", now + Duration::seconds(9)).await, Ok(IdempotencyBegin::InProgress), "within the lease");
    assert_eq!(begin("other", now + Duration::seconds(10)).await, Ok(IdempotencyBegin::Mismatch));
    let retried = now + Duration::seconds(10);
    assert_eq!(begin("h", retried).await, Ok(IdempotencyBegin::Started), "the lease lapsed");
    assert_eq!(begin("h", retried).await, Ok(IdempotencyBegin::InProgress), "the retry holds a lease of its own");

    store.abandon_idempotent(user, "k", now + Duration::seconds(10)).await.unwrap();
    assert_eq!(
        begin("h", retried).await,
        Ok(IdempotencyBegin::InProgress),
        "a stale run cannot forget the retry's claim"
    );
    store.finish_idempotent(user, "k", 201, b"first".to_vec()).await.unwrap();
    store.finish_idempotent(user, "k", 409, b"second".to_vec()).await.unwrap();
    assert_eq!(
        begin("h", retried).await,
        Ok(IdempotencyBegin::Replay { status: 201, body: b"first".to_vec() }),
        "the first answer stored wins"
    );

    assert_eq!(store.prune_idempotency_keys(now + Duration::hours(24) - Duration::seconds(1)).await, Ok(0));
    assert_eq!(store.prune_idempotency_keys(now + Duration::hours(24)).await, Ok(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pool_of_one_connection_does_not_deadlock() {
    let db = TestDb::with("pool-of-one", |config| config.max_connections = 1).await;
    let studio = db
        .store
        .create_studio(NewStudio { name: "One".into(), address: String::new(), timezone: "UTC".into(), maps_url: None })
        .await
        .unwrap();
    let admin = db.store.create_user(new_user("admin@one.test")).await.unwrap();
    let admin = hothour_domain::Actor::studio_admin(admin.id, studio.id);
    let clock = hothour_domain::ManualClock::new(epoch());
    let services = std::sync::Arc::new(hothour_domain::Services::new(
        db.store.clone(),
        clock,
        hothour_domain::ports::NoPublisher,
        hothour_domain::Policy::default(),
    ));
    let input = hothour_domain::EventInput {
        title: "Jam".into(),
        description: String::new(),
        capacity: 10,
        price: money("5.00"),
        starts_at: epoch() + Duration::days(1),
        ends_at: epoch() + Duration::days(1) + Duration::hours(1),
        is_active: true,
    };
    let event = services.create_event(&admin, None, input).await.unwrap().id;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (store, services) = (db.store.clone(), services.clone());
        tasks.spawn(async move {
            let user = store.create_user(new_user(&format!("u{i}@one.test"))).await.unwrap();
            let held = services.hold(&hothour_domain::Actor::user(user.id), event, 1).await.is_ok();
            // A read right after, on the same single connection.
            services.get_event(event).await.unwrap();
            held
        });
    }
    let held = tokio::time::timeout(StdDuration::from_secs(30), tasks.join_all()).await.expect("no deadlock");
    assert_eq!(held.iter().filter(|ok| **ok).count(), 10);
    assert_eq!(db.scalar(&format!("SELECT held_seats FROM events WHERE id = {}", event.0)).await, 10);
}
