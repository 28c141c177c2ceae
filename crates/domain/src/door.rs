//! The studio's door (SPEC §6 check-in, §8 studio operations): a day's
//! sessions in the studio's time zone, and who is coming to one of them.

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::auction::AuctionStatus;
use crate::error::DomainError;
use crate::ids::StudioId;
use crate::ports::SessionSummary;
use crate::reports::start_of_day;
use crate::reservation::{CheckInWindow, Reservation, ReservationStatus, ReservationTarget};
use crate::unit_of_work::Policy;
use crate::validation::ValidationErrors;

/// A calendar date as a query gives it: `YYYY-MM-DD`, from 1970-01-01 to
/// 9999-12-31 (the years of the instants the service accepts).
pub fn parse_date(field: &str, value: &str) -> Result<NaiveDate, ValidationErrors> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 4 || i == 7) && b == b'-');
    let first = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|date| shaped && (first..=last).contains(date))
        .ok_or_else(|| ValidationErrors::single(field, "must be a date YYYY-MM-DD from 1970-01-01 to 9999-12-31"))
}

/// The date it is at `at` in `zone`.
pub fn date_at(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// The instants `date` spans in `zone`: from its first instant to the next
/// day's first. A day is 23 or 25 hours long across a DST change, and may
/// start after midnight when midnight itself is skipped.
pub fn day_bounds(zone: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = date.succ_opt().unwrap_or(date);
    (start_of_day(zone, date), start_of_day(zone, next))
}

/// How a session stands now: an auction by its status, an event by whether
/// the catalogue shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Auction(AuctionStatus),
    Event { is_active: bool },
}

/// A session's reservations as they stand now: live holds, bookings
/// (CONFIRMED, CHECKED_IN, NO_SHOW) and, of the bookings, those checked in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    pub held_count: u32,
    pub held_seats: u32,
    pub booked_count: u32,
    pub booked_seats: u32,
    pub checked_in_count: u32,
    pub checked_in_seats: u32,
}

impl SessionCounts {
    /// Counts `count` reservations of `seats` seats in all, in `status` now
    /// (a HOLD is a live one: lapsed holds are EXPIRED now).
    pub fn add(&mut self, status: ReservationStatus, count: u32, seats: u32) {
        let add = |total: &mut u32, n: u32| *total = total.saturating_add(n);
        if status == ReservationStatus::Hold {
            add(&mut self.held_count, count);
            add(&mut self.held_seats, seats);
        }
        if status.is_booked() {
            add(&mut self.booked_count, count);
            add(&mut self.booked_seats, seats);
        }
        if status == ReservationStatus::CheckedIn {
            add(&mut self.checked_in_count, count);
            add(&mut self.checked_in_seats, seats);
        }
    }
}

/// A session as the door sees it: what and when, how it stands, and how
/// many are coming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorSession {
    pub session: SessionSummary,
    pub state: SessionState,
    /// Seats in all: an event's capacity, 1 for an auction's slot.
    pub capacity: u32,
    pub counts: SessionCounts,
}

impl DoorSession {
    /// When its door is open for check-in, under `policy`.
    pub fn check_in_window(&self, policy: &Policy) -> CheckInWindow {
        CheckInWindow {
            session_starts_at: self.session.starts_at,
            session_ends_at: self.session.ends_at,
            opens_before: policy.check_in_opens_before,
        }
    }
}

/// One of a session's live reservations, with its holder's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub reservation: Reservation,
    pub full_name: String,
}

/// A studio's sessions of one day in its time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudioDay {
    pub date: NaiveDate,
    pub timezone: String,
    /// The day's first instant, and the next day's.
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// By start, then auctions before events, then id.
    pub sessions: Vec<DoorSession>,
}

/// Who is coming to a session: its live reservations, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    pub session: DoorSession,
    pub entries: Vec<RosterEntry>,
    /// The instant it was read at (a hold is live iff it lapses after it).
    pub at: DateTime<Utc>,
}

/// Orders sessions by start, then auctions before events, then id.
pub fn sort_sessions(sessions: &mut [DoorSession]) {
    sessions.sort_by_key(|door| {
        let (kind, id) = match door.session.target {
            ReservationTarget::Auction(id) => (0, id.0),
            ReservationTarget::Event(id) => (1, id.0),
        };
        (door.session.starts_at, kind, id)
    });
}

