//! "Repeat weekly until …": an auction and its copies a week apart, each at
//! the same wall-clock times in the studio's zone (so across a change of
//! daylight saving time a 19:00 session stays at 19:00, not at 18:00 or 20:00).

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::auction::{AuctionDetails, AuctionInput};
use crate::validation::ValidationErrors;

/// The most auctions one repeat creates, the first included (a year of weeks).
pub const MAX_WEEKLY_AUCTIONS: usize = 52;

/// `input`'s auction and its weekly copies whose session falls on or before
/// `until` (a date in `zone`), each validated as a single auction is: all of
/// them, or the errors of the first that fails (a copy's messages name its week).
pub fn weekly(input: AuctionInput, zone: Tz, until: NaiveDate) -> Result<Vec<AuctionDetails>, ValidationErrors> {
    let first = AuctionDetails::new(input.clone())?;
    let first_day = first.scheduled_at.with_timezone(&zone).date_naive();
    let weeks = until.signed_duration_since(first_day).num_days().div_euclid(7) + 1;
    if weeks < 1 {
        return Err(ValidationErrors::single(
            "repeat.until",
            format!("must not be before the session's day, {first_day}"),
        ));
    }
    if weeks > MAX_WEEKLY_AUCTIONS as i64 {
        return Err(ValidationErrors::single(
            "repeat.until",
            format!("gives {weeks} weekly auctions; at most {MAX_WEEKLY_AUCTIONS} are created at once"),
        ));
    }
    let mut auctions = vec![first];
    for week in 1..weeks {
        let day = first_day + Days::new(7 * week as u64);
        let copy = weeks_later(&input, week, zone)
            .ok_or_else(|| ValidationErrors::single("repeat.until", "goes past the last day instants may take"))?;
        auctions.push(AuctionDetails::new(copy).map_err(|errors| in_week(errors, day))?);
    }
    Ok(auctions)
}

/// `input` with its instants `weeks` later at the same wall-clock times in `zone`.
fn weeks_later(input: &AuctionInput, weeks: i64, zone: Tz) -> Option<AuctionInput> {
    let shift = |at: DateTime<Utc>| same_wall_time(at, weeks, zone);
    let mut copy = input.clone();
    copy.schedule.starts_at = shift(input.schedule.starts_at)?;
    copy.schedule.ends_at = shift(input.schedule.ends_at)?;
    copy.scheduled_at = shift(input.scheduled_at)?;
    Some(copy)
}

/// The instant `weeks` weeks after `at` showing the same wall-clock time in
/// `zone`. A time the clocks skip that day moves forward by an hour; one they
/// show twice is its first showing.
fn same_wall_time(at: DateTime<Utc>, weeks: i64, zone: Tz) -> Option<DateTime<Utc>> {
    let local: NaiveDateTime = at.with_timezone(&zone).naive_local().checked_add_days(Days::new(7 * weeks as u64))?;
    let found = zone.from_local_datetime(&local).earliest();
    let found = found.or_else(|| zone.from_local_datetime(&(local + Duration::hours(1))).earliest())?;
    Some(found.with_timezone(&Utc))
}

