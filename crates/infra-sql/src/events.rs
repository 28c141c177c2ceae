//! The event port: insert, read with availability at `now`, and lock an event
//! (with the holds a decision needs) for a decision.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hothour_domain::ports::{EventHolds, EventRecord, EventStore, LockMode, NewEvent};
use hothour_domain::waitlist::WaitingList;
use hothour_domain::{
    Clock, DomainError, Effects, Event, EventDetails, EventId, EventUnit, Parent, Reservation, ReservationId, UserId,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};

use crate::dialect::RowLock;
use crate::locks::{LockRows, Locked};
use crate::rows::{EVENT_COLUMNS, RESERVATION_COLUMNS, Reader};
use crate::sql::{Conditions, event_columns_with_lapsed};
use crate::waitlist::free_at_most;
use crate::{SqlInsert, SqlStore};

impl LockRows<EventHolds> for SqlStore {
    async fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        target: EventHolds,
        mode: LockMode,
        clock: &C,
    ) -> Result<Option<Locked<EventUnit>>, DomainError> {
        let EventHolds { event: id, users, waiting_list } = target;
        // Drawn before the lock, which they do not need, so that it is
        // held for one round trip less.
        let mut fresh_ids = self.fresh_reservation_ids(conn, users.len()).await?;
        fresh_ids.reverse();
        let select = format!("SELECT {EVENT_COLUMNS} FROM events");
        let Some(event) = self.lock_row(conn, &select, id.0, mode, |row| row.event()).await? else {
            return mode.absent("event");
        };
        // One decision, one `now`: read after the lock is taken.
        let now = clock.now();
        let (lapsed_holds, live_holds) = self.event_holds(conn, id, &users, now).await?;
        // Seats return only through lapsed holds on the hot path: the list is
        // read then, or when the decision asked for it.
        let waiting = if waiting_list {
            // An edit may grow the capacity: no bound on the offers.
            self.waiting_list(conn, id, fresh_ids.len(), None).await?
        } else if !lapsed_holds.is_empty() {
            self.waiting_list(conn, id, fresh_ids.len(), Some(free_at_most(&event, 0))).await?
        } else {
            WaitingList::default()
        };

        let before = Parent::Event(event.clone());
        let unit = EventUnit { event, lapsed_holds, live_holds, fresh_ids, waiting, effects: Effects::default() };
        Ok(Some(Locked { unit, before, now }))
    }
}

impl SqlStore {
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
    pub(crate) async fn fresh_reservation_ids(
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

impl SqlInsert for EventDetails {
    fn insert(store: &SqlStore, new: &NewEvent) -> (String, Vec<Value>) {
        let sql = format!(
            "INSERT INTO events (studio_id, title, description, capacity, price, starts_at, ends_at, is_active, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {EVENT_COLUMNS}"
        );
        let mut values: Vec<Value> = vec![new.studio_id.0.into()];
        values.extend(store.event_details(&new.details));
        values.push(store.d().time(new.created_at));
        (sql, values)
    }

    fn read(row: Reader<'_>) -> Result<Event, DomainError> {
        row.event()
    }
}

impl EventStore for SqlStore {
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
}
