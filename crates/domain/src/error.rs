//! The errors a use case can end with, in business terms. The API maps each
//! variant to a status and a stable `code` in one place.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::reservation::{CancelError, CheckInError, ConfirmError, ReservationStatus};
use crate::validation::ValidationErrors;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Validation(ValidationErrors),
    /// The actor's role may not do this (the message says what it may not).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("admins (studio and platform) cannot book; sign in as a customer")]
    BookingNotAllowed,
    #[error("someone is holding this auction")]
    AuctionOnHold,
    #[error("this auction is already booked")]
    AuctionAlreadyBooked,
    #[error("this auction has not started yet")]
    AuctionNotStarted,
    #[error("this auction is closed")]
    AuctionClosed,
    #[error("you already had a reservation on this auction")]
    RegrabNotAllowed,
    #[error("only a DRAFT auction can be edited")]
    AuctionNotEditable,
    #[error("this auction had reservations: cancel it instead")]
    AuctionHasReservations,
    #[error("turbo is already running")]
    TurboAlreadyActive,
    #[error("turbo is not available for this auction now")]
    TurboNotAvailable,
    #[error("only {available} seats are available")]
    InsufficientCapacity { available: u32 },
    #[error("you already hold seats for this event")]
    HoldAlreadyExists,
    #[error("you are already on this event's waiting list")]
    AlreadyWaiting,
    #[error("{available} seats are available: hold them instead of waiting")]
    SeatsAvailable { available: u32 },
    #[error("this event has started: it takes no more holds")]
    EventNotOpen,
    #[error("this event has live reservations")]
    EventHasReservations,
    #[error("this event was cancelled")]
    EventCancelled,
    #[error("capacity cannot go below the {reserved} seats already reserved")]
    CapacityBelowReserved { reserved: u32 },
    #[error("the hold expired before it was confirmed")]
    HoldExpired,
    #[error("a {0:?} reservation cannot do that")]
    InvalidState(ReservationStatus),
    #[error("bookings can only be cancelled until the cut-off before the session")]
    CancellationClosed,
    #[error("check-in is not open now: the session starts at {session_starts_at}")]
    CheckInNotOpen { session_starts_at: DateTime<Utc> },
    #[error("payments are not taken here: pay at the studio")]
    PaymentsDisabled,
    #[error("this hold is not paid yet: pay for it, then confirm")]
    PaymentRequired,
    #[error("the payment is still being processed; confirm again shortly")]
    PaymentProcessing,
    /// The provider refused the card or the request; its words for the customer.
    #[error("the payment was declined: {0}")]
    PaymentDeclined(String),
    #[error("the payment provider cannot be reached, retry shortly")]
    PaymentProviderUnavailable,
    #[error("the resource is busy, retry shortly")]
    Busy,
    #[error("the database cannot be reached, retry shortly")]
    Unavailable,
    /// The booking code drawn for a confirmation is already someone's; the
    /// service draws another and tries again.
    #[error("that booking code is already taken")]
    BookingCodeTaken,
    /// The change breaks a rule the database enforces that no domain rule
    /// caught first. The constraint's name is kept for the logs only: callers
    /// are told in plain words, never the names of tables or constraints.
    #[error("the change conflicts with data already stored; reload and try again")]
    Conflict(String),
    #[error("that user already administers another studio")]
    AlreadyAdministers,
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// Deleting this account would leave the platform with no platform admin.
    #[error("the last platform admin cannot delete their account; appoint another first")]
    LastPlatformAdmin,
    #[error("the refresh token is invalid, expired or revoked")]
    InvalidRefreshToken,
    #[error("this email is already registered")]
    EmailTaken,
    /// An emailed token (a verification or reset link, an invitation) that opens nothing.
    #[error("{}", token_problem(*.0))]
    TokenRejected(crate::account::mailbox::TokenProblem),
    #[error("this invitation was sent to another address: sign in with the address it was sent to")]
    InvitationForAnotherAddress,
    #[error("this email address is verified already")]
    EmailAlreadyVerified,
    #[error("you already have a price alert on this auction: remove it first")]
    PriceAlertExists,
    /// The store failed in a way no rule explains; the cause is kept for the logs.
    #[error("storage failure")]
    Storage(#[source] Cause),
    /// Hashing or checking a password failed (not the password being wrong).
    #[error("password hashing failed")]
    PasswordHashing(#[source] Cause),
    /// The operating system gave no randomness for a token or a code.
    #[error("no randomness available")]
    Randomness(#[source] Cause),
    /// Signing an access token failed.
    #[error("token signing failed")]
    TokenSigning(#[source] Cause),
}

fn token_problem(problem: crate::account::mailbox::TokenProblem) -> &'static str {
    use crate::account::mailbox::TokenProblem;
    match problem {
        TokenProblem::Unknown => "this link is not valid (it may have been replaced by a newer one)",
        TokenProblem::Expired => "this link has expired: ask for a new one",
        TokenProblem::Used => "this link was used already",
    }
}

/// The underlying error of an infrastructure failure: kept whole (with its own
/// source chain) for logging, shareable so that errors stay cheap to clone.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync + 'static>);

impl Cause {
    pub fn new(error: impl Error + Send + Sync + 'static) -> Cause {
        Cause(Arc::new(error))
    }

    /// A cause that is only a message (no underlying error value exists).
    pub fn message(message: impl Into<String>) -> Cause {
        Cause::new(Message(message.into()))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Causes compare by what they say: tests match errors, and two failures
/// with the same message are the same failure to a caller.
impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Message(String);

impl DomainError {
    /// A storage failure caused by `error`.
    pub fn storage(error: impl Error + Send + Sync + 'static) -> DomainError {
        DomainError::Storage(Cause::new(error))
    }

    /// A storage failure that only a message describes (a row that should
    /// exist and does not, a value out of range).
    pub fn storage_message(message: impl Into<String>) -> DomainError {
        DomainError::Storage(Cause::message(message))
    }

    /// The error and every cause under it, joined with `: `, for logs.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    pub fn validation(field: &str, message: &str) -> DomainError {
        DomainError::Validation(ValidationErrors::single(field, message))
    }
}

impl From<ValidationErrors> for DomainError {
    fn from(errors: ValidationErrors) -> Self {
        DomainError::Validation(errors)
    }
}

impl From<ConfirmError> for DomainError {
    fn from(error: ConfirmError) -> Self {
        match error {
            ConfirmError::HoldExpired => DomainError::HoldExpired,
            ConfirmError::InvalidState(status) => DomainError::InvalidState(status),
        }
    }
}

impl From<CancelError> for DomainError {
    fn from(error: CancelError) -> Self {
        match error {
            CancelError::CancellationClosed => DomainError::CancellationClosed,
            CancelError::InvalidState(status) => DomainError::InvalidState(status),
        }
    }
}

impl From<CheckInError> for DomainError {
    fn from(error: CheckInError) -> Self {
        match error {
            CheckInError::NotOpen { session_starts_at } => DomainError::CheckInNotOpen { session_starts_at },
            CheckInError::InvalidState(status) => DomainError::InvalidState(status),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infrastructure_failures_keep_their_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
        let error = DomainError::storage(io);
        let source = Error::source(&error).expect("a storage error has a source");
        assert_eq!(source.to_string(), "connection reset by peer");
        assert_eq!(error.chain(), "storage failure: connection reset by peer");
    }

    #[test]
    fn hashing_and_randomness_are_not_storage_failures() {
        let hashing = DomainError::PasswordHashing(Cause::message("cost out of range"));
        assert!(!matches!(hashing, DomainError::Storage(_)));
        assert_eq!(hashing.chain(), "password hashing failed: cost out of range");
        let randomness = DomainError::Randomness(Cause::message("getrandom: unavailable"));
        assert_eq!(randomness.to_string(), "no randomness available");
    }
}
