//! An in-memory store of auctions, events and reservations, so the use cases'
//! rules are tested without a database. One mutex stands for every row lock:
//! a decision runs with it held, as it would under its parent's lock. It
//! keeps what the SQL adapter keeps (rows, outbox, audit), not how.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::auction::{Auction, AuctionStatus, AuctionUnit};
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::domain_events::{AuditEntry, StoredEvent};
use crate::error::DomainError;
use crate::event::{Event, EventUnit, SeatCounts};
use crate::ids::{AuctionId, EventId, ReservationId, UserId};
use crate::payments::IntentId;
use crate::ports::{
    AuctionRecord, AuctionStore, BookingCodes, Committed, EventRecord, EventStore, NewAuction, NewEvent,
    PaymentRecords, ReservationStore,
};
use crate::reservation::{
    EventReservationsUnit, Parent, PaymentStatus, Reservation, ReservationStatus, ReservationTarget, ReservationUnit,
};
use crate::unit_of_work::Effects;

#[derive(Debug, Default)]
pub struct Rows {
    pub auctions: BTreeMap<AuctionId, Auction>,
    pub events: BTreeMap<EventId, Event>,
    pub reservations: BTreeMap<ReservationId, Reservation>,
    pub outbox: Vec<StoredEvent>,
    pub audit: Vec<AuditEntry>,
    /// Every id (auctions, events, reservations) is drawn from one sequence.
    last_id: i64,
    /// Decisions taken under a lock, so a test can tell a refusal came before it.
    pub locks_taken: usize,
    codes_drawn: u64,
}

impl Rows {
    fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    /// Stores what a decision changed: its reservations, outbox events and audit entries.
    fn commit(&mut self, effects: Effects, at: DateTime<Utc>) -> Vec<StoredEvent> {
        for reservation in effects.reservations {
            if let Some(taken) = reservation.booking_code.as_ref().filter(|code| {
                self.reservations.values().any(|r| r.id != reservation.id && r.booking_code.as_ref() == Some(*code))
            }) {
                panic!("booking code {taken} stored twice");
            }
            self.reservations.insert(reservation.id, reservation);
        }
        let first = self.outbox.len() as i64 + 1;
        let stored: Vec<StoredEvent> = effects
            .events
            .into_iter()
            .enumerate()
            .map(|(i, event)| StoredEvent {
                seq: first + i as i64,
                room: event.room.to_string(),
                kind: event.kind.as_str().to_owned(),
                data: event.data,
                at,
            })
            .collect();
        self.outbox.extend(stored.iter().cloned());
        self.audit.extend(effects.audit);
        stored
    }

    fn live_reservation_of(&self, auction: AuctionId) -> Option<Reservation> {
        self.reservations
            .values()
            .find(|r| {
                r.target == ReservationTarget::Auction(auction)
                    && (r.status == ReservationStatus::Hold || r.status.is_booked())
            })
            .cloned()
    }

    fn holds_of(&self, event: EventId) -> impl Iterator<Item = &Reservation> {
        self.reservations
            .values()
            .filter(move |r| r.target == ReservationTarget::Event(event) && r.status == ReservationStatus::Hold)
    }
}

#[derive(Debug, Clone, Default)]
pub struct FakeCatalogue {
    rows: Arc<Mutex<Rows>>,
    /// Provider events applied, by (provider, event id).
    provider_events: Arc<Mutex<std::collections::BTreeSet<(String, String)>>>,
}

impl FakeCatalogue {
    pub fn rows(&self) -> MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn locked<T>(
        &self,
        decide: impl FnOnce(&mut Rows) -> Result<(T, Effects, DateTime<Utc>), DomainError>,
    ) -> Result<Committed<T>, DomainError> {
        let mut rows = self.rows();
        rows.locks_taken += 1;
        let (value, effects, now) = decide(&mut rows)?;
        let events = rows.commit(effects, now);
        Ok(Committed { value, events })
    }
}

impl AuctionStore for FakeCatalogue {
    async fn create_auction<F>(&self, new: NewAuction, effects: F) -> Result<Committed<Auction>, DomainError>
    where
        F: FnOnce(&Auction) -> Effects + Send,
    {
        let mut rows = self.rows();
        let starts_at = new.details.schedule.starts_at();
        let auction = Auction {
            id: AuctionId(rows.next_id()),
            studio_id: new.studio_id,
            stored_status: if new.created_at < starts_at { AuctionStatus::Draft } else { AuctionStatus::Active },
            details: new.details,
            turbo_started_at: None,
            turbo_announced: false,
            cancelled_at: None,
            created_at: new.created_at,
        };
        rows.auctions.insert(auction.id, auction.clone());
        let events = rows.commit(effects(&auction), new.created_at);
        Ok(Committed { value: auction, events })
    }

