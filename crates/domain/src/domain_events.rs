//! Domain events: what happened, for whom. Adapters store them in an outbox in
//! the same transaction as the change and deliver them to live rooms.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::alerts::PriceAlertSnapshot;
use crate::auction::AuctionSnapshot;
pub use crate::audit::AuditDetails;
use crate::event::EventSnapshot;
use crate::ids::{AuctionId, EventId, StudioId, UserId};
use crate::reservation::ReservationSnapshot;

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

/// Declares every kind of domain event once: its name in the outbox and on
/// the wire, and the snapshot it carries. From it come [`EventKind`] (with
/// `ALL`, `as_str` and `parse`) and [`Payload`] (with `kind` and `decode`).
macro_rules! domain_events {
    ($($variant:ident = $name:literal, $data:ty;)*) => {
        /// What a domain event says happened, named as the outbox stores it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            pub const ALL: &[EventKind] = &[$(EventKind::$variant,)*];

            /// Parses what [`EventKind::as_str`] writes.
            pub fn parse(value: &str) -> Option<EventKind> {
                EventKind::ALL.iter().copied().find(|kind| kind.as_str() == value)
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }
        }

        /// What a domain event tells its rooms: one variant per [`EventKind`], each
        /// with the data its frame carries. Serialized, it is that data alone.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum Payload {
            $($variant($data),)*
        }

        impl Payload {
            pub fn kind(&self) -> EventKind {
                match self {
                    $(Payload::$variant(_) => EventKind::$variant,)*
                }
            }

            /// Reads a stored payload back as the data its kind carries.
            pub fn decode(kind: EventKind, data: &serde_json::Value) -> Result<Payload, serde_json::Error> {
                use serde::Deserialize;
                Ok(match kind {
                    $(EventKind::$variant => Payload::$variant(<$data>::deserialize(data)?),)*
                })
            }
        }
    };
}

domain_events! {
    TurboTriggered = "turbo_triggered", AuctionSnapshot;
    AuctionHeld = "auction_held", AuctionSnapshot;
    AuctionReopened = "auction_reopened", AuctionSnapshot;
    AuctionBooked = "auction_booked", AuctionSnapshot;
    AuctionUpdated = "auction_updated", AuctionSnapshot;
    AuctionDeleted = "auction_deleted", AuctionSnapshot;
    AvailabilityChanged = "availability_changed", EventSnapshot;
    HoldCreated = "hold_created", ReservationSnapshot;
    HoldOffered = "hold_offered", ReservationSnapshot;
    BookingConfirmed = "booking_confirmed", ReservationSnapshot;
    ReservationExpired = "reservation_expired", ReservationSnapshot;
    ReservationCancelled = "reservation_cancelled", ReservationSnapshot;
    ReservationCheckedIn = "reservation_checked_in", ReservationSnapshot;
    ReservationNoShow = "reservation_no_show", ReservationSnapshot;
    PaymentSucceeded = "payment_succeeded", ReservationSnapshot;
    PaymentRefunded = "payment_refunded", ReservationSnapshot;
    PriceAlert = "price_alert", PriceAlertSnapshot;
}

impl Payload {
    /// The reservation it tells of, if it is about one.
    pub fn reservation(&self) -> Option<&ReservationSnapshot> {
        match self {
            Payload::HoldCreated(r)
            | Payload::HoldOffered(r)
            | Payload::BookingConfirmed(r)
            | Payload::ReservationExpired(r)
            | Payload::ReservationCancelled(r)
            | Payload::ReservationCheckedIn(r)
            | Payload::ReservationNoShow(r)
            | Payload::PaymentSucceeded(r)
            | Payload::PaymentRefunded(r) => Some(r),
            _ => None,
        }
    }

    /// The auction and the event whose state it tells of (a reservation's parent).
    pub fn parents(&self) -> (Option<AuctionId>, Option<EventId>) {
        match self {
            Payload::TurboTriggered(a)
            | Payload::AuctionHeld(a)
            | Payload::AuctionReopened(a)
            | Payload::AuctionBooked(a)
            | Payload::AuctionUpdated(a)
            | Payload::AuctionDeleted(a) => (Some(a.id), None),
            Payload::AvailabilityChanged(e) => (None, Some(e.id)),
            Payload::HoldCreated(r)
            | Payload::HoldOffered(r)
            | Payload::BookingConfirmed(r)
            | Payload::ReservationExpired(r)
            | Payload::ReservationCancelled(r)
            | Payload::ReservationCheckedIn(r)
            | Payload::ReservationNoShow(r)
            | Payload::PaymentSucceeded(r)
            | Payload::PaymentRefunded(r) => (r.auction_id, r.event_id),
            // It tells a user of a price, not of a change to the auction.
            Payload::PriceAlert(_) => (None, None),
        }
    }
}

