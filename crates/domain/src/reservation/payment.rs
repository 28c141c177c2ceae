//! A reservation's payment (SPEC §13): what the provider's word does to it.
//!
//! ```text
//! none ──checkout──▶ requires_payment ──provider: processing──▶ processing
//!                        │    └──────provider: succeeded──────▶ succeeded ──cancel──▶ refund_pending
//!                        │         (hold lapsed, cancelled, or the amount wrong) ──▶ refund_pending
//!                        └──provider: canceled──▶ failed          refund_pending ──refund──▶ refunded
//! ```
//! Money that arrives for a reservation that cannot take it never stays: it
//! goes to `refund_pending`, and a refund (retried with back-off) ends it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::payments::{Intent, IntentId, IntentStatus};

/// Where a reservation's payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// No payment asked for (payments off, or not started).
    #[default]
    None,
    RequiresPayment,
    Processing,
    Succeeded,
    /// Money to give back; a refund is on its way (or will be retried).
    RefundPending,
    Refunded,
    /// The provider gave up on the payment; nothing was charged.
    Failed,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::None,
        PaymentStatus::RequiresPayment,
        PaymentStatus::Processing,
        PaymentStatus::Succeeded,
        PaymentStatus::RefundPending,
        PaymentStatus::Refunded,
        PaymentStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::None => "none",
            PaymentStatus::RequiresPayment => "requires_payment",
            PaymentStatus::Processing => "processing",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::RefundPending => "refund_pending",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<PaymentStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == value)
    }

    /// Waiting for the provider's last word (what reconciliation asks about).
    pub fn awaits_provider(self) -> bool {
        matches!(self, PaymentStatus::RequiresPayment | PaymentStatus::Processing)
    }
}

/// A reservation's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub status: PaymentStatus,
    /// The provider's payment, once opened.
    pub intent: Option<IntentId>,
    /// What was paid (zero until it succeeds).
    pub amount: Money,
    pub refunded_amount: Money,
    /// Failed refund attempts so far, and when to try again.
    pub refund_attempts: u32,
    pub next_refund_at: Option<DateTime<Utc>>,
}

impl Default for Payment {
    fn default() -> Payment {
        Payment {
            status: PaymentStatus::None,
            intent: None,
            amount: Money::ZERO,
            refunded_amount: Money::ZERO,
            refund_attempts: 0,
            next_refund_at: None,
        }
    }
}

/// A reservation's payment as answers and live frames show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSummary {
    pub status: PaymentStatus,
    /// What was paid.
    pub amount: Money,
    pub refunded_amount: Money,
}

impl Default for PaymentSummary {
    fn default() -> PaymentSummary {
        PaymentSummary { status: PaymentStatus::None, amount: Money::ZERO, refunded_amount: Money::ZERO }
    }
}

impl Payment {
    pub fn summary(&self) -> PaymentSummary {
        PaymentSummary { status: self.status, amount: self.amount, refunded_amount: self.refunded_amount }
    }
}

/// Why money that arrived is going back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundReason {
    /// The hold lapsed (or its seats were taken) before the payment arrived.
    HoldLapsed,
    /// The reservation was cancelled, before or after it was paid.
    Cancelled,
    /// The amount, currency or reservation do not match what was asked.
    Mismatch,
}

/// What a succeeded payment does to the reservation it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Confirm the hold: the money is in.
    Confirm,
    /// Already applied (a second webhook, or the client's confirm after it).
    AlreadyApplied,
    /// Give the money back; the reservation keeps track until it is.
    Refund(RefundReason),
    /// A second payment for a reservation that has one (or needs none):
    /// give it back at once; the reservation's own payment is untouched.
    RefundExtra,
}

/// The first retry waits this long; each next one twice as long, up to [`MAX_REFUND_BACKOFF`].
pub const FIRST_REFUND_BACKOFF: Duration = Duration::minutes(1);
pub const MAX_REFUND_BACKOFF: Duration = Duration::hours(1);

impl Payment {
    /// Records the provider's payment opened for this reservation.
    pub fn open(&mut self, intent: IntentId) {
        if self.intent.is_none() {
            self.intent = Some(intent);
            self.status = PaymentStatus::RequiresPayment;
        }
    }

