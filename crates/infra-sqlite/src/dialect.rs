//! SQLite's side of what differs: integer cents and microseconds, text JSON,
//! one writer at a time instead of row locks, ids from the largest one ever
//! used, and an in-process bus for the live fan-out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hothour_domain::{DomainError, Money};
use hothour_infra_sql::{BoxFuture, CommitFeed, Dialect, Heard, LockMode, RowLock, Write, corrupt};
use sea_orm::{
    DatabaseConnection, DbBackend, DbErr, QueryResult, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    TryGetable, Value,
};
use tokio::sync::{Mutex, OwnedMutexGuard, broadcast};

use crate::error::map_db_err;

#[derive(Debug)]
pub(crate) struct Sqlite {
    /// Held by every write from `BEGIN` to `COMMIT`: SQLite has one writer.
    pub(crate) write_turn: Arc<Mutex<()>>,
    pub(crate) lock_timeout: Duration,
    /// Committed outbox ranges `(first_seq, last_seq)`, in commit order.
    pub(crate) bus: broadcast::Sender<(i64, i64)>,
}

fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, DomainError> {
    row.try_get::<T>("", column).map_err(|e| corrupt(column, e))
}

/// An instant as stored: microseconds since the Unix epoch (UTC), the
/// precision PostgreSQL keeps, exact and ordered like the instants.
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(column: &str, micros: i64) -> Result<DateTime<Utc>, DomainError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt(column, format!("{micros} is out of range")))
}

/// Stored cents back to money (sea-orm would read a SQLite decimal through
/// `f64` and lose exactness, so money is an `INTEGER` of minor units).
fn money_from_cents(column: &str, cents: i64) -> Result<Money, DomainError> {
    Money::from_minor_units(cents).map_err(|e| corrupt(column, e))
}

impl Sqlite {
    /// Takes the write turn, then opens a `BEGIN IMMEDIATE` transaction, which
    /// also takes SQLite's own write lock at once (waiting up to the busy
    /// timeout for another process holding it). Everything the transaction
    /// reads is then current until it commits: a decision made inside it is
    /// as safe as one made under a row lock. Inside it only its connection is
    /// used, never the pool, so even a pool of one connection cannot deadlock.
    async fn begin_write(&self, db: &DatabaseConnection, mode: LockMode) -> Result<Option<Write>, DomainError> {
        let turn: OwnedMutexGuard<()> = match mode {
            LockMode::Wait => tokio::time::timeout(self.lock_timeout, self.write_turn.clone().lock_owned())
                .await
                .map_err(|_| DomainError::Busy)?,
            LockMode::Skip => match self.write_turn.clone().try_lock_owned() {
                Ok(turn) => turn,
                Err(_) => return Ok(None),
            },
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = db.begin_with_options(options).await.map_err(|e| map_db_err(e, None))?;
        Ok(Some(Write::new(txn, Some(Box::new(turn)))))
    }
}

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    fn opt_money(&self, amount: Option<Money>) -> Value {
        amount.map(Money::minor_units).into()
    }

    fn opt_time(&self, at: Option<DateTime<Utc>>) -> Value {
        at.map(micros).into()
    }

    fn json(&self, value: &serde_json::Value) -> Value {
        value.to_string().into()
    }

    fn json_from_text(&self, param: &str) -> String {
        param.to_owned()
    }

    fn int(&self, n: i64) -> Value {
        n.into()
    }

    fn read_money(&self, row: &QueryResult, column: &str) -> Result<Option<Money>, DomainError> {
        get::<Option<i64>>(row, column)?.map(|cents| money_from_cents(column, cents)).transpose()
    }

    fn read_time(&self, row: &QueryResult, column: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
        get::<Option<i64>>(row, column)?.map(|micros| from_micros(column, micros)).transpose()
    }

    fn read_json(&self, row: &QueryResult, column: &str) -> Result<serde_json::Value, DomainError> {
        serde_json::from_str(&get::<String>(row, column)?).map_err(|e| corrupt(column, e))
    }

