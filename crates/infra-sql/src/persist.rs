//! Writing what a decision changed: parent rows, reservations, outbox, audit.
//! Every function here runs inside a write.

use chrono::{DateTime, SubsecRound, Utc};
use hothour_domain::{
    Auction, AuctionDetails, DomainError, Effects, Event, EventDetails, Parent, Reservation, ReservationTarget,
    StoredEvent,
};
use sea_orm::{ConnectionTrait, Value};

use crate::SqlStore;
use crate::sql::{placeholders, placeholders_with};
use crate::statements::WriteStatement;

impl SqlStore {
    /// An auction's details as the 13 columns from `title` to
    /// `session_minutes`, in the order both the insert and the update list them.
    pub(crate) fn auction_details(&self, details: &AuctionDetails) -> [Value; 13] {
        let d = self.d();
        let schedule = &details.schedule;
        let turbo = schedule.turbo();
        [
            details.title.clone().into(),
            details.description.clone().into(),
            d.money(schedule.start_price()),
            d.money(schedule.floor_price()),
            d.money(schedule.drop_amount()),
            schedule.drop_interval().num_seconds().into(),
            d.time(schedule.starts_at()),
            d.time(schedule.ends_at()),
            d.time(details.scheduled_at),
            turbo.map(|t| t.trigger_before.num_seconds()).into(),
            d.opt_money(turbo.map(|t| t.drop_amount)),
            turbo.map(|t| t.interval.num_seconds()).into(),
            details.session_minutes.into(),
        ]
    }

    /// An event's details as the 7 columns from `title` to `is_active`, in
    /// the order both the insert and the update list them.
    pub(crate) fn event_details(&self, details: &EventDetails) -> [Value; 7] {
        let d = self.d();
        [
            details.title.clone().into(),
            details.description.clone().into(),
            d.int(i64::from(details.capacity)),
            d.money(details.price),
            d.time(details.starts_at),
            d.time(details.ends_at),
            details.is_active.into(),
        ]
    }

    pub(crate) async fn update_auction(
        &self,
        conn: &impl ConnectionTrait,
        auction: &Auction,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let d = self.d();
        let mut values = vec![auction.id.0.into()];
        values.extend(self.auction_details(&auction.details));
        values.extend([
            d.opt_time(auction.turbo_started_at),
            auction.turbo_announced.into(),
            auction.stored_status.as_str().into(),
            d.opt_time(auction.cancelled_at),
            d.time(now),
        ]);
        self.exec(
            conn,
            "UPDATE auctions SET title = $2, description = $3, start_price = $4, floor_price = $5, drop_amount = $6, \
             drop_interval_seconds = $7, starts_at = $8, ends_at = $9, scheduled_at = $10, \
             turbo_trigger_before_seconds = $11, turbo_drop_amount = $12, turbo_interval_seconds = $13, \
             session_minutes = $14, turbo_started_at = $15, turbo_announced = $16, status = $17, cancelled_at = $18, \
             updated_at = $19 \
             WHERE id = $1",
            values,
        )
        .await?;
        Ok(())
    }

