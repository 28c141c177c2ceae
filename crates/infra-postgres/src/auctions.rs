//! The auction port: insert, read, and decide under the auction's row lock.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{AuctionRecord, AuctionStore, Committed, NewAuction};
use hothour_domain::{Auction, AuctionId, AuctionStatus, AuctionUnit, Clock, DomainError, Effects, UserId};
use sea_orm::ConnectionTrait;

use crate::rows::{self, AUCTION_COLUMNS, RESERVATION_COLUMNS};
use crate::{PgStore, finish, persist, query_all, query_one};

const LIVE: &str = "('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW')";

/// Where a lock waits (requests) or skips a row another transaction holds (jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockMode {
    Wait,
    SkipLocked,
}

impl LockMode {
    pub(crate) fn clause(self) -> &'static str {
        match self {
            LockMode::Wait => "FOR UPDATE",
            LockMode::SkipLocked => "FOR UPDATE SKIP LOCKED",
        }
    }
}

pub(crate) async fn live_reservation(
    conn: &impl ConnectionTrait,
    id: AuctionId,
    lock: &str,
) -> Result<Option<hothour_domain::Reservation>, DomainError> {
    let sql =
        format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE auction_id = $1 AND status IN {LIVE} {lock}");
    query_one(conn, &sql, [id.0.into()]).await?.map(|row| rows::reservation(&row)).transpose()
}

/// Locks the auction row; `None` when it does not exist (or is skipped).
pub(crate) async fn lock_auction(
    conn: &impl ConnectionTrait,
    id: AuctionId,
    mode: LockMode,
) -> Result<Option<Auction>, DomainError> {
    let sql = format!("SELECT {AUCTION_COLUMNS} FROM auctions WHERE id = $1 {}", mode.clause());
    query_one(conn, &sql, [id.0.into()]).await?.map(|row| rows::auction(&row)).transpose()
}

impl PgStore {
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
        let txn = self.begin().await?;
        let result = async {
            let sql = format!(
                "SELECT {AUCTION_COLUMNS}, nextval('reservations_id_seq') AS next_reservation_id \
                 FROM auctions WHERE id = $1 {}",
                mode.clause()
            );
            let Some(row) = query_one(&txn, &sql, [id.0.into()]).await? else {
                return match mode {
                    LockMode::Wait => Err(DomainError::NotFound("auction")),
                    LockMode::SkipLocked => Ok(None),
                };
            };
            let auction = rows::auction(&row)?;
            let next_reservation_id = rows::next_reservation_id(&row)?;
            let live = live_reservation(&txn, id, "FOR UPDATE").await?;
            let ended_holders = query_all(
                &txn,
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
                persist::update_auction(&txn, &unit.auction, now).await?;
            }
            let events = persist::effects(&txn, unit.effects, now).await?;
            Ok(Some(Committed { value, events }))
        }
        .await;
        finish(txn, result).await
    }
}

impl AuctionStore for PgStore {
    async fn create_auction<F>(&self, new: NewAuction, effects: F) -> Result<Committed<Auction>, DomainError>
    where
        F: FnOnce(&Auction) -> Effects + Send,
    {
        let txn = self.begin().await?;
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
            let row = query_one(
                &txn,
                &sql,
                [
                    new.studio_id.0.into(),
                    new.details.title.clone().into(),
                    new.details.description.clone().into(),
                    schedule.start_price().amount().into(),
                    schedule.floor_price().amount().into(),
                    schedule.drop_amount().amount().into(),
                    schedule.drop_interval().num_seconds().into(),
                    schedule.starts_at().into(),
                    schedule.ends_at().into(),
                    new.details.scheduled_at.into(),
                    turbo.map(|t| t.trigger_before.num_seconds()).into(),
                    turbo.map(|t| t.drop_amount.amount()).into(),
                    turbo.map(|t| t.interval.num_seconds()).into(),
                    status.as_str().into(),
                    new.created_at.into(),
                ],
            )
            .await?
            .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let auction = rows::auction(&row)?;
            let events = persist::effects(&txn, effects(&auction), new.created_at).await?;
            Ok(Committed { value: auction, events })
        }
        .await;
        finish(txn, result).await
    }

    async fn find_auction(&self, id: AuctionId) -> Result<Option<AuctionRecord>, DomainError> {
        let sql = format!("SELECT {AUCTION_COLUMNS} FROM auctions WHERE id = $1");
        let Some(row) = query_one(&self.db, &sql, [id.0.into()]).await? else {
            return Ok(None);
        };
        let auction = rows::auction(&row)?;
        let live = live_reservation(&self.db, id, "").await?;
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
        self.auction_locked(id, LockMode::SkipLocked, clock, decide).await
    }
}
