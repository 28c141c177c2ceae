//! Issue 9, defects 8, 9 and 13: a live socket lasts no longer than the
//! sign-in behind it, cannot grow without bound, and gets every event even
//! when a transaction commits late or the database fails for a moment.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use futures_util::{SinkExt, StreamExt};
use hothour_api::live::hub::Subscriber;
use hothour_api::live::ticker;
use hothour_domain::AuctionId;
use hothour_tests::app::{Backend, PASSWORD, Session, TestApp, session};
use hothour_tests::fixtures::{World, iso, time};
use hothour_tests::ws::{WAIT, WsClient, assert_error};
use hothour_tests::{asyncapi, on_both_stores};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

#[track_caller]
fn assert_session_ended(frame: &Value, reason: &str, rooms: &[&str], signed_in: bool) {
    assert_eq!(frame["type"], "session_ended", "{frame}");
    assert_eq!(frame["reason"], reason, "{frame}");
    assert_eq!(frame["rooms"], json!(rooms), "{frame}");
    assert_eq!(frame["signed_in"], signed_in, "{frame}");
}

// --- the world over HTTP ---------------------------------------------------------

/// An active event of 10 seats, starting in two days.
async fn open_event(app: &TestApp, admin: &Session) -> i64 {
    let starts = app.now() + Duration::days(2);
    let body = json!({
        "title": "Salsa night", "capacity": 10, "price": "150.00",
        "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1)),
    });
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event["id"].as_i64().expect("an event id")
}

