//! The auction port: insert, read, and lock an auction for a decision.

use hothour_domain::ports::{AuctionRecord, AuctionStore, LockMode, NewAuction};
use hothour_domain::{
    Auction, AuctionDetails, AuctionId, AuctionStatus, AuctionUnit, Clock, DomainError, Effects, Parent, Reservation,
    ReservationId, UserId,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};

use crate::dialect::RowLock;
use crate::locks::{LockRows, Locked};
use crate::rows::{AUCTION_COLUMNS, RESERVATION_COLUMNS, Reader};
use crate::{SqlInsert, SqlStore};

const LIVE: &str = "('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW')";

impl SqlStore {
    /// The auction's live reservation, locked with `lock` when given.
    pub(crate) async fn live_reservation(
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
}

impl LockRows<AuctionId> for SqlStore {
    async fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        id: AuctionId,
        mode: LockMode,
        clock: &C,
    ) -> Result<Option<Locked<AuctionUnit>>, DomainError> {
        let select = format!(
            "SELECT {AUCTION_COLUMNS}, {} AS next_reservation_id FROM auctions",
            self.d().next_reservation_id_sql()
        );
        let read = |row: Reader<'_>| Ok((row.auction()?, ReservationId(row.i64("next_reservation_id")?)));
        let Some((auction, next_reservation_id)) = self.lock_row(conn, &select, id.0, mode, read).await? else {
            return mode.absent("auction");
        };
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
        let before = Parent::Auction(auction.clone());
        let unit = AuctionUnit { auction, live, ended_holders, next_reservation_id, effects: Effects::default() };
        Ok(Some(Locked { unit, before: vec![before], now }))
    }
}

impl SqlInsert for AuctionDetails {
    fn insert(store: &SqlStore, new: &NewAuction) -> (String, Vec<Value>) {
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
        values.extend(store.auction_details(&new.details));
        values.extend([status.as_str().into(), store.d().time(new.created_at)]);
        (sql, values)
    }

    fn read(row: Reader<'_>) -> Result<Auction, DomainError> {
        row.auction()
    }
}

impl AuctionStore for SqlStore {
    async fn find_auction(&self, id: AuctionId) -> Result<Option<AuctionRecord>, DomainError> {
        let sql = format!("SELECT {AUCTION_COLUMNS} FROM auctions WHERE id = $1");
        let Some(row) = self.one(&self.db, &sql, [id.0.into()]).await? else {
            return Ok(None);
        };
        let auction = self.read(&row).auction()?;
        let live = self.live_reservation(&self.db, id, None).await?;
        Ok(Some(AuctionRecord { auction, live }))
    }
}
