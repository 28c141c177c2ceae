//! The ports: what the rules need from the outside world. Each storage method
//! is one atomic use case; the adapter owns the transaction and the locks, and
//! runs the (synchronous) decision while the parent row is locked.

use std::future::Future;

use chrono::{DateTime, Utc};

pub use crate::account::ports::{PasswordHasher, RefreshTokens, Revocation, SessionNotices};

use crate::account::{DeletedAccount, NewStudio, NewUser, ProfileChange, Studio, User};
use crate::auction::AuctionStatus;
use crate::auction::{Auction, AuctionDetails};
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::domain_events::{AuditEntry, StoredEvent};
use crate::error::DomainError;
use crate::event::{Availability, Event, EventDetails};
use crate::ids::{AuctionId, EventId, ReservationId, StudioId, UserId};
use crate::payments::IntentId;
use crate::reports::{DayTotals, ExportCursor, ExportRow, StudioDays};
use crate::reservation::ReservationStatus;
use crate::reservation::{Reservation, ReservationTarget};
use crate::unit_of_work::Effects;
pub use crate::unit_of_work::{
    Decision, EventBookings, EventHolds, EventReservations, EventUnits, EventsHolds, LockTarget, UnitOfWork,
};
use crate::waitlist::WaitingPlace;

/// A decision's result once committed, with the events it stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed<T> {
    pub value: T,
    pub events: Vec<StoredEvent>,
}

/// A new auction or event, validated: its studio, its details, and when it
/// was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct New<D> {
    pub studio_id: StudioId,
    pub details: D,
    pub created_at: DateTime<Utc>,
}

pub type NewAuction = New<AuctionDetails>;
pub type NewEvent = New<EventDetails>;

