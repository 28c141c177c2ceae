//! Live updates (SPEC §9): WebSocket rooms, price ticks, the outbox fan-out
//! across instances, and the background jobs every instance runs.

pub mod fanout;
pub mod hub;
pub mod jobs;
pub mod protocol;
pub mod sessions;
pub mod socket;
pub mod sync;
pub mod ticker;
pub mod time;
