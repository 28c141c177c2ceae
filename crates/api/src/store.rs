//! The storage the API runs on: PostgreSQL in production, a SQLite file as the
//! embedded default. Both implement the same ports; this enum forwards to one.

use chrono::{DateTime, Utc};
use hothour_domain::account::{NewStudio, NewUser, ProfileChange, Studio, User};
use hothour_domain::ports::{
    AccountStore, AuctionFilter, AuctionRecord, AuctionStore, AuditRecord, BookingCodes, Committed, EventFilter,
    EventRecord, EventStore, IdempotencyBegin, IdempotencyClaim, IdempotencyStore, JobStore, NewAuction, NewEvent,
    OutboxStore, QueryStore, ReservationFilter, ReservationStore, TokenStore,
};
use hothour_domain::{
    Auction, AuctionId, AuctionUnit, AuditEntry, BookingCode, Clock, DomainError, Effects, Event, EventId, EventUnit,
    Reservation, ReservationId, ReservationTarget, ReservationUnit, StoredEvent, StudioId, UserId,
};
use hothour_infra_postgres::PgStore;
use hothour_infra_sqlite::SqliteStore;

#[derive(Debug, Clone)]
pub enum AppStore {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

/// Runs the same call on whichever store this is.
macro_rules! on_store {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AppStore::Postgres($store) => $call.map_err(|error| $store.refine_error(error)),
            AppStore::Sqlite($store) => $call,
        }
    };
}

impl AppStore {
    pub async fn ping(&self) -> Result<(), DomainError> {
        on_store!(self, s => s.ping().await)
    }

    pub async fn stream_epoch(&self) -> Result<i64, DomainError> {
        on_store!(self, s => s.stream_epoch().await)
    }

    /// This store drawing booking codes from `codes` instead of the CSPRNG
    /// (tests script collisions with it).
    pub fn with_booking_codes(self, codes: std::sync::Arc<dyn BookingCodes>) -> AppStore {
        match self {
            AppStore::Postgres(store) => AppStore::Postgres(store.with_booking_codes(codes)),
            AppStore::Sqlite(store) => AppStore::Sqlite(store.with_booking_codes(codes)),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            AppStore::Postgres(_) => "postgres",
            AppStore::Sqlite(_) => "sqlite",
        }
    }
}

impl AccountStore for AppStore {
    async fn create_user(&self, user: NewUser) -> Result<User, DomainError> {
        on_store!(self, s => s.create_user(user).await)
    }
    async fn find_user(&self, id: UserId) -> Result<Option<User>, DomainError> {
        on_store!(self, s => s.find_user(id).await)
    }
    async fn find_login(&self, email: &str) -> Result<Option<(User, String)>, DomainError> {
        on_store!(self, s => s.find_login(email).await)
    }
    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DomainError> {
        on_store!(self, s => s.password_hash(id).await)
    }
    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User, DomainError> {
        on_store!(self, s => s.update_profile(id, change).await)
    }
    async fn change_password(&self, id: UserId, password_hash: String) -> Result<(), DomainError> {
        on_store!(self, s => s.change_password(id, password_hash).await)
    }
    async fn make_platform_admin(&self, email: &str) -> Result<User, DomainError> {
        on_store!(self, s => s.make_platform_admin(email).await)
    }
    async fn create_studio(&self, studio: NewStudio) -> Result<Studio, DomainError> {
        on_store!(self, s => s.create_studio(studio).await)
    }
    async fn find_studio(&self, id: StudioId) -> Result<Option<Studio>, DomainError> {
        on_store!(self, s => s.find_studio(id).await)
    }
    async fn list_studios(&self, limit: u32, after: Option<StudioId>) -> Result<Vec<Studio>, DomainError> {
        on_store!(self, s => s.list_studios(limit, after).await)
    }
    async fn update_studio<F>(&self, id: StudioId, change: F) -> Result<Studio, DomainError>
    where
        F: FnOnce(&Studio) -> Result<NewStudio, DomainError> + Send,
    {
        on_store!(self, s => s.update_studio(id, change).await)
    }
    async fn assign_studio_admin(&self, studio: StudioId, email: &str) -> Result<User, DomainError> {
        on_store!(self, s => s.assign_studio_admin(studio, email).await)
    }
    async fn record_audit(&self, entry: AuditEntry) -> Result<(), DomainError> {
        on_store!(self, s => s.record_audit(entry).await)
    }
}

impl TokenStore for AppStore {
    async fn issue_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        on_store!(self, s => s.issue_refresh_token(user, token_hash, expires_at).await)
    }
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<UserId, DomainError> {
        on_store!(self, s => s.rotate_refresh_token(old_hash, new_hash, new_expires_at, now).await)
    }
    async fn revoke_refresh_token(&self, user: UserId, token_hash: &str) -> Result<(), DomainError> {
        on_store!(self, s => s.revoke_refresh_token(user, token_hash).await)
    }
    async fn revoke_all_refresh_tokens(&self, user: UserId) -> Result<(), DomainError> {
        on_store!(self, s => s.revoke_all_refresh_tokens(user).await)
    }
    async fn prune_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        on_store!(self, s => s.prune_refresh_tokens(now).await)
    }
}