/// What a studio adds to its catalogue, by the details it gives: an auction
/// or an event, stored as [`CatalogueItem::Row`].
pub trait CatalogueItem: Send {
    type Row: Send;
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
    /// Deletes account `id` at `at`, atomically: its email becomes
    /// [`DeletedAccount::tombstone_email`], its name, phone and password
    /// are erased, any admin role ends, every refresh token is revoked and
    /// it moves to the next session generation, its unsent mail is dropped
    /// and [`DeletedAccount::audit_entry`] is recorded. Its bookings stay.
    /// `NotFound("user")` if there is no such account (or it is deleted),
    /// `LastPlatformAdmin` if it is the only platform admin.
    ///
    /// [`DeletedAccount::tombstone_email`]: crate::account::DeletedAccount::tombstone_email
    /// [`DeletedAccount::audit_entry`]: crate::account::DeletedAccount::audit_entry
    fn delete_account(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<DeletedAccount, DomainError>> + Send;
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
    /// The admins of `studio` by id, after the cursor.
    fn list_studio_admins(
        &self,
        studio: StudioId,
        limit: u32,
        after: Option<UserId>,
    ) -> impl Future<Output = Result<Vec<User>, DomainError>> + Send;
    /// Makes `user`, an admin of `studio`, a plain user again; anyone who is
    /// not that studio's admin is `NotFound("admin")`.
    fn remove_studio_admin(
        &self,
        studio: StudioId,
        user: UserId,
    ) -> impl Future<Output = Result<User, DomainError>> + Send;
    /// Records an administrative action that is not part of a locked decision.
    fn record_audit(&self, entry: AuditEntry) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// A refresh token to store: the hash of its secret, and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRefreshToken<'a> {
    pub hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// A refresh token traded for a new one at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRotation<'a> {
    pub old_hash: &'a str,
    pub new: NewRefreshToken<'a>,
    pub now: DateTime<Utc>,
}

/// Refresh tokens, stored as hashes, in families that rotate.
pub trait TokenStore: Send + Sync {
    /// Stores a new refresh token in a new family; answers the user's session
    /// generation, read under the same lock as a revocation takes.
    fn issue_refresh_token(
        &self,
        user: UserId,
        token: NewRefreshToken<'_>,
    ) -> impl Future<Output = Result<i64, DomainError>> + Send;
    /// Revokes the old token and issues the new one in its family; answers
    /// the token's user as read under the lock a revocation takes, so the
    /// access token issued with it carries a generation no later revocation
    /// misses. A revoked token presented again revokes its whole family; any
    /// failure is `InvalidRefreshToken`.
    fn rotate_refresh_token(
        &self,
        rotation: TokenRotation<'_>,
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

/// Where a page of auctions ends: the last one's `starts_at` and id.
pub type AuctionCursor = (DateTime<Utc>, AuctionId);

/// Where a page of events ends: the last one's `starts_at` and id.
pub type EventCursor = (DateTime<Utc>, EventId);

/// Catalogue and history reads, paginated by keyset cursors.
pub trait QueryStore: Send + Sync {
    /// Auctions by (`starts_at`, `id`) ascending, after the cursor.
    fn list_auctions(
        &self,
        filter: AuctionFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<AuctionCursor>,
    ) -> impl Future<Output = Result<Vec<AuctionRecord>, DomainError>> + Send;
    /// Events (not deleted) by (`starts_at`, `id`) ascending, with availability at `now`.
    fn list_events(
        &self,
        filter: EventFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<EventCursor>,
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

/// A studio's numbers and its reservations by session day (see [`crate::reports`]).
pub trait StudioReports: Send + Sync {
    /// What each day of `days` adds up to in `studio`, one per day in order,
    /// counted at `now` (an auction whose sale ended unsold by then is expired).
    fn day_totals(
        &self,
        studio: StudioId,
        days: &StudioDays,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<DayTotals>, DomainError>> + Send;
    /// The reservations of `studio` whose session starts in
    /// `[starts_at, ends_at)`, by session start then id, after the cursor.
    fn export_page(
        &self,
        studio: StudioId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        after: Option<ExportCursor>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ExportRow>, DomainError>> + Send;
}

/// Whether a decision waits for its lock (requests) or gives up at once when
/// another transaction holds it (background jobs, which come back later).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Wait,
    Skip,
}

impl LockMode {
    /// A target that is not there: not found for a request; nothing to do
    /// for a background job (which skips rows it cannot lock at once too).
    pub fn absent<T>(self, name: &'static str) -> Result<Option<T>, DomainError> {
        match self {
            LockMode::Wait => Err(DomainError::NotFound(name)),
            LockMode::Skip => Ok(None),
        }
    }
}

/// What a locked decision answers: what it committed, or `None` when it did
/// not run (only with [`LockMode::Skip`]).
pub type Decided<T> = Result<Option<Committed<T>>, DomainError>;

/// Decisions under the lock of a `K` (see [`LockTarget`]): the adapter owns
/// the transaction and the row locks.
pub trait Locks<K: LockTarget>: Send + Sync {
    /// Locks the target's rows (its parent first), reads `now` from `clock`,
    /// runs `decide`, persists what it changed and commits. A missing target
    /// is `NotFound`, a row locked longer than the lock timeout `Busy`; with
    /// [`LockMode::Skip`], either is `None` at once.
    fn locked<T, C, F>(
        &self,
        target: K,
        mode: LockMode,
        clock: &C,
        decide: F,
    ) -> impl Future<Output = Decided<T>> + Send
    where
        T: Send,
        C: Clock,
        F: Decision<K::Unit, T>;
}

/// Adds to a studio's catalogue.
pub trait Creates<D: CatalogueItem>: Send + Sync {
    /// Inserts the new row; `effects` says what to record about it in the same transaction.
    fn create<F>(&self, new: New<D>, effects: F) -> impl Future<Output = Result<Committed<D::Row>, DomainError>> + Send
    where
        F: FnOnce(&D::Row) -> Effects + Send;

    /// Inserts the new rows in one write, in order, all or none; `effects`
    /// says what to record about each, in the same transaction.
    fn create_all<F>(
        &self,
        news: Vec<New<D>>,
        effects: F,
    ) -> impl Future<Output = Result<Committed<Vec<D::Row>>, DomainError>> + Send
    where
        F: Fn(&D::Row) -> Effects + Send + Sync;
}

/// Auctions, decided on under the lock of an [`AuctionId`].
pub trait AuctionStore: Locks<AuctionId> + Creates<AuctionDetails> {
    fn find_auction(&self, id: AuctionId) -> impl Future<Output = Result<Option<AuctionRecord>, DomainError>> + Send;
}

/// Events, decided on under the lock of [`EventHolds`] (or several at once,
/// of [`EventsHolds`]).
pub trait EventStore: Locks<EventHolds> + Locks<EventsHolds> + Creates<EventDetails> {
    /// The event with its availability at `now` (lapsed holds not counted,
    /// whether or not they were swept). Deleted events are not found.
    fn find_event(
        &self,
        id: EventId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<EventRecord>, DomainError>> + Send;
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

/// Reservations, decided on under the lock of a [`ReservationId`] (one, after
/// its parent), of [`EventReservations`] (several of one event) or of
/// [`EventBookings`] (every live one of an event).
pub trait ReservationStore: Locks<ReservationId> + Locks<EventReservations> + Locks<EventBookings> {
    fn find_reservation(
        &self,
        id: ReservationId,
    ) -> impl Future<Output = Result<Option<Reservation>, DomainError>> + Send;

    fn find_reservation_by_code(
        &self,
        code: &BookingCode,
    ) -> impl Future<Output = Result<Option<Reservation>, DomainError>> + Send;

    /// Parents with holds that lapsed by `now`, at most `limit` of them.
    fn parents_with_lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ReservationTarget>, DomainError>> + Send;
}

/// Events' waiting lists, read without a lock (they change under the event's).
pub trait WaitlistStore: Send + Sync {
    /// Where `user` stands in `event`'s waiting list, if they wait.
    fn waiting_place(
        &self,
        event: EventId,
        user: UserId,
    ) -> impl Future<Output = Result<Option<WaitingPlace>, DomainError>> + Send;
}

/// Everything the use cases of auctions, events and reservations need of the store.
pub trait CatalogueStore:
    AuctionStore + EventStore + ReservationStore + BookingCodes + PaymentRecords + WaitlistStore
{
}

impl<S: AuctionStore + EventStore + ReservationStore + BookingCodes + PaymentRecords + WaitlistStore> CatalogueStore
    for S
{
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
    /// Bookings whose session starts after `now` and no later than `now +
    /// before`, whose reminder is not recorded yet and whose owner has not
    /// unsubscribed from reminders.
    fn due_reminders(
        &self,
        now: DateTime<Utc>,
        before: chrono::Duration,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ReservationId>, DomainError>> + Send;
}

/// Delivers committed events to live subscribers on this instance.
pub trait EventPublisher: Send + Sync {
    fn publish(&self, events: Vec<StoredEvent>);
}

/// For deployments where another path (the outbox listener) delivers events.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPublisher;

impl EventPublisher for NoPublisher {
    fn publish(&self, _events: Vec<StoredEvent>) {}
}

impl<P: EventPublisher + ?Sized> EventPublisher for std::sync::Arc<P> {
    fn publish(&self, events: Vec<StoredEvent>) {
        (**self).publish(events)
    }
}
