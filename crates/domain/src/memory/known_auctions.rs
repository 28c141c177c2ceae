//! What this instance knows of each auction's live reservation, learned from
//! the committed events it sees (its own commits and every other instance's,
//! through the outbox). A grab that can only lose is refused from it at once,
//! without waiting for the auction's lock; a grab that might win still takes
//! the lock, where the decision is made.
//!
//! The knowledge can be late by the time an announcement takes to arrive, so
//! it is only ever used to refuse: a hold that ended a moment ago may still be
//! taken for live (the client retries), but nothing is ever granted from it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::domain_events::{Payload, Room, StoredEvent};
use crate::error::DomainError;
use crate::ids::AuctionId;
use crate::reservation::ReservationStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Known {
    /// The outbox sequence number it was learned from: older news is ignored.
    seq: i64,
    /// The live reservation, or none since it ended.
    live: Option<(ReservationStatus, DateTime<Utc>)>,
}

/// Auctions' live reservations as announced.
#[derive(Debug, Default)]
pub struct KnownAuctions {
    auctions: Mutex<HashMap<AuctionId, Known>>,
}

impl KnownAuctions {
    /// As [`KnownAuctions::observe_decoded`], decoding the payload itself.
    #[cfg(test)]
    pub fn observe(&self, event: &StoredEvent) {
        self.observe_decoded(event, event.payload().and_then(Result::ok).as_ref());
    }

    /// Learns from a committed event. Reservation events are announced to the
    /// holder's room and to the studio's; the studio's copy is read.
    /// `payload` is the event's, decoded (`None` when it is no room event or
    /// does not decode).
    pub fn observe_decoded(&self, event: &StoredEvent, payload: Option<&Payload>) {
        if !matches!(Room::parse(&event.room), Some(Room::Studio(_))) {
            return;
        }
        let Some(payload) = payload else {
            return;
        };
        let Some(reservation) = payload.reservation() else {
            return;
        };
        let Some(auction) = reservation.auction_id else {
            return;
        };
        let status = reservation.status;
        let live =
            (status == ReservationStatus::Hold || status.is_booked()).then_some((status, reservation.expires_at));
        let mut auctions = self.auctions.lock().unwrap_or_else(PoisonError::into_inner);
        let known = auctions.entry(auction).or_insert(Known { seq: 0, live: None });
        if event.seq > known.seq {
            *known = Known { seq: event.seq, live };
        }
    }

    /// The refusal a grab on `auction` at `now` is sure to get, if any.
    pub fn sure_refusal(&self, auction: AuctionId, now: DateTime<Utc>) -> Option<DomainError> {
        let auctions = self.auctions.lock().unwrap_or_else(PoisonError::into_inner);
        match auctions.get(&auction)?.live? {
            (status, _) if status.is_booked() => Some(DomainError::AuctionAlreadyBooked),
            (ReservationStatus::Hold, expires_at) if now < expires_at => Some(DomainError::AuctionOnHold),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reservation::ReservationTarget;
    use crate::reservation::tests::{stored_reservation, t};

    fn event(seq: i64, room: &str, auction: Option<i64>, status: &str, expires_at: DateTime<Utc>) -> StoredEvent {
        let target = match auction {
            Some(id) => ReservationTarget::Auction(AuctionId(id)),
            None => ReservationTarget::Event(crate::ids::EventId(1)),
        };
        let status = ReservationStatus::parse(status).expect("a status");
        stored_reservation(seq, room, target, status, expires_at)
    }

    #[test]
    fn a_live_hold_refuses_grabs_until_it_lapses() {
        let known = KnownAuctions::default();
        known.observe(&event(1, "studio:1", Some(7), "HOLD", t(5)));
        assert_eq!(known.sure_refusal(AuctionId(7), t(0)), Some(DomainError::AuctionOnHold));
        assert_eq!(known.sure_refusal(AuctionId(7), t(5)), None, "a lapsed hold refuses nothing");
        assert_eq!(known.sure_refusal(AuctionId(8), t(0)), None, "nothing known, nothing refused");
    }

    #[test]
    fn a_booking_refuses_until_it_is_cancelled() {
        let known = KnownAuctions::default();
        known.observe(&event(1, "studio:1", Some(7), "HOLD", t(5)));
        known.observe(&event(2, "studio:1", Some(7), "CONFIRMED", t(5)));
        assert_eq!(known.sure_refusal(AuctionId(7), t(60)), Some(DomainError::AuctionAlreadyBooked));
        known.observe(&event(3, "studio:1", Some(7), "CANCELLED", t(5)));
        assert_eq!(known.sure_refusal(AuctionId(7), t(0)), None);
    }

    #[test]
    fn older_news_user_rooms_and_event_reservations_are_ignored() {
        let known = KnownAuctions::default();
        known.observe(&event(5, "studio:1", Some(7), "EXPIRED", t(5)));
        known.observe(&event(4, "studio:1", Some(7), "HOLD", t(5)));
        assert_eq!(known.sure_refusal(AuctionId(7), t(0)), None, "the hold ended after it began");
        known.observe(&event(6, "user:3", Some(9), "HOLD", t(5)));
        known.observe(&event(7, "studio:1", None, "HOLD", t(5)));
        assert_eq!(known.sure_refusal(AuctionId(9), t(0)), None);
    }
}
