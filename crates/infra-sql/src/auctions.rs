//! The auction port: insert, read, and decide under the auction's lock.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{AuctionRecord, AuctionStore, Committed, NewAuction};
use hothour_domain::{
    Auction, AuctionId, AuctionStatus, AuctionUnit, Clock, DomainError, Effects, Reservation, ReservationId, UserId,
};
use sea_orm::{ConnectionTrait, Value};

use crate::dialect::{LockMode, RowLock};
use crate::rows::{AUCTION_COLUMNS, RESERVATION_COLUMNS};
use crate::{SqlStore, absent};

const LIVE: &str = "('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW')";

impl SqlStore {
    /// The auction's live reservation, locked with `lock` when given.
    async fn live_reservation(
        &self,
        conn: &impl ConnectionTrait,
        id: AuctionId,
        lock: Option<RowLock>,
    ) -> Result<Option<Reservation>, DomainError> {
        let lock = lock.map_or("", |lock| self.d().lock_clause(lock));
        let sql =
            format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE auction_id = $1 AND status IN {LIVE} {lock}");
        self.one(conn, &sql, [id.0.into()]).await?.map(|row| self.read(&row).reservation()).transpose()
    }

    /// Locks the auction row; `None` when it does not exist.
    pub(crate) async fn lock_auction(
        &self,
        conn: &impl ConnectionTrait,
        id: AuctionId,
    ) -> Result<Option<Auction>, DomainError> {
        let lock = self.d().lock_clause(RowLock::Update(LockMode::Wait));
        let sql = format!("SELECT {AUCTION_COLUMNS} FROM auctions WHERE id = $1 {lock}");
        self.one(conn, &sql, [id.0.into()]).await?.map(|row| self.read(&row).auction()).transpose()
    }

    async fn auction_locked<T, C, F>(
        &self,
        id: AuctionId,
        mode: LockMode,
        clock: &C,
        decide: F,
    ) -> Result<Option<Committed<T>>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut AuctionUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        let Some(write) = self.write_in(mode).await? else {
            return Ok(None);
        };
        let result = async {
            let conn = write.conn();
            let d = self.d();
            let sql = format!(
                "SELECT {AUCTION_COLUMNS}, {} AS next_reservation_id FROM auctions WHERE id = $1 {}",
                d.next_reservation_id_sql(),
                d.lock_clause(RowLock::Update(mode))
            );
            let Some(row) = self.one(conn, &sql, [id.0.into()]).await? else {
                return absent(mode, "auction");
            };
            let auction = self.read(&row).auction()?;
            let next_reservation_id = ReservationId(self.read(&row).i64("next_reservation_id")?);
            let live = self.live_reservation(conn, id, Some(RowLock::Update(LockMode::Wait))).await?;
            let ended_holders = self
                .all(
                    conn,
                    "SELECT DISTINCT user_id FROM reservations \
                     WHERE auction_id = $1 AND status IN ('EXPIRED', 'CANCELLED')",
                    [id.0.into()],
                )
                .await?
                .iter()
                .map(|row| self.read(row).i64("user_id").map(UserId))
                .collect::<Result<Vec<_>, _>>()?;

            // One decision, one `now`: read after the lock is taken.
            let now = clock.now();
            let original = auction.clone();
            let mut unit =
                AuctionUnit { auction, live, ended_holders, next_reservation_id, effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            if unit.auction != original {
                self.update_auction(conn, &unit.auction, now).await?;
            }
            let events = self.write_effects(conn, unit.effects, now).await?;
            Ok(Some(Committed { value, events }))
        }
        .await;
        self.finish_announcing(write, result).await
    }
}

impl AuctionStore for SqlStore {
    async fn create_auction<F>(&self, new: NewAuction, effects: F) -> Result<Committed<Auction>, DomainError>
    where
        F: FnOnce(&Auction) -> Effects + Send,
    {
        let write = self.write().await?;
        let result = async {
            let d = self.d();
            let starts_at = new.details.schedule.starts_at();
            let status = if new.created_at < starts_at { AuctionStatus::Draft } else { AuctionStatus::Active };
            let sql = format!(
                "INSERT INTO auctions (studio_id, title, description, start_price, floor_price, drop_amount, \
                 drop_interval_seconds, starts_at, ends_at, scheduled_at, turbo_trigger_before_seconds, \
                 turbo_drop_amount, turbo_interval_seconds, session_minutes, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) \
                 RETURNING {AUCTION_COLUMNS}"
            );
            let mut values: Vec<Value> = vec![new.studio_id.0.into()];
            values.extend(self.auction_details(&new.details));
            values.extend([status.as_str().into(), d.time(new.created_at)]);
            let row = self
                .one_referencing(write.conn(), "studio", &sql, values)
                .await?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let auction = self.read(&row).auction()?;
            let events = self.write_effects(write.conn(), effects(&auction), new.created_at).await?;
            Ok(Committed { value: auction, events })
        }
        .await;
        self.finish_announcing(write, result).await
    }

    async fn find_auction(&self, id: AuctionId) -> Result<Option<AuctionRecord>, DomainError> {
        let sql = format!("SELECT {AUCTION_COLUMNS} FROM auctions WHERE id = $1");
        let Some(row) = self.one(&self.db, &sql, [id.0.into()]).await? else {
            return Ok(None);
        };
        let auction = self.read(&row).auction()?;
        let live = self.live_reservation(&self.db, id, None).await?;
        Ok(Some(AuctionRecord { auction, live }))
    }

    async fn with_auction_locked<T, C, F>(
        &self,
        id: AuctionId,
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut AuctionUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.auction_locked(id, LockMode::Wait, clock, decide).await?.ok_or(DomainError::NotFound("auction"))
    }

    async fn try_with_auction_locked<T, C, F>(
        &self,
        id: AuctionId,
        clock: &C,
        decide: F,
    ) -> Result<Option<Committed<T>>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut AuctionUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.auction_locked(id, LockMode::Skip, clock, decide).await
    }
}
