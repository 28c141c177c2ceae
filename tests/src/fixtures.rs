//! Small helpers the black-box tests share: times and ids in JSON, a studio
//! world to start from, and crowds of users.

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::app::{Backend, PASSWORD, Session, TestApp, session};

/// RFC 3339 in UTC with a `Z` suffix and microseconds, safe to put in a query string.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// RFC 3339 in UTC with every digit the instant has, down to nanoseconds.
pub fn iso_exact(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The timestamp in a JSON string.
pub fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("a timestamp, got {value}")))
        .unwrap_or_else(|e| panic!("{value} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

/// The `id` of a JSON object.
pub fn id(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("an id in {value}"))
}

/// Asserts the status and the problem code of an answer.
#[track_caller]
pub fn assert_problem(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["code"], code, "{}", answer.1);
}

/// A fresh app with a platform admin and one studio with its admin
/// (`admin@studio-a.test`).
pub struct World {
    pub app: TestApp,
    pub platform: Session,
    pub studio_id: i64,
    pub admin: Session,
}

impl World {
    pub async fn new(backend: Backend) -> World {
        World::with(backend, &[]).await
    }

    /// The world with extra configuration variables.
    pub async fn with(backend: Backend, vars: &[(&str, &str)]) -> World {
        let app = TestApp::spawn_on_with(backend, vars).await;
        let platform = app.platform_admin().await;
        let (studio_id, admin) = app.studio_with_admin(&platform, "admin@studio-a.test").await;
        World { app, platform, studio_id, admin }
    }
}

/// How many registrations [`register_many`] sends at once: a crowd is the
/// setting of a test, not what it tests, so it must not queue past the
/// service's lock timeout on a loaded machine.
const REGISTERING_AT_ONCE: usize = 16;

/// Registers `n` users (`{prefix}{i}@crowd.test`), a few at a time.
pub async fn register_many(app: &TestApp, prefix: &str, n: usize) -> Vec<Session> {
    let turns = std::sync::Arc::new(tokio::sync::Semaphore::new(REGISTERING_AT_ONCE));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/auth/register"));
            let email = format!("{prefix}{i}@crowd.test");
            let turns = turns.clone();
            tokio::spawn(async move {
                let _turn = turns.acquire().await.expect("the semaphore stays open");
                let response = client
                    .post(url)
                    .json(&json!({"email": email, "password": PASSWORD, "full_name": "Crowd Person"}))
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status();
                let body = response.json::<Value>().await.expect("a JSON body");
                assert_eq!(status, StatusCode::CREATED, "{body}");
                session(&body)
            })
        })
        .collect();
    let mut sessions = Vec::with_capacity(n);
    for task in tasks {
        sessions.push(task.await.expect("registration task"));
    }
    sessions
}
