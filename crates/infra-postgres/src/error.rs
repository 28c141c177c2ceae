//! Storage errors mapped into the domain's terms, in one place.

use hothour_domain::DomainError;
use sea_orm::{DbErr, RuntimeErr};

/// PostgreSQL error codes this adapter gives a meaning to.
mod code {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const LOCK_NOT_AVAILABLE: &str = "55P03";
    pub const DEADLOCK_DETECTED: &str = "40P01";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const QUERY_CANCELED: &str = "57014";
    /// Class 08: the connection failed or broke.
    pub const CONNECTION_EXCEPTION_CLASS: &str = "08";
    /// The server is shutting down or starting up (57P01..57P03).
    pub const ADMIN_SHUTDOWN: &str = "57P01";
    pub const CRASH_SHUTDOWN: &str = "57P02";
    pub const CANNOT_CONNECT_NOW: &str = "57P03";
    /// Class 23: any other integrity constraint violation.
    pub const INTEGRITY_CLASS: &str = "23";
    /// Class 22: a value the database cannot take (out of range, bad encoding, …).
    pub const DATA_EXCEPTION_CLASS: &str = "22";
}

/// The SQLSTATE and constraint of a database error, if it is one.
fn database_error(error: &DbErr) -> Option<(String, Option<String>)> {
    let (DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner))) = error else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(db) = inner.as_ref() else {
        return None;
    };
    Some((db.code().map(|c| c.into_owned()).unwrap_or_default(), db.constraint().map(str::to_owned)))
}

/// Maps a storage error; a violated constraint becomes the domain error the
/// rule it backs would have returned, and any other violated constraint a
/// client error too: bad input never reaches the caller as a storage failure.
pub(crate) fn map_db_err(error: DbErr) -> DomainError {
    if let Some((code, constraint)) = database_error(&error) {
        let constraint = constraint.as_deref().unwrap_or("");
        match (code.as_str(), constraint) {
            (code::UNIQUE_VIOLATION, "reservations_one_live_per_auction") => return DomainError::AuctionOnHold,
            (code::UNIQUE_VIOLATION, "reservations_one_hold_per_user_event") => return DomainError::HoldAlreadyExists,
            (code::UNIQUE_VIOLATION, "users_email_key") => return DomainError::EmailTaken,
            (code::UNIQUE_VIOLATION, "reservations_booking_code_key") => return DomainError::BookingCodeTaken,
            (code::CHECK_VIOLATION, "events_not_oversold") => {
                return DomainError::InsufficientCapacity { available: 0 };
            }
            (code::CHECK_VIOLATION, c) => return DomainError::Validation(hothour_infra_sql::check_violation(c)),
            (code::FOREIGN_KEY_VIOLATION, c) if c.ends_with("studio_id_fkey") => {
                return DomainError::NotFound("studio");
            }
            (code::FOREIGN_KEY_VIOLATION, c) if c.ends_with("user_id_fkey") || c.ends_with("actor_id_fkey") => {
                return DomainError::NotFound("user");
            }
            (code::FOREIGN_KEY_VIOLATION, c) if c.ends_with("auction_id_fkey") => {
                return DomainError::NotFound("auction");
            }
            (code::FOREIGN_KEY_VIOLATION, c) if c.ends_with("event_id_fkey") => return DomainError::NotFound("event"),
            (
                code::LOCK_NOT_AVAILABLE | code::DEADLOCK_DETECTED | code::SERIALIZATION_FAILURE | code::QUERY_CANCELED,
                _,
            ) => {
                return DomainError::Busy;
            }
            (code::ADMIN_SHUTDOWN | code::CRASH_SHUTDOWN | code::CANNOT_CONNECT_NOW, _) => {
                return DomainError::Unavailable;
            }
            (code, _) if code.starts_with(code::CONNECTION_EXCEPTION_CLASS) => return DomainError::Unavailable,
            _ => {}
        }
        if code.starts_with(code::INTEGRITY_CLASS) {
            tracing::warn!(error = %error, "a constraint no rule caught");
            return DomainError::Conflict(if constraint.is_empty() { code } else { constraint.to_owned() });
        }
        if code.starts_with(code::DATA_EXCEPTION_CLASS) {
            tracing::warn!(error = %error, "a value no rule caught");
            return DomainError::Validation(hothour_infra_sql::unacceptable_value());
        }
    }
    if is_connection_failure(&error) {
        tracing::warn!(error = %error, "the database cannot be reached");
        return DomainError::Unavailable;
    }
    DomainError::storage(error)
}

/// Whether the error says the server is out of reach rather than that a
/// statement failed. A pool that hands out no connection within its acquire
/// timeout counts too: the timeout is short (`DB_ACQUIRE_TIMEOUT_MS`), so a
/// request answers 503 `unavailable` within a second during an outage
/// instead of hanging, and the pool reconnects by itself once the server is back.
fn is_connection_failure(error: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(inner))
        | DbErr::Exec(RuntimeErr::SqlxError(inner))
        | DbErr::Query(RuntimeErr::SqlxError(inner)) => matches!(
            inner.as_ref(),
            Sqlx::Io(_)
                | Sqlx::Tls(_)
                | Sqlx::Protocol(_)
                | Sqlx::PoolTimedOut
                | Sqlx::PoolClosed
                | Sqlx::WorkerCrashed
        ),
        DbErr::Conn(_) => true,
        _ => false,
    }
}
