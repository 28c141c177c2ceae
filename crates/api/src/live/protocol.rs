//! The live protocol (SPEC §9) as types: every op a client sends and every
//! frame the server sends. Frames are built from these types only, and the
//! AsyncAPI document (`openapi/asyncapi.json`, see [`crate::asyncapi`]) is
//! derived from them, so the two cannot drift apart.
//!
//! Room data reuses the REST shapes: an auction is an [`AuctionOut`], an
//! event an [`EventOut`], a reservation a [`ReservationOut`].
//!
//! The rooms are the domain's ([`hothour_domain::Room`], where its events are
//! written) and the public [`catalogue`] room, which the live layer feeds from
//! the studio rooms' copies.

use chrono::{DateTime, Utc};
use hothour_domain::{
    AuctionSnapshot, Payload, ReservationSnapshot, ReservationTarget, Role, StoredEvent, StudioId, Visibility,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::{AuctionOut, EventOut, FiredAlertOut, ReservationOut, ReservationTargetOut, StudioSummary};
use crate::live::catalogue;
use crate::live::sessions::SessionEnd;

/// The largest `since` a client may send: sequence numbers are JSON numbers,
/// which JavaScript clients hold exactly only up to 2^53 - 1. (The schema of
/// [`Subscribe`] repeats it as a literal; a test holds the two together.)
pub const MAX_SINCE: i64 = (1 << 53) - 1;

// --- client → server ----------------------------------------------------------

/// One op from a client, told apart by its `op` field.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ClientOp {
    Auth(Auth),
    Subscribe(Subscribe),
    Unsubscribe(Unsubscribe),
    Ping(Ping),
}

impl ClientOp {
    pub fn name(&self) -> OpName {
        match self {
            ClientOp::Auth(_) => OpName::Auth,
            ClientOp::Subscribe(_) => OpName::Subscribe,
            ClientOp::Unsubscribe(_) => OpName::Unsubscribe,
            ClientOp::Ping(_) => OpName::Ping,
        }
    }

    /// The room the op names, if any.
    pub fn room(&self) -> Option<&str> {
        match self {
            ClientOp::Subscribe(op) => Some(&op.room),
            ClientOp::Unsubscribe(op) => Some(&op.room),
            ClientOp::Auth(_) | ClientOp::Ping(_) => None,
        }
    }
}

/// The ops, by the name a client gives in `op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpName {
    Auth,
    Subscribe,
    Unsubscribe,
    Ping,
}

impl OpName {
    pub const ALL: [OpName; 4] = [OpName::Auth, OpName::Subscribe, OpName::Unsubscribe, OpName::Ping];

    pub fn as_str(self) -> &'static str {
        match self {
            OpName::Auth => "auth",
            OpName::Subscribe => "subscribe",
            OpName::Unsubscribe => "unsubscribe",
            OpName::Ping => "ping",
        }
    }
}

/// Signs the socket in (needed for `user:` and `studio:` rooms). Sending it
/// again with a newer token extends the sign-in; with another user's token it
/// replaces the sign-in and ends the previous user's private rooms.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// An access token, as `POST /api/v1/auth/login` answers it.
    pub token: String,
}

/// Joins a room. Answered by `subscribed` with a snapshot of the room, or, with
/// `since`, by the events missed after that `seq` (or a snapshot when they are
/// no longer stored).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    #[schema(pattern = "^((auction|event|user|studio):0*[1-9][0-9]*|catalogue)$", example = "auction:42")]
    pub room: String,
    /// The last `seq` the client saw in this room, to resume from.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_i64)]
    pub since: Option<i64>,
}

/// Leaves a room (answered even if the socket was not in it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unsubscribe {
    #[schema(example = "auction:42")]
    pub room: String,
}

/// Asks for a `pong` with the server's time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ping {}

// --- server → client ----------------------------------------------------------

