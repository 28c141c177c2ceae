//! Storage errors mapped into the domain's terms, in one place.
//!
//! SQLite names what a constraint violation broke in its message: the columns
//! of a unique index (`UNIQUE constraint failed: reservations.auction_id`), the
//! name of an index on an expression (`… failed: index 'users_email_key'`) or
//! of a named `CHECK` (`CHECK constraint failed: events_not_oversold`). It does
//! not say which foreign key failed, so the statements that can break one say
//! what they refer to (the `parent` of [`map_db_err`]). Any other violated
//! constraint is still a client error (`Validation` or `Conflict`), never a
//! storage failure.

use hothour_domain::DomainError;
use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
use sea_orm::{DbErr, RuntimeErr};

/// SQLite primary result codes this adapter gives a meaning to.
mod code {
    pub const BUSY: i32 = 5;
    pub const LOCKED: i32 = 6;
}

/// What a unique or check constraint violation names, mapped to the domain
/// error of the rule it backs.
fn constraint_error(kind: &ErrorKind, target: &str) -> Option<DomainError> {
    match (kind, target) {
        // reservations_one_live_per_auction
        (ErrorKind::UniqueViolation, "reservations.auction_id" | "index 'reservations_one_live_per_auction'") => {
            Some(DomainError::AuctionOnHold)
        }
        // reservations_one_hold_per_user_event
        (
            ErrorKind::UniqueViolation,
            "reservations.event_id, reservations.user_id" | "index 'reservations_one_hold_per_user_event'",
        ) => Some(DomainError::HoldAlreadyExists),
        (ErrorKind::UniqueViolation, "index 'users_email_key'") => Some(DomainError::EmailTaken),
        (ErrorKind::UniqueViolation, "reservations.booking_code") => Some(DomainError::BookingCodeTaken),
        (ErrorKind::CheckViolation, "events_not_oversold") => Some(DomainError::InsufficientCapacity { available: 0 }),
        (ErrorKind::CheckViolation, check) => Some(DomainError::Validation(hothour_infra_sql::check_violation(check))),
        _ => None,
    }
}

/// The database error inside a storage error, if it is one.
fn database_error(error: &DbErr) -> Option<&dyn DatabaseError> {
    let (DbErr::Exec(RuntimeErr::SqlxError(inner))
    | DbErr::Query(RuntimeErr::SqlxError(inner))
    | DbErr::Conn(RuntimeErr::SqlxError(inner))) = error
    else {
        return None;
    };
    match inner.as_ref() {
        sea_orm::sqlx::Error::Database(db) => Some(db.as_ref()),
        _ => None,
    }
}

/// Maps a storage error; a violated constraint becomes the domain error the
/// rule it backs would have returned. A failed foreign key is
/// `NotFound(parent)` when the statement says which `parent` (`"studio"`,
/// `"user"`) its one key that can fail refers to, a `Conflict` otherwise.
pub(crate) fn map_db_err(error: DbErr, parent: Option<&'static str>) -> DomainError {
    if let Some(db) = database_error(&error) {
        let kind = db.kind();
        let target = db.message().split_once("constraint failed: ").map_or("", |(_, target)| target);
        if let Some(mapped) = constraint_error(&kind, target) {
            return mapped;
        }
        if let (ErrorKind::ForeignKeyViolation, Some(parent)) = (&kind, parent) {
            return DomainError::NotFound(parent);
        }
        if matches!(kind, ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation | ErrorKind::NotNullViolation) {
            tracing::warn!(error = %error, "a constraint no rule caught");
            return DomainError::Conflict(target.to_owned());
        }
        // The extended result code's low byte is the primary code.
        let primary = db.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
        if matches!(primary, Some(code::BUSY | code::LOCKED)) {
            return DomainError::Busy;
        }
    }
    if matches!(error, DbErr::ConnectionAcquire(_)) {
        return DomainError::Busy;
    }
    DomainError::storage(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_messages_map_to_domain_errors() {
        assert_eq!(
            constraint_error(&ErrorKind::UniqueViolation, "reservations.auction_id"),
            Some(DomainError::AuctionOnHold)
        );
        assert_eq!(
            constraint_error(&ErrorKind::UniqueViolation, "reservations.event_id, reservations.user_id"),
            Some(DomainError::HoldAlreadyExists)
        );
        assert_eq!(
            constraint_error(&ErrorKind::UniqueViolation, "index 'users_email_key'"),
            Some(DomainError::EmailTaken)
        );
        assert_eq!(
            constraint_error(&ErrorKind::CheckViolation, "events_not_oversold"),
            Some(DomainError::InsufficientCapacity { available: 0 })
        );
        assert_eq!(
            constraint_error(&ErrorKind::UniqueViolation, "reservations.booking_code"),
            Some(DomainError::BookingCodeTaken)
        );
        assert_eq!(
            constraint_error(&ErrorKind::CheckViolation, "events_times"),
            Some(DomainError::validation("ends_at", "must be after starts_at"))
        );
        assert!(matches!(
            constraint_error(&ErrorKind::CheckViolation, "capacity >= 0"),
            Some(DomainError::Validation(errors)) if errors.has("body")
        ));
        assert_eq!(constraint_error(&ErrorKind::UniqueViolation, "reservations.user_id"), None);
    }
}
