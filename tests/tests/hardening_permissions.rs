//! Issue 19, items 4, 8, 9 and 10, on both stores: a hidden event is not
//! found by strangers and stops streaming to them; admin writes check
//! permission before they lock; only users book; no database names in answers.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use hothour_tests::app::{Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso};
use hothour_tests::on_both_stores;
use hothour_tests::ws::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// --- helpers ----------------------------------------------------------------

fn event_body(app: &TestApp, title: &str) -> Value {
    let starts = app.now() + Duration::days(2);
    json!({
        "title": title,
        "description": "Salsa for beginners",
        "capacity": 10,
        "price": "150.00",
        "starts_at": iso(starts),
        "ends_at": iso(starts + Duration::hours(1)),
        "is_active": true,
    })
}

/// An active event of ten seats, starting in two days.
async fn open_event(app: &TestApp, admin: &Session) -> i64 {
    let (status, event) = app.post("/events", Some(&admin.token), event_body(app, "Salsa night")).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

/// An auction that started ten minutes ago and can be grabbed now.
async fn running_auction(app: &TestApp, admin: &Session) -> i64 {
    let now = app.now();
    let body = json!({
        "title": "Tango slot",
        "description": "An empty Friday slot",
        "start_price": "500.00",
        "floor_price": "100.00",
        "drop_amount": "50.00",
        "drop_interval_minutes": 60,
        "starts_at": iso(now - Duration::minutes(10)),
        "ends_at": iso(now + Duration::minutes(110)),
        "scheduled_at": iso(now + Duration::minutes(180)),
        "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
    });
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

// --- 9. users book, admins do not ----------------------------------------------

on_both_stores! {
    async fn platform_admins_cannot_hold_or_grab(backend) {
        let World { app, platform, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin).await;
        let auction_id = running_auction(&app, &admin).await;

        for booker in [&platform, &admin] {
            let answer = app.post(&format!("/events/{event_id}/holds"), Some(&booker.token), json!({"quantity": 1})).await;
            assert_problem(&answer, StatusCode::FORBIDDEN, "booking_not_allowed");
            let answer = app.call(Method::POST, &format!("/auctions/{auction_id}/grab"), Some(&booker.token), None).await;
            assert_problem(&answer, StatusCode::FORBIDDEN, "booking_not_allowed");
        }
        // Nothing was reserved: a user still finds every seat and the auction open.
        let user = app.register("user@a.test").await;
        let (status, body) = app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({"quantity": 10})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app.call(Method::POST, &format!("/auctions/{auction_id}/grab"), Some(&user.token), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

#[test]
fn the_error_catalogue_says_what_the_code_does() {
    let catalogue = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md")).unwrap();
    let entry = catalogue.split("\n## booking_not_allowed\n").nth(1).expect("an entry for booking_not_allowed");
    let entry = entry.split("\n## ").next().unwrap();
    assert!(entry.contains("Studio and platform admins cannot hold or grab"), "{entry}");
}

// --- 8. admin writes check permission before they lock ---------------------------

on_both_stores! {
    async fn another_studios_admin_is_404_without_waiting_for_the_lock(backend) {
        let World { app, platform, admin, .. } = World::with(backend, &[("DB_LOCK_TIMEOUT_MS", "3000")]).await;
        let (_, stranger) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let event_id = open_event(&app, &admin).await;
        let now = app.now();
        let draft = json!({
            "title": "Tango slot",
            "description": "An empty Friday slot",
            "start_price": "500.00",
            "floor_price": "100.00",
            "drop_amount": "50.00",
            "drop_interval_minutes": 60,
            "starts_at": iso(now + Duration::hours(1)),
            "ends_at": iso(now + Duration::hours(3)),
            "scheduled_at": iso(now + Duration::hours(4)),
            "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
        });
        let (status, auction) = app.post("/auctions", Some(&admin.token), draft).await;
        assert_eq!(status, StatusCode::CREATED, "{auction}");
        let auction_id = id(&auction);

        let token = Some(stranger.token.as_str());
        let lock = app.hold_row_lock("auctions", auction_id).await;
        let tries = [
            (Method::PATCH, format!("/auctions/{auction_id}"), Some(json!({"title": "Mine now"}))),
            (Method::POST, format!("/auctions/{auction_id}/cancel"), None),
            (Method::POST, format!("/auctions/{auction_id}/turbo"), None),
        ];
        for (method, path, body) in tries {
            let started = Instant::now();
            let answer = app.call(method.clone(), &path, token, body).await;
            assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
            assert!(started.elapsed() < StdDuration::from_secs(1), "{method} {path} waited {:?}", started.elapsed());
        }
        // The lock is real: the auction's own admin waits for it and is told to retry.
        let answer = app.patch(&format!("/auctions/{auction_id}"), Some(&admin.token), json!({"title": "Later"})).await;
        assert_problem(&answer, StatusCode::SERVICE_UNAVAILABLE, "busy");
        lock.rollback().await.expect("the lock is released");

        let lock = app.hold_row_lock("events", event_id).await;
        let tries = [
            (Method::PATCH, format!("/events/{event_id}"), Some(json!({"title": "Mine now"}))),
            (Method::DELETE, format!("/events/{event_id}"), None),
        ];
        for (method, path, body) in tries {
            let started = Instant::now();
            let answer = app.call(method.clone(), &path, token, body).await;
            assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
            assert!(started.elapsed() < StdDuration::from_secs(1), "{method} {path} waited {:?}", started.elapsed());
        }
        let answer = app.patch(&format!("/events/{event_id}"), Some(&admin.token), json!({"title": "Later"})).await;
        assert_problem(&answer, StatusCode::SERVICE_UNAVAILABLE, "busy");
        lock.rollback().await.expect("the lock is released");

        // Unlocked, the owner's changes land and the stranger's still do not.
        let (status, body) = app.patch(&format!("/auctions/{auction_id}"), Some(&admin.token), json!({"title": "Later"})).await;
        assert_eq!((status, body["title"].as_str()), (StatusCode::OK, Some("Later")), "{body}");
        let (status, body) = app.patch(&format!("/events/{event_id}"), Some(&admin.token), json!({"title": "Later"})).await;
        assert_eq!((status, body["title"].as_str()), (StatusCode::OK, Some("Later")), "{body}");
        let answer = app.delete(&format!("/events/{event_id}"), token).await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
        let answer = app.patch(&format!("/auctions/{auction_id}"), token, json!({"title": "Mine now"})).await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
    }
}

// --- 4. a hidden event is not found by strangers and stops streaming to them -------

/// The frames up to and including the first of type `kind` in `room`.
async fn frames_until(ws: &mut WsClient, kind: &str, room: &str) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = ws.next_json().await;
        let last = frame["type"] == kind && frame["room"] == room;
        frames.push(frame);
        if last {
            return frames;
        }
    }
}

on_both_stores! {
    async fn a_hidden_event_is_not_found_by_strangers_and_its_room_ends_for_them(backend) {
        let World { app, platform, admin, .. } = World::new(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let user = app.register("user@a.test").await;
        let event_id = open_event(&app, &admin).await;
        let barrier_id = open_event(&app, &admin).await;
        let (room, barrier) = (format!("event:{event_id}"), format!("event:{barrier_id}"));

        // Everyone joins while the event is public; strangers also watch a second event.
        let mut signed_in_stranger = WsClient::connect(&app).await;
        signed_in_stranger.authenticated(&user).await;
        let mut other_studio = WsClient::connect(&app).await;
        other_studio.authenticated(&other_admin).await;
        let anonymous = WsClient::connect(&app).await;
        let mut strangers = [signed_in_stranger, other_studio, anonymous];
        for ws in &mut strangers {
            ws.subscribed(&room).await;
            ws.subscribed(&barrier).await;
        }
        let mut studio = WsClient::connect(&app).await;
        studio.authenticated(&admin).await;
        studio.subscribed(&room).await;
        let mut root = WsClient::connect(&app).await;
        root.authenticated(&platform).await;
        root.subscribed(&room).await;

        // The studio hides the event, then renames it.
        let path = format!("/events/{event_id}");
        let (status, body) = app.patch(&path, Some(&admin.token), json!({"is_active": false})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.patch(&path, Some(&admin.token), json!({"title": "Secret rehearsal"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // A later frame in a room the strangers keep is the barrier.
        let (status, body) = app.patch(&format!("/events/{barrier_id}"), Some(&admin.token), json!({"title": "Open class"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        for ws in &mut strangers {
            let frames = frames_until(ws, "availability_changed", &barrier).await;
            let about_the_event: Vec<&Value> = frames.iter().filter(|f| f["room"] == room.as_str()).collect();
            assert_eq!(
                about_the_event,
                [&json!({"type": "room_closed", "room": room, "data": {"reason": "event_hidden"}})],
                "a stranger hears that the room closed, and nothing of it: {frames:?}"
            );
            assert!(!frames.iter().any(|f| f.to_string().contains("Secret rehearsal")), "{frames:?}");
        }
        // The studio's admins and platform admins keep the room and hear every change.
        for ws in [&mut studio, &mut root] {
            let hidden = ws.next_of_type("availability_changed").await;
            assert_eq!((hidden["room"].as_str(), hidden["data"]["is_active"].as_bool()), (Some(room.as_str()), Some(false)));
            let renamed = ws.next_of_type("availability_changed").await;
            assert_eq!(renamed["data"]["title"], "Secret rehearsal", "{renamed}");
        }

        // Joining again, with or without `since`, is as for an event that does not exist.
        let [signed_in_stranger, other_studio, anonymous] = &mut strangers;
        for ws in [signed_in_stranger, other_studio, anonymous] {
            let unknown = ws.subscribe("event:999999", None).await;
            let again = ws.subscribe(&room, None).await;
            let resumed = ws.subscribe(&room, Some(0)).await;
            for refusal in [&again, &resumed] {
                assert_eq!((refusal["type"].as_str(), refusal["code"].as_str()), (Some("error"), Some("not_found")), "{refusal}");
                assert_eq!(refusal["detail"], unknown["detail"], "{refusal} tells more than {unknown}");
            }
        }

        // Over HTTP: 404 as for an unknown id, to every stranger, on every route.
        let unknown = app.get("/events/999999", None).await;
        assert_problem(&unknown, StatusCode::NOT_FOUND, "not_found");
        for token in [None, Some(user.token.as_str()), Some(other_admin.token.as_str())] {
            let answer = app.get(&path, token).await;
            assert_eq!(answer, unknown, "GET {path} as {token:?}");
        }
        let unknown_hold = app.post("/events/999999/holds", Some(&user.token), json!({"quantity": 1})).await;
        assert_problem(&unknown_hold, StatusCode::NOT_FOUND, "not_found");
        for quantity in [1, 0] {
            let answer = app.post(&format!("{path}/holds"), Some(&user.token), json!({"quantity": quantity})).await;
            assert_eq!(answer, unknown_hold, "a hold of {quantity} on a hidden event");
        }
        for token in [&other_admin.token, &user.token] {
            let answer = app.get("/events?is_active=all", Some(token)).await;
            assert!(!answer.1.to_string().contains("Secret rehearsal"), "{}", answer.1);
        }
        // Its studio and platform admins still see it.
        for token in [&admin.token, &platform.token] {
            let (status, body) = app.get(&path, Some(token)).await;
            assert_eq!((status, body["title"].as_str()), (StatusCode::OK, Some("Secret rehearsal")), "{body}");
        }

        // Deleting an event ends its room for strangers too.
        let (status, body) = app.delete(&format!("/events/{barrier_id}"), Some(&admin.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for ws in &mut strangers {
            let closed = ws.next_of_type("room_closed").await;
            assert_eq!(closed, json!({"type": "room_closed", "room": barrier, "data": {"reason": "event_hidden"}}));
            ws.ping().await;
        }
    }

    async fn a_socket_signed_in_as_someone_else_leaves_a_hidden_room_it_saw_as_an_admin(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin).await;
        let room = format!("event:{event_id}");
        let (status, body) = app.patch(&format!("/events/{event_id}"), Some(&admin.token), json!({"is_active": false})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Only the studio joins a hidden event's room.
        let mut ws = WsClient::connect(&app).await;
        let refusal = ws.subscribe(&room, None).await;
        assert_eq!((refusal["type"].as_str(), refusal["code"].as_str()), (Some("error"), Some("not_found")), "{refusal}");
        ws.authenticated(&admin).await;
        ws.subscribed(&room).await;

        // The same socket signed in as someone else may no longer see it.
        let user = app.register("user@a.test").await;
        let replaced = ws.auth(&user.token).await;
        assert_eq!((replaced["type"].as_str(), replaced["reason"].as_str()), (Some("session_ended"), Some("replaced")));
        assert_eq!(ws.next_json().await["type"], "authenticated");
        let (status, body) = app.patch(&format!("/events/{event_id}"), Some(&admin.token), json!({"title": "Secret rehearsal"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let closed = ws.next_json().await;
        assert_eq!(closed, json!({"type": "room_closed", "room": room, "data": {"reason": "event_hidden"}}));
        ws.ping().await;
    }
}

// --- 10. no database names in answers -------------------------------------------

/// Asserts that what an answer tells people (`detail`, `errors`) names no
/// table, column or constraint.
#[track_caller]
fn assert_no_internals(answer: &(StatusCode, Value), names: &[&str]) {
    let text = format!("{} {}", answer.1["detail"], answer.1["errors"]).to_lowercase();
    for name in names.iter().chain(&["constraint", "unique", "foreign key", "fkey", "violat", "sqlstate"]) {
        assert!(!text.contains(name), "the answer names `{name}`: {}", answer.1);
    }
}

on_both_stores! {
    async fn a_constraint_no_rule_caught_is_a_409_in_plain_words(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        // A rule only the database keeps (as an operator might add one).
        app.sql_execute("CREATE UNIQUE INDEX one_event_per_title_xq ON events (title)").await;
        let first = open_event(&app, &admin).await;
        let internals = ["one_event_per_title_xq", "events", "title"];

        let answer = app.post("/events", Some(&admin.token), event_body(&app, "Salsa night")).await;
        assert_problem(&answer, StatusCode::CONFLICT, "conflict");
        assert_no_internals(&answer, &internals);

        let (status, second) = app.post("/events", Some(&admin.token), event_body(&app, "Tango night")).await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        let answer = app.patch(&format!("/events/{}", id(&second)), Some(&admin.token), json!({"title": "Salsa night"})).await;
        assert_problem(&answer, StatusCode::CONFLICT, "conflict");
        assert_no_internals(&answer, &internals);
        assert_eq!(app.get(&format!("/events/{first}"), None).await.0, StatusCode::OK);
    }

    async fn constraints_behind_business_rules_answer_their_business_codes(backend) {
        let app = TestApp::spawn_on(backend).await;
        let ada = app.register("ada@a.test").await;
        app.register("bob@a.test").await;
        // Registering or renaming to a taken email (any case), which the unique index backs.
        let answer = app
            .post("/auth/register", None, json!({"email": "BOB@a.test", "password": "correct horse battery", "full_name": "B"}))
            .await;
        assert_problem(&answer, StatusCode::CONFLICT, "email_taken");
        assert_no_internals(&answer, &["users_email_key", "users"]);
        // A second hold on one event, which a partial unique index backs.
        let platform = app.platform_admin().await;
        let (_, admin) = app.studio_with_admin(&platform, "admin@studio.test").await;
        let event_id = open_event(&app, &admin).await;
        let path = format!("/events/{event_id}/holds");
        let (status, body) = app.post(&path, Some(&ada.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let answer = app.post(&path, Some(&ada.token), json!({"quantity": 1})).await;
        assert_problem(&answer, StatusCode::CONFLICT, "hold_already_exists");
        assert_no_internals(&answer, &["reservations_one_hold_per_user_event", "reservations"]);
    }
}

// --- who may run a catalogue: one rule, in the domain ---------------------------

on_both_stores! {
    async fn a_user_may_not_run_a_catalogue_or_read_the_audit_log(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = running_auction(&app, &admin).await;
        let event_id = open_event(&app, &admin).await;
        let ada = app.register("ada@example.com").await;
        let auction = format!("/auctions/{auction_id}");
        let event = format!("/events/{event_id}");
        let starts = app.now() + Duration::hours(1);
        let new_auction = json!({
            "title": "Mine", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
            "drop_interval_minutes": 30, "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(4)),
            "scheduled_at": iso(starts + Duration::hours(5)),
        });
        let refused = [
            app.post("/auctions", Some(&ada.token), new_auction).await,
            app.patch(&auction, Some(&ada.token), json!({"title": "Mine now"})).await,
            app.post(&format!("{auction}/cancel"), Some(&ada.token), json!({})).await,
            app.post(&format!("{auction}/turbo"), Some(&ada.token), json!({})).await,
            app.post("/events", Some(&ada.token), event_body(&app, "Mine")).await,
            app.patch(&event, Some(&ada.token), json!({"title": "Mine now"})).await,
            app.delete(&event, Some(&ada.token)).await,
            app.get("/events?is_active=all", Some(&ada.token)).await,
            app.get("/audit-log", Some(&ada.token)).await,
        ];
        for answer in &refused {
            assert_problem(answer, StatusCode::FORBIDDEN, "forbidden");
        }
        let (_, auction) = app.get(&auction, None).await;
        assert_eq!((auction["title"].as_str(), auction["status"].as_str()), (Some("Tango slot"), Some("ACTIVE")));
        let (status, _) = app.get(&event, None).await;
        assert_eq!(status, StatusCode::OK, "the event is still there");
        let (status, page) = app.get("/audit-log", Some(&admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page["items"].as_array().unwrap().iter().all(|e| e["actor_id"] != ada.user_id), "{page}");
    }
}
