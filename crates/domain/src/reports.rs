//! A studio's numbers over a range of its days (SPEC §12 "Studio
//! operations"): the days are the studio's calendar days, cut at midnight in
//! its time zone (so a day is 23 or 25 hours long when the clocks change),
//! and a reservation belongs to the day its session starts on.
//!
//! The store adds up each day in SQL over the day boundaries computed here
//! (SQLite has no zone data); the ratios are derived from those sums.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::DomainError;
use crate::money::Money;
use crate::reservation::Reservation;
use crate::validation::ValidationErrors;

/// The most days one range covers (a leap year).
pub const MAX_RANGE_DAYS: i64 = 366;

/// Decimal places of every ratio (`0.8333`).
pub const RATIO_DECIMALS: u32 = 4;

/// A sale's share of the start price is counted in millionths, truncated,
/// before the mean is taken: the same integer sum on every store.
pub const SALE_RATIO_SCALE: i64 = 1_000_000;

/// A range of calendar days, `from` and `to` included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DayRange {
    /// `from` to `to`, both included: `to` not before `from`, at most
    /// [`MAX_RANGE_DAYS`] days, and within the years 1970 to 9999.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<DayRange, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let first = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
        // The day after `to` must exist too: it ends the range.
        let last = NaiveDate::from_ymd_opt(9999, 12, 30).expect("a date");
        errors.check(from >= first && from <= last, "from", "must be between 1970-01-01 and 9999-12-30");
        errors.check(to >= first && to <= last, "to", "must be between 1970-01-01 and 9999-12-30");
        if errors.is_empty() {
            errors.check(to >= from, "to", "must not be before from");
            errors.check(
                (to - from).num_days() < MAX_RANGE_DAYS,
                "to",
                &format!(
                    "must be at most {} days after from (a range covers at most {MAX_RANGE_DAYS} days)",
                    MAX_RANGE_DAYS - 1
                ),
            );
        }
        errors.into_result(DayRange { from, to })
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let (from, count) = (self.from, (self.to - self.from).num_days() + 1);
        (0..count).map(move |n| from + Duration::days(n))
    }

    /// The range's days in `zone`.
    pub fn in_zone(self, zone: Tz) -> StudioDays {
        let days: Vec<NaiveDate> = self.days().collect();
        let mut bounds: Vec<DateTime<Utc>> = days.iter().map(|day| start_of_day(zone, *day)).collect();
        bounds.push(start_of_day(zone, self.to + Duration::days(1)));
        StudioDays { range: self, zone, days, bounds }
    }
}

/// A studio's time zone by name (validated when the studio was saved).
pub fn studio_zone(name: &str) -> Result<Tz, DomainError> {
    name.parse::<Tz>().map_err(|_| DomainError::storage_message(format!("the studio's time zone {name:?} is unknown")))
}

/// When `date` begins in `zone`: its midnight, the first one when the clocks
/// went back over midnight, and the end of the gap when they jumped over it.
pub fn start_of_day(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    match zone.from_local_datetime(&midnight) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
        LocalResult::None => (1..=24 * 60)
            .find_map(|minutes| zone.from_local_datetime(&(midnight + Duration::minutes(minutes))).earliest())
            .map(|at| at.with_timezone(&Utc))
            // No zone skips a whole day at midnight and stays in range; fall back to UTC's midnight.
            .unwrap_or_else(|| midnight.and_utc()),
    }
}

/// A range of a studio's days, with the instants that divide them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudioDays {
    range: DayRange,
    zone: Tz,
    days: Vec<NaiveDate>,
    /// When each day begins, and (last) when the range ends: one more than `days`.
    bounds: Vec<DateTime<Utc>>,
}

impl StudioDays {
    pub fn range(&self) -> DayRange {
        self.range
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// Day `n` is `[bounds[n], bounds[n + 1])`.
    pub fn bounds(&self) -> &[DateTime<Utc>] {
        &self.bounds
    }

    /// When the range begins (its first day's midnight).
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.bounds[0]
    }

