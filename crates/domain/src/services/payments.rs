//! Payments (SPEC §13): checkout, confirmation on the provider's word, the
//! provider's notifications, refunds and reconciliation.
//!
//! No provider call is made while a row lock is held: each use case asks the
//! provider first, then decides under the lock with what it was told (the
//! decision is idempotent, so a webhook and a confirm racing each other, or a
//! webhook delivered twice, confirm once).

use std::sync::Arc;

use chrono::Duration;

use super::{BatchReport, JobFailure, Services};
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::ReservationId;
use crate::payments::{
    Intent, IntentStatus, NewIntent, Payments, PaymentsError, ProviderEvent, ProviderEventKind, RefundRequest,
};
use crate::ports::{CatalogueStore, EventPublisher};
use crate::reservation::{PaymentStatus, Reservation, ReservationStatus, ReservationUnit, Settlement};

/// The payment provider a deployment takes money through, and its currency.
#[derive(Clone)]
pub struct PaymentsSetup {
    pub provider: Arc<dyn Payments>,
    /// ISO 4217, as `/api/v1/config` gives it.
    pub currency: String,
}

impl std::fmt::Debug for PaymentsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentsSetup")
            .field("provider", &self.provider.provider())
            .field("currency", &self.currency)
            .finish()
    }
}

/// What the browser needs to pay for a hold, with the reservation as it now stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// `None` when nothing is to be paid (a total of zero confirms at once).
    pub intent: Option<Intent>,
    pub reservation: Reservation,
}

/// A payment waiting this long for the provider's word is asked about (a webhook may be lost).
pub const RECONCILE_AFTER: Duration = Duration::minutes(1);
/// How long a refund in flight is left to its caller before another may try
/// it (longer than a provider call may take).
pub const REFUND_LEASE: Duration = Duration::seconds(30);

impl From<PaymentsError> for DomainError {
    fn from(error: PaymentsError) -> DomainError {
        match error {
            PaymentsError::Unavailable(_) => DomainError::PaymentProviderUnavailable,
            PaymentsError::Refused { message, .. } => DomainError::PaymentDeclined(message),
            PaymentsError::UnknownIntent(_) => DomainError::PaymentRequired,
        }
    }
}

impl<S: CatalogueStore, C: Clock, P: EventPublisher> Services<S, C, P> {
    fn setup(&self) -> Result<&PaymentsSetup, DomainError> {
        self.payments.as_ref().ok_or(DomainError::PaymentsDisabled)
    }

    /// The owner's reservation, read without a lock.
    async fn owned(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        self.store
            .find_reservation(id)
            .await?
            .filter(|r| r.user_id == actor.user_id)
            .ok_or(DomainError::NotFound("reservation"))
    }

    /// Opens the owner's hold's payment, or returns the one already opened;
    /// with a card (`method`), pays it server-side. A total of zero confirms
    /// the hold with no payment.
    pub async fn checkout(
        &self,
        actor: &Actor,
        id: ReservationId,
        method: Option<&str>,
    ) -> Result<Checkout, DomainError> {
        let setup = self.setup()?;
        let reservation = self.owned(actor, id).await?;
        match reservation.status_at(self.clock.now()) {
            ReservationStatus::Hold => {}
            ReservationStatus::Expired => return Err(DomainError::HoldExpired),
            other => return Err(DomainError::InvalidState(other)),
        }
        if reservation.total_price.is_zero() {
            let reservation = self.confirm_unpaid(actor, id).await?;
            return Ok(Checkout { intent: None, reservation });
        }
        let mut intent = match &reservation.payment.intent {
            Some(opened) => setup.provider.find_intent(opened).await?,
            None => self.open_intent(setup, &reservation).await?,
        };
        if let Some(method) = method
            && intent.status == IntentStatus::RequiresPayment
        {
            intent = setup.provider.pay_with(&intent.id, method).await?;
        }
        let reservation = if intent.status == IntentStatus::Succeeded {
            self.settle(intent.clone()).await?.0
        } else {
            self.follow(&intent).await?
        };
        Ok(Checkout { intent: Some(intent), reservation })
    }

