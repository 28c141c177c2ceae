//! The embedded storage adapter: HotHour's ports on a SQLite file.
//!
//! It keeps the same promises as the PostgreSQL adapter with SQLite's means:
//!
//! * **One writer at a time.** sea-orm drops `FOR UPDATE` on SQLite, so row
//!   locks are replaced by one process-wide write lock (a Tokio mutex shared
//!   by every clone of the store). Every write, from a one-statement update to
//!   a whole locked decision, holds it from `BEGIN IMMEDIATE` to `COMMIT`;
//!   reads never take it and run concurrently on the pool (WAL mode). A write
//!   that waits longer than [`SqliteConfig::lock_timeout`] answers
//!   [`DomainError::Busy`]; background sweeps use `try_with_*_locked`, which
//!   answer `None` at once when a write is under way.
//! * **Exact values.** Money is stored as integer cents and time as integer
//!   microseconds since the Unix epoch, never through a float.
//! * **Constraints back the rules.** The schema's partial unique indexes,
//!   `CHECK`s and foreign keys hold the invariants; a violation becomes the
//!   domain error the rule would have returned.
//! * **An in-process bus.** After each commit that wrote outbox events, the
//!   range of their sequence numbers is sent on a broadcast channel
//!   ([`SqliteStore::subscribe_outbox`]), the way the PostgreSQL adapter
//!   NOTIFYs it.
//!
//! The store does not migrate the schema: run `hothour_migrations::Migrator`
//! on [`SqliteStore::connection`] first.

mod accounts;
mod auctions;
mod error;
mod events;
mod idempotency;
mod outbox;
mod persist;
mod queries;
mod reservations;
mod rows;
mod tokens;
mod values;
mod writer;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hothour_domain::ports::BookingCodes;
use hothour_domain::{BookingCode, DomainError};
use hothour_infra_sql::CodeSource;
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, SqlxSqliteConnector, Statement, Value};
use tokio::sync::{Mutex, broadcast};

use crate::error::map_db_err;

/// How the adapter opens its database and how long a write waits for its turn.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// A file path (`data/hothour.db`) or a `sqlite:` URL (`sqlite://data/hothour.db?mode=rwc`).
    pub path_or_url: String,
    /// Connections in the pool; reads use them concurrently, writes one at a time.
    pub max_connections: u32,
    /// How long a write waits for the write lock (and SQLite for a lock held
    /// by another process) before answering `busy`.
    pub lock_timeout: Duration,
    pub acquire_timeout: Duration,
    /// How many committed ranges the outbox bus buffers for a slow subscriber.
    pub bus_capacity: usize,
}

impl SqliteConfig {
    pub fn new(path_or_url: impl Into<String>) -> SqliteConfig {
        SqliteConfig {
            path_or_url: path_or_url.into(),
            max_connections: 8,
            lock_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            bus_capacity: 1024,
        }
    }
}

/// The SQLite store; cheap to clone (clones share the pool, the write lock and the bus).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: DatabaseConnection,
    /// Held by every write from `BEGIN` to `COMMIT`: SQLite has one writer.
    write_lock: Arc<Mutex<()>>,
    lock_timeout: Duration,
    /// Committed outbox ranges `(first_seq, last_seq)`, in commit order.
    bus: broadcast::Sender<(i64, i64)>,
    codes: CodeSource,
}

impl SqliteStore {
    /// Opens (creating it, and its directory, when missing) the database in
    /// `config`, in WAL mode with foreign keys enforced and a busy timeout.
    pub async fn connect(config: &SqliteConfig) -> Result<SqliteStore, DomainError> {
        let mut options = connect_options(&config.path_or_url)?;
        let in_memory = config.path_or_url.contains(":memory:") || config.path_or_url.contains("mode=memory");
        if !in_memory {
            create_parent_dir(options.get_filename())?;
        }
        options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(config.lock_timeout)
            .disable_statement_logging();
        let mut pool = SqlitePoolOptions::new().acquire_timeout(config.acquire_timeout);
        pool = if in_memory {
            // An in-memory database lives as long as its one connection, kept
            // open for good. Reads then wait for it, which is safe because no
            // write transaction ever uses the pool.
            pool.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            pool.max_connections(config.max_connections.max(1))
        };
        let pool = pool
            .connect_with(options)
            .await
            .map_err(|e| DomainError::storage_message(format!("cannot open {}: {e}", config.path_or_url)))?;
        let (bus, _) = broadcast::channel(config.bus_capacity.max(1));
        Ok(SqliteStore {
            db: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
            write_lock: Arc::new(Mutex::new(())),
            lock_timeout: config.lock_timeout,
            bus,
            codes: CodeSource::default(),
        })
    }