/// One frame from the server, told apart by its `type` field.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Authenticated(Authenticated),
    Subscribed(Subscribed),
    Unsubscribed(Unsubscribed),
    Pong(Pong),
    SessionEnded(SessionEnded),
    RoomClosed(RoomClosed),
    Error(ErrorFrame),
    EventHidden(EventHidden),
    PriceUpdate(PriceUpdate),
    TurboTriggered(AuctionChange),
    AuctionHeld(AuctionChange),
    AuctionReopened(AuctionChange),
    AuctionBooked(AuctionChange),
    AuctionUpdated(AuctionChange),
    AuctionDeleted(AuctionChange),
    AvailabilityChanged(AvailabilityChange),
    HoldCreated(ReservationChange),
    HoldOffered(ReservationChange),
    BookingConfirmed(ReservationChange),
    ReservationExpired(ReservationChange),
    ReservationCancelled(ReservationChange),
    ReservationCheckedIn(ReservationChange),
    ReservationNoShow(ReservationChange),
    PaymentSucceeded(ReservationChange),
    PaymentRefunded(ReservationChange),
    PriceAlert(PriceAlertFired),
}

impl ServerFrame {
    /// The frame as sent on the wire.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a frame serialises")
    }

    /// Who may receive this frame in its room. An event's frames in its
    /// `event:` room and in the catalogue follow the event's [`Visibility`]:
    /// once it is inactive they go to its studio's admins only. (Its studio's
    /// room has only those.)
    pub fn visibility(&self) -> Visibility {
        match self {
            ServerFrame::AvailabilityChanged(change)
                if change.room.starts_with("event:") || change.room == catalogue::ROOM =>
            {
                Visibility::of(change.data.is_active, StudioId(change.data.studio_id))
            }
            _ => Visibility::Everyone,
        }
    }

    /// The same change as the catalogue room carries it: an auction's or an
    /// event's change (`None` for any other frame).
    pub fn in_catalogue(&self) -> Option<ServerFrame> {
        let auction = |change: &AuctionChange| AuctionChange { room: catalogue::ROOM.to_owned(), ..change.clone() };
        Some(match self {
            ServerFrame::TurboTriggered(change) => ServerFrame::TurboTriggered(auction(change)),
            ServerFrame::AuctionHeld(change) => ServerFrame::AuctionHeld(auction(change)),
            ServerFrame::AuctionReopened(change) => ServerFrame::AuctionReopened(auction(change)),
            ServerFrame::AuctionBooked(change) => ServerFrame::AuctionBooked(auction(change)),
            ServerFrame::AuctionUpdated(change) => ServerFrame::AuctionUpdated(auction(change)),
            ServerFrame::AuctionDeleted(change) => ServerFrame::AuctionDeleted(auction(change)),
            ServerFrame::AvailabilityChanged(change) => ServerFrame::AvailabilityChanged(AvailabilityChange {
                room: catalogue::ROOM.to_owned(),
                ..change.clone()
            }),
            _ => return None,
        })
    }

    /// What a viewer who may not see an event's change in the catalogue gets
    /// instead: only that the event left it (`None` for any other frame).
    pub fn hidden_in_catalogue(&self) -> Option<ServerFrame> {
        match self {
            ServerFrame::AvailabilityChanged(change) => Some(ServerFrame::EventHidden(EventHidden {
                room: catalogue::ROOM.to_owned(),
                seq: change.seq,
                epoch: change.epoch,
                at: change.at,
                data: HiddenEvent { id: change.data.id },
            })),
            _ => None,
        }
    }

    /// The typed data of a committed state change, or `None` when it is not
    /// a room event or its stored data does not have the shape its kind
    /// promises (a row written by an older version): sending it would break
    /// the contract.
    pub fn stored_payload(event: &StoredEvent) -> Option<Payload> {
        match event.payload()? {
            Ok(payload) => Some(payload),
            Err(error) => {
                tracing::warn!(%error, seq = event.seq, kind = %event.kind, "an outbox row without its kind's shape is not sent");
                None
            }
        }
    }

    /// What the frame of `payload` carries besides it, for the caller to look
    /// up (`None` for a reservation that names no auction or event).
    pub fn needs(payload: &Payload) -> Option<Needs> {
        Some(match payload {
            Payload::TurboTriggered(a)
            | Payload::AuctionHeld(a)
            | Payload::AuctionReopened(a)
            | Payload::AuctionBooked(a)
            | Payload::AuctionUpdated(a)
            | Payload::AuctionDeleted(a) => Needs::Studio(a.studio_id),
            Payload::AvailabilityChanged(e) => Needs::Studio(e.studio_id),
            Payload::PriceAlert(alert) => Needs::Studio(alert.auction.studio_id),
            Payload::HoldCreated(r)
            | Payload::HoldOffered(r)
            | Payload::BookingConfirmed(r)
            | Payload::ReservationExpired(r)
            | Payload::ReservationCancelled(r)
            | Payload::ReservationCheckedIn(r)
            | Payload::ReservationNoShow(r)
            | Payload::PaymentSucceeded(r)
            | Payload::PaymentRefunded(r) => Needs::Session(match (r.auction_id, r.event_id) {
                (Some(id), _) => ReservationTarget::Auction(id),
                (None, Some(id)) => ReservationTarget::Event(id),
                (None, None) => return None,
            }),
        })
    }

    /// A committed state change as a frame, with what [`ServerFrame::needs`]
    /// said it carries; `None` when `context` is not that.
    pub fn from_stored(event: &StoredEvent, epoch: i64, payload: &Payload, context: Context) -> Option<ServerFrame> {
        let auction = |a: &AuctionSnapshot, studio| AuctionChange::new(event, epoch, AuctionOut::of(a, studio));
        let reservation = |r: &ReservationSnapshot, target: ReservationTargetOut| {
            ReservationChange::new(event, epoch, ReservationOut::of(r, target))
        };
        Some(match (payload, context) {
            (Payload::TurboTriggered(a), Context::Studio(s)) => ServerFrame::TurboTriggered(auction(a, s)),
            (Payload::AuctionHeld(a), Context::Studio(s)) => ServerFrame::AuctionHeld(auction(a, s)),
            (Payload::AuctionReopened(a), Context::Studio(s)) => ServerFrame::AuctionReopened(auction(a, s)),
            (Payload::AuctionBooked(a), Context::Studio(s)) => ServerFrame::AuctionBooked(auction(a, s)),
            (Payload::AuctionUpdated(a), Context::Studio(s)) => ServerFrame::AuctionUpdated(auction(a, s)),
            (Payload::AuctionDeleted(a), Context::Studio(s)) => ServerFrame::AuctionDeleted(auction(a, s)),
            (Payload::AvailabilityChanged(e), Context::Studio(s)) => {
                ServerFrame::AvailabilityChanged(AvailabilityChange::new(event, epoch, EventOut::of(e, s)))
            }
            (Payload::HoldCreated(r), Context::Target(t)) => ServerFrame::HoldCreated(reservation(r, t)),
            (Payload::HoldOffered(r), Context::Target(t)) => ServerFrame::HoldOffered(reservation(r, t)),
            (Payload::BookingConfirmed(r), Context::Target(t)) => ServerFrame::BookingConfirmed(reservation(r, t)),
            (Payload::ReservationExpired(r), Context::Target(t)) => ServerFrame::ReservationExpired(reservation(r, t)),
            (Payload::ReservationCancelled(r), Context::Target(t)) => {
                ServerFrame::ReservationCancelled(reservation(r, t))
            }
            (Payload::ReservationCheckedIn(r), Context::Target(t)) => {
                ServerFrame::ReservationCheckedIn(reservation(r, t))
            }
            (Payload::ReservationNoShow(r), Context::Target(t)) => ServerFrame::ReservationNoShow(reservation(r, t)),
            (Payload::PaymentSucceeded(r), Context::Target(t)) => ServerFrame::PaymentSucceeded(reservation(r, t)),
            (Payload::PaymentRefunded(r), Context::Target(t)) => ServerFrame::PaymentRefunded(reservation(r, t)),
            (Payload::PriceAlert(alert), Context::Studio(s)) => {
                ServerFrame::PriceAlert(PriceAlertFired::new(event, epoch, FiredAlertOut::of(alert, s)))
            }
            _ => return None,
        })
    }
}