    /// Opens a payment at the provider, then remembers it on the reservation.
    /// When a concurrent checkout remembered another first, that one is the
    /// reservation's and is answered.
    async fn open_intent(&self, setup: &PaymentsSetup, reservation: &Reservation) -> Result<Intent, DomainError> {
        let new = NewIntent {
            reservation: reservation.id,
            amount: reservation.total_price,
            currency: setup.currency.clone(),
        };
        let created = setup.provider.create_intent(&new).await?;
        let opened = created.id.clone();
        let kept = self
            .decide(reservation.id, move |unit: &mut ReservationUnit, _now| {
                unit.reservation.payment.open(opened);
                unit.effects.save(&unit.reservation);
                Ok(unit.reservation.payment.intent.clone())
            })
            .await?;
        match kept {
            Some(kept) if kept != created.id => Ok(setup.provider.find_intent(&kept).await?),
            _ => Ok(created),
        }
    }

    /// Records the provider's word on a payment that has not succeeded.
    async fn follow(&self, intent: &Intent) -> Result<Reservation, DomainError> {
        let id = intent.reservation.ok_or(DomainError::NotFound("reservation"))?;
        let seen = intent.clone();
        self.decide(id, move |unit: &mut ReservationUnit, _now| {
            let before = unit.reservation.payment.clone();
            unit.reservation.payment.follow(&seen);
            if unit.reservation.payment != before {
                unit.effects.save(&unit.reservation);
            }
            Ok(unit.reservation.clone())
        })
        .await
    }

    /// Confirms the owner's hold once its payment succeeded, asking the
    /// provider (no lock held). A booking is answered as it is, unasked.
    pub(super) async fn confirm_paid(&self, actor: &Actor, id: ReservationId) -> Result<Reservation, DomainError> {
        let setup = self.setup()?;
        let reservation = self.owned(actor, id).await?;
        let status = reservation.status_at(self.clock.now());
        if status.is_booked() {
            return Ok(reservation);
        }
        if status == ReservationStatus::Hold && reservation.total_price.is_zero() {
            return self.confirm_unpaid(actor, id).await;
        }
        let Some(opened) = &reservation.payment.intent else {
            return Err(if status == ReservationStatus::Hold {
                DomainError::PaymentRequired
            } else {
                DomainError::InvalidState(status)
            });
        };
        let intent = setup.provider.find_intent(opened).await?;
        match intent.status {
            IntentStatus::Succeeded => match self.settle(intent).await? {
                (booking, Settlement::Confirm | Settlement::AlreadyApplied | Settlement::RefundExtra) => {
                    if booking.status.is_booked() {
                        Ok(booking)
                    } else {
                        Err(DomainError::InvalidState(booking.status))
                    }
                }
                (_, Settlement::Refund(_)) if status == ReservationStatus::Hold => Err(DomainError::HoldExpired),
                (booking, Settlement::Refund(_)) => Err(DomainError::InvalidState(booking.status)),
            },
            IntentStatus::Processing => Err(DomainError::PaymentProcessing),
            IntentStatus::RequiresPayment | IntentStatus::RequiresAction | IntentStatus::Canceled => {
                self.follow(&intent).await?;
                Err(if status == ReservationStatus::Hold {
                    DomainError::PaymentRequired
                } else {
                    DomainError::InvalidState(status)
                })
            }
        }
    }

    /// Applies a succeeded payment under the lock (see
    /// [`crate::reservation::ReservationUnit::settle_payment`]), then gives back
    /// at once what the reservation cannot keep (a failed refund is retried by
    /// [`Self::refund_due`]).
    pub async fn settle(&self, intent: Intent) -> Result<(Reservation, Settlement), DomainError> {
        let setup = self.setup()?;
        let id = intent.reservation.ok_or(DomainError::NotFound("reservation"))?;
        let policy = self.policy;
        let (reservation, settlement) = self
            .with_fresh_code(|code| {
                let (intent, currency) = (intent.clone(), setup.currency.clone());
                self.decide(id, move |unit: &mut ReservationUnit, now| {
                    let settlement = unit.settle_payment(&intent, &currency, now, code)?;
                    // A hold paid after it lapsed returned its seats: the waiting list has them first.
                    unit.offer_waiting_list(now, &policy);
                    Ok((unit.reservation.clone(), settlement))
                })
            })
            .await?;
        match settlement {
            Settlement::Refund(_) => {
                // A failure leaves the refund pending: `refund_due` retries it.
                let _ = self.refund_now(id).await;
            }
            Settlement::RefundExtra => {
                let refund = RefundRequest { intent: intent.id.clone(), amount: intent.amount, reservation: id };
                // Not tracked on the reservation (its own payment is another):
                // a failure here is the caller's to report.
                setup.provider.refund(&refund).await?;
            }
            Settlement::Confirm | Settlement::AlreadyApplied => {}
        }
        Ok((reservation, settlement))
    }

