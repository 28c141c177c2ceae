//! Live updates (SPEC §9): WebSocket rooms, price ticks, the outbox fan-out
//! across instances, and the background jobs every instance runs.

pub mod fanout;
pub mod hub;
pub mod jobs;
pub mod sessions;
pub mod socket;
pub mod ticker;
pub mod time;

use chrono::{DateTime, Utc};
use hothour_domain::StoredEvent;
use serde_json::{Value, json};

/// A state-change event as sent to clients.
pub fn event_frame(event: &StoredEvent, epoch: i64) -> String {
    json!({
        "type": event.kind,
        "room": event.room,
        "seq": event.seq,
        "epoch": epoch,
        "at": event.at,
        "data": event.data,
    })
    .to_string()
}

/// A message without a sequence number (price ticks, replies).
pub fn plain_frame(kind: &str, room: Option<&str>, at: DateTime<Utc>, data: Value) -> String {
    json!({ "type": kind, "room": room, "at": at, "data": data }).to_string()
}