/// What a stored event's frame carries besides the event (see [`ServerFrame::needs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// An auction's or event's studio.
    Studio(StudioId),
    /// A reservation's session (with its studio).
    Session(ReservationTarget),
}

/// What the caller looked up for [`Needs`].
#[derive(Debug, Clone)]
pub enum Context {
    Studio(StudioSummary),
    Target(ReservationTargetOut),
}

/// A state-change frame for a committed outbox row, with its data.
macro_rules! change {
    ($frame:ident, $data:ty) => {
        impl $frame {
            fn new(event: &StoredEvent, epoch: i64, data: $data) -> $frame {
                $frame { room: event.room.clone(), seq: event.seq, epoch, at: event.at, data }
            }
        }
    };
}

change!(AuctionChange, AuctionOut);
change!(AvailabilityChange, EventOut);
change!(ReservationChange, ReservationOut);
change!(PriceAlertFired, FiredAlertOut);

/// The answer to a successful `auth`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Authenticated {
    pub user_id: i64,
    pub role: Role,
    /// When the token expires: the socket's private rooms end then unless
    /// `auth` is sent again with a fresh token.
    pub expires_at: DateTime<Utc>,
}

/// The answer to `subscribe`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscribed {
    #[schema(pattern = "^((auction|event|user|studio):[1-9][0-9]*|catalogue)$", example = "auction:42")]
    pub room: String,
    /// The room's latest `seq` the client now has: resume from it with `since`.
    pub seq: i64,
    /// The stream's epoch: resuming across a different epoch gets a snapshot.
    pub epoch: i64,
    pub at: DateTime<Utc>,
    /// `true` when the missed events follow (replayed in order, each its own
    /// frame) and `data` is null; `false` when `data` is a fresh snapshot.
    pub resumed: bool,
    #[schema(required = true)]
    pub data: Option<Snapshot>,
}

