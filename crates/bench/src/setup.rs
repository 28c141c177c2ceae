//! What every scenario needs: the database, users in bulk, a studio admin,
//! events and auctions, tokens, and small HTTP helpers.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use hothour_api::auth::TokenKeys;
use hothour_domain::UserId;
use reqwest::{Client, RequestBuilder};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value,
};
use serde_json::{Value as Json, json};

use crate::load::Outcome;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// bcrypt (cost 4) of `bench-password`: every bench user can also sign in by hand.
pub const PASSWORD_HASH: &str = "$2b$04$L7PXjYsXcxatYwQ4uUCddetXBUIIqaaF4uDbRXbMKwgkAW7.3J05y";

/// Live holds on another event that `Bench::history` starts a scenario with.
pub const HISTORY_HOLDS: i64 = 10_000;

/// Where the API's paths start on the server.
pub const API: &str = "/api/v1";

/// The server under test and its database.
pub struct Bench {
    pub base: String,
    pub api: String,
    pub db: DatabaseConnection,
    pub database_url: String,
    /// PostgreSQL or SQLite, from the database URL.
    pub backend: DbBackend,
    pub keys: TokenKeys,
    pub server_pid: Option<u32>,
    pub http: Client,
    /// Makes this run's emails unique, so runs can share a database.
    tag: String,
    broken: std::sync::atomic::AtomicBool,
}

/// A studio and its admin's token.
pub struct Admin {
    pub studio_id: i64,
    pub token: String,
}

