//! The HotHour app on a random port over its own fresh database, with a
//! clock the test moves, and small helpers for talking to it over HTTP.

use std::net::TcpListener;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hothour_api::clock::TestClock;
use hothour_api::live::hub::Hub;
use hothour_api::{AppState, AppStore, Config, connect_and_migrate, start};
use hothour_domain::Role;
use hothour_domain::account::NewUser;
use hothour_domain::ports::AccountStore;
use reqwest::{Method, StatusCode};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};

use crate::pg::TestDb;

pub const PASSWORD: &str = "correct horse battery";

/// Which storage adapter a test app runs on. Every behaviour is tested on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Runs each listed test once on PostgreSQL and once on SQLite, as
/// `name::postgres` and `name::sqlite`:
///
/// ```ignore
/// on_both_stores! {
///     async fn grabs_once(backend) {
///         let app = TestApp::spawn_on(backend).await;
///         …
///     }
/// }
/// ```
#[macro_export]
macro_rules! on_both_stores {
    ($($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block)*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($backend: $crate::app::Backend) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::app::Backend::Postgres).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::app::Backend::Sqlite).await
                }
            }
        )*
    };
}

/// Where a test app keeps its data: a PostgreSQL database of its own, or a
/// SQLite file in a directory removed when the last instance is dropped.
pub enum TestData {
    Postgres(TestDb),
    Sqlite(TempDir),
}

/// A directory removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub clock: TestClock,
    pub store: AppStore,
    pub backend: Backend,
    pub hub: Arc<Hub>,
    pub state: Arc<AppState>,
    pub server: actix_web::dev::ServerHandle,
    /// The database, shared by every instance on it and removed after the last.
    pub data: Arc<TestData>,
    pub db_url: String,
    /// The configuration variables it was started with beyond the defaults.
    pub vars: Vec<(String, String)>,
    /// Where its email goes without an `SMTP_URL` (shared by its instances).
    pub mail_dir: Arc<TempDir>,
}

/// A signed-in user: their id and access token.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub token: String,
    pub refresh_token: String,
}

impl TestApp {
    /// The app on the given store, with generous rate limits and a cheap bcrypt cost.
    pub async fn spawn_on(backend: Backend) -> TestApp {
        TestApp::spawn_on_with(backend, &[]).await
    }

    /// The app on the given store with extra configuration variables.
    pub async fn spawn_on_with(backend: Backend, vars: &[(&str, &str)]) -> TestApp {
        let (data, url) = match backend {
            Backend::Postgres => {
                let db = TestDb::new().await;
                let url = db.url.clone();
                (TestData::Postgres(db), url)
            }
            Backend::Sqlite => {
                let dir = TempDir::new("hothour-test");
                let url = format!("sqlite://{}/hothour.db", dir.0.display());
                (TestData::Sqlite(dir), url)
            }
        };
        let clock = TestClock::new(chrono::SubsecRound::trunc_subsecs(Utc::now(), 6));
        let mail_dir = Arc::new(TempDir::new("hothour-mail"));
        let app = TestApp::spawn_instance(url, Arc::new(data), mail_dir, clock, vars).await;
        assert_eq!(app.backend, backend, "the database URL chose the other store");
        app
    }

