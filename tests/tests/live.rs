//! Live updates over the WebSocket (SPEC §9): rooms and who may join them,
//! snapshots and resume, price ticks, the fan-out across instances, hold
//! expiry, slow consumers and graceful shutdown.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use futures_util::{SinkExt, StreamExt};
use hothour_domain::ports::OutboxStore;
use hothour_tests::app::{PASSWORD, Session, TestApp, session};
use hothour_tests::asyncapi;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// --- a WebSocket client -------------------------------------------------------

/// How long a message the test expects may take.
const WAIT: StdDuration = StdDuration::from_secs(5);
/// How long the test listens to conclude that nothing more comes.
const QUIET: StdDuration = StdDuration::from_millis(500);

/// How a connection ended.
#[derive(Debug, PartialEq)]
enum Ending {
    /// A Close frame, with its code if it had one.
    Closed(Option<u16>),
    /// The stream ended without a Close frame.
    Ended,
    /// Reading failed (e.g. the connection was reset).
    Failed(String),
}

struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    async fn connect(app: &TestApp) -> WsClient {
        let (ws, _) = tokio_tungstenite::connect_async(app.ws_url()).await.expect("the WebSocket upgrade");
        WsClient { ws }
    }

    /// A client whose socket has a tiny receive buffer, so that it stops
    /// accepting data soon once it stops reading.
    async fn connect_with_small_buffer(app: &TestApp) -> WsClient {
        let addr: SocketAddr = app.base_url.trim_start_matches("http://").parse().expect("a socket address");
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a small receive buffer");
        let stream = socket.connect(addr).await.expect("connect");
        let (ws, _) = tokio_tungstenite::client_async(app.ws_url(), MaybeTlsStream::Plain(stream))
            .await
            .expect("the WebSocket upgrade");
        WsClient { ws }
    }

    async fn send_json(&mut self, value: Value) {
        self.ws.send(Message::text(value.to_string())).await.expect("send a frame");
    }

    /// The next JSON message within `wait` (control frames skipped), or `None`.
    /// Panics when the connection ends instead.
    async fn next_within(&mut self, wait: StdDuration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let Ok(message) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return None;
            };
            match message {
                Some(Ok(Message::Text(text))) => return Some(asyncapi::parse_frame(&text)),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Binary(bytes))) => panic!("unexpected binary frame: {bytes:?}"),
                Some(Ok(Message::Close(frame))) => panic!("the server closed the connection: {frame:?}"),
                Some(Err(error)) => panic!("reading failed: {error}"),
                None => panic!("the connection ended"),
            }
        }
    }

    async fn next_json(&mut self) -> Value {
        self.next_within(WAIT).await.unwrap_or_else(|| panic!("no message within {WAIT:?}"))
    }

    /// The next message of type `kind` within `wait`, skipping others.
    async fn next_of_type_within(&mut self, kind: &str, wait: StdDuration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let message = self.next_within(deadline.saturating_duration_since(Instant::now())).await?;
            if message["type"] == kind {
                return Some(message);
            }
        }
    }

    async fn next_of_type(&mut self, kind: &str) -> Value {
        self.next_of_type_within(kind, WAIT).await.unwrap_or_else(|| panic!("no {kind} within {WAIT:?}"))
    }

    /// Every message that arrives within `wait`.
    async fn collect_for(&mut self, wait: StdDuration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        let mut messages = Vec::new();
        while let Some(message) = self.next_within(deadline.saturating_duration_since(Instant::now())).await {
            messages.push(message);
        }
        messages
    }

    /// Asserts that nothing arrives for a while.
    async fn assert_quiet(&mut self) {
        let extra = self.collect_for(QUIET).await;
        assert!(extra.is_empty(), "expected nothing more, got {extra:?}");
    }

    async fn auth(&mut self, token: &str) -> Value {
        self.send_json(json!({"op": "auth", "token": token})).await;
        self.next_json().await
    }

    async fn authenticated(&mut self, session: &Session) {
        let reply = self.auth(&session.token).await;
        assert_eq!(reply["type"], "authenticated", "{reply}");
        assert_eq!(reply["user_id"], session.user_id, "{reply}");
    }

    /// Sends `subscribe` and answers the reply.
    async fn subscribe(&mut self, room: &str, since: Option<i64>) -> Value {
        let mut op = json!({"op": "subscribe", "room": room});
        if let Some(since) = since {
            op["since"] = json!(since);
        }
        self.send_json(op).await;
        self.next_json().await
    }

    /// Subscribes and asserts it worked.
    async fn subscribed(&mut self, room: &str) -> Value {
        let reply = self.subscribe(room, None).await;
        assert_eq!(reply["type"], "subscribed", "{room}: {reply}");
        assert_eq!(reply["room"], room, "{reply}");
        assert_eq!(reply["resumed"], false, "{reply}");
        reply
    }

    /// Reads (skipping messages) until the connection ends; panics if it stays open for `wait`.
    async fn ending(&mut self, wait: StdDuration) -> Ending {
        read_to_end(&mut self.ws, wait).await.1
    }

    async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Reads until the connection ends: how many text frames came first, and how it ended.
/// Panics if it stays open for `wait`.
async fn read_to_end<S>(stream: &mut S, wait: StdDuration) -> (usize, Ending)
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = Instant::now() + wait;
    let mut texts = 0;
    loop {
        let Ok(message) = tokio::time::timeout_at(deadline, stream.next()).await else {
            panic!("the connection is still open after {wait:?} ({texts} text frames read)");
        };
        match message {
            Some(Ok(Message::Close(frame))) => return (texts, Ending::Closed(frame.map(|f| u16::from(f.code)))),
            Some(Ok(Message::Text(text))) => {
                asyncapi::parse_frame(&text);
                texts += 1;
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return (texts, Ending::Failed(error.to_string())),
            None => return (texts, Ending::Ended),
        }
    }
}

