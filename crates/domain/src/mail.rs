//! Email (SPEC §14): what a decision records to be told (a [`Mail`], an
//! effect stored in the decision's own transaction, once per cause,
//! recipient and kind), the ports it leaves through ([`MailOutbox`] keeps
//! the rows, a [`Mailer`] delivers them), and the sender's rules: a claim
//! with a lease, retries with back-off, a dead letter after the last try.
//!
//! A sender that dies between claiming a message and marking it sent leaves
//! it to be claimed again once its lease lapses: a message may go twice
//! (with the same `Message-ID`, so the resend is recognisable), never not at all.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::account::Locale;
use crate::alerts::PriceAlertSnapshot;
use crate::error::DomainError;
use crate::ids::{StudioId, UserId};
use crate::reservation::{CancelledBy, Reservation, ReservationSnapshot};

/// What a message is about: its kind, and what its template needs to know
/// of the decision that caused it, as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A hold became a booking (confirmed, or paid).
    BookingConfirmed { reservation: ReservationSnapshot },
    /// A booking was cancelled, by its owner or by the studio.
    BookingCancelled { reservation: ReservationSnapshot, by: CancelledBy },
    /// The studio called the session off (an event, or an auction's slot):
    /// the booking went with it.
    SessionCancelled { reservation: ReservationSnapshot },
    /// Prove the address: a link with the single-use token `token_id`.
    VerifyEmail { token_id: i64, token: String, expires_at: DateTime<Utc> },
    /// Choose a new password: a link with the single-use token `token_id`.
    PasswordReset { token_id: i64, token: String, expires_at: DateTime<Utc> },
    /// Become an admin of studio `studio_id`: a link with the invitation's token.
    StudioInvitation { invitation_id: i64, token: String, studio_id: StudioId, expires_at: DateTime<Utc> },
    /// A booking's session starts soon (`Policy::reminder_before`).
    BookingReminder { reservation: ReservationSnapshot },
    /// An auction's price reached what the user waited for.
    PriceAlert { alert: PriceAlertSnapshot },
    /// Seats came back to a full event: the waiter was offered a hold of
    /// them, to confirm (or pay) before it lapses.
    WaitlistOffer { reservation: ReservationSnapshot },
    /// Money went back to the payer's card: recorded whenever a refund of a
    /// reservation's payment succeeds (after a cancellation, which said it
    /// *will* be refunded, this says it *has* been; after a payment that came
    /// too late for its hold, it is the only word the payer gets).
    PaymentRefunded { reservation: ReservationSnapshot },
}

/// The name of the field of a [`Notice`] that carries a secret (an emailed
/// token). The outbox erases it once the message is sent or given up on: the
/// store keeps only its hash, so a copy of the outbox opens nothing.
pub const SECRET_FIELD: &str = "token";

/// The kinds of message, as the outbox names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    BookingConfirmed,
    BookingCancelled,
    SessionCancelled,
    VerifyEmail,
    PasswordReset,
    StudioInvitation,
    BookingReminder,
    PriceAlert,
    WaitlistOffer,
    PaymentRefunded,
}

impl MailKind {
    pub const ALL: [MailKind; 10] = [
        MailKind::BookingConfirmed,
        MailKind::BookingCancelled,
        MailKind::SessionCancelled,
        MailKind::VerifyEmail,
        MailKind::PasswordReset,
        MailKind::StudioInvitation,
        MailKind::BookingReminder,
        MailKind::PriceAlert,
        MailKind::WaitlistOffer,
        MailKind::PaymentRefunded,
    ];

    /// The kinds a user may stop with one click (`List-Unsubscribe`): what
    /// they asked for or what merely reminds, never what tells of a change.
    pub const OPTIONAL: [MailKind; 2] = [MailKind::BookingReminder, MailKind::PriceAlert];

