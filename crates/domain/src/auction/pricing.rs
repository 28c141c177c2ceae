//! The Dutch-auction price schedule: a price that starts high and drops in
//! steps, faster in a final turbo phase (SPEC §3).
//!
//! Everything here is a pure function of the schedule, the instant asked
//! about and, when a studio triggered turbo early, the instant it did so.
//! Time is handled at microsecond resolution (that of the database): any
//! finer part of an instant is truncated. Step counts come from integer
//! division on microseconds, and prices from whole cents.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::instant;
use crate::money::Money;
use crate::validation::ValidationErrors;

/// Most steps [`PriceSchedule::steps`] returns.
const MAX_STEPS: usize = 1_000;

/// The faster final phase of an auction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurboConfig {
    /// How long before `ends_at` turbo starts on its own.
    pub trigger_before: Duration,
    /// The extra drop at each turbo step.
    pub drop_amount: Money,
    /// Time between turbo steps.
    pub interval: Duration,
}

/// Everything that defines a price schedule, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceScheduleInput {
    pub start_price: Money,
    pub floor_price: Money,
    pub drop_amount: Money,
    pub drop_interval: Duration,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub turbo: Option<TurboConfig>,
}

/// A validated price schedule.
///
/// ```text
/// price(t) = start_price                                       if t < starts_at
///          = max(floor_price,
///                start_price
///                - drop_amount       * floor((t - starts_at)   / drop_interval)
///                - turbo_drop_amount * floor((t - turbo_start) / turbo_interval)  [t >= turbo_start])
/// ```
///
/// Only step boundaries strictly before `ends_at` count: from `ends_at` on,
/// the price stays what it was just before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceSchedule {
    start_price: Money,
    floor_price: Money,
    drop_amount: Money,
    drop_interval: Duration,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    turbo: Option<TurboConfig>,
}

/// One point of the schedule: from `at` on, the price is `price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PriceStep {
    pub at: DateTime<Utc>,
    pub price: Money,
    /// Which kind of drop happened at `at` (`turbo` when both did).
    pub phase: Phase,
}

/// Whether a price step is on the normal or the turbo schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PricePhase))]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Normal,
    Turbo,
}

impl PriceSchedule {
    /// Validates `input`, collecting every problem under the field name the
    /// HTTP API uses (`"drop_interval_minutes"`, `"turbo.drop_amount"`, ...).
    ///
    /// `starts_at` and `ends_at` are first truncated to microseconds and
    /// checked against the accepted range (see [`crate::instant`]), so the
    /// rules judge the instants storage will keep.
    pub fn new(mut input: PriceScheduleInput) -> Result<PriceSchedule, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let one_minute = Duration::minutes(1);
        input.starts_at = instant::accept_field(&mut errors, "starts_at", input.starts_at);
        input.ends_at = instant::accept_field(&mut errors, "ends_at", input.ends_at);

        if input.start_price <= input.floor_price {
            errors.add("start_price", "must be greater than floor_price");
            errors.add("floor_price", "must be less than start_price");
        }
        errors.check(!input.floor_price.is_zero(), "floor_price", "must be greater than 0");
        errors.check(!input.drop_amount.is_zero(), "drop_amount", "must be greater than 0");
        if let Some(range) = input.start_price.checked_sub(input.floor_price) {
            errors.check(input.drop_amount <= range, "drop_amount", "must be at most start_price - floor_price");
        }
        errors.check(input.drop_interval >= one_minute, "drop_interval_minutes", "must be at least 1 minute");
        errors.check(input.starts_at < input.ends_at, "ends_at", "must be after starts_at");