#[track_caller]
fn assert_error(reply: &Value, code: &str) {
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], code, "{reply}");
}

fn seq(message: &Value) -> i64 {
    message["seq"].as_i64().unwrap_or_else(|| panic!("a seq in {message}"))
}

// --- the world over HTTP ---------------------------------------------------------

struct World {
    app: TestApp,
    platform: Session,
    studio_id: i64,
    admin: Session,
}

async fn world() -> World {
    world_with(&[]).await
}

async fn world_with(vars: &[(&str, &str)]) -> World {
    let app = TestApp::spawn_with(vars).await;
    let platform = app.platform_admin().await;
    let (studio_id, admin) = app.studio_with_admin(&platform, "admin@studio-a.test").await;
    World { app, platform, studio_id, admin }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("a timestamp, got {value}")))
        .unwrap_or_else(|e| panic!("{value} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

fn id(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("an id in {value}"))
}

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

/// Registers `n` users at once.
async fn register_many(app: &TestApp, prefix: &str, n: usize) -> Vec<Session> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/auth/register"));
            let email = format!("{prefix}{i}@live.test");
            tokio::spawn(async move {
                let response = client
                    .post(url)
                    .json(&json!({"email": email, "password": PASSWORD, "full_name": "Live Person"}))
                    .send()
                    .await
                    .expect("the server answers");
                assert_eq!(response.status(), StatusCode::CREATED);
                session(&response.json::<Value>().await.expect("tokens"))
            })
        })
        .collect();
    let mut sessions = Vec::with_capacity(n);
    for task in tasks {
        sessions.push(task.await.expect("registration task"));
    }
    sessions
}

// --- 1. an auction room --------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_auction_room_sees_the_price_step_turbo_the_hold_and_the_booking_in_order() {
    let World { app, admin, .. } = world().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn turbo_starting_on_its_own_is_announced_exactly_once() {
    let World { app, admin, .. } = world().await;
    // A second instance runs the background jobs too: still one announcement.
    let other = app.another_instance().await;
    // Ends in 110 min: turbo starts on its own 80 min from now.
    let auction_id = create_auction(&app, &admin, auction_body(&app, 110)).await;
    let room = format!("auction:{auction_id}");
    let mut client = WsClient::connect(&app).await;
    client.subscribed(&room).await;
    let mut watcher = WsClient::connect(&other).await;
    watcher.subscribed(&room).await;

    app.clock.advance(Duration::minutes(81));
    for client in [&mut client, &mut watcher] {
        let turbo = client.next_of_type("turbo_triggered").await;
        assert_eq!(turbo["data"]["turbo_active"], true, "{turbo}");
        assert!(turbo["seq"].is_i64(), "{turbo}");
        let more = client.collect_for(QUIET).await;
        assert!(!more.iter().any(|m| m["type"] == "turbo_triggered"), "announced twice: {more:?}");
    }
    assert_eq!(auction(&app, auction_id).await["turbo_active"], true);

    // The jobs run again as time moves on (into the first turbo step): no new announcement.
    app.clock.advance(Duration::minutes(5));
    for client in [&mut client, &mut watcher] {
        let later = client.collect_for(StdDuration::from_secs(1)).await;
        assert!(!later.iter().any(|m| m["type"] == "turbo_triggered"), "announced again: {later:?}");
    }
}

// --- 2. snapshots ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscribing_answers_a_snapshot_of_the_room() {
    let World { app, admin, .. } = world().await;
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

// --- 3. who may join which room ---------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rooms_admit_only_those_allowed() {
    let World { app, platform, studio_id, admin } = world().await;
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

// --- 4. two instances ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_grab_through_one_instance_reaches_clients_of_another() {
    let World { app, admin, .. } = world().await;
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

// --- 5. resume -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_resumes_with_exactly_the_events_it_missed() {
    let World { app, admin, .. } = world().await;
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

async fn slow_consumer_scene() -> SlowConsumerScene {
    // The slow client floods ops on purpose: no op rate limit here.
    let vars = [("WS_QUEUE_CAPACITY", "8"), ("DB_MAX_CONNECTIONS", "20"), ("WS_OPS_PER_SECOND", "1000000")];
    let World { app, admin, .. } = world_with(&vars).await;
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

    let mut received = Vec::with_capacity(created);
    while received.len() < created {
        received.push(fast.next_json().await);
    }
    SlowConsumerScene { app, event_id, room, slow, flood, fast, received, created }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_consumer_is_disconnected_without_slowing_its_room() {
    let SlowConsumerScene { app, event_id, room, mut slow, flood, mut fast, received, created } =
        slow_consumer_scene().await;

    // The fast client got every change, in order.
    assert!(received.iter().all(|m| m["type"] == "availability_changed"), "{received:?}");
    assert!(received.windows(2).all(|w| seq(&w[0]) < seq(&w[1])), "in order");
    let available: Vec<i64> = received.iter().map(|m| m["data"]["available"].as_i64().expect("a count")).collect();
    let expected: Vec<i64> = (1..=created as i64).map(|taken| BIG_EVENT - taken).collect();
    assert_eq!(available, expected);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_consumer_is_disconnected_even_if_it_never_reads_again() {
    let SlowConsumerScene { app, room, flood, slow: _slow, fast: _fast, .. } = slow_consumer_scene().await;
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

// --- 7. expiry -------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_hold_is_announced_to_its_owner_and_its_event() {
    let World { app, admin, .. } = world().await;
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

// --- 8. shutdown ------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutting_down_closes_every_socket_with_1001() {
    let World { app, admin, .. } = world().await;
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