    /// Follows the provider's word on a payment that has not succeeded.
    pub fn follow(&mut self, intent: &Intent) {
        if self.intent.as_ref() != Some(&intent.id) || !self.status.awaits_provider() {
            return;
        }
        self.status = match intent.status {
            IntentStatus::RequiresPayment | IntentStatus::RequiresAction => PaymentStatus::RequiresPayment,
            IntentStatus::Processing => PaymentStatus::Processing,
            IntentStatus::Canceled => PaymentStatus::Failed,
            IntentStatus::Succeeded => return,
        };
    }

    /// The money is in and kept.
    pub fn succeed(&mut self, intent: &Intent) {
        self.intent = Some(intent.id.clone());
        self.status = PaymentStatus::Succeeded;
        self.amount = intent.amount;
    }

    /// The money is in but goes back.
    pub fn refund_all(&mut self, intent: &Intent) {
        self.succeed(intent);
        self.start_refund();
    }

    /// A kept payment is to be given back (its booking was cancelled). True when there is money to return.
    pub fn start_refund(&mut self) -> bool {
        if self.status != PaymentStatus::Succeeded {
            return false;
        }
        self.status = PaymentStatus::RefundPending;
        self.refund_attempts = 0;
        self.next_refund_at = None;
        true
    }

    pub fn refunded(&mut self, amount: Money) {
        self.status = PaymentStatus::Refunded;
        self.refunded_amount = amount;
        self.next_refund_at = None;
    }

    /// A refund failed at `now`: try again later, waiting longer each time.
    pub fn refund_failed(&mut self, now: DateTime<Utc>) {
        let wait = FIRST_REFUND_BACKOFF
            .checked_mul(1 << self.refund_attempts.min(16))
            .map_or(MAX_REFUND_BACKOFF, |wait| wait.min(MAX_REFUND_BACKOFF));
        self.refund_attempts += 1;
        self.next_refund_at = Some(now + wait);
    }

    /// What is still to be given back.
    pub fn owed(&self) -> Money {
        self.amount.saturating_sub(self.refunded_amount)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::ReservationId;

    fn intent(id: &str, status: IntentStatus) -> Intent {
        Intent {
            id: IntentId(id.into()),
            client_secret: String::new(),
            status,
            amount: Money::parse("300.00").unwrap(),
            currency: "TRY".into(),
            reservation: Some(ReservationId(1)),
        }
    }

    #[test]
    fn a_payment_is_opened_once() {
        let mut payment = Payment::default();
        payment.open(IntentId("pi_1".into()));
        payment.open(IntentId("pi_2".into()));
        assert_eq!(payment.intent, Some(IntentId("pi_1".into())));
        assert_eq!(payment.status, PaymentStatus::RequiresPayment);
    }

    #[test]
    fn the_providers_word_moves_a_waiting_payment_only() {
        let mut payment = Payment::default();
        payment.open(IntentId("pi_1".into()));
        payment.follow(&intent("pi_1", IntentStatus::Processing));
        assert_eq!(payment.status, PaymentStatus::Processing);
        payment.follow(&intent("pi_other", IntentStatus::Canceled));
        assert_eq!(payment.status, PaymentStatus::Processing, "another intent says nothing of this one");
        payment.follow(&intent("pi_1", IntentStatus::Canceled));
        assert_eq!(payment.status, PaymentStatus::Failed);
        payment.succeed(&intent("pi_1", IntentStatus::Succeeded));
        payment.follow(&intent("pi_1", IntentStatus::RequiresPayment));
        assert_eq!(payment.status, PaymentStatus::Succeeded, "a succeeded payment does not go back");
    }

    #[test]
    fn only_kept_money_is_refunded_and_then_it_is_owed_no_more() {
        let mut payment = Payment::default();
        assert!(!payment.start_refund());
        payment.refund_all(&intent("pi_1", IntentStatus::Succeeded));
        assert_eq!(payment.status, PaymentStatus::RefundPending);
        assert_eq!(payment.owed(), Money::parse("300.00").unwrap());
        payment.refunded(Money::parse("300.00").unwrap());
        assert_eq!((payment.status, payment.owed()), (PaymentStatus::Refunded, Money::ZERO));
    }

    #[test]
    fn a_failed_refund_waits_twice_as_long_each_time_up_to_an_hour() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        let mut payment = Payment::default();
        let mut waits = Vec::new();
        for _ in 0..10 {
            payment.refund_failed(now);
            waits.push((payment.next_refund_at.unwrap() - now).num_minutes());
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(payment.refund_attempts, 10);
    }

    #[test]
    fn every_status_has_one_name() {
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