/// A copy's errors, each message naming the copy's week.
fn in_week(errors: ValidationErrors, day: NaiveDate) -> ValidationErrors {
    let mut named = ValidationErrors::new();
    for (field, messages) in errors.fields() {
        for message in messages {
            named.add(field.clone(), format!("in the copy of {day}: {message}"));
        }
    }
    named
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;
    use crate::auction::tests::auction_input;

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn berlin(text: &str) -> DateTime<Utc> {
        let local: NaiveDateTime = text.parse().unwrap();
        BERLIN.from_local_datetime(&local).single().unwrap().with_timezone(&Utc)
    }

    /// An auction open from 09:00 to 18:00 for a 19:00 session, Berlin time, on `day`.
    fn thursday_input(day: &str) -> AuctionInput {
        let mut input = auction_input();
        input.schedule.starts_at = berlin(&format!("{day}T09:00:00"));
        input.schedule.ends_at = berlin(&format!("{day}T18:00:00"));
        input.scheduled_at = berlin(&format!("{day}T19:00:00"));
        input
    }

    #[test]
    fn copies_keep_the_wall_clock_time_across_a_change_of_summer_time() {
        // Berlin leaves summer time on 2026-10-25.
        let auctions = weekly(thursday_input("2026-10-15"), BERLIN, date("2026-11-05")).unwrap();
        let sessions: Vec<_> = auctions.iter().map(|a| a.scheduled_at.to_rfc3339()).collect();
        assert_eq!(
            sessions,
            [
                "2026-10-15T17:00:00+00:00",
                "2026-10-22T17:00:00+00:00",
                "2026-10-29T18:00:00+00:00",
                "2026-11-05T18:00:00+00:00"
            ]
        );
        for auction in &auctions {
            let local = |at: DateTime<Utc>| at.with_timezone(&BERLIN).hour();
            assert_eq!(
                (local(auction.schedule.starts_at()), local(auction.schedule.ends_at()), local(auction.scheduled_at)),
                (9, 18, 19)
            );
        }
    }

    #[test]
    fn until_is_the_last_day_a_session_may_fall_on() {
        let count = |until| weekly(thursday_input("2026-10-15"), BERLIN, date(until)).map(|a| a.len());
        assert_eq!(count("2026-10-15"), Ok(1));
        assert_eq!(count("2026-10-21"), Ok(1));
        assert_eq!(count("2026-10-22"), Ok(2));
        let before = count("2026-10-14").unwrap_err();
        assert!(before.has("repeat.until"), "{before}");
    }

    #[test]
    fn at_most_52_auctions_are_made_at_once() {
        let first = date("2026-10-15");
        let last = first + Days::new(7 * 51);
        assert_eq!(weekly(thursday_input("2026-10-15"), BERLIN, last).map(|a| a.len()), Ok(MAX_WEEKLY_AUCTIONS));
        let too_many = weekly(thursday_input("2026-10-15"), BERLIN, last + Days::new(7)).unwrap_err();
        assert_eq!(too_many.fields()["repeat.until"], ["gives 53 weekly auctions; at most 52 are created at once"]);
    }

    #[test]
    fn a_copy_that_breaks_a_rule_fails_them_all_naming_its_week() {
        // Berlin enters summer time on 2027-03-28 at 02:00: that night, 01:00
        // to 03:30 lasts 1.5 hours, not 2.5, too short for a 2-hour turbo lead.
        let mut input = thursday_input("2027-03-21");
        input.schedule.starts_at = berlin("2027-03-21T01:00:00");
        input.schedule.ends_at = berlin("2027-03-21T03:30:00");
        input.scheduled_at = berlin("2027-03-21T04:00:00");
        input.schedule.turbo.as_mut().unwrap().trigger_before = Duration::minutes(120);
        assert_eq!(weekly(input.clone(), BERLIN, date("2027-03-21")).map(|a| a.len()), Ok(1));
        let errors = weekly(input, BERLIN, date("2027-04-04")).unwrap_err();
        let messages = &errors.fields()["turbo.trigger_before_minutes"];
        assert!(messages[0].starts_with("in the copy of 2027-03-28: "), "{errors}");
    }

    #[test]
    fn a_wall_time_the_clocks_skip_moves_forward_an_hour() {
        let at = berlin("2027-03-21T02:30:00");
        assert_eq!(same_wall_time(at, 1, BERLIN), Some(berlin("2027-03-28T03:30:00")));
        let ambiguous = berlin("2026-10-18T02:30:00");
        assert_eq!(same_wall_time(ambiguous, 1, BERLIN).unwrap().to_rfc3339(), "2026-10-25T00:30:00+00:00");
    }
}