    async fn find_auction(&self, id: AuctionId) -> Result<Option<AuctionRecord>, DomainError> {
        let rows = self.rows();
        let live = rows.live_reservation_of(id);
        Ok(rows.auctions.get(&id).map(|auction| AuctionRecord { auction: auction.clone(), live }))
    }

    async fn with_auction_locked<T, C, F>(
        &self,
        id: AuctionId,
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut AuctionUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.locked(|rows| {
            let auction = rows.auctions.get(&id).cloned().ok_or(DomainError::NotFound("auction"))?;
            let ended_holders = rows
                .reservations
                .values()
                .filter(|r| r.target == ReservationTarget::Auction(id))
                .filter(|r| matches!(r.status, ReservationStatus::Expired | ReservationStatus::Cancelled))
                .map(|r| r.user_id)
                .collect();
            let mut unit = AuctionUnit {
                auction,
                live: rows.live_reservation_of(id),
                ended_holders,
                next_reservation_id: ReservationId(rows.next_id()),
                effects: Effects::default(),
            };
            let now = clock.now();
            let value = decide(&mut unit, now)?;
            rows.auctions.insert(id, unit.auction);
            Ok((value, unit.effects, now))
        })
    }

    async fn try_with_auction_locked<T, C, F>(
        &self,
        id: AuctionId,
        clock: &C,
        decide: F,
    ) -> Result<Option<Committed<T>>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut AuctionUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.with_auction_locked(id, clock, decide).await.map(Some)
    }
}

impl EventStore for FakeCatalogue {
    async fn create_event<F>(&self, new: NewEvent, effects: F) -> Result<Committed<Event>, DomainError>
    where
        F: FnOnce(&Event) -> Effects + Send,
    {
        let mut rows = self.rows();
        let event = Event {
            id: EventId(rows.next_id()),
            studio_id: new.studio_id,
            details: new.details,
            seats: SeatCounts::default(),
            deleted_at: None,
            created_at: new.created_at,
        };
        rows.events.insert(event.id, event.clone());
        let events = rows.commit(effects(&event), new.created_at);
        Ok(Committed { value: event, events })
    }

    async fn find_event(&self, id: EventId, now: DateTime<Utc>) -> Result<Option<EventRecord>, DomainError> {
        let rows = self.rows();
        let Some(event) = rows.events.get(&id).filter(|event| event.deleted_at.is_none()).cloned() else {
            return Ok(None);
        };
        let lapsed: Vec<&Reservation> = rows.holds_of(id).filter(|r| r.expires_at <= now).collect();
        let lapsed_seats = lapsed.iter().map(|r| r.quantity).sum();
        let next_lapse_at = rows.holds_of(id).map(|r| r.expires_at).filter(|at| *at > now).min();
        let availability = event.availability(lapsed_seats, lapsed.len() as u32);
        Ok(Some(EventRecord { event, availability, next_lapse_at }))
    }

    async fn with_event_locked<T, C, F>(
        &self,
        id: EventId,
        users: &[UserId],
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.locked(|rows| {
            let event = rows.events.get(&id).filter(|e| e.deleted_at.is_none()).cloned();
            let event = event.ok_or(DomainError::NotFound("event"))?;
            let now = clock.now();
            let lapsed_holds = rows.holds_of(id).filter(|r| r.expires_at <= now).cloned().collect();
            let live_holds = rows
                .holds_of(id)
                .filter(|r| r.expires_at > now && users.contains(&r.user_id))
                .map(|r| (r.user_id, r.id))
                .collect();
            let mut fresh_ids: Vec<ReservationId> = users.iter().map(|_| ReservationId(rows.next_id())).collect();
            fresh_ids.reverse();
            let mut unit = EventUnit { event, lapsed_holds, live_holds, fresh_ids, effects: Effects::default() };
            let value = decide(&mut unit, now)?;
            rows.events.insert(id, unit.event);
            Ok((value, unit.effects, now))
        })
    }

    async fn try_with_event_locked<T, C, F>(
        &self,
        id: EventId,
        clock: &C,
        decide: F,
    ) -> Result<Option<Committed<T>>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.with_event_locked(id, &[], clock, decide).await.map(Some)
    }
}

