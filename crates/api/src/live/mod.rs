//! Live updates (SPEC §9): WebSocket rooms, price ticks and the outbox
//! fan-out across instances.

pub mod catalogue;
pub mod fanout;
pub mod hub;
pub mod local_commits;
pub mod protocol;
pub mod sessions;
pub mod socket;
pub mod stored;
pub mod sync;
pub mod ticker;
