//! The production storage adapter: HotHour's ports on PostgreSQL. The adapter
//! body is `hothour-infra-sql`'s [`SqlStore`]; this crate is its PostgreSQL
//! dialect: row locks (`SELECT … FOR UPDATE`, with `lock_timeout` answering
//! [`DomainError::Busy`](hothour_domain::DomainError::Busy)), `NUMERIC` money
//! and `timestamptz` instants, ids from sequences, SQLSTATE error mapping, and
//! the live fan-out: an outbox relay announcing commits with NOTIFY (outside
//! business transactions) and a LISTEN connection per instance — or, with
//! NATS configured, the relay publishing to JetStream and every instance
//! consuming from there.

mod dialect;
mod error;
mod listener;
mod nats;
mod relay;

use std::sync::Arc;
use std::time::Duration;

use hothour_domain::DomainError;
pub use hothour_infra_sql::{Heard, SqlStore};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};

use crate::dialect::Postgres;
pub use crate::listener::CHANNEL;
use crate::nats::Nats;
pub use crate::nats::{AFTER as NATS_AFTER_HEADER, NatsConfig};
pub use crate::relay::LEADER_LOCK as RELAY_LOCK;

/// How the adapter connects and how long it waits for a locked row.
#[derive(Debug, Clone)]
pub struct PgConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a transaction waits for a row lock before answering `busy`.
    pub lock_timeout: Duration,
    pub acquire_timeout: Duration,
    /// Announcements through NATS JetStream instead of NOTIFY/LISTEN.
    pub nats: Option<NatsConfig>,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> PgConfig {
        PgConfig {
            url: url.into(),
            max_connections: 16,
            lock_timeout: Duration::from_secs(2),
            acquire_timeout: Duration::from_secs(5),
            nats: None,
        }
    }
}

/// Statements each connection keeps prepared. A batch of holds over several
/// events writes statements whose text grows with the batch (an `IN` list,
/// a `VALUES` row per event), so a busy connection sees a few hundred
/// different ones; with sqlx's default of 100 they were parsed and planned
/// again and again (measured in BENCHMARKS.md, issue 25: 2–24 % more holds
/// per second with room for them all).
const STATEMENT_CACHE: usize = 400;

/// Connects to the (migrated) database in `config`.
///
/// Every statement is planned once per connection, when it is prepared, and
/// its plan kept (`plan_cache_mode = force_generic_plan`). By default
/// PostgreSQL plans a prepared statement's first five runs on a connection
/// for their parameter values before it settles on one plan; a batch's
/// statements vary with its size, so most ran fewer than five times on a
/// connection and were planned on every run: 12–19 % of PostgreSQL's CPU on
/// holds spread over many events (BENCHMARKS.md, issue 25). HotHour's
/// statements need no plan per value: each reaches its rows through an index
/// whatever the values (see `lapsed_holds_sql`).
pub async fn connect(config: &PgConfig) -> Result<SqlStore, DomainError> {
    let lock_timeout_ms = config.lock_timeout.as_millis().to_string();
    let mut options = ConnectOptions::new(config.url.clone());
    options
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(move |pg| {
            pg.options([("lock_timeout", lock_timeout_ms.as_str()), ("plan_cache_mode", "force_generic_plan")])
                .statement_cache_capacity(STATEMENT_CACHE)
        });
    let db = Database::connect(options).await.map_err(error::map_db_err)?;
    let nats = match &config.nats {
        Some(nats) => Some(Arc::new(Nats::connect(nats).await?)),
        None => None,
    };
    let dialect = Postgres {
        url: config.url.clone(),
        pool: db.clone(),
        max_connections: config.max_connections,
        relay: Arc::default(),
        nats,
    };
    Ok(SqlStore::new(db, Arc::new(dialect)))
}

/// Creates the database named in `url` when the server does not have it yet,
/// so a fresh machine needs no manual `CREATE DATABASE`.
pub async fn ensure_database(url: &str) -> Result<(), DomainError> {
    let Some((server, name)) = split_database(url) else {
        return Ok(());
    };
    let maintenance = format!("{server}/postgres");
    let db = Database::connect(maintenance).await.map_err(error::map_db_err)?;
    let exists = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS present FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await
        .map_err(error::map_db_err)?
        .is_some();
    if !exists {
        let quoted = name.replace('"', "\"\"");
        // Another instance may create it at the same moment; that is fine.
        let _ = db.execute_unprepared(&format!("CREATE DATABASE \"{quoted}\"")).await;
    }
    let _ = db.close().await;
    Ok(())
}

/// Splits `postgres://…/name?query` into the server part and `name`.
fn split_database(url: &str) -> Option<(String, String)> {
    let without_query = url.split('?').next()?;
    let scheme_end = without_query.find("://")? + 3;
    let slash = without_query[scheme_end..].find('/')? + scheme_end;
    let name = &without_query[slash + 1..];
    (!name.is_empty()).then(|| (without_query[..slash].to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::split_database;

    #[test]
    fn database_names_are_split_from_urls() {
        assert_eq!(
            split_database("postgres://u@h:5432/hothour?sslmode=disable"),
            Some(("postgres://u@h:5432".into(), "hothour".into()))
        );
        assert_eq!(split_database("postgres://u@h:5432"), None);
        assert_eq!(split_database("postgres://u@h:5432/"), None);
    }
}
