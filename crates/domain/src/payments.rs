//! Payments (SPEC §13): the port a card provider sits behind, in the
//! provider's neutral terms. Stripe is the first adapter (`infra-stripe`);
//! another provider (iyzico, say) implements the same trait without the
//! domain changing.
//!
//! The port is object-safe (boxed futures): the provider is chosen once at
//! start-up, its calls are few and never on the hot path, and none is ever
//! made while a row lock is held.

use std::fmt;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::ids::ReservationId;
use crate::money::Money;

/// The provider's id of one payment (a Stripe PaymentIntent's `pi_…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IntentId(pub String);

impl fmt::Display for IntentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a payment stands, in the provider's words made neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    /// Waiting for a card (or for its confirmation).
    RequiresPayment,
    /// The customer must act in the browser (3-D Secure).
    RequiresAction,
    /// The provider has not decided yet.
    Processing,
    Succeeded,
    /// Given up: nothing will be charged.
    Canceled,
}

impl IntentStatus {
    /// The provider's last word: nothing more will happen by itself.
    pub fn is_final(self) -> bool {
        matches!(self, IntentStatus::Succeeded | IntentStatus::Canceled)
    }
}

/// One payment as the provider holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: IntentId,
    /// What the browser needs to finish the payment; never logged.
    pub client_secret: String,
    pub status: IntentStatus,
    pub amount: Money,
    /// ISO 4217, upper case (`TRY`).
    pub currency: String,
    /// The reservation it pays for, from the intent's metadata (`None` for
    /// intents this service did not create).
    pub reservation: Option<ReservationId>,
}

impl Intent {
    /// Whether this intent pays exactly `amount` in `currency` for `reservation`.
    pub fn pays_for(&self, reservation: ReservationId, amount: Money, currency: &str) -> bool {
        self.reservation == Some(reservation) && self.amount == amount && self.currency.eq_ignore_ascii_case(currency)
    }
}

/// A payment to open for a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntent {
    pub reservation: ReservationId,
    pub amount: Money,
    pub currency: String,
}

impl NewIntent {
    /// The provider's idempotency key: one per reservation, so a retried
    /// request never opens a second payment.
    pub fn idempotency_key(&self) -> String {
        format!("hothour-reservation-{}-payment", self.reservation.0)
    }
}

/// A refund of (part of) a succeeded payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub intent: IntentId,
    pub amount: Money,
    pub reservation: ReservationId,
}

impl RefundRequest {
    /// One key per reservation's refund: a retried refund never pays back twice.
    pub fn idempotency_key(&self) -> String {
        format!("hothour-reservation-{}-refund-{}", self.reservation.0, self.amount.minor_units())
    }
}

/// A refund as the provider answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub amount: Money,
    pub succeeded: bool,
}

/// Why a provider call did not give an answer to act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentsError {
    /// Unreachable, timed out or failing on its side: try again later.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (a declined card, a bad state).
    #[error("the payment provider refused: {message}")]
    Refused { code: Option<String>, message: String },
    /// No such payment at the provider.
    #[error("the payment provider knows no payment {0}")]
    UnknownIntent(IntentId),
}

/// A provider's notification (a webhook), once its signature is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id: each is applied once.
    pub id: String,
    pub kind: ProviderEventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEventKind {
    /// A payment succeeded (Stripe's `payment_intent.succeeded`).
    PaymentSucceeded(Intent),
    /// A payment failed; the customer may try another card.
    PaymentFailed(Intent),
    /// Anything else: acknowledged and ignored.
    Other(String),
}

/// A card payment provider.
pub trait Payments: Send + Sync {
    /// The provider's name as `/api/v1/config` gives it (`stripe`).
    fn provider(&self) -> &'static str;

    /// Opens the reservation's payment, or returns the one already opened
    /// under the same idempotency key.
    fn create_intent<'a>(&'a self, intent: &'a NewIntent) -> BoxFuture<'a, Result<Intent, PaymentsError>>;

    fn find_intent<'a>(&'a self, id: &'a IntentId) -> BoxFuture<'a, Result<Intent, PaymentsError>>;

    /// Attaches a card (a `card_…` or `pm_…` id from the browser) and
    /// confirms the payment server-side; the answer may require action.
    fn pay_with<'a>(&'a self, id: &'a IntentId, method: &'a str) -> BoxFuture<'a, Result<Intent, PaymentsError>>;

    fn refund<'a>(&'a self, refund: &'a RefundRequest) -> BoxFuture<'a, Result<Refund, PaymentsError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(reservation: Option<i64>, amount: &str, currency: &str) -> Intent {
        Intent {
            id: IntentId("pi_1".into()),
            client_secret: "secret".into(),
            status: IntentStatus::Succeeded,
            amount: Money::parse(amount).unwrap(),
            currency: currency.into(),
            reservation: reservation.map(ReservationId),
        }
    }

    #[test]
    fn an_intent_pays_only_for_its_reservation_amount_and_currency() {
        let price = Money::parse("300.00").unwrap();
        assert!(intent(Some(7), "300.00", "try").pays_for(ReservationId(7), price, "TRY"));
        assert!(!intent(Some(8), "300.00", "TRY").pays_for(ReservationId(7), price, "TRY"));
        assert!(!intent(Some(7), "299.99", "TRY").pays_for(ReservationId(7), price, "TRY"));
        assert!(!intent(Some(7), "300.00", "EUR").pays_for(ReservationId(7), price, "TRY"));
        assert!(!intent(None, "300.00", "TRY").pays_for(ReservationId(7), price, "TRY"));
    }

    #[test]
    fn idempotency_keys_are_one_per_reservation() {
        let new = |id| NewIntent { reservation: ReservationId(id), amount: Money::ZERO, currency: "TRY".into() };
        assert_eq!(new(7).idempotency_key(), new(7).idempotency_key());
        assert_ne!(new(7).idempotency_key(), new(8).idempotency_key());
    }
}
