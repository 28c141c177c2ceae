//! The application services: each use case written against the ports only.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::auction::KnownAuctions;
use crate::auction::{Auction, AuctionDetails, AuctionInput, AuctionPatch, AuctionView};
use crate::audit::{AuctionFacts, EventFacts};
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::domain_events::{AuditDetails, EventKind, Payload, Room, StoredEvent};
use crate::error::DomainError;
use crate::event::Event;
use crate::event::{EventDetails, EventInput, EventPatch};
use crate::ids::{AuctionId, EventId, ReservationId, StudioId, UserId};
use crate::memory::batcher::Batcher;
use crate::memory::read_model::ReadModel;
use crate::ports::{
    AuctionRecord, AuctionStore, BookingCodes, Committed, EventPublisher, EventRecord, EventStore, NewAuction,
    NewEvent, ReservationStore,
};
use crate::reservation::{ConfirmOutcome, KnownReservations, Reservation, ReservationFacts, ReservationTarget};
use crate::unit_of_work::{Effects, Policy};

/// Every use case of auctions, events and reservations.
#[derive(Debug, Clone)]
pub struct Services<S, C, P> {
    store: S,
    clock: C,
    publisher: P,
    policy: Policy,
    /// Concurrent holds on one event, decided together (clones share it).
    holds: Arc<Batcher<EventId, HoldRequest, Result<Reservation, DomainError>>>,
    /// Concurrent confirmations on one event, decided together.
    confirms: Arc<Batcher<EventId, ConfirmRequest, Result<ConfirmOutcome, DomainError>>>,
    /// Concurrent grabs on one auction, decided together.
    grabs: Arc<Batcher<AuctionId, GrabRequest, Result<Reservation, DomainError>>>,
    /// Auctions' live reservations as announced, to refuse sure losers early.
    known_auctions: Arc<KnownAuctions>,
    /// Auctions and events read without the store until they change.
    read_model: Arc<ReadModel>,
    /// Whose each reservation is and what it reserves, as seen by this instance.
    known_reservations: Arc<KnownReservations>,
}

/// An auction as read, with its price and status at `now`.
fn with_view(record: Option<AuctionRecord>, now: DateTime<Utc>) -> Result<(AuctionRecord, AuctionView), DomainError> {
    let record = record.ok_or(DomainError::NotFound("auction"))?;
    let view = record.auction.view(record.live.as_ref(), now);
    Ok((record, view))
}

/// One caller's hold, waiting to be decided with the others on its event.
#[derive(Debug, Clone, Copy)]
struct HoldRequest {
    user: UserId,
    quantity: i64,
}

/// One caller's confirmation, waiting to be decided with the others on its event.
#[derive(Debug, Clone, Copy)]
struct ConfirmRequest {
    actor: Actor,
    id: ReservationId,
}

/// One caller's grab, waiting to be decided with the others on its auction.
#[derive(Debug, Clone, Copy)]
struct GrabRequest {
    user: UserId,
    confirm: bool,
}

/// The most holds (or grabs) decided in one transaction.
const MAX_HOLD_BATCH: usize = 64;
const MAX_GRAB_BATCH: usize = 64;

/// How many times a confirmation draws a booking code before giving up
/// (with 40 random bits, a second draw is already rare).
const MAX_CODE_DRAWS: u32 = 5;

/// An item a background job could not handle, and why. The job went on with
/// the rest of its batch; the caller logs these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// What failed, e.g. `auction:42`.
    pub item: String,
    pub error: DomainError,
}

/// What one run of the expiry sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Parents whose lapsed holds this run expired.
    pub parents: usize,
    /// Parents skipped because another transaction had them locked.
    pub skipped: usize,
    pub failed: Vec<JobFailure>,
}

/// What one batch of a background job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Items this run changed.
    pub changed: usize,
    pub failed: Vec<JobFailure>,
}

