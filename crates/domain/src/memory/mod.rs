//! What an instance keeps in memory to go faster, and nothing else: batchers
//! that let concurrent requests share one lock and one commit, and caches of
//! what the store holds. Each cache says when it may serve: the fresh cache
//! and the read model never answer with anything older than the last change
//! they were told of; the known auctions are used only to refuse; the known
//! reservations hold facts that never change.

pub mod batcher;
pub mod fresh_cache;
pub mod known_auctions;
pub mod known_reservations;
pub mod read_model;

pub use batcher::Batcher;
pub use fresh_cache::FreshCache;
pub use known_auctions::KnownAuctions;
pub use known_reservations::{KnownReservations, ReservationFacts};
pub use read_model::ReadModel;
