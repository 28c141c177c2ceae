//! RFC 9457 problem+json answers, each with a stable `code`.
//!
//! [`ProblemCode`] is the one list of codes the HTTP API answers: the OpenAPI
//! document enumerates it, and `docs/errors.md` (the error catalogue) is
//! written from it (`hothour errors`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use hothour_domain::DomainError;
use hothour_domain::account::mailbox::TokenProblem;
use serde::{Deserialize, Serialize};

/// Where the error catalogue is published; a problem's `type` is this URL
/// with the code as its fragment (`docs/errors.md` has one heading per code).
pub const CATALOGUE_URL: &str = "https://hothour.dev/errors";

macro_rules! problem_codes {
    ($($variant:ident = $code:literal, $status:literal, $retry:expr, $meaning:literal;)*) => {
        /// Every machine-readable `code` an HTTP answer can carry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ProblemCode {
            $(#[doc = $meaning] $variant,)*
        }

        impl ProblemCode {
            pub const ALL: &[ProblemCode] = &[$(ProblemCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(ProblemCode::$variant => $code,)* }
            }

            /// The status this code is answered with.
            pub fn status(self) -> u16 {
                match self { $(ProblemCode::$variant => $status,)* }
            }

            /// What it means, for people.
            pub fn meaning(self) -> &'static str {
                match self { $(ProblemCode::$variant => $meaning,)* }
            }

            /// Whether and when a client should send the same request again.
            pub fn retry(self) -> Retry {
                match self { $(ProblemCode::$variant => $retry,)* }
            }
        }
    };
}

/// Retry advice for a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The same request will fail the same way; change it (or the state) first.
    No,
    /// Retry after the `Retry-After` header's seconds.
    AfterRetryAfter,
    /// Retry after refreshing the access token, or signing in again.
    AfterSignIn,
    /// Retry later with the same `Idempotency-Key`.
    SameKeyLater,
    /// Retry with backoff; it may be a passing fault.
    WithBackoff,
}

impl Retry {
    pub fn advice(self) -> &'static str {
        match self {
            Retry::No => "No: change the request (or wait for the state to change) first.",
            Retry::AfterRetryAfter => "Yes, after the seconds in the `Retry-After` header.",
            Retry::AfterSignIn => "After refreshing the access token (`POST /auth/refresh`) or signing in again.",
            Retry::SameKeyLater => {
                "Yes, with the same `Idempotency-Key`, after a short wait: the first answer is then replayed."
            }
            Retry::WithBackoff => "Yes, with exponential backoff; report it if it persists.",
        }
    }
}

