//! Writing what a decision changed: parent rows, reservations, outbox, audit.

use chrono::{DateTime, Utc};
use hothour_domain::{Auction, DomainError, Effects, Event, Reservation, ReservationTarget, StoredEvent};
use hothour_infra_sql::placeholders;
use sea_orm::{ConnectionTrait, Value};

use crate::{execute, query_all};

fn money(value: hothour_domain::Money) -> Value {
    value.amount().into()
}

pub(crate) async fn update_auction(
    conn: &impl ConnectionTrait,
    auction: &Auction,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let schedule = auction.schedule();
    let turbo = schedule.turbo();
    execute(
        conn,
        "UPDATE auctions SET title = $2, description = $3, start_price = $4, floor_price = $5, drop_amount = $6, \
         drop_interval_seconds = $7, starts_at = $8, ends_at = $9, scheduled_at = $10, \
         turbo_trigger_before_seconds = $11, turbo_drop_amount = $12, turbo_interval_seconds = $13, \
         turbo_started_at = $14, turbo_announced = $15, status = $16, cancelled_at = $17, updated_at = $18 \
         WHERE id = $1",
        [
            auction.id.0.into(),
            auction.details.title.clone().into(),
            auction.details.description.clone().into(),
            money(schedule.start_price()),
            money(schedule.floor_price()),
            money(schedule.drop_amount()),
            schedule.drop_interval().num_seconds().into(),
            schedule.starts_at().into(),
            schedule.ends_at().into(),
            auction.details.scheduled_at.into(),
            turbo.map(|t| t.trigger_before.num_seconds()).into(),
            turbo.map(|t| t.drop_amount.amount()).into(),
            turbo.map(|t| t.interval.num_seconds()).into(),
            auction.turbo_started_at.into(),
            auction.turbo_announced.into(),
            auction.stored_status.as_str().into(),
            auction.cancelled_at.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes an event's changes. Seat counters move by the decision's delta, not
/// to an absolute value, so that even a decision made without the row lock
/// could not lose another's update and slip past the `events_not_oversold` check.
pub(crate) async fn update_event(
    conn: &impl ConnectionTrait,
    before: &Event,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let details = &event.details;
    let delta = |after: u32, before: u32| i64::from(after) - i64::from(before);
    execute(
        conn,
        "UPDATE events SET title = $2, description = $3, capacity = $4, price = $5, starts_at = $6, ends_at = $7, \
         is_active = $8, held_seats = held_seats + $9, held_count = held_count + $10, \
         confirmed_seats = confirmed_seats + $11, confirmed_count = confirmed_count + $12, \
         deleted_at = $13, updated_at = $14 WHERE id = $1",
        [
            event.id.0.into(),
            details.title.clone().into(),
            details.description.clone().into(),
            (details.capacity as i32).into(),
            money(details.price),
            details.starts_at.into(),
            details.ends_at.into(),
            details.is_active.into(),
            delta(event.seats.held_seats, before.seats.held_seats).into(),
            delta(event.seats.held_count, before.seats.held_count).into(),
            delta(event.seats.confirmed_seats, before.seats.confirmed_seats).into(),
            delta(event.seats.confirmed_count, before.seats.confirmed_count).into(),
            event.deleted_at.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

async fn upsert_reservation(
    conn: &impl ConnectionTrait,
    r: &Reservation,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let (auction_id, event_id) = match r.target {
        ReservationTarget::Auction(id) => (Some(id.0), None),
        ReservationTarget::Event(id) => (None, Some(id.0)),
    };
    execute(
        conn,
        "INSERT INTO reservations (id, kind, auction_id, event_id, user_id, studio_id, status, quantity, unit_price, \
         total_price, expires_at, booking_code, created_at, confirmed_at, checked_in_at, cancelled_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, expires_at = EXCLUDED.expires_at, \
         booking_code = EXCLUDED.booking_code, confirmed_at = EXCLUDED.confirmed_at, \
         checked_in_at = EXCLUDED.checked_in_at, cancelled_at = EXCLUDED.cancelled_at, updated_at = EXCLUDED.updated_at",
        [
            r.id.0.into(),
            r.target.kind().into(),
            auction_id.into(),
            event_id.into(),
            r.user_id.0.into(),
            r.studio_id.0.into(),
            r.status.as_str().into(),
            (r.quantity as i32).into(),
            money(r.unit_price),
            money(r.total_price),
            r.expires_at.into(),
            r.booking_code.as_ref().map(|c| c.as_str().to_owned()).into(),
            r.created_at.into(),
            r.confirmed_at.into(),
            r.checked_in_at.into(),
            r.cancelled_at.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes the reservations, outbox events and audit entries of a decision,
/// returning the events as stored (with their sequence numbers).
pub(crate) async fn effects(
    conn: &impl ConnectionTrait,
    effects: Effects,
    now: DateTime<Utc>,
) -> Result<Vec<StoredEvent>, DomainError> {
    for reservation in &effects.reservations {
        upsert_reservation(conn, reservation, now).await?;
    }
    let mut stored = Vec::with_capacity(effects.events.len());
    if !effects.events.is_empty() {
        let sql = format!(
            "INSERT INTO outbox (room, kind, payload, created_at) VALUES {} RETURNING id, room, kind, payload, created_at",
            placeholders(effects.events.len(), 4)
        );
        let values = effects.events.iter().flat_map(|event| {
            [event.room.to_string().into(), event.kind.as_str().into(), event.data.clone().into(), now.into()]
        });
        for row in query_all(conn, &sql, values.collect::<Vec<Value>>()).await? {
            stored.push(crate::outbox::stored_event(&row)?);
        }
        stored.sort_by_key(|event| event.seq);
        // Every instance's listener learns of the range once this commits.
        if let (Some(first), Some(last)) = (stored.first(), stored.last()) {
            execute(
                conn,
                "SELECT pg_notify($1, $2)",
                [crate::outbox::CHANNEL.into(), format!("{},{}", first.seq, last.seq).into()],
            )
            .await?;
        }
    }
    if !effects.audit.is_empty() {
        let sql = format!(
            "INSERT INTO audit_log (actor_id, studio_id, action, target, details, created_at) VALUES {}",
            placeholders(effects.audit.len(), 6)
        );
        let values = effects.audit.iter().flat_map(|entry| {
            [
                entry.actor.0.into(),
                entry.studio_id.map(|s| s.0).into(),
                entry.action.into(),
                entry.target.clone().into(),
                entry.details.clone().into(),
                now.into(),
            ]
        });
        execute(conn, &sql, values.collect::<Vec<Value>>()).await?;
    }
    Ok(stored)
}