async fn hold(app: &TestApp, user: &Session, event_id: i64) {
    let (status, body) =
        app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({"quantity": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// An auction that started 10 minutes ago: 500.00 dropping 50.00 every hour,
/// so the next steps are 50, 110, 170, … minutes from now, until 350.
async fn open_auction(app: &TestApp, admin: &Session) -> i64 {
    let now = app.now();
    let body = json!({
        "title": "Tango slot", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
        "drop_interval_minutes": 60, "starts_at": iso(now - Duration::minutes(10)),
        "ends_at": iso(now + Duration::minutes(350)), "scheduled_at": iso(now + Duration::minutes(400)),
    });
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    auction["id"].as_i64().expect("an auction id")
}

// --- 8. a socket lasts no longer than the sign-in behind it ----------------------

on_both_stores! {
    async fn private_rooms_end_when_the_access_token_expires_unless_it_is_renewed(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin).await;
        let ada = app.register("ada@ws.test").await;
        let (user_room, studio_room) = (format!("user:{}", ada.user_id), format!("studio:{studio_id}"));

        let mut lapsing = WsClient::connect(&app).await;
        lapsing.authenticated(&ada).await;
        lapsing.subscribed(&user_room).await;
        lapsing.subscribed(&format!("event:{event_id}")).await;
        let mut admin_ws = WsClient::connect(&app).await;
        admin_ws.authenticated(&admin).await;
        admin_ws.subscribed(&studio_room).await;
        let mut renewing = WsClient::connect(&app).await;
        renewing.authenticated(&ada).await;
        renewing.subscribed(&user_room).await;

        // Ten minutes on, one socket sends a fresh token.
        app.clock.advance(Duration::minutes(10));
        let fresh = app.login("ada@ws.test").await;
        let reply = renewing.auth(&fresh.token).await;
        assert_eq!(reply["type"], "authenticated", "{reply}");
        // JWT `exp` is in whole seconds.
        let expected = (app.now() + Duration::minutes(15)).timestamp();
        assert_eq!(time(&reply["expires_at"]).timestamp(), expected, "{reply}");
        lapsing.assert_quiet().await;

        // The first tokens (15 minutes) run out.
        app.clock.advance(Duration::minutes(5) + Duration::seconds(1));
        assert_session_ended(&lapsing.next_json().await, "token_expired", &[&user_room], false);
        assert_session_ended(&admin_ws.next_json().await, "token_expired", &[&studio_room], false);
        renewing.assert_quiet().await;

        // Private events go only to the renewed socket; public rooms carry on.
        hold(&app, &fresh, event_id).await;
        assert_eq!(renewing.next_json().await["type"], "hold_created");
        assert_eq!(lapsing.next_json().await["type"], "availability_changed");
        lapsing.assert_quiet().await;
        admin_ws.assert_quiet().await;

        // Neither the rooms nor the expired token let it back in.
        let refused = lapsing.subscribe(&user_room, None).await;
        assert_error(&refused, "unauthorized");
        assert_eq!((refused["op"].as_str(), refused["room"].as_str()), (Some("subscribe"), Some(user_room.as_str())));
        assert_error(&lapsing.auth(&ada.token).await, "unauthorized");
        assert_error(&admin_ws.subscribe(&studio_room, None).await, "unauthorized");
        // A fresh sign-in does.
        lapsing.authenticated(&fresh).await;
        lapsing.subscribed(&user_room).await;
    }

    async fn signing_out_everywhere_ends_private_rooms_on_every_instance(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        // On PostgreSQL the socket sits on another instance than the request.
        let other = match backend {
            Backend::Postgres => Some(app.another_instance().await),
            Backend::Sqlite => None,
        };
        let watched = other.as_ref().unwrap_or(&app);
        let event_id = open_event(&app, &admin).await;
        let ada = app.register("ada@ws.test").await;
        let user_room = format!("user:{}", ada.user_id);
        let mut ws = WsClient::connect(watched).await;
        ws.authenticated(&ada).await;
        ws.subscribed(&user_room).await;
        ws.subscribed(&format!("event:{event_id}")).await;

        let (status, body) = app.call(Method::POST, "/auth/logout-all", Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_session_ended(&ws.next_json().await, "logout_all", &[&user_room], false);

        // The signed-out token cannot sign the socket in again.
        assert_error(&ws.auth(&ada.token).await, "unauthorized");
        assert_error(&ws.subscribe(&user_room, None).await, "unauthorized");
        let again = app.login("ada@ws.test").await;
        hold(&app, &again, event_id).await;
        assert_eq!(ws.next_json().await["type"], "availability_changed", "public rooms carry on");
        ws.assert_quiet().await;

        // Signing in again does.
        ws.authenticated(&again).await;
        ws.subscribed(&user_room).await;
    }

    async fn changing_the_password_ends_private_rooms_of_every_socket(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin).await;
        let ada = app.register("ada@ws.test").await;
        let user_room = format!("user:{}", ada.user_id);
        let mut sockets = [WsClient::connect(&app).await, WsClient::connect(&app).await];
        for ws in &mut sockets {
            ws.authenticated(&ada).await;
            ws.subscribed(&user_room).await;
        }
        // Someone else's socket is not touched.
        let bob = app.register("bob@ws.test").await;
        let mut bob_ws = WsClient::connect(&app).await;
        bob_ws.authenticated(&bob).await;
        bob_ws.subscribed(&format!("user:{}", bob.user_id)).await;

        let change = json!({"current_password": PASSWORD, "new_password": "a brand new password"});
        let (status, body) = app.post("/me/password", Some(&ada.token), change).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for ws in &mut sockets {
            assert_session_ended(&ws.next_json().await, "password_changed", &[&user_room], false);
            assert_error(&ws.auth(&ada.token).await, "unauthorized");
        }
        let (status, tokens) =
            app.post("/auth/login", None, json!({"email": "ada@ws.test", "password": "a brand new password"})).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        hold(&app, &session(&tokens), event_id).await;
        for ws in &mut sockets {
            ws.assert_quiet().await;
        }
        hold(&app, &bob, event_id).await;
        assert_eq!(bob_ws.next_json().await["type"], "hold_created");
    }

    async fn a_role_change_ends_private_rooms_and_joining_again_checks_the_new_role(backend) {
        let World { app, platform, studio_id, admin } = World::new(backend).await;
        let ada = app.register("ada@ws.test").await;
        let user_room = format!("user:{}", ada.user_id);
        let mut ws = WsClient::connect(&app).await;
        ws.authenticated(&ada).await;
        ws.subscribed(&user_room).await;
        let mut admin_ws = WsClient::connect(&app).await;
        admin_ws.authenticated(&admin).await;
        admin_ws.subscribed(&format!("studio:{studio_id}")).await;

        // A platform admin makes Ada the admin of a new studio.
        let (status, studio) = app
            .post("/studios", Some(&platform.token), json!({"name": "Second", "address": "Moda 2", "timezone": "UTC"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{studio}");
        let second = studio["id"].as_i64().expect("a studio id");
        let second_room = format!("studio:{second}");
        assert_error(&ws.subscribe(&second_room, None).await, "forbidden");
        app.appoint(&platform, second, &ada, "ada@ws.test").await;
        assert_session_ended(&ws.next_json().await, "role_changed", &[&user_room], true);
        ws.subscribed(&second_room).await;
        admin_ws.assert_quiet().await;

        // Made a platform admin (as `hothour create-admin` does): the studio room ends too.
        let config = hothour_api::Config::from_lookup(|name| (name == "BCRYPT_COST").then(|| "4".into()))
            .expect("configuration");
        hothour_api::commands::create_admin(&app.store, &config, "ada@ws.test", "Ada", None)
            .await
            .expect("create-admin");
        assert_session_ended(&ws.next_json().await, "role_changed", &[&second_room], true);
        ws.subscribed(&second_room).await;

        // Joining checks the role as it is now.
        app.sql_execute(&format!("UPDATE users SET role = 'user', studio_id = NULL WHERE id = {}", ada.user_id)).await;
        assert_error(&ws.subscribe(&format!("studio:{studio_id}"), None).await, "forbidden");
    }

    /// Each instance keeps a caller's role in memory: a role change made
    /// through another instance takes effect as soon as it is announced
    /// (the socket's `session_ended` shows the announcement arrived).
    async fn a_role_change_takes_effect_on_every_instance_once_announced(backend) {
        let World { app, platform, .. } = World::new(backend).await;
        let other = match backend {
            Backend::Postgres => Some(app.another_instance().await),
            Backend::Sqlite => None,
        };
        let watched = other.as_ref().unwrap_or(&app);
        let ada = app.register("ada@ws.test").await;
        let (status, body) = app
            .post("/studios", Some(&platform.token), json!({"name": "Second", "address": "Moda 2", "timezone": "UTC"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let second = body["id"].as_i64().expect("a studio id");
        let starts = app.now() + Duration::days(2);
        let event = json!({
            "title": "Salsa night", "capacity": 10, "price": "150.00",
            "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1)),
        });
        let (status, body) = watched.post("/events", Some(&ada.token), event.clone()).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
        let mut ws = WsClient::connect(watched).await;
        ws.authenticated(&ada).await;

        app.appoint(&platform, second, &ada, "ada@ws.test").await;
        assert_session_ended(&ws.next_json().await, "role_changed", &[], true);
        let (status, body) = watched.post("/events", Some(&ada.token), event).await;
        assert_eq!(status, StatusCode::CREATED, "Ada acts as the studio's admin now: {body}");
        assert_eq!(body["studio_id"], second);
    }
}

// --- 9. a socket cannot grow without bound ----------------------------------------

on_both_stores! {
    async fn a_socket_joins_at_most_the_configured_number_of_rooms(backend) {
        let World { app, admin, .. } = World::with(backend, &[("WS_MAX_ROOMS_PER_SOCKET", "2")]).await;
        let rooms: Vec<String> = {
            let mut rooms = Vec::new();
            for _ in 0..3 {
                rooms.push(format!("event:{}", open_event(&app, &admin).await));
            }
            rooms
        };
        let mut ws = WsClient::connect(&app).await;
        ws.subscribed(&rooms[0]).await;
        ws.subscribed(&rooms[1]).await;
        let refused = ws.subscribe(&rooms[2], None).await;
        assert_error(&refused, "too_many_rooms");
        assert_eq!((refused["op"].as_str(), refused["room"].as_str()), (Some("subscribe"), Some(rooms[2].as_str())));
        // Joining a room again is no new room; leaving one makes space.
        ws.subscribed(&rooms[0]).await;
        ws.send_json(json!({"op": "unsubscribe", "room": rooms[1]})).await;
        assert_eq!(ws.next_json().await["type"], "unsubscribed");
        ws.subscribed(&rooms[2]).await;
    }

    async fn unknown_rooms_are_refused_with_or_without_since(backend) {
        let World { app, platform, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin).await;
        let mut ws = WsClient::connect(&app).await;
        for since in [None, Some(0), Some(5)] {
            for room in ["auction:999999", "event:999999"] {
                let refused = ws.subscribe(room, since).await;
                assert_error(&refused, "not_found");
                assert_eq!(refused["room"], room, "{refused}");
            }
        }
        let mut platform_ws = WsClient::connect(&app).await;
        platform_ws.authenticated(&platform).await;
        assert_error(&platform_ws.subscribe("studio:999999", None).await, "not_found");
        assert_error(&platform_ws.subscribe("studio:999999", Some(0)).await, "not_found");
        // A room that exists resumes.
        let resumed = ws.subscribe(&format!("event:{event_id}"), Some(0)).await;
        assert_eq!(resumed["type"], "subscribed", "{resumed}");
        assert_eq!(resumed["resumed"], true, "{resumed}");
    }

    async fn since_must_be_a_sequence_number(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let room = format!("event:{}", open_event(&app, &admin).await);
        let mut ws = WsClient::connect(&app).await;
        for since in [-1, i64::MIN, i64::MAX, 1 << 53] {
            let refused = ws.subscribe(&room, Some(since)).await;
            assert_error(&refused, "invalid_since");
            assert_eq!(refused["room"], room.as_str(), "{refused}");
        }
        // The socket is fine, and so is the largest valid `since`.
        ws.ping().await;
        let reply = ws.subscribe(&room, Some((1 << 53) - 1)).await;
        assert_eq!(reply["type"], "subscribed", "{reply}");
        assert_eq!(reply["resumed"], false, "a since ahead of the stream gets a snapshot: {reply}");
    }

    async fn ops_beyond_the_rate_are_refused_and_a_flood_is_closed_with_4029(backend) {
        let World { app, .. } = World::with(backend, &[("WS_OPS_PER_SECOND", "5")]).await;
        // A burst of twice the rate is fine.
        let mut polite = WsClient::connect(&app).await;
        for _ in 0..10 {
            polite.send_json(json!({"op": "ping"})).await;
        }
        for _ in 0..10 {
            let reply = polite.next_json().await;
            assert_eq!(reply["type"], "pong", "{reply}");
        }

        let mut flooding = WsClient::connect(&app).await;
        for _ in 0..60 {
            // The server may close before it has read them all.
            let _ = flooding.ws.send(Message::text(json!({"op": "ping"}).to_string())).await;
        }
        let (frames, close) = flooding.read_to_close().await;
        let pongs = frames.iter().filter(|f| f["type"] == "pong").count();
        let refused: Vec<&Value> = frames.iter().filter(|f| f["type"] != "pong").collect();
        assert!((10..=15).contains(&pongs), "a burst of 10 (and what refills meanwhile): {frames:?}");
        assert!(!refused.is_empty(), "{frames:?}");
        for frame in &refused {
            assert_error(frame, "rate_limited");
        }
        assert_eq!(close, Some(4029), "after {frames:?}");
        // Budgets are per socket: the polite one, spent for now, is told so; a new one is fine.
        polite.send_json(json!({"op": "ping"})).await;
        assert_error(&polite.next_json().await, "rate_limited");
        WsClient::connect(&app).await.ping().await;
    }

    async fn sockets_per_client_ip_are_capped(backend) {
        let World { app, .. } = World::with(backend, &[("WS_MAX_SOCKETS_PER_IP", "2")]).await;
        let mut first = WsClient::connect(&app).await;
        let mut second = WsClient::connect(&app).await;
        first.ping().await;
        second.ping().await;

        let mut third = WsClient::connect(&app).await;
        let (frames, close) = third.read_to_close().await;
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_error(&frames[0], "too_many_connections");
        assert_eq!(close, Some(1013));
        first.ping().await;

        // A closed socket frees its place (once the server has seen it go).
        let _ = first.ws.close(None).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let mut next = WsClient::connect(&app).await;
            next.send_json(json!({"op": "ping"})).await;
            match next.ws.next().await {
                Some(Ok(Message::Text(text))) if asyncapi::parse_frame(&text)["type"] == "pong" => break,
                other => assert!(Instant::now() < deadline, "still refused: {other:?}"),
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
    }
}

// --- 13. live delivery gaps --------------------------------------------------------

// PostgreSQL only: SQLite has one writer, so transactions commit in id order.
/// On PostgreSQL two transactions can commit out of id order (ids are taken
/// at insert time). The relay announces in id order all the same: nothing
/// after a missing id that may still commit, then both in order, even when
/// the listener's connection drops meanwhile. SQLite has one writer: ids are
/// taken and committed in order, so the case cannot arise there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_late_with_a_lower_id_is_delivered_first_across_a_reconnection() {
    let World { app, admin, .. } = World::new(Backend::Postgres).await;
    let event_id = open_event(&app, &admin).await;
    let room = format!("event:{event_id}");
    let user = app.register("ada@ws.test").await;
    let mut ws = WsClient::connect(&app).await;
    ws.subscribed(&room).await;

    // A transaction takes an outbox id and stays open…
    let db = Database::connect(app.db_url.as_str()).await.expect("a connection of the test's own");
    let late = db.begin().await.expect("begin");
    // The late event says what an availability change says (the event, as
    // REST shows it), marked by a description no real change has.
    let (status, mut late_event) = app.get(&format!("/events/{event_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{late_event}");
    late_event["description"] = json!("late");
    let insert = Statement::from_string(
        DbBackend::Postgres,
        format!(
            "INSERT INTO outbox (room, kind, payload) VALUES ('{room}', 'availability_changed', '{late_event}') RETURNING id"
        ),
    );
    let late_id: i64 =
        late.query_one_raw(insert).await.expect("insert").expect("a row").try_get_by_index(0).expect("an id");
    // …while another takes a higher id and commits: it waits for the first.
    hold(&app, &user, event_id).await;
    ws.assert_quiet().await;
    // The listener's connection drops; the first commits meanwhile.
    let listeners = Statement::from_string(
        DbBackend::Postgres,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            .to_owned(),
    );
    let dropped: i64 =
        db.query_one_raw(listeners).await.expect("terminate").expect("a row").try_get_by_index(0).expect("a count");
    assert_eq!(dropped, 1, "the instance's one listener connection");
    late.commit().await.expect("commit");

    // The instance listens again and delivers both, the lower id first.
    let delivered = ws.next_json().await;
    assert_eq!(delivered["seq"], late_id, "{delivered}");
    assert_eq!(delivered["data"]["description"], "late", "{delivered}");
    let early = ws.next_json().await;
    assert_eq!(early["type"], "availability_changed", "{early}");
    assert_eq!(early["data"]["available"], 9, "{early}");
    assert!(early["seq"].as_i64().expect("a seq") > late_id, "{early}");
    ws.assert_quiet().await;
    // And goes on delivering.
    hold(&app, &app.register("bob@ws.test").await, event_id).await;
    assert_eq!(ws.next_json().await["data"]["available"], 8);
}

// PostgreSQL only: SQLite has one writer, so transactions commit in id order.
/// A user's room is fed by many parents, so its events need not commit in id
/// order: one committed after the client joined is delivered even though a
/// higher id was committed before (PostgreSQL; SQLite commits in id order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_event_committed_late_with_a_lower_id_reaches_a_client_that_joined_meanwhile() {
    let World { app, admin, .. } = World::new(Backend::Postgres).await;
    let event_id = open_event(&app, &admin).await;
    let ada = app.register("ada@ws.test").await;
    let user_room = format!("user:{}", ada.user_id);

    let db = Database::connect(app.db_url.as_str()).await.expect("a connection of the test's own");
    let late = db.begin().await.expect("begin");
    // The late event says what a cancellation says (a reservation, as REST
    // shows it), marked by a booking code no real one has.
    let late_reservation = json!({
        "id": 999_999, "kind": "event", "auction_id": null, "event_id": event_id, "user_id": ada.user_id,
        "status": "CANCELLED", "quantity": 1, "unit_price": "25.00", "total_price": "25.00",
        "expires_at": "2030-01-01T00:00:00Z", "booking_code": "LATE", "created_at": "2030-01-01T00:00:00Z",
        "confirmed_at": "2030-01-01T00:00:00Z",
    });
    let insert = Statement::from_string(
        DbBackend::Postgres,
        format!(
            "INSERT INTO outbox (room, kind, payload) VALUES ('{user_room}', 'reservation_cancelled', '{late_reservation}') RETURNING id"
        ),
    );
    let late_id: i64 =
        late.query_one_raw(insert).await.expect("insert").expect("a row").try_get_by_index(0).expect("an id");
    hold(&app, &ada, event_id).await;

    let mut ws = WsClient::connect(&app).await;
    ws.authenticated(&ada).await;
    let subscribed = ws.subscribed(&user_room).await;
    assert!(subscribed["seq"].as_i64().expect("a seq") > late_id, "{subscribed}");
    late.commit().await.expect("commit");

    // (The hold's own `hold_created` may still be on its way: frames are
    // built with what they carry, so delivery can trail the subscription.)
    let delivered = ws.next_of_type("reservation_cancelled").await;
    assert_eq!(delivered["seq"], late_id, "{delivered}");
    assert_eq!(delivered["data"]["booking_code"], "LATE", "{delivered}");
    let rest = ws.collect_for(hothour_tests::ws::QUIET).await;
    assert!(rest.iter().all(|frame| frame["type"] == "hold_created"), "delivered once: {rest:?}");
}

on_both_stores! {
    async fn the_price_ticker_goes_on_after_a_database_error(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = open_auction(&app, &admin).await;
        let room = format!("auction:{auction_id}");
        let mut ws = WsClient::connect(&app).await;
        let subscribed = ws.subscribed(&room).await;
        let first_step = time(&subscribed["data"]["next_change_at"]);

        // The ticker is running: the first step is announced.
        app.clock.set(first_step + Duration::seconds(1));
        let update = ws.next_of_type("price_update").await;
        assert_eq!(update["data"]["current_price"], "450.00", "{update}");

        // The auctions table goes away for a moment: the ticker's next read
        // fails (right after that tick, or after the next one). The ticker
        // reads what the read model keeps, so the read model is stopped first,
        // as it is while the outbox listener reconnects.
        app.state.follow_commits(false);
        app.sql_execute("ALTER TABLE auctions RENAME TO auctions_away").await;
        app.clock.set(first_step + Duration::hours(1) + Duration::seconds(1));
        let deadline = Instant::now() + WAIT;
        while ticker_read_failures(&app).await == 0 {
            assert!(Instant::now() < deadline, "the ticker never tried to read");
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        app.sql_execute("ALTER TABLE auctions_away RENAME TO auctions").await;

        // Back: a later step is announced with the price the API shows then.
        // The ticker retries after a back-off; should it read only after the
        // clock moved, it waits for the step after, so move on to that one.
        let mut announced = None;
        for step in 3..=4 {
            app.clock.set(first_step + Duration::hours(step) + Duration::seconds(1));
            let (status, shown) = app.get(&format!("/auctions/{auction_id}"), None).await;
            assert_eq!(status, StatusCode::OK, "{shown}");
            let deadline = Instant::now() + StdDuration::from_secs(4);
            while let Some(message) = ws.next_within(deadline.saturating_duration_since(Instant::now())).await {
                if message["type"] == "price_update" && message["data"]["current_price"] == shown["current_price"] {
                    announced = Some(message);
                    break;
                }
            }
            if announced.is_some() {
                break;
            }
        }
        let update = announced.expect("a price_update of a later step once the database is back");
        assert_eq!(update["room"], room.as_str(), "{update}");
        assert_ne!(update["data"]["current_price"], "450.00");
    }
}

/// A ticker whose task first runs only after the clock passed a step still
/// announces it: what subscribers saw is the time it was started, not the
/// time its task got to run. On one thread the task cannot run before the
/// test awaits, so the clock always moves first here.
async fn a_step_passing_before_the_ticker_runs_is_announced(backend: Backend) {
    let World { app, admin, .. } = World::new(backend).await;
    let auction_id = open_auction(&app, &admin).await;
    let (status, auction) = app.get(&format!("/auctions/{auction_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{auction}");
    let first_step = time(&auction["next_change_at"]);
    let room = format!("auction:{auction_id}");

    let (queue, mut deliveries) = tokio::sync::mpsc::channel(8);
    let subscriber = Subscriber { queue, kick: Arc::new(tokio::sync::Notify::new()) };
    let (start_ticker, changed) = app.state.hub.subscribe(&room, u64::MAX, subscriber, true);
    assert!(start_ticker, "the first subscriber starts the ticker");
    ticker::spawn(app.state.clone(), AuctionId(auction_id), changed);
    app.clock.set(first_step + Duration::seconds(1));

    let delivery = tokio::time::timeout(WAIT, deliveries.recv()).await.expect("a price_update").expect("open");
    let update: Value = serde_json::from_str(&delivery.frame).expect("json");
    assert_eq!(update["type"], "price_update", "{update}");
    assert_eq!(update["data"]["current_price"], "450.00", "{update}");
    app.state.hub.unsubscribe(&room, u64::MAX);
}

mod a_step_passing_before_the_ticker_runs {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        a_step_passing_before_the_ticker_runs_is_announced(Backend::Postgres).await
    }

    #[tokio::test]
    async fn sqlite() {
        a_step_passing_before_the_ticker_runs_is_announced(Backend::Sqlite).await
    }
}

/// The ticker failure count, as `/metrics` shows it.
async fn ticker_read_failures(app: &TestApp) -> i64 {
    let text = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix("hothour_ws_ticker_read_failures_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}
