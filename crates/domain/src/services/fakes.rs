//! An in-memory store of auctions, events and reservations, so the use cases'
//! rules are tested without a database. One mutex stands for every row lock:
//! a decision runs with it held, as it would under its parent's lock. It
//! keeps what the SQL adapter keeps (rows, outbox, audit), not how.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::auction::{Auction, AuctionDetails, AuctionStatus, AuctionUnit};
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::domain_events::{AuditEntry, StoredEvent};
use crate::error::DomainError;
use crate::event::{Event, EventDetails, EventUnit, SeatCounts};
use crate::ids::{AuctionId, EventId, ReservationId, UserId};
use crate::payments::IntentId;
use crate::ports::{
    AuctionRecord, AuctionStore, BookingCodes, CatalogueItem, Committed, Creates, Decided, Decision, EventBookings,
    EventHolds, EventRecord, EventReservations, EventStore, EventUnits, EventsHolds, LockMode, LockTarget, Locks, New,
    NewAuction, NewEvent, PaymentRecords, ReservationStore, UnitOfWork, WaitlistStore,
};
use crate::reservation::{
    EventReservationsUnit, Parent, PaymentStatus, Reservation, ReservationStatus, ReservationTarget, ReservationUnit,
};
use crate::unit_of_work::Effects;
use crate::waitlist::{Waiter, WaitingList, WaitingPlace, WaitlistChange};

