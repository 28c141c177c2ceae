//! Issue 9, defects 10, 11, 12 and 14, on both stores: idempotency keys that
//! cannot get stuck and are pruned with expired refresh tokens, PATCHes that
//! lose no field when they race, "sign out everywhere" that no refresh in
//! flight escapes, and confirm/cancel that check the caller before locking.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use hothour_tests::app::{PASSWORD, Session, TestApp, session};
use hothour_tests::fixtures::{assert_problem, id, iso};
use hothour_tests::on_both_stores;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::Barrier;

// --- helpers ----------------------------------------------------------------

/// A studio with its admin.
async fn studio(app: &TestApp) -> (i64, Session) {
    let platform = app.platform_admin().await;
    app.studio_with_admin(&platform, "admin@studio.test").await
}

/// An active event of `capacity` seats, starting in two days.
async fn open_event(app: &TestApp, admin: &Session, capacity: i64) -> i64 {
    let starts = app.now() + Duration::days(2);
    let body = json!({
        "title": "Salsa night",
        "description": "Salsa for beginners",
        "capacity": capacity,
        "price": "150.00",
        "starts_at": iso(starts),
        "ends_at": iso(starts + Duration::hours(1)),
        "is_active": true,
    });
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

/// An auction that starts in an hour (a DRAFT, so it can be changed).
async fn draft_auction(app: &TestApp, admin: &Session) -> i64 {
    let now = app.now();
    let body = json!({
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
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

/// A keyed `POST`: the status, whether it was replayed, and the body.
async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: Value) -> (StatusCode, bool, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let replayed = response.headers().get("Idempotent-Replayed").is_some();
    (status, replayed, response.json().await.unwrap_or(Value::Null))
}

/// Polls `count` until it answers `expected`, for at most five seconds.
async fn eventually(app: &TestApp, sql: &str, expected: i64) {
    let deadline = Instant::now() + StdDuration::from_secs(5);
    loop {
        let got = app.sql_i64(sql).await;
        if got == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {got}, expected {expected}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Sends every request at the same moment; answers each status and body, in order.
async fn race(app: &TestApp, requests: Vec<(Method, String, String, Option<Value>)>) -> Vec<(StatusCode, Value)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(method, path, token, body)| {
            let (client, url, barrier) = (app.client.clone(), app.url(&format!("/api/v1{path}")), barrier.clone());
            tokio::spawn(async move {
                let mut request = client.request(method, url).bearer_auth(token);
                if let Some(body) = body {
                    request = request.json(&body);
                }
                barrier.wait().await;
                let response = request.send().await.expect("the server answers");
                let status = response.status();
                (status, response.json::<Value>().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}

// --- 10. idempotency keys cannot get stuck; old keys and tokens are pruned ---------

on_both_stores! {
    async fn an_unanswered_idempotency_key_runs_again_after_its_lease(backend) {
        let app = TestApp::spawn_on_with(backend, &[("IDEMPOTENCY_LEASE_SECS", "10")]).await;
        let (_, admin) = studio(&app).await;
        let committed_event = open_event(&app, &admin, 10).await;
        let full_event = open_event(&app, &admin, 2).await;
        let (user, other) = (app.register("user@a.test").await, app.register("other@a.test").await);

        // A hold that committed, and one that was refused (the event was full then).
        let committed = format!("/events/{committed_event}/holds");
        let first = post_with_key(&app, &committed, &user.token, "k1", json!({"quantity": 2})).await;
        assert_eq!(first.0, StatusCode::CREATED, "{}", first.2);
        let (status, others) = app.post(&format!("/events/{full_event}/holds"), Some(&other.token), json!({"quantity": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{others}");
        let full = format!("/events/{full_event}/holds");
        let refused = post_with_key(&app, &full, &user.token, "k2", json!({"quantity": 2})).await;
        assert_problem(&(refused.0, refused.2), StatusCode::CONFLICT, "insufficient_capacity");
        // Neither answer was stored (the process died first): both keys are left in progress.
        app.sql_execute("UPDATE idempotency_keys SET response_status = NULL, response_body = NULL").await;
        let (status, body) = app.post(&format!("/reservations/{}/cancel", id(&others)), Some(&other.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        for (path, key) in [(&committed, "k1"), (&full, "k2")] {
            let retry = post_with_key(&app, path, &user.token, key, json!({"quantity": 2})).await;
            assert_problem(&(retry.0, retry.2), StatusCode::CONFLICT, "idempotency_in_progress");
        }
        app.clock.advance(Duration::seconds(9));
        let retry = post_with_key(&app, &committed, &user.token, "k1", json!({"quantity": 2})).await;
        assert_problem(&(retry.0, retry.2), StatusCode::CONFLICT, "idempotency_in_progress");

        // Past the lease each runs again: the committed hold is not taken twice…
        app.clock.advance(Duration::seconds(1));
        let again = post_with_key(&app, &committed, &user.token, "k1", json!({"quantity": 2})).await;
        assert_problem(&(again.0, again.2.clone()), StatusCode::CONFLICT, "hold_already_exists");
        assert!(!again.1, "run again, not replayed");
        // …and the refused one, now that seats are free, holds them.
        let made = post_with_key(&app, &full, &user.token, "k2", json!({"quantity": 2})).await;
        assert_eq!(made.0, StatusCode::CREATED, "{}", made.2);
        assert!(!made.1);
        let holds = format!("SELECT COUNT(*) FROM reservations WHERE status = 'HOLD' AND user_id = {}", user.user_id);
        assert_eq!(app.sql_i64(&holds).await, 2, "one hold per event, none twice");

        // Their answers are stored now and replayed from then on.
        let replay = post_with_key(&app, &full, &user.token, "k2", json!({"quantity": 2})).await;
        assert_eq!((replay.0, replay.1, replay.2), (StatusCode::CREATED, true, made.2));
        let replay = post_with_key(&app, &committed, &user.token, "k1", json!({"quantity": 2})).await;
        assert_eq!((replay.0, replay.1, replay.2), (StatusCode::CONFLICT, true, again.2));
    }

    async fn pruning_removes_expired_idempotency_keys_and_refresh_tokens(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, admin) = studio(&app).await;
        let event_id = open_event(&app, &admin, 10).await;
        let user = app.register("user@a.test").await;
        let (status, tokens) = app.post("/auth/refresh", None, json!({"refresh_token": user.refresh_token})).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let held = post_with_key(&app, &format!("/events/{event_id}/holds"), &user.token, "k", json!({})).await;
        assert_eq!(held.0, StatusCode::CREATED, "{}", held.2);
        let user_tokens = format!("SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {}", user.user_id);
        assert_eq!(app.sql_i64(&user_tokens).await, 2, "the used token and its successor");
        assert_eq!(app.sql_i64("SELECT COUNT(*) FROM idempotency_keys").await, 1);

        // A week and a day later every one of them has expired.
        app.clock.advance(Duration::days(8));
        let newcomer = app.register("newcomer@a.test").await;
        eventually(&app, &user_tokens, 0).await;
        eventually(&app, "SELECT COUNT(*) FROM idempotency_keys", 0).await;
        let fresh = format!("SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {}", newcomer.user_id);
        assert_eq!(app.sql_i64(&fresh).await, 1, "a token that has not expired is kept");
    }
}

// --- 11. concurrent PATCHes lose no field ------------------------------------------

on_both_stores! {
    async fn concurrent_patches_of_different_fields_all_land(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (studio_id, admin) = studio(&app).await;
        let event_id = open_event(&app, &admin, 10).await;
        let auction_id = draft_auction(&app, &admin).await;
        let token = admin.token.clone();
        let patch = |path: &str, body: Value| (Method::PATCH, path.to_owned(), token.clone(), Some(body));

        for round in 1..=12_i64 {
            let path = format!("/events/{event_id}");
            let answers = race(&app, vec![
                patch(&path, json!({"title": format!("Title {round}")})),
                patch(&path, json!({"description": format!("Description {round}")})),
                patch(&path, json!({"capacity": 100 + round})),
                patch(&path, json!({"is_active": round % 2 == 0})),
            ])
            .await;
            assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
            let sql = format!(
                "SELECT COUNT(*) FROM events WHERE id = {event_id} AND title = 'Title {round}' \
                 AND description = 'Description {round}' AND capacity = {} AND is_active = {}",
                100 + round,
                if round % 2 == 0 { "TRUE" } else { "FALSE" },
            );
            assert_eq!(app.sql_i64(&sql).await, 1, "round {round}: an event change was lost");

            let path = format!("/auctions/{auction_id}");
            let answers = race(&app, vec![
                patch(&path, json!({"title": format!("Title {round}")})),
                patch(&path, json!({"description": format!("Description {round}")})),
                patch(&path, json!({"start_price": format!("{}.00", 500 + round)})),
                patch(&path, json!({"drop_interval_minutes": 60 + round})),
            ])
            .await;
            assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
            let sql = format!(
                "SELECT COUNT(*) FROM auctions WHERE id = {auction_id} AND title = 'Title {round}' \
                 AND description = 'Description {round}' AND drop_interval_seconds = {}",
                (60 + round) * 60,
            );
            assert_eq!(app.sql_i64(&sql).await, 1, "round {round}: an auction change was lost");
            let (_, auction) = app.get(&path, None).await;
            assert_eq!(auction["start_price"], format!("{}.00", 500 + round), "round {round}: {auction}");

            let path = format!("/studios/{studio_id}");
            let answers = race(&app, vec![
                patch(&path, json!({"name": format!("Name {round}")})),
                patch(&path, json!({"address": format!("Address {round}")})),
                patch(&path, json!({"maps_url": format!("https://maps.example/{round}")})),
                patch(&path, json!({"timezone": if round % 2 == 0 { "UTC" } else { "Europe/Istanbul" }})),
            ])
            .await;
            assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK), "{answers:?}");
            let sql = format!(
                "SELECT COUNT(*) FROM studios WHERE id = {studio_id} AND name = 'Name {round}' \
                 AND address = 'Address {round}' AND maps_url = 'https://maps.example/{round}' AND timezone = '{}'",
                if round % 2 == 0 { "UTC" } else { "Europe/Istanbul" },
            );
            assert_eq!(app.sql_i64(&sql).await, 1, "round {round}: a studio change was lost");
        }
    }
}

// --- 12. sign out everywhere: no refresh in flight escapes --------------------------

on_both_stores! {
    async fn no_refresh_racing_sign_out_everywhere_issues_a_working_token(backend) {
        let app = TestApp::spawn_on(backend).await;
        let user = app.register("user@a.test").await;
        for round in 0..4 {
            // Many devices, each with a refresh token of its own.
            let mut devices = vec![user.refresh_token.clone()];
            for _ in 0..24 {
                devices.push(app.login("user@a.test").await.refresh_token);
            }
            let access = app.login("user@a.test").await.token;
            let mut requests: Vec<_> = devices
                .iter()
                .map(|token| {
                    (Method::POST, "/auth/refresh".to_owned(), String::new(), Some(json!({"refresh_token": token})))
                })
                .collect();
            requests.insert(devices.len() / 2, (Method::POST, "/auth/logout-all".to_owned(), access, None));
            let answers = race(&app, requests).await;

            let (mut refreshed, mut signed_out) = (Vec::new(), false);
            for (status, body) in answers {
                match status {
                    StatusCode::NO_CONTENT => signed_out = true,
                    StatusCode::OK => refreshed.push(session(&body)),
                    StatusCode::UNAUTHORIZED => assert_eq!(body["code"], "invalid_refresh_token", "{body}"),
                    other => panic!("round {round}: {other} {body}"),
                }
            }
            assert!(signed_out, "round {round}: logout-all answered 204");
            for refreshed in refreshed {
                let (status, body) = app.post("/auth/refresh", None, json!({"refresh_token": refreshed.refresh_token})).await;
                assert_problem(&(status, body), StatusCode::UNAUTHORIZED, "invalid_refresh_token");
                // Nor does the access token a refresh in flight handed out outlive the sign-out.
                let answer = app.get("/me", Some(&refreshed.token)).await;
                assert_problem(&answer, StatusCode::UNAUTHORIZED, "token_revoked");
            }
            let live = format!("SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {} AND revoked_at IS NULL", user.user_id);
            assert_eq!(app.sql_i64(&live).await, 0, "round {round}: a token survived sign-out everywhere");
        }
        let again = app.post("/auth/login", None, json!({"email": "user@a.test", "password": PASSWORD})).await;
        assert_eq!(again.0, StatusCode::OK, "signing in again works");
    }
}

// --- 14. permission before locks ---------------------------------------------------

on_both_stores! {
    async fn a_strangers_confirm_or_cancel_is_404_without_waiting_for_the_lock(backend) {
        let app = TestApp::spawn_on_with(backend, &[("DB_LOCK_TIMEOUT_MS", "3000")]).await;
        let (_, admin) = studio(&app).await;
        let event_id = open_event(&app, &admin, 10).await;
        let owner = app.register("owner@a.test").await;
        let stranger = app.register("stranger@a.test").await;
        let (status, hold) = app.post(&format!("/events/{event_id}/holds"), Some(&owner.token), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        let reservation = id(&hold);

        let lock = app.hold_row_lock("events", event_id).await;
        for action in ["confirm", "cancel"] {
            let started = Instant::now();
            let answer =
                app.post(&format!("/reservations/{reservation}/{action}"), Some(&stranger.token), json!({})).await;
            assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
            assert!(started.elapsed() < StdDuration::from_secs(1), "{action} waited {:?}", started.elapsed());
        }
        // The lock is real: the owner, who may act, waits for it and is told to retry.
        let answer = app.post(&format!("/reservations/{reservation}/confirm"), Some(&owner.token), json!({})).await;
        assert_problem(&answer, StatusCode::SERVICE_UNAVAILABLE, "busy");
        lock.rollback().await.expect("the lock is released");

        let answer = app.post(&format!("/reservations/{reservation}/confirm"), Some(&owner.token), json!({})).await;
        assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
        let answer = app.post(&format!("/reservations/{reservation}/cancel"), Some(&stranger.token), json!({})).await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
    }
}

on_both_stores! {
    async fn a_keyed_hold_whose_client_went_away_is_carried_out_and_replayed(backend) {
        // A phone that loses its connection after sending a hold retries it
        // with the same key: the hold is made once, and the retry gets its answer.
        let app = TestApp::spawn_on_with(backend, &[("DB_LOCK_TIMEOUT_MS", "20000")]).await;
        let (_, admin) = studio(&app).await;
        let event = open_event(&app, &admin, 10).await;
        let user = app.register("user@a.test").await;
        let path = format!("/events/{event}/holds");
        let lock = app.hold_row_lock("events", event).await;

        // The whole request goes out, then the client closes its connection
        // while the hold waits for the lock.
        let body = r#"{"quantity":1}"#; // as the retry below sends it
        let request = format!(
            "POST /api/v1{path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
             Idempotency-Key: gone\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            user.token,
            body.len()
        );
        let address = app.url("").trim_start_matches("http://").trim_end_matches('/').to_owned();
        let mut socket = tokio::net::TcpStream::connect(address).await.expect("a connection");
        socket.write_all(request.as_bytes()).await.expect("the request is sent");
        socket.shutdown().await.expect("the client closes");
        drop(socket);
        // Real time, not the service's clock: the server must have read the
        // request and the close before the lock goes.
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        lock.rollback().await.expect("the lock is released");

        eventually(&app, "SELECT COUNT(*) FROM idempotency_keys WHERE response_status = 201", 1).await;
        let retry = post_with_key(&app, &path, &user.token, "gone", json!({"quantity": 1})).await;
        assert_eq!((retry.0, retry.1), (StatusCode::CREATED, true), "replayed: {}", retry.2);
        let holds = format!("SELECT COUNT(*) FROM reservations WHERE status = 'HOLD' AND user_id = {}", user.user_id);
        assert_eq!(app.sql_i64(&holds).await, 1, "held once");
    }
}