        if let Some(turbo) = &input.turbo {
            errors.check(
                turbo.trigger_before > Duration::zero(),
                "turbo.trigger_before_minutes",
                "must be greater than 0",
            );
            errors.check(
                turbo.trigger_before < input.ends_at - input.starts_at,
                "turbo.trigger_before_minutes",
                "must be shorter than the auction (ends_at - starts_at)",
            );
            errors.check(turbo.interval >= one_minute, "turbo.interval_minutes", "must be at least 1 minute");
            errors.check(
                turbo.interval < input.drop_interval,
                "turbo.interval_minutes",
                "must be shorter than drop_interval_minutes",
            );
            errors.check(!turbo.drop_amount.is_zero(), "turbo.drop_amount", "must be greater than 0");
            errors.check(turbo.drop_amount < input.drop_amount, "turbo.drop_amount", "must be less than drop_amount");
        }

        errors.into_result(PriceSchedule::from_stored(input))
    }

    /// A schedule as stored, trusted without re-running the rules: they were
    /// checked when it was accepted, and a rule that changed since must not
    /// make a stored auction unreadable.
    pub fn from_stored(input: PriceScheduleInput) -> PriceSchedule {
        PriceSchedule {
            start_price: input.start_price,
            floor_price: input.floor_price,
            drop_amount: input.drop_amount,
            drop_interval: input.drop_interval,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            turbo: input.turbo,
        }
    }

    /// The price until the first drop.
    pub fn start_price(&self) -> Money {
        self.start_price
    }

    /// The lowest price; drops stop here.
    pub fn floor_price(&self) -> Money {
        self.floor_price
    }

    /// The drop at each normal step.
    pub fn drop_amount(&self) -> Money {
        self.drop_amount
    }

    /// Time between normal steps.
    pub fn drop_interval(&self) -> Duration {
        self.drop_interval
    }

    /// When the schedule starts; normal steps are counted from here.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    /// When the schedule ends; the price no longer changes from here on.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.ends_at
    }

    /// The turbo phase, if the auction has one.
    pub fn turbo(&self) -> Option<&TurboConfig> {
        self.turbo.as_ref()
    }

    /// When turbo starts: `min(turbo_started_at, ends_at - trigger_before)`,
    /// or `None` without a turbo configuration.
    ///
    /// `turbo_started_at` is when a studio triggered turbo early. Turbo never
    /// starts before `starts_at`: an earlier trigger counts from `starts_at`.
    pub fn turbo_start(&self, turbo_started_at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let turbo = self.turbo.as_ref()?;
        // Validation keeps `ends_at - trigger_before` after `starts_at`.
        let scheduled = self.ends_at.checked_sub_signed(turbo.trigger_before).unwrap_or(self.starts_at);
        let start = match turbo_started_at {
            Some(triggered) => triggered.min(scheduled),
            None => scheduled,
        };
        Some(start.max(self.starts_at))
    }

    /// Whether turbo is running at `at` (it keeps running after `ends_at`).
    pub fn turbo_active_at(&self, at: DateTime<Utc>, turbo_started_at: Option<DateTime<Utc>>) -> bool {
        self.turbo_start(turbo_started_at).is_some_and(|start| at >= start)
    }

    /// The price at `at`; from `ends_at` on, the last price before `ends_at`.
    pub fn price_at(&self, at: DateTime<Utc>, turbo_started_at: Option<DateTime<Utc>>) -> Money {
        let timeline = self.timeline(turbo_started_at);
        self.price_at_micros(&timeline, micros(at))
    }

    /// The first instant after `at` at which the price changes: the earliest
    /// normal or turbo step boundary still before `ends_at`. `None` once the
    /// price is at the floor or no boundary is left before `ends_at`.
    pub fn next_change_at(&self, at: DateTime<Utc>, turbo_started_at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let timeline = self.timeline(turbo_started_at);
        let now = micros(at);
        if self.price_at_micros(&timeline, now) == self.floor_price {
            return None;
        }
        let normal = next_boundary(timeline.starts, timeline.interval, now);
        let next = match timeline.turbo {
            Some(turbo) => normal.min(next_boundary(turbo.start, turbo.interval, now)),
            None => normal,
        };
        if next > timeline.last {
            return None;
        }
        instant(next)
    }

    /// The steps of the schedule: the start price at `starts_at`, then one
    /// step at each instant the price changes, until the floor or `ends_at`
    /// (steps strictly before `ends_at`), at most 1,000 steps.
    pub fn steps(&self, turbo_started_at: Option<DateTime<Utc>>) -> Vec<PriceStep> {
        let timeline = self.timeline(turbo_started_at);
        let mut steps = vec![PriceStep { at: self.starts_at, price: self.start_price, phase: Phase::Normal }];
        let mut at = self.starts_at;
        while steps.len() < MAX_STEPS {
            let Some(next) = self.next_change_at(at, turbo_started_at) else {
                break;
            };
            let phase = if timeline.is_turbo_boundary(micros(next)) { Phase::Turbo } else { Phase::Normal };
            steps.push(PriceStep { at: next, price: self.price_at(next, turbo_started_at), phase });
            at = next;
        }
        steps
    }

    /// The schedule's instants and intervals in microseconds.
    fn timeline(&self, turbo_started_at: Option<DateTime<Utc>>) -> Timeline {
        let turbo = self.turbo.as_ref().zip(self.turbo_start(turbo_started_at)).map(|(turbo, start)| TurboTimeline {
            start: micros(start),
            interval: duration_micros(turbo.interval),
            drop: turbo.drop_amount.minor_units(),
        });
        // The last whole microsecond strictly before `ends_at`.
        let sub_micro = !self.ends_at.timestamp_subsec_nanos().is_multiple_of(1_000);
        let last = micros(self.ends_at) - if sub_micro { 0 } else { 1 };
        Timeline { starts: micros(self.starts_at), last, interval: duration_micros(self.drop_interval), turbo }
    }

    /// The price at microsecond `at`, frozen after the last one before `ends_at`.
    fn price_at_micros(&self, timeline: &Timeline, at: i128) -> Money {
        let at = at.min(timeline.last);
        if at < timeline.starts {
            return self.start_price;
        }
        let normal_steps = (at - timeline.starts) / timeline.interval;
        let mut reduction = normal_steps.saturating_mul(i128::from(self.drop_amount.minor_units()));
        if let Some(turbo) = timeline.turbo
            && at >= turbo.start
        {
            let turbo_steps = (at - turbo.start) / turbo.interval;
            reduction = reduction.saturating_add(turbo_steps.saturating_mul(i128::from(turbo.drop)));
        }
        let cents = i128::from(self.start_price.minor_units()) - reduction;
        if cents <= i128::from(self.floor_price.minor_units()) {
            return self.floor_price;
        }
        // Between the floor and the start price, so always a valid amount.
        i64::try_from(cents).ok().and_then(|cents| Money::from_minor_units(cents).ok()).unwrap_or(self.floor_price)
    }
}

