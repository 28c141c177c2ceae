//! Live updates over the WebSocket (SPEC §9): rooms and who may join them,
//! snapshots and resume, price ticks, the fan-out across instances, hold
//! expiry, slow consumers and graceful shutdown.

use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use chrono::Duration;
use futures_util::{SinkExt, StreamExt};
use hothour_domain::ports::OutboxStore;
use hothour_tests::app::{Backend, Session, TestApp};
use hothour_tests::fixtures::{World, id, iso, register_many, time};
use hothour_tests::on_both_stores;
use hothour_tests::ws::{Ending, QUIET, WAIT, WsClient, assert_error, read_to_end, seq};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// --- the world over HTTP ---------------------------------------------------------

/// An active event of `capacity` seats, starting in two days.
async fn open_event(app: &TestApp, admin: &Session, capacity: i64) -> i64 {
    let starts = app.now() + Duration::days(2);
    let body = json!({
        "title": "Salsa night",
        "capacity": capacity,
        "price": "150.00",
        "starts_at": iso(starts),
        "ends_at": iso(starts + Duration::hours(1)),
    });
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

async fn hold(app: &TestApp, user: &Session, event_id: i64) -> Value {
    let (status, reservation) =
        app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({"quantity": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{reservation}");
    reservation
}

/// start 500, floor 100, drop 50 every 60 min, started 10 min ago, ends in
/// `ends_in` minutes, turbo 30 min before the end: 20.00 every 5 min.
fn auction_body(app: &TestApp, ends_in: i64) -> Value {
    let now = app.now();
    json!({
        "title": "Tango slot",
        "start_price": "500.00",
        "floor_price": "100.00",
        "drop_amount": "50.00",
        "drop_interval_minutes": 60,
        "starts_at": iso(now - Duration::minutes(10)),
        "ends_at": iso(now + Duration::minutes(ends_in)),
        "scheduled_at": iso(now + Duration::minutes(ends_in + 60)),
        "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
    })
}

async fn create_auction(app: &TestApp, admin: &Session, body: Value) -> i64 {
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

async fn auction(app: &TestApp, auction_id: i64) -> Value {
    let (status, body) = app.get(&format!("/auctions/{auction_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn grab(app: &TestApp, user: &Session, auction_id: i64) -> Value {
    let (status, held) = app.call(Method::POST, &format!("/auctions/{auction_id}/grab"), Some(&user.token), None).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    held
}

// --- 1. an auction room --------------------------------------------------------------

on_both_stores! {
    async fn an_auction_room_sees_the_price_step_turbo_the_hold_and_the_booking_in_order(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        // Ends in 230 min: hourly steps 50, 110 and 170 min from now, turbo from 200.
        let auction_id = create_auction(&app, &admin, auction_body(&app, 230)).await;
        let room = format!("auction:{auction_id}");
        let mut clients = [WsClient::connect(&app).await, WsClient::connect(&app).await];
        let mut subscriptions = Vec::new();
        for client in &mut clients {
            subscriptions.push(client.subscribed(&room).await);
        }
        let epoch = subscriptions[0]["epoch"].clone();
        assert!(epoch.is_i64(), "{}", subscriptions[0]);
        assert_eq!(subscriptions[1]["epoch"], epoch);

        // The price step. The room's price ticker reads the schedule on its own
        // when the first client joins; should it read only after the clock moved,
        // it waits for the following step, so move on to that one.
        let mut stepped = None;
        for _ in 0..3 {
            let shown = auction(&app, auction_id).await;
            app.clock.set(time(&shown["next_change_at"]) + Duration::seconds(1));
            if let Some(update) = clients[0].next_within(StdDuration::from_secs(2)).await {
                stepped = Some((update, shown["next_price"].clone()));
                break;
            }
        }
        let (update, new_price) = stepped.expect("a price_update when the clock passes next_change_at");
        assert_eq!(update["type"], "price_update", "{update}");
        assert_eq!(update["room"], room.as_str(), "{update}");
        assert_eq!(update["data"]["id"], auction_id, "{update}");
        assert_eq!(update["data"]["current_price"], new_price, "{update}");
        assert_ne!(new_price, "500.00");
        assert_eq!(auction(&app, auction_id).await["current_price"], new_price);
        assert!(update.get("seq").is_none() && update.get("epoch").is_none(), "a price tick has no seq: {update}");
        assert_eq!(clients[1].next_json().await, update, "both clients get the same tick");

        // Turbo, started by the studio; a grab; its confirmation.
        let (status, turbo) = app.post(&format!("/auctions/{auction_id}/turbo"), Some(&admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{turbo}");
        let user = app.register("grabber@live.test").await;
        let held = grab(&app, &user, auction_id).await;
        let (status, booked) =
            app.post(&format!("/reservations/{}/confirm", id(&held)), Some(&user.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{booked}");

        for (client, subscribed) in clients.iter_mut().zip(&subscriptions) {
            let mut changes = Vec::new();
            for _ in 0..3 {
                changes.push(client.next_json().await);
            }
            let kinds: Vec<&str> = changes.iter().map(|m| m["type"].as_str().unwrap_or("?")).collect();
            assert_eq!(kinds, ["turbo_triggered", "auction_held", "auction_booked"], "{changes:?}");
            let (turbo, held, booked) = (&changes[0]["data"], &changes[1]["data"], &changes[2]["data"]);
            assert_eq!(turbo["turbo_active"], true, "{turbo}");
            assert_eq!(turbo["current_price"], new_price, "triggering turbo never moves the price at once: {turbo}");
            assert_eq!(held["status"], "HELD", "{held}");
            assert_eq!(held["held_price"], new_price, "{held}");
            assert_eq!(booked["status"], "SOLD", "{booked}");
            let mut previous = seq(subscribed);
            for change in &changes {
                assert_eq!(change["room"], room.as_str(), "{change}");
                assert_eq!(change["epoch"], epoch, "{change}");
                assert!(seq(change) > previous, "seq must increase strictly: {changes:?}");
                previous = seq(change);
            }
            client.assert_quiet().await;
        }
    }

    async fn turbo_starting_on_its_own_is_announced_exactly_once(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        // On PostgreSQL a second instance runs the background jobs too: still one
        // announcement. (SQLite instances do not share a database.)
        let other = match backend {
            Backend::Postgres => Some(app.another_instance().await),
            Backend::Sqlite => None,
        };
        // Ends in 110 min: turbo starts on its own 80 min from now.
        let auction_id = create_auction(&app, &admin, auction_body(&app, 110)).await;
        let room = format!("auction:{auction_id}");
        let mut clients = vec![WsClient::connect(&app).await];
        if let Some(other) = &other {
            clients.push(WsClient::connect(other).await);
        }
        for client in &mut clients {
            client.subscribed(&room).await;
        }

        app.clock.advance(Duration::minutes(81));
        for client in &mut clients {
            let turbo = client.next_of_type("turbo_triggered").await;
            assert_eq!(turbo["data"]["turbo_active"], true, "{turbo}");
            assert!(turbo["seq"].is_i64(), "{turbo}");
            let more = client.collect_for(QUIET).await;
            assert!(!more.iter().any(|m| m["type"] == "turbo_triggered"), "announced twice: {more:?}");
        }
        assert_eq!(auction(&app, auction_id).await["turbo_active"], true);

        // The jobs run again as time moves on (into the first turbo step): no new announcement.
        app.clock.advance(Duration::minutes(5));
        for client in &mut clients {
            let later = client.collect_for(StdDuration::from_secs(1)).await;
            assert!(!later.iter().any(|m| m["type"] == "turbo_triggered"), "announced again: {later:?}");
        }
    }
}

// --- 2. snapshots ------------------------------------------------------------------------

on_both_stores! {
    async fn subscribing_answers_a_snapshot_of_the_room(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = create_auction(&app, &admin, auction_body(&app, 110)).await;
        let shown = auction(&app, auction_id).await;
        let mut client = WsClient::connect(&app).await;

        let subscribed = client.subscribed(&format!("auction:{auction_id}")).await;
        assert!(subscribed["seq"].is_i64() && subscribed["epoch"].is_i64(), "{subscribed}");
        assert_eq!(time(&subscribed["at"]), app.now());
        let data = &subscribed["data"];
        assert_eq!(data["id"], auction_id, "{subscribed}");
        assert_eq!(data["status"], "ACTIVE", "{subscribed}");
        assert_eq!(data["current_price"], "500.00", "{subscribed}");
        assert_eq!(data["current_price"], shown["current_price"]);
        assert_eq!(time(&data["next_change_at"]), time(&shown["next_change_at"]));
        assert_eq!(time(&data["next_change_at"]), app.now() + Duration::minutes(50));

        let event_id = open_event(&app, &admin, 12).await;
        let subscribed = client.subscribed(&format!("event:{event_id}")).await;
        assert_eq!(subscribed["data"]["id"], event_id, "{subscribed}");
        assert_eq!(subscribed["data"]["capacity"], 12, "{subscribed}");
        assert_eq!(subscribed["data"]["available"], 12, "{subscribed}");
        let user = app.register("holder@live.test").await;
        hold(&app, &user, event_id).await;
        let changed = client.next_of_type("availability_changed").await;
        assert_eq!(changed["data"]["available"], 11, "{changed}");

        // A later subscriber starts from the state now.
        let mut late = WsClient::connect(&app).await;
        let subscribed = late.subscribed(&format!("event:{event_id}")).await;
        assert_eq!(subscribed["data"]["available"], 11, "{subscribed}");
        assert_eq!(subscribed["data"]["held_seats"], 1, "{subscribed}");
        assert_eq!(seq(&subscribed), seq(&changed), "the snapshot is as of the room's latest event");
        late.assert_quiet().await;
    }
}

// --- 3. who may join which room ---------------------------------------------------------

on_both_stores! {
    async fn rooms_admit_only_those_allowed(backend) {
        let World { app, platform, studio_id, admin } = World::new(backend).await;
        let (other_studio, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let ada = app.register("ada@live.test").await;
        let bob = app.register("bob@live.test").await;
        let (user_room, studio_room) = (format!("user:{}", ada.user_id), format!("studio:{studio_id}"));

        // Anyone: a ping, public rooms; no personal or studio rooms.
        let mut anonymous = WsClient::connect(&app).await;
        anonymous.send_json(json!({"op": "ping"})).await;
        assert_eq!(anonymous.next_json().await["type"], "pong");
        assert_error(&anonymous.subscribe(&user_room, None).await, "unauthorized");
        assert_error(&anonymous.subscribe(&studio_room, None).await, "unauthorized");
        assert_error(&anonymous.auth("not-a-token").await, "unauthorized");
        assert_error(&anonymous.subscribe(&user_room, None).await, "unauthorized");
        let event_id = open_event(&app, &admin, 10).await;
        anonymous.subscribed(&format!("event:{event_id}")).await;

        // A user: their own room only.
        let mut ada_ws = WsClient::connect(&app).await;
        ada_ws.authenticated(&ada).await;
        ada_ws.subscribed(&user_room).await;
        assert_error(&ada_ws.subscribe(&format!("user:{}", bob.user_id), None).await, "forbidden");
        assert_error(&ada_ws.subscribe(&studio_room, None).await, "forbidden");

        // A studio admin: their studio, not another.
        let mut admin_ws = WsClient::connect(&app).await;
        admin_ws.authenticated(&admin).await;
        admin_ws.subscribed(&studio_room).await;
        assert_error(&admin_ws.subscribe(&format!("studio:{other_studio}"), None).await, "forbidden");
        assert_error(&admin_ws.subscribe(&user_room, None).await, "forbidden");
        let mut other_admin_ws = WsClient::connect(&app).await;
        other_admin_ws.authenticated(&other_admin).await;
        assert_error(&other_admin_ws.subscribe(&studio_room, None).await, "forbidden");

        // A platform admin: any studio.
        let mut platform_ws = WsClient::connect(&app).await;
        platform_ws.authenticated(&platform).await;
        platform_ws.subscribed(&studio_room).await;
        platform_ws.subscribed(&format!("studio:{other_studio}")).await;

        // Rooms that do not exist, and names that are not rooms.
        assert_error(&anonymous.subscribe("auction:999999", None).await, "not_found");
        assert_error(&anonymous.subscribe("event:999999", None).await, "not_found");
        for name in ["auction:abc", "auction", "auction:", "auction:0", "auction:-1", "tango:1", "", "auction:1:2"] {
            assert_error(&anonymous.subscribe(name, None).await, "bad_request");
        }
        anonymous.send_json(json!({"op": "subscribe"})).await;
        assert_error(&anonymous.next_json().await, "bad_request");
        anonymous.send_json(json!({"op": "dance"})).await;
        assert_error(&anonymous.next_json().await, "bad_request");
        anonymous.ws.send(Message::text("{not json")).await.expect("send");
        assert_error(&anonymous.next_json().await, "bad_request");

        // The rooms joined get what happens there; the refused ones nothing.
        hold(&app, &ada, event_id).await;
        let mine = ada_ws.next_json().await;
        assert_eq!((mine["type"].as_str(), mine["room"].as_str()), (Some("hold_created"), Some(user_room.as_str())));
        let studio_kinds = |messages: Vec<Value>| {
            let mut kinds: Vec<String> = messages.iter().map(|m| m["type"].as_str().unwrap_or("?").to_owned()).collect();
            kinds.sort();
            kinds
        };
        for client in [&mut admin_ws, &mut platform_ws] {
            let first = client.next_json().await;
            let second = client.next_json().await;
            assert_eq!(first["room"], studio_room.as_str());
            assert_eq!(studio_kinds(vec![first, second]), ["availability_changed", "hold_created"]);
        }
        let public = anonymous.next_json().await;
        assert_eq!(public["type"], "availability_changed", "{public}");
        for client in [&mut ada_ws, &mut other_admin_ws, &mut anonymous] {
            client.assert_quiet().await;
        }
        // After `unsubscribe`, nothing more from that room.
        anonymous.send_json(json!({"op": "unsubscribe", "room": format!("event:{event_id}")})).await;
        assert_eq!(anonymous.next_json().await["type"], "unsubscribed");
        hold(&app, &bob, event_id).await;
        anonymous.assert_quiet().await;
    }
}

// --- 4. two instances ----------------------------------------------------------------------

// PostgreSQL only: two instances share live updates through LISTEN/NOTIFY on one database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grab_through_one_instance_reaches_clients_of_another() {
    let World { app, admin, .. } = World::new(Backend::Postgres).await;
    let b = app.another_instance().await;
    let auction_id = create_auction(&app, &admin, auction_body(&app, 110)).await;
    let room = format!("auction:{auction_id}");
    let mut on_b = WsClient::connect(&b).await;
    let subscribed = on_b.subscribed(&room).await;
    let user = app.register("grabber@live.test").await;

    let held = grab(&app, &user, auction_id).await;
    let message = on_b
        .next_of_type_within("auction_held", StdDuration::from_secs(1))
        .await
        .expect("auction_held on instance B within a second of the grab on A");
    assert_eq!(message["room"], room.as_str());
    assert_eq!(message["data"]["status"], "HELD", "{message}");
    assert_eq!(message["data"]["held_price"], held["unit_price"], "{message} vs {held}");
    assert_eq!(message["epoch"], subscribed["epoch"], "one database, one epoch");
    assert!(seq(&message) > seq(&subscribed));
    on_b.assert_quiet().await;
}

// PostgreSQL only: another instance's read model hears a commit through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_reads_a_change_as_soon_as_it_is_announced() {
    let World { app, admin, .. } = World::new(Backend::Postgres).await;
    let b = app.another_instance().await;
    let event_id = open_event(&app, &admin, 10).await;
    let path = format!("/events/{event_id}");
    let read_on_b = || async {
        let (status, body) = b.get(&path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    };
    assert_eq!(read_on_b().await["available"], 10);
    app.sql_execute(&format!("UPDATE events SET title = 'Behind its back' WHERE id = {event_id}")).await;
    assert_eq!(read_on_b().await["title"], "Salsa night", "B answers from memory");
    let mut on_b = WsClient::connect(&b).await;
    on_b.subscribed(&format!("event:{event_id}")).await;

    let user = app.register("holder@live.test").await;
    hold(&app, &user, event_id).await;
    on_b.next_of_type("availability_changed").await;
    let read = read_on_b().await;
    assert_eq!((read["title"].as_str(), read["available"].as_i64()), (Some("Behind its back"), Some(9)), "{read}");
}

// PostgreSQL only: a read on another instance that starts after a commit was
// answered sees it, without waiting for the commit's announcement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_reads_a_change_right_after_its_commit() {
    let World { app, admin, .. } = World::new(Backend::Postgres).await;
    let b = app.another_instance().await;
    let event_id = open_event(&app, &admin, 10).await;
    let mut draft = auction_body(&app, 180);
    draft["starts_at"] = json!(iso(app.now() + Duration::minutes(60)));
    let auction_id = create_auction(&app, &admin, draft).await;
    for i in 0..100 {
        let title = format!("Edit {i}");
        for path in [format!("/events/{event_id}"), format!("/auctions/{auction_id}")] {
            let (status, body) = app.patch(&path, Some(&admin.token), json!({ "title": title })).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, body) = b.get(&path, None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["title"], title.as_str(), "{path} read on B right after edit {i}");
        }
    }
}

// --- 5. resume -------------------------------------------------------------------------------

on_both_stores! {
    async fn a_client_resumes_with_exactly_the_events_it_missed(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 50).await;
        let room = format!("event:{event_id}");
        let users = register_many(&app, "resumer", 5).await;

        let mut client = WsClient::connect(&app).await;
        let subscribed = client.subscribed(&room).await;
        let epoch = subscribed["epoch"].clone();
        hold(&app, &users[0], event_id).await;
        let seen = client.next_json().await;
        assert_eq!(seen["type"], "availability_changed", "{seen}");
        let since = seq(&seen);
        client.close().await;

        // Missed while away.
        hold(&app, &users[1], event_id).await;
        hold(&app, &users[2], event_id).await;

        let mut back = WsClient::connect(&app).await;
        let resumed = back.subscribe(&room, Some(since)).await;
        assert_eq!(resumed["type"], "subscribed", "{resumed}");
        assert_eq!(resumed["resumed"], true, "{resumed}");
        assert!(resumed["data"].is_null(), "{resumed}");
        assert_eq!(resumed["epoch"], epoch);
        let missed = [back.next_json().await, back.next_json().await];
        let mut previous = since;
        for (message, available) in missed.iter().zip([48, 47]) {
            assert_eq!(message["type"], "availability_changed", "{message}");
            assert_eq!(message["room"], room.as_str());
            assert_eq!(message["data"]["available"], available, "{missed:?}");
            assert_eq!(message["epoch"], epoch);
            assert!(seq(message) > previous, "in order: {missed:?}");
            previous = seq(message);
        }
        assert_eq!(seq(&resumed), previous, "subscribed names the last event replayed");
        back.assert_quiet().await;

        // Live again: the next event once.
        hold(&app, &users[3], event_id).await;
        let live = back.next_json().await;
        assert_eq!(live["data"]["available"], 46, "{live}");
        assert!(seq(&live) > previous);
        back.assert_quiet().await;
        let newest = seq(&live);

        // A `since` beyond anything stored cannot be replayed: a snapshot.
        let mut ahead = WsClient::connect(&app).await;
        let reply = ahead.subscribe(&room, Some(newest + 1_000_000)).await;
        assert_eq!(reply["type"], "subscribed", "{reply}");
        assert_eq!(reply["resumed"], false, "{reply}");
        assert_eq!(reply["data"]["available"], 46, "{reply}");
        assert_eq!(seq(&reply), newest, "{reply}");
        ahead.assert_quiet().await;

        // Neither can one from before what was pruned.
        let pruned = app.store.prune_events(app.now() + Duration::seconds(1)).await.expect("prune");
        assert!(pruned > 0);
        hold(&app, &users[4], event_id).await;
        let mut late = WsClient::connect(&app).await;
        let reply = late.subscribe(&room, Some(since)).await;
        assert_eq!(reply["type"], "subscribed", "{reply}");
        assert_eq!(reply["resumed"], false, "{reply}");
        assert_eq!(reply["data"]["available"], 45, "{reply}");
        late.assert_quiet().await;
    }
}

// --- 6. a slow consumer -------------------------------------------------------------------------

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

const CROWD: usize = 200;
const BIG_EVENT: i64 = 1_000;

/// A room with a client that stopped reading long ago and one that reads,
/// after a crowd of holds.
struct SlowConsumerScene {
    app: TestApp,
    event_id: i64,
    room: String,
    /// The slow client's reading half, not read since it subscribed.
    slow: futures_util::stream::SplitStream<WsStream>,
    /// Still sending the slow client's requests.
    flood: tokio::task::JoinHandle<()>,
    fast: WsClient,
    /// The fast client's messages after the holds.
    received: Vec<Value>,
    /// Holds that succeeded.
    created: usize,
}

async fn slow_consumer_scene(backend: Backend) -> SlowConsumerScene {
    // The slow client floods ops on purpose: no op rate limit here.
    let vars = [("WS_QUEUE_CAPACITY", "8"), ("DB_MAX_CONNECTIONS", "20"), ("WS_OPS_PER_SECOND", "1000000")];
    let World { app, admin, .. } = World::with(backend, &vars).await;
    let event_id = open_event(&app, &admin, BIG_EVENT).await;
    let room = format!("event:{event_id}");

    let mut fast = WsClient::connect(&app).await;
    fast.subscribed(&room).await;
    // An unknown op is answered with an error quoting it: ~15 kB back for ~15 kB sent.
    let long_op = "x".repeat(15_000);
    fast.send_json(json!({"op": long_op})).await;
    let echo = fast.next_json().await;
    assert_error(&echo, "bad_request");
    assert!(echo.to_string().len() > 15_000, "the error quotes the op");

    // The slow client joins, then stops reading. Loopback sockets buffer
    // megabytes, so it also asks for ~6 MB of answers it never reads: its
    // connection is then backed up all the way to the server.
    let mut slow = WsClient::connect_with_small_buffer(&app).await;
    slow.subscribed(&room).await;
    let (mut sink, slow) = slow.ws.split();
    let flood = tokio::spawn(async move {
        for _ in 0..400 {
            if sink.send(Message::text(json!({"op": long_op}).to_string())).await.is_err() {
                return;
            }
        }
        // Keep the writing half (and so the connection) until the test ends.
        std::future::pending::<()>().await;
    });

    // A crowd holds seats, at most 8 requests at a time: one change each.
    let users = register_many(&app, "crowd", CROWD).await;
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let tasks: Vec<_> = users
        .into_iter()
        .map(|user| {
            let (client, url) = (app.client.clone(), app.url(&format!("/api/v1/events/{event_id}/holds")));
            let permits = permits.clone();
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.expect("a permit");
                let request = client.post(url).bearer_auth(&user.token).json(&json!({"quantity": 1}));
                request.send().await.expect("the server answers").status()
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let status = task.await.expect("hold task");
        assert!(matches!(status.as_u16(), 201 | 503), "{status}");
        created += usize::from(status == StatusCode::CREATED);
    }
    assert!(created >= CROWD * 9 / 10, "only {created} of {CROWD} holds succeeded");

    // Holds decided together announce availability once per batch: read up
    // to the announcement of the last seat taken.
    let mut received: Vec<Value> = Vec::new();
    while received.last().is_none_or(|m| m["data"]["available"] != BIG_EVENT - created as i64) {
        received.push(fast.next_json().await);
    }
    SlowConsumerScene { app, event_id, room, slow, flood, fast, received, created }
}

on_both_stores! {
    async fn a_slow_consumer_is_disconnected_without_slowing_its_room(backend) {
        let SlowConsumerScene { app, event_id, room, mut slow, flood, mut fast, received, created } =
            slow_consumer_scene(backend).await;

        // The fast client got the changes in order, down to the last seat taken.
        assert!(received.iter().all(|m| m["type"] == "availability_changed"), "{received:?}");
        assert!(received.windows(2).all(|w| seq(&w[0]) < seq(&w[1])), "in order");
        let available: Vec<i64> = received.iter().map(|m| m["data"]["available"].as_i64().expect("a count")).collect();
        assert!(available.windows(2).all(|w| w[0] > w[1]), "seats only go: {available:?}");
        assert_eq!(available.last(), Some(&(BIG_EVENT - created as i64)));
        fast.assert_quiet().await;

        // The slow one, reading at last, finds its connection closed as too slow.
        let (texts, ending) = read_to_end(&mut slow, StdDuration::from_secs(20)).await;
        match ending {
            Ending::Closed(code) => assert_eq!(code, Some(4008), "after {texts} messages"),
            other => println!("the slow client's connection ended without a close frame: {other:?}"),
        }
        assert_eq!(app.hub.slow_consumers_dropped.load(Ordering::Relaxed), 1);
        assert_eq!(app.hub.subscriber_count(&room), 1, "only the fast client is left");
        flood.abort();

        // Everything else still works.
        fast.send_json(json!({"op": "ping"})).await;
        assert_eq!(fast.next_json().await["type"], "pong");
        let (status, _) = app.get(&format!("/events/{event_id}"), None).await;
        assert_eq!(status, StatusCode::OK);
        let mut newcomer = WsClient::connect(&app).await;
        assert_eq!(newcomer.subscribed(&room).await["data"]["available"], BIG_EVENT - created as i64);
    }

    async fn a_slow_consumer_is_disconnected_even_if_it_never_reads_again(backend) {
        let SlowConsumerScene { app, room, flood, slow: _slow, fast: _fast, .. } = slow_consumer_scene(backend).await;
        // Its queue overflowed during the holds: the server lets it go on its own,
        // without waiting for the client to read.
        let deadline = Instant::now() + StdDuration::from_secs(3);
        while app.hub.subscriber_count(&room) > 1 && Instant::now() < deadline {
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        assert_eq!(app.hub.subscriber_count(&room), 1, "the slow client should have left the room");
        assert_eq!(app.hub.slow_consumers_dropped.load(Ordering::Relaxed), 1);
        flood.abort();
    }
}

// --- 7. expiry -------------------------------------------------------------------------------------

on_both_stores! {
    async fn an_expired_hold_is_announced_to_its_owner_and_its_event(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let ada = app.register("ada@live.test").await;
        let mut owner = WsClient::connect(&app).await;
        owner.authenticated(&ada).await;
        owner.subscribed(&format!("user:{}", ada.user_id)).await;
        let mut watcher = WsClient::connect(&app).await;
        watcher.subscribed(&format!("event:{event_id}")).await;

        let held = hold(&app, &ada, event_id).await;
        let created = owner.next_json().await;
        assert_eq!(created["type"], "hold_created", "{created}");
        assert_eq!(created["data"]["id"], id(&held), "{created}");
        assert_eq!(watcher.next_json().await["data"]["available"], 9);

        // Not yet.
        app.clock.set(time(&held["expires_at"]) - Duration::seconds(5));
        owner.assert_quiet().await;

        app.clock.set(time(&held["expires_at"]) + Duration::seconds(3));
        let expired = owner.next_json().await;
        assert_eq!(expired["type"], "reservation_expired", "{expired}");
        assert_eq!(expired["data"]["id"], id(&held), "{expired}");
        assert_eq!(expired["data"]["status"], "EXPIRED", "{expired}");
        assert!(seq(&expired) > seq(&created));
        let freed = watcher.next_json().await;
        assert_eq!(freed["type"], "availability_changed", "{freed}");
        assert_eq!(freed["data"]["available"], 10, "{freed}");
        assert_eq!(freed["data"]["held_seats"], 0, "{freed}");
        owner.assert_quiet().await;
        watcher.assert_quiet().await;
    }
}

// --- 8. shutdown ------------------------------------------------------------------------------------

on_both_stores! {
    async fn shutting_down_closes_every_socket_with_1001(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let mut subscribed = WsClient::connect(&app).await;
        subscribed.subscribed(&format!("event:{event_id}")).await;
        let mut signed_in = WsClient::connect(&app).await;
        signed_in.authenticated(&admin).await;
        let mut idle = WsClient::connect(&app).await;
        idle.send_json(json!({"op": "ping"})).await;
        assert_eq!(idle.next_json().await["type"], "pong");

        app.hub.shut_down();
        for client in [&mut subscribed, &mut signed_in, &mut idle] {
            assert_eq!(client.ending(WAIT).await, Ending::Closed(Some(1001)));
        }
    }
}
