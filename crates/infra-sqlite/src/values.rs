//! Domain values as SQLite stores them: exact integers, never floats.
//!
//! * Money is an `INTEGER` of minor units (cents): sea-orm would read a
//!   SQLite decimal through `f64` and lose exactness.
//! * An instant is an `INTEGER` of microseconds since the Unix epoch (UTC),
//!   the precision PostgreSQL keeps, exact and ordered like the instants.
//! * JSON is `TEXT`.
//!
//! The other direction, columns back to domain values, is in `rows`.

use chrono::{DateTime, Utc};
use hothour_domain::{DomainError, Money};
use sea_orm::Value;

use crate::error::corrupt;

/// An instant as stored: microseconds since the Unix epoch.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A stored instant back; `None` for a value no `DateTime` can hold.
pub(crate) fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// An instant to bind.
pub(crate) fn time(at: DateTime<Utc>) -> Value {
    micros(at).into()
}

/// An optional instant to bind (`NULL` for `None`).
pub(crate) fn opt_time(at: Option<DateTime<Utc>>) -> Value {
    at.map(micros).into()
}

/// The current wall-clock time, for the bookkeeping columns (`updated_at`,
/// `revoked_at`, …) PostgreSQL fills with `now()`.
pub(crate) fn now() -> Value {
    time(Utc::now())
}

/// An amount to bind, in cents.
pub(crate) fn money(amount: Money) -> Value {
    amount.minor_units().into()
}

/// An optional amount to bind, in cents.
pub(crate) fn opt_money(amount: Option<Money>) -> Value {
    amount.map(Money::minor_units).into()
}

/// Stored cents back to money.
pub(crate) fn money_from_cents(column: &str, cents: i64) -> Result<Money, DomainError> {
    Money::from_minor_units(cents).map_err(|e| corrupt(column, e))
}

/// A JSON document to bind, as text.
pub(crate) fn json(value: &serde_json::Value) -> Value {
    value.to_string().into()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn instants_round_trip_at_microsecond_precision() {
        let at = Utc.with_ymd_and_hms(2030, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::microseconds(123_456);
        assert_eq!(from_micros(micros(at)), Some(at));
        let before_epoch = Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::microseconds(1);
        assert_eq!(from_micros(micros(before_epoch)), Some(before_epoch));
        assert!(micros(at) < micros(at + chrono::Duration::microseconds(1)));
    }

    #[test]
    fn money_round_trips_through_cents() {
        for text in ["0.00", "0.10", "0.20", "149.90", "1234567.89", "9999999999.99"] {
            let amount = Money::parse(text).unwrap();
            assert_eq!(money_from_cents("price", amount.minor_units()).unwrap(), amount);
        }
        assert!(money_from_cents("price", -1).is_err());
    }
}