/// Orders a roster by name, case-insensitively, then by reservation: the
/// same on every store (code points, not a language's collation, which a
/// client may apply for display).
pub fn sort_roster(entries: &mut [RosterEntry]) {
    entries.sort_by_cached_key(|entry| (entry.full_name.to_lowercase(), entry.reservation.id.0));
}

/// What the door reads.
pub trait DoorStore: Send + Sync {
    /// The studio's auctions (by `scheduled_at`) and events (by `starts_at`,
    /// deleted ones left out) whose session starts in [`from`, `to`), in no
    /// order, with their reservations counted as they stand at `now`.
    fn sessions_starting(
        &self,
        studio: StudioId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<DoorSession>, DomainError>> + Send;

    /// One session, counted as it stands at `now`; a deleted event is none.
    fn door_session(
        &self,
        target: ReservationTarget,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<DoorSession>, DomainError>> + Send;

    /// The session's reservations live at `now` (holds that have not lapsed,
    /// and bookings: CONFIRMED, CHECKED_IN, NO_SHOW) with their holders'
    /// names, in no order.
    fn roster(
        &self,
        target: ReservationTarget,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<RosterEntry>, DomainError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn zone(name: &str) -> Tz {
        name.parse().unwrap()
    }

    #[test]
    fn a_day_spans_its_zones_midnights() {
        assert_eq!(
            day_bounds(zone("Europe/Istanbul"), date(2026, 6, 1)),
            (utc("2026-05-31T21:00:00Z"), utc("2026-06-01T21:00:00Z"))
        );
        assert_eq!(
            day_bounds(zone("UTC"), date(2026, 6, 1)),
            (utc("2026-06-01T00:00:00Z"), utc("2026-06-02T00:00:00Z"))
        );
    }

    #[test]
    fn days_across_a_dst_change_are_23_or_25_hours() {
        let london = zone("Europe/London");
        let (from, to) = day_bounds(london, date(2026, 3, 29));
        assert_eq!((from, to), (utc("2026-03-29T00:00:00Z"), utc("2026-03-29T23:00:00Z")));
        let (from, to) = day_bounds(london, date(2026, 10, 25));
        assert_eq!((from, to), (utc("2026-10-24T23:00:00Z"), utc("2026-10-26T00:00:00Z")));
        assert_eq!(to - from, chrono::Duration::hours(25));
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_when_the_gap_ends() {
        // São Paulo moved from -03 to -02 at midnight on 2018-11-04: the day began at 01:00.
        let (from, _) = day_bounds(zone("America/Sao_Paulo"), date(2018, 11, 4));
        assert_eq!(from, utc("2018-11-04T03:00:00Z"));
        assert_eq!(day_bounds(zone("America/Sao_Paulo"), date(2018, 11, 3)).1, from);
        // Samoa skipped 2011-12-30 altogether: the day is empty.
        let (from, to) = day_bounds(zone("Pacific/Apia"), date(2011, 12, 30));
        assert_eq!(from, to);
    }

    #[test]
    fn the_date_at_an_instant_is_the_zones() {
        let at = utc("2026-06-01T22:30:00Z");
        assert_eq!(date_at(zone("Europe/Istanbul"), at), date(2026, 6, 2));
        assert_eq!(date_at(zone("America/New_York"), at), date(2026, 6, 1));
    }

    #[test]
    fn dates_are_plain_and_in_range() {
        assert_eq!(parse_date("date", "2026-06-01"), Ok(date(2026, 6, 1)));
        assert_eq!(parse_date("date", "1970-01-01"), Ok(date(1970, 1, 1)));
        assert_eq!(parse_date("date", "9999-12-31"), Ok(date(9999, 12, 31)));
        for bad in [
            "",
            "2026-6-1",
            "2026-02-30",
            "1969-12-31",
            "20260601",
            "2026-06-01T00:00:00Z",
            " 2026-06-01",
            "+2026-06-1",
        ] {
            assert!(parse_date("date", bad).unwrap_err().has("date"), "{bad:?}");
        }
    }

    #[test]
    fn counts_tell_holds_bookings_and_check_ins_apart() {
        let mut counts = SessionCounts::default();
        counts.add(ReservationStatus::Hold, 1, 2);
        counts.add(ReservationStatus::Confirmed, 2, 3);
        counts.add(ReservationStatus::CheckedIn, 1, 4);
        counts.add(ReservationStatus::NoShow, 1, 1);
        assert_eq!(
            counts,
            SessionCounts {
                held_count: 1,
                held_seats: 2,
                booked_count: 4,
                booked_seats: 8,
                checked_in_count: 1,
                checked_in_seats: 4
            }
        );
    }
}
