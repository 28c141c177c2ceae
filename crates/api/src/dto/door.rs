//! What the studio's door reads (SPEC §8 studio operations): the day's
//! sessions, and who is coming to one of them.

use chrono::{DateTime, Utc};
use hothour_domain::door::{DoorSession, RosterEntry, SessionState};
use hothour_domain::{AuctionStatus, Policy, ReservationKind, ReservationStatus, ReservationTarget};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Choices, schema};

closed_set!(
    /// How a session stands now: an auction by its status (`DRAFT`, `ACTIVE`,
    /// `HELD`, `SOLD`, `EXPIRED`, `CANCELLED`), an event `ACTIVE` or
    /// `INACTIVE` (hidden from the catalogue).
    SessionStatus, "SCREAMING_SNAKE_CASE", [Draft, Active, Held, Sold, Expired, Cancelled, Inactive]
);

impl SessionStatus {
    fn of(state: SessionState) -> SessionStatus {
        match state {
            SessionState::Auction(status) => match status {
                AuctionStatus::Draft => SessionStatus::Draft,
                AuctionStatus::Active => SessionStatus::Active,
                AuctionStatus::Held => SessionStatus::Held,
                AuctionStatus::Sold => SessionStatus::Sold,
                AuctionStatus::Expired => SessionStatus::Expired,
                AuctionStatus::Cancelled => SessionStatus::Cancelled,
            },
            SessionState::Event { is_active: true } => SessionStatus::Active,
            SessionState::Event { is_active: false } => SessionStatus::Inactive,
        }
    }
}

answer! {
    /// A session as the door sees it: an auction's slot (at its
    /// `scheduled_at`, for its `session_minutes`) or an event, with how many
    /// are coming now. Bookings are CONFIRMED, CHECKED_IN and NO_SHOW
    /// reservations; holds are those not yet lapsed, still to be paid or confirmed.
    pub struct DoorSessionOut of(door: &DoorSession, policy: &Policy) {
        kind: ReservationKind = door.session.target.kind(),
        /// The auction's or the event's id.
        id: i64 = match door.session.target {
            ReservationTarget::Auction(id) => id.0,
            ReservationTarget::Event(id) => id.0,
        },
        title: String = door.session.title.clone(),
        /// When the session starts (an auction's `scheduled_at`).
        starts_at: DateTime<Utc> = door.session.starts_at,
        /// When the session ends; check-in closes then.
        ends_at: DateTime<Utc> = door.session.ends_at,
        /// When check-in opens (`check_in_opens_before_seconds` of `GET /config` before `starts_at`).
        check_in_opens_at: DateTime<Utc> = door.check_in_window(policy).opens_at(),
        status: SessionStatus = SessionStatus::of(door.state),
        /// Seats in all: an event's capacity, 1 for an auction's slot.
        capacity: u32 = door.capacity,
        /// Bookings (CONFIRMED, CHECKED_IN, NO_SHOW).
        booked_count: u32 = door.counts.booked_count,
        /// Seats those bookings take.
        booked_seats: u32 = door.counts.booked_seats,
        /// Bookings checked in.
        checked_in_count: u32 = door.counts.checked_in_count,
        /// Seats those checked-in bookings take.
        checked_in_seats: u32 = door.counts.checked_in_seats,
        /// Holds not yet lapsed (someone still paying or confirming).
        held_count: u32 = door.counts.held_count,
        /// Seats those holds take.
        held_seats: u32 = door.counts.held_seats,
    }
}

/// A studio's sessions of one day in its time zone (`GET /studios/{id}/sessions`):
/// every auction whose session and every event that starts that day, whatever
/// its status, by start time (then auctions first, then id). Not paged: one
/// day of one studio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudioDayOut {
    /// The day, `YYYY-MM-DD` (today in the studio's zone when none was asked for).
    #[schema(format = Date, example = "2030-03-02")]
    pub date: String,
    /// The studio's time zone, which the day is counted in.
    #[schema(value_type = schema::TimeZone)]
    pub timezone: String,
    /// The day's first instant (its midnight, or when a skipped midnight's gap ends).
    pub starts_at: DateTime<Utc>,
    /// The next day's first instant: a day lasts 23 or 25 hours across a DST change.
    pub ends_at: DateTime<Utc>,
    pub items: Vec<DoorSessionOut>,
}

answer! {
    /// One of a session's live reservations: a booking (CONFIRMED,
    /// CHECKED_IN, NO_SHOW), or a HOLD not yet lapsed (its holder is still
    /// paying or confirming; it has no booking code and cannot be checked in yet).
    pub struct RosterEntryOut of(entry: &RosterEntry, now: DateTime<Utc>) {
        reservation_id: i64 = entry.reservation.id.0,
        user_id: i64 = entry.reservation.user_id.0,
        /// The holder's full name; empty when they deleted their account (the booking stays).
        full_name: String = entry.full_name.clone(),
        /// Seats (1 for an auction's slot).
        quantity: u32 = entry.reservation.quantity,
        status: ReservationStatus = entry.reservation.status_at(now),
        /// The code to check the booking in with (null for a HOLD).
        booking_code: Option<String> = entry.reservation.booking_code.as_ref().map(|c| c.as_str().to_owned()),
        /// When it was checked in (null until then).
        checked_in_at: Option<DateTime<Utc>> = entry.reservation.checked_in_at,
        /// When a HOLD lapses unless confirmed (null for a booking).
        hold_expires_at: Option<DateTime<Utc>> = (entry.reservation.status_at(now) == ReservationStatus::Hold)
            .then_some(entry.reservation.expires_at),
    }
}

/// Who is coming to a session (`GET /studios/{id}/roster`): its live
/// reservations, by full name (case-insensitively, then by reservation id).
/// Not paged: one session's reservations.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterOut {
    pub session: DoorSessionOut,
    /// The studio's time zone, to show the times on the studio's clock.
    #[schema(value_type = schema::TimeZone)]
    pub timezone: String,
    pub items: Vec<RosterEntryOut>,
}
