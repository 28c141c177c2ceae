//! What an audit entry says besides who acted, on what and when: one shape
//! per action, naming what changed and the facts someone reading the log
//! later needs (who was appointed, what an edit changed and from what, what a
//! cancelled booking was worth). The OpenAPI document describes each shape.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::account::{Studio, User};
use crate::actor::Role;
use crate::auction::{AuctionSnapshot, AuctionStatus};
use crate::booking_code::BookingCode;
use crate::domain_events::AuditAction;
use crate::event::EventSnapshot;
use crate::ids::{ReservationId, StudioId, UserId};
use crate::money::Money;
use crate::reservation::{Reservation, ReservationStatus, ReservationTarget};

/// The details of one audit entry; the variant decides the entry's action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AuditDetails {
    AuctionCreate(Facts),
    AuctionUpdate(Changes),
    AuctionCancel(AuctionCancelled),
    AuctionTurbo(TurboStarted),
    /// An auction no one ever reserved, removed.
    AuctionDelete(Facts),
    EventCreate(Facts),
    EventUpdate(Changes),
    EventDelete(Facts),
    EventCancel(EventCancelled),
    ReservationCancel(AuditedReservation),
    ReservationCheckIn(AuditedReservation),
    StudioCreate(StudioFacts),
    StudioUpdate(Changes),
    StudioAssignAdmin(AdminAppointed),
    StudioRemoveAdmin(AdminRemoved),
    /// A hold's payment succeeded (the entry's actor is its owner, who paid).
    PaymentSucceeded(AuditedReservation),
    /// A payment went back in full.
    PaymentRefunded(AuditedReservation),
    /// A studio's reservations were downloaded (CSV).
    ReservationsExport(ExportedRange),
    /// Someone deleted their own account (nothing personal is kept: their
    /// name and email are erased, so the entry names only the user's id).
    AccountDelete(AccountDeleted),
}

impl AuditDetails {
    pub fn action(&self) -> AuditAction {
        match self {
            AuditDetails::AuctionCreate(_) => AuditAction::AuctionCreate,
            AuditDetails::AuctionUpdate(_) => AuditAction::AuctionUpdate,
            AuditDetails::AuctionCancel(_) => AuditAction::AuctionCancel,
            AuditDetails::AuctionTurbo(_) => AuditAction::AuctionTurbo,
            AuditDetails::AuctionDelete(_) => AuditAction::AuctionDelete,
            AuditDetails::EventCreate(_) => AuditAction::EventCreate,
            AuditDetails::EventUpdate(_) => AuditAction::EventUpdate,
            AuditDetails::EventDelete(_) => AuditAction::EventDelete,
            AuditDetails::EventCancel(_) => AuditAction::EventCancel,
            AuditDetails::ReservationCancel(_) => AuditAction::ReservationCancel,
            AuditDetails::ReservationCheckIn(_) => AuditAction::ReservationCheckIn,
            AuditDetails::StudioCreate(_) => AuditAction::StudioCreate,
            AuditDetails::StudioUpdate(_) => AuditAction::StudioUpdate,
            AuditDetails::StudioAssignAdmin(_) => AuditAction::StudioAssignAdmin,
            AuditDetails::StudioRemoveAdmin(_) => AuditAction::StudioRemoveAdmin,
            AuditDetails::PaymentSucceeded(_) => AuditAction::PaymentSucceeded,
            AuditDetails::PaymentRefunded(_) => AuditAction::PaymentRefunded,
            AuditDetails::ReservationsExport(_) => AuditAction::ReservationsExport,
            AuditDetails::AccountDelete(_) => AuditAction::AccountDelete,
        }
    }
}

/// An auction cancelled: what it was, and the hold or booking cancelled with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuctionCancelled {
    pub title: String,
    /// The status it had until then.
    pub previous_status: AuctionStatus,
    pub cancelled_reservation: Option<AuditedReservation>,
}

/// An event cancelled: what it was, and every hold and booking cancelled with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventCancelled {
    #[serde(flatten)]
    pub event: Facts,
    pub cancelled_reservations: Vec<AuditedReservation>,
}

/// Turbo started by hand: at what price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TurboStarted {
    pub title: String,
    /// The price when turbo started.
    pub price: Money,
}

/// A reservation an admin acted on: whose, for what, how many seats and for how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditedReservation {
    pub reservation_id: ReservationId,
    /// As its `kind` and the matching id (the other null).
    #[serde(flatten)]
    pub target: ReservationTarget,
    pub user_id: UserId,
    /// The status it had until then.
    pub previous_status: ReservationStatus,
    pub quantity: u32,
    pub total_price: Money,
    pub booking_code: Option<BookingCode>,
}

impl AuditedReservation {
    /// `before` is the reservation as it was before the action.
    pub fn of(before: &Reservation, now: DateTime<Utc>) -> AuditedReservation {
        AuditedReservation {
            reservation_id: before.id,
            target: before.target,
            user_id: before.user_id,
            previous_status: before.status_at(now),
            quantity: before.quantity,
            total_price: before.total_price,
            booking_code: before.booking_code.clone(),
        }
    }
}

/// The days of a studio's reservations an admin exported: the sessions
/// starting from `from` to `to` (both included) on the studio's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The studio's time zone the days were read in.
    pub timezone: String,
}

/// A studio as created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudioFacts {
    pub name: String,
    pub address: String,
    pub timezone: String,
}

impl StudioFacts {
    pub fn of(studio: &Studio) -> StudioFacts {
        StudioFacts { name: studio.name.clone(), address: studio.address.clone(), timezone: studio.timezone.clone() }
    }
}

/// Who was made a studio's admin, and what they were before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminAppointed {
    pub user_id: UserId,
    pub email: String,
    pub previous_role: Role,
    pub previous_studio_id: Option<StudioId>,
}