    pub fn is_optional(self) -> bool {
        Self::OPTIONAL.contains(&self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::BookingConfirmed => "booking_confirmed",
            MailKind::BookingCancelled => "booking_cancelled",
            MailKind::SessionCancelled => "session_cancelled",
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::StudioInvitation => "studio_invitation",
            MailKind::BookingReminder => "booking_reminder",
            MailKind::PriceAlert => "price_alert",
            MailKind::WaitlistOffer => "waitlist_offer",
            MailKind::PaymentRefunded => "payment_refunded",
        }
    }

    pub fn parse(value: &str) -> Option<MailKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

impl Notice {
    pub fn booking_confirmed(reservation: &Reservation, now: DateTime<Utc>) -> Notice {
        Notice::BookingConfirmed { reservation: reservation.snapshot(now) }
    }

    pub fn booking_cancelled(reservation: &Reservation, by: CancelledBy, now: DateTime<Utc>) -> Notice {
        Notice::BookingCancelled { reservation: reservation.snapshot(now), by }
    }

    pub fn session_cancelled(reservation: &Reservation, now: DateTime<Utc>) -> Notice {
        Notice::SessionCancelled { reservation: reservation.snapshot(now) }
    }

    pub fn booking_reminder(reservation: &Reservation, now: DateTime<Utc>) -> Notice {
        Notice::BookingReminder { reservation: reservation.snapshot(now) }
    }

    pub fn waitlist_offer(hold: &Reservation, now: DateTime<Utc>) -> Notice {
        Notice::WaitlistOffer { reservation: hold.snapshot(now) }
    }

    pub fn payment_refunded(reservation: &Reservation, now: DateTime<Utc>) -> Notice {
        Notice::PaymentRefunded { reservation: reservation.snapshot(now) }
    }

    pub fn kind(&self) -> MailKind {
        match self {
            Notice::BookingConfirmed { .. } => MailKind::BookingConfirmed,
            Notice::BookingCancelled { .. } => MailKind::BookingCancelled,
            Notice::SessionCancelled { .. } => MailKind::SessionCancelled,
            Notice::VerifyEmail { .. } => MailKind::VerifyEmail,
            Notice::PasswordReset { .. } => MailKind::PasswordReset,
            Notice::StudioInvitation { .. } => MailKind::StudioInvitation,
            Notice::BookingReminder { .. } => MailKind::BookingReminder,
            Notice::PriceAlert { .. } => MailKind::PriceAlert,
            Notice::WaitlistOffer { .. } => MailKind::WaitlistOffer,
            Notice::PaymentRefunded { .. } => MailKind::PaymentRefunded,
        }
    }

    /// The reservation it is about, as it was then, if it is about one.
    pub fn reservation(&self) -> Option<&ReservationSnapshot> {
        match self {
            Notice::BookingConfirmed { reservation }
            | Notice::BookingCancelled { reservation, .. }
            | Notice::SessionCancelled { reservation }
            | Notice::BookingReminder { reservation }
            | Notice::WaitlistOffer { reservation }
            | Notice::PaymentRefunded { reservation } => Some(reservation),
            Notice::VerifyEmail { .. }
            | Notice::PasswordReset { .. }
            | Notice::StudioInvitation { .. }
            | Notice::PriceAlert { .. } => None,
        }
    }

    /// What caused it, e.g. `reservation:42` or `alert:7`: with the
    /// recipient and the kind, what makes a message one of a kind (recorded
    /// twice, kept once). Each emailed token is a cause of its own, so a
    /// resent link is a new message.
    pub fn cause(&self) -> String {
        match self {
            Notice::BookingConfirmed { reservation }
            | Notice::BookingCancelled { reservation, .. }
            | Notice::SessionCancelled { reservation }
            | Notice::BookingReminder { reservation }
            | Notice::WaitlistOffer { reservation }
            | Notice::PaymentRefunded { reservation } => reservation.id.to_string(),
            Notice::PriceAlert { alert } => alert.id.to_string(),
            Notice::VerifyEmail { token_id, .. } | Notice::PasswordReset { token_id, .. } => {
                format!("account_token:{token_id}")
            }
            Notice::StudioInvitation { invitation_id, .. } => format!("invitation:{invitation_id}"),
        }
    }
}

/// Who a message is for: a user (written to at their address, in their
/// language, as they are when it is sent), or an address that may belong to
/// no account yet, with the language to write in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    User(UserId),
    Address { email: String, locale: Locale },
}

