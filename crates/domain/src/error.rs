//! The errors a use case can end with, in business terms. The API maps each
//! variant to a status and a stable `code` in one place.

use crate::reservation::{CancelError, CheckInError, ConfirmError, ReservationStatus};
use crate::validation::ValidationErrors;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("studio admins cannot book")]
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
    #[error("turbo is already running")]
    TurboAlreadyActive,
    #[error("turbo is not available for this auction now")]
    TurboNotAvailable,
    #[error("only {available} seats are available")]
    InsufficientCapacity { available: u32 },
    #[error("you already hold seats for this event")]
    HoldAlreadyExists,
    #[error("this event is not open for booking")]
    EventNotOpen,
    #[error("this event has live reservations")]
    EventHasReservations,
    #[error("capacity cannot go below the {reserved} seats already reserved")]
    CapacityBelowReserved { reserved: u32 },
    #[error("the hold expired before it was confirmed")]
    HoldExpired,
    #[error("a {0:?} reservation cannot do that")]
    InvalidState(ReservationStatus),
    #[error("bookings can only be cancelled until the cut-off before the session")]
    CancellationClosed,
    #[error("the resource is busy, retry shortly")]
    Busy,
    #[error("the database cannot be reached, retry shortly")]
    Unavailable,
    /// The booking code drawn for a confirmation is already someone's; the
    /// service draws another and tries again.
    #[error("that booking code is already taken")]
    BookingCodeTaken,
    /// The change breaks a rule the database enforces that no domain rule
    /// caught first (named by its constraint).
    #[error("the change conflicts with stored data ({0})")]
    Conflict(String),
    #[error("that user already administers another studio")]
    AlreadyAdministers,
    #[error("the email or password is wrong")]
    InvalidCredentials,
    #[error("the refresh token is invalid, expired or revoked")]
    InvalidRefreshToken,
    #[error("this email is already registered")]
    EmailTaken,
    #[error("storage failure: {0}")]
    Storage(String),
}

impl DomainError {
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
            CheckInError::InvalidState(status) => DomainError::InvalidState(status),
        }
    }
}