#[derive(Debug, Default)]
pub struct Rows {
    pub auctions: BTreeMap<AuctionId, Auction>,
    pub events: BTreeMap<EventId, Event>,
    pub reservations: BTreeMap<ReservationId, Reservation>,
    pub outbox: Vec<StoredEvent>,
    pub audit: Vec<AuditEntry>,
    /// Who waits for each event's seats, in order of joining.
    pub waiting: BTreeMap<EventId, Vec<Waiter>>,
    /// Every offer made from a waiting list: (event, user, hold).
    pub offers: Vec<(EventId, UserId, ReservationId)>,
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
        for change in effects.waitlist {
            self.change_waitlist(change);
        }
        stored
    }

    fn change_waitlist(&mut self, change: WaitlistChange) {
        match change {
            WaitlistChange::Joined { event, user, quantity, at } => {
                let waiter = Waiter { user_id: user, quantity, joined_at: at, hold: None };
                self.waiting.entry(event).or_default().push(waiter);
            }
            WaitlistChange::Left { event, user, .. } => {
                self.waiting.entry(event).or_default().retain(|waiter| waiter.user_id != user);
            }
            WaitlistChange::Offered { event, user, reservation, .. } => {
                self.waiting.entry(event).or_default().retain(|waiter| waiter.user_id != user);
                self.offers.push((event, user, reservation));
            }
        }
    }

    /// The event's waiting list as a decision sees it, with an id for each possible offer.
    fn waiting_list(&mut self, event: EventId) -> WaitingList {
        let waiters: Vec<Waiter> = self
            .waiting
            .get(&event)
            .into_iter()
            .flatten()
            .map(|waiter| Waiter {
                hold: self.holds_of(event).find(|r| r.user_id == waiter.user_id).map(|r| r.id),
                ..waiter.clone()
            })
            .collect();
        let mut fresh_ids: Vec<ReservationId> = waiters.iter().map(|_| ReservationId(self.next_id())).collect();
        fresh_ids.reverse();
        WaitingList { waiters, fresh_ids }
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

    fn parent(&self, target: ReservationTarget) -> Result<Parent, DomainError> {
        match target {
            ReservationTarget::Auction(id) => {
                self.auctions.get(&id).cloned().map(Parent::Auction).ok_or(DomainError::NotFound("auction"))
            }
            ReservationTarget::Event(id) => {
                self.events.get(&id).cloned().map(Parent::Event).ok_or(DomainError::NotFound("event"))
            }
        }
    }

    fn keep_parent(&mut self, parent: Parent) {
        match parent {
            Parent::Auction(auction) if auction.deleted_at.is_some() => {
                self.auctions.remove(&auction.id);
            }
            Parent::Auction(auction) => {
                self.auctions.insert(auction.id, auction);
            }
            Parent::Event(event) => {
                self.events.insert(event.id, event);
            }
        }
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
}

/// How the fake reads a target's unit from its rows.
trait InMemory: LockTarget + Sized {
    /// The unit at `now`.
    fn load(self, rows: &mut Rows, now: DateTime<Utc>) -> Result<Self::Unit, DomainError>;
}

/// One mutex stands for every lock, so no decision is ever skipped.
impl<K: InMemory> Locks<K> for FakeCatalogue {
    async fn locked<T, C, F>(&self, target: K, _mode: LockMode, clock: &C, decide: F) -> Decided<T>
    where
        T: Send,
        C: Clock,
        F: Decision<K::Unit, T>,
    {
        let mut rows = self.rows();
        rows.locks_taken += 1;
        let now = clock.now();
        let mut unit = target.load(&mut rows, now)?;
        let value = decide(&mut unit, now)?;
        let (parents, effects) = unit.into_parts();
        for parent in parents {
            rows.keep_parent(parent);
        }
        let events = rows.commit(effects, now);
        Ok(Some(Committed { value, events }))
    }
}

impl InMemory for AuctionId {
    fn load(self, rows: &mut Rows, _now: DateTime<Utc>) -> Result<AuctionUnit, DomainError> {
        let auction = rows.auctions.get(&self).cloned().ok_or(DomainError::NotFound("auction"))?;
        let ended_holders = rows
            .reservations
            .values()
            .filter(|r| r.target == ReservationTarget::Auction(self))
            .filter(|r| matches!(r.status, ReservationStatus::Expired | ReservationStatus::Cancelled))
            .map(|r| r.user_id)
            .collect();
        let live = rows.live_reservation_of(self);
        let next_reservation_id = ReservationId(rows.next_id());
        Ok(AuctionUnit { auction, live, ended_holders, next_reservation_id, effects: Effects::default() })
    }
}

impl InMemory for EventHolds {
    fn load(self, rows: &mut Rows, now: DateTime<Utc>) -> Result<EventUnit, DomainError> {
        let event = rows.events.get(&self.event).filter(|e| e.deleted_at.is_none()).cloned();
        let event = event.ok_or(DomainError::NotFound("event"))?;
        let lapsed_holds: Vec<Reservation> =
            rows.holds_of(self.event).filter(|r| r.expires_at <= now).cloned().collect();
        let live_holds = rows
            .holds_of(self.event)
            .filter(|r| r.expires_at > now && self.users.contains(&r.user_id))
            .map(|r| (r.user_id, r.id))
            .collect();
        let mut fresh_ids: Vec<ReservationId> = self.users.iter().map(|_| ReservationId(rows.next_id())).collect();
        fresh_ids.reverse();
        let waiting = if self.waiting_list || !lapsed_holds.is_empty() {
            rows.waiting_list(self.event)
        } else {
            Default::default()
        };
        Ok(EventUnit { event, lapsed_holds, live_holds, fresh_ids, waiting, effects: Effects::default() })
    }
}

impl InMemory for EventsHolds {
    fn load(self, rows: &mut Rows, now: DateTime<Utc>) -> Result<EventUnits, DomainError> {
        let mut units = Vec::new();
        for target in self.into_targets() {
            match target.load(rows, now) {
                Ok(unit) => units.push(unit),
                Err(DomainError::NotFound(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(EventUnits { units })
    }
}

impl InMemory for ReservationId {
    fn load(self, rows: &mut Rows, _now: DateTime<Utc>) -> Result<ReservationUnit, DomainError> {
        let reservation = rows.reservations.get(&self).cloned().ok_or(DomainError::NotFound("reservation"))?;
        let parent = rows.parent(reservation.target)?;
        let mut unit = ReservationUnit::new(reservation, parent);
        if let ReservationTarget::Event(event) = unit.reservation.target {
            unit.waiting = rows.waiting_list(event);
        }
        Ok(unit)
    }
}

impl InMemory for EventReservations {
    fn load(self, rows: &mut Rows, _now: DateTime<Utc>) -> Result<EventReservationsUnit, DomainError> {
        let target = ReservationTarget::Event(self.event);
        let parent = rows.parent(target)?;
        let reservations = self
            .ids
            .iter()
            .filter_map(|id| rows.reservations.get(id))
            .filter(|r| r.target == target)
            .cloned()
            .collect();
        let waiting = rows.waiting_list(self.event);
        Ok(EventReservationsUnit { parent, reservations, waiting, effects: Effects::default() })
    }
}

impl InMemory for EventBookings {
    fn load(self, rows: &mut Rows, _now: DateTime<Utc>) -> Result<EventReservationsUnit, DomainError> {
        let target = ReservationTarget::Event(self.event);
        let parent = rows.parent(target)?;
        let reservations = rows
            .reservations
            .values()
            .filter(|r| r.target == target)
            .filter(|r| matches!(r.status, ReservationStatus::Hold | ReservationStatus::Confirmed))
            .cloned()
            .collect();
        let waiting = rows.waiting_list(self.event);
        Ok(EventReservationsUnit { parent, reservations, waiting, effects: Effects::default() })
    }
}

/// How the fake stores a new row, given its id.
trait InMemoryRow: CatalogueItem + Sized {
    fn insert(new: New<Self>, id: i64, rows: &mut Rows) -> Self::Row;
}

impl<D: InMemoryRow> Creates<D> for FakeCatalogue {
    async fn create<F>(&self, new: New<D>, effects: F) -> Result<Committed<D::Row>, DomainError>
    where
        F: FnOnce(&D::Row) -> Effects + Send,
    {
        let mut rows = self.rows();
        let (id, created_at) = (rows.next_id(), new.created_at);
        let row = D::insert(new, id, &mut rows);
        let events = rows.commit(effects(&row), created_at);
        Ok(Committed { value: row, events })
    }

    async fn create_all<F>(&self, news: Vec<New<D>>, effects: F) -> Result<Committed<Vec<D::Row>>, DomainError>
    where
        F: Fn(&D::Row) -> Effects + Send + Sync,
    {
        let mut rows = self.rows();
        let (mut created, mut events) = (Vec::new(), Vec::new());
        for new in news {
            let (id, created_at) = (rows.next_id(), new.created_at);
            let row = D::insert(new, id, &mut rows);
            events.extend(rows.commit(effects(&row), created_at));
            created.push(row);
        }
        Ok(Committed { value: created, events })
    }
}

impl InMemoryRow for AuctionDetails {
    fn insert(new: NewAuction, id: i64, rows: &mut Rows) -> Auction {
        let starts_at = new.details.schedule.starts_at();
        let auction = Auction {
            id: AuctionId(id),
            studio_id: new.studio_id,
            stored_status: if new.created_at < starts_at { AuctionStatus::Draft } else { AuctionStatus::Active },
            details: new.details,
            turbo_started_at: None,
            turbo_announced: false,
            cancelled_at: None,
            deleted_at: None,
            created_at: new.created_at,
        };
        rows.auctions.insert(auction.id, auction.clone());
        auction
    }
}

impl InMemoryRow for EventDetails {
    fn insert(new: NewEvent, id: i64, rows: &mut Rows) -> Event {
        let event = Event {
            id: EventId(id),
            studio_id: new.studio_id,
            details: new.details,
            seats: SeatCounts::default(),
            deleted_at: None,
            cancelled_at: None,
            created_at: new.created_at,
        };
        rows.events.insert(event.id, event.clone());
        event
    }
}

impl AuctionStore for FakeCatalogue {
    async fn find_auction(&self, id: AuctionId) -> Result<Option<AuctionRecord>, DomainError> {
        let rows = self.rows();
        let live = rows.live_reservation_of(id);
        Ok(rows.auctions.get(&id).map(|auction| AuctionRecord { auction: auction.clone(), live }))
    }
}

impl EventStore for FakeCatalogue {
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
}

impl ReservationStore for FakeCatalogue {
    async fn find_reservation(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError> {
        Ok(self.rows().reservations.get(&id).cloned())
    }

    async fn find_reservation_by_code(&self, code: &BookingCode) -> Result<Option<Reservation>, DomainError> {
        Ok(self.rows().reservations.values().find(|r| r.booking_code.as_ref() == Some(code)).cloned())
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

impl WaitlistStore for FakeCatalogue {
    async fn waiting_place(&self, event: EventId, user: UserId) -> Result<Option<WaitingPlace>, DomainError> {
        let rows = self.rows();
        let list =
            WaitingList { waiters: rows.waiting.get(&event).cloned().unwrap_or_default(), fresh_ids: Vec::new() };
        Ok(list.place_of(event, user))
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