impl<S, C, P> Services<S, C, P>
where
    S: AuctionStore + EventStore + ReservationStore + BookingCodes,
    C: Clock,
    P: EventPublisher,
{
    pub fn new(store: S, clock: C, publisher: P, policy: Policy) -> Self {
        Services {
            store,
            clock,
            publisher,
            policy,
            holds: Arc::new(Batcher::new(MAX_HOLD_BATCH)),
            grabs: Arc::new(Batcher::new(MAX_GRAB_BATCH)),
            confirms: Arc::new(Batcher::new(MAX_HOLD_BATCH)),
            known_auctions: Arc::new(KnownAuctions::default()),
            read_model: Arc::new(ReadModel::default()),
            known_reservations: Arc::new(KnownReservations::default()),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Learns from a committed event (this instance's or another's).
    pub fn observe(&self, event: &StoredEvent) {
        self.known_auctions.observe(event);
        self.read_model.observe(event);
    }

    /// Whether every committed event is [observed](Self::observe) from now on
    /// (reads are then served from memory), or some may be missed (they are not).
    pub fn follow_commits(&self, following: bool) {
        self.read_model.follow(following);
    }

    pub fn read_model(&self) -> &ReadModel {
        &self.read_model
    }

    fn deliver<T>(&self, committed: Committed<T>) -> T {
        for event in &committed.events {
            self.observe(event);
        }
        self.publisher.publish(&committed.events);
        committed.value
    }

    /// Runs `attempt` (one transaction) with a freshly drawn booking code,
    /// drawing again while the code turns out to be taken.
    async fn with_fresh_code<T, Fut>(&self, mut attempt: impl FnMut(BookingCode) -> Fut) -> Result<T, DomainError>
    where
        Fut: Future<Output = Result<T, DomainError>>,
    {
        let mut draws = 1;
        loop {
            match attempt(self.store.draw_booking_code()?).await {
                Err(DomainError::BookingCodeTaken) if draws < MAX_CODE_DRAWS => draws += 1,
                result => return result,
            }
        }
    }

    /// The studio an admin acts for: the one given, or their own.
    fn studio_for(actor: &Actor, requested: Option<StudioId>) -> Result<StudioId, DomainError> {
        let studio =
            requested.or(actor.studio_id).ok_or_else(|| DomainError::validation("studio_id", "is required"))?;
        if actor.manages(studio) { Ok(studio) } else { Err(DomainError::NotFound("studio")) }
    }

    // --- auctions -------------------------------------------------------

    pub async fn create_auction(
        &self,
        actor: &Actor,
        studio: Option<StudioId>,
        input: AuctionInput,
    ) -> Result<Auction, DomainError> {
        actor.ensure_manages_catalogue()?;
        let studio_id = Self::studio_for(actor, studio)?;
        let details = AuctionDetails::new(input)?;
        let now = self.clock.now();
        let actor = *actor;
        let committed = self
            .store
            .create_auction(NewAuction { studio_id, details, created_at: now }, move |auction| {
                let mut effects = Effects::default();
                let snapshot = auction.snapshot(None, now);
                let details = AuditDetails::AuctionCreate(AuctionFacts::of(&snapshot));
                effects.audit(&actor, Some(studio_id), auction.id.to_string(), &details);
                effects.emit(&[Room::Studio(studio_id)], Payload::AuctionUpdated(snapshot));
                effects
            })
            .await?;
        Ok(self.deliver(committed))
    }

    pub async fn get_auction(&self, id: AuctionId) -> Result<(AuctionRecord, AuctionView), DomainError> {
        let now = self.clock.now();
        let record = self.read_model.auctions().get_or_read(id, now, self.store.find_auction(id), |_| None).await?;
        with_view(record, now)
    }

    /// As [`Services::get_auction`], read from the store whatever is in memory.
    pub async fn get_auction_from_store(&self, id: AuctionId) -> Result<(AuctionRecord, AuctionView), DomainError> {
        let now = self.clock.now();
        with_view(self.store.find_auction(id).await?, now)
    }

    /// Refuses an actor who does not manage the auction's studio before any
    /// lock is taken, so another studio's admin never waits for (or holds up)
    /// the row. An auction's studio never changes: memory or a plain read
    /// tells. The decision under the lock checks again.
    async fn ensure_manages_auction(&self, actor: &Actor, id: AuctionId) -> Result<(), DomainError> {
        actor.ensure_manages_catalogue()?;
        let (record, _) = self.get_auction(id).await?;
        ensure_manages(actor, record.auction.studio_id, "auction")
    }

    /// Changes the fields in `patch`, merged into the auction as read under its lock.
    pub async fn update_auction(
        &self,
        actor: &Actor,
        id: AuctionId,
        patch: AuctionPatch,
    ) -> Result<Auction, DomainError> {
        self.ensure_manages_auction(actor, id).await?;
        let actor = *actor;
        let committed = self
            .store
            .with_auction_locked(id, &self.clock, move |unit, now| {
                ensure_manages(&actor, unit.auction.studio_id, "auction")?;
                let details = patch.apply(&unit.auction.details)?;
                unit.update(&actor, details, now)?;
                Ok(unit.auction.clone())
            })
            .await?;
        Ok(self.deliver(committed))
    }

    pub async fn cancel_auction(&self, actor: &Actor, id: AuctionId) -> Result<Auction, DomainError> {
        self.ensure_manages_auction(actor, id).await?;
        let actor = *actor;
        let policy = self.policy;
        let committed = self
            .store
            .with_auction_locked(id, &self.clock, move |unit, now| {
                ensure_manages(&actor, unit.auction.studio_id, "auction")?;
                unit.expire_lapsed_hold(now);
                unit.cancel(&actor, now, &policy)?;
                Ok(unit.auction.clone())
            })
            .await?;
        Ok(self.deliver(committed))
    }

    pub async fn trigger_turbo(&self, actor: &Actor, id: AuctionId) -> Result<AuctionRecord, DomainError> {
        self.ensure_manages_auction(actor, id).await?;
        let actor = *actor;
        let committed = self
            .store
            .with_auction_locked(id, &self.clock, move |unit, now| {
                ensure_manages(&actor, unit.auction.studio_id, "auction")?;
                unit.expire_lapsed_hold(now);
                unit.trigger_turbo(&actor, now)?;
                Ok(AuctionRecord { auction: unit.auction.clone(), live: unit.live.clone() })
            })
            .await?;
        Ok(self.deliver(committed))
    }

    /// Grabs an auction at its current price: a hold, or a booking with `confirm`.
    pub async fn grab(&self, actor: &Actor, id: AuctionId, confirm: bool) -> Result<Reservation, DomainError> {
        if !actor.may_book() {
            return Err(DomainError::BookingNotAllowed);
        }
        // A grab that can only lose is refused without queueing for the lock.
        if let Some(refusal) = self.known_auctions.sure_refusal(id, self.clock.now()) {
            return Err(refusal);
        }
        let request = GrabRequest { user: actor.user_id, confirm };
        let reservation = self.grabs.submit(id, request, |batch| self.grab_batch(id, batch)).await?;
        self.known_reservations.remember(&reservation);
        Ok(reservation)
    }

    /// How many confirmation batches ran, and how many confirmations they decided.
    pub fn confirm_batches(&self) -> (u64, u64) {
        self.confirms.counts()
    }

    /// How many grab batches ran, and how many grabs they decided.
    pub fn grab_batches(&self) -> (u64, u64) {
        self.grabs.counts()
    }

    /// Decides concurrent grabs on one auction under one lock: at most one
    /// can win, and the rest are refused as they would have been alone.
    async fn grab_batch(&self, id: AuctionId, batch: Vec<GrabRequest>) -> Vec<Result<Reservation, DomainError>> {
        // Grabs that queued behind the winner's batch are sure losers by now.
        if let Some(refusal) = self.known_auctions.sure_refusal(id, self.clock.now()) {
            return batch.iter().map(|_| Err(refusal.clone())).collect();
        }
        decide_batch(batch, |batch| self.grabs_together(id, batch), |request| self.grab_alone(id, request)).await
    }

    async fn grabs_together(
        &self,
        id: AuctionId,
        batch: Vec<GrabRequest>,
    ) -> Result<Vec<Result<Reservation, DomainError>>, DomainError> {
        // One code is enough: once one grab wins, the others are refused.
        let code = self.store.draw_booking_code()?;
        let policy = self.policy;
        let requests = batch;
        let committed = self
            .store
            .with_auction_locked(id, &self.clock, move |unit, now| {
                unit.expire_lapsed_hold(now);
                let answers = requests
                    .iter()
                    .map(|request| {
                        let before = unit.clone();
                        let answer = unit.grab(request.user, now, &policy, request.confirm.then(|| code.clone()));
                        if answer.is_err() {
                            // A refusal leaves nothing behind, as it would alone.
                            *unit = before;
                        }
                        answer
                    })
                    .collect();
                Ok(answers)
            })
            .await?;
        Ok(self.deliver(committed))
    }

    async fn grab_alone(&self, id: AuctionId, request: GrabRequest) -> Result<Reservation, DomainError> {
        let GrabRequest { user, confirm } = request;
        let policy = self.policy;
        let committed = self
            .with_fresh_code(|code| {
                let confirm_with = confirm.then_some(code);
                self.store.with_auction_locked(id, &self.clock, move |unit, now| {
                    unit.expire_lapsed_hold(now);
                    unit.grab(user, now, &policy, confirm_with)
                })
            })
            .await?;
        Ok(self.deliver(committed))
    }

    /// Persists and announces what time alone changed on an auction, if no one else is busy with it.
    pub async fn settle_auction(&self, id: AuctionId) -> Result<bool, DomainError> {
        let committed = self.store.try_with_auction_locked(id, &self.clock, |unit, now| Ok(unit.settle(now))).await?;
        Ok(committed.map(|c| self.deliver(c)).unwrap_or(false))
    }

    // --- events ---------------------------------------------------------

    pub async fn create_event(
        &self,
        actor: &Actor,
        studio: Option<StudioId>,
        input: EventInput,
    ) -> Result<Event, DomainError> {
        actor.ensure_manages_catalogue()?;
        let studio_id = Self::studio_for(actor, studio)?;
        let details = EventDetails::new(input)?;
        let now = self.clock.now();
        let actor = *actor;
        let committed = self
            .store
            .create_event(NewEvent { studio_id, details, created_at: now }, move |event| {
                let mut effects = Effects::default();
                let snapshot = event.snapshot(event.availability(0, 0));
                let details = AuditDetails::EventCreate(EventFacts::of(&snapshot));
                effects.audit(&actor, Some(studio_id), event.id.to_string(), &details);
                effects
            })
            .await?;
        Ok(self.deliver(committed))
    }

    pub async fn get_event(&self, id: EventId) -> Result<EventRecord, DomainError> {
        let now = self.clock.now();
        let read = self.store.find_event(id, now);
        let record = self.read_model.events().get_or_read(id, now, read, |record| record.next_lapse_at).await?;
        record.ok_or(DomainError::NotFound("event"))
    }

    /// As [`Services::get_event`], read from the store whatever is in memory.
    pub async fn get_event_from_store(&self, id: EventId) -> Result<EventRecord, DomainError> {
        self.store.find_event(id, self.clock.now()).await?.ok_or(DomainError::NotFound("event"))
    }

    /// As [`Services::ensure_manages_auction`], for an event.
    async fn ensure_manages_event(&self, actor: &Actor, id: EventId) -> Result<(), DomainError> {
        actor.ensure_manages_catalogue()?;
        let record = self.get_event(id).await?;
        ensure_manages(actor, record.event.studio_id, "event")
    }

    /// Changes the fields in `patch`, merged into the event as read under its lock.
    pub async fn update_event(&self, actor: &Actor, id: EventId, patch: EventPatch) -> Result<Event, DomainError> {
        self.ensure_manages_event(actor, id).await?;
        let actor = *actor;
        let committed = self
            .store
            .with_event_locked(id, &[], &self.clock, move |unit, now| {
                ensure_manages(&actor, unit.event.studio_id, "event")?;
                let details = patch.apply(&unit.event.details)?;
                unit.expire_lapsed_holds(now);
                unit.update(&actor, details)?;
                Ok(unit.event.clone())
            })
            .await?;
        Ok(self.deliver(committed))
    }

    pub async fn delete_event(&self, actor: &Actor, id: EventId) -> Result<(), DomainError> {
        self.ensure_manages_event(actor, id).await?;
        let actor = *actor;
        let committed = self
            .store
            .with_event_locked(id, &[], &self.clock, move |unit, now| {
                ensure_manages(&actor, unit.event.studio_id, "event")?;
                unit.expire_lapsed_holds(now);
                unit.delete(&actor, now)
            })
            .await?;
        self.deliver(committed);
        Ok(())
    }

    /// Holds `quantity` seats of an event for the actor. Concurrent holds on
    /// one event share one lock and one commit (see [`Batcher`]); each is
    /// answered as it would have been alone.
    pub async fn hold(&self, actor: &Actor, id: EventId, quantity: i64) -> Result<Reservation, DomainError> {
        if !actor.may_book() {
            return Err(DomainError::BookingNotAllowed);
        }
        let request = HoldRequest { user: actor.user_id, quantity };
        let hold = self.holds.submit(id, request, |batch| self.hold_batch(id, batch)).await?;
        self.known_reservations.remember(&hold);
        Ok(hold)
    }

    /// How many hold batches ran, and how many holds they decided.
    pub fn hold_batches(&self) -> (u64, u64) {
        self.holds.counts()
    }

    async fn hold_batch(&self, id: EventId, batch: Vec<HoldRequest>) -> Vec<Result<Reservation, DomainError>> {
        let alone = |request| async move {
            let mut answers = self.holds_together(id, vec![request]).await?;
            answers.pop().unwrap_or(Err(DomainError::NotFound("event")))
        };
        decide_batch(batch, |batch| self.holds_together(id, batch), alone).await
    }

    async fn holds_together(
        &self,
        id: EventId,
        batch: Vec<HoldRequest>,
    ) -> Result<Vec<Result<Reservation, DomainError>>, DomainError> {
        let users: Vec<UserId> = batch.iter().map(|request| request.user).collect();
        let policy = self.policy;
        let requests = batch;
        let committed = self
            .store
            .with_event_locked(id, &users, &self.clock, move |unit, now| {
                unit.expire_lapsed_holds(now);
                let answers: Vec<_> =
                    requests.iter().map(|r| unit.place_hold(r.user, r.quantity, now, &policy)).collect();
                unit.effects.keep_last_of_each_room(EventKind::AvailabilityChanged);
                Ok(answers)
            })
            .await?;
        Ok(self.deliver(committed))
    }

    // --- reservations ---------------------------------------------------

    /// A reservation its owner or its studio may see.
    pub async fn get_reservation(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        self.store
            .find_reservation(id)
            .await?
            .filter(|r| r.user_id == actor.user_id || actor.manages(r.studio_id))
            .ok_or(DomainError::NotFound("reservation"))
    }

    /// The reservation, refusing a caller who may not act on it before any
    /// lock is taken, so a stranger can never hold up its owner. The decision
    /// under the lock checks again.
    async fn ensure_may_act(
        &self,
        id: ReservationId,
        may_act: impl FnOnce(&ReservationFacts) -> bool,
    ) -> Result<ReservationFacts, DomainError> {
        let not_found = DomainError::NotFound("reservation");
        let facts = match self.known_reservations.get(id) {
            Some(facts) => facts,
            None => {
                let reservation = self.store.find_reservation(id).await?.ok_or(not_found.clone())?;
                self.known_reservations.remember(&reservation);
                ReservationFacts::from(&reservation)
            }
        };
        if may_act(&facts) { Ok(facts) } else { Err(not_found) }
    }

    /// Confirms the actor's hold; a lapsed hold is marked EXPIRED (and that is
    /// committed) before the caller hears `hold_expired`. Concurrent
    /// confirmations on one event share its lock and one commit.
    pub async fn confirm(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        let reservation = self.ensure_may_act(id, |r| r.user_id == actor.user_id).await?;
        let request = ConfirmRequest { actor: *actor, id };
        let outcome = match reservation.target {
            ReservationTarget::Event(event) => {
                self.confirms.submit(event, request, |batch| self.confirm_batch(event, batch)).await?
            }
            ReservationTarget::Auction(_) => self.confirm_alone(request).await?,
        };
        match outcome {
            ConfirmOutcome::Confirmed(reservation) => Ok(reservation),
            ConfirmOutcome::Expired => Err(DomainError::HoldExpired),
        }
    }

    async fn confirm_batch(
        &self,
        event: EventId,
        batch: Vec<ConfirmRequest>,
    ) -> Vec<Result<ConfirmOutcome, DomainError>> {
        decide_batch(batch, |batch| self.confirms_together(event, batch), |request| self.confirm_alone(request)).await
    }

    async fn confirms_together(
        &self,
        event: EventId,
        batch: Vec<ConfirmRequest>,
    ) -> Result<Vec<Result<ConfirmOutcome, DomainError>>, DomainError> {
        let codes = batch.iter().map(|_| self.store.draw_booking_code()).collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<ReservationId> = batch.iter().map(|request| request.id).collect();
        let requests = batch;
        let committed = self
            .store
            .with_event_reservations_locked(event, &ids, &self.clock, move |unit, now| {
                let answers = requests
                    .iter()
                    .zip(codes)
                    .map(|(request, code)| unit.decide(request.id, |one| one.confirm(&request.actor, now, code)))
                    .collect();
                unit.effects.keep_last_of_each_room(EventKind::AvailabilityChanged);
                Ok(answers)
            })
            .await?;
        Ok(self.deliver(committed))
    }

    async fn confirm_alone(&self, request: ConfirmRequest) -> Result<ConfirmOutcome, DomainError> {
        let ConfirmRequest { actor, id } = request;
        let committed = self
            .with_fresh_code(|code| {
                self.store.with_reservation_locked(id, &self.clock, move |unit, now| unit.confirm(&actor, now, code))
            })
            .await?;
        Ok(self.deliver(committed))
    }

    pub async fn cancel_reservation(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        self.ensure_may_act(id, |r| r.user_id == actor.user_id || actor.manages(r.studio_id)).await?;
        let actor = *actor;
        let policy = self.policy;
        let committed = self
            .store
            .with_reservation_locked(id, &self.clock, move |unit, now| {
                unit.cancel(&actor, now, &policy)?;
                Ok(unit.reservation.clone())
            })
            .await?;
        Ok(self.deliver(committed))
    }

    /// Checks in the booking with `code` at `studio`'s door. Codes of other studios are not found.
    pub async fn check_in(&self, actor: &Actor, studio: StudioId, code: &str) -> Result<Reservation, DomainError> {
        let not_found = DomainError::NotFound("booking");
        if !actor.manages(studio) {
            return Err(not_found);
        }
        let code = BookingCode::normalise(code);
        let reservation = self.store.find_reservation_by_code(&code).await?.ok_or(not_found.clone())?;
        if reservation.studio_id != studio {
            return Err(not_found);
        }
        let actor = *actor;
        let committed = self
            .store
            .with_reservation_locked(reservation.id, &self.clock, move |unit, now| {
                unit.check_in(&actor, now)?;
                Ok(unit.reservation.clone())
            })
            .await?;
        Ok(self.deliver(committed))
    }

    /// Expires lapsed holds, one parent at a time under its lock, skipping
    /// parents another worker holds. Safe to run on several instances at once.
    /// A parent that fails is reported and the sweep goes on with the others.
    pub async fn expire_lapsed_holds(&self, batch: u32) -> Result<SweepReport, DomainError> {
        let parents = self.store.parents_with_lapsed_holds(self.clock.now(), batch).await?;
        let mut report = SweepReport::default();
        for parent in parents {
            let committed = match parent {
                ReservationTarget::Auction(id) => self
                    .store
                    .try_with_auction_locked(id, &self.clock, |unit, now| Ok(unit.expire_lapsed_hold(now)))
                    .await
                    .map(|c| c.map(|c| self.deliver(c))),
                ReservationTarget::Event(id) => self
                    .store
                    .try_with_event_locked(id, &self.clock, |unit, now| Ok(unit.expire_lapsed_holds(now) > 0))
                    .await
                    .map(|c| c.map(|c| self.deliver(c))),
            };
            match committed {
                Ok(Some(true)) => report.parents += 1,
                Ok(Some(false)) => {}
                Ok(None) => report.skipped += 1,
                Err(error) => report.failed.push(JobFailure { item: parent_name(parent), error }),
            }
        }
        Ok(report)
    }
}

impl<S, C, P> Services<S, C, P>
where
    S: AuctionStore + EventStore + ReservationStore + BookingCodes + crate::ports::JobStore,
    C: Clock,
    P: EventPublisher,
{
    /// Persists and announces status changes that time alone made (DRAFT →
    /// ACTIVE, → EXPIRED, turbo start). An auction that fails is reported and
    /// the batch goes on with the others.
    pub async fn settle_due_auctions(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let due = self.store.auctions_to_settle(self.clock.now(), batch).await?;
        let mut report = BatchReport::default();
        for id in due {
            match self.settle_auction(id).await {
                Ok(true) => report.changed += 1,
                Ok(false) => {}
                Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
            }
        }
        Ok(report)
    }

    /// Marks bookings nobody checked in as NO_SHOW. A reservation that fails
    /// is reported and the batch goes on with the others.
    pub async fn mark_no_shows(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let due = self.store.due_no_shows(self.clock.now(), self.policy.no_show_grace, batch).await?;
        let policy = self.policy;
        let mut report = BatchReport::default();
        for id in due {
            let committed = self
                .store
                .with_reservation_locked(id, &self.clock, move |unit, now| Ok(unit.mark_no_show(now, &policy)))
                .await;
            match committed.map(|c| self.deliver(c)) {
                Ok(true) => report.changed += 1,
                Ok(false) => {}
                Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
            }
        }
        Ok(report)
    }
}

/// Decides a batch of requests in one transaction. A lone request runs alone.
/// When the shared transaction fails (a constraint one request broke, say),
/// each request is decided alone, so one bad request fails only itself; a
/// busy or unreachable database answers them all at once.
async fn decide_batch<Q, R, Together, Alone>(
    batch: Vec<Q>,
    together: impl FnOnce(Vec<Q>) -> Together,
    alone: impl Fn(Q) -> Alone,
) -> Vec<Result<R, DomainError>>
where
    Q: Copy,
    Together: Future<Output = Result<Vec<Result<R, DomainError>>, DomainError>>,
    Alone: Future<Output = Result<R, DomainError>>,
{
    if let [request] = batch[..] {
        return vec![alone(request).await];
    }
    let shared = together(batch.clone()).await;
    match shared {
        Ok(answers) => answers,
        Err(error) if matches!(error, DomainError::Busy | DomainError::Unavailable) => {
            batch.iter().map(|_| Err(error.clone())).collect()
        }
        Err(_) => {
            let mut answers = Vec::with_capacity(batch.len());
            for request in batch {
                answers.push(alone(request).await);
            }
            answers
        }
    }
}

fn parent_name(parent: ReservationTarget) -> String {
    match parent {
        ReservationTarget::Auction(id) => id.to_string(),
        ReservationTarget::Event(id) => format!("event {id}"),
    }
}

/// Another studio's resource is not found, so ids do not leak.
fn ensure_manages(actor: &Actor, studio: StudioId, what: &'static str) -> Result<(), DomainError> {
    if actor.manages(studio) { Ok(()) } else { Err(DomainError::NotFound(what)) }
}
