//! The auction port: insert, read, and decide under the write lock (which
//! stands in for PostgreSQL's lock on the auction row).

use chrono::{DateTime, Utc};
use hothour_domain::ports::{AuctionRecord, AuctionStore, Committed, NewAuction};
use hothour_domain::{Auction, AuctionId, AuctionStatus, AuctionUnit, Clock, DomainError, Effects, UserId};
use sea_orm::ConnectionTrait;

use crate::error::map_db_err_referencing;
use crate::rows::{self, AUCTION_COLUMNS, RESERVATION_COLUMNS};
use crate::values::{money, opt_money, time};
use crate::writer::Write;
use crate::{SqliteStore, persist, query_all, query_one, stmt};

const LIVE: &str = "('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW')";

/// Whether a decision waits for the write lock (requests) or skips when
/// another write is under way (background jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockMode {
    Wait,
    Skip,
}

impl SqliteStore {
    /// Begins a write the way `mode` says: `None` when skipping a busy lock.
    pub(crate) async fn begin_write_in(&self, mode: LockMode) -> Result<Option<Write>, DomainError> {
        match mode {
            LockMode::Wait => self.begin_write().await.map(Some),
            LockMode::Skip => self.try_begin_write().await,
        }
    }
}

pub(crate) async fn live_reservation(
    conn: &impl ConnectionTrait,
    id: AuctionId,
) -> Result<Option<hothour_domain::Reservation>, DomainError> {
    let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE auction_id = $1 AND status IN {LIVE}");
    query_one(conn, &sql, [id.0.into()]).await?.map(|row| rows::reservation(&row)).transpose()
}

/// Reads the auction row; `None` when it does not exist.
pub(crate) async fn read_auction(conn: &impl ConnectionTrait, id: AuctionId) -> Result<Option<Auction>, DomainError> {
    let sql = format!("SELECT {AUCTION_COLUMNS} FROM auctions WHERE id = $1");
    query_one(conn, &sql, [id.0.into()]).await?.map(|row| rows::auction(&row)).transpose()
}

impl SqliteStore {
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
        let Some(write) = self.begin_write_in(mode).await? else {
            return Ok(None);
        };
        let result = async {
            let conn = write.conn();
            let Some(auction) = read_auction(conn, id).await? else {
                return match mode {
                    LockMode::Wait => Err(DomainError::NotFound("auction")),
                    LockMode::Skip => Ok(None),
                };
            };
            let next_reservation_id = persist::next_reservation_id(conn).await?;
            let live = live_reservation(conn, id).await?;
            let ended_holders = query_all(
                conn,
                "SELECT DISTINCT user_id FROM reservations WHERE auction_id = $1 AND status IN ('EXPIRED', 'CANCELLED')",
                [id.0.into()],
            )
            .await?
            .iter()
            .map(|row| rows::i64_column(row, "user_id").map(UserId))
            .collect::<Result<Vec<_>, _>>()?;

            // One decision, one `now`: read after the lock is taken.
            let now = clock.now();
            let original = auction.clone();
            let mut unit = AuctionUnit { auction, live, ended_holders, next_reservation_id, effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            if unit.auction != original {
                persist::update_auction(conn, &unit.auction, now).await?;
            }
            let events = persist::effects(conn, unit.effects, now).await?;
            Ok(Some(Committed { value, events }))
        }
        .await;
        write.finish_announcing(result).await
    }
}

impl AuctionStore for SqliteStore {
    async fn create_auction<F>(&self, new: NewAuction, effects: F) -> Result<Committed<Auction>, DomainError>
    where
        F: FnOnce(&Auction) -> Effects + Send,
    {
        let write = self.begin_write().await?;
        let result = async {
            let schedule = new.details.schedule.clone();
            let turbo = schedule.turbo();
            let status = if new.created_at < schedule.starts_at() { AuctionStatus::Draft } else { AuctionStatus::Active };
            let sql = format!(
                "INSERT INTO auctions (studio_id, title, description, start_price, floor_price, drop_amount, \
                 drop_interval_seconds, starts_at, ends_at, scheduled_at, turbo_trigger_before_seconds, \
                 turbo_drop_amount, turbo_interval_seconds, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING {AUCTION_COLUMNS}"
            );
            let values = [
                new.studio_id.0.into(),
                new.details.title.clone().into(),
                new.details.description.clone().into(),
                money(schedule.start_price()),
                money(schedule.floor_price()),
                money(schedule.drop_amount()),
                schedule.drop_interval().num_seconds().into(),
                time(schedule.starts_at()),
                time(schedule.ends_at()),
                time(new.details.scheduled_at),
                turbo.map(|t| t.trigger_before.num_seconds()).into(),
                opt_money(turbo.map(|t| t.drop_amount)),
                turbo.map(|t| t.interval.num_seconds()).into(),
                status.as_str().into(),
                time(new.created_at),
            ];
            let row = write
                .conn()
                .query_one_raw(stmt(&sql, values))
                .await
                .map_err(|e| map_db_err_referencing(e, "studio"))?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let auction = rows::auction(&row)?;
            let events = persist::effects(write.conn(), effects(&auction), new.created_at).await?;
            Ok(Committed { value: auction, events })
        }
        .await;
        write.finish_announcing(result).await
    }

    async fn find_auction(&self, id: AuctionId) -> Result<Option<AuctionRecord>, DomainError> {
        let Some(auction) = read_auction(&self.db, id).await? else {
            return Ok(None);
        };
        let live = live_reservation(&self.db, id).await?;
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
