//! Rows to domain types and back. Column lists live next to their parsers so
//! a query and the code reading it cannot drift apart.

use chrono::Duration;
use hothour_domain::account::{Studio, User};
use hothour_domain::ports::{AuditRecord, EventRecord};
use hothour_domain::{
    Auction, AuctionDetails, AuctionId, AuctionStatus, BookingCode, DomainError, Event, EventDetails, EventId, Money,
    PriceSchedule, PriceScheduleInput, Reservation, ReservationId, ReservationStatus, ReservationTarget, Role,
    SeatCounts, StudioId, TurboConfig, UserId,
};
use rust_decimal::Decimal;
use sea_orm::{QueryResult, TryGetable};

use crate::error::corrupt;

fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, DomainError> {
    row.try_get::<T>("", column).map_err(|e| corrupt(column, e))
}

fn money(row: &QueryResult, column: &str) -> Result<Money, DomainError> {
    Money::from_decimal(get::<Decimal>(row, column)?).map_err(|e| corrupt(column, e))
}

/// A stored number of seconds as a duration.
fn seconds(column: &str, seconds: i64) -> Result<Duration, DomainError> {
    Duration::try_seconds(seconds).ok_or_else(|| corrupt(column, format!("{seconds} seconds is out of range")))
}

fn count(row: &QueryResult, column: &str) -> Result<u32, DomainError> {
    u32::try_from(get::<i32>(row, column)?).map_err(|e| corrupt(column, e))
}

pub(crate) const AUCTION_COLUMNS: &str = "id, studio_id, title, description, start_price, floor_price, drop_amount, \
     drop_interval_seconds, starts_at, ends_at, scheduled_at, turbo_trigger_before_seconds, turbo_drop_amount, \
     turbo_interval_seconds, turbo_started_at, turbo_announced, status, cancelled_at, created_at";

