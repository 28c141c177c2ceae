//! Writing what a decision changed: parent rows, reservations, outbox, audit.
//! Every function here runs inside a write transaction.

use chrono::{DateTime, Utc};
use hothour_domain::{Auction, DomainError, Effects, Event, Reservation, ReservationTarget, StoredEvent};
use hothour_infra_sql::placeholders;
use sea_orm::{ConnectionTrait, Value};

use crate::error::map_db_err_referencing;
use crate::values::{json, money, opt_money, opt_time, time};
use crate::{execute, query_all, query_one, rows, stmt};

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
            time(schedule.starts_at()),
            time(schedule.ends_at()),
            time(auction.details.scheduled_at),
            turbo.map(|t| t.trigger_before.num_seconds()).into(),
            opt_money(turbo.map(|t| t.drop_amount)),
            turbo.map(|t| t.interval.num_seconds()).into(),
            opt_time(auction.turbo_started_at),
            auction.turbo_announced.into(),
            auction.stored_status.as_str().into(),
            opt_time(auction.cancelled_at),
            time(now),
        ],
    )
    .await?;
    Ok(())
}

/// Writes an event's changes. Seat counters move by the decision's delta, not
/// to an absolute value, as in the PostgreSQL adapter, so the
/// `events_not_oversold` check sees the true sum whatever the decision did.
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
            i64::from(details.capacity).into(),
            money(details.price),
            time(details.starts_at),
            time(details.ends_at),
            details.is_active.into(),
            delta(event.seats.held_seats, before.seats.held_seats).into(),
            delta(event.seats.held_count, before.seats.held_count).into(),
            delta(event.seats.confirmed_seats, before.seats.confirmed_seats).into(),
            delta(event.seats.confirmed_count, before.seats.confirmed_count).into(),
            opt_time(event.deleted_at),
            time(now),
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
    let values: [Value; 17] = [
        r.id.0.into(),
        r.target.kind().into(),
        auction_id.into(),
        event_id.into(),
        r.user_id.0.into(),
        r.studio_id.0.into(),
        r.status.as_str().into(),
        i64::from(r.quantity).into(),
        money(r.unit_price),
        money(r.total_price),
        time(r.expires_at),
        r.booking_code.as_ref().map(|c| c.as_str().to_owned()).into(),
        time(r.created_at),
        opt_time(r.confirmed_at),
        opt_time(r.checked_in_at),
        opt_time(r.cancelled_at),
        time(now),
    ];
    // The parent is locked and the studio is the parent's: the user is the
    // one reference that can be missing (as `reservations_user_id_fkey` says
    // in PostgreSQL).
    conn.execute_raw(stmt(
        "INSERT INTO reservations (id, kind, auction_id, event_id, user_id, studio_id, status, quantity, unit_price, \
         total_price, expires_at, booking_code, created_at, confirmed_at, checked_in_at, cancelled_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at, \
         booking_code = excluded.booking_code, confirmed_at = excluded.confirmed_at, \
         checked_in_at = excluded.checked_in_at, cancelled_at = excluded.cancelled_at, updated_at = excluded.updated_at",
        values,
    ))
    .await
    .map_err(|e| map_db_err_referencing(e, "user"))?;
    Ok(())
}

/// The id the next new reservation takes. PostgreSQL draws it from a
/// sequence; here the write lock makes "one more than any id ever used" safe
/// (`sqlite_sequence` remembers ids even of rows that are gone).
pub(crate) async fn next_reservation_id(
    conn: &impl ConnectionTrait,
) -> Result<hothour_domain::ReservationId, DomainError> {
    let row = query_one(
        conn,
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM reservations), 0), \
                    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'reservations'), 0)) + 1 \
                AS next_reservation_id",
        [],
    )
    .await?
    .ok_or_else(|| DomainError::storage_message("no row from an aggregate"))?;
    rows::next_reservation_id(&row)
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
            [event.room.to_string().into(), event.kind.as_str().into(), json(&event.data), time(now)]
        });
        for row in query_all(conn, &sql, values.collect::<Vec<Value>>()).await? {
            stored.push(rows::stored_event(&row)?);
        }
        // The bus learns of the range once this commits (see `writer`).
        stored.sort_by_key(|event| event.seq);
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
                json(&entry.details),
                time(now),
            ]
        });
        execute(conn, &sql, values.collect::<Vec<Value>>()).await?;
    }
    Ok(stored)
}