/// A room's state now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Snapshot {
    /// `auction:{id}`: the auction as `GET /api/v1/auctions/{id}` shows it.
    Auction(AuctionOut),
    /// `event:{id}`: the event and its seats as `GET /api/v1/events/{id}` shows it.
    Event(EventOut),
    User(UserRoom),
    Studio(StudioRoom),
    Catalogue(CatalogueRoom),
}

/// `user:{id}`: the room carries reservation events only; it has no state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRoom {
    pub user_id: i64,
}

/// `studio:{id}`: the room carries the studio's reservation, auction and seat events; it has no state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StudioRoom {
    pub studio_id: i64,
}

/// `catalogue`: the room carries every auction's and event's changes; it has
/// no state and no replay (a `subscribe` with `since` gets this snapshot too):
/// read the lists from `GET /api/v1/auctions` and `GET /api/v1/events`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueRoom {}

/// The answer to `unsubscribe`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unsubscribed {
    /// The room as the client named it.
    pub room: String,
}

/// The answer to `ping`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pong {
    /// The server's time, for countdowns.
    pub at: DateTime<Utc>,
}

/// The socket's private rooms (`user:`, `studio:`) ended; public rooms carry on.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionEnded {
    pub reason: SessionEnd,
    /// The private rooms left, sorted.
    pub rooms: Vec<String>,
    /// Whether the socket is still signed in (after `role_changed` or
    /// `replaced`, as the same or another user).
    pub signed_in: bool,
    pub at: DateTime<Utc>,
}

/// The socket left a room it may no longer see, e.g. `event:7` when the event
/// was deactivated or deleted: nothing more of that room is sent to it, and
/// subscribing again answers `not_found` while the event stays hidden. Its
/// studio's admins and platform admins keep the room.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomClosed {
    #[schema(pattern = "^event:[1-9][0-9]*$", example = "event:7")]
    pub room: String,
    pub data: RoomClosedData,
}

/// Why a room closed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomClosedData {
    pub reason: RoomClosedReason,
}

/// - `event_hidden`: the event was deactivated or deleted; only its studio sees it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomClosedReason {
    EventHidden,
}

/// An op refused, or a problem with the socket.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorFrame {
    pub code: ErrorCode,
    /// For people; may change.
    pub detail: String,
    /// The op this answers, when known.
    #[schema(required = true)]
    pub op: Option<OpName>,
    /// The room that op named, as the client wrote it, when there is one.
    #[schema(required = true)]
    pub room: Option<String>,
}

/// Why an op was refused:
/// - `bad_request`: not a JSON text frame holding a known op with its fields, or not a room name;
/// - `unauthorized`: the token is invalid, expired or signed out, or a private room was asked for without `auth`;
/// - `forbidden`: signed in, but not allowed in that private room;
/// - `not_found`: no such auction, event or studio (with or without `since`);
/// - `invalid_since`: `since` is not a sequence number from 0 to 2^53 - 1;
/// - `too_many_rooms`: the socket is in as many rooms as it may be: unsubscribe from one first;
/// - `rate_limited`: too many ops per second; the op was not carried out (persisting closes the socket with 4029);
/// - `unavailable`: the database cannot be asked now (the sign-in, the catalogue): try again;
/// - `too_many_connections`: too many sockets from this address; the socket is then closed with 1013.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    InvalidSince,
    TooManyRooms,
    RateLimited,
    Unavailable,
    TooManyConnections,
}

