//! A write: one transaction, holding its dialect's turn (if it has one) until
//! it ends (`SqlStore::finish` commits it and announces its outbox events).

use hothour_domain::StoredEvent;
use hothour_domain::ports::Committed;
use sea_orm::DatabaseTransaction;

/// A transaction and whatever its dialect holds while it runs (SQLite's single
/// writer turn), released only after the commit or rollback.
pub struct Write {
    pub(crate) txn: DatabaseTransaction,
    pub(crate) turn: Option<Box<dyn Send + Sync>>,
}

impl Write {
    pub fn new(txn: DatabaseTransaction, turn: Option<Box<dyn Send + Sync>>) -> Write {
        Write { txn, turn }
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