/// A schedule's instants (microseconds since the epoch) and intervals
/// (microseconds), for a given turbo state.
#[derive(Debug, Clone, Copy)]
struct Timeline {
    starts: i128,
    /// The last microsecond strictly before `ends_at`.
    last: i128,
    interval: i128,
    turbo: Option<TurboTimeline>,
}

#[derive(Debug, Clone, Copy)]
struct TurboTimeline {
    start: i128,
    interval: i128,
    /// Turbo drop in minor units.
    drop: i64,
}

impl Timeline {
    /// Whether a turbo step happens at microsecond `at`. Turbo's own start
    /// is not one: no turbo step has elapsed there yet.
    fn is_turbo_boundary(&self, at: i128) -> bool {
        self.turbo.is_some_and(|turbo| at > turbo.start && (at - turbo.start) % turbo.interval == 0)
    }
}

/// The first `origin + k * interval` (k ≥ 1) after `at`.
fn next_boundary(origin: i128, interval: i128, at: i128) -> i128 {
    if at < origin { origin + interval } else { origin + ((at - origin) / interval + 1) * interval }
}

/// Microseconds since the epoch, rounded down.
fn micros(at: DateTime<Utc>) -> i128 {
    i128::from(at.timestamp_micros())
}

/// Whole microseconds in a step interval; at least one, so that even a
/// stored schedule no rule checked never divides by zero.
fn duration_micros(duration: Duration) -> i128 {
    (i128::from(duration.num_seconds()) * 1_000_000 + i128::from(duration.subsec_nanos() / 1_000)).max(1)
}