pub(crate) fn auction(row: &QueryResult) -> Result<Auction, DomainError> {
    let turbo = match (
        get::<Option<i64>>(row, "turbo_trigger_before_seconds")?,
        get::<Option<Decimal>>(row, "turbo_drop_amount")?,
        get::<Option<i64>>(row, "turbo_interval_seconds")?,
    ) {
        (Some(trigger_before), Some(drop_amount), Some(interval)) => Some(TurboConfig {
            trigger_before: seconds("turbo_trigger_before_seconds", trigger_before)?,
            drop_amount: Money::from_decimal(drop_amount).map_err(|e| corrupt("auction", e))?,
            interval: seconds("turbo_interval_seconds", interval)?,
        }),
        _ => None,
    };
    // Stored values are trusted: the rules were checked when they were accepted.
    let schedule = PriceSchedule::from_stored(PriceScheduleInput {
        start_price: money(row, "start_price")?,
        floor_price: money(row, "floor_price")?,
        drop_amount: money(row, "drop_amount")?,
        drop_interval: seconds("drop_interval_seconds", get(row, "drop_interval_seconds")?)?,
        starts_at: get(row, "starts_at")?,
        ends_at: get(row, "ends_at")?,
        turbo,
    });
    let status: String = get(row, "status")?;
    Ok(Auction {
        id: AuctionId(get(row, "id")?),
        studio_id: StudioId(get(row, "studio_id")?),
        details: AuctionDetails {
            title: get(row, "title")?,
            description: get(row, "description")?,
            schedule,
            scheduled_at: get(row, "scheduled_at")?,
        },
        stored_status: AuctionStatus::parse(&status).ok_or_else(|| corrupt("auction", status))?,
        turbo_started_at: get(row, "turbo_started_at")?,
        turbo_announced: get(row, "turbo_announced")?,
        cancelled_at: get(row, "cancelled_at")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) const EVENT_COLUMNS: &str = "id, studio_id, title, description, capacity, price, starts_at, ends_at, \
     is_active, held_seats, held_count, confirmed_seats, confirmed_count, deleted_at, created_at";

pub(crate) fn event(row: &QueryResult) -> Result<Event, DomainError> {
    Ok(Event {
        id: EventId(get(row, "id")?),
        studio_id: StudioId(get(row, "studio_id")?),
        details: EventDetails {
            title: get(row, "title")?,
            description: get(row, "description")?,
            capacity: count(row, "capacity")?,
            price: money(row, "price")?,
            starts_at: get(row, "starts_at")?,
            ends_at: get(row, "ends_at")?,
            is_active: get(row, "is_active")?,
        },
        seats: SeatCounts {
            held_seats: count(row, "held_seats")?,
            held_count: count(row, "held_count")?,
            confirmed_seats: count(row, "confirmed_seats")?,
            confirmed_count: count(row, "confirmed_count")?,
        },
        deleted_at: get(row, "deleted_at")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) const RESERVATION_COLUMNS: &str = "id, auction_id, event_id, user_id, studio_id, status, quantity, \
     unit_price, total_price, expires_at, booking_code, created_at, confirmed_at, checked_in_at, cancelled_at";

pub(crate) fn reservation(row: &QueryResult) -> Result<Reservation, DomainError> {
    let target = match (get::<Option<i64>>(row, "auction_id")?, get::<Option<i64>>(row, "event_id")?) {
        (Some(auction), None) => ReservationTarget::Auction(AuctionId(auction)),
        (None, Some(event)) => ReservationTarget::Event(EventId(event)),
        _ => return Err(corrupt("reservation", "neither or both of auction_id and event_id")),
    };
    let status: String = get(row, "status")?;
    Ok(Reservation {
        id: ReservationId(get(row, "id")?),
        user_id: UserId(get(row, "user_id")?),
        studio_id: StudioId(get(row, "studio_id")?),
        target,
        status: ReservationStatus::parse(&status).ok_or_else(|| corrupt("reservation", status))?,
        quantity: count(row, "quantity")?,
        unit_price: money(row, "unit_price")?,
        total_price: money(row, "total_price")?,
        expires_at: get(row, "expires_at")?,
        booking_code: get::<Option<String>>(row, "booking_code")?.map(BookingCode::from_stored),
        created_at: get(row, "created_at")?,
        confirmed_at: get(row, "confirmed_at")?,
        checked_in_at: get(row, "checked_in_at")?,
        cancelled_at: get(row, "cancelled_at")?,
    })
}

pub(crate) const USER_COLUMNS: &str = "id, email, full_name, phone, role, studio_id, created_at";

pub(crate) fn user(row: &QueryResult) -> Result<User, DomainError> {
    let role: String = get(row, "role")?;
    Ok(User {
        id: UserId(get(row, "id")?),
        email: get(row, "email")?,
        full_name: get(row, "full_name")?,
        phone: get(row, "phone")?,
        role: Role::parse(&role).ok_or_else(|| corrupt("user", role))?,
        studio_id: get::<Option<i64>>(row, "studio_id")?.map(StudioId),
        created_at: get(row, "created_at")?,
    })
}

pub(crate) const STUDIO_COLUMNS: &str = "id, name, address, timezone, maps_url, created_at";

pub(crate) fn studio(row: &QueryResult) -> Result<Studio, DomainError> {
    Ok(Studio {
        id: StudioId(get(row, "id")?),
        name: get(row, "name")?,
        address: get(row, "address")?,
        timezone: get(row, "timezone")?,
        maps_url: get(row, "maps_url")?,
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn next_reservation_id(row: &QueryResult) -> Result<ReservationId, DomainError> {
    Ok(ReservationId(get(row, "next_reservation_id")?))
}

pub(crate) fn i64_column(row: &QueryResult, column: &str) -> Result<i64, DomainError> {
    get(row, column)
}

/// An event row with its `lapsed_seats` and `lapsed_count` columns.
pub(crate) fn event_record(row: &QueryResult) -> Result<EventRecord, DomainError> {
    let event = event(row)?;
    let lapsed_seats: i32 = get(row, "lapsed_seats")?;
    let lapsed_count: i32 = get(row, "lapsed_count")?;
    let availability = event.availability(lapsed_seats.max(0) as u32, lapsed_count.max(0) as u32);
    Ok(EventRecord { event, availability })
}

pub(crate) fn audit(row: &QueryResult) -> Result<AuditRecord, DomainError> {
    Ok(AuditRecord {
        id: get(row, "id")?,
        actor_id: get::<Option<i64>>(row, "actor_id")?.map(UserId),
        studio_id: get::<Option<i64>>(row, "studio_id")?.map(StudioId),
        action: get(row, "action")?,
        target: get(row, "target")?,
        details: get(row, "details")?,
        created_at: get(row, "created_at")?,
    })
}