impl Recipient {
    /// The user it is, if it is one.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Recipient::User(user) => Some(*user),
            Recipient::Address { .. } => None,
        }
    }
}

impl From<UserId> for Recipient {
    fn from(user: UserId) -> Recipient {
        Recipient::User(user)
    }
}

/// A message a decision records, to be sent after its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub recipient: Recipient,
    pub notice: Notice,
}

/// A recorded message, claimed by a sender.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMail {
    /// The outbox row's id (the `Message-ID` is made of it).
    pub id: i64,
    pub recipient: Recipient,
    pub kind: String,
    pub cause: String,
    /// The [`Notice`] as stored; read with [`QueuedMail::notice`].
    pub payload: serde_json::Value,
    /// Claims so far, this one included.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// Until when this claim is the claimer's alone; names the claim too.
    pub lease_until: DateTime<Utc>,
}

impl QueuedMail {
    /// The notice as recorded; an error when the row cannot be read (it is
    /// then a dead letter: no retry will read it better).
    pub fn notice(&self) -> Result<Notice, String> {
        serde_json::from_value(self.payload.clone())
            .map_err(|error| format!("unreadable {} message: {error}", self.kind))
    }
}

/// What became of a claimed message that was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailFailure {
    /// Try again at this instant.
    RetryAt(DateTime<Utc>),
    /// Never again: out of tries, or refused for good.
    Dead,
}

/// The mail outbox: rows written by decisions (see [`crate::Effects::mail`]),
/// claimed and settled by senders on any number of instances.
pub trait MailOutbox: Send + Sync {
    /// Claims up to `limit` messages due at `now` (pending, never claimed or
    /// whose retry time or lease has passed), oldest first, until
    /// `lease_until`, counting a try each. Two senders never claim the same
    /// message while its lease holds.
    fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<QueuedMail>, DomainError>> + Send;

    /// Marks message `id` sent at `at`.
    fn mail_sent(&self, id: i64, at: DateTime<Utc>) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// Records why message `id` was not sent and what happens next, unless
    /// another sender has claimed it since (`lease_until` names the claim).
    fn mail_failed(
        &self,
        id: i64,
        lease_until: DateTime<Utc>,
        failure: MailFailure,
        error: &str,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// A message ready to go: addressed, rendered, with its stable id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Without angle brackets: `hothour-mail-42@example.com`.
    pub message_id: String,
    /// `Name <address>` or a bare address.
    pub from: String,
    pub to_name: String,
    pub to_address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// The one-click unsubscribe link of a message one may stop (sent as
    /// `List-Unsubscribe` with `List-Unsubscribe-Post`, RFC 8058).
    pub unsubscribe_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// `text/calendar; method=PUBLISH`, say.
    pub content_type: String,
    pub content: Vec<u8>,
    /// `Some` for an image the HTML shows inline (`<img src="cid:…">`), sent
    /// beside the HTML part under this `Content-ID` rather than as a file.
    pub content_id: Option<String>,
}

/// Why a message did not leave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The server is down, busy or said "try later" (4xx): retried with back-off.
    #[error("mail could not be sent now: {0}")]
    Temporary(String),
    /// The server refused this message for good (5xx: no such mailbox, …).
    #[error("mail was refused: {0}")]
    Permanent(String),
}

/// Where messages leave: an SMTP server, or files. Object-safe: chosen once
/// at start-up.
pub trait Mailer: Send + Sync {
    /// Where it delivers, for the log (`smtp://mail.example.com:587`, `files in data/mail`).
    fn describe(&self) -> String;