    /// Another instance of the service on this app's database and clock
    /// (PostgreSQL only: SQLite instances do not share live updates).
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(&[]).await
    }

    /// Another instance with extra configuration variables (PostgreSQL only).
    pub async fn another_instance_with(&self, vars: &[(&str, &str)]) -> TestApp {
        assert_eq!(self.backend, Backend::Postgres, "several instances need PostgreSQL");
        TestApp::spawn_instance(self.db_url.clone(), self.data.clone(), self.mail_dir.clone(), self.clock.clone(), vars)
            .await
    }

    /// The state of another instance on this app's data, clock and
    /// configuration, not serving and running no jobs of its own: a test
    /// drives it (e.g. `hothour_api::jobs::run_once`). Works on both stores.
    pub async fn another_state(&self) -> AppState {
        let vars: Vec<(&str, &str)> = self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let config = test_config(&self.db_url, &self.mail_dir, &vars);
        let store = connect_and_migrate(&config).await.expect("database");
        AppState::with_clock(store, config, Arc::new(self.clock.clone())).await.expect("state")
    }

    /// A new instance on this app's data, clock and configuration, as after a
    /// restart (stop this one first).
    pub async fn restarted(&self) -> TestApp {
        let vars: Vec<(&str, &str)> = self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        TestApp::spawn_instance(
            self.db_url.clone(),
            self.data.clone(),
            self.mail_dir.clone(),
            self.clock.clone(),
            &vars,
        )
        .await
    }

    async fn spawn_instance(
        db_url: String,
        data: Arc<TestData>,
        mail_dir: Arc<TempDir>,
        clock: TestClock,
        vars: &[(&str, &str)],
    ) -> TestApp {
        hothour_api::install_crypto_provider();
        let config = test_config(&db_url, &mail_dir, vars);
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let store = connect_and_migrate(&config).await.expect("database");
        let backend = match store.backend_name() {
            "postgres" => Backend::Postgres,
            _ => Backend::Sqlite,
        };
        let listener = TcpListener::bind(&config.bind).expect("bind a random port");
        let state = AppState::with_clock(store.clone(), config, Arc::new(clock.clone())).await.expect("state");
        let running = start(listener, state).expect("server");
        let server = running.server.handle();
        let hub = running.hub.clone();
        let state = running.state.clone();
        tokio::spawn(running.server);
        // Tests run against the instance as it serves once started: hearing
        // every commit, with reads answered from its read model.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !state.services.read_model().following() {
            assert!(std::time::Instant::now() < deadline, "the fan-out never caught up with the outbox");
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        TestApp {
            state,
            base_url: format!("http://127.0.0.1:{}", running.port),
            client: reqwest::Client::builder().pool_max_idle_per_host(400).build().expect("client"),
            clock,
            store,
            backend,
            hub,
            server,
            data,
            db_url,
            vars,
            mail_dir,
        }
    }

    /// The database connection under the store, for checking invariants in SQL.
    pub fn connection(&self) -> &DatabaseConnection {
        self.store.connection()
    }

    /// Runs a query that answers one integer (write it in SQL both stores read).
    pub async fn sql_i64(&self, sql: &str) -> i64 {
        let backend = match self.backend {
            Backend::Postgres => DbBackend::Postgres,
            Backend::Sqlite => DbBackend::Sqlite,
        };
        let row = self
            .connection()
            .query_one_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .expect("the query runs")
            .expect("a row");
        row.try_get_by_index::<i64>(0).expect("an integer")
    }

    /// Another connection holding the lock the service needs for `table`'s
    /// row `id` until the returned transaction ends: the row lock on
    /// PostgreSQL, SQLite's single write lock on SQLite.
    pub async fn hold_row_lock(&self, table: &str, id: i64) -> DatabaseTransaction {
        let db = Database::connect(self.db_url.as_str()).await.expect("another connection");
        match self.backend {
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

    /// Runs a statement (write it in SQL both stores read).
    pub async fn sql_execute(&self, sql: &str) {
        let backend = match self.backend {
            Backend::Postgres => DbBackend::Postgres,
            Backend::Sqlite => DbBackend::Sqlite,
        };
        self.connection()
            .execute_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .expect("the statement runs");
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
                locale: Default::default(),
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
        self.appoint(platform, studio_id, &admin, admin_email).await;
        (studio_id, admin)
    }

    /// Makes `user`, signed in with `email`, studio `studio_id`'s admin as a
    /// person does: `platform` invites the address, the token is read from
    /// the invitation as delivered, and `user` accepts it. Answers the
    /// accepted user.
    pub async fn appoint(&self, platform: &Session, studio_id: i64, user: &Session, email: &str) -> Value {
        let (status, invitation) =
            self.post(&format!("/studios/{studio_id}/admins"), Some(&platform.token), json!({"email": email})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{invitation}");
        let token = self.emailed_token(email, "/invitations/accept").await;
        let (status, accepted) = self.post("/invitations/accept", Some(&user.token), json!({"token": token})).await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        accepted
    }

    /// Every message this app (and its other instances) delivered so far:
    /// to the test's SMTP server its `SMTP_URL` names, else to its mail folder.
    pub fn delivered(&self) -> Vec<Vec<u8>> {
        let smtp = self.vars.iter().find(|(name, _)| name == "SMTP_URL").map(|(_, url)| url.as_str());
        match smtp {
            Some(url) => crate::smtp::received_at(url).expect("an SmtpServer of this test at SMTP_URL"),
            None => crate::smtp::read_eml_dir(&self.mail_dir.0).into_iter().map(|(_, raw)| raw).collect(),
        }
    }

    /// The token of the newest link to `path` (`/verify`, `/reset`,
    /// `/invitations/accept`) in a message delivered to `address`, as a
    /// person reads it: the sender runs until it is there.
    pub async fn emailed_token(&self, address: &str, path: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Err(error) = hothour_api::mail::send_due(&self.state).await {
                eprintln!("sending mail: {error}");
            }
            if let Some(token) = crate::smtp::newest_token(&self.delivered(), address, path) {
                return token;
            }
            assert!(std::time::Instant::now() < deadline, "no {path} link reached {address}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// A test app's configuration: generous rate limits, a cheap bcrypt cost,
/// email to files in `mail_dir`, and `vars` over those.
fn test_config(db_url: &str, mail_dir: &TempDir, vars: &[(&str, &str)]) -> Config {
    let defaults = [
        ("DATABASE_URL", db_url.to_owned()),
        ("BIND", "127.0.0.1:0".into()),
        ("BCRYPT_COST", "4".into()),
        ("RATE_LIMIT_AUTH_PER_MINUTE", "100000".into()),
        ("RATE_LIMIT_BOOKING_PER_MINUTE", "100000".into()),
        ("RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE", "100000".into()),
        ("RATE_LIMIT_LOGIN_PER_CLIENT_PER_MINUTE", "100000".into()),
        ("RATE_LIMIT_LOGIN_PER_DEVICE_PER_MINUTE", "100000".into()),
        ("RATE_LIMIT_PASSWORD_PER_MINUTE", "100000".into()),
        ("RATE_LIMIT_WRITES_PER_MINUTE", "100000".into()),
        ("DB_MAX_CONNECTIONS", "20".into()),
        // Stampedes of hundreds of requests on a loaded CI machine may queue for a
        // connection longer than the production default; the outage tests in
        // crates/api/tests/faults.rs run with the default.
        ("DB_ACQUIRE_TIMEOUT_MS", "5000".into()),
        ("MAIL_DIR", mail_dir.0.display().to_string()),
    ];
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| defaults.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
    })
    .expect("test configuration")
}

pub fn session(tokens: &Value) -> Session {
    Session {
        user_id: tokens["user"]["id"].as_i64().expect("user id"),
        token: tokens["access_token"].as_str().expect("access token").to_owned(),
        refresh_token: tokens["refresh_token"].as_str().expect("refresh token").to_owned(),
    }
}
