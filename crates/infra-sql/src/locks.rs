//! The lock-and-decide flow, written once for every [`LockTarget`]: begin a
//! write, lock the target's rows (its parent first) and load its unit, run the
//! decision, write back the parent if the decision changed it and the rest of
//! what it did, commit and announce. Each target says only how its rows are
//! locked and loaded ([`LockRows`], next to its port).

use std::future::Future;

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, Decided, Decision, LockMode, LockTarget, Locks, UnitOfWork};
use hothour_domain::{Clock, DomainError, Parent, ReservationTarget};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use crate::SqlStore;
use crate::dialect::RowLock;
use crate::rows::{AUCTION_COLUMNS, EVENT_COLUMNS, Reader};

/// A unit loaded under its locks, with its parents as locked (to tell what
/// the decision changed, in the order the unit gives them back) and the
/// `now` it is decided at, read once the parents were locked.
pub(crate) struct Locked<U> {
    pub unit: U,
    pub before: Vec<Parent>,
    pub now: DateTime<Utc>,
}

/// How the rows of one kind of target are locked and loaded.
pub(crate) trait LockRows<K: LockTarget> {
    /// Locks the rows of `target` in `conn`, its parent first (as `mode`
    /// says), reads `now` from `clock` and loads the unit. A target that is
    /// not there is [absent](LockMode::absent).
    fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        target: K,
        mode: LockMode,
        clock: &C,
    ) -> impl Future<Output = Result<Option<Locked<K::Unit>>, DomainError>> + Send;
}

impl<K: LockTarget> Locks<K> for SqlStore
where
    SqlStore: LockRows<K>,
{
    async fn locked<T, C, F>(&self, target: K, mode: LockMode, clock: &C, decide: F) -> Decided<T>
    where
        T: Send,
        C: Clock,
        F: Decision<K::Unit, T>,
    {
        let Some(write) = self.write_in(mode).await? else {
            return Ok(None);
        };
        let result = async {
            let conn = write.conn();
            let Some(Locked { mut unit, before, now }) = self.lock_rows(conn, target, mode, clock).await? else {
                return Ok(None);
            };
            let value = decide(&mut unit, now)?;
            let (after, effects) = unit.into_parts();
            let changed_events = self.update_auctions(conn, &before, &after, now).await?;
            let events = self.write_effects(conn, &changed_events, effects, now).await?;
            Ok(Some(Committed { value, events }))
        }
        .await;
        self.finish_announcing(write, result).await
    }
}

impl SqlStore {
    /// Locks the row with `id` that `select` (`SELECT … FROM table`) reads,
    /// and reads it with `read`; `None` when it is not there.
    pub(crate) async fn lock_row<T>(
        &self,
        conn: &impl ConnectionTrait,
        select: &str,
        id: i64,
        mode: LockMode,
        read: impl FnOnce(Reader<'_>) -> Result<T, DomainError> + Send,
    ) -> Result<Option<T>, DomainError> {
        let sql = format!("{select} WHERE id = $1 {}", self.d().lock_clause(RowLock::Update(mode)));
        self.one(conn, &sql, [id.into()]).await?.map(|row| read(self.read(&row))).transpose()
    }

    /// Locks the parent row `target` names; `None` when it is not there.
    pub(crate) async fn lock_parent(
        &self,
        conn: &impl ConnectionTrait,
        target: ReservationTarget,
        mode: LockMode,
    ) -> Result<Option<Parent>, DomainError> {
        match target {
            ReservationTarget::Auction(id) => {
                let select = format!("SELECT {AUCTION_COLUMNS} FROM auctions");
                self.lock_row(conn, &select, id.0, mode, |row| row.auction().map(Parent::Auction)).await
            }
            ReservationTarget::Event(id) => {
                let select = format!("SELECT {EVENT_COLUMNS} FROM events");
                self.lock_row(conn, &select, id.0, mode, |row| row.event().map(Parent::Event)).await
            }
        }
    }
}
