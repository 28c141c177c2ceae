//! Auctions and events as this instance last read them, served without the
//! store until a committed event says they changed (this instance's commits
//! before their callers are answered, other instances' as the outbox
//! announces them). An event's availability is also served only until its
//! next live hold lapses, since that changes it without a commit.

use crate::domain_events::Payload;
use crate::domain_events::{Room, StoredEvent};
use crate::ids::{AuctionId, EventId};
use crate::memory::fresh_cache::FreshCache;
use crate::ports::{AuctionRecord, EventRecord, SessionSummary};
use crate::reservation::ReservationTarget;

#[derive(Debug, Default)]
pub struct ReadModel {
    auctions: FreshCache<AuctionId, AuctionRecord>,
    events: FreshCache<EventId, EventRecord>,
    /// What each auction's and event's session is (title, times, studio), as
    /// tickets name it: kept until a committed change says otherwise, which
    /// seats and prices moving do not (a hold storm keeps it).
    sessions: FreshCache<ReservationTarget, SessionSummary>,
}

impl ReadModel {
    pub fn auctions(&self) -> &FreshCache<AuctionId, AuctionRecord> {
        &self.auctions
    }

    pub fn events(&self) -> &FreshCache<EventId, EventRecord> {
        &self.events
    }

    pub fn sessions(&self) -> &FreshCache<ReservationTarget, SessionSummary> {
        &self.sessions
    }

    /// As [`ReadModel::observe_decoded`], decoding the payload itself.
    #[cfg(test)]
    pub fn observe(&self, event: &StoredEvent) {
        self.observe_decoded(event, event.payload().and_then(Result::ok).as_ref());
    }

    /// Forgets what a committed event changed: its room's auction or event,
    /// and the parent of the reservation it tells of. `payload` is the
    /// event's, decoded (`None` when it is no room event or does not decode).
    pub fn observe_decoded(&self, event: &StoredEvent, payload: Option<&Payload>) {
        match Room::parse(&event.room) {
            Some(Room::Auction(id)) => self.auctions.changed(id),
            Some(Room::Event(id)) => self.events.changed(id),
            _ => {}
        }
        let Some(payload) = payload else {
            return;
        };
        if let Some(session) = session_of(payload)
            && !self.sessions.keeps(session.target, &session)
        {
            self.sessions.changed(session.target);
        }
        let (auction, parent_event) = payload.parents();
        if let Some(id) = auction {
            self.auctions.changed(id);
        }
        if let Some(id) = parent_event {
            self.events.changed(id);
        }
    }

    /// Whether reads are served from memory.
    pub fn following(&self) -> bool {
        self.events.following()
    }

    /// Reads answered from memory, and reads that went to the store.
    pub fn counts(&self) -> (u64, u64) {
        let (auctions, events) = (self.auctions.counts(), self.events.counts());
        (auctions.0 + events.0, auctions.1 + events.1)
    }

    /// Serves from memory while every committed event is heard; stops and
    /// forgets everything when some may be missed.
    pub fn follow(&self, following: bool) {
        self.auctions.follow(following);
        self.events.follow(following);
        self.sessions.follow(following);
    }
}

/// The session an auction's or event's committed state names.
fn session_of(payload: &Payload) -> Option<SessionSummary> {
    match payload {
        Payload::TurboTriggered(a)
        | Payload::AuctionHeld(a)
        | Payload::AuctionReopened(a)
        | Payload::AuctionBooked(a)
        | Payload::AuctionUpdated(a) => Some(SessionSummary {
            target: ReservationTarget::Auction(a.id),
            studio_id: a.studio_id,
            title: a.title.clone(),
            starts_at: a.scheduled_at,
            ends_at: a.scheduled_at + chrono::Duration::minutes(a.session_minutes),
        }),
        Payload::AvailabilityChanged(e) => Some(SessionSummary {
            target: ReservationTarget::Event(e.id),
            studio_id: e.studio_id,
            title: e.title.clone(),
            starts_at: e.starts_at,
            ends_at: e.ends_at,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::reservation::tests::{stored_reservation, t};
    use crate::reservation::{ReservationStatus, ReservationTarget};

    fn stored(room: &str, data: serde_json::Value) -> StoredEvent {
        StoredEvent { seq: 1, room: room.into(), kind: "hold_created".into(), data, at: t(0) }
    }

    fn reservation_on(room: &str, target: ReservationTarget) -> StoredEvent {
        stored_reservation(1, room, target, ReservationStatus::Hold, t(5))
    }

    fn keep(model: &ReadModel, id: i64) {
        let record = AuctionRecord { auction: crate::auction::tests::auction(), live: None };
        let fill = model.auctions.get(AuctionId(id), t(0)).unwrap_err().expect("following");
        model.auctions.offer(fill, AuctionId(id), record, None);
        assert!(model.auctions.get(AuctionId(id), t(0)).is_ok());
    }

    #[test]
    fn a_room_or_a_reservation_of_the_parent_forgets_it() {
        let model = ReadModel::default();
        model.follow(true);
        keep(&model, 7);
        model.observe(&reservation_on("user:3", ReservationTarget::Auction(AuctionId(7))));
        assert!(model.auctions.get(AuctionId(7), t(0)).is_err(), "a reservation on it");
        keep(&model, 7);
        model.observe(&stored("auction:8", json!({})));
        assert!(model.auctions.get(AuctionId(7), t(0)).is_ok(), "another auction's news");
        model.observe(&stored("auction:7", json!({})));
        assert!(model.auctions.get(AuctionId(7), t(0)).is_err(), "its own room");
    }

    #[test]
    fn an_event_is_forgotten_by_its_room_or_a_reservation_on_it() {
        let model = ReadModel::default();
        model.follow(true);
        for news in [stored("event:5", json!({})), reservation_on("studio:1", ReservationTarget::Event(EventId(5)))] {
            let event = crate::event::tests::event(10);
            let record = EventRecord { availability: event.availability(0, 0), event, next_lapse_at: None };
            let fill = model.events.get(EventId(5), t(0)).unwrap_err().expect("following");
            model.events.offer(fill, EventId(5), record, None);
            assert!(model.events.get(EventId(5), t(0)).is_ok());
            model.observe(&news);
            assert!(model.events.get(EventId(5), t(0)).is_err());
        }
    }

    #[test]
    fn a_session_is_kept_while_only_seats_move_and_forgotten_when_its_details_change() {
        let model = ReadModel::default();
        model.follow(true);
        let mut event = crate::event::tests::event(10);
        let snapshot = |event: &crate::event::Event| {
            let data = serde_json::to_value(event.snapshot(event.availability(0, 0))).unwrap();
            StoredEvent {
                seq: 1,
                room: format!("event:{}", event.id.0),
                kind: "availability_changed".into(),
                data,
                at: t(0),
            }
        };
        let target = ReservationTarget::Event(event.id);
        let session = SessionSummary::of_event(&event);
        let fill = model.sessions().get(target, t(0)).unwrap_err().expect("following");
        model.sessions().offer(fill, target, session.clone(), None);

        event.account_new(&crate::event::tests::seats(5, crate::ids::UserId(11), ReservationStatus::Hold, 2, t(3)));
        model.observe(&snapshot(&event));
        assert_eq!(model.sessions().get(target, t(1)), Ok(session), "a hold keeps the session");

        event.details.title = "Salsa night, moved".into();
        model.observe(&snapshot(&event));
        assert!(model.sessions().get(target, t(1)).is_err(), "a new title forgets it");
    }
}
