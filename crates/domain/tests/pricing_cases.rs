//! The worked pricing cases in `pricing-cases.json`, which the web client's
//! tests run too (`web/src/domain/pricing.test.ts`): the server's schedule and
//! the browser's must give the same price, next change and curve.

use chrono::{DateTime, Duration, Utc};
use hothour_domain::{Money, PriceSchedule, PriceScheduleInput, TurboConfig};
use serde::Deserialize;

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    terms: Terms,
    at: Vec<Expected>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Terms {
    start_price: String,
    floor_price: String,
    drop_amount: String,
    drop_interval_minutes: i64,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    turbo: Option<Turbo>,
    turbo_started_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Turbo {
    trigger_before_minutes: i64,
    drop_amount: String,
    interval_minutes: i64,
}

#[derive(Deserialize)]
struct Expected {
    at: DateTime<Utc>,
    price: String,
    next_change_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Step {
    at: DateTime<Utc>,
    price: String,
}

fn money(amount: &str) -> Money {
    Money::parse(amount).unwrap_or_else(|e| panic!("{amount}: {e:?}"))
}

fn schedule(terms: &Terms) -> PriceSchedule {
    PriceSchedule::from_stored(PriceScheduleInput {
        start_price: money(&terms.start_price),
        floor_price: money(&terms.floor_price),
        drop_amount: money(&terms.drop_amount),
        drop_interval: Duration::minutes(terms.drop_interval_minutes),
        starts_at: terms.starts_at,
        ends_at: terms.ends_at,
        turbo: terms.turbo.as_ref().map(|turbo| TurboConfig {
            trigger_before: Duration::minutes(turbo.trigger_before_minutes),
            drop_amount: money(&turbo.drop_amount),
            interval: Duration::minutes(turbo.interval_minutes),
        }),
    })
}

#[test]
fn the_worked_pricing_cases_hold() {
    let cases: Cases = serde_json::from_str(include_str!("pricing-cases.json")).expect("the cases parse");
    assert!(!cases.cases.is_empty());
    for case in &cases.cases {
        let schedule = schedule(&case.terms);
        let triggered = case.terms.turbo_started_at;
        for expected in &case.at {
            let at = expected.at;
            assert_eq!(schedule.price_at(at, triggered), money(&expected.price), "{}: the price at {at}", case.name);
            assert_eq!(
                schedule.next_change_at(at, triggered),
                expected.next_change_at,
                "{}: the next change after {at}",
                case.name
            );
        }
        let steps: Vec<Step> =
            schedule.steps(triggered).iter().map(|step| Step { at: step.at, price: step.price.to_string() }).collect();
        assert_eq!(steps, case.steps, "{}: the curve", case.name);
    }
}
