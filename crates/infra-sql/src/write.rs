//! A write: one transaction, holding its dialect's turn (if it has one) until
//! it ends, committed with its outbox events announced.

use hothour_domain::ports::Committed;
use hothour_domain::{DomainError, StoredEvent};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use crate::dialect::Dialect;

/// A transaction and whatever its dialect holds while it runs (SQLite's single
/// writer turn), released only after the commit or rollback.
pub struct Write {
    txn: DatabaseTransaction,
    _turn: Option<Box<dyn Send + Sync>>,
}

impl Write {
    pub fn new(txn: DatabaseTransaction, turn: Option<Box<dyn Send + Sync>>) -> Write {
        Write { txn, _turn: turn }
    }

    /// The transaction's connection: the only one to use until it ends.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// What a committed write announces: the outbox events it stored.
pub(crate) trait Announces {
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

/// Commits after `result` succeeded, rolls back otherwise.
pub(crate) async fn finish<T>(d: &dyn Dialect, write: Write, result: Result<T, DomainError>) -> Result<T, DomainError> {
    match result {
        Ok(value) => {
            write.txn.commit().await.map_err(|e| d.map_error(e, None))?;
            Ok(value)
        }
        Err(error) => {
            // The error that ended the transaction matters more than a failed rollback.
            let _ = write.txn.rollback().await;
            Err(error)
        }
    }
}

/// As [`finish`], announcing the outbox events the write stored.
pub(crate) async fn finish_announcing<T: Announces>(
    d: &dyn Dialect,
    write: Write,
    result: Result<T, DomainError>,
) -> Result<T, DomainError> {
    let range = result.as_ref().ok().and_then(|value| {
        let seqs = value.stored_events().iter().map(|event| event.seq);
        Some((seqs.clone().min()?, seqs.max()?))
    });
    let Some((first, last)) = range else {
        return finish(d, write, result).await;
    };
    let result = match d.announce_in_commit(first, last) {
        Some(statement) => match write.txn.execute_raw(statement).await {
            Ok(_) => result,
            Err(error) => Err(d.map_error(error, None)),
        },
        None => result,
    };
    let Write { txn, _turn: turn } = write;
    let result = finish(d, Write { txn, _turn: None }, result).await;
    if result.is_ok() {
        d.announce_committed(first, last);
    }
    drop(turn);
    result
}
