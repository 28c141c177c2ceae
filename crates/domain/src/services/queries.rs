//! The lists: the catalogue, reservations and the audit log, each page with
//! the rule of who may read what applied first.

use super::Services;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::event::HiddenEvents;
use crate::ids::{ReservationId, StudioId};
use crate::ports::{
    AccountStore, ActiveFilter, AuctionCursor, AuctionFilter, AuctionRecord, AuditRecord, EventCursor, EventFilter,
    EventRecord, QueryStore, ReservationFilter,
};
use crate::reservation::Reservation;

impl<S, C, P> Services<S, C, P>
where
    S: QueryStore + AccountStore,
    C: Clock,
{
    /// Auctions by start, each read at the same instant; the catalogue is public.
    pub async fn list_auctions(
        &self,
        filter: AuctionFilter,
        limit: u32,
        after: Option<AuctionCursor>,
    ) -> Result<Vec<AuctionRecord>, DomainError> {
        self.store.list_auctions(filter, self.clock.now(), limit, after).await
    }

    /// Events by start; inactive ones only for those who may see them
    /// (their studio's admins, platform admins).
    pub async fn list_events(
        &self,
        viewer: Option<&Actor>,
        mut filter: EventFilter,
        limit: u32,
        after: Option<EventCursor>,
    ) -> Result<Vec<EventRecord>, DomainError> {
        if filter.active != ActiveFilter::Active {
            filter.studio_id = HiddenEvents::for_viewer(viewer).studio_filter(filter.studio_id)?;
        }
        self.store.list_events(filter, self.clock.now(), limit, after).await
    }

    /// The actor's own reservations, newest first.
    pub async fn list_my_reservations(
        &self,
        actor: &Actor,
        mut filter: ReservationFilter,
        limit: u32,
        before: Option<ReservationId>,
    ) -> Result<Vec<Reservation>, DomainError> {
        filter.user_id = Some(actor.user_id);
        self.store.list_reservations(filter, self.clock.now(), limit, before).await
    }

    /// A studio's reservations, for those who manage it; to anyone else the
    /// studio is not found (ids do not leak).
    pub async fn list_studio_reservations(
        &self,
        actor: &Actor,
        studio: StudioId,
        mut filter: ReservationFilter,
        limit: u32,
        before: Option<ReservationId>,
    ) -> Result<Vec<Reservation>, DomainError> {
        if !actor.manages(studio) || self.store.find_studio(studio).await?.is_none() {
            return Err(DomainError::NotFound("studio"));
        }
        filter.studio_id = Some(studio);
        self.store.list_reservations(filter, self.clock.now(), limit, before).await
    }

    /// Audit entries newest first, of the studios the actor may audit.
    pub async fn list_audit(
        &self,
        actor: &Actor,
        requested: Option<StudioId>,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, DomainError> {
        let studio = actor.audit_scope(requested)?;
        self.store.list_audit(studio, limit, before).await
    }
}