/// One message for one room, decided under a lock and stored with the change.
/// Built only by [`DomainEvent::new`], so its kind and data always agree.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DomainEvent {
    pub room: Room,
    pub kind: EventKind,
    /// The payload as the outbox stores it and the live frame carries it.
    pub data: serde_json::Value,
}

impl DomainEvent {
    pub fn new(room: Room, payload: &Payload) -> DomainEvent {
        // Payloads are plain structs with string keys: serializing cannot fail.
        let data = serde_json::to_value(payload).expect("a payload serializes");
        DomainEvent { room, kind: payload.kind(), data }
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

impl StoredEvent {
    /// What it tells its room, typed: `None` when it is not a room event
    /// (the outbox also carries other announcements), an error when its data
    /// does not have the shape its kind promises (a row an older version wrote).
    pub fn payload(&self) -> Option<Result<Payload, serde_json::Error>> {
        let kind = EventKind::parse(&self.kind)?;
        Room::parse(&self.room)?;
        Some(Payload::decode(kind, &self.data))
    }
}

/// An administrative action, recorded with who did it, to what, and when.
/// Built only by [`AuditEntry::new`], so its details are always typed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuditEntry {
    pub actor: UserId,
    pub studio_id: Option<StudioId>,
    pub action: AuditAction,
    /// What was acted on, e.g. `auction:42`.
    pub target: String,
    /// The [`AuditDetails`] as the audit log stores them.
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// The entry's action is the one its details describe.
    pub fn new(actor: UserId, studio_id: Option<StudioId>, target: String, details: &AuditDetails) -> AuditEntry {
        // Plain data with string keys: serializing cannot fail.
        let serialized = serde_json::to_value(details).expect("audit details serialize");
        AuditEntry { actor, studio_id, action: details.action(), target, details: serialized }
    }
}

/// What an administrator did, named as the audit log stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    AuctionCreate,
    AuctionUpdate,
    AuctionCancel,
    AuctionTurbo,
    AuctionDelete,
    EventCreate,
    EventUpdate,
    EventDelete,
    EventCancel,
    ReservationCancel,
    ReservationCheckIn,
    StudioCreate,
    StudioUpdate,
    StudioAssignAdmin,
    StudioRemoveAdmin,
    PaymentSucceeded,
    PaymentRefunded,
    ReservationsExport,
    AccountDelete,
}

