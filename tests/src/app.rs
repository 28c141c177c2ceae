//! The HotHour app on a random port over its own fresh database, with a
//! clock the test moves, and small helpers for talking to it over HTTP.

use std::net::TcpListener;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hothour_api::live::hub::Hub;
use hothour_api::live::time::TestClock;
use hothour_api::{AppState, Config, connect_and_migrate, start};
use hothour_domain::Role;
use hothour_domain::account::NewUser;
use hothour_domain::ports::AccountStore;
use hothour_infra_postgres::PgStore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::pg::TestDb;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub clock: TestClock,
    pub store: PgStore,
    pub hub: Arc<Hub>,
    pub server: actix_web::dev::ServerHandle,
    /// The database, owned by the first instance (others share it).
    pub db: Option<Arc<TestDb>>,
    pub db_url: String,
}

/// A signed-in user: their id and access token.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub token: String,
    pub refresh_token: String,
}

impl TestApp {
    /// The app with generous rate limits and a cheap bcrypt cost.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// The app with extra configuration variables (e.g. low rate limits).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        let db = Arc::new(TestDb::new().await);
        let clock = TestClock::new(chrono::SubsecRound::trunc_subsecs(Utc::now(), 6));
        TestApp::spawn_on(db.url.clone(), Some(db), clock, vars).await
    }

    /// Another instance of the service on this app's database and clock.
    pub async fn another_instance(&self) -> TestApp {
        TestApp::spawn_on(self.db_url.clone(), self.db.clone(), self.clock.clone(), &[]).await
    }

    async fn spawn_on(db_url: String, db: Option<Arc<TestDb>>, clock: TestClock, vars: &[(&str, &str)]) -> TestApp {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let defaults = [
            ("DATABASE_URL", db_url.clone()),
            ("BIND", "127.0.0.1:0".into()),
            ("BCRYPT_COST", "4".into()),
            ("RATE_LIMIT_AUTH_PER_MINUTE", "100000".into()),
            ("RATE_LIMIT_BOOKING_PER_MINUTE", "100000".into()),
            ("DB_MAX_CONNECTIONS", "20".into()),
        ];
        let config = Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .or_else(|| defaults.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
        })
        .expect("test configuration");
        let app_store = connect_and_migrate(&config).await.expect("database");
        let hothour_api::AppStore::Postgres(store) = app_store.clone() else {
            panic!("the test app runs on PostgreSQL");
        };
        let listener = TcpListener::bind(&config.bind).expect("bind a random port");
        let state = AppState::with_clock(app_store, config, Arc::new(clock.clone())).await.expect("state");
        let running = start(listener, state).expect("server");
        let server = running.server.handle();
        let hub = running.hub.clone();
        tokio::spawn(running.server);
        TestApp {
            base_url: format!("http://127.0.0.1:{}", running.port),
            client: reqwest::Client::builder().pool_max_idle_per_host(400).build().expect("client"),
            clock,
            store,
            hub,
            server,
            db,
            db_url,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The live endpoint's address.
    pub fn ws_url(&self) -> String {
        format!("{}/api/v1/ws", self.base_url.replacen("http://", "ws://", 1))
    }

    pub fn now(&self) -> DateTime<Utc> {
        use hothour_domain::Clock;
        self.clock.now()
    }

    /// Sends a request to `/api/v1{path}` and returns the status and the JSON body
    /// (`Value::Null` when there is none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(&format!("/api/v1{path}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let bytes = response.bytes().await.expect("a body");
        let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Registers a user through the API and returns the session.
    pub async fn register(&self, email: &str) -> Session {
        let (status, body) = self
            .post("/auth/register", None, json!({"email": email, "password": PASSWORD, "full_name": "Test Person"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        session(&body)
    }

    pub async fn login(&self, email: &str) -> Session {
        let (status, body) = self.post("/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        session(&body)
    }

    /// A platform admin, created as `hothour create-admin` does, then signed in.
    pub async fn platform_admin(&self) -> Session {
        let email = "root@hothour.test";
        let hash = hothour_api::auth::hash_password(PASSWORD.into(), 4).await.expect("hash");
        self.store
            .create_user(NewUser {
                email: email.into(),
                password_hash: hash,
                full_name: "Platform admin".into(),
                phone: None,
                role: Role::PlatformAdmin,
            })
            .await
            .expect("platform admin");
        self.login(email).await
    }

    /// A studio created by `platform` and a registered user made its admin.
    pub async fn studio_with_admin(&self, platform: &Session, admin_email: &str) -> (i64, Session) {
        let (status, studio) = self
            .post(
                "/studios",
                Some(&platform.token),
                json!({"name": format!("Studio of {admin_email}"), "address": "Moda Cd. 1", "timezone": "Europe/Istanbul"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{studio}");
        let studio_id = studio["id"].as_i64().expect("studio id");
        let admin = self.register(admin_email).await;
        let (status, body) = self
            .post(&format!("/studios/{studio_id}/admins"), Some(&platform.token), json!({"email": admin_email}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (studio_id, admin)
    }
}

pub fn session(tokens: &Value) -> Session {
    Session {
        user_id: tokens["user"]["id"].as_i64().expect("user id"),
        token: tokens["access_token"].as_str().expect("access token").to_owned(),
        refresh_token: tokens["refresh_token"].as_str().expect("refresh token").to_owned(),
    }
}