/// A price step: sent at each step boundary of an auction's schedule. It is
/// computed on each instance and carries no `seq` (a snapshot restores it).
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceUpdate {
    #[schema(pattern = "^auction:[1-9][0-9]*$", example = "auction:42")]
    pub room: String,
    pub at: DateTime<Utc>,
    pub data: AuctionOut,
}

/// A state change of an auction, in its `auction:` room, its studio's room
/// and the catalogue (where a new auction first shows as `auction_updated`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuctionChange {
    #[schema(pattern = "^((auction|studio):[1-9][0-9]*|catalogue)$", example = "auction:42")]
    pub room: String,
    /// Increases within the room; gaps are normal (resume with `since`).
    pub seq: i64,
    pub epoch: i64,
    pub at: DateTime<Utc>,
    /// The auction after the change (a deleted one as it was).
    pub data: AuctionOut,
}

/// An event's seats or details changed, in its `event:` room, its studio's
/// room and the catalogue (where a new event first shows as
/// `availability_changed`; an inactive one only to those who may see it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AvailabilityChange {
    #[schema(pattern = "^((event|studio):[1-9][0-9]*|catalogue)$", example = "event:7")]
    pub room: String,
    /// Increases within the room; gaps are normal (resume with `since`).
    pub seq: i64,
    pub epoch: i64,
    pub at: DateTime<Utc>,
    /// The event and its seats after the change.
    pub data: EventOut,
}

/// An event left the catalogue for this socket: it was deactivated or
/// deleted, and only its studio sees it now. Sent in place of its
/// `availability_changed` to everyone else; it says nothing more of the event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventHidden {
    #[schema(pattern = "^catalogue$", example = "catalogue")]
    pub room: String,
    /// Increases within the room; gaps are normal.
    pub seq: i64,
    pub epoch: i64,
    pub at: DateTime<Utc>,
    pub data: HiddenEvent,
}

/// The event that left the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HiddenEvent {
    pub id: i64,
}

/// A reservation changed, in its owner's `user:` room and its studio's room.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationChange {
    #[schema(pattern = "^(user|studio):[1-9][0-9]*$", example = "user:3")]
    pub room: String,
    /// Increases within the room; gaps are normal (resume with `since`).
    pub seq: i64,
    pub epoch: i64,
    pub at: DateTime<Utc>,
    /// The reservation after the change.
    pub data: ReservationOut,
}