/// Refuses anything but this machine: the tool only ever loads 127.0.0.1.
pub fn check_local(url: &str) -> Result<()> {
    let rest = url.split("://").nth(1).ok_or_else(|| format!("{url}: not a URL"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
    if host == "127.0.0.1" || host == "localhost" {
        Ok(())
    } else {
        Err(format!("{url}: the bench only runs against 127.0.0.1").into())
    }
}

impl Bench {
    pub async fn connect(base_url: &str, database_url: &str, secret: &str, server_pid: Option<u32>) -> Result<Bench> {
        check_local(base_url)?;
        let backend = if database_url.starts_with("sqlite:") { DbBackend::Sqlite } else { DbBackend::Postgres };
        if backend == DbBackend::Postgres {
            check_local(database_url)?;
        }
        let base = base_url.trim_end_matches('/').to_owned();
        let db = pool(database_url, 4).await?;
        let bench = Bench {
            api: format!("{base}{API}"),
            base,
            db,
            database_url: database_url.to_owned(),
            backend,
            keys: TokenKeys::new(secret, Duration::from_secs(3 * 3600), Duration::from_secs(3 * 3600)),
            server_pid,
            http: crate::load::client(),
            tag: format!("{}", Utc::now().timestamp_millis()),
            broken: Default::default(),
        };
        let ready = bench.http.get(format!("{}/health/ready", bench.base)).send().await?;
        if !ready.status().is_success() {
            return Err(format!("{}/health/ready answered {}", bench.base, ready.status()).into());
        }
        Ok(bench)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.api.replacen("http://", "ws://", 1))
    }

    pub async fn query(&self, sql: &str, values: Vec<Value>) -> Result<Vec<sea_orm::QueryResult>> {
        Ok(self.db.query_all_raw(Statement::from_sql_and_values(self.backend, sql, values)).await?)
    }

    async fn execute(&self, conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<()> {
        conn.execute_raw(Statement::from_sql_and_values(self.backend, sql, values)).await?;
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.backend == DbBackend::Sqlite
    }

    /// This instant as the store's timestamp columns hold it (SQLite: microseconds since the epoch).
    pub fn now(&self) -> Value {
        self.time(Utc::now())
    }

    fn time(&self, at: chrono::DateTime<Utc>) -> Value {
        if self.is_sqlite() { at.timestamp_micros().into() } else { at.into() }
    }

    /// An amount in whole units as the store's money columns hold it (SQLite: cents).
    fn money(&self, units: i64) -> Value {
        if self.is_sqlite() { (units * 100).into() } else { rust_decimal::Decimal::from(units).into() }
    }

    /// The `i64` columns of the first row (use `CAST(… AS BIGINT)` in the SQL).
    pub async fn row(&self, sql: &str, values: Vec<Value>, columns: &[&str]) -> Result<Vec<i64>> {
        let rows = self.query(sql, values).await?;
        let row = rows.first().ok_or("the query gave no row")?;
        columns.iter().map(|column| Ok(row.try_get::<i64>("", column)?)).collect()
    }

    /// What became of an auction: its live reservations (one at most), its
    /// cancelled ones, and whether it is stored as HELD.
    pub async fn auction_outcome(&self, auction: i64) -> Result<AuctionOutcome> {
        let row = self
            .row(
                "SELECT CAST((SELECT COUNT(*) FROM reservations WHERE auction_id = $1 \
                           AND status IN ('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW')) AS BIGINT) AS live, \
                        CAST((SELECT COUNT(*) FROM reservations WHERE auction_id = $1 AND status = 'CANCELLED') AS BIGINT) AS cancelled, \
                        CAST((SELECT COUNT(*) FROM auctions WHERE id = $1 AND status = 'HELD') AS BIGINT) AS held",
                vec![auction.into()],
                &["live", "cancelled", "held"],
            )
            .await?;
        Ok(AuctionOutcome { live: row[0], cancelled: row[1], held: row[2] == 1 })
    }

    /// `count` new users, each with a live one-seat hold on `event` for an hour, and the event's counters moved by as much.
    pub async fn pile_up(&self, event: i64, studio: i64, count: i64) -> Result<()> {
        let label = format!("pile-{}", Utc::now().timestamp_millis());
        let users = self.users(&label, count as usize).await?;
        let txn = self.db.begin().await?;
        let (now, price) = (Utc::now(), self.money(150));
        for chunk in users.chunks(1_000) {
            let rows: Vec<String> =
                (0..chunk.len()).map(|i| format!("('event', $1, ${}, $2, 'HOLD', 1, $3, $3, $4, $5)", i + 6)).collect();
            let sql = format!(
                "INSERT INTO reservations (kind, event_id, user_id, studio_id, status, quantity, unit_price, total_price, \
                 expires_at, created_at) VALUES {}",
                rows.join(", ")
            );
            let mut values = vec![
                event.into(),
                studio.into(),
                price.clone(),
                self.time(now + chrono::Duration::hours(1)),
                self.time(now),
            ];
            values.extend(chunk.iter().map(|id| Value::from(*id)));
            self.execute(&txn, &sql, values).await?;
        }
        let counters = "UPDATE events SET held_seats = held_seats + $2, held_count = held_count + $2 WHERE id = $1";
        self.execute(&txn, counters, vec![event.into(), count.into()]).await?;
        txn.commit().await?;
        if !self.is_sqlite() {
            self.db.execute_unprepared("ANALYZE reservations").await?;
        }
        Ok(())
    }

    /// A database with a past, as a running service's is: `HISTORY_HOLDS`
    /// live holds on an event of their own, then `ANALYZE`, as autovacuum
    /// does within a minute on a running database. A freshly created
    /// database has no statistics at all, and PostgreSQL then plans the
    /// lookup of a batch's users' live holds as a walk over all of the
    /// event's holds (measured: 8 ms per batch at 30,000 holds, instead of 0.1 ms).
    /// SQLite keeps no statistics, so it has no such past to start from.
    pub async fn history(&self, admin: &Admin) -> Result<()> {
        if self.is_sqlite() {
            return Ok(());
        }
        let past = self.event(admin, 1_000_000).await?;
        self.pile_up(past, admin.studio_id, HISTORY_HOLDS).await
    }

    /// Creates `n` users with one statement; their ids, in order.
    pub async fn users(&self, label: &str, n: usize) -> Result<Vec<i64>> {
        let sql = "WITH RECURSIVE g (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $3) \
                   INSERT INTO users (email, password_hash, full_name, role) \
                   SELECT 'bench-' || $1 || '-' || n || '@x.io', $2, 'Bench', 'user' FROM g \
                   RETURNING id";
        let prefix = format!("{}-{label}", self.tag);
        let rows = self.query(sql, vec![prefix.into(), PASSWORD_HASH.into(), (n as i64).into()]).await?;
        let mut ids =
            rows.iter().map(|row| row.try_get::<i64>("", "id")).collect::<std::result::Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        Ok(ids)
    }

    pub fn tokens(&self, ids: &[i64]) -> Vec<String> {
        ids.iter().map(|id| self.keys.access_token(UserId(*id), 0).expect("signing a token")).collect()
    }

    /// A studio and a studio admin, made in SQL; the admin's token.
    pub async fn admin(&self) -> Result<Admin> {
        let studio = "INSERT INTO studios (name, timezone) VALUES ($1, 'UTC') RETURNING id";
        let studio_id = self.row(studio, vec![format!("Bench studio {}", self.tag).into()], &["id"]).await?[0];
        let admin = "INSERT INTO users (email, password_hash, full_name, role, studio_id) \
                     VALUES ($1, $2, 'Bench admin', 'studio_admin', $3) RETURNING id";
        let email = format!("bench-{}-admin@x.io", self.tag);
        let ids = self.row(admin, vec![email.into(), PASSWORD_HASH.into(), studio_id.into()], &["id"]).await?;
        Ok(Admin { studio_id, token: self.tokens(&ids).remove(0) })
    }

    /// An event two days ahead, created over HTTP by the admin.
    pub async fn event(&self, admin: &Admin, capacity: i64) -> Result<i64> {
        let at = |hours: i64| (Utc::now() + chrono::Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let body = json!({
            "title": format!("Bench event ({capacity} seats)"), "capacity": capacity, "price": "150.00",
            "starts_at": at(48), "ends_at": at(50),
        });
        self.create("events", admin, body).await
    }

    /// An auction that started a minute ago and ends in two hours, created over HTTP by the admin.
    pub async fn auction(&self, admin: &Admin) -> Result<i64> {
        let at =
            |minutes: i64| (Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let body = json!({
            "title": "Bench slot", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
            "drop_interval_minutes": 60, "starts_at": at(-1), "ends_at": at(120), "scheduled_at": at(180),
        });
        self.create("auctions", admin, body).await
    }

    async fn create(&self, what: &str, admin: &Admin, body: Json) -> Result<i64> {
        let reply = send(self.http.post(format!("{}/{what}", self.api)).bearer_auth(&admin.token).json(&body)).await;
        match (reply.status, reply.body["id"].as_i64()) {
            (Some(201), Some(id)) => Ok(id),
            _ => Err(format!("creating {what}: {:?} {}", reply.status, reply.body).into()),
        }
    }

    /// Prints an invariant check; a broken one makes the run fail.
    pub fn check(&self, holds: bool, what: &str) {
        if holds {
            println!("  invariant ok: {what}");
        } else {
            println!("  INVARIANT BROKEN: {what}");
            self.broken.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn any_broken(&self) -> bool {
        self.broken.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The server's resident memory in kB (`VmRSS` in `/proc/<pid>/status`).
    pub fn server_rss_kb(&self) -> Option<u64> {
        rss_kb(self.server_pid?)
    }
}

pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub async fn pool(url: &str, connections: u32) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(connections).min_connections(1).sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

/// An answer: its status (`None` when none came) and its JSON body (`Null` if none).
pub struct Reply {
    pub status: Option<u16>,
    pub body: Json,
}

impl Reply {
    /// `201`, `409 insufficient_capacity`, or `no answer (…)`.
    pub fn label(&self) -> String {
        match (self.status, self.body["code"].as_str()) {
            (None, _) => format!("no answer ({})", self.body.as_str().unwrap_or("error")),
            (Some(status), Some(code)) if status >= 400 => format!("{status} {code}"),
            (Some(status), _) => status.to_string(),
        }
    }

    pub fn outcome(&self, ok_status: u16) -> Outcome {
        Outcome { label: self.label(), ok: self.status == Some(ok_status) }
    }
}

pub async fn send(request: RequestBuilder) -> Reply {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Json::Null);
            Reply { status: Some(status), body }
        }
        Err(error) => {
            let kind = if error.is_timeout() {
                "timeout"
            } else if error.is_connect() {
                "connect"
            } else {
                "transport"
            };
            Reply { status: None, body: Json::String(kind.into()) }
        }
    }
}

/// A hold of one seat on `event` for the user of `token`, on `conn`.
pub async fn hold_on(conn: &crate::conn::Conn, event: i64, token: &str) -> Reply {
    conn.post(&format!("{API}/events/{event}/holds"), token, Some(&json!({"quantity": 1}))).await
}

/// A hold of one seat on `event` for the user of `token`.
pub fn hold(client: &Client, api: &str, event: i64, token: &str) -> RequestBuilder {
    client.post(format!("{api}/events/{event}/holds")).bearer_auth(token).json(&json!({"quantity": 1}))
}

/// See [`Bench::auction_outcome`].
pub struct AuctionOutcome {
    pub live: i64,
    pub cancelled: i64,
    pub held: bool,
}

#[cfg(test)]
mod tests {
    use super::check_local;

    #[test]
    fn only_this_machine_is_loaded() {
        assert!(check_local("http://127.0.0.1:8080").is_ok());
        assert!(check_local("postgres://postgres@127.0.0.1:5432/hothour_bench").is_ok());
        assert!(check_local("postgres://postgres@localhost/x").is_ok());
        assert!(check_local("http://example.com:8080").is_err());
        assert!(check_local("postgres://u@10.0.0.1:5432/x").is_err());
    }
}
