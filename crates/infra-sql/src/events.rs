//! The event port: insert, read with availability at `now`, and lock an event
//! (with the holds a decision needs) for a decision.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use hothour_domain::ports::{EventHolds, EventRecord, EventStore, EventUnits, EventsHolds, LockMode, NewEvent};
use hothour_domain::waitlist::WaitingList;
use hothour_domain::{
    Clock, DomainError, Effects, Event, EventDetails, EventId, EventUnit, Parent, Reservation, ReservationId,
    ReservationTarget, UserId,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};

use crate::dialect::RowLock;

/// An event's lapsed holds, and the live hold of each deciding user who has one.
type EventHoldsFound = (Vec<Reservation>, BTreeMap<UserId, ReservationId>);
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
        let Locked { unit: EventUnits { mut units }, before, now } =
            self.lock_events_holds(conn, vec![target], mode, clock).await?;
        match units.pop() {
            Some(unit) => Ok(Some(Locked { unit, before, now })),
            None => mode.absent("event"),
        }
    }
}

impl LockRows<EventsHolds> for SqlStore {
    async fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        targets: EventsHolds,
        mode: LockMode,
        clock: &C,
    ) -> Result<Option<Locked<EventUnits>>, DomainError> {
        self.lock_events_holds(conn, targets.into_targets(), mode, clock).await.map(Some)
    }
}

impl SqlStore {
    /// Locks the events of `targets` (one per event, in id order) in one
    /// statement, then the holds their decisions need in one more, and loads
    /// a unit for each event that is there (and not skipped, with
    /// [`LockMode::Skip`]).
    async fn lock_events_holds<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        targets: Vec<EventHolds>,
        mode: LockMode,
        clock: &C,
    ) -> Result<Locked<EventUnits>, DomainError> {
        // Drawn before the locks, which they do not need, so that they are
        // held for one round trip less.
        let mut fresh_ids = self.fresh_reservation_ids(conn, targets.iter().map(|t| t.users.len()).sum()).await?;
        // Every id drawn in this write so far: a waiting list's ids come after
        // them all (see `waiting_list`), not only after its own event's.
        let mut drawn = fresh_ids.len();
        let events = self.lock_events(conn, targets.iter().map(|t| t.event), mode).await?;
        // One decision, one `now`: read after the locks are taken.
        let now = clock.now();
        let found: Vec<(Event, &EventHolds)> = events
            .into_iter()
            .filter_map(|event| targets.iter().find(|t| t.event == event.id).map(|target| (event, target)))
            .collect();
        let wanted: Vec<(EventId, &[UserId])> =
            found.iter().map(|(event, target)| (event.id, target.users.as_slice())).collect();
        let mut holds = self.events_holds(conn, &wanted, now).await?;

        let mut units = Vec::with_capacity(found.len());
        let mut before = Vec::with_capacity(found.len());
        for (event, target) in found {
            let (lapsed_holds, live_holds) = holds.remove(&event.id).unwrap_or_default();
            // Seats return only through lapsed holds on the hot path: the
            // list is read then, or when the decision asked for it.
            let waiting = if target.waiting_list {
                // An edit may grow the capacity: no bound on the offers.
                self.waiting_list(conn, event.id, drawn, None).await?
            } else if !lapsed_holds.is_empty() {
                self.waiting_list(conn, event.id, drawn, Some(free_at_most(&event, 0))).await?
            } else {
                WaitingList::default()
            };
            drawn += waiting.fresh_ids.len();
            // Ascending ids, handed out from the end.
            let mut ids: Vec<ReservationId> = fresh_ids.drain(..target.users.len()).collect();
            ids.reverse();
            before.push(Parent::Event(event.clone()));
            units.push(EventUnit {
                event,
                lapsed_holds,
                live_holds,
                fresh_ids: ids,
                waiting,
                effects: Effects::default(),
            });
        }
        Ok(Locked { unit: EventUnits { units }, before, now })
    }

    /// Locks the events with `ids` in id order, in one statement, and reads them.
    async fn lock_events(
        &self,
        conn: &impl ConnectionTrait,
        ids: impl Iterator<Item = EventId>,
        mode: LockMode,
    ) -> Result<Vec<Event>, DomainError> {
        let mut c = Conditions::new();
        let ids: Vec<String> = ids.map(|id| c.bind(id.0)).collect();
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE id IN ({}) ORDER BY id {}",
            ids.join(", "),
            self.d().lock_clause(RowLock::Update(mode))
        );
        self.all(conn, &sql, c.values).await?.iter().map(|row| self.read(row).event()).collect()
    }

    /// Each event's lapsed holds and the live holds of its users, locked, in
    /// one read. Never every live hold: the seat counts on the event row
    /// already include them.
    async fn events_holds(
        &self,
        conn: &impl ConnectionTrait,
        wanted: &[(EventId, &[UserId])],
        now: DateTime<Utc>,
    ) -> Result<HashMap<EventId, EventHoldsFound>, DomainError> {
        let mut found: HashMap<EventId, EventHoldsFound> = HashMap::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        let d = self.d();
        let mut c = Conditions::new();
        let events: Vec<String> = wanted.iter().map(|(event, _)| c.bind(event.0)).collect();
        let (events, now_param) = (events.join(", "), c.bind(d.time(now)));
        let lapsed = d.lapsed_holds_sql(&events, &now_param);
        let mut users: Vec<UserId> = wanted.iter().flat_map(|(_, users)| users.iter().copied()).collect();
        users.sort();
        users.dedup();
        if users.is_empty() {
            c.push(lapsed);
        } else {
            // Through the users' own reservations (`event_id + 0` keeps the
            // planner off the events' indexes, as in `lapsed_holds_sql`):
            // a few rows, however many holds the events have.
            let users: Vec<String> = users.iter().map(|user| c.bind(user.0)).collect();
            let theirs =
                format!("status = 'HOLD' AND user_id IN ({}) AND event_id + 0 IN ({events})", users.join(", "));
            c.push(format!("(({lapsed}) OR ({theirs}))"));
        }
        let sql = format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {} ORDER BY id {}",
            c.sql(),
            d.lock_clause(RowLock::Update(LockMode::Wait))
        );
        for row in self.all(conn, &sql, c.values).await? {
            let hold = self.read(&row).reservation()?;
            let ReservationTarget::Event(event) = hold.target else { continue };
            let (lapsed, live) = found.entry(event).or_default();
            if hold.expires_at <= now {
                lapsed.push(hold);
            } else if wanted.iter().any(|(e, users)| *e == event && users.contains(&hold.user_id)) {
                live.insert(hold.user_id, hold.id);
            }
        }
        Ok(found)
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
