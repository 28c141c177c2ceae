//! The adapter body both SQL stores share, written once: row mapping,
//! persistence, the lock-and-decide flows, outbox and audit writes, and the
//! queries. [`SqlStore`] implements every port of the domain; a [`Dialect`]
//! (PostgreSQL's in `hothour-infra-postgres`, SQLite's in
//! `hothour-infra-sqlite`) says only what differs between the databases.
//!
//! Every use case runs in one write (a transaction, see [`Write`]) that locks
//! its parent row (the auction or the event) first, then the rows under it,
//! runs the domain's decision, writes the changes, their domain events (to the
//! outbox) and audit entries, and commits. A parent locked longer than the
//! dialect's lock timeout answers [`DomainError::Busy`].

mod accounts;
mod alerts;
mod auctions;
mod codes;
mod dialect;
mod door;
mod events;
mod idempotency;
mod locks;
mod mail;
mod mailbox;
mod outbox;
mod payments;
mod persist;
mod queries;
mod reports;
mod reservations;
mod rows;
mod sql;
mod statements;
mod tokens;
mod waitlist;
mod write;

use std::sync::Arc;

use hothour_domain::ports::{BookingCodes, CatalogueItem, Committed, Creates, New};
use hothour_domain::{BookingCode, DomainError, Effects};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Statement, Value};

pub use crate::codes::{CodeSource, RandomBookingCodes};
pub use crate::dialect::{BoxFuture, CommitFeed, Dialect, Heard, LockMode, RowLock};
use crate::rows::Reader;
pub use crate::rows::corrupt;
pub use crate::sql::{check_violation, placeholders, unacceptable_value};
pub use crate::write::Write;

/// The store: a connection pool and the dialect of its database. Cheap to
/// clone (clones share the pool and the dialect's state).
#[derive(Clone)]
pub struct SqlStore {
    db: DatabaseConnection,
    dialect: Arc<dyn Dialect>,
    codes: CodeSource,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("dialect", &self.dialect).finish_non_exhaustive()
    }
}

impl SqlStore {
    /// A store over `db`, a connection to a migrated database of `dialect`'s kind.
    pub fn new(db: DatabaseConnection, dialect: Arc<dyn Dialect>) -> SqlStore {
        SqlStore { db, dialect, codes: CodeSource::default() }
    }

    /// This store drawing booking codes from `codes` instead of the CSPRNG
    /// (tests script collisions with it).
    pub fn with_booking_codes(mut self, codes: Arc<dyn BookingCodes>) -> SqlStore {
        self.codes = CodeSource::new(codes);
        self
    }