    /// When the range ends (the midnight after its last day), excluded.
    pub fn ends_at(&self) -> DateTime<Utc> {
        *self.bounds.last().expect("a range has a day")
    }
}

/// What one day (or a whole range) adds up to, as the store counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayTotals {
    /// Σ total price − refunded, over bookings (confirmed, checked in or
    /// no-show) whose session starts that day.
    pub revenue: Money,
    /// Auctions whose session starts that day and that sold.
    pub slots_sold: u64,
    /// Auctions whose session starts that day, that ended unsold (not cancelled).
    pub slots_expired_unsold: u64,
    /// Σ over the sold slots of sale price / start price, each in millionths
    /// ([`SALE_RATIO_SCALE`]), truncated.
    pub sale_ratio_millionths: u64,
    /// Seats booked on events whose session starts that day.
    pub seats_sold: u64,
    /// Σ capacity of those events (not deleted ones).
    pub seats_capacity: u64,
    /// Bookings checked in, and bookings marked no-show.
    pub checked_in: u64,
    pub no_show: u64,
}

impl Default for DayTotals {
    /// Nothing.
    fn default() -> DayTotals {
        DayTotals {
            revenue: Money::ZERO,
            slots_sold: 0,
            slots_expired_unsold: 0,
            sale_ratio_millionths: 0,
            seats_sold: 0,
            seats_capacity: 0,
            checked_in: 0,
            no_show: 0,
        }
    }
}

impl DayTotals {
    /// Both added together.
    pub fn plus(self, other: DayTotals) -> Result<DayTotals, DomainError> {
        Ok(DayTotals {
            revenue: self
                .revenue
                .checked_add(other.revenue)
                .ok_or_else(|| DomainError::storage_message("the revenue exceeds the largest amount"))?,
            slots_sold: self.slots_sold + other.slots_sold,
            slots_expired_unsold: self.slots_expired_unsold + other.slots_expired_unsold,
            sale_ratio_millionths: self.sale_ratio_millionths + other.sale_ratio_millionths,
            seats_sold: self.seats_sold + other.seats_sold,
            seats_capacity: self.seats_capacity + other.seats_capacity,
            checked_in: self.checked_in + other.checked_in,
            no_show: self.no_show + other.no_show,
        })
    }

    /// The mean share of the start price the sold slots went for (0–1).
    pub fn average_sale_ratio(&self) -> Option<Decimal> {
        ratio(self.sale_ratio_millionths, self.slots_sold.checked_mul(SALE_RATIO_SCALE as u64)?)
    }

    /// Seats sold of the capacity (0–1).
    pub fn fill_ratio(&self) -> Option<Decimal> {
        ratio(self.seats_sold, self.seats_capacity)
    }

    /// No-shows of the bookings whose holder came or did not (0–1).
    pub fn no_show_rate(&self) -> Option<Decimal> {
        ratio(self.no_show, self.checked_in + self.no_show)
    }
}

/// `part / whole` to [`RATIO_DECIMALS`] places (half to even); none of nothing.
pub fn ratio(part: u64, whole: u64) -> Option<Decimal> {
    if whole == 0 {
        return None;
    }
    let exact = Decimal::from(part).checked_div(Decimal::from(whole))?;
    let mut rounded = exact.round_dp_with_strategy(RATIO_DECIMALS, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(RATIO_DECIMALS);
    Some(rounded)
}

/// A studio's numbers over a range: each day, and the whole range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudioStats {
    pub days: StudioDays,
    /// One per day of `days`, in order.
    pub per_day: Vec<DayTotals>,
    pub total: DayTotals,
}

impl StudioStats {
    pub fn new(days: StudioDays, per_day: Vec<DayTotals>) -> Result<StudioStats, DomainError> {
        if per_day.len() != days.days().len() {
            return Err(DomainError::storage_message(format!(
                "{} days were counted for a range of {}",
                per_day.len(),
                days.days().len()
            )));
        }
        let total = per_day.iter().try_fold(DayTotals::default(), |sum, day| sum.plus(*day))?;
        Ok(StudioStats { days, per_day, total })
    }
}