impl ReservationStore for FakeCatalogue {
    async fn find_reservation(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError> {
        Ok(self.rows().reservations.get(&id).cloned())
    }

    async fn find_reservation_by_code(&self, code: &BookingCode) -> Result<Option<Reservation>, DomainError> {
        Ok(self.rows().reservations.values().find(|r| r.booking_code.as_ref() == Some(code)).cloned())
    }

    async fn with_reservation_locked<T, C, F>(
        &self,
        id: ReservationId,
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut ReservationUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.locked(|rows| {
            let reservation = rows.reservations.get(&id).cloned().ok_or(DomainError::NotFound("reservation"))?;
            let parent = parent_of(rows, reservation.target)?;
            let mut unit = ReservationUnit { reservation, parent, effects: Effects::default() };
            let now = clock.now();
            let value = decide(&mut unit, now)?;
            keep_parent(rows, unit.parent);
            Ok((value, unit.effects, now))
        })
    }

    async fn with_event_reservations_locked<T, C, F>(
        &self,
        event: EventId,
        ids: &[ReservationId],
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventReservationsUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        self.locked(|rows| {
            let parent = parent_of(rows, ReservationTarget::Event(event))?;
            let reservations = ids
                .iter()
                .filter_map(|id| rows.reservations.get(id))
                .filter(|r| r.target == ReservationTarget::Event(event))
                .cloned()
                .collect();
            let mut unit = EventReservationsUnit { parent, reservations, effects: Effects::default() };
            let now = clock.now();
            let value = decide(&mut unit, now)?;
            keep_parent(rows, unit.parent);
            Ok((value, unit.effects, now))
        })
    }

    async fn parents_with_lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ReservationTarget>, DomainError> {
        let rows = self.rows();
        let mut parents: Vec<ReservationTarget> = Vec::new();
        let lapsed = rows.reservations.values().filter(|r| r.status == ReservationStatus::Hold && r.expires_at <= now);
        for reservation in lapsed {
            if !parents.contains(&reservation.target) && parents.len() < limit as usize {
                parents.push(reservation.target);
            }
        }
        Ok(parents)
    }
}

impl BookingCodes for FakeCatalogue {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError> {
        let mut rows = self.rows();
        rows.codes_drawn += 1;
        let [.., a, b, c, d, e] = rows.codes_drawn.to_be_bytes();
        Ok(BookingCode::from_random([a, b, c, d, e]))
    }
}

fn parent_of(rows: &Rows, target: ReservationTarget) -> Result<Parent, DomainError> {
    match target {
        ReservationTarget::Auction(id) => {
            rows.auctions.get(&id).cloned().map(Parent::Auction).ok_or(DomainError::NotFound("auction"))
        }
        ReservationTarget::Event(id) => {
            rows.events.get(&id).cloned().map(Parent::Event).ok_or(DomainError::NotFound("event"))
        }
    }
}

fn keep_parent(rows: &mut Rows, parent: Parent) {
    match parent {
        Parent::Auction(auction) => {
            rows.auctions.insert(auction.id, auction);
        }
        Parent::Event(event) => {
            rows.events.insert(event.id, event);
        }
    }
}

impl PaymentRecords for FakeCatalogue {
    async fn provider_event_seen(&self, provider: &str, id: &str) -> Result<bool, DomainError> {
        let seen = self.provider_events.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(seen.contains(&(provider.to_owned(), id.to_owned())))
    }

    async fn record_provider_event(&self, provider: &str, id: &str, _at: DateTime<Utc>) -> Result<(), DomainError> {
        let mut seen = self.provider_events.lock().unwrap_or_else(PoisonError::into_inner);
        seen.insert((provider.to_owned(), id.to_owned()));
        Ok(())
    }

    async fn refunds_due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<ReservationId>, DomainError> {
        let rows = self.rows();
        let due = rows.reservations.values().filter(|r| {
            r.payment.status == PaymentStatus::RefundPending && r.payment.next_refund_at.is_none_or(|at| at <= now)
        });
        Ok(due.map(|r| r.id).take(limit as usize).collect())
    }

    /// The fake keeps no change times: a reservation created before `before` counts.
    async fn payments_awaiting_provider(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(ReservationId, IntentId)>, DomainError> {
        let rows = self.rows();
        let waiting =
            rows.reservations.values().filter(|r| r.payment.status.awaits_provider() && r.created_at < before);
        Ok(waiting.filter_map(|r| Some((r.id, r.payment.intent.clone()?))).take(limit as usize).collect())
    }
}