/// A price alert of the user's fired: the auction's price is at or below
/// what they asked for. In their `user:` room only.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceAlertFired {
    #[schema(pattern = "^user:[1-9][0-9]*$", example = "user:3")]
    pub room: String,
    /// Increases within the room; gaps are normal (resume with `since`).
    pub seq: i64,
    pub epoch: i64,
    pub at: DateTime<Utc>,
    pub data: FiredAlertOut,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> Result<ClientOp, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn ops_are_read_strictly() {
        assert!(matches!(parse(r#"{"op":"ping"}"#), Ok(ClientOp::Ping(_))));
        assert!(matches!(parse(r#"{"op":"auth","token":"t"}"#), Ok(ClientOp::Auth(Auth { token })) if token == "t"));
        let subscribe = parse(r#"{"op":"subscribe","room":"auction:1","since":3}"#).unwrap();
        assert_eq!((subscribe.name(), subscribe.room()), (OpName::Subscribe, Some("auction:1")));
        assert!(
            matches!(parse(r#"{"op":"subscribe","room":"event:2","since":null}"#), Ok(ClientOp::Subscribe(s)) if s.since.is_none())
        );
        for bad in [
            r#"{"op":"ping","extra":1}"#,
            r#"{"op":"auth"}"#,
            r#"{"op":"subscribe","room":"auction:1","since":"x"}"#,
            r#"{"op":"unsubscribe","room":"auction:1","since":1}"#,
            r#"{"op":"shout"}"#,
            r#"{"room":"auction:1"}"#,
            r#"[]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn frames_carry_their_type_first() {
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let text = ServerFrame::Pong(Pong { at }).to_text();
        assert_eq!(text, r#"{"type":"pong","at":"2026-06-01T12:00:00Z"}"#);
        let error = ServerFrame::Error(ErrorFrame {
            code: ErrorCode::TooManyRooms,
            detail: "d".into(),
            op: Some(OpName::Subscribe),
            room: None,
        });
        let value: serde_json::Value = serde_json::from_str(&error.to_text()).unwrap();
        assert_eq!(
            value,
            json!({"type": "error", "code": "too_many_rooms", "detail": "d", "op": "subscribe", "room": null})
        );
    }

    fn stored(kind: &str, data: serde_json::Value) -> StoredEvent {
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        StoredEvent { seq: 7, room: "user:3".into(), kind: kind.into(), data, at }
    }

    #[test]
    fn stored_events_become_typed_frames_only_with_their_kinds_shape() {
        let reservation = json!({
            "id": 5, "kind": "event", "auction_id": null, "event_id": 2, "user_id": 3, "status": "NO_SHOW",
            "quantity": 1, "unit_price": "10.00", "total_price": "10.00", "expires_at": "2026-06-01T12:05:00Z",
            "booking_code": "7KQ2M9XD", "created_at": "2026-06-01T12:00:00Z", "confirmed_at": "2026-06-01T12:01:00Z",
            "checked_in_at": null,
            "payment": { "status": "succeeded", "amount": "10.00", "refunded_amount": "0.00" },
        });
        let event = stored("reservation_no_show", reservation.clone());
        let payload = ServerFrame::stored_payload(&event).expect("a room event");
        let target_id = hothour_domain::EventId(2);
        assert_eq!(ServerFrame::needs(&payload), Some(Needs::Session(ReservationTarget::Event(target_id))));
        let at = Utc.with_ymd_and_hms(2026, 6, 2, 18, 0, 0).unwrap();
        let studio = StudioSummary {
            id: 1,
            name: "Moda".into(),
            address: "Moda Cd. 1".into(),
            timezone: "UTC".into(),
            maps_url: None,
        };
        let target = ReservationTargetOut {
            kind: crate::dto::ReservationKind::Event,
            id: 2,
            title: "Salsa".into(),
            starts_at: at,
            ends_at: at,
            studio: studio.clone(),
        };
        let frame = ServerFrame::from_stored(&event, 9, &payload, Context::Target(target.clone())).expect("a frame");
        let sent: serde_json::Value = serde_json::from_str(&frame.to_text()).unwrap();
        assert_eq!(sent["type"], "reservation_no_show");
        assert_eq!(
            (sent["room"].as_str(), sent["seq"].as_i64(), sent["epoch"].as_i64()),
            (Some("user:3"), Some(7), Some(9))
        );
        let mut expected = reservation.clone();
        expected["target"] = serde_json::to_value(&target).unwrap();
        assert_eq!(sent["data"], expected, "the data goes out as it was stored, with its target");
        assert!(ServerFrame::from_stored(&event, 9, &payload, Context::Studio(studio)).is_none(), "not its context");

        // Stored before payments existed: no payment, read as none.
        let mut before_payments = reservation.clone();
        before_payments.as_object_mut().unwrap().remove("payment");
        let payload = ServerFrame::stored_payload(&stored("reservation_no_show", before_payments)).expect("still read");
        let frame = ServerFrame::from_stored(&event, 9, &payload, Context::Target(target.clone())).expect("a frame");
        let sent: serde_json::Value = serde_json::from_str(&frame.to_text()).unwrap();
        assert_eq!(sent["data"]["payment"], json!({ "status": "none", "amount": "0.00", "refunded_amount": "0.00" }));
        // Stored before check-in times were announced: none.
        let mut before_check_in_times = reservation.clone();
        before_check_in_times.as_object_mut().unwrap().remove("checked_in_at");
        let payload = ServerFrame::stored_payload(&stored("reservation_no_show", before_check_in_times)).expect("read");
        let frame = ServerFrame::from_stored(&event, 9, &payload, Context::Target(target)).expect("a frame");
        let sent: serde_json::Value = serde_json::from_str(&frame.to_text()).unwrap();
        assert_eq!(sent["data"]["checked_in_at"], serde_json::Value::Null);

        assert!(ServerFrame::stored_payload(&stored("auction_held", reservation)).is_none(), "not an auction");
        assert!(ServerFrame::stored_payload(&stored("hold_created", json!({"late": true}))).is_none());
        assert!(ServerFrame::stored_payload(&stored("sessions_revoked", json!({}))).is_none(), "not a room event");
    }
}