    /// Applies a verified provider notification once: a succeeded payment
    /// settles its reservation, a failed one is recorded; payments this
    /// service did not open and other kinds are acknowledged and ignored.
    /// Returns what a succeeded payment did (for the caller to log a mismatch).
    pub async fn apply_provider_event(&self, event: ProviderEvent) -> Result<Option<Settlement>, DomainError> {
        let setup = self.setup()?;
        let provider = setup.provider.provider();
        if self.store.provider_event_seen(provider, &event.id).await? {
            return Ok(None);
        }
        let applied = match event.kind {
            ProviderEventKind::PaymentSucceeded(intent) if intent.reservation.is_some() => {
                self.settle(intent).await.map(|(_, settlement)| Some(settlement))
            }
            ProviderEventKind::PaymentFailed(intent) if intent.reservation.is_some() => {
                self.follow(&intent).await.map(|_| None)
            }
            _ => Ok(None),
        };
        let settlement = match applied {
            Ok(settlement) => settlement,
            // A reservation that is not (or no longer) in the store: nothing to do.
            Err(DomainError::NotFound(_)) => None,
            Err(error) => return Err(error),
        };
        self.store.record_provider_event(provider, &event.id, self.clock.now()).await?;
        Ok(settlement)
    }

    /// Gives back what reservation `id` owes, if its refund is pending and
    /// due. The refund is claimed under the lock first (for
    /// [`REFUND_LEASE`]), so two jobs or instances never both pay it back.
    /// Returns whether a refund was made.
    pub(super) async fn refund_now(&self, id: ReservationId) -> Result<bool, DomainError> {
        let setup = self.setup()?;
        let claimed = self
            .decide(id, |unit: &mut ReservationUnit, now| {
                let payment = &mut unit.reservation.payment;
                let due = payment.next_refund_at.is_none_or(|at| at <= now);
                let (PaymentStatus::RefundPending, Some(intent), true) = (payment.status, payment.intent.clone(), due)
                else {
                    return Ok(None);
                };
                payment.next_refund_at = Some(now + REFUND_LEASE);
                let request = RefundRequest { intent, amount: payment.owed(), reservation: id };
                unit.effects.save(&unit.reservation);
                Ok(Some(request))
            })
            .await?;
        let Some(request) = claimed else { return Ok(false) };
        let refunded = setup.provider.refund(&request).await;
        let done = matches!(&refunded, Ok(refund) if refund.succeeded);
        self.decide(id, move |unit: &mut ReservationUnit, now| {
            if unit.reservation.payment.status != PaymentStatus::RefundPending {
                return Ok(());
            }
            if done {
                unit.refunded(request.amount, now);
            } else {
                unit.reservation.payment.refund_failed(now);
                unit.effects.save(&unit.reservation);
            }
            Ok(())
        })
        .await?;
        refunded?;
        Ok(done)
    }

    /// Retries the refunds that are due (failed before, or never tried).
    pub async fn refund_due(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let due = self.store.refunds_due(self.clock.now(), batch).await?;
        let mut report = BatchReport::default();
        for id in due {
            match self.refund_now(id).await {
                Ok(true) => report.changed += 1,
                Ok(false) => {}
                Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
            }
        }
        Ok(report)
    }

    /// Asks the provider about payments that have waited over
    /// [`RECONCILE_AFTER`] for its word, and applies what it says (a lost
    /// webhook is found this way).
    pub async fn reconcile_payments(&self, batch: u32) -> Result<BatchReport, DomainError> {
        let setup = self.setup()?;
        let waiting = self.store.payments_awaiting_provider(self.clock.now() - RECONCILE_AFTER, batch).await?;
        let mut report = BatchReport::default();
        for (id, intent) in waiting {
            let checked = async {
                let intent = setup.provider.find_intent(&intent).await?;
                if intent.status == IntentStatus::Succeeded {
                    self.settle(intent).await.map(|_| true)
                } else {
                    self.follow(&intent).await.map(|_| false)
                }
            };
            match checked.await {
                Ok(true) => report.changed += 1,
                Ok(false) => {}
                Err(error) => report.failed.push(JobFailure { item: id.to_string(), error }),
            }
        }
        Ok(report)
    }
}
