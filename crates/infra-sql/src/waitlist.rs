//! Events' waiting lists (SPEC §14): read under the event's lock when a
//! decision may return seats, changed with the decision, and read without a
//! lock for a user's place. Every writer of an event's list holds the event's
//! row lock, so the list needs no lock of its own.

use hothour_domain::ports::WaitlistStore;
use hothour_domain::waitlist::{Waiter, WaitingList, WaitingPlace, WaitlistChange};
use hothour_domain::{DomainError, Event, EventId, ReservationId, UserId};
use sea_orm::ConnectionTrait;

use crate::SqlStore;

impl SqlStore {
    /// The event's waiting list in order of joining, each waiter with their
    /// stored HOLD on the event if any, and a fresh reservation id for each
    /// possible offer: one per waiter, and no more than `offers_at_most`
    /// when the caller knows a bound (each offer takes a seat at least, so
    /// no more than the seats that can be free after the decision; the ids
    /// never run out before the seats do). `drawn` ids were already drawn in this
    /// write: they are counted again so that where ids follow the largest
    /// stored one (SQLite) these come after them; from a sequence
    /// (PostgreSQL) the first `drawn` are simply left unused.
    pub(crate) async fn waiting_list(
        &self,
        conn: &impl ConnectionTrait,
        event: EventId,
        drawn: usize,
        offers_at_most: Option<u32>,
    ) -> Result<WaitingList, DomainError> {
        let rows = self
            .all(
                conn,
                "SELECT w.user_id, w.quantity, w.joined_at, r.id AS hold_id FROM waitlist_entries w \
                 LEFT JOIN reservations r ON r.event_id = w.event_id AND r.user_id = w.user_id AND r.status = 'HOLD' \
                 WHERE w.event_id = $1 AND w.status = 'WAITING' ORDER BY w.id",
                [event.0.into()],
            )
            .await?;
        let waiters = rows
            .iter()
            .map(|row| {
                let row = self.read(row);
                Ok(Waiter {
                    user_id: UserId(row.i64("user_id")?),
                    quantity: row.count("quantity")?,
                    joined_at: row.time("joined_at")?,
                    hold: row.opt_i64("hold_id")?.map(ReservationId),
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        if waiters.is_empty() {
            return Ok(WaitingList::default());
        }
        let offers = offers_at_most.map_or(waiters.len(), |most| waiters.len().min(most as usize));
        let mut fresh_ids = self.fresh_reservation_ids(conn, drawn + offers).await?.split_off(drawn);
        fresh_ids.reverse();
        Ok(WaitingList { waiters, fresh_ids })
    }

    /// Writes what a decision changed in waiting lists (after its
    /// reservations, which offers refer to).
    pub(crate) async fn write_waitlist(
        &self,
        conn: &impl ConnectionTrait,
        changes: &[WaitlistChange],
    ) -> Result<(), DomainError> {
        let d = self.d();
        for change in changes {
            match change {
                WaitlistChange::Joined { event, user, quantity, at } => {
                    let sql = "INSERT INTO waitlist_entries (event_id, user_id, quantity, status, joined_at) \
                               VALUES ($1, $2, $3, 'WAITING', $4)";
                    let values = [event.0.into(), user.0.into(), d.int(i64::from(*quantity)), d.time(*at)];
                    self.exec_referencing(conn, "user", sql, values).await?;
                }
                WaitlistChange::Left { event, user, at } => {
                    let sql = "UPDATE waitlist_entries SET status = 'LEFT', ended_at = $3 \
                               WHERE event_id = $1 AND user_id = $2 AND status = 'WAITING'";
                    self.exec(conn, sql, [event.0.into(), user.0.into(), d.time(*at)]).await?;
                }
                WaitlistChange::Offered { event, user, reservation, at } => {
                    let sql = "UPDATE waitlist_entries SET status = 'OFFERED', reservation_id = $3, ended_at = $4 \
                               WHERE event_id = $1 AND user_id = $2 AND status = 'WAITING'";
                    let values = [event.0.into(), user.0.into(), reservation.0.into(), d.time(*at)];
                    self.exec(conn, sql, values).await?;
                }
            }
        }
        Ok(())
    }
}

/// The most seats that can be free in `event` after a decision that may
/// end bookings of `released` seats (holds ending free no more than the
/// seats they held, already outside the confirmed seats), capacity unchanged.
pub(crate) fn free_at_most(event: &Event, released: u32) -> u32 {
    event.details.capacity.saturating_sub(event.seats.confirmed_seats.saturating_sub(released))
}

impl WaitlistStore for SqlStore {
    async fn waiting_place(&self, event: EventId, user: UserId) -> Result<Option<WaitingPlace>, DomainError> {
        let sql = "SELECT w.quantity, w.joined_at, \
                   (SELECT COUNT(*) FROM waitlist_entries o \
                    WHERE o.event_id = w.event_id AND o.status = 'WAITING' AND o.id < w.id) + 1 AS place \
                   FROM waitlist_entries w WHERE w.event_id = $1 AND w.user_id = $2 AND w.status = 'WAITING'";
        let Some(row) = self.one(&self.db, sql, [event.0.into(), user.0.into()]).await? else {
            return Ok(None);
        };
        let row = self.read(&row);
        let place = row.i64("place")?;
        Ok(Some(WaitingPlace {
            event_id: event,
            place: u32::try_from(place).map_err(|_| crate::corrupt("waiting list place", place))?,
            quantity: row.count("quantity")?,
            since: row.time("joined_at")?,
        }))
    }
}
