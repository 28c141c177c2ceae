//! PostgreSQL's side of what differs: `NUMERIC` money, `timestamptz`
//! instants, `jsonb`, `INTEGER` counts, row locks, sequences, and commits
//! announced by the outbox relay.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hothour_domain::{DomainError, Money};
use hothour_infra_sql::{BoxFuture, CommitFeed, Dialect, LockMode, RowLock, Write, corrupt};
use rust_decimal::Decimal;
use sea_orm::{DatabaseConnection, DbBackend, DbErr, QueryResult, TransactionTrait, TryGetable, Value};

use crate::error::map_db_err;
use crate::listener::Listener;
use crate::nats::Nats;
use crate::relay::{Relay, RelayState};

#[derive(Debug)]
pub(crate) struct Postgres {
    /// Where the LISTEN connection goes.
    pub(crate) url: String,
    /// The store's pool, looked at to tell a surge from an outage.
    pub(crate) pool: DatabaseConnection,
    pub(crate) max_connections: u32,
    pub(crate) relay: Arc<RelayState>,
    /// Where the relay publishes and instances consume, instead of NOTIFY/LISTEN.
    pub(crate) nats: Option<Arc<Nats>>,
}

fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, DomainError> {
    row.try_get::<T>("", column).map_err(|e| corrupt(column, e))
}

impl Postgres {
    /// Tells a surge from an outage. No connection within the acquire timeout
    /// maps to `Unavailable`; when every connection of the pool is at work,
    /// the server is fine and merely busy (retry shortly), whereas a pool with
    /// room for a new connection that could not make one means the server is
    /// out of reach.
    fn refine(&self, error: DomainError) -> DomainError {
        let pool = self.pool.get_postgres_connection_pool();
        let saturated = pool.num_idle() == 0 && pool.size() >= self.max_connections;
        match error {
            DomainError::Unavailable if saturated => DomainError::Busy,
            other => other,
        }
    }
}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    fn opt_money(&self, amount: Option<Money>) -> Value {
        amount.map(Money::amount).into()
    }

    fn opt_time(&self, at: Option<DateTime<Utc>>) -> Value {
        at.into()
    }

    fn json(&self, value: &serde_json::Value) -> Value {
        value.clone().into()
    }

    fn json_from_text(&self, param: &str) -> String {
        format!("CAST({param} AS JSONB)")
    }

    fn int(&self, n: i64) -> Value {
        // Counts are bounded far below i32::MAX by the rules; saturate anyway.
        i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX }).into()
    }

    fn read_money(&self, row: &QueryResult, column: &str) -> Result<Option<Money>, DomainError> {
        get::<Option<Decimal>>(row, column)?
            .map(|amount| Money::from_decimal(amount).map_err(|e| corrupt(column, e)))
            .transpose()
    }

    fn read_time(&self, row: &QueryResult, column: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
        get(row, column)
    }

    fn read_json(&self, row: &QueryResult, column: &str) -> Result<serde_json::Value, DomainError> {
        get(row, column)
    }

    fn read_int(&self, row: &QueryResult, column: &str) -> Result<Option<i64>, DomainError> {
        Ok(get::<Option<i32>>(row, column)?.map(i64::from))
    }

    fn minor_units_sql(&self, money: &str) -> String {
        // NUMERIC(12, 2) times 100 is a whole number: the cast is exact.
        format!("CAST({money} * 100 AS BIGINT)")
    }

    fn joins_writes(&self) -> bool {
        true
    }

    fn lock_clause(&self, lock: RowLock) -> &'static str {
        match lock {
            RowLock::Update(LockMode::Wait) => "FOR UPDATE",
            RowLock::Update(LockMode::Skip) => "FOR UPDATE SKIP LOCKED",
            // Leaves inserts that refer to the row unblocked.
            RowLock::NoKeyUpdate => "FOR NO KEY UPDATE",
        }
    }

    fn next_reservation_id_sql(&self) -> &'static str {
        "nextval('reservations_id_seq')"
    }

    fn fresh_reservation_ids_sql(&self) -> String {
        "SELECT nextval('reservations_id_seq') AS id FROM generate_series(1, $1) ORDER BY 1".to_owned()
    }

    fn lead_reached_sql(&self, ends_at: &str, lead_seconds: &str, now: &str) -> String {
        // Compared in exact numeric seconds: timestamp arithmetic would fail
        // the whole query on one row's absurd lead.
        format!("extract(epoch FROM {ends_at}) - {lead_seconds} <= extract(epoch FROM {now})")
    }

    fn lapsed_holds_sql(&self, events: &str, now: &str) -> String {
        // `event_id + 0` keeps the planner off the indexes that lead with
        // `event_id`: a busy event's holds outgrow its statistics within
        // seconds, and PostgreSQL then picks an index that walks all of them
        // (measured: 8 ms per batch at 20,000 holds). Unswept lapsed holds
        // are few, for every event together.
        format!("status = 'HOLD' AND expires_at <= {now} AND event_id + 0 IN ({events})")
    }

    fn begin<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        _: LockMode,
    ) -> BoxFuture<'a, Result<Option<Write>, DomainError>> {
        // Row locks do the waiting (or skipping); the transaction starts at once.
        Box::pin(async move {
            let txn = db.begin().await.map_err(|e| self.map_error(e, None))?;
            Ok(Some(Write::new(txn, None)))
        })
    }

    fn announce_committed(&self, _first: i64, _last: i64) {
        // The relay announces it; if it runs here, it need not wait for its poll.
        self.relay.wake();
    }

    fn relayed(&self) -> bool {
        true
    }

    fn relay(&self) -> Option<BoxFuture<'static, ()>> {
        Some(Box::pin(Relay { url: self.url.clone(), state: self.relay.clone(), nats: self.nats.clone() }.run()))
    }

    fn leads_relay(&self) -> bool {
        self.relay.leading()
    }

    fn listen(&self) -> BoxFuture<'_, Result<Box<dyn CommitFeed>, DomainError>> {
        Box::pin(async move {
            match &self.nats {
                Some(nats) => nats.follow().await.map(|feed| Box::new(feed) as Box<dyn CommitFeed>),
                None => Listener::connect(&self.url).await.map(|l| Box::new(l) as Box<dyn CommitFeed>),
            }
        })
    }

    fn map_error(&self, error: DbErr, _referencing: Option<&'static str>) -> DomainError {
        // PostgreSQL names the violated foreign key itself.
        self.refine(map_db_err(error))
    }
}
