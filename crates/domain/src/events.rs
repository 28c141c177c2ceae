//! Domain events: what happened, for whom. Adapters store them in an outbox in
//! the same transaction as the change and deliver them to live rooms.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ids::{AuctionId, EventId, StudioId, UserId};

/// A live room (SPEC §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Room {
    Auction(AuctionId),
    Event(EventId),
    User(UserId),
    Studio(StudioId),
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Room::Auction(id) => write!(f, "auction:{}", id.0),
            Room::Event(id) => write!(f, "event:{}", id.0),
            Room::User(id) => write!(f, "user:{}", id.0),
            Room::Studio(id) => write!(f, "studio:{}", id.0),
        }
    }
}

impl Room {
    /// Parses `"auction:42"` and the like.
    pub fn parse(value: &str) -> Option<Room> {
        let (kind, id) = value.split_once(':')?;
        let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
        match kind {
            "auction" => Some(Room::Auction(AuctionId(id))),
            "event" => Some(Room::Event(EventId(id))),
            "user" => Some(Room::User(UserId(id))),
            "studio" => Some(Room::Studio(StudioId(id))),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    TurboTriggered,
    AuctionHeld,
    AuctionReopened,
    AuctionBooked,
    AuctionUpdated,
    AvailabilityChanged,
    HoldCreated,
    BookingConfirmed,
    ReservationExpired,
    ReservationCancelled,
    ReservationCheckedIn,
    ReservationNoShow,
}

impl EventKind {
    pub const ALL: [EventKind; 12] = [
        EventKind::TurboTriggered,
        EventKind::AuctionHeld,
        EventKind::AuctionReopened,
        EventKind::AuctionBooked,
        EventKind::AuctionUpdated,
        EventKind::AvailabilityChanged,
        EventKind::HoldCreated,
        EventKind::BookingConfirmed,
        EventKind::ReservationExpired,
        EventKind::ReservationCancelled,
        EventKind::ReservationCheckedIn,
        EventKind::ReservationNoShow,
    ];

    /// Parses what [`EventKind::as_str`] writes.
    pub fn parse(value: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TurboTriggered => "turbo_triggered",
            EventKind::AuctionHeld => "auction_held",
            EventKind::AuctionReopened => "auction_reopened",
            EventKind::AuctionBooked => "auction_booked",
            EventKind::AuctionUpdated => "auction_updated",
            EventKind::AvailabilityChanged => "availability_changed",
            EventKind::HoldCreated => "hold_created",
            EventKind::BookingConfirmed => "booking_confirmed",
            EventKind::ReservationExpired => "reservation_expired",
            EventKind::ReservationCancelled => "reservation_cancelled",
            EventKind::ReservationCheckedIn => "reservation_checked_in",
            EventKind::ReservationNoShow => "reservation_no_show",
        }
    }
}

/// One message for one room, decided under a lock and stored with the change.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    pub room: Room,
    pub kind: EventKind,
    pub data: serde_json::Value,
}

impl DomainEvent {
    pub fn new(room: Room, kind: EventKind, data: serde_json::Value) -> DomainEvent {
        DomainEvent { room, kind, data }
    }
}

/// A domain event once committed: `seq` orders it within its room.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub room: String,
    pub kind: String,
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// An administrative action, recorded with who did it, to what, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub actor: UserId,
    pub studio_id: Option<StudioId>,
    pub action: &'static str,
    pub target: String,
    pub details: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_round_trip_through_their_names() {
        for room in
            [Room::Auction(AuctionId(42)), Room::Event(EventId(1)), Room::User(UserId(7)), Room::Studio(StudioId(3))]
        {
            assert_eq!(Room::parse(&room.to_string()), Some(room));
        }
        for bad in ["auction", "auction:", "auction:x", "auction:-1", "lobby:1", ""] {
            assert_eq!(Room::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn event_kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(EventKind::parse("price_update"), None);
    }
}
