//! Booking over real HTTP (SPEC §3–§6, §8): events and their seats, holds,
//! confirmations, cancellations, check-in, Dutch auctions and grabs,
//! `Idempotency-Key`, and the races that must never oversell.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hothour_tests::app::{Backend, Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso, register_many, time};
use hothour_tests::on_both_stores;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;

// --- helpers ----------------------------------------------------------------

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap_or_else(|| panic!("an object, got {value}")).keys().cloned().collect()
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap_or_else(|| panic!("a page, got {page}"))
}

fn ids(page: &Value) -> Vec<i64> {
    items(page).iter().map(id).collect()
}

/// Shallow merge of `extra`'s fields into `base`.
fn with(mut base: Value, extra: Value) -> Value {
    let base_map = base.as_object_mut().expect("an object");
    for (k, v) in extra.as_object().expect("an object") {
        base_map.insert(k.clone(), v.clone());
    }
    base
}

/// The fields a 422 names.
#[track_caller]
fn invalid_fields(answer: &(StatusCode, Value)) -> BTreeSet<String> {
    assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.1);
    assert_eq!(answer.1["code"], "validation_failed", "{}", answer.1);
    keys(&answer.1["errors"])
}

fn event_body(app: &TestApp, title: &str, capacity: i64, starts_in: Duration) -> Value {
    let starts = app.now() + starts_in;
    json!({
        "title": title,
        "description": "Salsa for beginners",
        "capacity": capacity,
        "price": "150.00",
        "starts_at": iso(starts),
        "ends_at": iso(starts + Duration::hours(1)),
        "is_active": true,
    })
}

