//! The public `catalogue` room (SPEC §12, the board): every auction's and
//! event's change — created, edited, opened, held, sold or booked, ended —
//! so a board stays live without a room per card.
//!
//! It is fed on each instance from the studio rooms' copies of the outbox
//! events: every change of an auction or event is written to its studio's
//! room exactly once, its creation included. An event's change follows the
//! event's visibility; a socket that may not see it gets `event_hidden`
//! instead. The room has no state (its snapshot is empty) and no replay: a
//! client (re)loads the lists over REST after `subscribed`.

use bytestring::ByteString;
use hothour_domain::Room;

use crate::live::hub::Hub;
use crate::live::protocol::ServerFrame;

/// The room's name, as clients subscribe to it.
pub const ROOM: &str = "catalogue";

/// Whether this instance's catalogue wants what is heard in `room`: a studio
/// room's changes, while the catalogue has a subscriber.
pub fn listens_to(hub: &Hub, room: &str) -> bool {
    matches!(Room::parse(room), Some(Room::Studio(_))) && hub.subscriber_count(ROOM) > 0
}

/// Passes `frame`, heard in `room` with `seq`, on to this instance's
/// catalogue when it is an auction's or an event's change in a studio room.
pub fn pass_on(hub: &Hub, room: &str, seq: i64, frame: &ServerFrame) {
    if !listens_to(hub, room) {
        return;
    }
    let Some(copy) = frame.in_catalogue() else {
        return;
    };
    let instead = copy.hidden_in_catalogue().map(|hidden| ByteString::from(hidden.to_text()));
    hub.broadcast(ROOM, Some(seq), ByteString::from(copy.to_text()), copy.visibility(), instead);
}
