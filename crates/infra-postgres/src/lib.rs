//! The production storage adapter: HotHour's ports on PostgreSQL.
//!
//! Every use case runs in one transaction that locks its parent row (the
//! auction or the event) with `SELECT … FOR UPDATE`, then the rows under it,
//! runs the domain's decision, writes the changes, their domain events (to the
//! outbox) and audit entries, and commits. A row locked longer than
//! `lock_timeout` answers [`DomainError::Busy`](hothour_domain::DomainError::Busy).

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

use std::sync::Arc;
use std::time::Duration;

use hothour_domain::ports::BookingCodes;
use hothour_domain::{BookingCode, DomainError};
use hothour_infra_sql::CodeSource;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait, Value,
};

use crate::error::map_db_err;
pub use crate::outbox::{Heard, OutboxListener};

/// How the adapter connects and how long it waits for a locked row.
#[derive(Debug, Clone)]
pub struct PgConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a transaction waits for a row lock before answering `busy`.
    pub lock_timeout: Duration,
    pub acquire_timeout: Duration,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> PgConfig {
        PgConfig {
            url: url.into(),
            max_connections: 16,
            lock_timeout: Duration::from_secs(2),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The PostgreSQL store; cheap to clone (it shares one pool).
#[derive(Debug, Clone)]
pub struct PgStore {
    db: DatabaseConnection,
    max_connections: u32,
    codes: CodeSource,
}

impl PgStore {
    pub async fn connect(config: &PgConfig) -> Result<PgStore, DomainError> {
        let lock_timeout_ms = config.lock_timeout.as_millis().to_string();
        let mut options = ConnectOptions::new(config.url.clone());
        options
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .sqlx_logging(false)
            .map_sqlx_postgres_opts(move |pg| pg.options([("lock_timeout", lock_timeout_ms.as_str())]));
        let db = Database::connect(options).await.map_err(map_db_err)?;
        Ok(PgStore { db, max_connections: config.max_connections, codes: CodeSource::default() })
    }

    /// Creates the database named in `url` when the server does not have it
    /// yet, so a fresh machine needs no manual `CREATE DATABASE`.
    pub async fn ensure_database(url: &str) -> Result<(), DomainError> {
        let Some((server, name)) = split_database(url) else {
            return Ok(());
        };
        let maintenance = format!("{server}/postgres");
        let db = Database::connect(maintenance).await.map_err(map_db_err)?;
        let exists = query_one(&db, "SELECT 1 AS present FROM pg_database WHERE datname = $1", [name.clone().into()])
            .await?
            .is_some();
        if !exists {
            let quoted = name.replace('"', "\"\"");
            // Another instance may create it at the same moment; that is fine.
            let _ = db.execute_unprepared(&format!("CREATE DATABASE \"{quoted}\"")).await;
        }
        let _ = db.close().await;
        Ok(())
    }

    pub fn from_connection(db: DatabaseConnection) -> PgStore {
        let max_connections = db.get_postgres_connection_pool().options().get_max_connections();
        PgStore { db, max_connections, codes: CodeSource::default() }
    }

    /// This store drawing booking codes from `codes` instead of the CSPRNG
    /// (tests script collisions with it).
    pub fn with_booking_codes(mut self, codes: Arc<dyn BookingCodes>) -> PgStore {
        self.codes = CodeSource::new(codes);
        self
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Identifies this database's event stream: when the schema was first
    /// applied. A client holding sequence numbers from another stream must
    /// take a fresh snapshot.
    pub async fn stream_epoch(&self) -> Result<i64, DomainError> {
        let row = query_one(&self.db, "SELECT COALESCE(MIN(applied_at), 0)::bigint AS epoch FROM seaql_migrations", [])
            .await?;
        row.map_or(Ok(0), |row| rows::i64_column(&row, "epoch"))
    }

    /// Answers whether the database takes queries now.
    pub async fn ping(&self) -> Result<(), DomainError> {
        self.db.ping().await.map_err(map_db_err)
    }

    async fn begin(&self) -> Result<DatabaseTransaction, DomainError> {
        self.db.begin().await.map_err(map_db_err)
    }

    /// Tells a surge from an outage. No connection within the acquire timeout
    /// maps to `Unavailable`; when every connection of the pool is at work,
    /// the server is fine and merely busy (retry shortly), whereas a pool with
    /// room for a new connection that could not make one means the server is
    /// out of reach.
    pub fn refine_error(&self, error: DomainError) -> DomainError {
        let pool = self.db.get_postgres_connection_pool();
        let saturated = pool.num_idle() == 0 && pool.size() >= self.max_connections;
        match error {
            DomainError::Unavailable if saturated => DomainError::Busy,
            other => other,
        }
    }
}

impl BookingCodes for PgStore {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError> {
        self.codes.draw()
    }
}

/// Splits `postgres://…/name?query` into the server part and `name`.
fn split_database(url: &str) -> Option<(String, String)> {
    let without_query = url.split('?').next()?;
    let scheme_end = without_query.find("://")? + 3;
    let slash = without_query[scheme_end..].find('/')? + scheme_end;
    let name = &without_query[slash + 1..];
    (!name.is_empty()).then(|| (without_query[..slash].to_owned(), name.to_owned()))
}

/// Commits after `body` succeeds, rolls back otherwise.
async fn finish<T>(txn: DatabaseTransaction, result: Result<T, DomainError>) -> Result<T, DomainError> {
    match result {
        Ok(value) => {
            txn.commit().await.map_err(map_db_err)?;
            Ok(value)
        }
        Err(error) => {
            // The error that ended the transaction matters more than a failed rollback.
            let _ = txn.rollback().await;
            Err(error)
        }
    }
}

pub(crate) fn stmt(sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
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