problem_codes! {
    ValidationFailed = "validation_failed", 422, Retry::No,
        "A field (or query parameter, or header) is invalid; `errors` names each one with its messages. Unknown body fields are refused too.";
    MalformedJson = "malformed_json", 400, Retry::No, "The body is not valid JSON.";
    BadBody = "bad_body", 400, Retry::No, "The body could not be read.";
    BadRequest = "bad_request", 400, Retry::No, "The request could not be understood.";
    PayloadTooLarge = "payload_too_large", 413, Retry::No, "The body is larger than 64 KiB.";
    UnsupportedMediaType = "unsupported_media_type", 415, Retry::No, "A body was sent that is not `application/json`.";
    Unauthorized = "unauthorized", 401, Retry::AfterSignIn,
        "No valid access token: missing, malformed or expired.";
    TokenRevoked = "token_revoked", 401, Retry::AfterSignIn,
        "The access token was issued before its user signed out everywhere or changed the password: sign in again.";
    InvalidCredentials = "invalid_credentials", 401, Retry::No, "Wrong email or password.";
    LastPlatformAdmin = "last_platform_admin", 409, Retry::No,
        "The only platform admin cannot delete their account: appoint another platform admin first.";
    InvalidRefreshToken = "invalid_refresh_token", 401, Retry::No,
        "The refresh token is unknown, expired, revoked or already used (reuse revokes its whole family): sign in again.";
    Forbidden = "forbidden", 403, Retry::No, "Signed in, but this role may not do that.";
    BookingNotAllowed = "booking_not_allowed", 403, Retry::No, "Studio and platform admins cannot hold or grab.";
    NotFound = "not_found", 404, Retry::No, "No such resource, or it is not visible to the caller.";
    RouteNotFound = "route_not_found", 404, Retry::No, "No such route.";
    MethodNotAllowed = "method_not_allowed", 405, Retry::No, "The route exists but not with this method; `Allow` lists those it takes.";
    AuctionOnHold = "auction_on_hold", 409, Retry::No,
        "Someone holds the auction; it returns to ACTIVE if they do not confirm in time (watch it live).";
    AuctionAlreadyBooked = "auction_already_booked", 409, Retry::No, "The auction is sold.";
    AuctionNotStarted = "auction_not_started", 409, Retry::No, "The auction has not started yet (or is a DRAFT).";
    AuctionClosed = "auction_closed", 409, Retry::No, "The auction has ended or was cancelled.";
    RegrabNotAllowed = "regrab_not_allowed", 409, Retry::No, "Whoever let a hold on this auction lapse cannot grab it again.";
    AuctionNotEditable = "auction_not_editable", 409, Retry::No, "Only a DRAFT auction can be changed.";
    AuctionHasReservations = "auction_has_reservations", 409, Retry::No,
        "Someone reserved the auction at some point, so it cannot be deleted (its history would go with it): cancel it instead.";
    TurboAlreadyActive = "turbo_already_active", 409, Retry::No, "Turbo is already running.";
    TurboNotAvailable = "turbo_not_available", 409, Retry::No, "The auction has no turbo, or is not ACTIVE.";
    InsufficientCapacity = "insufficient_capacity", 409, Retry::No, "Not that many seats are available.";
    HoldAlreadyExists = "hold_already_exists", 409, Retry::No, "The caller already holds seats of this event: confirm or cancel that hold.";
    SeatsAvailable = "seats_available", 409, Retry::No, "Enough seats are available to hold now: there is nothing to wait for (`POST /events/{id}/holds`).";
    AlreadyWaiting = "already_waiting", 409, Retry::No, "The caller is already on this event's waiting list (`GET /events/{id}/waitlist/me` says where).";
    EventNotOpen = "event_not_open", 409, Retry::No, "The event has started. (To anyone but its studio, an inactive event is `not_found`.)";
    EventHasReservations = "event_has_reservations", 409, Retry::No, "The event has live reservations and cannot be deleted.";
    EventCancelled = "event_cancelled", 409, Retry::No, "The event was cancelled: it cannot be cancelled again or changed.";
    CapacityBelowReserved = "capacity_below_reserved", 409, Retry::No, "The capacity would drop below the seats already held or booked.";
    HoldExpired = "hold_expired", 409, Retry::No, "The hold lapsed before it was confirmed.";
    InvalidState = "invalid_state", 409, Retry::No, "The reservation or auction is not in a state that allows this.";
    CancellationClosed = "cancellation_closed", 409, Retry::No, "Too close to the session to cancel (see `cancellation_cutoff_seconds` in `GET /config`).";
    CheckInNotOpen = "check_in_not_open", 409, Retry::No,
        "Check-in for the booking's session is not open: it opens `check_in_opens_before_seconds` (`GET /config`) before the session starts and closes when it ends. `session_starts_at` says when the session starts.";
    PaymentsDisabled = "payments_disabled", 409, Retry::No, "This deployment takes no payments: confirm the hold and pay at the studio.";
    PaymentRequired = "payment_required", 409, Retry::No,
        "The hold is not paid yet (or, with payments on, a grab cannot book at once): pay through `POST /reservations/{id}/payment`, then confirm.";
    PaymentProcessing = "payment_processing", 409, Retry::WithBackoff, "The provider is still processing the payment: confirm again shortly.";
    PaymentDeclined = "payment_declined", 402, Retry::No, "The card was declined (the detail gives the provider's words): try another card.";
    EmailTaken = "email_taken", 409, Retry::No, "An account with this email exists.";
    PriceAlertExists = "price_alert_exists", 409, Retry::No,
        "The caller already has a price alert on this auction (one each): remove it (`DELETE /alerts/{id}`) to set another amount.";
    AlreadyAdministersAStudio = "already_administers_a_studio", 409, Retry::No, "The user already administers another studio.";
    TokenInvalid = "token_invalid", 422, Retry::No,
        "The emailed link's token (verification, password reset or invitation) is unknown, or was replaced or revoked: ask for a new one.";
    TokenExpired = "token_expired", 410, Retry::No, "The emailed link has expired: ask for a new one.";
    TokenUsed = "token_used", 409, Retry::No, "The emailed link was used already: each works once.";
    InvitationForAnotherAddress = "invitation_for_another_address", 403, Retry::No,
        "The invitation was sent to another address than the caller's: sign in with the invited address (or reset its password to prove the mailbox).";
    EmailAlreadyVerified = "email_already_verified", 409, Retry::No, "The caller's email address is verified already.";
    Conflict = "conflict", 409, Retry::No, "The change conflicts with data already stored (a rule the database keeps that no business rule caught first). The answer names no table or constraint.";
    IdempotencyInProgress = "idempotency_in_progress", 409, Retry::SameKeyLater,
        "A request with this `Idempotency-Key` is still running.";
    IdempotencyKeyReused = "idempotency_key_reused", 422, Retry::No,
        "This `Idempotency-Key` was used for another request (method, path or body): use a fresh key.";
    RateLimited = "rate_limited", 429, Retry::AfterRetryAfter, "Too many requests from this client, user or account.";
    Busy = "busy", 503, Retry::AfterRetryAfter, "The row is busy (a lock wait timed out); nothing was changed.";
    Unavailable = "unavailable", 503, Retry::AfterRetryAfter, "The database does not answer; nothing was changed.";
    PaymentProviderUnavailable = "payment_provider_unavailable", 503, Retry::AfterRetryAfter,
        "The payment provider does not answer; nothing was changed.";
    DatabaseUnavailable = "database_unavailable", 503, Retry::WithBackoff, "Readiness (`/health/ready`) only: the database does not answer.";
    Internal = "internal", 500, Retry::WithBackoff, "Something went wrong on the server; the details are in its log.";
}