    /// Writes back the auctions the decision changed (`before` and `after`
    /// pair up), and answers the events it changed, as (before, after), for
    /// [`SqlStore::write_effects`] to write with the rest of the decision.
    pub(crate) async fn update_auctions<'a>(
        &self,
        conn: &impl ConnectionTrait,
        before: &'a [Parent],
        after: &'a [Parent],
        now: DateTime<Utc>,
    ) -> Result<Vec<(&'a Event, &'a Event)>, DomainError> {
        let mut events = Vec::new();
        for pair in before.iter().zip(after) {
            match pair {
                // Only an auction nothing refers to is deleted (no reservation was ever made).
                (Parent::Auction(_), Parent::Auction(after)) if after.deleted_at.is_some() => {
                    self.exec(conn, "DELETE FROM auctions WHERE id = $1", [after.id.0.into()]).await?;
                }
                (Parent::Auction(before), Parent::Auction(after)) if after != before => {
                    self.update_auction(conn, after, now).await?;
                }
                (Parent::Event(before), Parent::Event(after)) if after != before => events.push((before, after)),
                _ => {}
            }
        }
        Ok(events)
    }

    /// Writes events' changes, given as (before, after), in one statement.
    /// Seat counters move by the decision's delta, not to an absolute value,
    /// so that even a decision made without the row lock could not lose
    /// another's update and slip past the `events_not_oversold` check.
    fn events_update(&self, events: &[(&Event, &Event)], now: DateTime<Utc>) -> Option<WriteStatement> {
        const COLUMNS: usize = 15;
        if events.is_empty() {
            return None;
        }
        let d = self.d();
        let delta = |after: u32, before: u32| d.int(i64::from(after) - i64::from(before));
        let mut values: Vec<Value> = Vec::with_capacity(events.len() * COLUMNS);
        for (before, event) in events {
            values.push(event.id.0.into());
            values.extend(self.event_details(&event.details));
            values.extend([
                delta(event.seats.held_seats, before.seats.held_seats),
                delta(event.seats.held_count, before.seats.held_count),
                delta(event.seats.confirmed_seats, before.seats.confirmed_seats),
                delta(event.seats.confirmed_count, before.seats.confirmed_count),
                d.opt_time(event.deleted_at),
                d.opt_time(event.cancelled_at),
                d.time(now),
            ]);
        }
        let sql = format!(
            "WITH v (id, title, description, capacity, price, starts_at, ends_at, is_active, held_seats, held_count, \
             confirmed_seats, confirmed_count, deleted_at, cancelled_at, updated_at) AS (VALUES {}) \
             UPDATE events SET title = v.title, description = v.description, capacity = v.capacity, \
             price = v.price, starts_at = v.starts_at, ends_at = v.ends_at, is_active = v.is_active, \
             held_seats = events.held_seats + v.held_seats, held_count = events.held_count + v.held_count, \
             confirmed_seats = events.confirmed_seats + v.confirmed_seats, \
             confirmed_count = events.confirmed_count + v.confirmed_count, deleted_at = v.deleted_at, \
             cancelled_at = v.cancelled_at, updated_at = v.updated_at FROM v WHERE events.id = v.id",
            placeholders(events.len(), COLUMNS)
        );
        Some(WriteStatement::new(sql, values))
    }

    /// Inserts or updates reservations, many rows per statement.
    fn reservation_upserts(&self, reservations: &[Reservation], now: DateTime<Utc>) -> Vec<WriteStatement> {
        const COLUMNS: usize = 23;
        // Far below either database's limit on bound values per statement.
        const ROWS_PER_STATEMENT: usize = 500;
        let d = self.d();
        let upsert = |chunk: &[Reservation]| {
            let values = chunk.iter().flat_map(|r| {
                let (auction_id, event_id) = match r.target {
                    ReservationTarget::Auction(id) => (Some(id.0), None),
                    ReservationTarget::Event(id) => (None, Some(id.0)),
                };
                [
                    r.id.0.into(),
                    r.target.kind().as_str().into(),
                    auction_id.into(),
                    event_id.into(),
                    r.user_id.0.into(),
                    r.studio_id.0.into(),
                    r.status.as_str().into(),
                    d.int(i64::from(r.quantity)),
                    d.money(r.unit_price),
                    d.money(r.total_price),
                    d.time(r.expires_at),
                    r.booking_code.as_ref().map(|c| c.as_str().to_owned()).into(),
                    d.time(r.created_at),
                    d.opt_time(r.confirmed_at),
                    d.opt_time(r.checked_in_at),
                    d.opt_time(r.cancelled_at),
                    r.payment.intent.as_ref().map(|intent| intent.0.clone()).into(),
                    r.payment.status.as_str().into(),
                    d.money(r.payment.amount),
                    d.money(r.payment.refunded_amount),
                    d.int(i64::from(r.payment.refund_attempts)),
                    d.opt_time(r.payment.next_refund_at),
                    d.time(now),
                ]
            });
            let sql = format!(
                "INSERT INTO reservations (id, kind, auction_id, event_id, user_id, studio_id, status, quantity, \
                 unit_price, total_price, expires_at, booking_code, created_at, confirmed_at, checked_in_at, \
                 cancelled_at, payment_intent, payment_status, paid_amount, refunded_amount, refund_attempts, \
                 next_refund_at, updated_at) VALUES {} \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at, \
                 booking_code = excluded.booking_code, confirmed_at = excluded.confirmed_at, \
                 checked_in_at = excluded.checked_in_at, cancelled_at = excluded.cancelled_at, \
                 payment_intent = excluded.payment_intent, payment_status = excluded.payment_status, \
                 paid_amount = excluded.paid_amount, refunded_amount = excluded.refunded_amount, \
                 refund_attempts = excluded.refund_attempts, next_refund_at = excluded.next_refund_at, \
                 updated_at = excluded.updated_at",
                placeholders(chunk.len(), COLUMNS)
            );
            // The parent is locked and the studio is the parent's: the user is
            // the one reference that can be missing.
            WriteStatement::new(sql, values.collect()).referencing("user")
        };
        // A later chunk may hold again what an earlier one expired (one live
        // hold per user and event), so it must see the earlier one's rows.
        let mut chunks = reservations.chunks(ROWS_PER_STATEMENT).map(upsert);
        chunks.next().into_iter().chain(chunks.map(WriteStatement::after_earlier)).collect()
    }

    /// The VALUES rows of `count` outbox rows `(room, kind, payload, created_at)`,
    /// the payload bound as JSON text.
    pub(crate) fn outbox_rows(&self, count: usize) -> String {
        placeholders_with(count, 4, |col, param, sql| match col {
            3 => sql.push_str(&self.d().json_from_text(param)),
            _ => sql.push_str(param),
        })
    }

    /// Writes the changed events, reservations, outbox events, waiting list
    /// changes, mail and audit entries of a decision, returning the outbox
    /// events as stored (with their sequence numbers). The first three are
    /// the hot path's writes: one round trip where the dialect joins writes.
    pub(crate) async fn write_effects(
        &self,
        conn: &impl ConnectionTrait,
        changed_events: &[(&Event, &Event)],
        effects: Effects,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredEvent>, DomainError> {
        let d = self.d();
        let mut statements: Vec<WriteStatement> = self.events_update(changed_events, now).into_iter().collect();
        statements.extend(self.reservation_upserts(&effects.reservations, now));
        let announces = !effects.events.is_empty();
        if announces {
            let sql = format!(
                "INSERT INTO outbox (room, kind, payload, created_at) VALUES {} RETURNING id",
                self.outbox_rows(effects.events.len())
            );
            let values = effects.events.iter().flat_map(|event| {
                [event.room.to_string().into(), event.kind.as_str().into(), event.data.to_string().into(), d.time(now)]
            });
            statements.push(WriteStatement::new(sql, values.collect()));
        }
        let rows = self.run_writes(conn, statements).await?;
        let mut stored = Vec::with_capacity(effects.events.len());
        if announces {
            let mut ids = rows.iter().map(|row| self.read(row).i64("id")).collect::<Result<Vec<_>, _>>()?;
            // The rows took their ids from the sequence in the order of the
            // VALUES list (RETURNING may list them in any order): the n-th
            // smallest id is the n-th event. What was written is not read back.
            ids.sort_unstable();
            if ids.len() != effects.events.len() {
                let detail = format!("{} ids for {} events written", ids.len(), effects.events.len());
                return Err(crate::rows::corrupt("outbox", detail));
            }
            // As both stores keep instants: to the microsecond.
            let at = now.trunc_subsecs(6);
            stored.extend(ids.into_iter().zip(effects.events).map(|(seq, event)| StoredEvent {
                seq,
                room: event.room.to_string(),
                kind: event.kind.as_str().to_owned(),
                data: event.data,
                at,
            }));
        }
        // After the reservations, which the waiting list's offers refer to.
        self.write_waitlist(conn, &effects.waitlist).await?;
        self.write_mail(conn, &effects.mail, now).await?;
        self.drop_alerts(conn, &effects.dropped_alerts).await?;
        if !effects.audit.is_empty() {
            let sql = format!(
                "INSERT INTO audit_log (actor_id, studio_id, action, target, details, created_at) VALUES {}",
                placeholders(effects.audit.len(), 6)
            );
            let values = effects.audit.iter().flat_map(|entry| {
                [
                    entry.actor.0.into(),
                    entry.studio_id.map(|s| s.0).into(),
                    entry.action.as_str().into(),
                    entry.target.clone().into(),
                    d.json(&entry.details),
                    d.time(now),
                ]
            });
            self.exec(conn, &sql, values.collect::<Vec<Value>>()).await?;
        }
        Ok(stored)
    }
}
