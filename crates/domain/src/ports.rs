//! The ports: what the rules need from the outside world. Each storage method
//! is one atomic use case; the adapter owns the transaction and the locks, and
//! runs the (synchronous) decision while the parent row is locked.

use std::future::Future;

use chrono::{DateTime, Utc};

pub use crate::account::ports::{PasswordHasher, RefreshTokens, Revocation, SessionNotices};

use crate::account::{NewStudio, NewUser, ProfileChange, Studio, User};
use crate::auction::AuctionStatus;
use crate::auction::{Auction, AuctionDetails, AuctionUnit};
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::domain_events::{AuditEntry, StoredEvent};
use crate::error::DomainError;
use crate::event::{Availability, Event, EventDetails, EventUnit};
use crate::ids::{AuctionId, EventId, ReservationId, StudioId, UserId};
use crate::payments::IntentId;
use crate::reservation::{EventReservationsUnit, ReservationStatus};
use crate::reservation::{Reservation, ReservationTarget, ReservationUnit};
use crate::unit_of_work::Effects;

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
    /// When the earliest hold still live at that instant lapses, changing the
    /// availability without a commit.
    pub next_lapse_at: Option<DateTime<Utc>>,
}

pub trait AccountStore: Send + Sync {
    /// Creates a user; an email already taken (case-insensitively) is `EmailTaken`.
    fn create_user(&self, user: NewUser) -> impl Future<Output = Result<User, DomainError>> + Send;
    fn find_user(&self, id: UserId) -> impl Future<Output = Result<Option<User>, DomainError>> + Send;
    /// The users among `ids` that exist, in any order.
    fn find_users(&self, ids: &[UserId]) -> impl Future<Output = Result<Vec<User>, DomainError>> + Send;
    /// The user with `email` (already normalised) and their password hash.
    fn find_login(&self, email: &str) -> impl Future<Output = Result<Option<(User, String)>, DomainError>> + Send;
    fn password_hash(&self, id: UserId) -> impl Future<Output = Result<Option<String>, DomainError>> + Send;
    fn update_profile(
        &self,
        id: UserId,
        change: ProfileChange,
    ) -> impl Future<Output = Result<User, DomainError>> + Send;
    /// Replaces the password hash, revokes every refresh token of the user and
    /// moves them to the next session generation, atomically; answers that generation.
    fn change_password(
        &self,
        id: UserId,
        password_hash: String,
    ) -> impl Future<Output = Result<i64, DomainError>> + Send;
    /// Makes an existing user a platform admin.
    fn make_platform_admin(&self, email: &str) -> impl Future<Output = Result<User, DomainError>> + Send;

    fn create_studio(&self, studio: NewStudio) -> impl Future<Output = Result<Studio, DomainError>> + Send;
    fn find_studio(&self, id: StudioId) -> impl Future<Output = Result<Option<Studio>, DomainError>> + Send;
    /// Studios by id, after the cursor.
    fn list_studios(
        &self,
        limit: u32,
        after: Option<StudioId>,
    ) -> impl Future<Output = Result<Vec<Studio>, DomainError>> + Send;
    /// Locks the studio, runs `change` on it as it is now and stores what it answers.
    fn update_studio<F>(&self, id: StudioId, change: F) -> impl Future<Output = Result<Studio, DomainError>> + Send
    where
        F: FnOnce(&Studio) -> Result<NewStudio, DomainError> + Send;
    /// Makes the user with `email` an admin of `studio`: `NotFound("user")` when
    /// no one has that email, `AlreadyAdministers` when they run another studio.
    fn assign_studio_admin(
        &self,
        studio: StudioId,
        email: &str,
    ) -> impl Future<Output = Result<User, DomainError>> + Send;
    /// Records an administrative action that is not part of a locked decision.
    fn record_audit(&self, entry: AuditEntry) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// Refresh tokens, stored as hashes, in families that rotate.
pub trait TokenStore: Send + Sync {
    /// Stores a new refresh token in a new family; answers the user's session
    /// generation, read under the same lock as a revocation takes.
    fn issue_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64, DomainError>> + Send;
    /// Revokes `old_hash` and issues `new_hash` in its family; answers the
    /// token's user as read under the lock a revocation takes, so the access
    /// token issued with it carries a generation no later revocation misses.
    /// A revoked token presented again revokes its whole family; any failure
    /// is `InvalidRefreshToken`.
    fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<User, DomainError>> + Send;
    /// Revokes one token of `user`; unknown tokens are ignored.
    fn revoke_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
    /// Revokes every refresh token of `user` and moves them to the next
    /// session generation, atomically; answers that generation.
    fn revoke_all_refresh_tokens(&self, user: UserId) -> impl Future<Output = Result<i64, DomainError>> + Send;
    /// Deletes tokens that expired by `now`, used or not; returns how many.
    /// Used tokens are kept until then: one presented again reveals a stolen copy.
    fn prune_refresh_tokens(&self, now: DateTime<Utc>) -> impl Future<Output = Result<u64, DomainError>> + Send;
}

/// A keyed request claiming its `Idempotency-Key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyClaim<'a> {
    pub user: UserId,
    pub key: &'a str,
    /// `METHOD /path`.
    pub request: &'a str,
    pub request_hash: &'a str,
    pub now: DateTime<Utc>,
    /// Until then retries are told the request is in progress; after it (a
    /// crash, a lost answer) a retry claims the key again. Also names this
    /// claim, so a late request cannot forget a newer one's.
    pub lease_until: DateTime<Utc>,
    /// When the key is forgotten altogether.
    pub expires_at: DateTime<Utc>,
}

