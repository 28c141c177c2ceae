//! Issue 19, items 4, 8, 9 and 10, on both stores: a hidden event is not
//! found by strangers and stops streaming to them; admin writes check
//! permission before they lock; only users book; no database names in answers.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use hothour_tests::app::{Backend, Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso};
use hothour_tests::on_both_stores;
use reqwest::{Method, StatusCode};
use sea_orm::{
    ConnectionTrait, Database, DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
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

/// Holds the row lock of `table`'s row `id` (on SQLite: the write lock) in
/// another connection until the transaction ends.
async fn hold_lock(app: &TestApp, table: &str, id: i64) -> DatabaseTransaction {
    let db = Database::connect(app.db_url.as_str()).await.expect("another connection");
    match app.backend {
        Backend::Postgres => {
            let txn = db.begin().await.expect("a transaction");
            txn.execute_unprepared(&format!("SELECT id FROM {table} WHERE id = {id} FOR UPDATE"))
                .await
                .expect("the row lock");
            txn
        }
        Backend::Sqlite => {
            let options = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            };
            db.begin_with_options(options).await.expect("the write lock")
        }
    }
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
        let lock = hold_lock(&app, "auctions", auction_id).await;
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

        let lock = hold_lock(&app, "events", event_id).await;
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
