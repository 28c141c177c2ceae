//! Auctions: create, read, edit, cancel, turbo, grab.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{Services, decide_batch, ensure_manages, with_view};
use crate::actor::Actor;
use crate::auction::{Auction, AuctionDetails, AuctionInput, AuctionPatch, AuctionView, weekly};
use crate::audit::Facts;
use crate::clock::Clock;
use crate::domain_events::{AuditDetails, Payload, Room};
use crate::error::DomainError;
use crate::ids::{AuctionId, StudioId, UserId};
use crate::ports::{AuctionRecord, CatalogueStore, EventPublisher, NewAuction};
use crate::reservation::Reservation;
use crate::unit_of_work::Effects;

/// What creating `auction` records: the audit entry, and its announcement
/// to its studio (which the catalogue hears).
fn created(actor: &Actor, auction: &Auction, now: DateTime<Utc>) -> Effects {
    let mut effects = Effects::default();
    let snapshot = auction.snapshot(None, now);
    let details = AuditDetails::AuctionCreate(Facts::of_auction(&snapshot));
    effects.audit(actor, Some(auction.studio_id), auction.id.to_string(), &details);
    effects.emit(&[Room::Studio(auction.studio_id)], Payload::AuctionUpdated(snapshot));
    effects
}

/// One caller's grab, waiting to be decided with the others on its auction.
#[derive(Debug, Clone, Copy)]
pub(super) struct GrabRequest {
    user: UserId,
    confirm: bool,
}

impl<S: CatalogueStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    pub async fn create_auction(
        &self,
        actor: &Actor,
        studio: Option<StudioId>,
        input: AuctionInput,
    ) -> Result<Auction, DomainError> {
        let studio_id = Self::acting_studio(actor, studio)?;
        let details = AuctionDetails::new(input)?;
        let now = self.clock.now();
        let actor = *actor;
        let committed = self
            .store
            .create(NewAuction { studio_id, details, created_at: now }, move |auction| created(&actor, auction, now))
            .await?;
        Ok(self.deliver(committed))
    }

    /// Creates the auction and its weekly copies whose session falls on or
    /// before `until` in the studio's `zone` (see [`weekly`]): all in one
    /// commit, or none.
    pub async fn create_weekly_auctions(
        &self,
        actor: &Actor,
        studio: Option<StudioId>,
        input: AuctionInput,
        zone: Tz,
        until: NaiveDate,
    ) -> Result<Vec<Auction>, DomainError> {
        let studio_id = Self::acting_studio(actor, studio)?;
        let details = weekly(input, zone, until)?;
        let now = self.clock.now();
        let news = details.into_iter().map(|details| NewAuction { studio_id, details, created_at: now }).collect();
        let actor = *actor;
        let committed = self.store.create_all(news, move |auction| created(&actor, auction, now)).await?;
        Ok(self.deliver(committed))
    }

    /// The studio whose catalogue an admin changes: the one given, or their
    /// own; one they do not manage is not found.
    pub fn acting_studio(actor: &Actor, requested: Option<StudioId>) -> Result<StudioId, DomainError> {
        actor.ensure_manages_catalogue()?;
        Self::studio_for(actor, requested)
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

    /// Changes the fields in `patch`, merged into the auction as read under
    /// its lock. Like every auction change, answers the auction as committed,
    /// with its live reservation.
    pub async fn update_auction(
        &self,
        actor: &Actor,
        id: AuctionId,
        patch: AuctionPatch,
    ) -> Result<AuctionRecord, DomainError> {
        self.ensure_manages_auction(actor, id).await?;
        let actor = *actor;
        self.decide(id, move |unit, now| {
            ensure_manages(&actor, unit.auction.studio_id, "auction")?;
            let details = patch.apply(&unit.auction.details)?;
            unit.update(&actor, details, now)?;
            Ok(AuctionRecord { auction: unit.auction.clone(), live: unit.live.clone() })
        })
        .await
    }

    pub async fn cancel_auction(&self, actor: &Actor, id: AuctionId) -> Result<AuctionRecord, DomainError> {
        self.ensure_manages_auction(actor, id).await?;
        let actor = *actor;
        let policy = self.policy;
        self.decide(id, move |unit, now| {
            ensure_manages(&actor, unit.auction.studio_id, "auction")?;
            unit.expire_lapsed_hold(now);
            unit.cancel(&actor, now, &policy)?;
            Ok(AuctionRecord { auction: unit.auction.clone(), live: unit.live.clone() })
        })
        .await
    }

    /// Deletes an auction no one ever reserved (refused otherwise: its
    /// history would go with it; cancel it instead).
    pub async fn delete_auction(&self, actor: &Actor, id: AuctionId) -> Result<(), DomainError> {
        self.ensure_manages_auction(actor, id).await?;
        let actor = *actor;
        self.decide(id, move |unit, now| {
            ensure_manages(&actor, unit.auction.studio_id, "auction")?;
            unit.delete(&actor, now)
        })
        .await
    }

    pub async fn trigger_turbo(&self, actor: &Actor, id: AuctionId) -> Result<AuctionRecord, DomainError> {
        self.ensure_manages_auction(actor, id).await?;
        let actor = *actor;
        self.decide(id, move |unit, now| {
            ensure_manages(&actor, unit.auction.studio_id, "auction")?;
            unit.expire_lapsed_hold(now);
            unit.trigger_turbo(&actor, now)?;
            Ok(AuctionRecord { auction: unit.auction.clone(), live: unit.live.clone() })
        })
        .await
    }

    /// Grabs an auction at its current price: a hold, or a booking with
    /// `confirm` (refused while payments are on: a slot is paid for first).
    pub async fn grab(&self, actor: &Actor, id: AuctionId, confirm: bool) -> Result<Reservation, DomainError> {
        if !actor.may_book() {
            return Err(DomainError::BookingNotAllowed);
        }
        if confirm && self.payments.is_some() {
            return Err(DomainError::PaymentRequired);
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
        self.decide(id, move |unit, now| {
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
        .await
    }

    async fn grab_alone(&self, id: AuctionId, request: GrabRequest) -> Result<Reservation, DomainError> {
        let GrabRequest { user, confirm } = request;
        let policy = self.policy;
        self.with_fresh_code(|code| {
            let confirm_with = confirm.then_some(code);
            self.decide(id, move |unit, now| {
                unit.expire_lapsed_hold(now);
                unit.grab(user, now, &policy, confirm_with)
            })
        })
        .await
    }

    /// Persists and announces what time alone changed on an auction, if no one else is busy with it.
    pub async fn settle_auction(&self, id: AuctionId) -> Result<bool, DomainError> {
        Ok(self.try_decide(id, |unit, now| Ok(unit.settle(now))).await?.unwrap_or(false))
    }
}
