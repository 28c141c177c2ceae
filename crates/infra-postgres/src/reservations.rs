//! The reservation port: decisions on one reservation, locked parent first.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, ReservationStore};
use hothour_domain::{
    AuctionId, BookingCode, Clock, DomainError, Effects, EventId, Parent, Reservation, ReservationId,
    ReservationTarget, ReservationUnit,
};

use crate::auctions::{LockMode, lock_auction};
use crate::events::lock_event;
use crate::rows::{self, RESERVATION_COLUMNS};
use crate::{PgStore, finish, persist, query_all, query_one};

impl ReservationStore for PgStore {
    async fn find_reservation(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError> {
        let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1");
        query_one(&self.db, &sql, [id.0.into()]).await?.map(|row| rows::reservation(&row)).transpose()
    }

    async fn find_reservation_by_code(&self, code: &BookingCode) -> Result<Option<Reservation>, DomainError> {
        let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE booking_code = $1");
        query_one(&self.db, &sql, [code.as_str().into()]).await?.map(|row| rows::reservation(&row)).transpose()
    }

    async fn with_reservation_locked<T, C, F>(
        &self,
        id: ReservationId,
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut ReservationUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        let not_found = || DomainError::NotFound("reservation");
        // The parent never changes, so it can be read before any lock is taken.
        let target = self.find_reservation(id).await?.ok_or_else(not_found)?.target;
        let txn = self.begin().await?;
        let result = async {
            // Parent first, then the reservation: the order every path uses.
            let parent = match target {
                ReservationTarget::Auction(auction) => {
                    Parent::Auction(lock_auction(&txn, auction, LockMode::Wait).await?.ok_or_else(not_found)?)
                }
                ReservationTarget::Event(event) => {
                    Parent::Event(lock_event(&txn, event, LockMode::Wait).await?.ok_or_else(not_found)?)
                }
            };
            let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1 FOR UPDATE");
            let row = query_one(&txn, &sql, [id.0.into()]).await?.ok_or_else(not_found)?;
            let reservation = rows::reservation(&row)?;

            let now = clock.now();
            let mut unit = ReservationUnit { reservation, parent: parent.clone(), effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            match (&unit.parent, &parent) {
                (Parent::Auction(after), Parent::Auction(before)) if after != before => {
                    persist::update_auction(&txn, after, now).await?;
                }
                (Parent::Event(after), Parent::Event(before)) if after != before => {
                    persist::update_event(&txn, before, after, now).await?;
                }
                _ => {}
            }
            let events = persist::effects(&txn, unit.effects, now).await?;
            Ok(Committed { value, events })
        }
        .await;
        finish(txn, result).await
    }

    async fn parents_with_lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ReservationTarget>, DomainError> {
        let rows = query_all(
            &self.db,
            "SELECT auction_id, event_id, MIN(expires_at) AS oldest FROM reservations \
             WHERE status = 'HOLD' AND expires_at <= $1 \
             GROUP BY auction_id, event_id ORDER BY oldest LIMIT $2",
            [now.into(), i64::from(limit).into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                let auction: Option<i64> =
                    row.try_get("", "auction_id").map_err(|e| crate::error::corrupt("reservation", e))?;
                let event: Option<i64> =
                    row.try_get("", "event_id").map_err(|e| crate::error::corrupt("reservation", e))?;
                match (auction, event) {
                    (Some(id), _) => Ok(ReservationTarget::Auction(AuctionId(id))),
                    (None, Some(id)) => Ok(ReservationTarget::Event(EventId(id))),
                    (None, None) => Err(crate::error::corrupt("reservation", "no parent")),
                }
            })
            .collect()
    }
}
