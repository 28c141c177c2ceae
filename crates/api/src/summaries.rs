//! What answers carry besides their own row: their studio (name, address,
//! time zone) and, for a reservation, the session it is for.
//!
//! Studios change rarely and are read on every catalogue answer and live
//! frame, so their summaries are kept in memory: never a query per auction.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use hothour_domain::memory::FreshCache;
use hothour_domain::ports::{AccountStore, AuctionRecord, EventRecord, QueryStore, SessionSummary};
use hothour_domain::{Auction, AuctionId, AuctionView, DomainError, EventId, Reservation, ReservationTarget, StudioId};

use crate::AppState;
use crate::dto::{AuctionOut, EventOut, ReservationOut, ReservationTargetOut, StudioSummary};

/// The longest a studio's summary is served from memory. A change through
/// this instance (`PATCH /studios/{id}`) forgets it at once; studio changes
/// are not announced to the other instances, which show the old name,
/// address or zone for at most this long.
pub const STUDIO_TTL: chrono::Duration = chrono::Duration::seconds(60);

/// Studio summaries by id, kept for [`STUDIO_TTL`].
#[derive(Debug)]
pub struct StudioSummaries {
    cache: FreshCache<StudioId, StudioSummary>,
}

impl Default for StudioSummaries {
    fn default() -> Self {
        let cache = FreshCache::default();
        // Always served: what this cache may miss (another instance's change) is bounded by the TTL.
        cache.follow(true);
        StudioSummaries { cache }
    }
}

impl StudioSummaries {
    /// The studio changed: forget it, and any read of it in flight.
    pub fn changed(&self, id: StudioId) {
        self.cache.changed(id);
    }

    /// Reads answered from memory, and those that read the store.
    pub fn counts(&self) -> (u64, u64) {
        self.cache.counts()
    }
}

/// Each of `items` as answered, one after the other.
async fn each<'a, T, O, F>(items: &'a [T], out: impl Fn(&'a T) -> F) -> Result<Vec<O>, DomainError>
where
    F: Future<Output = Result<O, DomainError>>,
{
    let mut outs = Vec::with_capacity(items.len());
    for item in items {
        outs.push(out(item).await?);
    }
    Ok(outs)
}

impl AppState {
    /// A studio's summary, from memory when kept.
    pub async fn studio_summary(&self, id: StudioId) -> Result<StudioSummary, DomainError> {
        let now = self.now();
        let read = async { Ok::<_, DomainError>(self.store.find_studio(id).await?.as_ref().map(StudioSummary::of)) };
        let cache = &self.studio_summaries.cache;
        cache.get_or_read(id, now, read, |_| Some(now + STUDIO_TTL)).await?.ok_or(DomainError::NotFound("studio"))
    }

    /// An auction as answered, with its view and its studio.
    pub async fn auction_out(&self, auction: &Auction, view: &AuctionView) -> Result<AuctionOut, DomainError> {
        Ok(AuctionOut::new(auction, view, self.studio_summary(auction.studio_id).await?))
    }

    /// An auction as answered now.
    pub async fn auction_out_now(&self, record: &AuctionRecord) -> Result<AuctionOut, DomainError> {
        self.auction_out(&record.auction, &record.auction.view(record.live.as_ref(), self.now())).await
    }

    /// Auctions as answered now.
    pub async fn auction_outs(&self, records: &[AuctionRecord]) -> Result<Vec<AuctionOut>, DomainError> {
        each(records, |record| self.auction_out_now(record)).await
    }

    /// An auction as it stands after a change, as answered.
    pub async fn auction_out_of(&self, id: AuctionId) -> Result<AuctionOut, DomainError> {
        let (record, view) = self.services.get_auction(id).await?;
        self.auction_out(&record.auction, &view).await
    }

    /// An event and its seats as answered, with its studio.
    pub async fn event_out(&self, record: &EventRecord) -> Result<EventOut, DomainError> {
        Ok(EventOut::new(record, self.studio_summary(record.event.studio_id).await?))
    }

    /// Events and their seats as answered.
    pub async fn event_outs(&self, records: &[EventRecord]) -> Result<Vec<EventOut>, DomainError> {
        each(records, |record| self.event_out(record)).await
    }

    /// An event as it stands after a change, as answered.
    pub async fn event_out_of(&self, id: EventId) -> Result<EventOut, DomainError> {
        self.event_out(&self.services.get_event(id).await?).await
    }

    /// The session a reservation is for: from memory until a committed
    /// change of its title, times or studio (seats and prices moving keep
    /// it), else from the store (a deleted event included).
    pub async fn session_summary(&self, target: ReservationTarget) -> Result<SessionSummary, DomainError> {
        let read = async { Ok::<_, DomainError>(self.store.sessions(&[target]).await?.pop()) };
        let sessions = self.services.read_model().sessions();
        sessions
            .get_or_read(target, self.now(), read, |_| None)
            .await?
            .ok_or(DomainError::NotFound("reservation target"))
    }

    /// What a reservation is for, with its studio.
    pub async fn target_out(&self, session: &SessionSummary) -> Result<ReservationTargetOut, DomainError> {
        Ok(ReservationTargetOut::of(session, self.studio_summary(session.studio_id).await?))
    }

    /// A reservation as answered now, with what it is for.
    pub async fn reservation_out(&self, reservation: &Reservation) -> Result<ReservationOut, DomainError> {
        let target = self.target_out(&self.session_summary(reservation.target).await?).await?;
        Ok(ReservationOut::new(reservation, self.now(), target))
    }

    /// A page of reservations as answered now: their sessions in one read,
    /// each studio once.
    pub async fn reservation_outs(&self, reservations: &[Reservation]) -> Result<Vec<ReservationOut>, DomainError> {
        let targets: Vec<ReservationTarget> =
            reservations.iter().map(|r| r.target).collect::<HashSet<_>>().into_iter().collect();
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let mut targets_out = HashMap::new();
        for session in self.store.sessions(&targets).await? {
            targets_out.insert(session.target, self.target_out(&session).await?);
        }
        let now = self.now();
        reservations
            .iter()
            .map(|r| {
                let target = targets_out.get(&r.target).cloned().ok_or(DomainError::NotFound("reservation target"))?;
                Ok(ReservationOut::new(r, now, target))
            })
            .collect()
    }
}