    fn read_int(&self, row: &QueryResult, column: &str) -> Result<Option<i64>, DomainError> {
        get(row, column)
    }

    fn minor_units_sql(&self, money: &str) -> String {
        // Stored in cents already.
        money.to_owned()
    }

    fn joins_writes(&self) -> bool {
        // SQLite has no data-modifying CTEs; its statements run in-process anyway.
        false
    }

    fn lock_clause(&self, _: RowLock) -> &'static str {
        // The write turn, held from BEGIN to COMMIT, is the lock.
        ""
    }

    fn next_reservation_id_sql(&self) -> &'static str {
        // Under the write turn "one more than any id ever used" is safe
        // (`sqlite_sequence` remembers ids even of rows that are gone).
        "(SELECT MAX(COALESCE((SELECT MAX(id) FROM reservations), 0), \
                     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'reservations'), 0)) + 1)"
    }

    fn fresh_reservation_ids_sql(&self) -> String {
        format!(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1) \
             SELECT {} + i - 1 AS id FROM seq ORDER BY i",
            self.next_reservation_id_sql()
        )
    }

    fn lead_reached_sql(&self, ends_at: &str, lead_seconds: &str, now: &str) -> String {
        format!("{ends_at} - {lead_seconds} * 1000000 <= {now}")
    }

    fn lapsed_holds_sql(&self, events: &str, now: &str) -> String {
        // SQLite keeps no statistics; it reaches these through
        // `reservations_event_holds (event_id, expires_at)`.
        format!("event_id IN ({events}) AND status = 'HOLD' AND expires_at <= {now}")
    }

    fn begin<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        mode: LockMode,
    ) -> BoxFuture<'a, Result<Option<Write>, DomainError>> {
        Box::pin(self.begin_write(db, mode))
    }

    fn announce_committed(&self, first: i64, last: i64) {
        // Nobody subscribed yet is fine: the outbox keeps the events.
        let _ = self.bus.send((first, last));
    }

    fn relayed(&self) -> bool {
        false
    }

    fn relay(&self) -> Option<BoxFuture<'static, ()>> {
        None
    }

    fn leads_relay(&self) -> bool {
        false
    }

    fn listen(&self) -> BoxFuture<'_, Result<Box<dyn CommitFeed>, DomainError>> {
        let feed = Bus(self.bus.subscribe());
        Box::pin(async move { Ok(Box::new(feed) as Box<dyn CommitFeed>) })
    }

    fn map_error(&self, error: DbErr, referencing: Option<&'static str>) -> DomainError {
        map_db_err(error, referencing)
    }
}

/// Committed ranges from the in-process bus. Only commits after subscribing
/// are received; a receiver that falls more than the bus capacity behind is
/// told to catch up from the outbox.
struct Bus(broadcast::Receiver<(i64, i64)>);

impl CommitFeed for Bus {
    fn recv(&mut self) -> BoxFuture<'_, Result<Heard, DomainError>> {
        Box::pin(async move {
            match self.0.recv().await {
                Ok((first, last)) => Ok(Heard::Range(first, last)),
                Err(broadcast::error::RecvError::Lagged(_)) => Ok(Heard::Reconnected),
                Err(broadcast::error::RecvError::Closed) => Err(DomainError::storage_message("the outbox bus closed")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn instants_round_trip_at_microsecond_precision() {
        let at = Utc.with_ymd_and_hms(2030, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::microseconds(123_456);
        assert_eq!(from_micros("at", micros(at)).unwrap(), at);
        let before_epoch = Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::microseconds(1);
        assert_eq!(from_micros("at", micros(before_epoch)).unwrap(), before_epoch);
        assert!(micros(at) < micros(at + chrono::Duration::microseconds(1)));
    }

    #[test]
    fn money_round_trips_through_cents() {
        for text in ["0.00", "0.10", "0.20", "149.90", "1234567.89", "9999999999.99"] {
            let amount = Money::parse(text).unwrap();
            assert_eq!(money_from_cents("price", amount.minor_units()).unwrap(), amount);
        }
        assert!(money_from_cents("price", -1).is_err());
    }
}
