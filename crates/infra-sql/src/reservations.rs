//! The reservation port: reads, and locks for decisions on one reservation or
//! several of one event, their parent locked first.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{
    Decided, Decision, EventBookings, EventReservations, LockMode, LockTarget, Locks, ReservationStore,
};
use hothour_domain::{
    BookingCode, Clock, DomainError, Effects, EventReservationsUnit, Parent, Reservation, ReservationId,
    ReservationTarget, ReservationUnit,
};
use sea_orm::DatabaseTransaction;

use crate::SqlStore;
use crate::dialect::RowLock;
use crate::locks::{LockRows, Locked};
use crate::rows::RESERVATION_COLUMNS;
use crate::sql::Conditions;
use crate::waitlist::free_at_most;

/// Seats booked (confirmed, checked in, no-show) by `reservations`: what
/// ending them could free.
fn booked_seats(reservations: &[Reservation]) -> u32 {
    reservations.iter().filter(|r| r.status.is_booked()).map(|r| r.quantity).sum()
}

impl ReservationStore for SqlStore {
    async fn find_reservation(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError> {
        let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1");
        self.one(&self.db, &sql, [id.0.into()]).await?.map(|row| self.read(&row).reservation()).transpose()
    }

    async fn find_reservation_by_code(&self, code: &BookingCode) -> Result<Option<Reservation>, DomainError> {
        let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE booking_code = $1");
        self.one(&self.db, &sql, [code.as_str().into()]).await?.map(|row| self.read(&row).reservation()).transpose()
    }

    async fn parents_with_lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ReservationTarget>, DomainError> {
        let rows = self
            .all(
                &self.db,
                "SELECT auction_id, event_id, MIN(expires_at) AS oldest FROM reservations \
                 WHERE status = 'HOLD' AND expires_at <= $1 \
                 GROUP BY auction_id, event_id ORDER BY oldest LIMIT $2",
                [self.d().time(now), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(|row| self.read(row).target()).collect()
    }
}

/// A reservation whose parent was read before the write began: it never
/// changes, so no lock is needed for that.
struct Located {
    id: ReservationId,
    parent: ReservationTarget,
}

impl LockTarget for Located {
    type Unit = ReservationUnit;
}

impl Locks<ReservationId> for SqlStore {
    async fn locked<T, C, F>(&self, id: ReservationId, mode: LockMode, clock: &C, decide: F) -> Decided<T>
    where
        T: Send,
        C: Clock,
        F: Decision<ReservationUnit, T>,
    {
        match self.find_reservation(id).await? {
            Some(reservation) => self.locked(Located { id, parent: reservation.target }, mode, clock, decide).await,
            None => mode.absent("reservation"),
        }
    }
}

impl LockRows<Located> for SqlStore {
    async fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        target: Located,
        mode: LockMode,
        clock: &C,
    ) -> Result<Option<Locked<ReservationUnit>>, DomainError> {
        // Parent first, then the reservation: the order every path uses.
        let Some(parent) = self.lock_parent(conn, target.parent, mode).await? else {
            return mode.absent("reservation");
        };
        let select = format!("SELECT {RESERVATION_COLUMNS} FROM reservations");
        let reservation = self.lock_row(conn, &select, target.id.0, LockMode::Wait, |row| row.reservation());
        let Some(reservation) = reservation.await? else {
            return mode.absent("reservation");
        };
        let now = clock.now();
        let mut unit = ReservationUnit::new(reservation, parent.clone());
        // Whatever the decision, seats it returns go to the event's waiting list first.
        if let Parent::Event(event) = &unit.parent {
            let released = booked_seats(std::slice::from_ref(&unit.reservation));
            unit.waiting = self.waiting_list(conn, event.id, 0, Some(free_at_most(event, released))).await?;
        }
        Ok(Some(Locked { unit, before: vec![parent], now }))
    }
}

impl LockRows<EventReservations> for SqlStore {
    async fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        target: EventReservations,
        mode: LockMode,
        clock: &C,
    ) -> Result<Option<Locked<EventReservationsUnit>>, DomainError> {
        let EventReservations { event, ids } = target;
        // Parent first, then the reservations: the order every path uses.
        let Some(parent) = self.lock_parent(conn, ReservationTarget::Event(event), mode).await? else {
            return mode.absent("event");
        };
        let reservations = if ids.is_empty() {
            Vec::new()
        } else {
            let mut c = Conditions::new();
            let event_param = c.bind(event.0);
            let placeholders: Vec<String> = ids.iter().map(|id| c.bind(id.0)).collect();
            c.push(format!("event_id = {event_param}"));
            c.push(format!("id IN ({})", placeholders.join(", ")));
            let sql = format!(
                "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {} ORDER BY id {}",
                c.sql(),
                self.d().lock_clause(RowLock::Update(LockMode::Wait))
            );
            let rows = self.all(conn, &sql, c.values).await?;
            rows.iter().map(|row| self.read(row).reservation()).collect::<Result<Vec<_>, _>>()?
        };
        let now = clock.now();
        let waiting = match &parent {
            Parent::Event(locked) => {
                let most = free_at_most(locked, booked_seats(&reservations));
                self.waiting_list(conn, event, 0, Some(most)).await?
            }
            Parent::Auction(_) => Default::default(),
        };
        let unit = EventReservationsUnit { parent: parent.clone(), reservations, waiting, effects: Effects::default() };
        Ok(Some(Locked { unit, before: vec![parent], now }))
    }
}

impl LockRows<EventBookings> for SqlStore {
    async fn lock_rows<C: Clock>(
        &self,
        conn: &DatabaseTransaction,
        target: EventBookings,
        mode: LockMode,
        clock: &C,
    ) -> Result<Option<Locked<EventReservationsUnit>>, DomainError> {
        // Parent first, then the reservations: the order every path uses.
        let Some(parent) = self.lock_parent(conn, ReservationTarget::Event(target.event), mode).await? else {
            return mode.absent("event");
        };
        // Every one the event's lock keeps from changing meanwhile, read under it.
        let sql = format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE event_id = $1 AND status IN ('HOLD', 'CONFIRMED') \
             ORDER BY id {}",
            self.d().lock_clause(RowLock::Update(LockMode::Wait))
        );
        let rows = self.all(conn, &sql, [target.event.0.into()]).await?;
        let reservations = rows.iter().map(|row| self.read(row).reservation()).collect::<Result<Vec<_>, _>>()?;
        let now = clock.now();
        // Cancelling the event ends its waiting list too.
        let waiting = self.waiting_list(conn, target.event, 0, Some(0)).await?;
        let unit = EventReservationsUnit { parent: parent.clone(), reservations, waiting, effects: Effects::default() };
        Ok(Some(Locked { unit, before: vec![parent], now }))
    }
}
