//! The event port: insert, read with availability at `now`, and decide under
//! the event's row lock.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, EventRecord, EventStore, NewEvent};
use hothour_domain::{Clock, DomainError, Effects, Event, EventId, EventUnit, ReservationId, UserId};
use sea_orm::ConnectionTrait;

use crate::auctions::LockMode;
use crate::rows::{self, EVENT_COLUMNS, RESERVATION_COLUMNS};
use crate::{PgStore, finish, persist, query_all, query_one};

/// Locks the event row; `None` when it does not exist (or is skipped).
pub(crate) async fn lock_event(
    conn: &impl ConnectionTrait,
    id: EventId,
    mode: LockMode,
) -> Result<Option<Event>, DomainError> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 {}", mode.clause());
    query_one(conn, &sql, [id.0.into()]).await?.map(|row| rows::event(&row)).transpose()
}

impl PgStore {
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
        let txn = self.begin().await?;
        let result = async {
            let sql = format!(
                "SELECT {EVENT_COLUMNS}, nextval('reservations_id_seq') AS next_reservation_id FROM events WHERE id = $1 {}",
                mode.clause()
            );
            let Some(row) = query_one(&txn, &sql, [id.0.into()]).await? else {
                return match mode {
                    LockMode::Wait => Err(DomainError::NotFound("event")),
                    LockMode::SkipLocked => Ok(None),
                };
            };
            let event = rows::event(&row)?;
            let next_reservation_id = rows::next_reservation_id(&row)?;

            // One decision, one `now`: read after the lock is taken.
            let now = clock.now();
            // Only the lapsed holds are read, never every live one: the seat
            // counts on the event row already include them.
            let sql = format!(
                "SELECT {RESERVATION_COLUMNS} FROM reservations \
                 WHERE event_id = $1 AND status = 'HOLD' AND expires_at <= $2 ORDER BY id FOR UPDATE"
            );
            let lapsed_holds = query_all(&txn, &sql, [id.0.into(), now.into()])
                .await?
                .iter()
                .map(rows::reservation)
                .collect::<Result<Vec<_>, _>>()?;
            let user_live_hold = match user {
                Some(user) => query_one(
                    &txn,
                    "SELECT id FROM reservations WHERE event_id = $1 AND user_id = $2 AND status = 'HOLD' AND expires_at > $3",
                    [id.0.into(), user.0.into(), now.into()],
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
                persist::update_event(&txn, &original, &unit.event, now).await?;
            }
            let events = persist::effects(&txn, unit.effects, now).await?;
            Ok(Some(Committed { value, events }))
        }
        .await;
        finish(txn, result).await
    }
}

impl EventStore for PgStore {
    async fn create_event<F>(&self, new: NewEvent, effects: F) -> Result<Committed<Event>, DomainError>
    where
        F: FnOnce(&Event) -> Effects + Send,
    {
        let txn = self.begin().await?;
        let result = async {
            let d = &new.details;
            let sql = format!(
                "INSERT INTO events (studio_id, title, description, capacity, price, starts_at, ends_at, is_active, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {EVENT_COLUMNS}"
            );
            let row = query_one(
                &txn,
                &sql,
                [
                    new.studio_id.0.into(),
                    d.title.clone().into(),
                    d.description.clone().into(),
                    (d.capacity as i32).into(),
                    d.price.amount().into(),
                    d.starts_at.into(),
                    d.ends_at.into(),
                    d.is_active.into(),
                    new.created_at.into(),
                ],
            )
            .await?
            .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let event = rows::event(&row)?;
            let events = persist::effects(&txn, effects(&event), new.created_at).await?;
            Ok(Committed { value: event, events })
        }
        .await;
        finish(txn, result).await
    }

    async fn find_event(&self, id: EventId, now: DateTime<Utc>) -> Result<Option<EventRecord>, DomainError> {
        // Holds that lapsed but were not swept yet no longer count.
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, \
               (SELECT COALESCE(SUM(quantity), 0)::int FROM reservations r \
                  WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at <= $2) AS lapsed_seats, \
               (SELECT COUNT(*)::int FROM reservations r \
                  WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at <= $2) AS lapsed_count \
             FROM events e WHERE e.id = $1 AND e.deleted_at IS NULL"
        );
        let Some(row) = query_one(&self.db, &sql, [id.0.into(), now.into()]).await? else {
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
        self.event_locked(id, None, LockMode::SkipLocked, clock, decide).await
    }
}