impl ProblemCode {
    /// The status as an actix status code.
    pub fn status_code(self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The problem `type`: the code's entry in the error catalogue.
    pub fn type_url(self) -> String {
        format!("{CATALOGUE_URL}#{}", self.as_str())
    }
}

/// The error catalogue, `docs/errors.md`: every code, its status, what it
/// means and whether to retry. Written by `hothour errors`.
pub fn catalogue() -> String {
    let mut text = String::from(
        "# HotHour error codes\n\n\
         <!-- Generated by `just errors` from `ProblemCode` (crates/api/src/problem.rs); do not edit. -->\n\n\
         Every error answer is RFC 9457 `application/problem+json` with a stable `code`. Its `type` is\n\
         `https://hothour.dev/errors#<code>`, this page's heading for the code. Program against `code`, never\n\
         against `detail` or `title`. On `validation_failed`, `errors` maps each invalid field to its messages.\n\n\
         | code | status | retry |\n|---|---|---|\n",
    );
    for code in ProblemCode::ALL {
        let retry = match code.retry() {
            Retry::No => "no",
            Retry::AfterRetryAfter => "after `Retry-After`",
            Retry::AfterSignIn => "after signing in again",
            Retry::SameKeyLater => "same key, later",
            Retry::WithBackoff => "with backoff",
        };
        text.push_str(&format!("| [`{code}`](#{code}) | {} | {retry} |\n", code.status()));
    }
    for code in ProblemCode::ALL {
        let reason = code.status_code().canonical_reason().unwrap_or("");
        text.push_str(&format!(
            "\n## {code}\n\n**{} {reason}.** {}\n\n**Retry:** {}\n",
            code.status(),
            code.meaning(),
            code.retry().advice()
        ));
    }
    text
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ProblemCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An RFC 9457 problem: `code` is stable and meant for programs, `detail` for people.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Problem {
    /// The code's entry in the error catalogue.
    #[serde(rename = "type")]
    #[schema(example = "https://hothour.dev/errors#auction_on_hold")]
    pub kind: String,
    #[schema(example = "Conflict")]
    pub title: String,
    #[schema(minimum = 400, maximum = 599, example = 409)]
    pub status: u16,
    #[schema(example = "the auction is on hold")]
    pub detail: String,
    pub code: ProblemCode,
    /// Messages per invalid field, on `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// When the booking's session starts, on `check_in_not_open`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub session_starts_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem with the code's own status.
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Problem {
        Problem::with_status(code.status_code(), code, detail)
    }

    /// A problem answered with another status than the code's (only the
    /// catch-all `bad_request` for an unusual 4xx).
    pub fn with_status(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: code.type_url(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            errors: None,
            session_starts_at: None,
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
        use ProblemCode as P;
        let detail = error.to_string();
        let code = match &error {
            E::NotFound(_) => P::NotFound,
            E::Validation(errors) => {
                let mut problem = Problem::new(P::ValidationFailed, "the request is invalid");
                problem.errors = Some(errors.fields().clone());
                return problem;
            }
            E::Forbidden(_) => P::Forbidden,
            E::BookingNotAllowed => P::BookingNotAllowed,
            E::AuctionOnHold => P::AuctionOnHold,
            E::AuctionAlreadyBooked => P::AuctionAlreadyBooked,
            E::AuctionNotStarted => P::AuctionNotStarted,
            E::AuctionClosed => P::AuctionClosed,
            E::RegrabNotAllowed => P::RegrabNotAllowed,
            E::AuctionNotEditable => P::AuctionNotEditable,
            E::AuctionHasReservations => P::AuctionHasReservations,
            E::TurboAlreadyActive => P::TurboAlreadyActive,
            E::TurboNotAvailable => P::TurboNotAvailable,
            E::InsufficientCapacity { .. } => P::InsufficientCapacity,
            E::HoldAlreadyExists => P::HoldAlreadyExists,
            E::SeatsAvailable { .. } => P::SeatsAvailable,
            E::AlreadyWaiting => P::AlreadyWaiting,
            E::EventNotOpen => P::EventNotOpen,
            E::EventHasReservations => P::EventHasReservations,
            E::EventCancelled => P::EventCancelled,
            E::CapacityBelowReserved { .. } => P::CapacityBelowReserved,
            E::HoldExpired => P::HoldExpired,
            E::InvalidState(_) => P::InvalidState,
            E::CancellationClosed => P::CancellationClosed,
            E::CheckInNotOpen { session_starts_at } => {
                let mut problem = Problem::new(P::CheckInNotOpen, detail);
                problem.session_starts_at = Some(*session_starts_at);
                return problem;
            }
            E::EmailTaken => P::EmailTaken,
            E::PriceAlertExists => P::PriceAlertExists,
            E::AlreadyAdministers => P::AlreadyAdministersAStudio,
            E::TokenRejected(problem) => match problem {
                TokenProblem::Unknown => P::TokenInvalid,
                TokenProblem::Expired => P::TokenExpired,
                TokenProblem::Used => P::TokenUsed,
            },
            E::InvitationForAnotherAddress => P::InvitationForAnotherAddress,
            E::EmailAlreadyVerified => P::EmailAlreadyVerified,
            E::InvalidCredentials => P::InvalidCredentials,
            E::LastPlatformAdmin => P::LastPlatformAdmin,
            E::InvalidRefreshToken => P::InvalidRefreshToken,
            E::Conflict(_) => P::Conflict,
            E::PaymentsDisabled => P::PaymentsDisabled,
            E::PaymentRequired => P::PaymentRequired,
            E::PaymentProcessing => P::PaymentProcessing,
            E::PaymentDeclined(_) => P::PaymentDeclined,
            E::PaymentProviderUnavailable => {
                let mut problem = Problem::new(P::PaymentProviderUnavailable, detail);
                problem.retry_after = Some(5);
                return problem;
            }
            // Only after several fresh codes were all taken: retrying is the remedy.
            E::Busy | E::BookingCodeTaken => {
                let detail = DomainError::Busy.to_string();
                let mut problem = Problem::new(P::Busy, detail);
                problem.retry_after = Some(1);
                return problem;
            }
            E::Unavailable => {
                let mut problem = Problem::new(P::Unavailable, detail);
                problem.retry_after = Some(2);
                return problem;
            }
            E::Storage(_) | E::PasswordHashing(_) | E::Randomness(_) | E::TokenSigning(_) => {
                // The cause chain goes to the log; callers get no internals.
                tracing::error!(error = %error.chain(), "internal failure");
                return Problem::new(P::Internal, "something went wrong on our side");
            }
        };
        Problem::new(code, detail)
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
        let problem = Problem::from(DomainError::storage_message("connection reset by 10.0.0.7"));
        assert!(!problem.detail.contains("10.0.0.7"));
        assert_eq!(Problem::from(DomainError::Busy).retry_after, Some(1));
        let problem = Problem::from(DomainError::Unavailable);
        assert_eq!((problem.status, problem.code.as_str(), problem.retry_after), (503, "unavailable", Some(2)));
    }

    #[test]
    fn check_in_not_open_names_the_sessions_start() {
        let at = "2030-03-02T18:00:00Z".parse().unwrap();
        let problem = Problem::from(DomainError::CheckInNotOpen { session_starts_at: at });
        assert_eq!((problem.status, problem.code.as_str()), (409, "check_in_not_open"));
        let body = serde_json::to_value(&problem).unwrap();
        assert_eq!(body["session_starts_at"], "2030-03-02T18:00:00Z");
        assert!(serde_json::to_value(Problem::from(DomainError::Busy)).unwrap().get("session_starts_at").is_none());
    }

    #[test]
    fn a_conflict_names_no_table_or_constraint() {
        for name in ["audit_log_actor_id_fkey", "events.title", "23502"] {
            let problem = Problem::from(DomainError::Conflict(name.into()));
            assert_eq!((problem.status, problem.code.as_str()), (409, "conflict"));
            assert!(!problem.detail.contains(name), "{}", problem.detail);
        }
    }
}
