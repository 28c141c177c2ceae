//! The outbox as an event log (resume reads, pruning) and what background
//! jobs look for. The fan-out side is the in-process bus: see
//! [`SqliteStore::subscribe_outbox`](crate::SqliteStore::subscribe_outbox).

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, JobStore, OutboxStore};
use hothour_domain::{AuctionId, DomainError, ReservationId, StoredEvent};

use crate::rows::{i64_column, stored_event};
use crate::values::{json, time};
use crate::{SqliteStore, execute, query_all, query_one};

const COLUMNS: &str = "id, room, kind, payload, created_at";

impl OutboxStore for SqliteStore {
    async fn latest_seq(&self, room: &str) -> Result<i64, DomainError> {
        let row =
            query_one(&self.db, "SELECT COALESCE(MAX(id), 0) AS id FROM outbox WHERE room = $1", [room.into()]).await?;
        row.map_or(Ok(0), |row| i64_column(&row, "id"))
    }

    async fn events_since(&self, room: &str, since: i64, limit: u32) -> Result<Option<Vec<StoredEvent>>, DomainError> {
        // Ids are global: if anything after `since` may have been pruned, we
        // cannot tell whether it belonged to this room, so a snapshot is needed.
        let row = query_one(
            &self.db,
            "SELECT COALESCE(MIN(id), 0) AS oldest, COALESCE(MAX(id), 0) AS newest FROM outbox",
            [],
        )
        .await?
        .ok_or_else(|| DomainError::storage_message("no row from an aggregate"))?;
        let (oldest, newest) = (i64_column(&row, "oldest")?, i64_column(&row, "newest")?);
        let kept = if newest == 0 { since == 0 } else { since >= oldest - 1 && since <= newest };
        if !kept {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE room = $1 AND id > $2 ORDER BY id LIMIT $3");
        let rows = query_all(&self.db, &sql, [room.into(), since.into(), i64::from(limit).into()]).await?;
        rows.iter().map(stored_event).collect::<Result<Vec<_>, _>>().map(Some)
    }

    async fn events_between(&self, first: i64, last: i64) -> Result<Vec<StoredEvent>, DomainError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id BETWEEN $1 AND $2 ORDER BY id");
        query_all(&self.db, &sql, [first.into(), last.into()]).await?.iter().map(stored_event).collect()
    }

    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>, DomainError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id > $1 ORDER BY id LIMIT $2");
        query_all(&self.db, &sql, [seq.into(), i64::from(limit).into()]).await?.iter().map(stored_event).collect()
    }

    async fn latest_seq_overall(&self) -> Result<i64, DomainError> {
        let row = query_one(&self.db, "SELECT COALESCE(MAX(id), 0) AS id FROM outbox", []).await?;
        row.map_or(Ok(0), |row| i64_column(&row, "id"))
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, DomainError> {
        let write = self.begin_write().await?;
        let result = execute(write.conn(), "DELETE FROM outbox WHERE created_at < $1", [time(before)]).await;
        write.finish(result).await
    }

    async fn append_event(
        &self,
        room: &str,
        kind: &str,
        data: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<StoredEvent, DomainError> {
        let write = self.begin_write().await?;
        let result = async {
            let sql = format!(
                "INSERT INTO outbox (room, kind, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
            );
            let row = query_one(write.conn(), &sql, [room.into(), kind.into(), json(&data), time(at)])
                .await?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            Ok(Committed { value: (), events: vec![stored_event(&row)?] })
        }
        .await;
        let mut committed = write.finish_announcing(result).await?;
        committed.events.pop().ok_or_else(|| DomainError::storage_message("the stored event went missing"))
    }

    async fn latest_event(&self, room: &str, kind: &str) -> Result<Option<StoredEvent>, DomainError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE room = $1 AND kind = $2 ORDER BY id DESC LIMIT 1");
        query_one(&self.db, &sql, [room.into(), kind.into()]).await?.map(|row| stored_event(&row)).transpose()
    }
}

impl JobStore for SqliteStore {
    async fn auctions_to_settle(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<AuctionId>, DomainError> {
        // Times are microseconds; turbo's lead is stored in seconds.
        let rows = query_all(
            &self.db,
            "SELECT id FROM auctions WHERE cancelled_at IS NULL AND ( \
               (status = 'DRAFT' AND starts_at <= $1) \
               OR (status = 'ACTIVE' AND ends_at <= $1) \
               OR (status IN ('ACTIVE', 'HELD') AND NOT turbo_announced AND ends_at > $1 \
                   AND (turbo_started_at <= $1 \
                        OR ends_at - turbo_trigger_before_seconds * 1000000 <= $1))) \
             ORDER BY id LIMIT $2",
            [time(now), i64::from(limit).into()],
        )
        .await?;
        rows.iter().map(|row| i64_column(row, "id").map(AuctionId)).collect()
    }

    async fn due_no_shows(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<ReservationId>, DomainError> {
        let grace_micros = grace.num_microseconds().unwrap_or(i64::MAX);
        let rows = query_all(
            &self.db,
            "SELECT r.id FROM reservations r \
               LEFT JOIN auctions a ON a.id = r.auction_id \
               LEFT JOIN events e ON e.id = r.event_id \
             WHERE r.status = 'CONFIRMED' \
               AND COALESCE(a.scheduled_at, e.starts_at) <= $1 - $2 \
             ORDER BY r.id LIMIT $3",
            [time(now), grace_micros.into(), i64::from(limit).into()],
        )
        .await?;
        rows.iter().map(|row| i64_column(row, "id").map(ReservationId)).collect()
    }
}