impl AdminAppointed {
    pub fn of(user: &User, previous_role: Role, previous_studio_id: Option<StudioId>) -> AdminAppointed {
        AdminAppointed { user_id: user.id, email: user.email.clone(), previous_role, previous_studio_id }
    }
}

/// An account deleted by its owner: what it was allowed to do until then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountDeleted {
    pub user_id: UserId,
    pub previous_role: Role,
    /// The studio they ran, if they were its admin.
    pub previous_studio_id: Option<StudioId>,
}

/// Who stopped being a studio's admin (they are a plain user again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminRemoved {
    pub user_id: UserId,
    pub email: String,
}

impl AdminRemoved {
    pub fn of(user: &User) -> AdminRemoved {
        AdminRemoved { user_id: user.id, email: user.email.clone() }
    }
}

/// Fields of a snapshot, as it serializes them and by the names it gives
/// them: what an audit entry keeps of the auction or event it was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Facts(BTreeMap<&'static str, Value>);

impl Facts {
    /// An auction as created: what it sells, at what prices, and when.
    pub fn of_auction(auction: &AuctionSnapshot) -> Facts {
        Facts::pick(auction, AUCTION_FACTS)
    }

    /// An event as created, cancelled or deleted.
    pub fn of_event(event: &EventSnapshot) -> Facts {
        Facts::pick(event, EVENT_FACTS)
    }

    fn pick(snapshot: &impl Serialize, fields: &[&'static str]) -> Facts {
        // Plain data with string keys: serializing cannot fail.
        let all = serde_json::to_value(snapshot).expect("serializes");
        Facts(fields.iter().map(|field| (*field, all[*field].clone())).collect())
    }
}

/// What an audit entry keeps of an auction as created, as [`AuctionSnapshot`] names it.
pub const AUCTION_FACTS: &[&str] = &["title", "start_price", "floor_price", "starts_at", "ends_at", "scheduled_at"];

/// What an audit entry keeps of an event as created or deleted, as [`EventSnapshot`] names it.
pub const EVENT_FACTS: &[&str] = &["title", "capacity", "price", "starts_at", "ends_at"];

/// What an edit changed: each changed field, by its API name, with the
/// value before and after (fields left as they were are not listed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub changes: BTreeMap<&'static str, Change>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub from: Value,
    pub to: Value,
}

impl Changes {
    /// The `fields` whose values differ between `before` and `after`, as they serialize.
    pub fn between(before: &impl Serialize, after: &impl Serialize, fields: &[&'static str]) -> Changes {
        // Plain data with string keys: serializing cannot fail.
        let before = serde_json::to_value(before).expect("serializes");
        let after = serde_json::to_value(after).expect("serializes");
        let changes = fields
            .iter()
            .filter(|field| before[**field] != after[**field])
            .map(|field| (*field, Change { from: before[*field].clone(), to: after[*field].clone() }))
            .collect();
        Changes { changes }
    }
}

/// The fields of an auction an admin edits, as [`AuctionSnapshot`] names them.
pub const AUCTION_FIELDS: &[&str] = &[
    "title",
    "description",
    "start_price",
    "floor_price",
    "drop_amount",
    "drop_interval_minutes",
    "starts_at",
    "ends_at",
    "scheduled_at",
    "session_minutes",
    "turbo",
];

/// The fields of an event an admin edits, as [`EventSnapshot`] names them.
pub const EVENT_FIELDS: &[&str] = &["title", "description", "capacity", "price", "starts_at", "ends_at", "is_active"];

/// The fields of a studio an admin edits, as the API names them.
pub const STUDIO_FIELDS: &[&str] = &["name", "address", "timezone", "maps_url"];

/// A studio's editable fields, to compare with [`Changes::between`].
pub fn studio_fields(studio: &Studio) -> Value {
    serde_json::json!({
        "name": studio.name, "address": studio.address, "timezone": studio.timezone, "maps_url": studio.maps_url,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_audited_reservation_names_its_target_by_kind_and_ids() {
        let hold = crate::reservation::tests::hold(5);
        let audited = AuditedReservation::of(&hold, crate::reservation::tests::t(0));
        assert_eq!(
            serde_json::to_value(audited).unwrap(),
            json!({
                "reservation_id": 7, "kind": "event", "auction_id": null, "event_id": 3, "user_id": 1,
                "previous_status": "HOLD", "quantity": 2, "total_price": "20.00", "booking_code": null,
            })
        );
    }

    #[test]
    fn facts_are_the_named_fields_of_a_snapshot() {
        let event = crate::event::tests::event(10);
        let facts = Facts::of_event(&event.snapshot(event.availability(0, 0)));
        assert_eq!(
            serde_json::to_value(facts).unwrap(),
            json!({
                "title": "Salsa night", "capacity": 10, "price": "10.00",
                "starts_at": "2026-06-01T22:00:00Z", "ends_at": "2026-06-01T23:00:00Z",
            })
        );
    }

    #[test]
    fn changes_name_only_the_fields_that_differ() {
        let before = json!({ "title": "Yoga", "capacity": 10, "price": "10.00", "other": 1 });
        let after = json!({ "title": "Yoga", "capacity": 12, "price": "12.50", "other": 2 });
        let changes = Changes::between(&before, &after, &["title", "capacity", "price"]);
        assert_eq!(
            serde_json::to_value(changes).unwrap(),
            json!({ "changes": {
                "capacity": { "from": 10, "to": 12 },
                "price": { "from": "10.00", "to": "12.50" },
            } })
        );
        let none = Changes::between(&before, &before, &["title"]);
        assert_eq!(serde_json::to_value(none).unwrap(), json!({ "changes": {} }));
    }
}