impl AuditAction {
    pub const ALL: [AuditAction; 19] = [
        AuditAction::AuctionCreate,
        AuditAction::AuctionUpdate,
        AuditAction::AuctionCancel,
        AuditAction::AuctionTurbo,
        AuditAction::AuctionDelete,
        AuditAction::EventCreate,
        AuditAction::EventUpdate,
        AuditAction::EventDelete,
        AuditAction::EventCancel,
        AuditAction::ReservationCancel,
        AuditAction::ReservationCheckIn,
        AuditAction::StudioCreate,
        AuditAction::StudioUpdate,
        AuditAction::StudioAssignAdmin,
        AuditAction::StudioRemoveAdmin,
        AuditAction::PaymentSucceeded,
        AuditAction::PaymentRefunded,
        AuditAction::ReservationsExport,
        AuditAction::AccountDelete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::AuctionCreate => "auction.create",
            AuditAction::AuctionUpdate => "auction.update",
            AuditAction::AuctionCancel => "auction.cancel",
            AuditAction::AuctionTurbo => "auction.turbo",
            AuditAction::AuctionDelete => "auction.delete",
            AuditAction::EventCreate => "event.create",
            AuditAction::EventUpdate => "event.update",
            AuditAction::EventDelete => "event.delete",
            AuditAction::EventCancel => "event.cancel",
            AuditAction::ReservationCancel => "reservation.cancel",
            AuditAction::ReservationCheckIn => "reservation.check_in",
            AuditAction::StudioCreate => "studio.create",
            AuditAction::StudioUpdate => "studio.update",
            AuditAction::StudioAssignAdmin => "studio.assign_admin",
            AuditAction::StudioRemoveAdmin => "studio.remove_admin",
            AuditAction::PaymentSucceeded => "payment.succeeded",
            AuditAction::PaymentRefunded => "payment.refunded",
            AuditAction::ReservationsExport => "reservations.export",
            AuditAction::AccountDelete => "account.delete",
        }
    }
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
        for &kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(EventKind::parse("price_update"), None);
    }

    /// The data each kind carried when it was written with `json!`: the
    /// outbox, the live frames and the AsyncAPI document rely on this shape.
    #[test]
    fn every_payload_keeps_its_wire_shape() {
        use serde_json::json;

        use crate::auction::tests::{auction, auction_without_turbo, slot};
        use crate::event::tests::{event, seats};
        use crate::reservation::ReservationStatus;
        use crate::reservation::tests::t;

        let held = {
            let mut auction = auction();
            auction.turbo_started_at = Some(t(70));
            auction.snapshot(Some(&slot(ReservationStatus::Hold, "450.00", t(75))), t(72))
        };
        let held_json = json!({
            "id": 1, "studio_id": 1, "title": "Sunrise yoga", "description": "Mats provided",
            "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00", "drop_interval_minutes": 60,
            "starts_at": "2026-06-01T12:00:00Z", "ends_at": "2026-06-01T14:00:00Z",
            "scheduled_at": "2026-06-01T15:00:00Z", "session_minutes": 60,
            "turbo": { "trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5 },
            "status": "HELD", "current_price": "450.00", "next_price": "430.00",
            "next_change_at": "2026-06-01T13:15:00Z", "turbo_active": true,
            "turbo_started_at": "2026-06-01T13:10:00Z", "held_price": "450.00",
        });
        let draft = auction_without_turbo().snapshot(None, t(-10));
        let draft_json = json!({
            "id": 1, "studio_id": 1, "title": "Sunrise yoga", "description": "Mats provided",
            "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00", "drop_interval_minutes": 60,
            "starts_at": "2026-06-01T12:00:00Z", "ends_at": "2026-06-01T14:00:00Z",
            "scheduled_at": "2026-06-01T15:00:00Z", "session_minutes": 60, "turbo": null,
            "status": "DRAFT", "current_price": "500.00", "next_price": "450.00",
            "next_change_at": "2026-06-01T13:00:00Z", "turbo_active": false,
            "turbo_started_at": null, "held_price": null,
        });
        let seats_event = {
            let mut event = event(10);
            event.account_new(&seats(5, UserId(11), ReservationStatus::Hold, 2, t(3)));
            event.account_new(&seats(6, UserId(12), ReservationStatus::Confirmed, 3, t(-10)));
            event.snapshot(event.availability(0, 0))
        };
        let seats_event_json = json!({
            "id": 3, "studio_id": 1, "title": "Salsa night", "description": "", "capacity": 10, "price": "10.00",
            "starts_at": "2026-06-01T22:00:00Z", "ends_at": "2026-06-01T23:00:00Z", "is_active": true,
            "cancelled_at": null, "available": 5, "held_seats": 2, "held_count": 1, "confirmed_seats": 3, "confirmed_count": 1,
        });
        let booking = slot(ReservationStatus::Confirmed, "450.00", t(65)).snapshot(t(70));
        let booking_json = json!({
            "id": 7, "kind": "auction", "auction_id": 1, "event_id": null, "user_id": 1, "status": "CONFIRMED",
            "quantity": 1, "unit_price": "450.00", "total_price": "450.00", "expires_at": "2026-06-01T13:05:00Z",
            "booking_code": "00000007", "created_at": "2026-06-01T13:00:00Z",
            "confirmed_at": "2026-06-01T13:00:00Z", "checked_in_at": null,
            "payment": { "status": "none", "amount": "0.00", "refunded_amount": "0.00" },
        });
        let hold = seats(5, UserId(11), ReservationStatus::Hold, 2, t(3)).snapshot(t(1));
        let hold_json = json!({
            "id": 5, "kind": "event", "auction_id": null, "event_id": 3, "user_id": 11, "status": "HOLD",
            "quantity": 2, "unit_price": "10.00", "total_price": "20.00", "expires_at": "2026-06-01T12:03:00Z",
            "booking_code": null, "created_at": "2026-06-01T11:58:00Z", "confirmed_at": null, "checked_in_at": null,
            "payment": { "status": "none", "amount": "0.00", "refunded_amount": "0.00" },
        });

        let fired = crate::alerts::PriceAlertSnapshot {
            id: crate::ids::AlertId(4),
            user_id: UserId(11),
            below: "460.00".parse().unwrap(),
            price: "450.00".parse().unwrap(),
            auction: held.clone(),
        };
        let fired_json = json!({"id": 4, "user_id": 11, "below": "460.00", "price": "450.00", "auction": held_json});
        let cases = [
            (Payload::TurboTriggered(held.clone()), &held_json),
            (Payload::AuctionHeld(held.clone()), &held_json),
            (Payload::AuctionReopened(held.clone()), &held_json),
            (Payload::AuctionBooked(held), &held_json),
            (Payload::AuctionUpdated(draft.clone()), &draft_json),
            (Payload::AuctionDeleted(draft), &draft_json),
            (Payload::AvailabilityChanged(seats_event), &seats_event_json),
            (Payload::HoldCreated(hold.clone()), &hold_json),
            (Payload::HoldOffered(hold), &hold_json),
            (Payload::BookingConfirmed(booking.clone()), &booking_json),
            (Payload::ReservationExpired(booking.clone()), &booking_json),
            (Payload::ReservationCancelled(booking.clone()), &booking_json),
            (Payload::ReservationCheckedIn(booking.clone()), &booking_json),
            (Payload::ReservationNoShow(booking.clone()), &booking_json),
            (Payload::PaymentSucceeded(booking.clone()), &booking_json),
            (Payload::PaymentRefunded(booking), &booking_json),
            (Payload::PriceAlert(fired), &fired_json),
        ];
        let kinds: Vec<_> = cases.iter().map(|(payload, _)| payload.kind()).collect();
        assert_eq!(kinds, EventKind::ALL, "one case per kind");
        for (payload, expected) in &cases {
            let event = DomainEvent::new(Room::Studio(StudioId(1)), payload);
            assert_eq!(event.kind, payload.kind());
            assert_eq!(&event.data, *expected, "{}", event.kind.as_str());
        }
        // A row written before sessions had a length reads as the default hour.
        let mut older = draft_json.clone();
        older.as_object_mut().unwrap().remove("session_minutes");
        let Ok(Payload::AuctionUpdated(read)) = Payload::decode(EventKind::AuctionUpdated, &older) else {
            panic!("an older auction row still reads");
        };
        assert_eq!(read.session_minutes, crate::auction::SESSION_MINUTES_DEFAULT);
        // An event row written before cancellations reads as not cancelled.
        let mut older = seats_event_json.clone();
        older.as_object_mut().unwrap().remove("cancelled_at");
        let Ok(Payload::AvailabilityChanged(read)) = Payload::decode(EventKind::AvailabilityChanged, &older) else {
            panic!("an older event row still reads");
        };
        assert_eq!(read.cancelled_at, None);
        // A reservation row written before payments reads as unpaid.
        let mut older = booking_json.clone();
        older.as_object_mut().unwrap().remove("payment");
        let Ok(Payload::BookingConfirmed(read)) = Payload::decode(EventKind::BookingConfirmed, &older) else {
            panic!("an older reservation row still reads");
        };
        assert_eq!(read.payment, crate::reservation::PaymentSummary::default());
        // One written before check-in times were announced reads as not checked in.
        let mut older = booking_json.clone();
        older.as_object_mut().unwrap().remove("checked_in_at");
        let Ok(Payload::ReservationCheckedIn(read)) = Payload::decode(EventKind::ReservationCheckedIn, &older) else {
            panic!("an older reservation row still reads");
        };
        assert_eq!(read.checked_in_at, None);
    }

    #[test]
    fn audit_actions_keep_their_names() {
        let names: Vec<_> = AuditAction::ALL.into_iter().map(AuditAction::as_str).collect();
        assert_eq!(
            names,
            [
                "auction.create",
                "auction.update",
                "auction.cancel",
                "auction.turbo",
                "auction.delete",
                "event.create",
                "event.update",
                "event.delete",
                "event.cancel",
                "reservation.cancel",
                "reservation.check_in",
                "studio.create",
                "studio.update",
                "studio.assign_admin",
                "studio.remove_admin",
                "payment.succeeded",
                "payment.refunded",
                "reservations.export",
                "account.delete",
            ]
        );
    }
}
