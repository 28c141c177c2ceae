//! The event port: insert, read with availability at `now`, and decide under
//! the write lock (which stands in for PostgreSQL's lock on the event row).

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, EventRecord, EventStore, NewEvent};
use hothour_domain::{Clock, DomainError, Effects, Event, EventId, EventUnit, ReservationId, UserId};
use sea_orm::ConnectionTrait;

use crate::auctions::LockMode;
use crate::error::map_db_err_referencing;
use crate::queries::event_columns_with_lapsed;
use crate::rows::{self, EVENT_COLUMNS, RESERVATION_COLUMNS};
use crate::values::{money, time};
use crate::{SqliteStore, persist, query_all, query_one, stmt};

/// Reads the event row; `None` when it does not exist.
pub(crate) async fn read_event(conn: &impl ConnectionTrait, id: EventId) -> Result<Option<Event>, DomainError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
    query_one(conn, &sql, [id.0.into()]).await?.map(|row| rows::event(&row)).transpose()
}

impl SqliteStore {
    async fn event_locked<T, C, F>(
        &self,
        id: EventId,
        user: Option<UserId>,
        mode: LockMode,
        clock: &C,
        decide: F,
    ) -> Result<Option<Committed<T>>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        let Some(write) = self.begin_write_in(mode).await? else {
            return Ok(None);
        };
        let result = async {
            let conn = write.conn();
            let Some(event) = read_event(conn, id).await? else {
                return match mode {
                    LockMode::Wait => Err(DomainError::NotFound("event")),
                    LockMode::Skip => Ok(None),
                };
            };
            let next_reservation_id = persist::next_reservation_id(conn).await?;

            // One decision, one `now`: read after the lock is taken.
            let now = clock.now();
            // Only the lapsed holds are read, never every live one: the seat
            // counts on the event row already include them.
            let sql = format!(
                "SELECT {RESERVATION_COLUMNS} FROM reservations \
                 WHERE event_id = $1 AND status = 'HOLD' AND expires_at <= $2 ORDER BY id"
            );
            let lapsed_holds = query_all(conn, &sql, [id.0.into(), time(now)])
                .await?
                .iter()
                .map(rows::reservation)
                .collect::<Result<Vec<_>, _>>()?;
            let user_live_hold = match user {
                Some(user) => query_one(
                    conn,
                    "SELECT id FROM reservations WHERE event_id = $1 AND user_id = $2 AND status = 'HOLD' AND expires_at > $3",
                    [id.0.into(), user.0.into(), time(now)],
                )
                .await?
                .map(|row| rows::i64_column(&row, "id").map(ReservationId))
                .transpose()?,
                None => None,
            };

            let original = event.clone();
            let mut unit = EventUnit { event, lapsed_holds, user_live_hold, next_reservation_id, effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            if unit.event != original {
                persist::update_event(conn, &original, &unit.event, now).await?;
            }
            let events = persist::effects(conn, unit.effects, now).await?;
            Ok(Some(Committed { value, events }))
        }
        .await;
        write.finish_announcing(result).await
    }
}

impl EventStore for SqliteStore {
    async fn create_event<F>(&self, new: NewEvent, effects: F) -> Result<Committed<Event>, DomainError>
    where
        F: FnOnce(&Event) -> Effects + Send,
    {
        let write = self.begin_write().await?;
        let result = async {
            let d = &new.details;
            let sql = format!(
                "INSERT INTO events (studio_id, title, description, capacity, price, starts_at, ends_at, is_active, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {EVENT_COLUMNS}"
            );
            let values = [
                new.studio_id.0.into(),
                d.title.clone().into(),
                d.description.clone().into(),
                i64::from(d.capacity).into(),
                money(d.price),
                time(d.starts_at),
                time(d.ends_at),
                d.is_active.into(),
                time(new.created_at),
            ];
            let row = write
                .conn()
                .query_one_raw(stmt(&sql, values))
                .await
                .map_err(|e| map_db_err_referencing(e, "studio"))?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let event = rows::event(&row)?;
            let events = persist::effects(write.conn(), effects(&event), new.created_at).await?;
            Ok(Committed { value: event, events })
        }
        .await;
        write.finish_announcing(result).await
    }

    async fn find_event(&self, id: EventId, now: DateTime<Utc>) -> Result<Option<EventRecord>, DomainError> {
        // Holds that lapsed but were not swept yet no longer count.
        let sql = format!(
            "SELECT {} FROM events e WHERE e.id = $1 AND e.deleted_at IS NULL",
            event_columns_with_lapsed("$2")
        );
        let Some(row) = query_one(&self.db, &sql, [id.0.into(), time(now)]).await? else {
            return Ok(None);
        };
        rows::event_record(&row).map(Some)
    }

    async fn with_event_locked<T, C, F>(
        &self,
        id: EventId,
        user: Option<UserId>,
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.event_locked(id, user, LockMode::Wait, clock, decide).await?.ok_or(DomainError::NotFound("event"))
    }

    async fn try_with_event_locked<T, C, F>(
        &self,
        id: EventId,
        clock: &C,
        decide: F,
    ) -> Result<Option<Committed<T>>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.event_locked(id, None, LockMode::Skip, clock, decide).await
    }
}
