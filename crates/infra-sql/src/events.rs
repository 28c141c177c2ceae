//! The event port: insert, read with availability at `now`, and decide under
//! the event's lock.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, EventRecord, EventStore, NewEvent};
use hothour_domain::{Clock, DomainError, Effects, Event, EventId, EventUnit, Reservation, ReservationId, UserId};
use sea_orm::{ConnectionTrait, Value};

use crate::dialect::{LockMode, RowLock};
use crate::rows::{EVENT_COLUMNS, RESERVATION_COLUMNS};
use crate::sql::{Conditions, event_columns_with_lapsed};
use crate::{SqlStore, absent};

impl SqlStore {
    /// Locks the event row; `None` when it does not exist.
    pub(crate) async fn lock_event(
        &self,
        conn: &impl ConnectionTrait,
        id: EventId,
    ) -> Result<Option<Event>, DomainError> {
        let lock = self.d().lock_clause(RowLock::Update(LockMode::Wait));
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 {lock}");
        self.one(conn, &sql, [id.0.into()]).await?.map(|row| self.read(&row).event()).transpose()
    }

    async fn event_locked<T, C, F>(
        &self,
        id: EventId,
        users: &[UserId],
        mode: LockMode,
        clock: &C,
        decide: F,
    ) -> Result<Option<Committed<T>>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        let Some(write) = self.write_in(mode).await? else {
            return Ok(None);
        };
        let result = async {
            let conn = write.conn();
            let d = self.d();
            // Drawn before the lock, which they do not need, so that it is
            // held for one round trip less.
            let mut fresh_ids = self.fresh_reservation_ids(conn, users.len()).await?;
            fresh_ids.reverse();
            let lock = d.lock_clause(RowLock::Update(mode));
            let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 {lock}");
            let Some(row) = self.one(conn, &sql, [id.0.into()]).await? else {
                return absent(mode, "event");
            };
            let event = self.read(&row).event()?;
            // One decision, one `now`: read after the lock is taken.
            let now = clock.now();
            let (lapsed_holds, live_holds) = self.event_holds(conn, id, users, now).await?;

            let original = event.clone();
            let mut unit = EventUnit { event, lapsed_holds, live_holds, fresh_ids, effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            if unit.event != original {
                self.update_event(conn, &original, &unit.event, now).await?;
            }
            let events = self.write_effects(conn, unit.effects, now).await?;
            Ok(Some(Committed { value, events }))
        }
        .await;
        self.finish_announcing(write, result).await
    }

    /// The event's lapsed holds and the live holds of `users`, locked, in one
    /// read. Never every live hold: the seat counts on the event row already
    /// include them.
    async fn event_holds(
        &self,
        conn: &impl ConnectionTrait,
        id: EventId,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<(Vec<Reservation>, BTreeMap<UserId, ReservationId>), DomainError> {
        let d = self.d();
        let mut c = Conditions::new();
        let (event, now_param) = (c.bind(id.0), c.bind(d.time(now)));
        let lapsed = d.lapsed_holds_sql(&event, &now_param);
        if users.is_empty() {
            c.push(lapsed);
        } else {
            // Through the users' own reservations (`event_id + 0` keeps the
            // planner off the event's indexes, as in `lapsed_holds_sql`):
            // a few rows, however many holds the event has.
            let users: Vec<String> = users.iter().map(|user| c.bind(user.0)).collect();
            let theirs = format!("status = 'HOLD' AND user_id IN ({}) AND event_id + 0 = {event}", users.join(", "));
            c.push(format!("(({lapsed}) OR ({theirs}))"));
        }
        let sql = format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {} ORDER BY id {}",
            c.sql(),
            d.lock_clause(RowLock::Update(LockMode::Wait))
        );
        let mut lapsed = Vec::new();
        let mut live = BTreeMap::new();
        for row in self.all(conn, &sql, c.values).await? {
            let hold = self.read(&row).reservation()?;
            if hold.expires_at <= now {
                lapsed.push(hold);
            } else {
                live.insert(hold.user_id, hold.id);
            }
        }
        Ok((lapsed, live))
    }

    /// `count` ids for new reservations, ascending.
    async fn fresh_reservation_ids(
        &self,
        conn: &impl ConnectionTrait,
        count: usize,
    ) -> Result<Vec<ReservationId>, DomainError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let sql = self.d().fresh_reservation_ids_sql();
        let rows = self.all(conn, &sql, [(count as i64).into()]).await?;
        rows.iter().map(|row| self.read(row).i64("id").map(ReservationId)).collect()
    }
}

impl EventStore for SqlStore {
    async fn create_event<F>(&self, new: NewEvent, effects: F) -> Result<Committed<Event>, DomainError>
    where
        F: FnOnce(&Event) -> Effects + Send,
    {
        let write = self.write().await?;
        let result = async {
            let d = self.d();
            let details = &new.details;
            let sql = format!(
                "INSERT INTO events (studio_id, title, description, capacity, price, starts_at, ends_at, is_active, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {EVENT_COLUMNS}"
            );
            let values: [Value; 9] = [
                new.studio_id.0.into(),
                details.title.clone().into(),
                details.description.clone().into(),
                d.int(i64::from(details.capacity)),
                d.money(details.price),
                d.time(details.starts_at),
                d.time(details.ends_at),
                details.is_active.into(),
                d.time(new.created_at),
            ];
            let row = self
                .one_referencing(write.conn(), "studio", &sql, values)
                .await?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let event = self.read(&row).event()?;
            let events = self.write_effects(write.conn(), effects(&event), new.created_at).await?;
            Ok(Committed { value: event, events })
        }
        .await;
        self.finish_announcing(write, result).await
    }

    async fn find_event(&self, id: EventId, now: DateTime<Utc>) -> Result<Option<EventRecord>, DomainError> {
        // Holds that lapsed but were not swept yet no longer count.
        let sql = format!(
            "SELECT {} FROM events e WHERE e.id = $1 AND e.deleted_at IS NULL",
            event_columns_with_lapsed("$2")
        );
        let Some(row) = self.one(&self.db, &sql, [id.0.into(), self.d().time(now)]).await? else {
            return Ok(None);
        };
        self.read(&row).event_record().map(Some)
    }

    async fn with_event_locked<T, C, F>(
        &self,
        id: EventId,
        users: &[UserId],
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.event_locked(id, users, LockMode::Wait, clock, decide).await?.ok_or(DomainError::NotFound("event"))
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
        self.event_locked(id, &[], LockMode::Skip, clock, decide).await
    }
}