fn instant(micros: i128) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(i64::try_from(micros).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn cents(c: i64) -> Money {
        Money::from_minor_units(c).unwrap()
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-01T18:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        t0() + Duration::minutes(minutes)
    }

    fn us(n: i64) -> Duration {
        Duration::microseconds(n)
    }

    fn input(start: &str, floor: &str, drop: &str, every_min: i64, len_min: i64) -> PriceScheduleInput {
        PriceScheduleInput {
            start_price: m(start),
            floor_price: m(floor),
            drop_amount: m(drop),
            drop_interval: Duration::minutes(every_min),
            starts_at: t0(),
            ends_at: at(len_min),
            turbo: None,
        }
    }

    fn turbo(trigger_min: i64, drop: &str, every_min: i64) -> Option<TurboConfig> {
        Some(TurboConfig {
            trigger_before: Duration::minutes(trigger_min),
            drop_amount: m(drop),
            interval: Duration::minutes(every_min),
        })
    }

    fn step(minutes: i64, price: &str, phase: Phase) -> PriceStep {
        PriceStep { at: at(minutes), price: m(price), phase }
    }

    /// Steps written `minutes:price`, a turbo step marked `*`, e.g. `"0:100 45:55*"`.
    fn steps(written: &str) -> Vec<PriceStep> {
        let step_of = |written: &str| {
            let (minutes, price) = written.split_once(':').unwrap();
            let (price, phase) = price.strip_suffix('*').map_or((price, Phase::Normal), |price| (price, Phase::Turbo));
            step(minutes.parse().unwrap(), price, phase)
        };
        written.split_whitespace().map(step_of).collect()
    }

    /// A schedule of [`input`]'s with the turbo phase of [`turbo`]'s.
    fn with_turbo(input: PriceScheduleInput, turbo: Option<TurboConfig>) -> PriceSchedule {
        PriceSchedule::new(PriceScheduleInput { turbo, ..input }).unwrap()
    }

    #[test]
    fn drops_every_interval() {
        let s = PriceSchedule::new(input("200", "50", "20", 30, 600)).unwrap();
        assert_eq!(s.price_at(at(-5), None), m("200"));
        assert_eq!(s.price_at(t0(), None), m("200"));
        assert_eq!(s.price_at(at(30) - us(1), None), m("200"));
        assert_eq!(s.price_at(at(30), None), m("180"));
        assert_eq!(s.price_at(at(61), None), m("160"));
        assert_eq!(s.next_change_at(at(-5), None), Some(at(30)));
        assert_eq!(s.next_change_at(at(30), None), Some(at(60)));
        assert_eq!(s.price_at(at(599), None), m("50"));
        assert_eq!(s.next_change_at(at(599), None), None);
    }

    #[test]
    fn stops_at_the_floor() {
        let s = PriceSchedule::new(input("100", "30", "25", 10, 120)).unwrap();
        assert_eq!(s.price_at(at(20), None), m("50"));
        assert_eq!(s.price_at(at(30), None), m("30"));
        assert_eq!(s.price_at(at(100), None), m("30"));
        assert_eq!(s.next_change_at(at(20), None), Some(at(30)));
        assert_eq!(s.next_change_at(at(30), None), None);
    }

    fn turbo_example() -> PriceSchedule {
        with_turbo(input("500", "100", "50", 60, 120), turbo(30, "20", 5))
    }

    #[test]
    fn turbo_adds_faster_drops_at_the_end() {
        let s = turbo_example();
        assert_eq!(s.turbo_start(None), Some(at(90)));
        assert!(!s.turbo_active_at(at(90) - us(1), None));
        assert!(s.turbo_active_at(at(90), None));
        assert_eq!(s.price_at(at(89), None), m("450"));
        assert_eq!(s.price_at(at(90), None), m("450"));
        assert_eq!(s.price_at(at(95), None), m("430"));
        // 15 minutes before the end: one normal drop and three turbo drops.
        assert_eq!(s.price_at(at(105), None), m("390"));
        assert_eq!(s.next_change_at(at(105), None), Some(at(110)));
        assert_eq!(s.price_at(at(115), None), m("350"));
        // The boundary at the end itself does not count; the price freezes.
        assert_eq!(s.next_change_at(at(115), None), None);
        assert_eq!(s.price_at(at(120), None), m("350"));
        assert_eq!(s.price_at(at(60 * 24), None), m("350"));
    }

    #[test]
    fn early_trigger_keeps_the_current_price_and_lowers_later_ones() {
        let s = turbo_example();
        let trigger = at(30) + us(1_234);
        assert_eq!(s.turbo_start(Some(trigger)), Some(trigger));
        assert_eq!(s.price_at(trigger, Some(trigger)), s.price_at(trigger, None));
        assert_eq!(s.price_at(trigger, Some(trigger)), m("500"));
        assert_eq!(s.next_change_at(trigger, Some(trigger)), Some(trigger + Duration::minutes(5)));
        assert_eq!(s.price_at(at(45) + us(1_234), Some(trigger)), m("440"));
        assert_eq!(s.price_at(at(45) + us(1_234), None), m("500"));
        // A trigger after the scheduled turbo start changes nothing.
        assert_eq!(s.turbo_start(Some(at(100))), Some(at(90)));
        // Nor can turbo start before the auction does.
        assert_eq!(s.turbo_start(Some(at(-30))), Some(t0()));
        assert_eq!(s.price_at(t0(), Some(at(-30))), m("500"));
        assert!(!s.turbo_active_at(at(-1), Some(at(-30))));
    }

    #[test]
    fn next_change_before_the_start_may_be_a_turbo_step() {
        let s = with_turbo(input("100", "10", "10", 50, 60), turbo(55, "1", 5));
        assert_eq!(s.next_change_at(at(-60), None), Some(at(10)));
        assert_eq!(s.price_at(at(10), None), m("99"));
        let plain = PriceSchedule::new(input("100", "10", "10", 50, 60)).unwrap();
        assert_eq!(plain.next_change_at(at(-60), None), Some(at(50)));
    }

    #[test]
    fn a_turbo_window_a_nanosecond_too_long_is_refused_as_stored() {
        // ends_at − starts_at is one nanosecond longer than trigger_before:
        // once truncated to what storage keeps, the window no longer fits.
        let errors = PriceSchedule::new(PriceScheduleInput {
            ends_at: at(60) + Duration::nanoseconds(1),
            turbo: turbo(60, "1", 5),
            ..input("100", "10", "10", 10, 60)
        })
        .unwrap_err();
        assert!(errors.has("turbo.trigger_before_minutes"));
    }

    #[test]
    fn sub_microsecond_instants_are_truncated() {
        let s = PriceSchedule::new(PriceScheduleInput {
            ends_at: at(30) + Duration::nanoseconds(500),
            ..input("100", "10", "10", 10, 30)
        })
        .unwrap();
        // `ends_at` is kept as storage keeps it: the boundary at +30 min is `ends_at`, so it does not count.
        assert_eq!(s.ends_at(), at(30));
        assert_eq!(s.next_change_at(at(25), None), None);
        assert_eq!(s.price_at(at(31), None), m("80"));
        let exact = PriceSchedule::new(input("100", "10", "10", 10, 30)).unwrap();
        assert_eq!(exact.next_change_at(at(25), None), None);
        assert_eq!(exact.price_at(at(31), None), m("80"));

        // A trigger read from a nanosecond clock counts from its microsecond.
        let s = turbo_example();
        let trigger = at(30) + Duration::nanoseconds(1_234_567);
        assert_eq!(s.price_at(trigger, Some(trigger)), m("500"));
        assert_eq!(s.next_change_at(trigger, Some(trigger)), Some(at(35) + us(1_234)));
        assert_eq!(s.price_at(at(35) + us(1_234), Some(trigger)), m("480"));
    }

    #[test]
    fn steps_merge_normal_and_turbo_drops() {
        let s = with_turbo(input("100", "10", "10", 10, 60), turbo(20, "5", 5));
        // Turbo starts at 40, but no turbo step has elapsed yet.
        assert_eq!(s.steps(None), steps("0:100 10:90 20:80 30:70 40:60 45:55* 50:40* 55:35*"));
        let triggered = "0:100 10:90 20:80 30:70 37:65* 40:55 42:50* 47:45* 50:35 52:30* 57:25*";
        assert_eq!(s.steps(Some(at(32))), steps(triggered));
    }

    #[test]
    fn steps_end_at_the_floor() {
        let s = with_turbo(input("100", "50", "10", 10, 60), turbo(20, "5", 5));
        assert_eq!(s.steps(None), steps("0:100 10:90 20:80 30:70 40:60 45:55* 50:50*"));
    }

    #[test]
    fn steps_are_capped() {
        let s = PriceSchedule::new(input("1000000", "0.01", "0.01", 1, 60 * 24 * 30)).unwrap();
        let steps = s.steps(None);
        assert_eq!(steps.len(), MAX_STEPS);
        assert_eq!(steps[MAX_STEPS - 1].at, at(999));
    }

    #[test]
    fn steps_serialize_for_the_api() {
        let json = serde_json::to_value(step(10, "90", Phase::Turbo)).unwrap();
        assert_eq!(json, serde_json::json!({"at": "2025-06-01T18:10:00Z", "price": "90.00", "phase": "turbo"}));
    }

    #[test]
    fn validation_names_every_bad_field() {
        let bad = PriceScheduleInput {
            start_price: m("10"),
            floor_price: m("0"),
            drop_amount: m("0"),
            drop_interval: Duration::seconds(59),
            starts_at: t0(),
            ends_at: t0(),
            turbo: Some(TurboConfig {
                trigger_before: Duration::zero(),
                drop_amount: m("0"),
                interval: Duration::seconds(30),
            }),
        };
        let errors = PriceSchedule::new(bad).unwrap_err();
        for field in [
            "floor_price",
            "drop_amount",
            "drop_interval_minutes",
            "ends_at",
            "turbo.trigger_before_minutes",
            "turbo.interval_minutes",
            "turbo.drop_amount",
        ] {
            assert!(errors.has(field), "{field}: {errors}");
        }
        assert!(!errors.has("start_price"));

        let errors = PriceSchedule::new(input("50", "50", "10", 10, 60)).unwrap_err();
        assert!(errors.has("start_price") && errors.has("floor_price"));

        let errors = PriceSchedule::new(input("100", "50", "50.01", 10, 60)).unwrap_err();
        assert_eq!(errors.fields().keys().collect::<Vec<_>>(), ["drop_amount"]);
        assert!(PriceSchedule::new(input("100", "50", "50", 10, 60)).is_ok());

        let errors =
            PriceSchedule::new(PriceScheduleInput { turbo: turbo(60, "10", 10), ..input("100", "50", "10", 10, 60) })
                .unwrap_err();
        assert_eq!(
            errors.fields().keys().collect::<Vec<_>>(),
            ["turbo.drop_amount", "turbo.interval_minutes", "turbo.trigger_before_minutes"]
        );
        assert!(
            PriceSchedule::new(PriceScheduleInput { turbo: turbo(59, "9.99", 9), ..input("100", "50", "10", 10, 60) })
                .is_ok()
        );
    }

    // ---- properties ----

    fn turbo_strategy(drop: i64, interval_min: i64, len_min: i64) -> BoxedStrategy<Option<TurboConfig>> {
        if drop < 2 || interval_min < 2 || len_min < 2 {
            return Just(None).boxed();
        }
        proptest::option::of((1..len_min, 1..drop, 1..interval_min).prop_map(|(trigger_min, drop, every_min)| {
            TurboConfig {
                trigger_before: Duration::minutes(trigger_min),
                drop_amount: cents(drop),
                interval: Duration::minutes(every_min),
            }
        }))
        .boxed()
    }

    /// Valid schedules: prices in cents, intervals in whole minutes, and a
    /// start anywhere within about ±11 days of `t0` at microsecond precision.
    fn schedules() -> impl Strategy<Value = PriceSchedule> {
        (1i64..=100_000, 1i64..=500_000, 1i64..=180, 1i64..=3_000, -1_000_000_000_000i64..=1_000_000_000_000)
            .prop_flat_map(|(floor, range, interval_min, len_min, start_us)| {
                (1..=range).prop_flat_map(move |drop| {
                    turbo_strategy(drop, interval_min, len_min).prop_map(move |turbo| {
                        let starts_at = t0() + us(start_us);
                        PriceSchedule::new(PriceScheduleInput {
                            start_price: cents(floor + range),
                            floor_price: cents(floor),
                            drop_amount: cents(drop),
                            drop_interval: Duration::minutes(interval_min),
                            starts_at,
                            ends_at: starts_at + Duration::minutes(len_min),
                            turbo,
                        })
                        .expect("generated schedules are valid")
                    })
                })
            })
    }

    /// An instant from `seed`, between an hour before the start and an hour
    /// after the end of `s`, at microsecond precision.
    fn instant_in(s: &PriceSchedule, seed: u64) -> DateTime<Utc> {
        let from = s.starts_at() - Duration::hours(1);
        let span = (s.ends_at() + Duration::hours(1) - from).num_microseconds().unwrap();
        from + us(i64::try_from(seed % span.unsigned_abs()).unwrap())
    }

    /// An optional early trigger: `None` or an instant from `seed`.
    fn trigger_in(s: &PriceSchedule, seed: Option<u64>) -> Option<DateTime<Utc>> {
        seed.map(|seed| instant_in(s, seed))
    }

    /// A schedule, an instant in or around it, and maybe an early trigger.
    fn moments() -> impl Strategy<Value = (PriceSchedule, DateTime<Utc>, Option<DateTime<Utc>>)> {
        (schedules(), any::<u64>(), any::<Option<u64>>()).prop_map(|(s, seed, trigger)| {
            let (t, trigger) = (instant_in(&s, seed), trigger_in(&s, trigger));
            (s, t, trigger)
        })
    }

    /// The price in cents, computed independently with i128 arithmetic on
    /// microsecond offsets.
    fn reference_cents(s: &PriceSchedule, t: DateTime<Utc>, trigger: Option<DateTime<Utc>>) -> i128 {
        let micros_between =
            |from: DateTime<Utc>, to: DateTime<Utc>| i128::from((to - from).num_microseconds().unwrap());
        let interval_micros = |d: Duration| i128::from(d.num_microseconds().unwrap());
        let t = t.min(s.ends_at() - us(1));
        let since_start = micros_between(s.starts_at(), t);
        if since_start < 0 {
            return i128::from(s.start_price().minor_units());
        }
        let a = since_start / interval_micros(s.drop_interval());
        let (b, turbo_drop) = match s.turbo() {
            Some(turbo) => {
                let mut turbo_start = s.ends_at() - turbo.trigger_before;
                if let Some(trigger) = trigger {
                    turbo_start = turbo_start.min(trigger.max(s.starts_at()));
                }
                let since_turbo = micros_between(turbo_start, t);
                let b = if since_turbo >= 0 { since_turbo / interval_micros(turbo.interval) } else { 0 };
                (b, i128::from(turbo.drop_amount.minor_units()))
            }
            None => (0, 0),
        };
        let raw =
            i128::from(s.start_price().minor_units()) - a * i128::from(s.drop_amount().minor_units()) - b * turbo_drop;
        raw.max(i128::from(s.floor_price().minor_units()))
    }

    proptest! {
        #[test]
        fn starts_at_the_start_price(s in schedules(), trigger in any::<Option<u64>>()) {
            let trigger = trigger_in(&s, trigger);
            prop_assert_eq!(s.price_at(s.starts_at(), trigger), s.start_price());
            prop_assert_eq!(s.price_at(s.starts_at() - us(1), trigger), s.start_price());
        }

        #[test]
        fn never_rises_and_never_goes_below_the_floor(
            s in schedules(),
            a in any::<u64>(),
            b in any::<u64>(),
            trigger in any::<Option<u64>>(),
        ) {
            let trigger = trigger_in(&s, trigger);
            let (early, late) = {
                let (x, y) = (instant_in(&s, a), instant_in(&s, b));
                (x.min(y), x.max(y))
            };
            let (p_early, p_late) = (s.price_at(early, trigger), s.price_at(late, trigger));
            prop_assert!(p_early >= p_late, "{} at {} < {} at {}", p_early, early, p_late, late);
            prop_assert!(p_late >= s.floor_price());
            prop_assert!(p_early <= s.start_price());
        }

        #[test]
        fn price_is_constant_until_the_next_change((s, t, trigger) in moments()) {
            let price = s.price_at(t, trigger);
            match s.next_change_at(t, trigger) {
                Some(next) => {
                    prop_assert!(next > t);
                    prop_assert!(next < s.ends_at());
                    prop_assert_eq!(s.price_at(next - us(1), trigger), price);
                    prop_assert!(s.price_at(next, trigger) < price);
                }
                None => {
                    for later in [
                        t + us(1),
                        t + Duration::minutes(1),
                        t + Duration::hours(1),
                        s.ends_at(),
                        s.ends_at() + Duration::days(365),
                    ] {
                        prop_assert_eq!(s.price_at(later, trigger), price);
                    }
                }
            }
        }

        #[test]
        fn early_trigger_never_raises_a_price(
            s in schedules(),
            trigger in any::<u64>(),
            seed in any::<u64>(),
        ) {
            let trigger = instant_in(&s, trigger);
            prop_assert_eq!(s.price_at(trigger, Some(trigger)), s.price_at(trigger, None));
            let t = instant_in(&s, seed);
            prop_assert!(s.price_at(t, Some(trigger)) <= s.price_at(t, None));
        }

        #[test]
        fn steps_agree_with_price_at(s in schedules(), trigger in any::<Option<u64>>()) {
            let trigger = trigger_in(&s, trigger);
            let steps = s.steps(trigger);
            prop_assert!(!steps.is_empty() && steps.len() <= MAX_STEPS);
            prop_assert_eq!(steps[0], PriceStep {
                at: s.starts_at(),
                price: s.start_price(),
                phase: Phase::Normal,
            });
            let turbo_start = s.turbo_start(trigger);
            for pair in steps.windows(2) {
                let (before, step) = (pair[0], pair[1]);
                prop_assert!(step.at > before.at);
                prop_assert!(step.price < before.price);
                prop_assert!(step.at < s.ends_at());
                prop_assert_eq!(step.price, s.price_at(step.at, trigger));
                prop_assert_eq!(s.price_at(step.at - us(1), trigger), before.price);
                let turbo_step = match (s.turbo(), turbo_start) {
                    (Some(turbo), Some(start)) => {
                        let since = (step.at - start).num_microseconds().unwrap();
                        since > 0 && since % turbo.interval.num_microseconds().unwrap() == 0
                    }
                    _ => false,
                };
                prop_assert_eq!(step.phase == Phase::Turbo, turbo_step);
            }
            let last = steps[steps.len() - 1];
            if steps.len() < MAX_STEPS {
                prop_assert_eq!(s.next_change_at(last.at, trigger), None);
                prop_assert_eq!(s.price_at(s.ends_at(), trigger), last.price);
            }
        }

        #[test]
        fn arithmetic_is_exact((s, t, trigger) in moments()) {
            let price = s.price_at(t, trigger);
            prop_assert_eq!(i128::from(price.minor_units()), reference_cents(&s, t, trigger));
            prop_assert_eq!(price.amount().scale(), 2);
        }
    }
}