    fn send<'a>(&'a self, mail: &'a OutgoingMail) -> BoxFuture<'a, Result<(), MailError>>;
}

/// How a sender treats its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailPolicy {
    /// Claims of one message before it is a dead letter.
    pub max_attempts: u32,
    /// How long a claim is its sender's alone (longer than a batch takes to send).
    pub lease: Duration,
    /// The wait after the first failure; each further one doubles it, up to [`MailPolicy::max_backoff`].
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for MailPolicy {
    fn default() -> Self {
        MailPolicy {
            max_attempts: 10,
            lease: Duration::minutes(10),
            first_backoff: Duration::seconds(30),
            max_backoff: Duration::hours(1),
        }
    }
}

impl MailPolicy {
    /// What follows the failure of try number `attempts` (1 for the first) at `now`.
    pub fn after_failure(&self, attempts: u32, permanent: bool, now: DateTime<Utc>) -> MailFailure {
        if permanent || attempts >= self.max_attempts {
            return MailFailure::Dead;
        }
        let doublings = attempts.saturating_sub(1).min(20);
        let wait = self.first_backoff.checked_mul(1 << doublings).unwrap_or(self.max_backoff).min(self.max_backoff);
        MailFailure::RetryAt(now + wait)
    }
}

/// Why a claimed message could not be made ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeError {
    /// A passing failure (the database busy or down): retried.
    Temporary(String),
    /// It never will be (its recipient or session gone, an unreadable row).
    Permanent(String),
}

impl From<DomainError> for ComposeError {
    fn from(error: DomainError) -> ComposeError {
        match error {
            DomainError::Busy | DomainError::Unavailable | DomainError::Storage(_) => {
                ComposeError::Temporary(error.to_string())
            }
            other => ComposeError::Permanent(other.to_string()),
        }
    }
}

/// What one round of the sender did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Not sent this time, to be retried.
    pub retried: usize,
    /// Given up on.
    pub dead: usize,
    /// `(outbox id, why)` of each message not sent.
    pub failures: Vec<(i64, String)>,
}

/// One round of the sender: claims what is due, makes each message ready
/// with `compose`, sends it through `mailer` and records the outcome. No
/// row lock is held while a message is composed or sent.
pub async fn deliver_due<O, F, Fut>(
    outbox: &O,
    mailer: &dyn Mailer,
    policy: &MailPolicy,
    now: impl Fn() -> DateTime<Utc>,
    limit: u32,
    compose: F,
) -> Result<DeliveryReport, DomainError>
where
    O: MailOutbox,
    F: Fn(QueuedMail) -> Fut,
    Fut: Future<Output = Result<OutgoingMail, ComposeError>>,
{
    let claimed_at = now();
    let claimed = outbox.claim_mail(claimed_at, claimed_at + policy.lease, limit).await?;
    let mut report = DeliveryReport::default();
    for queued in claimed {
        let (id, attempts, lease_until) = (queued.id, queued.attempts, queued.lease_until);
        let outcome = match compose(queued).await {
            Ok(mail) => mailer.send(&mail).await.map_err(|error| match error {
                MailError::Temporary(why) => (false, why),
                MailError::Permanent(why) => (true, why),
            }),
            Err(ComposeError::Temporary(why)) => Err((false, why)),
            Err(ComposeError::Permanent(why)) => Err((true, why)),
        };
        match outcome {
            Ok(()) => {
                outbox.mail_sent(id, now()).await?;
                report.sent += 1;
            }
            Err((permanent, why)) => {
                let failure = policy.after_failure(attempts, permanent, now());
                if failure == MailFailure::Dead {
                    report.dead += 1;
                } else {
                    report.retried += 1;
                }
                outbox.mail_failed(id, lease_until, failure, &why).await?;
                report.failures.push((id, why));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