    /// The store's pool, for migrations and tests. Writing through it bypasses
    /// the dialect's write turn: do so only before the store is in use.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// `"postgres"` or `"sqlite"`.
    pub fn backend_name(&self) -> &'static str {
        self.dialect.name()
    }

    /// Answers whether the database takes queries now.
    pub async fn ping(&self) -> Result<(), DomainError> {
        self.db.ping().await.map_err(|e| self.dialect.map_error(e, None))
    }

    /// Identifies this database's event stream: when the schema was first
    /// applied. A client holding sequence numbers from another stream must
    /// take a fresh snapshot.
    pub async fn stream_epoch(&self) -> Result<i64, DomainError> {
        let row = self.one(&self.db, "SELECT COALESCE(MIN(applied_at), 0) AS epoch FROM seaql_migrations", []).await?;
        row.map_or(Ok(0), |row| self.read(&row).i64("epoch"))
    }

    /// Listens for committed outbox ranges (LISTEN/NOTIFY, or the in-process bus).
    pub async fn listen(&self) -> Result<Box<dyn CommitFeed>, DomainError> {
        self.dialect.listen().await
    }

    /// The outbox id a reader must have heard announced to have heard every
    /// commit made before this call, on any instance: the highest committed
    /// now. `None` where commits are announced in-process as they happen:
    /// there is nothing to wait for.
    pub async fn sync_target(&self) -> Result<Option<i64>, DomainError> {
        if !self.dialect.relayed() {
            return Ok(None);
        }
        let row = self.one(&self.db, "SELECT COALESCE(MAX(id), 0) AS id FROM outbox", []).await?;
        row.map_or(Ok(0), |row| self.read(&row).i64("id")).map(Some)
    }

    /// How far the relay has announced: every outbox id up to it is either
    /// in the outbox, committed, or never will be. `None` where no relay
    /// announces.
    pub async fn announced_through(&self) -> Result<Option<i64>, DomainError> {
        if !self.dialect.relayed() {
            return Ok(None);
        }
        let row = self.one(&self.db, "SELECT MAX(announced_through) AS id FROM outbox_relay", []).await?;
        let through = row.map_or(Ok(None), |row| self.read(&row).opt_i64("id"))?;
        Ok(Some(through.unwrap_or(0)))
    }

    /// The relay that announces committed outbox rows, to run in every
    /// instance (they elect one leader among them); `None` where commits are
    /// announced in-process.
    pub fn relay(&self) -> Option<BoxFuture<'static, ()>> {
        self.dialect.relay()
    }

    /// Whether this instance's relay is the one announcing now.
    pub fn leads_relay(&self) -> bool {
        self.dialect.leads_relay()
    }

    fn d(&self) -> &dyn Dialect {
        &*self.dialect
    }

    fn stmt(&self, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
        Statement::from_sql_and_values(self.dialect.backend(), sql, values)
    }

    async fn one(
        &self,
        conn: &impl ConnectionTrait,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<Option<QueryResult>, DomainError> {
        conn.query_one_raw(self.stmt(sql, values)).await.map_err(|e| self.dialect.map_error(e, None))
    }

    /// As [`SqlStore::one`], for a statement whose one foreign key that can
    /// fail refers to a `parent`: that failure is `NotFound(parent)`.
    async fn one_referencing(
        &self,
        conn: &impl ConnectionTrait,
        parent: &'static str,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<Option<QueryResult>, DomainError> {
        conn.query_one_raw(self.stmt(sql, values)).await.map_err(|e| self.dialect.map_error(e, Some(parent)))
    }

    async fn all(
        &self,
        conn: &impl ConnectionTrait,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<QueryResult>, DomainError> {
        self.all_referencing(conn, None, sql, values).await
    }

    /// As [`SqlStore::all`], mapping a failed foreign key as [`SqlStore::one_referencing`] does.
    async fn all_referencing(
        &self,
        conn: &impl ConnectionTrait,
        referencing: Option<&'static str>,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<QueryResult>, DomainError> {
        conn.query_all_raw(self.stmt(sql, values)).await.map_err(|e| self.dialect.map_error(e, referencing))
    }

    async fn exec(
        &self,
        conn: &impl ConnectionTrait,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<u64, DomainError> {
        conn.execute_raw(self.stmt(sql, values))
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| self.dialect.map_error(e, None))
    }

    async fn exec_referencing(
        &self,
        conn: &impl ConnectionTrait,
        parent: &'static str,
        sql: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<u64, DomainError> {
        conn.execute_raw(self.stmt(sql, values))
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| self.dialect.map_error(e, Some(parent)))
    }

    /// Begins a write, waiting for its turn.
    async fn write(&self) -> Result<Write, DomainError> {
        self.write_in(LockMode::Wait).await?.ok_or(DomainError::Busy)
    }

    async fn write_in(&self, mode: LockMode) -> Result<Option<Write>, DomainError> {
        self.dialect.begin(&self.db, mode).await
    }

    /// Commits after `result` succeeded, rolls back otherwise; then releases the write's turn.
    async fn finish<T>(&self, write: Write, result: Result<T, DomainError>) -> Result<T, DomainError> {
        match result {
            Ok(value) => {
                write.txn.commit().await.map_err(|e| self.dialect.map_error(e, None))?;
                Ok(value)
            }
            Err(error) => {
                // The error that ended the transaction matters more than a failed rollback.
                let _ = write.txn.rollback().await;
                Err(error)
            }
        }
    }

    /// As [`SqlStore::finish`], announcing the outbox events the write stored
    /// once it committed, before the turn is released so that announcements
    /// keep commit order. Nothing is announced inside the transaction: a
    /// `NOTIFY` there would take a database-wide lock at commit.
    async fn finish_announcing<T: write::Announces>(
        &self,
        write: Write,
        result: Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let range = result.as_ref().ok().and_then(|value| {
            let seqs = value.stored_events().iter().map(|event| event.seq);
            Some((seqs.clone().min()?, seqs.max()?))
        });
        let Write { txn, turn } = write;
        let result = self.finish(Write { txn, turn: None }, result).await;
        if let (Ok(_), Some((first, last))) = (&result, range) {
            self.dialect.announce_committed(first, last);
        }
        drop(turn);
        result
    }

    /// Runs one statement that answers one row (`INSERT/UPDATE … RETURNING`)
    /// in a write of its own, and reads the row with `read`; no row is `missing`.
    async fn write_returning<T>(
        &self,
        sql: &str,
        values: impl IntoIterator<Item = Value> + Send,
        missing: DomainError,
        read: impl FnOnce(Reader<'_>) -> Result<T, DomainError> + Send,
    ) -> Result<T, DomainError> {
        let write = self.write().await?;
        let result = async { read(self.read(&self.one(write.conn(), sql, values).await?.ok_or(missing)?)) }.await;
        self.finish(write, result).await
    }
}

/// How a new auction or event is inserted: the statement (`INSERT …
/// RETURNING` the row's columns), its values, and how the row reads.
pub(crate) trait SqlInsert: CatalogueItem + Sized {
    fn insert(store: &SqlStore, new: &New<Self>) -> (String, Vec<Value>);
    fn read(row: Reader<'_>) -> Result<Self::Row, DomainError>;
}

/// The row and what `effects` says about it are stored in one write; a
/// studio that is not there is `NotFound("studio")`.
impl<D: SqlInsert> Creates<D> for SqlStore {
    async fn create<F>(&self, new: New<D>, effects: F) -> Result<Committed<D::Row>, DomainError>
    where
        F: FnOnce(&D::Row) -> Effects + Send,
    {
        let (sql, values) = D::insert(self, &new);
        let write = self.write().await?;
        let result = async {
            let row = self.one_referencing(write.conn(), "studio", &sql, values).await?;
            let row = row.ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let value = D::read(self.read(&row))?;
            let events = self.write_effects(write.conn(), &[], effects(&value), new.created_at).await?;
            Ok(Committed { value, events })
        }
        .await;
        self.finish_announcing(write, result).await
    }

    async fn create_all<F>(&self, news: Vec<New<D>>, effects: F) -> Result<Committed<Vec<D::Row>>, DomainError>
    where
        F: Fn(&D::Row) -> Effects + Send + Sync,
    {
        let write = self.write().await?;
        let result = async {
            let (mut rows, mut events) = (Vec::with_capacity(news.len()), Vec::new());
            for new in news {
                let (sql, values) = D::insert(self, &new);
                let row = self.one_referencing(write.conn(), "studio", &sql, values).await?;
                let row = row.ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
                let value = D::read(self.read(&row))?;
                events.extend(self.write_effects(write.conn(), &[], effects(&value), new.created_at).await?);
                rows.push(value);
            }
            Ok(Committed { value: rows, events })
        }
        .await;
        self.finish_announcing(write, result).await
    }
}

impl BookingCodes for SqlStore {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError> {
        self.codes.draw()
    }
}
