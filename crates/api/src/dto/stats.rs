//! A studio's numbers over a range of its days (`GET /studios/{id}/stats`),
//! shaped for a dashboard: the totals, and one entry per day for a chart.

use chrono::{DateTime, NaiveDate, Utc};
use hothour_domain::Money;
use hothour_domain::reports::{DayTotals, StudioStats};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::schema;

/// A share between 0 and 1: the `Ratio` component every ratio refers to.
pub struct Ratio;

impl PartialSchema for Ratio {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A share between 0 and 1 as a decimal string with four decimals (`\"0.8333\"` is 83.33 %), rounded half to even: never a JSON number.",
            ))
            .examples(["0.8333"])
            .pattern(Some(r"^(0\.[0-9]{4}|1\.0000)$"))
            .into()
    }
}

impl ToSchema for Ratio {}

/// What a studio's sessions added up to, over a day or a range of days. A
/// reservation counts on the day its session starts (an auction's
/// `scheduled_at`, an event's `starts_at`) on the studio's clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudioNumbers {
    /// Σ total price − refunded over the bookings (`CONFIRMED`, `CHECKED_IN` or `NO_SHOW` now).
    #[schema(value_type = schema::Money)]
    pub revenue: Money,
    /// Auctions that sold (have a booking).
    pub slots_sold: u64,
    /// Auctions whose sale ended with no booking (cancelled ones are neither sold nor expired).
    pub slots_expired_unsold: u64,
    /// The mean of sale price / start price over the sold auctions (each share counted in
    /// millionths, truncated, then averaged); null when none sold.
    #[schema(value_type = Option<Ratio>)]
    pub average_sale_ratio: Option<Decimal>,
    /// Seats booked on events.
    pub seats_sold: u64,
    /// The seats those events have: Σ capacity of the studio's events (active or not, not deleted).
    pub seats_capacity: u64,
    /// `seats_sold / seats_capacity`; null when there is no capacity.
    #[schema(value_type = Option<Ratio>)]
    pub fill_ratio: Option<Decimal>,
    /// Bookings checked in at the door.
    pub checked_in: u64,
    /// Bookings whose holder did not come (marked after the session started).
    pub no_shows: u64,
    /// `no_shows / (checked_in + no_shows)`; null when both are 0.
    #[schema(value_type = Option<Ratio>)]
    pub no_show_rate: Option<Decimal>,
}

impl StudioNumbers {
    pub fn of(totals: &DayTotals) -> StudioNumbers {
        StudioNumbers {
            revenue: totals.revenue,
            slots_sold: totals.slots_sold,
            slots_expired_unsold: totals.slots_expired_unsold,
            average_sale_ratio: totals.average_sale_ratio(),
            seats_sold: totals.seats_sold,
            seats_capacity: totals.seats_capacity,
            fill_ratio: totals.fill_ratio(),
            checked_in: totals.checked_in,
            no_shows: totals.no_show,
            no_show_rate: totals.no_show_rate(),
        }
    }
}

/// One day of the range, on the studio's clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudioDayNumbers {
    /// The day, on the studio's clock.
    #[schema(example = "2026-03-29")]
    pub date: NaiveDate,
    /// When the day begins (its midnight in the studio's zone), in UTC.
    pub starts_at: DateTime<Utc>,
    /// When it ends (the next midnight), in UTC: a day is 23 or 25 hours long when the clocks change.
    pub ends_at: DateTime<Utc>,
    #[serde(flatten)]
    pub numbers: StudioNumbers,
}

/// A studio's numbers over a range of its days: the totals and every day of
/// the range, in order, days with nothing included.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudioStatsOut {
    pub studio_id: i64,
    /// The first day, included.
    #[schema(example = "2026-03-23")]
    pub from: NaiveDate,
    /// The last day, included.
    #[schema(example = "2026-03-29")]
    pub to: NaiveDate,
    /// The studio's time zone, whose days these are.
    #[schema(value_type = schema::TimeZone)]
    pub timezone: String,
    /// The whole range (ratios from its sums, not a mean of the days').
    pub totals: StudioNumbers,
    pub days: Vec<StudioDayNumbers>,
}

impl StudioStatsOut {
    pub fn of(studio_id: i64, stats: &StudioStats) -> StudioStatsOut {
        let range = stats.days.range();
        let bounds = stats.days.bounds();
        let days = stats
            .days
            .days()
            .iter()
            .zip(&stats.per_day)
            .enumerate()
            .map(|(n, (date, totals))| StudioDayNumbers {
                date: *date,
                starts_at: bounds[n],
                ends_at: bounds[n + 1],
                numbers: StudioNumbers::of(totals),
            })
            .collect();
        StudioStatsOut {
            studio_id,
            from: range.from(),
            to: range.to(),
            timezone: stats.days.zone().name().to_owned(),
            totals: StudioNumbers::of(&stats.total),
            days,
        }
    }
}
