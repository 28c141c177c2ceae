//! The outbox as an event log: resume reads, pruning, and the LISTEN side of
//! the fan-out (each committing transaction NOTIFYs the range of ids it wrote).

use chrono::{DateTime, Utc};
use hothour_domain::ports::{JobStore, OutboxStore};
use hothour_domain::{AuctionId, DomainError, ReservationId, StoredEvent};
use sea_orm::QueryResult;
use sea_orm::sqlx::postgres::PgListener;

use crate::error::corrupt;
use crate::rows::i64_column;
use crate::{PgStore, execute, finish, query_all, query_one};

/// The channel committing transactions notify with `"<first id>,<last id>"`.
pub const CHANNEL: &str = "hothour_outbox";

pub(crate) fn stored_event(row: &QueryResult) -> Result<StoredEvent, DomainError> {
    Ok(StoredEvent {
        seq: i64_column(row, "id")?,
        room: row.try_get("", "room").map_err(|e| corrupt("outbox", e))?,
        kind: row.try_get("", "kind").map_err(|e| corrupt("outbox", e))?,
        data: row.try_get("", "payload").map_err(|e| corrupt("outbox", e))?,
        at: row.try_get("", "created_at").map_err(|e| corrupt("outbox", e))?,
    })
}

const COLUMNS: &str = "id, room, kind, payload, created_at";

impl OutboxStore for PgStore {
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
        execute(&self.db, "DELETE FROM outbox WHERE created_at < $1", [before.into()]).await
    }

    async fn append_event(
        &self,
        room: &str,
        kind: &str,
        data: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<StoredEvent, DomainError> {
        let txn = self.begin().await?;
        let result = async {
            let sql = format!(
                "INSERT INTO outbox (room, kind, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
            );
            let row = query_one(&txn, &sql, [room.into(), kind.into(), data.into(), at.into()])
                .await?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let event = stored_event(&row)?;
            let range = format!("{},{}", event.seq, event.seq);
            execute(&txn, "SELECT pg_notify($1, $2)", [CHANNEL.into(), range.into()]).await?;
            Ok(event)
        }
        .await;
        finish(txn, result).await
    }

    async fn latest_event(&self, room: &str, kind: &str) -> Result<Option<StoredEvent>, DomainError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE room = $1 AND kind = $2 ORDER BY id DESC LIMIT 1");
        query_one(&self.db, &sql, [room.into(), kind.into()]).await?.map(|row| stored_event(&row)).transpose()
    }
}

impl JobStore for PgStore {
    async fn auctions_to_settle(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<AuctionId>, DomainError> {
        // Turbo's start is compared in exact numeric seconds: timestamp
        // arithmetic would fail the whole query on one row's absurd lead.
        let rows = query_all(
            &self.db,
            "SELECT id FROM auctions WHERE cancelled_at IS NULL AND ( \
               (status = 'DRAFT' AND starts_at <= $1) \
               OR (status = 'ACTIVE' AND ends_at <= $1) \
               OR (status IN ('ACTIVE', 'HELD') AND NOT turbo_announced AND ends_at > $1 \
                   AND (turbo_started_at <= $1 \
                        OR extract(epoch FROM ends_at) - turbo_trigger_before_seconds <= extract(epoch FROM $1)))) \
             ORDER BY id LIMIT $2",
            [now.into(), i64::from(limit).into()],
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
        let rows = query_all(
            &self.db,
            "SELECT r.id FROM reservations r \
               LEFT JOIN auctions a ON a.id = r.auction_id \
               LEFT JOIN events e ON e.id = r.event_id \
             WHERE r.status = 'CONFIRMED' \
               AND COALESCE(a.scheduled_at, e.starts_at) <= $1 - make_interval(secs => $2) \
             ORDER BY r.id LIMIT $3",
            [now.into(), (grace.num_milliseconds() as f64 / 1000.0).into(), i64::from(limit).into()],
        )
        .await?;
        rows.iter().map(|row| i64_column(row, "id").map(ReservationId)).collect()
    }
}

/// Listens for committed outbox ranges.
pub struct OutboxListener {
    listener: PgListener,
}

/// What the listener heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Events `first..=last` were committed.
    Range(i64, i64),
    /// The connection was lost and is being re-established: notifications
    /// may have been missed, so catch up from the outbox.
    Reconnected,
}

impl OutboxListener {
    pub async fn connect(url: &str) -> Result<OutboxListener, DomainError> {
        let mut listener = PgListener::connect(url).await.map_err(|e| DomainError::storage(e))?;
        listener.listen(CHANNEL).await.map_err(|e| DomainError::storage(e))?;
        Ok(OutboxListener { listener })
    }

    pub async fn recv(&mut self) -> Result<Heard, DomainError> {
        loop {
            match self.listener.try_recv().await.map_err(|e| DomainError::storage(e))? {
                None => return Ok(Heard::Reconnected),
                Some(notification) => {
                    let parsed = notification
                        .payload()
                        .split_once(',')
                        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                    if let Some((first, last)) = parsed {
                        return Ok(Heard::Range(first, last));
                    }
                    tracing::warn!(payload = notification.payload(), "ignoring a malformed outbox notification");
                }
            }
        }
    }
}