impl IdempotencyStore for AppStore {
    async fn begin_idempotent(&self, claim: &IdempotencyClaim<'_>) -> Result<IdempotencyBegin, DomainError> {
        on_store!(self, s => s.begin_idempotent(claim).await)
    }
    async fn finish_idempotent(&self, user: UserId, key: &str, status: u16, body: Vec<u8>) -> Result<(), DomainError> {
        on_store!(self, s => s.finish_idempotent(user, key, status, body).await)
    }
    async fn abandon_idempotent(&self, user: UserId, key: &str, lease_until: DateTime<Utc>) -> Result<(), DomainError> {
        on_store!(self, s => s.abandon_idempotent(user, key, lease_until).await)
    }
    async fn prune_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        on_store!(self, s => s.prune_idempotency_keys(now).await)
    }
}

impl QueryStore for AppStore {
    async fn list_auctions(
        &self,
        filter: AuctionFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<(DateTime<Utc>, AuctionId)>,
    ) -> Result<Vec<AuctionRecord>, DomainError> {
        on_store!(self, s => s.list_auctions(filter, now, limit, after).await)
    }
    async fn list_events(
        &self,
        filter: EventFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<(DateTime<Utc>, EventId)>,
    ) -> Result<Vec<EventRecord>, DomainError> {
        on_store!(self, s => s.list_events(filter, now, limit, after).await)
    }
    async fn list_reservations(
        &self,
        filter: ReservationFilter,
        now: DateTime<Utc>,
        limit: u32,
        before: Option<ReservationId>,
    ) -> Result<Vec<Reservation>, DomainError> {
        on_store!(self, s => s.list_reservations(filter, now, limit, before).await)
    }
    async fn list_audit(
        &self,
        studio: Option<StudioId>,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, DomainError> {
        on_store!(self, s => s.list_audit(studio, limit, before).await)
    }
}

impl AuctionStore for AppStore {
    async fn create_auction<F>(&self, auction: NewAuction, effects: F) -> Result<Committed<Auction>, DomainError>
    where
        F: FnOnce(&Auction) -> Effects + Send,
    {
        on_store!(self, s => s.create_auction(auction, effects).await)
    }
    async fn find_auction(&self, id: AuctionId) -> Result<Option<AuctionRecord>, DomainError> {
        on_store!(self, s => s.find_auction(id).await)
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
        on_store!(self, s => s.with_auction_locked(id, clock, decide).await)
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
        on_store!(self, s => s.try_with_auction_locked(id, clock, decide).await)
    }
}

impl EventStore for AppStore {
    async fn create_event<F>(&self, event: NewEvent, effects: F) -> Result<Committed<Event>, DomainError>
    where
        F: FnOnce(&Event) -> Effects + Send,
    {
        on_store!(self, s => s.create_event(event, effects).await)
    }
    async fn find_event(&self, id: EventId, now: DateTime<Utc>) -> Result<Option<EventRecord>, DomainError> {
        on_store!(self, s => s.find_event(id, now).await)
    }
    async fn with_event_locked<T, C, F>(
        &self,
        id: EventId,
        user: Option<UserId>,
        clock: &C,
        decide: F,
    ) -> Result<Committed<T>, DomainError>
    where
        T: Send,
        C: Clock,
        F: FnOnce(&mut EventUnit, DateTime<Utc>) -> Result<T, DomainError> + Send,
    {
        on_store!(self, s => s.with_event_locked(id, user, clock, decide).await)
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
        on_store!(self, s => s.try_with_event_locked(id, clock, decide).await)
    }
}

impl ReservationStore for AppStore {
    async fn find_reservation(&self, id: ReservationId) -> Result<Option<Reservation>, DomainError> {
        on_store!(self, s => s.find_reservation(id).await)
    }
    async fn find_reservation_by_code(&self, code: &BookingCode) -> Result<Option<Reservation>, DomainError> {
        on_store!(self, s => s.find_reservation_by_code(code).await)
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
        on_store!(self, s => s.with_reservation_locked(id, clock, decide).await)
    }
    async fn parents_with_lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ReservationTarget>, DomainError> {
        on_store!(self, s => s.parents_with_lapsed_holds(now, limit).await)
    }
}

impl OutboxStore for AppStore {
    async fn latest_seq(&self, room: &str) -> Result<i64, DomainError> {
        on_store!(self, s => s.latest_seq(room).await)
    }
    async fn events_since(&self, room: &str, since: i64, limit: u32) -> Result<Option<Vec<StoredEvent>>, DomainError> {
        on_store!(self, s => s.events_since(room, since, limit).await)
    }
    async fn events_between(&self, first: i64, last: i64) -> Result<Vec<StoredEvent>, DomainError> {
        on_store!(self, s => s.events_between(first, last).await)
    }
    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>, DomainError> {
        on_store!(self, s => s.events_after(seq, limit).await)
    }
    async fn latest_seq_overall(&self) -> Result<i64, DomainError> {
        on_store!(self, s => s.latest_seq_overall().await)
    }
    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, DomainError> {
        on_store!(self, s => s.prune_events(before).await)
    }
    async fn append_event(
        &self,
        room: &str,
        kind: &str,
        data: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<StoredEvent, DomainError> {
        on_store!(self, s => s.append_event(room, kind, data, at).await)
    }
    async fn latest_event(&self, room: &str, kind: &str) -> Result<Option<StoredEvent>, DomainError> {
        on_store!(self, s => s.latest_event(room, kind).await)
    }
}

impl BookingCodes for AppStore {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError> {
        on_store!(self, s => s.draw_booking_code())
    }
}

impl JobStore for AppStore {
    async fn auctions_to_settle(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<AuctionId>, DomainError> {
        on_store!(self, s => s.auctions_to_settle(now, limit).await)
    }
    async fn due_no_shows(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        limit: u32,
    ) -> Result<Vec<ReservationId>, DomainError> {
        on_store!(self, s => s.due_no_shows(now, grace, limit).await)
    }
}