    /// This store drawing booking codes from `codes` instead of the CSPRNG
    /// (tests script collisions with it).
    pub fn with_booking_codes(mut self, codes: Arc<dyn BookingCodes>) -> SqliteStore {
        self.codes = CodeSource::new(codes);
        self
    }

    /// The store's connection (a pool), for migrations and tests. Writing
    /// through it bypasses the write lock: do so only before the store is in use.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Committed outbox ranges, as the PostgreSQL adapter's `LISTEN` hears them.
    ///
    /// After every commit that wrote outbox events, `(first_seq, last_seq)` of
    /// those events is sent, in commit order; read them with
    /// [`OutboxStore::events_between`](hothour_domain::ports::OutboxStore::events_between).
    /// Only commits after this call are received. A receiver that falls more
    /// than [`SqliteConfig::bus_capacity`] ranges behind gets
    /// [`RecvError::Lagged`](tokio::sync::broadcast::error::RecvError::Lagged)
    /// and should catch up with
    /// [`OutboxStore::events_after`](hothour_domain::ports::OutboxStore::events_after)
    /// from the last sequence number it handled.
    pub fn subscribe_outbox(&self) -> broadcast::Receiver<(i64, i64)> {
        self.bus.subscribe()
    }

    /// Identifies this database's event stream: when the schema was first
    /// applied. A client holding sequence numbers from another stream must
    /// take a fresh snapshot.
    pub async fn stream_epoch(&self) -> Result<i64, DomainError> {
        let row = query_one(&self.db, "SELECT COALESCE(MIN(applied_at), 0) AS epoch FROM seaql_migrations", []).await?;
        row.map_or(Ok(0), |row| rows::i64_column(&row, "epoch"))
    }

    /// Answers whether the database takes queries now.
    pub async fn ping(&self) -> Result<(), DomainError> {
        self.db.ping().await.map_err(map_db_err)
    }
}

impl BookingCodes for SqliteStore {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError> {
        self.codes.draw()
    }
}

/// Reads a `sqlite:` URL, or takes anything else as a file path.
fn connect_options(path_or_url: &str) -> Result<SqliteConnectOptions, DomainError> {
    if path_or_url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(path_or_url)
            .map_err(|e| DomainError::storage_message(format!("invalid SQLite URL {path_or_url}: {e}")))
    } else {
        Ok(SqliteConnectOptions::new().filename(path_or_url))
    }
}

/// Creates the directory a database file goes in, when it is missing.
fn create_parent_dir(file: &Path) -> Result<(), DomainError> {
    let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::create_dir_all(parent)
        .map_err(|e| DomainError::storage_message(format!("cannot create {}: {e}", PathBuf::from(parent).display())))
}

pub(crate) fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

pub(crate) async fn query_one(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Option<sea_orm::QueryResult>, DomainError> {
    conn.query_one_raw(stmt(sql, values)).await.map_err(map_db_err)
}

pub(crate) async fn query_all(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<sea_orm::QueryResult>, DomainError> {
    conn.query_all_raw(stmt(sql, values)).await.map_err(map_db_err)
}

pub(crate) async fn execute(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<u64, DomainError> {
    conn.execute_raw(stmt(sql, values)).await.map(|r| r.rows_affected()).map_err(map_db_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_are_both_accepted() {
        let path = connect_options("data/hothour.db").unwrap();
        assert_eq!(path.get_filename(), Path::new("data/hothour.db"));
        let url = connect_options("sqlite://data/hothour.db?mode=rwc").unwrap();
        assert_eq!(url.get_filename(), Path::new("data/hothour.db"));
    }
}
