//! Background jobs: auction status changes time alone makes, and no-shows.

use super::{BatchReport, JobFailure, Services};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ports::{CatalogueStore, EventPublisher, JobStore};

impl<S: CatalogueStore + JobStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    /// Persists and announces status changes that time alone made (DRAFT →
    /// ACTIVE, → EXPIRED, turbo start). An auction that fails is reported and
    /// the batch goes on with the others.
    pub async fn settle_due_auctions(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let due = self.store.auctions_to_settle(self.clock.now(), batch).await?;
        let mut report = BatchReport::default();
        for id in due {
            match self.settle_auction(id).await {
                Ok(true) => report.changed += 1,
                Ok(false) => {}
                Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
            }
        }
        Ok(report)
    }

    /// Marks bookings nobody checked in as NO_SHOW. A reservation that fails
    /// is reported and the batch goes on with the others.
    pub async fn mark_no_shows(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let due = self.store.due_no_shows(self.clock.now(), self.policy.no_show_grace, batch).await?;
        let policy = self.policy;
        let mut report = BatchReport::default();
        for id in due {
            match self.decide(id, move |unit, now| Ok(unit.mark_no_show(now, &policy))).await {
                Ok(true) => report.changed += 1,
                Ok(false) => {}
                Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
            }
        }
        Ok(report)
    }
}
