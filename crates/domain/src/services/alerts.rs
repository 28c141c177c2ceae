//! Price alerts (make, list, remove, fire) and booking reminders.

use super::{BatchReport, JobFailure, Services};
use crate::actor::Actor;
use crate::alerts::{AlertStore, AuctionAlerts, PriceAlert};
use crate::auction::AuctionStatus;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::{AlertId, AuctionId};
use crate::money::Money;
use crate::ports::{CatalogueStore, EventPublisher, JobStore, Locks};

impl<S, C, P> Services<S, C, P>
where
    S: CatalogueStore + AlertStore + Locks<AuctionAlerts>,
    C: Clock,
    P: EventPublisher,
{
    /// Asks to be told when the auction's price is at or below `below`.
    /// Answers the alert and whether it fired at once (the price is already
    /// there): a fired alert is gone.
    pub async fn create_price_alert(
        &self,
        actor: &Actor,
        auction: AuctionId,
        below: Money,
    ) -> Result<(PriceAlert, bool), DomainError> {
        if !actor.may_book() {
            return Err(DomainError::BookingNotAllowed);
        }
        if below.is_zero() {
            return Err(DomainError::validation("below", "must be more than zero"));
        }
        let (_, view) = self.get_auction(auction).await?;
        if matches!(view.status, AuctionStatus::Sold | AuctionStatus::Expired | AuctionStatus::Cancelled) {
            return Err(DomainError::AuctionClosed);
        }
        let alert = self.store.create_price_alert(actor.user_id, auction, below, self.clock.now()).await?;
        let fired = self.decide(AuctionAlerts(auction), |unit, now| Ok(unit.fire_due(now))).await?;
        Ok((alert.clone(), fired.contains(&alert.id)))
    }

    pub async fn my_price_alerts(&self, actor: &Actor) -> Result<Vec<PriceAlert>, DomainError> {
        self.store.price_alerts_of(actor.user_id).await
    }

    /// Removes one of the caller's alerts (another's is not found).
    pub async fn delete_price_alert(&self, actor: &Actor, id: AlertId) -> Result<(), DomainError> {
        if self.store.delete_price_alert(actor.user_id, id).await? {
            Ok(())
        } else {
            Err(DomainError::NotFound("alert"))
        }
    }

    /// Fires every alert whose auction's price reached it (and drops those of
    /// ended auctions), an auction at a time under its lock; one another
    /// instance is deciding is left to it. An auction that, as this instance
    /// knows it, has nothing to fire is not locked at all: the decision under
    /// the lock is the one that counts, this only spares the lock.
    pub async fn fire_price_alerts(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let mut report = BatchReport::default();
        let mut after = AuctionId(0);
        loop {
            let auctions = self.store.auctions_with_alerts(after, batch).await?;
            for &(id, highest) in &auctions {
                match self.may_fire(id, highest).await {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(error) => {
                        report.failed.push(JobFailure { item: id.to_string(), error });
                        continue;
                    }
                }
                match self.try_decide(AuctionAlerts(id), |unit, now| Ok(unit.fire_due(now).len())).await {
                    Ok(fired) => report.changed += fired.unwrap_or(0),
                    Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
                }
            }
            match auctions.last() {
                Some(&(last, _)) if auctions.len() == batch as usize => after = last,
                _ => return Ok(report),
            }
        }
    }

    /// Whether auction `id` may have an alert to fire (its price at or below
    /// `highest`, on sale) or to drop (it ended), as read now.
    async fn may_fire(&self, id: AuctionId, highest: Money) -> Result<bool, DomainError> {
        let view = match self.get_auction(id).await {
            Ok((_, view)) => view,
            // Deleted: its alerts went with it.
            Err(DomainError::NotFound(_)) => return Ok(false),
            Err(error) => return Err(error),
        };
        Ok(match view.status {
            AuctionStatus::Active => view.current_price <= highest,
            AuctionStatus::Sold | AuctionStatus::Expired | AuctionStatus::Cancelled => true,
            AuctionStatus::Draft | AuctionStatus::Held => false,
        })
    }
}

impl<S: CatalogueStore + JobStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    /// Records the reminder of every booking whose session is near (see
    /// `ReservationUnit::remind`). A booking another instance is deciding is
    /// left for the next round.
    pub async fn record_due_reminders(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let due = self.store.due_reminders(self.clock.now(), self.policy.reminder_before, batch).await?;
        let policy = self.policy;
        let mut report = BatchReport::default();
        for id in due {
            match self.try_decide(id, move |unit, now| Ok(unit.remind(now, &policy))).await {
                Ok(Some(true)) => report.changed += 1,
                Ok(_) => {}
                Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
            }
        }
        Ok(report)
    }
}