async fn create_event(app: &TestApp, admin: &Session, body: Value) -> Value {
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

/// An active event of `capacity` seats at 150.00, starting in two days.
async fn open_event(app: &TestApp, admin: &Session, capacity: i64) -> i64 {
    id(&create_event(app, admin, event_body(app, "Salsa night", capacity, Duration::days(2))).await)
}

async fn event(app: &TestApp, event_id: i64) -> Value {
    let (status, body) = app.get(&format!("/events/{event_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[track_caller]
fn assert_seats(event: &Value, available: u64, held_seats: u64, held_count: u64, confirmed_seats: u64) {
    let got = (
        event["available"].as_u64(),
        event["held_seats"].as_u64(),
        event["held_count"].as_u64(),
        event["confirmed_seats"].as_u64(),
    );
    assert_eq!(got, (Some(available), Some(held_seats), Some(held_count), Some(confirmed_seats)), "{event}");
}

async fn hold(app: &TestApp, user: &Session, event_id: i64, quantity: i64) -> (StatusCode, Value) {
    app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({"quantity": quantity})).await
}

async fn hold_ok(app: &TestApp, user: &Session, event_id: i64, quantity: i64) -> Value {
    let (status, reservation) = hold(app, user, event_id, quantity).await;
    assert_eq!(status, StatusCode::CREATED, "{reservation}");
    reservation
}

async fn confirm(app: &TestApp, user: &Session, reservation_id: i64) -> (StatusCode, Value) {
    app.post(&format!("/reservations/{reservation_id}/confirm"), Some(&user.token), json!({})).await
}

async fn cancel(app: &TestApp, user: &Session, reservation_id: i64) -> (StatusCode, Value) {
    app.post(&format!("/reservations/{reservation_id}/cancel"), Some(&user.token), json!({})).await
}

async fn reservation(app: &TestApp, user: &Session, reservation_id: i64) -> Value {
    let (status, body) = app.get(&format!("/reservations/{reservation_id}"), Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn my_reservations(app: &TestApp, user: &Session, query: &str) -> Vec<Value> {
    let (status, page) = app.get(&format!("/reservations{query}"), Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    items(&page).clone()
}

/// start 500, floor 100, drop 50 every 60 min, started 10 min ago, ends in
/// 110 min, session in 180 min, turbo 30 min before the end: 20.00 every 5 min.
fn auction_body(app: &TestApp) -> Value {
    let now = app.now();
    json!({
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
    })
}

/// An auction that starts in an hour (a DRAFT now).
fn draft_auction_body(app: &TestApp) -> Value {
    let now = app.now();
    with(
        auction_body(app),
        json!({
            "starts_at": iso(now + Duration::hours(1)),
            "ends_at": iso(now + Duration::hours(3)),
            "scheduled_at": iso(now + Duration::hours(4)),
        }),
    )
}

async fn create_auction(app: &TestApp, admin: &Session, body: Value) -> Value {
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    auction
}

async fn auction(app: &TestApp, auction_id: i64) -> Value {
    let (status, body) = app.get(&format!("/auctions/{auction_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn grab(app: &TestApp, user: &Session, auction_id: i64) -> (StatusCode, Value) {
    app.call(Method::POST, &format!("/auctions/{auction_id}/grab"), Some(&user.token), None).await
}

/// A raw answer: status, `Idempotent-Replayed` header and the body text.
struct Raw {
    status: StatusCode,
    replayed: Option<String>,
    body: String,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{}: {e}", self.body))
    }
}

async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: Option<Value>) -> Raw {
    let mut request =
        app.client.post(app.url(&format!("/api/v1{path}"))).bearer_auth(token).header("Idempotency-Key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let replayed =
        response.headers().get("Idempotent-Replayed").map(|v| v.to_str().expect("an ASCII header").to_owned());
    let body = response.text().await.expect("a body");
    Raw { status, replayed, body }
}

/// Every user sends `POST path` (with `body`) at the same moment; returns each (status, code).
async fn stampede(app: &TestApp, users: &[Session], path: &str, body: Option<Value>) -> Vec<(StatusCode, String)> {
    let barrier = Arc::new(Barrier::new(users.len()));
    let mut tasks = Vec::with_capacity(users.len());
    for user in users {
        let (client, url, token) = (app.client.clone(), app.url(&format!("/api/v1{path}")), user.token.clone());
        let (barrier, body) = (barrier.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut request = client.post(url).bearer_auth(token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            barrier.wait().await;
            let response = request.send().await.expect("the server answers");
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["code"].as_str().unwrap_or("").to_owned())
        }));
    }
    let mut answers = Vec::with_capacity(users.len());
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}

// --- 1. events ----------------------------------------------------------------

on_both_stores! {
    async fn studio_admin_creates_an_event_in_the_detail_shape(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let body = event_body(&app, "Salsa night", 12, Duration::days(2));
        let (status, event) = app.post("/events", Some(&admin.token), body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        let expected: BTreeSet<String> = [
            "id",
            "studio_id",
            "studio",
            "title",
            "description",
            "capacity",
            "price",
            "starts_at",
            "ends_at",
            "is_active",
            "cancelled_at",
            "available",
            "held_seats",
            "held_count",
            "confirmed_seats",
            "confirmed_count",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(keys(&event), expected, "{event}");
        assert!(event["id"].as_i64().is_some_and(|id| id > 0), "{event}");
        assert_eq!(event["studio_id"], studio_id);
        assert_eq!(event["title"], "Salsa night");
        assert_eq!(event["description"], "Salsa for beginners");
        assert_eq!(event["capacity"], 12);
        assert_eq!(event["price"], "150.00");
        assert_eq!(time(&event["starts_at"]), time(&body["starts_at"]));
        assert_eq!(time(&event["ends_at"]), time(&body["ends_at"]));
        assert_eq!(event["is_active"], true);
        assert_eq!(event["cancelled_at"], Value::Null);
        assert_seats(&event, 12, 0, 0, 0);
        assert_eq!(event["confirmed_count"], 0);

        // The public detail is the same.
        assert_eq!(self::event(&app, id(&event)).await, event);

        // Ordinary users cannot create events.
        let user = app.register("user@a.test").await;
        let (status, _) = app.post("/events", Some(&user.token), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    async fn events_list_in_start_order_and_pages_by_cursor_without_duplicates(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        // Created out of order; two share a start time, so id breaks the tie.
        let mut created = Vec::new();
        for (title, days) in [("d3", 3), ("d1", 1), ("d2a", 2), ("d5", 5), ("d2b", 2)] {
            let event = create_event(&app, &admin, event_body(&app, title, 5, Duration::days(days))).await;
            created.push((time(&event["starts_at"]), id(&event)));
        }
        // An inactive one never shows in the public list.
        create_event(&app, &admin, with(event_body(&app, "hidden", 5, Duration::days(4)), json!({"is_active": false})))
            .await;
        created.sort();
        let expected: Vec<i64> = created.iter().map(|(_, id)| *id).collect();

        let (status, page) = app.get("/events", None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(keys(&page), BTreeSet::from(["items".to_owned(), "next_cursor".to_owned()]));
        assert_eq!(ids(&page), expected);
        assert!(page["next_cursor"].is_null(), "{page}");

        let mut walked = Vec::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/events?limit=2&cursor={c}"),
                None => "/events?limit=2".to_owned(),
            };
            let (status, page) = app.get(&path, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert!(items(&page).len() <= 2, "{page}");
            walked.extend(ids(&page));
            pages += 1;
            assert!(pages <= 5, "pagination does not end");
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(walked, expected, "every event once, in order");
        assert_eq!(walked.iter().collect::<HashSet<_>>().len(), walked.len());
    }

    async fn event_list_filters_by_studio_and_start_window(backend) {
        let World { app, platform, admin, studio_id, .. } = World::new(backend).await;
        let (other_studio, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let day1 = id(&create_event(&app, &admin, event_body(&app, "day1", 5, Duration::days(1))).await);
        let day2 = id(&create_event(&app, &admin, event_body(&app, "day2", 5, Duration::days(2))).await);
        let day3 = id(&create_event(&app, &admin, event_body(&app, "day3", 5, Duration::days(3))).await);
        let other = id(&create_event(&app, &other_admin, event_body(&app, "b", 5, Duration::days(2))).await);

        let (_, page) = app.get(&format!("/events?studio_id={studio_id}"), None).await;
        assert_eq!(ids(&page), vec![day1, day2, day3]);
        let (_, page) = app.get(&format!("/events?studio_id={other_studio}"), None).await;
        assert_eq!(ids(&page), vec![other]);

        let mid12 = iso(app.now() + Duration::hours(36));
        let mid23 = iso(app.now() + Duration::hours(60));
        let (status, page) = app.get(&format!("/events?studio_id={studio_id}&starts_after={mid12}"), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(ids(&page), vec![day2, day3]);
        let (_, page) = app.get(&format!("/events?studio_id={studio_id}&starts_before={mid23}"), None).await;
        assert_eq!(ids(&page), vec![day1, day2]);
        let (_, page) = app.get(&format!("/events?starts_after={mid12}&starts_before={mid23}"), None).await;
        let window: BTreeSet<i64> = ids(&page).into_iter().collect();
        assert_eq!(window, BTreeSet::from([day2, other]));
    }

    async fn inactive_events_are_hidden_except_from_their_studio_admins(backend) {
        let World { app, platform, admin, studio_id, .. } = World::new(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let user = app.register("user@a.test").await;
        let active = open_event(&app, &admin, 5).await;
        let inactive = id(&create_event(
            &app,
            &admin,
            with(event_body(&app, "draft", 5, Duration::days(3)), json!({"is_active": false})),
        )
        .await);

        // Public list and detail.
        let (_, page) = app.get("/events", None).await;
        assert_eq!(ids(&page), vec![active]);
        let (_, page) = app.get("/events", Some(&user.token)).await;
        assert_eq!(ids(&page), vec![active]);
        assert_problem(&app.get(&format!("/events/{inactive}"), None).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(app.get(&format!("/events/{inactive}"), Some(&user.token)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/events/{inactive}"), Some(&other_admin.token)).await.0, StatusCode::NOT_FOUND);
        // Asking for inactive events anonymously reveals nothing.
        let (status, page) = app.get("/events?is_active=false", None).await;
        assert!(status.is_client_error() || !ids(&page).contains(&inactive), "{status} {page}");

        // The studio's admin sees it.
        let (status, body) = app.get(&format!("/events/{inactive}"), Some(&admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["is_active"], false);
        let (status, page) = app.get("/events?is_active=false", Some(&admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(ids(&page), vec![inactive]);
        let (_, page) = app.get("/events?is_active=all", Some(&admin.token)).await;
        assert_eq!(ids(&page), vec![active, inactive]);
        // So does a platform admin.
        let (_, page) = app.get(&format!("/events?is_active=all&studio_id={studio_id}"), Some(&platform.token)).await;
        assert_eq!(ids(&page), vec![active, inactive]);
        // Another studio's admin does not.
        let (status, page) = app.get("/events?is_active=all", Some(&other_admin.token)).await;
        assert!(status.is_client_error() || !ids(&page).contains(&inactive), "{status} {page}");
    }

    async fn patch_changes_event_fields(backend) {
        let World { app, platform, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let new_start = app.now() + Duration::days(4);
        let (status, body) = app
            .patch(
                &format!("/events/{event_id}"),
                Some(&admin.token),
                json!({
                    "title": "Bachata night",
                    "price": "175.50",
                    "capacity": 20,
                    "starts_at": iso(new_start),
                    "ends_at": iso(new_start + Duration::hours(2)),
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["title"], "Bachata night");
        assert_eq!(body["price"], "175.50");
        assert_eq!(body["capacity"], 20);
        assert_eq!(body["available"], 20);
        assert_eq!(body["description"], "Salsa for beginners", "untouched fields stay");
        assert_eq!(time(&body["starts_at"]), new_start);
        assert_eq!(event(&app, event_id).await, body);

        // Another studio's admin cannot touch it.
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let (status, _) = app.patch(&format!("/events/{event_id}"), Some(&other_admin.token), json!({"title": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(event(&app, event_id).await["title"], "Bachata night");
    }

    async fn capacity_cannot_drop_below_held_and_confirmed_seats(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        hold_ok(&app, &ada, event_id, 3).await;
        let booking = hold_ok(&app, &bob, event_id, 2).await;
        assert_eq!(confirm(&app, &bob, id(&booking)).await.0, StatusCode::OK);

        let path = format!("/events/{event_id}");
        assert_problem(
            &app.patch(&path, Some(&admin.token), json!({"capacity": 4})).await,
            StatusCode::CONFLICT,
            "capacity_below_reserved",
        );
        assert_eq!(event(&app, event_id).await["capacity"], 10);
        // Exactly the reserved seats is fine.
        let (status, body) = app.patch(&path, Some(&admin.token), json!({"capacity": 5})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_seats(&body, 0, 3, 1, 2);

        // Once Ada's hold lapses only Bob's booking counts.
        app.clock.advance(Duration::minutes(6));
        assert_problem(
            &app.patch(&path, Some(&admin.token), json!({"capacity": 1})).await,
            StatusCode::CONFLICT,
            "capacity_below_reserved",
        );
        let (status, body) = app.patch(&path, Some(&admin.token), json!({"capacity": 2})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_seats(&body, 0, 0, 0, 2);
    }

    async fn delete_is_refused_while_a_hold_lives_and_then_removes_the_event(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let user = app.register("user@a.test").await;
        let held = hold_ok(&app, &user, event_id, 2).await;

        let path = format!("/events/{event_id}");
        assert_problem(&app.delete(&path, Some(&admin.token)).await, StatusCode::CONFLICT, "event_has_reservations");
        assert_eq!(event(&app, event_id).await["held_seats"], 2, "still there");

        let (status, cancelled) = cancel(&app, &user, id(&held)).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "CANCELLED");

        let (status, body) = app.delete(&path, Some(&admin.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_problem(&app.get(&path, None).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(app.get(&path, Some(&admin.token)).await.0, StatusCode::NOT_FOUND);
        let (_, page) = app.get("/events?is_active=all", Some(&admin.token)).await;
        assert!(!ids(&page).contains(&event_id), "{page}");
        assert_eq!(hold(&app, &user, event_id, 1).await.0, StatusCode::NOT_FOUND);
        // The reservation's history stays.
        let mine = my_reservations(&app, &user, "").await;
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["status"], "CANCELLED");
    }
}

// --- 2. holds -----------------------------------------------------------------

on_both_stores! {
    async fn hold_returns_an_event_reservation_priced_per_seat(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let user = app.register("user@a.test").await;
        let now = app.now();
        let (status, held) = hold(&app, &user, event_id, 2).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        let expected: BTreeSet<String> = [
            "id",
            "kind",
            "auction_id",
            "event_id",
            "user_id",
            "status",
            "quantity",
            "unit_price",
            "total_price",
            "expires_at",
            "booking_code",
            "created_at",
            "confirmed_at",
            "checked_in_at",
            "target",
            "payment",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(keys(&held), expected, "{held}");
        assert_eq!(held["kind"], "event");
        assert!(held["auction_id"].is_null());
        assert_eq!(held["event_id"], event_id);
        assert_eq!(held["user_id"], user.user_id);
        assert_eq!(held["status"], "HOLD");
        assert_eq!(held["quantity"], 2);
        assert_eq!(held["unit_price"], "150.00");
        assert_eq!(held["total_price"], "300.00");
        assert_eq!(time(&held["created_at"]), now);
        assert_eq!(time(&held["expires_at"]), now + Duration::minutes(5), "the default hold time");
        assert!(held["booking_code"].is_null());
        assert!(held["confirmed_at"].is_null());
        assert!(held["checked_in_at"].is_null());
        assert_eq!(reservation(&app, &user, id(&held)).await, held);
        assert_seats(&event(&app, event_id).await, 8, 2, 1, 0);
    }

    // From the SQLite app test: SQLite keeps money as integer cents, so a
    // price with no exact binary form must still multiply exactly.
    async fn seat_prices_multiply_exactly(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let body = with(event_body(&app, "Salsa", 3, Duration::days(1)), json!({"price": "0.10"}));
        let event_id = id(&create_event(&app, &admin, body).await);
        let user = app.register("user@a.test").await;
        let held = hold_ok(&app, &user, event_id, 3).await;
        assert_eq!((held["unit_price"].as_str(), held["total_price"].as_str()), (Some("0.10"), Some("0.30")), "{held}");
        let cents = match app.backend {
            Backend::Postgres => "SELECT CAST(total_price * 100 AS BIGINT) FROM reservations",
            Backend::Sqlite => "SELECT total_price FROM reservations",
        };
        assert_eq!(app.sql_i64(cents).await, 30, "stored exactly");
    }

    async fn hold_without_a_body_is_one_seat(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let user = app.register("user@a.test").await;
        let (status, held) = app.call(Method::POST, &format!("/events/{event_id}/holds"), Some(&user.token), None).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        assert_eq!(held["quantity"], 1);
        assert_eq!(held["total_price"], "150.00");
        assert_seats(&event(&app, event_id).await, 9, 1, 1, 0);
    }

    async fn hold_quantity_outside_one_to_ten_is_422_naming_quantity(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 50).await;
        let user = app.register("user@a.test").await;
        for quantity in [0, 11, -1] {
            let answer = hold(&app, &user, event_id, quantity).await;
            assert!(invalid_fields(&answer).contains("quantity"), "{quantity}: {}", answer.1);
        }
        assert_seats(&event(&app, event_id).await, 50, 0, 0, 0);
        assert!(my_reservations(&app, &user, "").await.is_empty());
        // The bounds themselves are fine.
        assert_eq!(hold_ok(&app, &user, event_id, 10).await["quantity"], 10);
    }

    async fn a_second_live_hold_by_the_same_user_is_refused(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let user = app.register("user@a.test").await;
        hold_ok(&app, &user, event_id, 1).await;
        assert_problem(&hold(&app, &user, event_id, 2).await, StatusCode::CONFLICT, "hold_already_exists");
        assert_seats(&event(&app, event_id).await, 9, 1, 1, 0);
        // Someone else may still hold.
        hold_ok(&app, &app.register("other@a.test").await, event_id, 2).await;
    }

    async fn holds_beyond_capacity_are_refused_and_the_detail_agrees(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 5).await;
        let (ada, bob, cem) =
            (app.register("ada@a.test").await, app.register("bob@a.test").await, app.register("cem@a.test").await);
        hold_ok(&app, &ada, event_id, 2).await;
        assert_problem(&hold(&app, &bob, event_id, 4).await, StatusCode::CONFLICT, "insufficient_capacity");
        assert_seats(&event(&app, event_id).await, 3, 2, 1, 0);
        hold_ok(&app, &bob, event_id, 3).await;
        assert_problem(&hold(&app, &cem, event_id, 1).await, StatusCode::CONFLICT, "insufficient_capacity");
        let detail = event(&app, event_id).await;
        assert_seats(&detail, 0, 5, 2, 0);
        assert_eq!(detail["capacity"], 5);
    }

    async fn a_lapsed_hold_frees_its_seats_at_once_and_cannot_be_confirmed(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 5).await;
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        let ada_hold = hold_ok(&app, &ada, event_id, 2).await;
        let bob_hold = hold_ok(&app, &bob, event_id, 3).await;
        assert_seats(&event(&app, event_id).await, 0, 5, 2, 0);

        // Just before expiry they still count.
        app.clock.advance(Duration::minutes(5) - Duration::seconds(1));
        assert_seats(&event(&app, event_id).await, 0, 5, 2, 0);
        app.clock.advance(Duration::minutes(1));
        // No sweep has run (there is none in tests): the seats are back anyway.
        assert_seats(&event(&app, event_id).await, 5, 0, 0, 0);
        assert_eq!(reservation(&app, &bob, id(&bob_hold)).await["status"], "EXPIRED");

        assert_problem(&confirm(&app, &ada, id(&ada_hold)).await, StatusCode::CONFLICT, "hold_expired");
        let mine = my_reservations(&app, &ada, "").await;
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["id"], ada_hold["id"]);
        assert_eq!(mine[0]["status"], "EXPIRED");
        assert!(mine[0]["booking_code"].is_null());
        assert_eq!(my_reservations(&app, &ada, "?status=EXPIRED").await.len(), 1);
        assert!(my_reservations(&app, &ada, "?status=HOLD").await.is_empty());

        // A lapsed hold blocks no one, not even its owner.
        assert_eq!(hold_ok(&app, &bob, event_id, 5).await["quantity"], 5);
        assert_problem(&hold(&app, &ada, event_id, 1).await, StatusCode::CONFLICT, "insufficient_capacity");
    }

    async fn holds_are_refused_on_inactive_or_started_events_and_for_studio_admins(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let user = app.register("user@a.test").await;
        let inactive = id(&create_event(
            &app,
            &admin,
            with(event_body(&app, "draft", 5, Duration::days(1)), json!({"is_active": false})),
        )
        .await);
        let soon = id(&create_event(&app, &admin, event_body(&app, "soon", 5, Duration::minutes(3))).await);
        assert_eq!(hold(&app, &user, inactive, 1).await.0.as_u16() / 100, 4, "no holds on an inactive event");
        assert_problem(&hold(&app, &admin, soon, 1).await, StatusCode::FORBIDDEN, "booking_not_allowed");
        assert_eq!(hold(&app, &user, 999_999, 1).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&format!("/events/{soon}/holds"), None, json!({"quantity": 1})).await.0, 401);

        // A hold never outlives the start of its session.
        let held = hold_ok(&app, &user, soon, 1).await;
        assert_eq!(time(&held["expires_at"]), app.now() + Duration::minutes(3));
        assert_eq!(cancel(&app, &user, id(&held)).await.0, StatusCode::OK);
        app.clock.advance(Duration::minutes(3));
        assert_problem(&hold(&app, &user, soon, 1).await, StatusCode::CONFLICT, "event_not_open");
        assert_seats(&event(&app, soon).await, 5, 0, 0, 0);
    }
}

// --- 3. confirm and cancel ----------------------------------------------------

on_both_stores! {
    async fn confirm_issues_a_booking_code_and_confirming_again_changes_nothing(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let (owner, stranger) = (app.register("owner@a.test").await, app.register("stranger@a.test").await);
        let held = hold_ok(&app, &owner, event_id, 2).await;
        let reservation_id = id(&held);

        assert_problem(&confirm(&app, &stranger, reservation_id).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(reservation(&app, &owner, reservation_id).await["status"], "HOLD");

        app.clock.advance(Duration::minutes(2));
        let (status, booked) = confirm(&app, &owner, reservation_id).await;
        assert_eq!(status, StatusCode::OK, "{booked}");
        assert_eq!(booked["id"], reservation_id);
        assert_eq!(booked["status"], "CONFIRMED");
        let code = booked["booking_code"].as_str().expect("a booking code");
        assert!(code.len() >= 4 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{code}");
        assert_eq!(time(&booked["confirmed_at"]), app.now());
        assert_eq!(booked["total_price"], "300.00");
        assert_seats(&event(&app, event_id).await, 8, 0, 0, 2);
        assert_eq!(event(&app, event_id).await["confirmed_count"], 1);

        // Later, even past the hold's expiry, confirming again is the same booking.
        app.clock.advance(Duration::minutes(10));
        let (status, again) = confirm(&app, &owner, reservation_id).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again, booked);
        assert_problem(&confirm(&app, &stranger, reservation_id).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(app.get(&format!("/reservations/{reservation_id}"), Some(&stranger.token)).await.0, 404);
        assert_seats(&event(&app, event_id).await, 8, 0, 0, 2);
    }

    async fn the_owner_cancels_a_booking_before_the_cutoff_and_the_seats_return(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let (owner, stranger) = (app.register("owner@a.test").await, app.register("stranger@a.test").await);
        let held = hold_ok(&app, &owner, event_id, 3).await;
        assert_eq!(confirm(&app, &owner, id(&held)).await.0, StatusCode::OK);
        assert_seats(&event(&app, event_id).await, 7, 0, 0, 3);

        assert_eq!(cancel(&app, &stranger, id(&held)).await.0, StatusCode::NOT_FOUND);
        let (status, cancelled) = cancel(&app, &owner, id(&held)).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "CANCELLED");
        assert_seats(&event(&app, event_id).await, 10, 0, 0, 0);
        // Nothing left to confirm or cancel.
        assert_problem(&confirm(&app, &owner, id(&held)).await, StatusCode::CONFLICT, "invalid_state");
        assert_eq!(cancel(&app, &owner, id(&held)).await.0, StatusCode::CONFLICT);
        assert_eq!(reservation(&app, &owner, id(&held)).await["status"], "CANCELLED");
    }

    async fn owners_cannot_cancel_within_two_hours_of_the_session_but_the_studio_can(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = id(&create_event(&app, &admin, event_body(&app, "Soon", 10, Duration::hours(1))).await);
        let owner = app.register("owner@a.test").await;
        let held = hold_ok(&app, &owner, event_id, 2).await;
        assert_eq!(confirm(&app, &owner, id(&held)).await.0, StatusCode::OK);

        assert_problem(&cancel(&app, &owner, id(&held)).await, StatusCode::CONFLICT, "cancellation_closed");
        assert_eq!(reservation(&app, &owner, id(&held)).await["status"], "CONFIRMED");
        assert_seats(&event(&app, event_id).await, 8, 0, 0, 2);

        let (status, cancelled) = cancel(&app, &admin, id(&held)).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "CANCELLED");
        assert_eq!(reservation(&app, &owner, id(&held)).await["status"], "CANCELLED");
        assert_seats(&event(&app, event_id).await, 10, 0, 0, 0);
    }
}

// --- 4. check-in and reservation lists ----------------------------------------

on_both_stores! {
    async fn the_studio_checks_a_booking_in_by_its_code(backend) {
        let World { app, platform, admin, studio_id } = World::new(backend).await;
        let (other_studio, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        // Starting in an hour: its door is open.
        let event_id = id(&create_event(&app, &admin, event_body(&app, "Salsa night", 10, Duration::hours(1))).await);
        let owner = app.register("owner@a.test").await;
        let held = hold_ok(&app, &owner, event_id, 1).await;
        let (_, booked) = confirm(&app, &owner, id(&held)).await;
        let code = booked["booking_code"].as_str().expect("a booking code").to_owned();

        let path = format!("/studios/{studio_id}/check-in");
        // Not a studio of theirs / not a code of this studio / no such code.
        assert_eq!(app.post(&path, Some(&other_admin.token), json!({"booking_code": code})).await.0, 404);
        assert_eq!(app.post(&path, Some(&owner.token), json!({"booking_code": code})).await.0, 404);
        let other_path = format!("/studios/{other_studio}/check-in");
        assert_eq!(app.post(&other_path, Some(&other_admin.token), json!({"booking_code": code})).await.0, 404);
        assert_eq!(app.post(&path, Some(&admin.token), json!({"booking_code": "UUUU-UUUU"})).await.0, 404);
        assert_eq!(reservation(&app, &owner, id(&held)).await["status"], "CONFIRMED");

        let (status, checked) = app.post(&path, Some(&admin.token), json!({"booking_code": code})).await;
        assert_eq!(status, StatusCode::OK, "{checked}");
        assert_eq!(checked["reservation"]["id"], held["id"]);
        assert_eq!(checked["reservation"]["status"], "CHECKED_IN");
        assert_eq!(checked["reservation"]["booking_code"], code.as_str());
        assert_eq!(checked["already_checked_in"], false);

        app.clock.advance(Duration::minutes(1));
        let (status, again) = app.post(&path, Some(&admin.token), json!({"booking_code": code})).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["already_checked_in"], true, "{again}");
        assert_eq!(again["checked_in_at"], checked["checked_in_at"], "the time it was first used");
        assert_eq!(again["reservation"], checked["reservation"]);
        assert_eq!(reservation(&app, &owner, id(&held)).await["status"], "CHECKED_IN");
        // A checked-in seat still counts as taken.
        assert_eq!(event(&app, event_id).await["available"], 9);
    }

    async fn studio_reservations_list_newest_first_and_only_the_studios_own(backend) {
        let World { app, platform, admin, studio_id } = World::new(backend).await;
        let (other_studio, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let event_a = open_event(&app, &admin, 10).await;
        let event_b = open_event(&app, &other_admin, 10).await;
        let mut expected = Vec::new();
        for name in ["ada", "bob", "cem"] {
            let user = app.register(&format!("{name}@a.test")).await;
            expected.push(id(&hold_ok(&app, &user, event_a, 1).await));
            hold_ok(&app, &user, event_b, 1).await;
            app.clock.advance(Duration::minutes(1));
        }
        expected.reverse();

        let (status, page) = app.get(&format!("/studios/{studio_id}/reservations"), Some(&admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(ids(&page), expected, "newest first, this studio's only");
        let created: Vec<DateTime<Utc>> = items(&page).iter().map(|r| time(&r["created_at"])).collect();
        assert!(created.windows(2).all(|w| w[0] > w[1]), "{created:?}");
        assert!(items(&page).iter().all(|r| r["event_id"] == event_a));

        let (_, page) = app.get(&format!("/studios/{studio_id}/reservations"), Some(&platform.token)).await;
        assert_eq!(ids(&page), expected);
        let (_, page) = app.get(&format!("/studios/{studio_id}/reservations?limit=2"), Some(&admin.token)).await;
        assert_eq!(ids(&page), expected[..2]);
        assert!(page["next_cursor"].is_string(), "{page}");

        let (status, _) = app.get(&format!("/studios/{studio_id}/reservations"), Some(&other_admin.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let user = app.login("ada@a.test").await;
        assert_eq!(app.get(&format!("/studios/{studio_id}/reservations"), Some(&user.token)).await.0, 404);
        let (_, page) = app.get(&format!("/studios/{other_studio}/reservations"), Some(&other_admin.token)).await;
        assert_eq!(items(&page).len(), 3);
        assert!(items(&page).iter().all(|r| r["event_id"] == event_b));
    }

    async fn my_reservations_filter_by_status(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let user = app.register("user@a.test").await;
        let (e1, e2, e3) =
            (open_event(&app, &admin, 10).await, open_event(&app, &admin, 10).await, open_event(&app, &admin, 10).await);
        let booked = hold_ok(&app, &user, e1, 1).await;
        assert_eq!(confirm(&app, &user, id(&booked)).await.0, StatusCode::OK);
        let cancelled = hold_ok(&app, &user, e2, 1).await;
        assert_eq!(cancel(&app, &user, id(&cancelled)).await.0, StatusCode::OK);
        let held = hold_ok(&app, &user, e3, 1).await;
        // Someone else's booking never shows.
        let other = app.register("other@a.test").await;
        let theirs = hold_ok(&app, &other, e1, 1).await;
        assert_eq!(confirm(&app, &other, id(&theirs)).await.0, StatusCode::OK);

        let all: Vec<i64> = my_reservations(&app, &user, "").await.iter().map(id).collect();
        assert_eq!(all, vec![id(&held), id(&cancelled), id(&booked)]);
        let confirmed = my_reservations(&app, &user, "?status=CONFIRMED").await;
        assert_eq!(confirmed.iter().map(id).collect::<Vec<_>>(), vec![id(&booked)]);
        assert_eq!(confirmed[0]["status"], "CONFIRMED");
        let holds = my_reservations(&app, &user, "?status=HOLD").await;
        assert_eq!(holds.iter().map(id).collect::<Vec<_>>(), vec![id(&held)]);
        let gone = my_reservations(&app, &user, "?status=CANCELLED").await;
        assert_eq!(gone.iter().map(id).collect::<Vec<_>>(), vec![id(&cancelled)]);
        assert!(invalid_fields(&app.get("/reservations?status=LOST", Some(&user.token)).await).contains("status"));
        assert_eq!(app.get("/reservations", None).await.0, StatusCode::UNAUTHORIZED);
    }
}

// --- 5. auctions ----------------------------------------------------------------

on_both_stores! {
    async fn an_auction_opens_mid_schedule_with_its_price_and_next_step(backend) {
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        let body = auction_body(&app);
        let created = create_auction(&app, &admin, body.clone()).await;
        let starts_at = time(&body["starts_at"]);
        assert_eq!(created["studio_id"], studio_id);
        assert_eq!(created["title"], "Tango slot");
        assert_eq!(created["status"], "ACTIVE");
        assert_eq!(created["current_price"], "500.00");
        assert_eq!(created["next_price"], "450.00");
        assert_eq!(time(&created["next_change_at"]), starts_at + Duration::minutes(60));
        assert_eq!(created["turbo_active"], false);
        assert!(created["turbo_started_at"].is_null());
        assert_eq!(created["start_price"], "500.00");
        assert_eq!(created["floor_price"], "100.00");
        assert_eq!(created["drop_interval_minutes"], 60);
        assert_eq!(created["turbo"]["drop_amount"], "20.00");
        assert_eq!(time(&created["scheduled_at"]), time(&body["scheduled_at"]));
        let auction_id = id(&created);
        assert_eq!(auction(&app, auction_id).await, created);

        // Time moves: the price follows the schedule.
        app.clock.advance(Duration::minutes(60));
        let now = auction(&app, auction_id).await;
        assert_eq!(now["status"], "ACTIVE");
        assert_eq!(now["current_price"], "450.00");
        // The next change is turbo's first drop (turbo from starts+90, 20.00 every 5 min).
        assert_eq!(now["next_price"], "430.00");
        assert_eq!(time(&now["next_change_at"]), starts_at + Duration::minutes(95));
        assert_eq!(now["turbo_active"], false);

        // In turbo: normal and turbo drops add up.
        app.clock.advance(Duration::minutes(40)); // starts + 110
        let now = auction(&app, auction_id).await;
        assert_eq!(now["turbo_active"], true);
        assert_eq!(now["current_price"], "370.00");

        // Past ends_at, unsold: EXPIRED.
        app.clock.advance(Duration::minutes(10)); // starts + 120 = ends_at
        assert_eq!(auction(&app, auction_id).await["status"], "EXPIRED");
    }

    async fn invalid_auctions_are_422_naming_the_fields(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let base = auction_body(&app);
        let cases = [
            (json!({"floor_price": "500.00"}), vec!["floor_price", "start_price"]),
            (json!({"floor_price": "600.00"}), vec!["floor_price", "start_price"]),
            (json!({"drop_interval_minutes": 0}), vec!["drop_interval_minutes"]),
            (
                json!({"turbo": {"trigger_before_minutes": 30, "drop_amount": "50.00", "interval_minutes": 5}}),
                vec!["turbo.drop_amount"],
            ),
            (
                json!({"turbo": {"trigger_before_minutes": 30, "drop_amount": "80.00", "interval_minutes": 5}}),
                vec!["turbo.drop_amount"],
            ),
        ];
        for (change, named) in cases {
            let answer = app.post("/auctions", Some(&admin.token), with(base.clone(), change.clone())).await;
            let fields = invalid_fields(&answer);
            assert!(named.iter().any(|f| fields.contains(*f)), "{change} should name one of {named:?}: {}", answer.1);
        }
        let (_, page) = app.get("/auctions", None).await;
        assert!(items(&page).is_empty(), "nothing was created: {page}");
        // The unchanged body is fine.
        create_auction(&app, &admin, base).await;
    }

    async fn the_schedule_lists_price_steps_from_start_with_turbo_at_the_end(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let body = auction_body(&app);
        let auction_id = id(&create_auction(&app, &admin, body.clone()).await);
        let (starts_at, ends_at) = (time(&body["starts_at"]), time(&body["ends_at"]));
        let (status, steps) = app.get(&format!("/auctions/{auction_id}/schedule"), None).await;
        assert_eq!(status, StatusCode::OK, "{steps}");
        let steps = steps.as_array().expect("a list of steps");
        let got: Vec<(DateTime<Utc>, String, String)> = steps
            .iter()
            .map(|s| {
                assert_eq!(keys(s), BTreeSet::from(["at".into(), "price".into(), "phase".into()]), "{s}");
                (time(&s["at"]), s["price"].as_str().unwrap().to_owned(), s["phase"].as_str().unwrap().to_owned())
            })
            .collect();
        let m = |minutes| starts_at + Duration::minutes(minutes);
        let expected: Vec<(DateTime<Utc>, String, String)> = [
            (m(0), "500.00", "normal"),
            (m(60), "450.00", "normal"),
            (m(95), "430.00", "turbo"),
            (m(100), "410.00", "turbo"),
            (m(105), "390.00", "turbo"),
            (m(110), "370.00", "turbo"),
            (m(115), "350.00", "turbo"),
        ]
        .into_iter()
        .map(|(at, price, phase)| (at, price.to_owned(), phase.to_owned()))
        .collect();
        assert_eq!(got, expected);
        let prices: Vec<f64> = got.iter().map(|(_, p, _)| p.parse().unwrap()).collect();
        assert!(prices.windows(2).all(|w| w[0] > w[1]), "strictly decreasing: {prices:?}");
        assert!(got.iter().all(|(at, _, _)| *at < ends_at));
        assert_eq!(app.get("/auctions/999999/schedule", None).await.0, StatusCode::NOT_FOUND);
    }

    async fn triggering_turbo_keeps_the_price_and_answers_409_when_it_cannot(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let plain = id(&create_auction(&app, &admin, with(auction_body(&app), json!({"turbo": null}))).await);
        let path = format!("/auctions/{auction_id}/turbo");

        let user = app.register("user@a.test").await;
        assert_eq!(app.post(&path, Some(&user.token), json!({})).await.0, StatusCode::FORBIDDEN);

        let (status, turbo) = app.post(&path, Some(&admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{turbo}");
        assert_eq!(turbo["turbo_active"], true);
        assert_eq!(turbo["current_price"], "500.00", "triggering never moves the price at once");
        assert_eq!(time(&turbo["turbo_started_at"]), app.now());
        assert_eq!(turbo["next_price"], "480.00");
        assert_eq!(time(&turbo["next_change_at"]), app.now() + Duration::minutes(5));
        assert_eq!(auction(&app, auction_id).await, turbo);

        assert_problem(&app.post(&path, Some(&admin.token), json!({})).await, StatusCode::CONFLICT, "turbo_already_active");
        assert_problem(
            &app.post(&format!("/auctions/{plain}/turbo"), Some(&admin.token), json!({})).await,
            StatusCode::CONFLICT,
            "turbo_not_available",
        );
        let plain_now = auction(&app, plain).await;
        assert_eq!(
            (plain_now["turbo_active"].clone(), plain_now["current_price"].clone()),
            (json!(false), json!("500.00"))
        );

        // The turbo schedule reflects the early start: 20.00 every 5 min from now.
        app.clock.advance(Duration::minutes(10));
        assert_eq!(auction(&app, auction_id).await["current_price"], "460.00");
    }

    async fn only_draft_auctions_can_be_edited(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let active = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let draft = create_auction(&app, &admin, draft_auction_body(&app)).await;
        assert_eq!(draft["status"], "DRAFT");
        assert_eq!(draft["current_price"], "500.00");

        assert_problem(
            &app.patch(&format!("/auctions/{active}"), Some(&admin.token), json!({"title": "Changed"})).await,
            StatusCode::CONFLICT,
            "auction_not_editable",
        );
        assert_eq!(auction(&app, active).await["title"], "Tango slot");

        let (status, edited) = app
            .patch(
                &format!("/auctions/{}", id(&draft)),
                Some(&admin.token),
                json!({"title": "Waltz slot", "start_price": "600.00"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["title"], "Waltz slot");
        assert_eq!(edited["start_price"], "600.00");
        assert_eq!(edited["current_price"], "600.00");
        assert_eq!(edited["status"], "DRAFT");
        assert_eq!(edited["floor_price"], "100.00", "untouched fields stay");
        assert_eq!(auction(&app, id(&draft)).await, edited);
        // An edit is validated like a creation.
        let answer =
            app.patch(&format!("/auctions/{}", id(&draft)), Some(&admin.token), json!({"floor_price": "700.00"})).await;
        assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.1);
    }

    async fn auctions_list_filters_by_status(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let active = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let draft = id(&create_auction(&app, &admin, draft_auction_body(&app)).await);
        let held = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let user = app.register("user@a.test").await;
        assert_eq!(grab(&app, &user, held).await.0, StatusCode::CREATED);

        let listed = |query: &'static str| {
            let app = &app;
            async move {
                let (status, page) = app.get(&format!("/auctions{query}"), None).await;
                assert_eq!(status, StatusCode::OK, "{page}");
                ids(&page).into_iter().collect::<BTreeSet<_>>()
            }
        };
        assert_eq!(listed("?status=ACTIVE").await, BTreeSet::from([active]));
        assert_eq!(listed("?status=DRAFT").await, BTreeSet::from([draft]));
        assert_eq!(listed("?status=HELD").await, BTreeSet::from([held]));
        assert!(listed("?status=SOLD").await.is_empty());
        assert_eq!(listed("").await, BTreeSet::from([active, draft, held]));
        assert!(invalid_fields(&app.get("/auctions?status=OPEN", None).await).contains("status"));
    }
}

// --- 6. grab ----------------------------------------------------------------------

on_both_stores! {
    async fn grab_holds_at_the_current_price_and_blocks_everyone_else(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        app.clock.advance(Duration::minutes(60));

        let (status, held) = grab(&app, &ada, auction_id).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        assert_eq!(held["kind"], "auction");
        assert_eq!(held["auction_id"], auction_id);
        assert!(held["event_id"].is_null());
        assert_eq!(held["user_id"], ada.user_id);
        assert_eq!(held["status"], "HOLD");
        assert_eq!(held["quantity"], 1);
        assert_eq!(held["unit_price"], "450.00");
        assert_eq!(held["total_price"], "450.00");
        assert_eq!(time(&held["expires_at"]), app.now() + Duration::minutes(5));
        assert!(held["booking_code"].is_null());

        assert_problem(&grab(&app, &bob, auction_id).await, StatusCode::CONFLICT, "auction_on_hold");
        let shown = auction(&app, auction_id).await;
        assert_eq!(shown["status"], "HELD");
        assert_eq!(shown["held_price"], "450.00");
        assert!(my_reservations(&app, &bob, "").await.is_empty());
        // Studio admins cannot book.
        assert_eq!(grab(&app, &admin, auction_id).await.0, StatusCode::FORBIDDEN);
    }

    async fn confirming_a_grab_sells_the_slot_at_the_locked_price(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        app.clock.advance(Duration::minutes(60));
        let (_, held) = grab(&app, &ada, auction_id).await;
        app.clock.advance(Duration::minutes(4));

        let (status, booked) = confirm(&app, &ada, id(&held)).await;
        assert_eq!(status, StatusCode::OK, "{booked}");
        assert_eq!(booked["status"], "CONFIRMED");
        assert!(booked["booking_code"].is_string(), "{booked}");
        assert_eq!(booked["total_price"], "450.00");

        // Much later, when the schedule would be far lower, it shows the sale price.
        app.clock.advance(Duration::minutes(40));
        let sold = auction(&app, auction_id).await;
        assert_eq!(sold["status"], "SOLD");
        assert_eq!(sold["current_price"], "450.00");
        assert!(sold["next_price"].is_null(), "{sold}");
        assert!(sold["next_change_at"].is_null(), "{sold}");
        assert_problem(&grab(&app, &bob, auction_id).await, StatusCode::CONFLICT, "auction_already_booked");
        let (_, page) = app.get("/auctions?status=SOLD", None).await;
        assert_eq!(ids(&page), vec![auction_id]);
    }

    async fn grab_with_confirm_books_in_one_step(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let user = app.register("user@a.test").await;
        let (status, booked) =
            app.post(&format!("/auctions/{auction_id}/grab"), Some(&user.token), json!({"confirm": true})).await;
        assert_eq!(status, StatusCode::CREATED, "{booked}");
        assert_eq!(booked["status"], "CONFIRMED");
        assert_eq!(booked["unit_price"], "500.00");
        assert!(booked["booking_code"].as_str().is_some_and(|c| !c.is_empty()), "{booked}");
        assert_eq!(time(&booked["confirmed_at"]), app.now());
        let sold = auction(&app, auction_id).await;
        assert_eq!(sold["status"], "SOLD");
        assert_eq!(sold["current_price"], "500.00");
        let mine = my_reservations(&app, &user, "?status=CONFIRMED").await;
        assert_eq!(mine.iter().map(id).collect::<Vec<_>>(), vec![id(&booked)]);
    }

    async fn grab_is_refused_before_the_start_and_after_the_end(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let draft = id(&create_auction(&app, &admin, draft_auction_body(&app)).await);
        let running = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let user = app.register("user@a.test").await;
        assert_problem(&grab(&app, &user, draft).await, StatusCode::CONFLICT, "auction_not_started");

        // 110 minutes on: `running` ended, the draft (starts +60, ends +180) runs.
        app.clock.advance(Duration::minutes(110));
        assert_problem(&grab(&app, &user, running).await, StatusCode::CONFLICT, "auction_closed");
        assert_eq!(auction(&app, running).await["status"], "EXPIRED");
        let (status, held) = grab(&app, &user, draft).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        assert_eq!(my_reservations(&app, &user, "").await.len(), 1);
    }

    async fn users_whose_reservation_ended_unused_cannot_grab_again(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob, cem) =
            (app.register("ada@a.test").await, app.register("bob@a.test").await, app.register("cem@a.test").await);

        // Ada's hold lapses.
        assert_eq!(grab(&app, &ada, auction_id).await.0, StatusCode::CREATED);
        app.clock.advance(Duration::minutes(6));
        assert_eq!(auction(&app, auction_id).await["status"], "ACTIVE");
        // Cem grabs and cancels.
        let (status, cems) = grab(&app, &cem, auction_id).await;
        assert_eq!(status, StatusCode::CREATED, "{cems}");
        assert_eq!(cancel(&app, &cem, id(&cems)).await.0, StatusCode::OK);
        assert_eq!(auction(&app, auction_id).await["status"], "ACTIVE");

        assert_problem(&grab(&app, &ada, auction_id).await, StatusCode::CONFLICT, "regrab_not_allowed");
        assert_problem(&grab(&app, &cem, auction_id).await, StatusCode::CONFLICT, "regrab_not_allowed");
        let (status, bobs) = grab(&app, &bob, auction_id).await;
        assert_eq!(status, StatusCode::CREATED, "{bobs}");
        // The state check comes first.
        assert_problem(&grab(&app, &ada, auction_id).await, StatusCode::CONFLICT, "auction_on_hold");
    }

    async fn cancelling_a_held_auction_cancels_the_holders_reservation(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        let (_, held) = grab(&app, &ada, auction_id).await;

        let (status, cancelled) = app.post(&format!("/auctions/{auction_id}/cancel"), Some(&admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "CANCELLED");
        assert_eq!(auction(&app, auction_id).await["status"], "CANCELLED");
        assert_eq!(reservation(&app, &ada, id(&held)).await["status"], "CANCELLED");
        assert_problem(&confirm(&app, &ada, id(&held)).await, StatusCode::CONFLICT, "invalid_state");
        assert_problem(&grab(&app, &bob, auction_id).await, StatusCode::CONFLICT, "auction_closed");
        let (_, page) = app.get("/auctions?status=CANCELLED", None).await;
        assert_eq!(ids(&page), vec![auction_id]);
    }

    async fn a_hold_taken_before_the_end_may_be_confirmed_after_it_at_the_locked_price(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        // Two minutes before ends_at (starts + 118): 500 - 50 - 20 * 5 = 350.
        app.clock.advance(Duration::minutes(108));
        let (status, held) = grab(&app, &ada, auction_id).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        assert_eq!(held["unit_price"], "350.00");
        app.clock.advance(Duration::minutes(4));
        assert_eq!(auction(&app, auction_id).await["status"], "HELD");
        let (status, booked) = confirm(&app, &ada, id(&held)).await;
        assert_eq!(status, StatusCode::OK, "{booked}");
        assert_eq!(booked["total_price"], "350.00");
        let sold = auction(&app, auction_id).await;
        assert_eq!((sold["status"].clone(), sold["current_price"].clone()), (json!("SOLD"), json!("350.00")));
        assert_problem(&grab(&app, &bob, auction_id).await, StatusCode::CONFLICT, "auction_already_booked");
    }

    async fn a_hold_lapsing_after_the_end_leaves_the_auction_expired(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let ada = app.register("ada@a.test").await;
        app.clock.advance(Duration::minutes(108));
        let (_, held) = grab(&app, &ada, auction_id).await;
        app.clock.advance(Duration::minutes(6));
        assert_eq!(auction(&app, auction_id).await["status"], "EXPIRED");
        assert_problem(&confirm(&app, &ada, id(&held)).await, StatusCode::CONFLICT, "hold_expired");
        assert_eq!(auction(&app, auction_id).await["status"], "EXPIRED");
        let bob = app.register("bob@a.test").await;
        assert_problem(&grab(&app, &bob, auction_id).await, StatusCode::CONFLICT, "auction_closed");
    }

    async fn cancelling_a_sold_slot_before_the_end_reopens_the_auction(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        let (status, booked) =
            app.post(&format!("/auctions/{auction_id}/grab"), Some(&ada.token), json!({"confirm": true})).await;
        assert_eq!(status, StatusCode::CREATED, "{booked}");
        app.clock.advance(Duration::minutes(50));
        // The session is 130 minutes away: before the cut-off.
        let (status, cancelled) = cancel(&app, &ada, id(&booked)).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "CANCELLED");
        let reopened = auction(&app, auction_id).await;
        assert_eq!(reopened["status"], "ACTIVE");
        assert_eq!(reopened["current_price"], "450.00", "the price simply continued on its schedule");
        assert_problem(&grab(&app, &ada, auction_id).await, StatusCode::CONFLICT, "regrab_not_allowed");
        let (status, bobs) = grab(&app, &bob, auction_id).await;
        assert_eq!(status, StatusCode::CREATED, "{bobs}");
        assert_eq!(bobs["unit_price"], "450.00");
    }
}

// --- 7. Idempotency-Key -------------------------------------------------------------

on_both_stores! {
    async fn a_retried_hold_with_the_same_key_replays_the_first_answer(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let other_event = open_event(&app, &admin, 10).await;
        let user = app.register("user@a.test").await;
        let path = format!("/events/{event_id}/holds");

        let first = post_with_key(&app, &path, &user.token, "hold-1", Some(json!({"quantity": 2}))).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        assert_eq!(first.replayed, None);
        app.clock.advance(Duration::minutes(1));
        let again = post_with_key(&app, &path, &user.token, "hold-1", Some(json!({"quantity": 2}))).await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
        assert_eq!(again.replayed.as_deref(), Some("true"));
        assert_eq!(again.body, first.body, "the identical body");
        assert_eq!(my_reservations(&app, &user, "").await.len(), 1, "nothing new");
        assert_seats(&event(&app, event_id).await, 8, 2, 1, 0);

        let other_body = post_with_key(&app, &path, &user.token, "hold-1", Some(json!({"quantity": 3}))).await;
        assert_eq!(other_body.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other_body.body);
        assert_eq!(other_body.json()["code"], "idempotency_key_reused");
        let other_path = post_with_key(
            &app,
            &format!("/events/{other_event}/holds"),
            &user.token,
            "hold-1",
            Some(json!({"quantity": 2})),
        )
        .await;
        assert_eq!(other_path.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other_path.body);
        assert_eq!(other_path.json()["code"], "idempotency_key_reused");
        assert_eq!(my_reservations(&app, &user, "").await.len(), 1);

        // Keys are per caller: another user's same key is a request of its own.
        let other_user = app.register("other@a.test").await;
        let theirs = post_with_key(&app, &path, &other_user.token, "hold-1", Some(json!({"quantity": 2}))).await;
        assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
        assert_eq!(theirs.replayed, None);
        assert_ne!(theirs.json()["id"], first.json()["id"]);
    }

    async fn a_refused_hold_is_replayed_as_the_same_refusal(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 2).await;
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        let adas = hold_ok(&app, &ada, event_id, 2).await;
        let path = format!("/events/{event_id}/holds");

        let first = post_with_key(&app, &path, &bob.token, "k", Some(json!({"quantity": 1}))).await;
        assert_eq!(first.status, StatusCode::CONFLICT, "{}", first.body);
        assert_eq!(first.json()["code"], "insufficient_capacity");

        // The seats come back, but the retry still hears the first answer.
        assert_eq!(cancel(&app, &ada, id(&adas)).await.0, StatusCode::OK);
        let again = post_with_key(&app, &path, &bob.token, "k", Some(json!({"quantity": 1}))).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert_eq!(again.replayed.as_deref(), Some("true"));
        assert_eq!(again.body, first.body);
        assert!(my_reservations(&app, &bob, "").await.is_empty());
        // A fresh key is a fresh attempt.
        let fresh = post_with_key(&app, &path, &bob.token, "k2", Some(json!({"quantity": 1}))).await;
        assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.body);
    }

    async fn a_retried_grab_with_the_same_key_replays_the_first_answer(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let user = app.register("user@a.test").await;
        let path = format!("/auctions/{auction_id}/grab");

        let first = post_with_key(&app, &path, &user.token, "grab-1", None).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        assert_eq!(first.replayed, None);
        let again = post_with_key(&app, &path, &user.token, "grab-1", None).await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
        assert_eq!(again.replayed.as_deref(), Some("true"));
        assert_eq!(again.body, first.body);
        assert_eq!(my_reservations(&app, &user, "").await.len(), 1, "nothing new");
        assert_eq!(auction(&app, auction_id).await["status"], "HELD");

        let other = post_with_key(&app, &path, &user.token, "grab-1", Some(json!({"confirm": true}))).await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.body);
        assert_eq!(other.json()["code"], "idempotency_key_reused");
        assert_eq!(reservation(&app, &user, first.json()["id"].as_i64().unwrap()).await["status"], "HOLD");
    }

    async fn event_and_auction_reads_answer_304_while_their_etag_is_current(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let read = |path: String, tag: Option<String>| {
            let mut request = app.client.get(app.url(&format!("/api/v1{path}")));
            if let Some(tag) = tag {
                request = request.header("If-None-Match", tag);
            }
            async move {
                let response = request.send().await.unwrap();
                let tag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
                (response.status(), tag, response.text().await.unwrap())
            }
        };
        for path in [format!("/events/{event_id}"), format!("/auctions/{auction_id}")] {
            let (status, tag, body) = read(path.clone(), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let tag = tag.expect("an ETag");
            let (status, again, body) = read(path.clone(), Some(tag.clone())).await;
            assert_eq!((status, again.as_deref(), body.as_str()), (StatusCode::NOT_MODIFIED, Some(tag.as_str()), ""));
            let (status, _, _) = read(path.clone(), Some("\"someone-else\"".into())).await;
            assert_eq!(status, StatusCode::OK, "another tag gets the representation");
        }

        // A change is never hidden: a hold changes the event's tag, time the auction's price and tag.
        let (_, event_tag, _) = read(format!("/events/{event_id}"), None).await;
        let user = app.register("reader@a.test").await;
        let (status, _) = app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({"quantity": 2})).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, new_tag, body) = read(format!("/events/{event_id}"), event_tag.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_ne!(new_tag, event_tag);
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["available"], 8);

        let (_, auction_tag, before) = read(format!("/auctions/{auction_id}"), None).await;
        let before: Value = serde_json::from_str(&before).unwrap();
        app.clock.set(time(&before["next_change_at"]) + Duration::seconds(1));
        let (status, _, after) = read(format!("/auctions/{auction_id}"), auction_tag).await;
        assert_eq!(status, StatusCode::OK, "the price moved on: {after}");
        assert_ne!(serde_json::from_str::<Value>(&after).unwrap()["current_price"], before["current_price"]);
    }

    async fn a_grab_that_can_only_lose_is_refused_without_the_auction_lock(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        assert_eq!(grab(&app, &ada, auction_id).await.0, StatusCode::CREATED);

        // Someone else sits on the auction's lock: its row on PostgreSQL, the
        // database's write lock on SQLite. A grab that queued for it would
        // answer 503 busy after the lock timeout.
        use sea_orm::{ConnectionTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait};
        let options =
            TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
        let blocker = app.connection().begin_with_options(options).await.unwrap();
        if backend == Backend::Postgres {
            let lock = format!("SELECT id FROM auctions WHERE id = {auction_id} FOR UPDATE");
            blocker.execute_unprepared(&lock).await.unwrap();
        }
        let (status, body) = grab(&app, &bob, auction_id).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("auction_on_hold")), "{body}");
        blocker.rollback().await.unwrap();
    }

    async fn a_refused_grab_is_replayed_as_the_same_refusal(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let (ada, bob) = (app.register("ada@a.test").await, app.register("bob@a.test").await);
        let (_, adas) = grab(&app, &ada, auction_id).await;
        let path = format!("/auctions/{auction_id}/grab");

        let first = post_with_key(&app, &path, &bob.token, "g", None).await;
        assert_eq!(first.status, StatusCode::CONFLICT, "{}", first.body);
        assert_eq!(first.json()["code"], "auction_on_hold");

        assert_eq!(cancel(&app, &ada, id(&adas)).await.0, StatusCode::OK);
        assert_eq!(auction(&app, auction_id).await["status"], "ACTIVE");
        let again = post_with_key(&app, &path, &bob.token, "g", None).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert_eq!(again.replayed.as_deref(), Some("true"));
        assert_eq!(again.body, first.body);
        assert_eq!(auction(&app, auction_id).await["status"], "ACTIVE", "the replay grabbed nothing");
        assert!(my_reservations(&app, &bob, "").await.is_empty());
        assert_eq!(grab(&app, &bob, auction_id).await.0, StatusCode::CREATED);
    }
}

// --- 8. races -------------------------------------------------------------------------

on_both_stores! {
    async fn of_200_simultaneous_grabs_exactly_one_wins(backend) {
        let World { app, admin, .. } = World::with(backend, &[("DB_MAX_CONNECTIONS", "20")]).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        let users = register_many(&app, "grabber", 200).await;

        let answers = stampede(&app, &users, &format!("/auctions/{auction_id}/grab"), None).await;
        let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        let on_hold = answers.iter().filter(|(s, c)| *s == StatusCode::CONFLICT && c == "auction_on_hold").count();
        let busy = answers.iter().filter(|(s, c)| *s == StatusCode::SERVICE_UNAVAILABLE && c == "busy").count();
        let unexpected: Vec<_> = answers
            .iter()
            .filter(|(s, c)| !matches!((s.as_u16(), c.as_str()), (201, _) | (409, "auction_on_hold") | (503, "busy")))
            .collect();
        assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
        assert_eq!(created, 1, "exactly one winner ({on_hold} on hold, {busy} busy)");
        assert_eq!(created + on_hold + busy, 200);

        let shown = auction(&app, auction_id).await;
        assert_eq!(shown["status"], "HELD", "{shown}");
        assert_eq!(shown["held_price"], "500.00");
        let all = app.sql_i64(&format!("SELECT COUNT(*) FROM reservations WHERE auction_id = {auction_id}")).await;
        let holds = app
            .sql_i64(&format!("SELECT COUNT(*) FROM reservations WHERE auction_id = {auction_id} AND status = 'HOLD'"))
            .await;
        assert_eq!((all, holds), (1, 1));
    }

    async fn of_300_simultaneous_holds_on_100_seats_exactly_100_succeed(backend) {
        let World { app, admin, .. } = World::with(backend, &[("DB_MAX_CONNECTIONS", "20")]).await;
        let event_id = open_event(&app, &admin, 100).await;
        let users = register_many(&app, "holder", 300).await;

        let answers = stampede(&app, &users, &format!("/events/{event_id}/holds"), Some(json!({"quantity": 1}))).await;
        let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        let full = answers.iter().filter(|(s, c)| *s == StatusCode::CONFLICT && c == "insufficient_capacity").count();
        let busy = answers.iter().filter(|(s, c)| *s == StatusCode::SERVICE_UNAVAILABLE && c == "busy").count();
        let unexpected: Vec<_> = answers
            .iter()
            .filter(|(s, c)| !matches!((s.as_u16(), c.as_str()), (201, _) | (409, "insufficient_capacity") | (503, "busy")))
            .collect();
        assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
        assert_eq!(created, 100, "exactly the capacity ({full} refused, {busy} busy)");
        assert_eq!(created + full + busy, 300);

        let detail = event(&app, event_id).await;
        assert_seats(&detail, 0, 100, 100, 0);
        let where_event = format!("FROM reservations WHERE event_id = {event_id}");
        assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) {where_event} AND status = 'HOLD'")).await, 100);
        assert_eq!(app.sql_i64(&format!("SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) {where_event}")).await, 100);
        assert_eq!(app.sql_i64(&format!("SELECT COUNT(DISTINCT user_id) {where_event}")).await, 100);

        // The holds shared transactions, as /metrics tells.
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let gauge = |name: &str| -> i64 {
            metrics.lines().find_map(|line| line.strip_prefix(name)?.trim().parse().ok()).expect(name)
        };
        let (batches, holds) = (gauge("hothour_hold_batches_total"), gauge("hothour_holds_batched_total"));
        assert_eq!(holds, 300, "every hold went through the batcher");
        assert!(batches < holds, "{batches} transactions for {holds} holds");
    }
}

// --- the read model: reads from memory, never stale ----------------------------------

on_both_stores! {
    /// A change made behind the service's back (in SQL, announced to no one)
    /// shows that reads come from memory; any commit through the service on
    /// the auction or event makes the next read see the stored row again.
    async fn reads_are_answered_from_memory_until_a_commit_changes_them(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let auction_id = id(&create_auction(&app, &admin, auction_body(&app)).await);
        assert_eq!(event(&app, event_id).await["title"], "Salsa night");
        assert_eq!(auction(&app, auction_id).await["title"], "Tango slot");
        for table in ["events", "auctions"] {
            app.sql_execute(&format!("UPDATE {table} SET title = 'Behind its back'")).await;
        }
        assert_eq!(event(&app, event_id).await["title"], "Salsa night", "the event is read from memory");
        assert_eq!(auction(&app, auction_id).await["title"], "Tango slot", "the auction is read from memory");

        let user = app.register("reader@a.test").await;
        hold_ok(&app, &user, event_id, 2).await;
        let read = event(&app, event_id).await;
        assert_eq!(read["title"], "Behind its back", "the hold's commit sent the next read to the store");
        assert_seats(&read, 8, 2, 1, 0);
        assert_eq!(grab(&app, &user, auction_id).await.0, StatusCode::CREATED);
        let read = auction(&app, auction_id).await;
        assert_eq!((read["title"].as_str(), read["status"].as_str()), (Some("Behind its back"), Some("HELD")));
    }

    async fn an_edit_a_cancellation_or_a_deletion_is_seen_by_the_next_read(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let path = format!("/events/{event_id}");
        assert_eq!(event(&app, event_id).await["title"], "Salsa night");
        let (status, body) = app.patch(&path, Some(&admin.token), json!({"title": "Tango night"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(event(&app, event_id).await["title"], "Tango night");
        let (status, body) = app.delete(&path, Some(&admin.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_problem(&app.get(&path, None).await, StatusCode::NOT_FOUND, "not_found");

        let auction_id = id(&create_auction(&app, &admin, draft_auction_body(&app)).await);
        let path = format!("/auctions/{auction_id}");
        assert_eq!(auction(&app, auction_id).await["title"], "Tango slot");
        let (status, body) = app.patch(&path, Some(&admin.token), json!({"title": "Waltz slot"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(auction(&app, auction_id).await["title"], "Waltz slot");
        let (status, body) = app.post(&format!("{path}/cancel"), Some(&admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(auction(&app, auction_id).await["status"], "CANCELLED");
    }

    /// A lapsing hold changes availability without any commit (no job runs
    /// here to sweep it): a read kept from before is not served past it.
    async fn a_hold_that_lapses_frees_its_seats_for_the_next_read(backend) {
        let World { app, admin, .. } = World::with(backend, &[("BACKGROUND_JOBS", "false")]).await;
        let event_id = open_event(&app, &admin, 10).await;
        let user = app.register("lapsing@a.test").await;
        let held = hold_ok(&app, &user, event_id, 2).await;
        assert_seats(&event(&app, event_id).await, 8, 2, 1, 0);
        app.clock.set(time(&held["expires_at"]) - Duration::seconds(1));
        assert_seats(&event(&app, event_id).await, 8, 2, 1, 0);
        app.clock.set(time(&held["expires_at"]));
        assert_seats(&event(&app, event_id).await, 10, 0, 0, 0);
        let stored: i64 = app.sql_i64(&format!("SELECT CAST(held_seats AS BIGINT) FROM events WHERE id = {event_id}")).await;
        assert_eq!(stored, 2, "nothing swept it: the read counted it lapsed");
    }
}
