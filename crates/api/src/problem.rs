//! RFC 9457 problem+json answers, each with a stable `code`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use hothour_domain::DomainError;
use serde::Serialize;

/// An RFC 9457 problem: `code` is stable and meant for programs, `detail` for people.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    /// Messages per invalid field, on `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://hothour.example/problems/{}", code.replace('_', "-")),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            errors: None,
            retry_after: None,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(self)
    }
}

impl From<DomainError> for Problem {
    fn from(error: DomainError) -> Problem {
        use DomainError as E;
        let detail = error.to_string();
        let (status, code) = match &error {
            E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::Validation(errors) => {
                let mut problem =
                    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "the request is invalid");
                problem.errors = Some(errors.fields().clone());
                return problem;
            }
            E::BookingNotAllowed => (StatusCode::FORBIDDEN, "booking_not_allowed"),
            E::AuctionOnHold => (StatusCode::CONFLICT, "auction_on_hold"),
            E::AuctionAlreadyBooked => (StatusCode::CONFLICT, "auction_already_booked"),
            E::AuctionNotStarted => (StatusCode::CONFLICT, "auction_not_started"),
            E::AuctionClosed => (StatusCode::CONFLICT, "auction_closed"),
            E::RegrabNotAllowed => (StatusCode::CONFLICT, "regrab_not_allowed"),
            E::AuctionNotEditable => (StatusCode::CONFLICT, "auction_not_editable"),
            E::TurboAlreadyActive => (StatusCode::CONFLICT, "turbo_already_active"),
            E::TurboNotAvailable => (StatusCode::CONFLICT, "turbo_not_available"),
            E::InsufficientCapacity { .. } => (StatusCode::CONFLICT, "insufficient_capacity"),
            E::HoldAlreadyExists => (StatusCode::CONFLICT, "hold_already_exists"),
            E::EventNotOpen => (StatusCode::CONFLICT, "event_not_open"),
            E::EventHasReservations => (StatusCode::CONFLICT, "event_has_reservations"),
            E::CapacityBelowReserved { .. } => (StatusCode::CONFLICT, "capacity_below_reserved"),
            E::HoldExpired => (StatusCode::CONFLICT, "hold_expired"),
            E::InvalidState(_) => (StatusCode::CONFLICT, "invalid_state"),
            E::CancellationClosed => (StatusCode::CONFLICT, "cancellation_closed"),
            E::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            E::AlreadyAdministers => (StatusCode::CONFLICT, "already_administers_a_studio"),
            E::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            E::InvalidRefreshToken => (StatusCode::UNAUTHORIZED, "invalid_refresh_token"),
            E::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            // Only after several fresh codes were all taken: retrying is the remedy.
            E::Busy | E::BookingCodeTaken => {
                let detail = DomainError::Busy.to_string();
                let mut problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", detail);
                problem.retry_after = Some(1);
                return problem;
            }
            E::Unavailable => {
                let mut problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail);
                problem.retry_after = Some(2);
                return problem;
            }
            E::Storage(_) => {
                // The cause was logged where it happened; callers get no internals.
                return Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side");
            }
        };
        Problem::new(status, code, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_keep_stable_codes() {
        let problem = Problem::from(DomainError::AuctionOnHold);
        assert_eq!((problem.status, problem.code.as_str()), (409, "auction_on_hold"));
        let problem = Problem::from(DomainError::validation("quantity", "must be between 1 and 10"));
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors.unwrap()["quantity"], vec!["must be between 1 and 10".to_owned()]);
        let problem = Problem::from(DomainError::Storage("connection reset by 10.0.0.7".into()));
        assert!(!problem.detail.contains("10.0.0.7"));
        assert_eq!(Problem::from(DomainError::Busy).retry_after, Some(1));
        let problem = Problem::from(DomainError::Unavailable);
        assert_eq!((problem.status, problem.code.as_str(), problem.retry_after), (503, "unavailable", Some(2)));
    }
}