/// One reservation of an export, with what a spreadsheet needs beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRow {
    pub reservation: Reservation,
    /// The auction's or event's title.
    pub title: String,
    pub session_starts_at: DateTime<Utc>,
    pub holder_name: String,
    pub holder_email: String,
}

/// Where a page of an export ends: the last row's session start and id.
pub type ExportCursor = (DateTime<Utc>, crate::ids::ReservationId);

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_range_is_inclusive_ordered_and_at_most_a_leap_year() {
        let range = DayRange::new(date("2026-03-28"), date("2026-03-30")).unwrap();
        assert_eq!(range.days().collect::<Vec<_>>(), [date("2026-03-28"), date("2026-03-29"), date("2026-03-30")]);
        assert_eq!(DayRange::new(date("2026-03-28"), date("2026-03-28")).unwrap().days().count(), 1);
        let backwards = DayRange::new(date("2026-03-29"), date("2026-03-28")).unwrap_err();
        assert!(backwards.has("to"), "{backwards}");
        assert!(DayRange::new(date("2024-01-01"), date("2024-12-31")).is_ok(), "366 days");
        assert!(DayRange::new(date("2024-01-01"), date("2025-01-01")).unwrap_err().has("to"), "367 days");
        assert!(DayRange::new(date("1969-12-31"), date("1970-01-02")).unwrap_err().has("from"));
        assert!(DayRange::new(date("9999-12-30"), date("9999-12-31")).unwrap_err().has("to"));
    }

    #[test]
    fn days_begin_at_the_studios_midnight_whatever_the_clocks_do() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let days = DayRange::new(date("2026-03-28"), date("2026-03-30")).unwrap().in_zone(berlin);
        assert_eq!(
            days.bounds(),
            [
                utc("2026-03-27T23:00:00Z"),
                utc("2026-03-28T23:00:00Z"),
                // The 29th has 23 hours: the clocks go forward at 02:00.
                utc("2026-03-29T22:00:00Z"),
                utc("2026-03-30T22:00:00Z"),
            ]
        );
        let new_york: Tz = "America/New_York".parse().unwrap();
        let autumn = DayRange::new(date("2026-11-01"), date("2026-11-01")).unwrap().in_zone(new_york);
        assert_eq!(autumn.bounds(), [utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z")], "25 hours");
    }

    #[test]
    fn a_day_whose_midnight_the_clocks_skip_begins_when_they_land() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2022-09-11.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        assert_eq!(start_of_day(santiago, date("2022-09-11")), utc("2022-09-11T04:00:00Z"));
        // Havana moved its clocks back from 01:00 to 00:00 on 2022-11-06: the first midnight counts.
        let havana: Tz = "America/Havana".parse().unwrap();
        assert_eq!(start_of_day(havana, date("2022-11-06")), utc("2022-11-06T04:00:00Z"));
        assert_eq!(start_of_day(havana, date("2022-11-07")), utc("2022-11-07T05:00:00Z"));
    }

    #[test]
    fn ratios_have_four_decimals_and_none_of_nothing() {
        assert_eq!(ratio(1, 3).unwrap().to_string(), "0.3333");
        assert_eq!(ratio(2, 3).unwrap().to_string(), "0.6667");
        assert_eq!(ratio(3, 3).unwrap().to_string(), "1.0000");
        assert_eq!(ratio(0, 5).unwrap().to_string(), "0.0000");
        assert_eq!(ratio(1, 0), None);
        let day = DayTotals { slots_sold: 2, sale_ratio_millionths: 900_000 + 833_333, ..DayTotals::default() };
        assert_eq!(day.average_sale_ratio().unwrap().to_string(), "0.8667");
        assert_eq!(DayTotals::default().average_sale_ratio(), None);
        assert_eq!(DayTotals::default().no_show_rate(), None);
        assert_eq!(DayTotals::default().fill_ratio(), None);
    }
}
