//! Price alerts and mail preferences (SPEC §14): the rows, the job's list
//! of auctions with alerts, and an auction locked with its alerts for the
//! decision that fires them.

use chrono::{DateTime, Utc};
use hothour_domain::alerts::{AlertStore, AlertsUnit, AuctionAlerts, PriceAlert, WatchedAlert};
use hothour_domain::mail::MailKind;
use hothour_domain::ports::LockMode;
use hothour_domain::{AlertId, AuctionId, Clock, DomainError, Effects, Money, Parent, UserId};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use crate::SqlStore;
use crate::locks::{LockRows, Locked};
use crate::rows::{AUCTION_COLUMNS, Reader};
use crate::sql::placeholders;

const ALERT_COLUMNS: &str = "id, user_id, auction_id, below, created_at";

fn alert(row: &Reader<'_>) -> Result<PriceAlert, DomainError> {
    Ok(PriceAlert {
        id: AlertId(row.i64("id")?),
        user_id: UserId(row.i64("user_id")?),
        auction_id: AuctionId(row.i64("auction_id")?),
        below: row.money("below")?,
        created_at: row.time("created_at")?,
    })
}

impl SqlStore {
    /// Deletes the alerts a decision fired or ended.
    pub(crate) async fn drop_alerts(&self, conn: &impl ConnectionTrait, ids: &[AlertId]) -> Result<(), DomainError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!("DELETE FROM price_alerts WHERE id IN {}", placeholders(1, ids.len()));
        self.exec(conn, &sql, ids.iter().map(|id| id.0.into())).await.map(drop)
    }
}

impl LockRows<AuctionAlerts> for SqlStore {
    async fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        target: AuctionAlerts,
        mode: LockMode,
        clock: &C,
    ) -> Result<Option<Locked<AlertsUnit>>, DomainError> {
        let AuctionAlerts(id) = target;
        let select = format!("SELECT {AUCTION_COLUMNS} FROM auctions");
        let Some(auction) = self.lock_row(conn, &select, id.0, mode, |row| row.auction()).await? else {
            return mode.absent("auction");
        };
        let live = self.live_reservation(conn, id, None).await?;
        let sql = format!(
            "SELECT {ALERT_COLUMNS}, NOT EXISTS (SELECT 1 FROM mail_opt_outs o \
               WHERE o.user_id = price_alerts.user_id AND o.kind = 'price_alert') AS email \
             FROM price_alerts WHERE auction_id = $1 ORDER BY id"
        );
        let alerts = self
            .all(conn, &sql, [id.0.into()])
            .await?
            .iter()
            .map(|row| {
                let row = self.read(row);
                Ok(WatchedAlert { alert: alert(&row)?, email: row.bool("email")? })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let now = clock.now();
        let before = Parent::Auction(auction.clone());
        let unit = AlertsUnit { auction, live, alerts, effects: Effects::default() };
        Ok(Some(Locked { unit, before: vec![before], now }))
    }
}

impl AlertStore for SqlStore {
    async fn create_price_alert(
        &self,
        user: UserId,
        auction: AuctionId,
        below: Money,
        now: DateTime<Utc>,
    ) -> Result<PriceAlert, DomainError> {
        let d = self.d();
        let sql = format!(
            "INSERT INTO price_alerts (user_id, auction_id, below, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, auction_id) DO NOTHING RETURNING {ALERT_COLUMNS}"
        );
        let write = self.write().await?;
        let result = async {
            let values = [user.0.into(), auction.0.into(), d.money(below), d.time(now)];
            let row = self.one_referencing(write.conn(), "auction", &sql, values).await?;
            alert(&self.read(&row.ok_or(DomainError::PriceAlertExists)?))
        }
        .await;
        self.finish(write, result).await
    }

    async fn price_alerts_of(&self, user: UserId) -> Result<Vec<PriceAlert>, DomainError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM price_alerts WHERE user_id = $1 ORDER BY id DESC");
        self.all(&self.db, &sql, [user.0.into()]).await?.iter().map(|row| alert(&self.read(row))).collect()
    }

    async fn delete_price_alert(&self, user: UserId, id: AlertId) -> Result<bool, DomainError> {
        let write = self.write().await?;
        let sql = "DELETE FROM price_alerts WHERE id = $1 AND user_id = $2";
        let result = self.exec(write.conn(), sql, [id.0.into(), user.0.into()]).await;
        self.finish(write, result.map(|deleted| deleted > 0)).await
    }

    async fn auctions_with_alerts(&self, after: AuctionId, limit: u32) -> Result<Vec<(AuctionId, Money)>, DomainError> {
        let sql = "SELECT auction_id, MAX(below) AS below FROM price_alerts WHERE auction_id > $1 \
                   GROUP BY auction_id ORDER BY auction_id LIMIT $2";
        let rows = self.all(&self.db, sql, [after.0.into(), i64::from(limit).into()]).await?;
        rows.iter()
            .map(|row| {
                let row = self.read(row);
                Ok((AuctionId(row.i64("auction_id")?), row.money("below")?))
            })
            .collect()
    }

    async fn mail_opt_outs(&self, user: UserId) -> Result<Vec<MailKind>, DomainError> {
        let rows = self.all(&self.db, "SELECT kind FROM mail_opt_outs WHERE user_id = $1", [user.0.into()]).await?;
        let kinds = rows.iter().map(|row| self.read(row).string("kind")).collect::<Result<Vec<_>, _>>()?;
        Ok(kinds.iter().filter_map(|kind| MailKind::parse(kind)).collect())
    }

    async fn set_mail_wanted(
        &self,
        user: UserId,
        kind: MailKind,
        wanted: bool,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let write = self.write().await?;
        let values = [user.0.into(), kind.as_str().into()];
        let result = if wanted {
            self.exec(write.conn(), "DELETE FROM mail_opt_outs WHERE user_id = $1 AND kind = $2", values).await
        } else {
            let sql = "INSERT INTO mail_opt_outs (user_id, kind, created_at) VALUES ($1, $2, $3) \
                       ON CONFLICT (user_id, kind) DO NOTHING";
            let [user, kind] = values;
            self.exec_referencing(write.conn(), "user", sql, [user, kind, self.d().time(now)]).await
        };
        self.finish(write, result.map(drop)).await
    }
}