/// What a request's `Idempotency-Key` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key is ours (first use, or a lapsed lease): run the request, then
    /// finish or abandon the key.
    Started,
    /// The first request with this key is still running (its lease holds).
    InProgress,
    /// Replay this answer.
    Replay { status: u16, body: Vec<u8> },
    /// The key was used with another method, path or body.
    Mismatch,
}

pub trait IdempotencyStore: Send + Sync {
    /// Claims the key unless it is known (and not expired) with an answer or a lease that still holds.
    fn begin_idempotent(
        &self,
        claim: &IdempotencyClaim<'_>,
    ) -> impl Future<Output = Result<IdempotencyBegin, DomainError>> + Send;
    /// Stores the answer, unless another run with the key stored one first.
    fn finish_idempotent(
        &self,
        user: UserId,
        key: &str,
        status: u16,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
    /// Forgets a claimed key whose answer must not be stored (5xx, 429),
    /// unless another run has claimed it since (`lease_until` names the claim).
    fn abandon_idempotent(
        &self,
        user: UserId,
        key: &str,
        lease_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
    /// Deletes keys that expired by `now`; returns how many.
    fn prune_idempotency_keys(&self, now: DateTime<Utc>) -> impl Future<Output = Result<u64, DomainError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuctionFilter {
    pub studio_id: Option<StudioId>,
    /// The status at `now`, not the stored one.
    pub status: Option<AuctionStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActiveFilter {
    #[default]
    Active,
    Inactive,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventFilter {
    pub studio_id: Option<StudioId>,
    pub active: ActiveFilter,
    pub starts_after: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReservationFilter {
    pub user_id: Option<UserId>,
    pub studio_id: Option<StudioId>,
    /// The status at `now` (a lapsed hold is EXPIRED).
    pub status: Option<ReservationStatus>,
}

/// The session a reservation is for, as a ticket names it: what, when, and
/// whose studio. A deleted event still has one (its tickets outlive it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub target: ReservationTarget,
    pub studio_id: StudioId,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl SessionSummary {
    pub fn of_auction(auction: &Auction) -> SessionSummary {
        SessionSummary {
            target: ReservationTarget::Auction(auction.id),
            studio_id: auction.studio_id,
            title: auction.details.title.clone(),
            starts_at: auction.details.scheduled_at,
            ends_at: auction.details.session_ends_at(),
        }
    }

    pub fn of_event(event: &Event) -> SessionSummary {
        SessionSummary {
            target: ReservationTarget::Event(event.id),
            studio_id: event.studio_id,
            title: event.details.title.clone(),
            starts_at: event.details.starts_at,
            ends_at: event.details.ends_at,
        }
    }
}

/// An audit log entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub studio_id: Option<StudioId>,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Catalogue and history reads, paginated by keyset cursors.
pub trait QueryStore: Send + Sync {
    /// Auctions by (`starts_at`, `id`) ascending, after the cursor.
    fn list_auctions(
        &self,
        filter: AuctionFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<(DateTime<Utc>, AuctionId)>,
    ) -> impl Future<Output = Result<Vec<AuctionRecord>, DomainError>> + Send;
    /// Events (not deleted) by (`starts_at`, `id`) ascending, with availability at `now`.
    fn list_events(
        &self,
        filter: EventFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<(DateTime<Utc>, EventId)>,
    ) -> impl Future<Output = Result<Vec<EventRecord>, DomainError>> + Send;
    /// Reservations newest first, before the cursor.
    fn list_reservations(
        &self,
        filter: ReservationFilter,
        now: DateTime<Utc>,
        limit: u32,
        before: Option<ReservationId>,
    ) -> impl Future<Output = Result<Vec<Reservation>, DomainError>> + Send;
    /// The sessions of these targets (deleted events included), in no order;
    /// a target that does not exist is left out.
    fn sessions(
        &self,
        targets: &[ReservationTarget],
    ) -> impl Future<Output = Result<Vec<SessionSummary>, DomainError>> + Send;
    /// Audit entries newest first, of one studio or all.
    fn list_audit(
        &self,
        studio: Option<StudioId>,
        limit: u32,
        before: Option<i64>,
    ) -> impl Future<Output = Result<Vec<AuditRecord>, DomainError>> + Send;
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

    /// Locks the event, reads `now`, loads its lapsed holds and the live
    /// holds of `users`, draws one fresh reservation id per user, runs
    /// `decide`, persists and commits.
    fn with_event_locked<T, C, F>(
        &self,
        id: EventId,
        users: &[UserId],
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

/// What the payment flows keep beside reservations: the provider events
/// already applied, and the payments the jobs look after.
pub trait PaymentRecords: Send + Sync {
    /// Whether provider event `id` was applied already.
    fn provider_event_seen(&self, provider: &str, id: &str) -> impl Future<Output = Result<bool, DomainError>> + Send;

    /// Records provider event `id` as applied (again is harmless).
    fn record_provider_event(
        &self,
        provider: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// Reservations whose refund is pending and due at `now` (never tried, or
    /// whose back-off has passed), oldest first.
    fn refunds_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ReservationId>, DomainError>> + Send;

    /// Payments opened and still waiting for the provider's word, last
    /// changed before `before`.
    fn payments_awaiting_provider(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(ReservationId, IntentId)>, DomainError>> + Send;
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

    /// Locks the event, then those of reservations `ids` that belong to it,
    /// reads `now`, runs `decide`, persists and commits.
    fn with_event_reservations_locked<T, C, F>(
        &self,
        event: EventId,
        ids: &[ReservationId],
        clock: &C,
        decide: F,
    ) -> impl Future<Output = Result<Committed<T>, DomainError>> + Send
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventReservationsUnit, DateTime<Utc>) -> Result<T, DomainError> + Send;

    /// Parents with holds that lapsed by `now`, at most `limit` of them.
    fn parents_with_lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ReservationTarget>, DomainError>> + Send;
}

/// Where new booking codes come from: a CSPRNG in production (the adapters),
/// a script in tests. Uniqueness is the store's: a code already taken makes
/// the decision fail with `BookingCodeTaken`, and the service draws again.
pub trait BookingCodes: Send + Sync {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError>;
}

/// The stored event log (outbox) that live clients resume from.
pub trait OutboxStore: Send + Sync {
    /// The newest event's sequence number in `room` (0 when none).
    fn latest_seq(&self, room: &str) -> impl Future<Output = Result<i64, DomainError>> + Send;
    /// The events of `room` after `since`, oldest first, or `None` when some
    /// of them may already have been pruned (the client needs a snapshot).
    fn events_since(
        &self,
        room: &str,
        since: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Option<Vec<StoredEvent>>, DomainError>> + Send;
    /// Every event with `first <= seq <= last`, in order.
    fn events_between(
        &self,
        first: i64,
        last: i64,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, DomainError>> + Send;
    /// Events after `seq`, oldest first (catching up after a lost connection).
    fn events_after(&self, seq: i64, limit: u32) -> impl Future<Output = Result<Vec<StoredEvent>, DomainError>> + Send;
    /// The newest sequence number overall.
    fn latest_seq_overall(&self) -> impl Future<Output = Result<i64, DomainError>> + Send;
    /// Deletes events older than `before`; returns how many.
    fn prune_events(&self, before: DateTime<Utc>) -> impl Future<Output = Result<u64, DomainError>> + Send;
    /// Stores one event that is not part of a locked decision (e.g. a session
    /// ending) and announces it to every instance, as a decision's events are.
    fn append_event(
        &self,
        room: &str,
        kind: &str,
        data: serde_json::Value,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<StoredEvent, DomainError>> + Send;
    /// The newest event of `kind` in `room`, if one is still kept.
    fn latest_event(
        &self,
        room: &str,
        kind: &str,
    ) -> impl Future<Output = Result<Option<StoredEvent>, DomainError>> + Send;
}

/// What background jobs look for.
pub trait JobStore: Send + Sync {
    /// Auctions whose stored status or turbo announcement time has overtaken.
    fn auctions_to_settle(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AuctionId>, DomainError>> + Send;
    /// Bookings nobody checked in by their session's start plus `grace`.
    fn due_no_shows(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ReservationId>, DomainError>> + Send;
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
