//! The ports: what the rules need from the outside world. Each storage method
//! is one atomic use case; the adapter owns the transaction and the locks, and
//! runs the (synchronous) decision while the parent row is locked.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::account::{NewStudio, NewUser, Studio, User};
use crate::auction::{Auction, AuctionDetails};
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::event::{Availability, Event, EventDetails};
use crate::events::StoredEvent;
use crate::ids::{AuctionId, EventId, ReservationId, StudioId, UserId};
use crate::reservation::{Reservation, ReservationTarget};
use crate::units::{AuctionUnit, Effects, EventUnit, ReservationUnit};

/// A decision's result once committed, with the events it stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed<T> {
    pub value: T,
    pub events: Vec<StoredEvent>,
}

/// A new auction, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuction {
    pub studio_id: StudioId,
    pub details: AuctionDetails,
    pub created_at: DateTime<Utc>,
}

/// A new event, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub studio_id: StudioId,
    pub details: EventDetails,
    pub created_at: DateTime<Utc>,
}

/// An auction with its live reservation, read without a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionRecord {
    pub auction: Auction,
    pub live: Option<Reservation>,
}

/// An event with its availability at the instant it was read for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub event: Event,
    pub availability: Availability,
}

pub trait AccountStore: Send + Sync {
    /// Creates a user; an email taken (case-insensitively) is a validation error on `email`.
    fn create_user(&self, user: NewUser) -> impl Future<Output = Result<User, DomainError>> + Send;
    fn find_user(&self, id: UserId) -> impl Future<Output = Result<Option<User>, DomainError>> + Send;
    fn create_studio(&self, studio: NewStudio) -> impl Future<Output = Result<Studio, DomainError>> + Send;
}

pub trait AuctionStore: Send + Sync {
    /// Inserts an auction; `effects` says what to record about it in the same transaction.
    fn create_auction<F>(
        &self,
        auction: NewAuction,
        effects: F,
    ) -> impl Future<Output = Result<Committed<Auction>, DomainError>> + Send
    where
        F: FnOnce(&Auction) -> Effects + Send;

    fn find_auction(&self, id: AuctionId) -> impl Future<Output = Result<Option<AuctionRecord>, DomainError>> + Send;

    /// Locks the auction (then its live reservation), reads `now` from
    /// `clock`, runs `decide`, persists what it changed and commits. A missing
    /// auction is `NotFound`; a row locked longer than the lock timeout is `Busy`.
    fn with_auction_locked<T, C, F>(
        &self,
        id: AuctionId,
        clock: &C,
        decide: F,
    ) -> impl Future<Output = Result<Committed<T>, DomainError>> + Send
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut AuctionUnit, DateTime<Utc>) -> Result<T, DomainError> + Send;

    /// As [`AuctionStore::with_auction_locked`], but answers `None` at once
    /// when another transaction holds the lock (for background jobs).
    fn try_with_auction_locked<T, C, F>(
        &self,
        id: AuctionId,
        clock: &C,
        decide: F,
    ) -> impl Future<Output = Result<Option<Committed<T>>, DomainError>> + Send
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut AuctionUnit, DateTime<Utc>) -> Result<T, DomainError> + Send;
}

pub trait EventStore: Send + Sync {
    fn create_event<F>(
        &self,
        event: NewEvent,
        effects: F,
    ) -> impl Future<Output = Result<Committed<Event>, DomainError>> + Send
    where
        F: FnOnce(&Event) -> Effects + Send;

    /// The event with its availability at `now` (lapsed holds not counted,
    /// whether or not they were swept). Deleted events are not found.
    fn find_event(
        &self,
        id: EventId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<EventRecord>, DomainError>> + Send;

    /// Locks the event, reads `now`, loads its lapsed holds and `user`'s live
    /// hold, runs `decide`, persists and commits.
    fn with_event_locked<T, C, F>(
        &self,
        id: EventId,
        user: Option<UserId>,
        clock: &C,
        decide: F,
    ) -> impl Future<Output = Result<Committed<T>, DomainError>> + Send
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send;

    /// As [`EventStore::with_event_locked`], skipping an event locked by someone else.
    fn try_with_event_locked<T, C, F>(
        &self,
        id: EventId,
        clock: &C,
        decide: F,
    ) -> impl Future<Output = Result<Option<Committed<T>>, DomainError>> + Send
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send;
}

pub trait ReservationStore: Send + Sync {
    fn find_reservation(
        &self,
        id: ReservationId,
    ) -> impl Future<Output = Result<Option<Reservation>, DomainError>> + Send;

    fn find_reservation_by_code(
        &self,
        code: &BookingCode,
    ) -> impl Future<Output = Result<Option<Reservation>, DomainError>> + Send;

    /// Locks the reservation's parent, then the reservation, reads `now`,
    /// runs `decide`, persists and commits.
    fn with_reservation_locked<T, C, F>(
        &self,
        id: ReservationId,
        clock: &C,
        decide: F,
    ) -> impl Future<Output = Result<Committed<T>, DomainError>> + Send
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut ReservationUnit, DateTime<Utc>) -> Result<T, DomainError> + Send;

    /// Parents with holds that lapsed by `now`, at most `limit` of them.
    fn parents_with_lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ReservationTarget>, DomainError>> + Send;
}

/// Delivers committed events to live subscribers on this instance.
pub trait EventPublisher: Send + Sync {
    fn publish(&self, events: &[StoredEvent]);
}

/// For deployments where another path (the outbox listener) delivers events.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPublisher;

impl EventPublisher for NoPublisher {
    fn publish(&self, _events: &[StoredEvent]) {}
}

impl<P: EventPublisher + ?Sized> EventPublisher for std::sync::Arc<P> {
    fn publish(&self, events: &[StoredEvent]) {
        (**self).publish(events)
    }
}
