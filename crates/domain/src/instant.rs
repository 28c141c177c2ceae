//! Instants as the service accepts them (SPEC §2): truncated to microseconds
//! (what storage keeps) before any rule looks at them, and between the years
//! 1970 and 9999, so that no arithmetic on them can leave chrono's range.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use crate::validation::ValidationErrors;

pub const OUT_OF_RANGE: &str = "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z";

/// The earliest instant accepted: the Unix epoch.
pub fn earliest() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// The latest instant accepted: the last microsecond of the year 9999.
pub fn latest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|day| day.and_hms_micro_opt(23, 59, 59, 999_999))
        .expect("a valid date")
        .and_utc()
}

/// `at` truncated to microseconds, or `None` outside the accepted range.
pub fn accept(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let at = at.trunc_subsecs(6);
    (earliest()..=latest()).contains(&at).then_some(at)
}

/// As [`accept`], recording a refusal under `field` (and returning `at` as
/// it came, which the collected error keeps from being used).
pub fn accept_field(errors: &mut ValidationErrors, field: &str, at: DateTime<Utc>) -> DateTime<Utc> {
    accept(at).unwrap_or_else(|| {
        errors.add(field, OUT_OF_RANGE);
        at
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn instants_are_truncated_to_microseconds() {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap() + Duration::nanoseconds(1_999);
        assert_eq!(accept(at), Some(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap() + Duration::microseconds(1)));
    }

    #[test]
    fn only_years_1970_to_9999_are_accepted() {
        assert_eq!(accept(earliest()), Some(earliest()));
        assert_eq!(accept(latest() + Duration::nanoseconds(999)), Some(latest()));
        assert_eq!(accept(earliest() - Duration::microseconds(1)), None);
        assert_eq!(accept(latest() + Duration::microseconds(1)), None);
        assert_eq!(accept(DateTime::<Utc>::MIN_UTC), None);
        assert_eq!(accept(DateTime::<Utc>::MAX_UTC), None);
    }

    #[test]
    fn a_refusal_names_the_field() {
        let mut errors = ValidationErrors::new();
        accept_field(&mut errors, "starts_at", DateTime::<Utc>::MIN_UTC);
        assert!(errors.has("starts_at"));
    }
}
