//! What differs between the SQL stores, and nothing else: how a value is
//! encoded and read back, how a unit is locked, how the next reservation id is
//! drawn, how a storage error reads in domain terms, and how commits are
//! announced to the live fan-out.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
pub use hothour_domain::ports::LockMode;
use hothour_domain::{DomainError, Money, StoredEvent};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, QueryResult, Value};

use crate::write::Write;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How strongly a row read inside a write is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// The row is about to change; others wait (or skip, with [`LockMode::Skip`]).
    Update(LockMode),
    /// Serialises writers of rows that refer to this one, without blocking
    /// inserts that merely reference it.
    NoKeyUpdate,
}

/// What the live fan-out heard from the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// Outbox events `first..=last` were committed. Where a relay announces
    /// (PostgreSQL), ranges follow each other, in id order, and every id up
    /// to `last` that is not in the outbox never will be.
    Range(i64, i64),
    /// Outbox event `event` was committed, carried by a broker (NATS), and
    /// every id after `after` and before `event.seq` is either announced
    /// before it or never will be in the outbox. Events follow each other
    /// in id order; one whose `after` was not heard means some were missed
    /// (they are in the outbox).
    Event { after: i64, event: StoredEvent },
    /// Announcements may have been missed (a lost connection, a lagging
    /// receiver): catch up from the outbox.
    Reconnected,
}

/// A stream of commit announcements.
pub trait CommitFeed: Send {
    fn recv(&mut self) -> BoxFuture<'_, Result<Heard, DomainError>>;
}

/// The dialect of one database. The adapter body (everything else in this
/// crate) is written once against it.
pub trait Dialect: Send + Sync + fmt::Debug + 'static {
    /// `"postgres"` or `"sqlite"`, for logs and metrics.
    fn name(&self) -> &'static str;
    fn backend(&self) -> DbBackend;

    /// An amount as its column stores it (a typed `NULL` for `None`).
    fn opt_money(&self, amount: Option<Money>) -> Value;
    /// An instant as its column stores it (a typed `NULL` for `None`).
    fn opt_time(&self, at: Option<DateTime<Utc>>) -> Value;
    /// A JSON document as its column stores it.
    fn json(&self, value: &serde_json::Value) -> Value;
    /// A parameter bound as a JSON document's text, read as the column's
    /// JSON type. Text is bound (and copied by the driver) at the cost of one
    /// allocation, where a document is a tree of them: the outbox takes four
    /// documents per hold.
    fn json_from_text(&self, param: &str) -> String;
    /// A small count (seats, quantities, statuses) as an `INTEGER` column stores it.
    fn int(&self, n: i64) -> Value;

    fn money(&self, amount: Money) -> Value {
        self.opt_money(Some(amount))
    }

    fn time(&self, at: DateTime<Utc>) -> Value {
        self.opt_time(Some(at))
    }

    fn read_money(&self, row: &QueryResult, column: &str) -> Result<Option<Money>, DomainError>;
    fn read_time(&self, row: &QueryResult, column: &str) -> Result<Option<DateTime<Utc>>, DomainError>;
    fn read_json(&self, row: &QueryResult, column: &str) -> Result<serde_json::Value, DomainError>;
    /// An `INTEGER` column (or an expression cast `AS INTEGER`).
    fn read_int(&self, row: &QueryResult, column: &str) -> Result<Option<i64>, DomainError>;

    /// An SQL expression giving the amount in money column `money` in minor
    /// units (cents), as an integer, for exact integer arithmetic on both stores.
    fn minor_units_sql(&self, money: &str) -> String;

    /// Whether one statement may carry several writes as data-modifying CTEs
    /// (`WITH w AS (INSERT …) UPDATE …`), so that a write's statements go to
    /// the database in one round trip (see `statements.rs`). A dialect that
    /// joins writes must name a violated foreign key in its errors: a joined
    /// statement has no one `referencing` parent.
    fn joins_writes(&self) -> bool;

    /// What follows a `SELECT` inside a write to lock the rows it reads.
    fn lock_clause(&self, lock: RowLock) -> &'static str;
    /// An SQL expression giving the id the next new reservation takes.
    fn next_reservation_id_sql(&self) -> &'static str;
    /// A query answering `$1` fresh reservation ids, one row each in column `id`, ascending.
    fn fresh_reservation_ids_sql(&self) -> String;
    /// An SQL condition: `ends_at` minus `lead_seconds` seconds is at or before `now`.
    fn lead_reached_sql(&self, ends_at: &str, lead_seconds: &str, now: &str) -> String;
    /// An SQL condition on `reservations`: the holds of `events` (a list of
    /// placeholders, joined with commas) that lapsed at or before `now`,
    /// written so that the planner reaches them through an expiry index and
    /// never walks all of a busy event's holds.
    fn lapsed_holds_sql(&self, events: &str, now: &str) -> String;

    /// Begins a write. With [`LockMode::Skip`] a dialect whose writes take
    /// turns answers `None` at once when another write is under way.
    fn begin<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        mode: LockMode,
    ) -> BoxFuture<'a, Result<Option<Write>, DomainError>>;
    /// Called once a write that stored outbox events `first..=last` committed
    /// (before its turn is released, so announcements keep commit order).
    /// Nothing here runs inside the write's transaction.
    fn announce_committed(&self, first: i64, last: i64);
    /// Whether commits are announced by a relay, after they commit, rather
    /// than in-process as they happen: a reader then waits until the relay
    /// has announced what it must have heard (see [`crate::SqlStore::sync_target`]).
    fn relayed(&self) -> bool;
    /// The relay to run in every instance (one of them leads at a time), if
    /// the dialect announces that way; it runs until the process ends.
    fn relay(&self) -> Option<BoxFuture<'static, ()>>;
    /// Whether this instance's relay leads now.
    fn leads_relay(&self) -> bool;
    /// Listens for commit announcements.
    fn listen(&self) -> BoxFuture<'_, Result<Box<dyn CommitFeed>, DomainError>>;

    /// A storage error in domain terms. `referencing` names what the
    /// statement's one foreign key that can fail refers to (`"studio"`,
    /// `"user"`), for databases whose errors do not say which key failed.
    fn map_error(&self, error: DbErr, referencing: Option<&'static str>) -> DomainError;
}
