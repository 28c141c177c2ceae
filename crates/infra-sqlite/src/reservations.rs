//! The reservation port: decisions on one reservation, with its parent, under
//! the write lock.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, ReservationStore};
use hothour_domain::{
    AuctionId, BookingCode, Clock, DomainError, Effects, EventId, Parent, Reservation, ReservationId,
    ReservationTarget, ReservationUnit,
};

use crate::auctions::read_auction;
use crate::events::read_event;
use crate::rows::{self, RESERVATION_COLUMNS};
use crate::values::time;
use crate::{SqliteStore, persist, query_all, query_one};

impl ReservationStore for SqliteStore {
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
        let write = self.begin_write().await?;
        let result = async {
            let conn = write.conn();
            // Under the write lock the reservation and its parent are read in
            // one consistent state; nothing else writes until the commit.
            let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1");
            let row = query_one(conn, &sql, [id.0.into()]).await?.ok_or_else(not_found)?;
            let reservation = rows::reservation(&row)?;
            let parent = match reservation.target {
                ReservationTarget::Auction(auction) => {
                    Parent::Auction(read_auction(conn, auction).await?.ok_or_else(not_found)?)
                }
                ReservationTarget::Event(event) => Parent::Event(read_event(conn, event).await?.ok_or_else(not_found)?),
            };

            let now = clock.now();
            let mut unit = ReservationUnit { reservation, parent: parent.clone(), effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            match (&unit.parent, &parent) {
                (Parent::Auction(after), Parent::Auction(before)) if after != before => {
                    persist::update_auction(conn, after, now).await?;
                }
                (Parent::Event(after), Parent::Event(before)) if after != before => {
                    persist::update_event(conn, before, after, now).await?;
                }
                _ => {}
            }
            let events = persist::effects(conn, unit.effects, now).await?;
            Ok(Committed { value, events })
        }
        .await;
        write.finish_announcing(result).await
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
            [time(now), i64::from(limit).into()],
        )
        .await?;
        rows.iter()
            .map(|row| {
                let auction = rows::opt_i64_column(row, "auction_id")?;
                let event = rows::opt_i64_column(row, "event_id")?;
                match (auction, event) {
                    (Some(id), _) => Ok(ReservationTarget::Auction(AuctionId(id))),
                    (None, Some(id)) => Ok(ReservationTarget::Event(EventId(id))),
                    (None, None) => Err(crate::error::corrupt("reservation", "no parent")),
                }
            })
            .collect()
    }
}
