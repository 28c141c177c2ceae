//! Reservations: read, confirm, cancel, check in, and the expiry sweep.

use super::{JobFailure, Services, SweepReport, decide_batch, parent_name};
use crate::actor::Actor;
use crate::booking_code::BookingCode;
use crate::clock::Clock;
use crate::domain_events::EventKind;
use crate::error::DomainError;
use crate::ids::{EventId, ReservationId, StudioId};
use crate::ports::{CatalogueStore, EventHolds, EventPublisher, EventReservations};
use crate::reservation::{CheckIn, ConfirmOutcome, PaymentStatus, Reservation, ReservationFacts, ReservationTarget};

/// One caller's confirmation, waiting to be decided with the others on its event.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConfirmRequest {
    actor: Actor,
    id: ReservationId,
}

impl<S: CatalogueStore, C: Clock, P: EventPublisher> Services<S, C, P> {
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
    ///
    /// With payments on, only a succeeded payment confirms (see `confirm_paid`).
    pub async fn confirm(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        if self.payments.is_some() {
            return self.confirm_paid(actor, id).await;
        }
        self.confirm_unpaid(actor, id).await
    }

    /// Confirms the actor's hold with no payment.
    pub(super) async fn confirm_unpaid(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        let reservation = self.ensure_may_act(id, |r| r.user_id == actor.user_id).await?;
        let request = ConfirmRequest { actor: *actor, id };
        let outcome = match reservation.target {
            ReservationTarget::Event(event) => {
                self.confirms.submit(event, request, |batch| self.confirm_batch(event, batch)).await?
            }
            ReservationTarget::Auction(_) => self.confirm_alone(request).await?,
        };
        match outcome {
            ConfirmOutcome::Confirmed(reservation) => Ok(*reservation),
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
        let policy = self.policy;
        self.decide(EventReservations { event, ids }, move |unit, now| {
            let answers = requests
                .iter()
                .zip(codes)
                .map(|(request, code)| unit.decide(request.id, |one| one.confirm(&request.actor, now, code)))
                .collect();
            // A hold found lapsed returned its seats: the waiting list has them first.
            unit.offer_waiting_list(now, &policy);
            unit.effects.keep_last_of_each_room(EventKind::AvailabilityChanged);
            Ok(answers)
        })
        .await
    }

    async fn confirm_alone(&self, request: ConfirmRequest) -> Result<ConfirmOutcome, DomainError> {
        let ConfirmRequest { actor, id } = request;
        let policy = self.policy;
        self.with_fresh_code(|code| {
            self.decide(id, move |unit, now| {
                let outcome = unit.confirm(&actor, now, code)?;
                unit.offer_waiting_list(now, &policy);
                Ok(outcome)
            })
        })
        .await
    }

    pub async fn cancel_reservation(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        self.ensure_may_act(id, |r| r.user_id == actor.user_id || actor.manages(r.studio_id)).await?;
        let actor = *actor;
        let policy = self.policy;
        let cancelled = self
            .decide(id, move |unit, now| {
                unit.cancel(&actor, now, &policy)?;
                unit.offer_waiting_list(now, &policy);
                Ok(unit.reservation.clone())
            })
            .await?;
        if cancelled.payment.status == PaymentStatus::RefundPending {
            // A failure leaves the refund pending: `refund_due` retries it.
            if let Ok(true) = self.refund_now(id).await {
                return self.store.find_reservation(id).await?.ok_or(DomainError::NotFound("reservation"));
            }
        }
        Ok(cancelled)
    }

    /// Checks in the booking with `code` at `studio`'s door, while the door
    /// is open; a code used before is answered as it is. Codes of other
    /// studios are not found.
    pub async fn check_in(&self, actor: &Actor, studio: StudioId, code: &str) -> Result<CheckIn, DomainError> {
        let not_found = DomainError::NotFound("booking");
        if !actor.manages(studio) {
            return Err(not_found);
        }
        let code = BookingCode::normalise(code);
        let reservation = self.store.find_reservation_by_code(&code).await?.ok_or(not_found.clone())?;
        if reservation.studio_id != studio {
            return Err(not_found);
        }
        let (actor, policy) = (*actor, self.policy);
        self.decide(reservation.id, move |unit, now| unit.check_in(&actor, now, &policy)).await
    }

    /// Expires lapsed holds, one parent at a time under its lock, skipping
    /// parents another worker holds. Safe to run on several instances at once.
    /// A parent that fails is reported and the sweep goes on with the others.
    pub async fn expire_lapsed_holds(&self, batch: u32) -> Result<SweepReport, DomainError> {
        let parents = self.store.parents_with_lapsed_holds(self.clock.now(), batch).await?;
        let policy = self.policy;
        let mut report = SweepReport::default();
        for parent in parents {
            let committed = match parent {
                ReservationTarget::Auction(id) => {
                    self.try_decide(id, |unit, now| Ok(unit.expire_lapsed_hold(now))).await
                }
                ReservationTarget::Event(id) => {
                    self.try_decide(EventHolds::of(id), move |unit, now| {
                        let expired = unit.expire_lapsed_holds(now) > 0;
                        unit.offer_waiting_list(now, &policy);
                        Ok(expired)
                    })
                    .await
                }
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
