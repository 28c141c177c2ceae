//! The single writer: every write holds the store's write lock from `BEGIN`
//! to `COMMIT`, which is what `FOR UPDATE` is in the PostgreSQL adapter.
//!
//! sea-orm drops `FOR UPDATE` on SQLite, and SQLite has one writer per
//! database anyway. So a write first takes the process-wide lock (waiting at
//! most the lock timeout, else `Busy`), then opens a `BEGIN IMMEDIATE`
//! transaction on a pool connection, which also takes SQLite's own write lock
//! at once (and waits up to the busy timeout for another process holding it).
//! Everything the transaction reads is then current until it commits: a
//! decision made inside it is as safe as one made under a row lock.
//!
//! Inside a transaction only its connection is used, never the pool, so even a
//! pool of one connection cannot deadlock.

use hothour_domain::ports::Committed;
use hothour_domain::{DomainError, StoredEvent};
use sea_orm::{DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use tokio::sync::{OwnedMutexGuard, broadcast};

use crate::SqliteStore;
use crate::error::map_db_err;

/// A write transaction holding the write lock.
pub(crate) struct Write {
    txn: DatabaseTransaction,
    bus: broadcast::Sender<(i64, i64)>,
    /// Released only after the commit (or rollback).
    lock: OwnedMutexGuard<()>,
}

/// What a committed write announces on the outbox bus.
pub(crate) trait Announces {
    /// The outbox events the write stored, if any.
    fn stored_events(&self) -> &[StoredEvent];
}

impl<T> Announces for Committed<T> {
    fn stored_events(&self) -> &[StoredEvent] {
        &self.events
    }
}

impl<T> Announces for Option<Committed<T>> {
    fn stored_events(&self) -> &[StoredEvent] {
        self.as_ref().map_or(&[], |committed| &committed.events)
    }
}

impl SqliteStore {
    /// Waits for the write lock, at most the lock timeout.
    pub(crate) async fn write_lock(&self) -> Result<OwnedMutexGuard<()>, DomainError> {
        tokio::time::timeout(self.lock_timeout, self.write_lock.clone().lock_owned())
            .await
            .map_err(|_| DomainError::Busy)
    }

    /// Takes the write lock and begins a transaction.
    pub(crate) async fn begin_write(&self) -> Result<Write, DomainError> {
        let lock = self.write_lock().await?;
        self.begin_locked(lock).await
    }

    /// Begins a transaction if no other write is under way, else `None` at once.
    pub(crate) async fn try_begin_write(&self) -> Result<Option<Write>, DomainError> {
        match self.write_lock.clone().try_lock_owned() {
            Ok(lock) => self.begin_locked(lock).await.map(Some),
            Err(_) => Ok(None),
        }
    }

    async fn begin_locked(&self, lock: OwnedMutexGuard<()>) -> Result<Write, DomainError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db.begin_with_options(options).await.map_err(map_db_err)?;
        Ok(Write { txn, bus: self.bus.clone(), lock })
    }
}

impl Write {
    /// The transaction's connection: the only one to use until it ends.
    pub(crate) fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Commits after `result` succeeded, rolls back otherwise; then releases the lock.
    pub(crate) async fn finish<T>(self, result: Result<T, DomainError>) -> Result<T, DomainError> {
        let Write { txn, bus: _, lock } = self;
        let result = end(txn, result).await;
        drop(lock);
        result
    }

    /// As [`Write::finish`], and once committed tells the outbox bus the range
    /// of events the write stored, before the lock is released, so that
    /// ranges arrive in commit order.
    pub(crate) async fn finish_announcing<T: Announces>(
        self,
        result: Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let Write { txn, bus, lock } = self;
        let result = end(txn, result).await;
        if let Ok(value) = &result {
            let seqs = value.stored_events().iter().map(|event| event.seq);
            if let (Some(first), Some(last)) = (seqs.clone().min(), seqs.max()) {
                // Nobody subscribed yet is fine: the outbox keeps the events.
                let _ = bus.send((first, last));
            }
        }
        drop(lock);
        result
    }
}

/// Commits after `result` succeeded, rolls back otherwise.
async fn end<T>(txn: DatabaseTransaction, result: Result<T, DomainError>) -> Result<T, DomainError> {
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
