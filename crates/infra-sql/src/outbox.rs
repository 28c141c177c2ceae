//! The outbox as an event log (resume reads, pruning) and what background
//! jobs look for. The fan-out side is the dialect's: see [`SqlStore::listen`].

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, JobStore, OutboxStore};
use hothour_domain::{AuctionId, DomainError, ReservationId, StoredEvent};

use crate::SqlStore;
use crate::rows::OUTBOX_COLUMNS;

impl SqlStore {
    async fn max_outbox_id(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<i64, DomainError> {
        let row = self.one(&self.db, sql, values).await?;
        row.map_or(Ok(0), |row| self.read(&row).i64("id"))
    }

    async fn stored_events(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<Vec<StoredEvent>, DomainError> {
        self.all(&self.db, sql, values).await?.iter().map(|row| self.read(row).stored_event()).collect()
    }
}

impl OutboxStore for SqlStore {
    async fn latest_seq(&self, room: &str) -> Result<i64, DomainError> {
        self.max_outbox_id("SELECT COALESCE(MAX(id), 0) AS id FROM outbox WHERE room = $1", vec![room.into()]).await
    }

    async fn events_since(&self, room: &str, since: i64, limit: u32) -> Result<Option<Vec<StoredEvent>>, DomainError> {
        // Ids are global: if anything after `since` may have been pruned, we
        // cannot tell whether it belonged to this room, so a snapshot is needed.
        let row = self
            .one(&self.db, "SELECT COALESCE(MIN(id), 0) AS oldest, COALESCE(MAX(id), 0) AS newest FROM outbox", [])
            .await?
            .ok_or_else(|| DomainError::storage_message("no row from an aggregate"))?;
        let (oldest, newest) = (self.read(&row).i64("oldest")?, self.read(&row).i64("newest")?);
        let kept = if newest == 0 { since == 0 } else { since >= oldest - 1 && since <= newest };
        if !kept {
            return Ok(None);
        }
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE room = $1 AND id > $2 ORDER BY id LIMIT $3");
        self.stored_events(&sql, vec![room.into(), since.into(), i64::from(limit).into()]).await.map(Some)
    }

    async fn events_between(&self, first: i64, last: i64) -> Result<Vec<StoredEvent>, DomainError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id BETWEEN $1 AND $2 ORDER BY id");
        self.stored_events(&sql, vec![first.into(), last.into()]).await
    }

    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>, DomainError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id > $1 ORDER BY id LIMIT $2");
        self.stored_events(&sql, vec![seq.into(), i64::from(limit).into()]).await
    }

    async fn latest_seq_overall(&self) -> Result<i64, DomainError> {
        self.max_outbox_id("SELECT COALESCE(MAX(id), 0) AS id FROM outbox", vec![]).await
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, DomainError> {
        let write = self.write().await?;
        let result = self.exec(write.conn(), "DELETE FROM outbox WHERE created_at < $1", [self.d().time(before)]).await;
        self.finish(write, result).await
    }

    async fn append_event(
        &self,
        room: &str,
        kind: &str,
        data: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<StoredEvent, DomainError> {
        let write = self.write().await?;
        let result = async {
            let sql = format!(
                "INSERT INTO outbox (room, kind, payload, created_at) VALUES {} RETURNING {OUTBOX_COLUMNS}",
                self.outbox_rows(1)
            );
            let values = [room.into(), kind.into(), data.to_string().into(), self.d().time(at)];
            let row = self
                .one(write.conn(), &sql, values)
                .await?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            Ok(Committed { value: (), events: vec![self.read(&row).stored_event()?] })
        }
        .await;
        let mut committed = self.finish_announcing(write, result).await?;
        committed.events.pop().ok_or_else(|| DomainError::storage_message("the stored event went missing"))
    }

    async fn latest_event(&self, room: &str, kind: &str) -> Result<Option<StoredEvent>, DomainError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE room = $1 AND kind = $2 ORDER BY id DESC LIMIT 1");
        Ok(self.stored_events(&sql, vec![room.into(), kind.into()]).await?.pop())
    }
}

impl JobStore for SqlStore {
    async fn auctions_to_settle(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<AuctionId>, DomainError> {
        let sql = format!(
            "SELECT id FROM auctions WHERE cancelled_at IS NULL AND ( \
               (status = 'DRAFT' AND starts_at <= $1) \
               OR (status = 'ACTIVE' AND ends_at <= $1) \
               OR (status IN ('ACTIVE', 'HELD') AND NOT turbo_announced AND ends_at > $1 \
                   AND (turbo_started_at <= $1 OR {}))) \
             ORDER BY id LIMIT $2",
            self.d().lead_reached_sql("ends_at", "turbo_trigger_before_seconds", "$1")
        );
        let rows = self.all(&self.db, &sql, [self.d().time(now), i64::from(limit).into()]).await?;
        rows.iter().map(|row| self.read(row).i64("id").map(AuctionId)).collect()
    }

    async fn due_no_shows(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<ReservationId>, DomainError> {
        // A grace no instant can hold reaches back before any session.
        let cutoff = now.checked_sub_signed(grace).unwrap_or(DateTime::UNIX_EPOCH);
        let rows = self
            .all(
                &self.db,
                "SELECT r.id FROM reservations r \
                   LEFT JOIN auctions a ON a.id = r.auction_id \
                   LEFT JOIN events e ON e.id = r.event_id \
                 WHERE r.status = 'CONFIRMED' AND COALESCE(a.scheduled_at, e.starts_at) <= $1 \
                 ORDER BY r.id LIMIT $2",
                [self.d().time(cutoff), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(|row| self.read(row).i64("id").map(ReservationId)).collect()
    }

    async fn due_reminders(
        &self,
        now: DateTime<Utc>,
        before: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<ReservationId>, DomainError> {
        let until = now.checked_add_signed(before).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let d = self.d();
        let rows = self
            .all(
                &self.db,
                "SELECT r.id FROM reservations r \
                   LEFT JOIN auctions a ON a.id = r.auction_id \
                   LEFT JOIN events e ON e.id = r.event_id \
                 WHERE r.status = 'CONFIRMED' \
                   AND COALESCE(a.scheduled_at, e.starts_at) > $1 AND COALESCE(a.scheduled_at, e.starts_at) <= $2 \
                   AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.kind = 'booking_reminder' \
                                   AND m.cause = 'reservation:' || r.id AND m.recipient_id = r.user_id) \
                   AND NOT EXISTS (SELECT 1 FROM mail_opt_outs o \
                                   WHERE o.user_id = r.user_id AND o.kind = 'booking_reminder') \
                 ORDER BY r.id LIMIT $3",
                [d.time(now), d.time(until), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(|row| self.read(row).i64("id").map(ReservationId)).collect()
    }
}
