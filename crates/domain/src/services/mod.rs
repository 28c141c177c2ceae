//! The application services: each use case written against the ports only,
//! one file per aggregate (auctions, events, reservations) and one for the
//! background jobs; what they share is here.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};

use crate::actor::Actor;
use crate::auction::AuctionView;
use crate::auction::KnownAuctions;
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::domain_events::StoredEvent;
use crate::error::DomainError;
use crate::ids::{AuctionId, EventId, StudioId};
use crate::memory::batcher::Batcher;
use crate::memory::read_model::ReadModel;
use crate::ports::{AuctionRecord, CatalogueStore, Committed, Decision, EventPublisher, LockMode, LockTarget, Locks};
use crate::reservation::{ConfirmOutcome, KnownReservations, Reservation, ReservationTarget};
use crate::unit_of_work::Policy;

mod alerts;
mod auctions;
mod door;
mod events;
#[cfg(test)]
mod fakes;
mod jobs;
mod leaving;
mod payments;
#[cfg(test)]
mod payments_tests;
mod queries;
mod reports;
mod reservations;
#[cfg(test)]
mod tests;
mod waitlist;

use auctions::GrabRequest;
use events::HoldRequest;
use reservations::ConfirmRequest;

pub use payments::{Checkout, PaymentsSetup, RECONCILE_AFTER};
pub use reports::Export;

/// Every use case of auctions, events and reservations.
#[derive(Debug, Clone)]
pub struct Services<S, C, P> {
    store: S,
    clock: C,
    publisher: P,
    policy: Policy,
    /// Concurrent holds in one lane (on one event, or on several), decided
    /// together (clones share it).
    holds: Arc<Batcher<i64, HoldRequest, Result<Reservation, DomainError>>>,
    /// How many of those transactions decided holds on several events.
    hold_batches_across_events: Arc<AtomicU64>,
    /// How many hold batches may run at once: an event always queues in the
    /// same lane (so its holds keep their order), and a lane's batch takes
    /// whatever is queued in it, for one event or many.
    hold_lanes: i64,
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
    /// The card provider, when this deployment takes payments.
    payments: Option<PaymentsSetup>,
}

/// An auction as read, with its price and status at `now`.
fn with_view(record: Option<AuctionRecord>, now: DateTime<Utc>) -> Result<(AuctionRecord, AuctionView), DomainError> {
    let record = record.ok_or(DomainError::NotFound("auction"))?;
    let view = record.auction.view(record.live.as_ref(), now);
    Ok((record, view))
}

/// Hold transactions one instance runs at once, unless told otherwise.
pub const DEFAULT_HOLD_LANES: i64 = 2;

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

impl<S: CatalogueStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    pub fn new(store: S, clock: C, publisher: P, policy: Policy) -> Self {
        Services {
            store,
            clock,
            publisher,
            policy,
            holds: Arc::new(Batcher::new(MAX_HOLD_BATCH)),
            hold_batches_across_events: Arc::new(AtomicU64::new(0)),
            hold_lanes: DEFAULT_HOLD_LANES,
            grabs: Arc::new(Batcher::new(MAX_GRAB_BATCH)),
            confirms: Arc::new(Batcher::new(MAX_HOLD_BATCH)),
            known_auctions: Arc::new(KnownAuctions::default()),
            read_model: Arc::new(ReadModel::default()),
            known_reservations: Arc::new(KnownReservations::default()),
            payments: None,
        }
    }

    /// Runs at most `lanes` hold transactions at once (at least one). Fewer
    /// lanes make bigger shared commits when holds spread over many events;
    /// more let more of them wait on the database at once.
    pub fn with_hold_lanes(mut self, lanes: u32) -> Self {
        self.hold_lanes = i64::from(lanes.max(1));
        self
    }

    /// Takes payments through `setup`: only a succeeded payment confirms a hold.
    pub fn with_payments(mut self, setup: PaymentsSetup) -> Self {
        self.payments = Some(setup);
        self
    }

    /// The card provider, when this deployment takes payments.
    pub fn payments(&self) -> Option<&PaymentsSetup> {
        self.payments.as_ref()
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
        // Decoded once for both.
        let payload = event.payload().and_then(Result::ok);
        self.known_auctions.observe_decoded(event, payload.as_ref());
        self.read_model.observe_decoded(event, payload.as_ref());
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
        self.publisher.publish(committed.events);
        committed.value
    }

    /// Decides under the lock of `target`, waiting for it, and delivers what
    /// the decision committed.
    async fn decide<K, T>(&self, target: K, decide: impl Decision<K::Unit, T>) -> Result<T, DomainError>
    where
        K: LockTarget,
        S: Locks<K>,
        T: Send,
    {
        let committed = self.store.locked(target, LockMode::Wait, &self.clock, decide).await?;
        // A decision that waits is never skipped: past the lock timeout it is `Busy`.
        Ok(self.deliver(committed.ok_or(DomainError::Busy)?))
    }

    /// As [`Services::decide`] for a background job: `None`, at once, when
    /// another transaction holds the lock (or the target is gone).
    async fn try_decide<K, T>(&self, target: K, decide: impl Decision<K::Unit, T>) -> Result<Option<T>, DomainError>
    where
        K: LockTarget,
        S: Locks<K>,
        T: Send,
    {
        let committed = self.store.locked(target, LockMode::Skip, &self.clock, decide).await?;
        Ok(committed.map(|committed| self.deliver(committed)))
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
        ReservationTarget::Event(id) => id.to_string(),
    }
}

/// Another studio's resource is not found, so ids do not leak.
fn ensure_manages(actor: &Actor, studio: StudioId, what: &'static str) -> Result<(), DomainError> {
    if actor.manages(studio) { Ok(()) } else { Err(DomainError::NotFound(what)) }
}

#[cfg(test)]
mod naming_tests {
    use super::*;

    #[test]
    fn a_job_names_the_parent_it_failed_on_once() {
        assert_eq!(parent_name(ReservationTarget::Event(EventId(7))), "event:7");
        assert_eq!(parent_name(ReservationTarget::Auction(AuctionId(3))), "auction:3");
    }
}
