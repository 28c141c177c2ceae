//! The embedded storage adapter: HotHour's ports on a SQLite file. The
//! adapter body is `hothour-infra-sql`'s [`SqlStore`]; this crate is its
//! SQLite dialect, which keeps the PostgreSQL adapter's promises with
//! SQLite's means:
//!
//! * **One writer at a time.** sea-orm drops `FOR UPDATE` on SQLite, so row
//!   locks are replaced by one process-wide write turn (a Tokio mutex shared
//!   by every clone of the store). Every write, from a one-statement update to
//!   a whole locked decision, holds it from `BEGIN IMMEDIATE` to `COMMIT`;
//!   reads never take it and run concurrently on the pool (WAL mode). A write
//!   that waits longer than [`SqliteConfig::lock_timeout`] answers
//!   [`DomainError::Busy`]; background sweeps skip when a write is under way.
//! * **Exact values.** Money is stored as integer cents and time as integer
//!   microseconds since the Unix epoch, never through a float.
//! * **Constraints back the rules.** The schema's partial unique indexes,
//!   `CHECK`s and foreign keys hold the invariants; a violation becomes the
//!   domain error the rule would have returned.
//! * **An in-process bus.** After each commit that wrote outbox events, the
//!   range of their sequence numbers is sent on a broadcast channel
//!   ([`SqlStore::listen`]), the way the PostgreSQL adapter NOTIFYs it.
//!
//! The store does not migrate the schema: run `hothour_migrations::Migrator`
//! on [`SqlStore::connection`] first.

mod dialect;
mod error;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hothour_domain::{Cause, DomainError};
pub use hothour_infra_sql::{Heard, SqlStore};
use sea_orm::SqlxSqliteConnector;
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{Mutex, broadcast};

use crate::dialect::Sqlite;

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

/// Opens (creating it, and its directory, when missing) the database in
/// `config`, in WAL mode with foreign keys enforced and a busy timeout.
pub async fn connect(config: &SqliteConfig) -> Result<SqlStore, DomainError> {
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
    let pool = pool.connect_with(options).await.map_err(|e| DomainError::Storage(Cause::new(e)))?;
    let (bus, _) = broadcast::channel(config.bus_capacity.max(1));
    let dialect = Sqlite { write_turn: Arc::new(Mutex::new(())), lock_timeout: config.lock_timeout, bus };
    Ok(SqlStore::new(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool), Arc::new(dialect)))
}

/// Reads a `sqlite:` URL, or takes anything else as a file path.
fn connect_options(path_or_url: &str) -> Result<SqliteConnectOptions, DomainError> {
    if path_or_url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(path_or_url)
            .map_err(|e| DomainError::validation("DATABASE_URL", &format!("is not a valid SQLite URL: {e}")))
    } else {
        Ok(SqliteConnectOptions::new().filename(path_or_url))
    }
}

/// Creates the directory a database file goes in, when it is missing.
fn create_parent_dir(file: &Path) -> Result<(), DomainError> {
    let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::create_dir_all(parent).map_err(DomainError::storage)
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
