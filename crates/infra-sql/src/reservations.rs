//! The reservation port: decisions on one reservation, its parent locked first.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{Committed, ReservationStore};
use hothour_domain::{
    BookingCode, Clock, DomainError, Effects, EventId, EventReservationsUnit, Parent, Reservation, ReservationId,
    ReservationTarget, ReservationUnit,
};

use crate::SqlStore;
use crate::dialect::{LockMode, RowLock};
use crate::rows::RESERVATION_COLUMNS;
use crate::sql::Conditions;

impl ReservationStore for SqlStore {
    async fn find_reservation(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError> {
        let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1");
        self.one(&self.db, &sql, [id.0.into()]).await?.map(|row| self.read(&row).reservation()).transpose()
    }

    async fn find_reservation_by_code(&self, code: &BookingCode) -> Result<Option<Reservation>, DomainError> {
        let sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE booking_code = $1");
        self.one(&self.db, &sql, [code.as_str().into()]).await?.map(|row| self.read(&row).reservation()).transpose()
    }

    async fn with_reservation_locked<T, C, F>(
        &self,
        id: ReservationId,
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut ReservationUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        let not_found = || DomainError::NotFound("reservation");
        // The parent never changes, so it can be read before any lock is taken.
        let target = self.find_reservation(id).await?.ok_or_else(not_found)?.target;
        let write = self.write().await?;
        let result = async {
            let conn = write.conn();
            // Parent first, then the reservation: the order every path uses.
            let parent = match target {
                ReservationTarget::Auction(auction) => {
                    Parent::Auction(self.lock_auction(conn, auction).await?.ok_or_else(not_found)?)
                }
                ReservationTarget::Event(event) => {
                    Parent::Event(self.lock_event(conn, event).await?.ok_or_else(not_found)?)
                }
            };
            let sql = format!(
                "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1 {}",
                self.d().lock_clause(RowLock::Update(LockMode::Wait))
            );
            let row = self.one(conn, &sql, [id.0.into()]).await?.ok_or_else(not_found)?;
            let reservation = self.read(&row).reservation()?;

            let now = clock.now();
            let mut unit = ReservationUnit { reservation, parent: parent.clone(), effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            match (&unit.parent, &parent) {
                (Parent::Auction(after), Parent::Auction(before)) if after != before => {
                    self.update_auction(conn, after, now).await?;
                }
                (Parent::Event(after), Parent::Event(before)) if after != before => {
                    self.update_event(conn, before, after, now).await?;
                }
                _ => {}
            }
            let events = self.write_effects(conn, unit.effects, now).await?;
            Ok(Committed { value, events })
        }
        .await;
        self.finish_announcing(write, result).await
    }

    async fn with_event_reservations_locked<T, C, F>(
        &self,
        event: EventId,
        ids: &[ReservationId],
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventReservationsUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        let write = self.write().await?;
        let result = async {
            let conn = write.conn();
            // Parent first, then the reservations: the order every path uses.
            let before = self.lock_event(conn, event).await?.ok_or(DomainError::NotFound("event"))?;
            let mut c = Conditions::new();
            let event_param = c.bind(event.0);
            let placeholders: Vec<String> = ids.iter().map(|id| c.bind(id.0)).collect();
            c.push(format!("event_id = {event_param}"));
            if !placeholders.is_empty() {
                c.push(format!("id IN ({})", placeholders.join(", ")));
            }
            let sql = format!(
                "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {} ORDER BY id {}",
                c.sql(),
                self.d().lock_clause(RowLock::Update(LockMode::Wait))
            );
            let reservations = if ids.is_empty() {
                Vec::new()
            } else {
                self.all(conn, &sql, c.values)
                    .await?
                    .iter()
                    .map(|row| self.read(row).reservation())
                    .collect::<Result<Vec<_>, _>>()?
            };

            let now = clock.now();
            let mut unit = EventReservationsUnit {
                parent: Parent::Event(before.clone()),
                reservations,
                effects: Effects::default(),
            };
            let value = decide(&mut unit, now)?;
            if let Parent::Event(after) = &unit.parent
                && *after != before
            {
                self.update_event(conn, &before, after, now).await?;
            }
            let events = self.write_effects(conn, unit.effects, now).await?;
            Ok(Committed { value, events })
        }
        .await;
        self.finish_announcing(write, result).await
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
