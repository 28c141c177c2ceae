//! A studio's numbers (issue 23, item 3): `GET /studios/{id}/stats` agrees
//! with a brute-force recount over generated bookings whose sessions span a
//! DST change and midnights on the studio's clock; every day of the range is
//! there; another studio's numbers are not found; bad ranges are refused.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use hothour_tests::app::{Backend, Session, TestApp};
use hothour_tests::fixtures::{assert_problem, id, iso, time};
use hothour_tests::on_both_stores;
use reqwest::StatusCode;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};

/// A small deterministic generator (Knuth's LCG): the same bookings on every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % sides
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.roll(100) < percent
    }
}

/// The studio's wall clock (Europe/Berlin) as an instant.
fn berlin(day: NaiveDate, time: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(&format!("{day} {time}"), "%Y-%m-%d %H:%M:%S").unwrap();
    Berlin.from_local_datetime(&local).single().expect("a time that exists once").with_timezone(&Utc)
}

/// The day an instant falls on, on the studio's clock.
fn studio_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Berlin).date_naive()
}

/// The first day, from a fortnight on, whose length in Berlin is `hours`: the
/// change to summer time (23) or back (25). Dates ahead of the wall clock,
/// which signed-in requests are checked against.
fn next_day_of(hours: i64) -> NaiveDate {
    let midnight = |day: NaiveDate| Berlin.from_local_datetime(&day.and_time(NaiveTime::MIN)).earliest().unwrap();
    let mut day = studio_day(Utc::now() + Duration::days(14));
    while midnight(day + Duration::days(1)) - midnight(day) != Duration::hours(hours) {
        day += Duration::days(1);
    }
    day
}

/// The generated week: five days around a change to summer time (02:00 → 03:00).
struct Week {
    /// The day the clocks go forward: the middle of the range.
    change: NaiveDate,
}

impl Week {
    fn new() -> Week {
        Week { change: next_day_of(23) }
    }

    fn day(&self, offset: i64) -> NaiveDate {
        self.change + Duration::days(offset)
    }

    /// The range: two days either side of the change.
    fn range(&self) -> Vec<NaiveDate> {
        (-2..=2).map(|offset| self.day(offset)).collect()
    }

    fn query(&self) -> String {
        format!("from={}&to={}", self.day(-2), self.day(2))
    }

    /// When the bookings are made.
    fn t0(&self) -> DateTime<Utc> {
        berlin(self.day(-4), "10:00:00")
    }

    /// When the numbers are read: sessions before it are over (checked in or
    /// no-shows), those after still booked.
    fn read_at(&self) -> DateTime<Utc> {
        berlin(self.day(2), "14:00:00")
    }

    /// The session starts, on the studio's clock, around the range's ends and the change.
    fn sessions(&self) -> Vec<DateTime<Utc>> {
        [
            (-3, "23:59:59"), // the day before the range
            (-2, "00:00:00"), // the range's first instant
            (-2, "18:30:00"),
            (-1, "23:30:00"), // 22:30Z
            (0, "00:30:00"),  // 23:30Z the day before: the day of the change on the studio's clock
            (0, "01:59:00"),  // just before the change
            (0, "03:00:00"),  // just after it
            (0, "23:30:00"),  // 21:30Z
            (1, "00:00:00"),  // a midnight inside the range: the later day only
            (1, "00:15:00"),  // 22:15Z the day before
            (2, "23:59:59"),  // the range's last second, after `read_at`
            (3, "00:00:00"),  // the day after the range
        ]
        .into_iter()
        .map(|(offset, time)| berlin(self.day(offset), time))
        .collect()
    }
}

/// What becomes of the auction of session `n`, when it is not left to the dice: those at
/// both ends of the range and at its midnights sell, one is cancelled, one never sells
/// and one's hold lapses.
fn outcome(n: usize, dice: &mut Dice) -> u64 {
    match n {
        0 | 1 | 4 | 8 | 10 | 11 => 3,
        2 => 2,
        7 => 0,
        9 => 1,
        _ => dice.roll(5),
    }
}

const ADMIN: &str = "admin@studio-a.test";

async fn token(app: &TestApp, email: &str) -> String {
    app.login(email).await.token
}

async fn created(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (status, value) = app.post(path, Some(token), body).await;
    assert!(status.is_success(), "{path}: {status} {value}");
    value
}

/// Every item of a list, page by page.
async fn all(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let (mut items, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(cursor) => format!("{path}{sep}limit=100&cursor={cursor}"),
            None => format!("{path}{sep}limit=100"),
        };
        let (status, page) = app.get(&url, token).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// The app on its clock at the week's `t0`, with a platform admin and a studio in Berlin.
async fn berlin_studio(backend: Backend, week: &Week) -> (TestApp, Session, i64) {
    let app = TestApp::spawn_on_with(backend, &[("ACCESS_TOKEN_TTL", "86400")]).await;
    app.clock.set(week.t0());
    let platform = app.platform_admin().await;
    let (studio_id, admin) = app.studio_with_admin(&platform, ADMIN).await;
    let (status, studio) =
        app.patch(&format!("/studios/{studio_id}"), Some(&admin.token), json!({"timezone": "Europe/Berlin"})).await;
    assert_eq!(status, StatusCode::OK, "{studio}");
    (app, platform, studio_id)
}

/// Books sessions of every kind with random-ish outcomes; answers the
/// bookings to check in, by session start.
async fn generate(app: &TestApp, week: &Week) -> Vec<(DateTime<Utc>, String)> {
    let admin = token(app, ADMIN).await;
    let mut users = Vec::new();
    for n in 0..6 {
        users.push(app.register(&format!("user{n}@numbers.test")).await);
    }
    let mut dice = Dice(23);
    let mut door = Vec::new();
    let mut refunds = Vec::new();
    let mut book = |dice: &mut Dice, reservation: &Value, at: DateTime<Utc>, door: &mut Vec<_>| {
        let code = reservation["booking_code"].as_str().expect("a booking code").to_owned();
        if dice.chance(20) {
            refunds.push((id(reservation), dice.roll(3) * 1000 + 550));
        }
        // Half are checked in at the door; the others are no-shows once their session
        // started, or still booked before.
        if dice.chance(50) && at < week.read_at() {
            door.push((at, code));
        }
    };
    let mut cancels = Vec::new();
    let t0 = week.t0();
    for (n, at) in week.sessions().into_iter().enumerate() {
        let local = at.with_timezone(&Berlin).format("%Y-%m-%d %H:%M:%S");
        // An auction for the session, open for some hours already (its price has dropped as many times).
        let start_price = [400, 500, 600][dice.roll(3) as usize];
        let open_for = Duration::hours(dice.roll(5) as i64);
        let auction = created(
            app,
            "/auctions",
            &admin,
            json!({
                "title": format!("Slot {local}"), "start_price": format!("{start_price}.00"), "floor_price": "100.00",
                "drop_amount": "50.00", "drop_interval_minutes": 60,
                "starts_at": iso(t0 - open_for - Duration::minutes(1)), "ends_at": iso(t0 + Duration::hours(2)),
                "scheduled_at": iso(at),
            }),
        )
        .await;
        let user = &users[dice.roll(users.len() as u64) as usize];
        let grab = format!("/auctions/{}/grab", id(&auction));
        match outcome(n, &mut dice) {
            0 => {} // nobody grabs it: it expires unsold
            1 => {
                // Grabbed but never confirmed: the hold lapses, the auction expires unsold.
                created(app, &grab, &user.token, json!({})).await;
            }
            2 => {
                // Cancelled (with its booking, if it had one): neither sold nor expired.
                if dice.chance(50) {
                    created(app, &grab, &user.token, json!({"confirm": true})).await;
                }
                created(app, &format!("/auctions/{}/cancel", id(&auction)), &admin, json!({})).await;
            }
            _ => {
                let booked = created(app, &grab, &user.token, json!({"confirm": true})).await;
                book(&mut dice, &booked, at, &mut door);
            }
        }

        // An event for the session; one is inactive (its seats count), one deleted (they do not).
        let capacity = 4 + dice.roll(7);
        let active = n != 3;
        let event = created(
            app,
            "/events",
            &admin,
            json!({
                "title": format!("Class {local}"), "capacity": capacity, "price": format!("{}.50", 100 + dice.roll(100)),
                "starts_at": iso(at), "ends_at": iso(at + Duration::minutes(90)), "is_active": active,
            }),
        )
        .await;
        if n == 5 {
            let (status, _) = app.delete(&format!("/events/{}", id(&event)), Some(&admin)).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            continue;
        }
        if !active {
            continue;
        }
        let mut free = capacity;
        for user in &users {
            if !dice.chance(60) || free == 0 {
                continue;
            }
            let quantity = (1 + dice.roll(3)).min(free);
            free -= quantity;
            let hold =
                created(app, &format!("/events/{}/holds", id(&event)), &user.token, json!({"quantity": quantity}))
                    .await;
            match dice.roll(10) {
                0 | 1 => {} // left to lapse
                2 => cancels.push((id(&hold), user.token.clone())),
                _ => {
                    let booked =
                        created(app, &format!("/reservations/{}/confirm", id(&hold)), &user.token, json!({})).await;
                    if dice.chance(15) {
                        // Cancelled by its owner or the studio: no longer counted.
                        let who = if dice.chance(50) { user.token.clone() } else { admin.clone() };
                        cancels.push((id(&booked), who));
                    } else {
                        book(&mut dice, &booked, at, &mut door);
                    }
                }
            }
        }
    }
    for (reservation, who) in cancels {
        created(app, &format!("/reservations/{reservation}/cancel"), &who, json!({})).await;
    }
    // Part of some payments went back (the payment flows themselves are tested in payments.rs).
    for (reservation, refunded_cents) in refunds {
        let refunded = match app.backend {
            Backend::Postgres => format!("{}.{:02}", refunded_cents / 100, refunded_cents % 100),
            Backend::Sqlite => refunded_cents.to_string(),
        };
        app.sql_execute(&format!(
            "UPDATE reservations SET payment_status = 'succeeded', paid_amount = total_price, \
             refunded_amount = {refunded} WHERE id = {reservation}"
        ))
        .await;
    }
    door.sort();
    door
}

/// Walks the clock through the sessions, checking the chosen bookings in at
/// their session's door, then to `read_at`, and lets the jobs settle.
async fn run_the_week(app: &TestApp, week: &Week, studio_id: i64, door: &[(DateTime<Utc>, String)]) {
    for (at, code) in door {
        app.clock.set(*at + Duration::minutes(1));
        let admin = token(app, ADMIN).await;
        created(app, &format!("/studios/{studio_id}/check-in"), &admin, json!({"booking_code": code})).await;
    }
    app.clock.set(week.read_at());
    hothour_api::jobs::run_once(&app.state).await;
}

/// `part / whole` to four places, half to even, as the API states ratios.
fn ratio(part: Decimal, whole: Decimal) -> Value {
    if whole.is_zero() {
        return Value::Null;
    }
    let mut rounded = (part / whole).round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(4);
    json!(rounded.to_string())
}

fn money(value: &Value) -> Decimal {
    value.as_str().unwrap_or_else(|| panic!("an amount, got {value}")).parse().unwrap()
}

/// The numbers of the sessions on `days`, recounted one by one from what the API lists.
#[derive(Debug, Default, Clone)]
struct Recount {
    revenue: Decimal,
    slots_sold: u64,
    slots_expired_unsold: u64,
    sale_ratio_millionths: Decimal,
    seats_sold: u64,
    seats_capacity: u64,
    checked_in: u64,
    no_shows: u64,
}

impl Recount {
    fn of(days: &[NaiveDate], reservations: &[Value], auctions: &[Value], events: &[Value]) -> Recount {
        let mut n = Recount::default();
        let on_days = |at: &Value| days.contains(&studio_day(time(at)));
        for r in reservations.iter().filter(|r| on_days(&r["target"]["starts_at"])) {
            if !["CONFIRMED", "CHECKED_IN", "NO_SHOW"].contains(&r["status"].as_str().unwrap()) {
                continue;
            }
            n.revenue += money(&r["total_price"]) - money(&r["payment"]["refunded_amount"]);
            match r["status"].as_str().unwrap() {
                "CHECKED_IN" => n.checked_in += 1,
                "NO_SHOW" => n.no_shows += 1,
                _ => {}
            }
            if r["kind"] == "auction" {
                let auction = auctions.iter().find(|a| a["id"] == r["auction_id"]).expect("the auction is listed");
                n.slots_sold += 1;
                let share = money(&r["total_price"]) / money(&auction["start_price"]);
                n.sale_ratio_millionths += (share * Decimal::from(1_000_000)).trunc();
            } else {
                n.seats_sold += r["quantity"].as_u64().unwrap();
            }
        }
        n.slots_expired_unsold =
            auctions.iter().filter(|a| a["status"] == "EXPIRED" && on_days(&a["scheduled_at"])).count() as u64;
        n.seats_capacity =
            events.iter().filter(|e| on_days(&e["starts_at"])).map(|e| e["capacity"].as_u64().unwrap()).sum();
        n
    }

    /// As the API answers it.
    fn json(&self) -> Value {
        let d = Decimal::from;
        let mut revenue = self.revenue;
        revenue.rescale(2);
        json!({
            "revenue": revenue.to_string(),
            "slots_sold": self.slots_sold,
            "slots_expired_unsold": self.slots_expired_unsold,
            "average_sale_ratio": ratio(self.sale_ratio_millionths, d(self.slots_sold * 1_000_000)),
            "seats_sold": self.seats_sold,
            "seats_capacity": self.seats_capacity,
            "fill_ratio": ratio(d(self.seats_sold), d(self.seats_capacity)),
            "checked_in": self.checked_in,
            "no_shows": self.no_shows,
            "no_show_rate": ratio(d(self.no_shows), d(self.checked_in + self.no_shows)),
        })
    }
}

/// A day of the answer without its boundaries.
fn numbers(day: &Value) -> Value {
    let mut numbers = day.clone();
    for key in ["date", "starts_at", "ends_at"] {
        numbers.as_object_mut().unwrap().remove(key);
    }
    numbers
}

on_both_stores! {
    async fn the_numbers_are_the_recount_of_every_booking_day_by_day_on_the_studios_clock(backend) {
        let week = Week::new();
        let (app, _platform, studio_id) = berlin_studio(backend, &week).await;
        let door = generate(&app, &week).await;
        run_the_week(&app, &week, studio_id, &door).await;
        let admin = token(&app, ADMIN).await;

        let (status, stats) = app.get(&format!("/studios/{studio_id}/stats?{}", week.query()), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        let range = week.range();
        assert_eq!(stats["studio_id"], studio_id);
        assert_eq!((&stats["from"], &stats["to"]), (&json!(range[0].to_string()), &json!(range[4].to_string())));
        assert_eq!(stats["timezone"], "Europe/Berlin");

        let reservations = all(&app, &format!("/studios/{studio_id}/reservations"), Some(&admin)).await;
        let auctions = all(&app, &format!("/auctions?studio_id={studio_id}"), None).await;
        let events = all(&app, &format!("/events?studio_id={studio_id}&is_active=all"), Some(&admin)).await;

        // Every day of the range, in order, cut at the studio's midnights: the day of the change has 23 hours.
        let days: Vec<&Value> = stats["days"].as_array().unwrap().iter().collect();
        assert_eq!(days.len(), range.len(), "{stats}");
        for (answered, date) in days.iter().zip(&range) {
            assert_eq!(answered["date"], json!(date.to_string()));
            let (starts, ends) = (time(&answered["starts_at"]), time(&answered["ends_at"]));
            assert_eq!(starts, berlin(*date, "00:00:00"));
            assert_eq!(ends, berlin(*date + Duration::days(1), "00:00:00"));
            let hours = if *date == week.change { 23 } else { 24 };
            assert_eq!(ends - starts, Duration::hours(hours), "{date}");
            let expected = Recount::of(&[*date], &reservations, &auctions, &events).json();
            assert_eq!(numbers(answered), expected, "{date}");
        }
        let total = Recount::of(&range, &reservations, &auctions, &events);
        assert_eq!(stats["totals"], total.json());

        // The generated week has a bit of everything, so the comparison above means something.
        assert!(total.checked_in > 0 && total.no_shows > 0, "{total:?}");
        assert!(total.slots_sold > 1 && total.slots_expired_unsold > 0 && total.seats_sold > 0, "{total:?}");
        let booked = |r: &&Value| ["CONFIRMED", "CHECKED_IN", "NO_SHOW"].contains(&r["status"].as_str().unwrap());
        assert!(reservations.iter().filter(booked).any(|r| r["payment"]["refunded_amount"] != "0.00"), "a refund");
        assert!(reservations.iter().any(|r| r["status"] == "CONFIRMED"), "a booking still to come");
        assert!(reservations.iter().any(|r| r["status"] == "CANCELLED"), "a cancelled booking");
        assert!(auctions.iter().any(|a| a["status"] == "CANCELLED"), "a cancelled auction");
        assert!(events.iter().any(|e| e["is_active"] == false), "an inactive event");
        assert_eq!(events.len(), week.sessions().len() - 1, "one event was deleted");
        // The slot sold at 00:30 on the day of the change (23:30Z the day before) counts on
        // that day, and the sessions just outside the range count nowhere.
        let late = week.sessions()[4];
        assert_eq!((late.date_naive(), studio_day(late)), (week.day(-1), week.change));
        assert!(reservations.iter().filter(booked).any(|r| time(&r["target"]["starts_at"]) == late));
        let outside: Vec<&Value> = reservations
            .iter()
            .filter(booked)
            .filter(|r| !range.contains(&studio_day(time(&r["target"]["starts_at"]))))
            .collect();
        assert!(outside.len() >= 2, "bookings just outside the range: {outside:?}");
        let wider = [range.clone(), vec![week.day(-3), week.day(3)]].concat();
        let everything = Recount::of(&wider, &reservations, &auctions, &events);
        assert!(everything.revenue > total.revenue, "the sessions outside the range are left out");

        // One day alone answers what it answered in the range.
        let query = format!("from={0}&to={0}", week.change);
        let (status, one) = app.get(&format!("/studios/{studio_id}/stats?{query}"), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_eq!(one["days"].as_array().unwrap().len(), 1);
        assert_eq!(one["days"][0], stats["days"][2]);
        assert_eq!(numbers(&one["totals"]), numbers(&stats["days"][2]));
    }

    async fn days_with_nothing_are_there_with_zeros_and_no_ratios(backend) {
        let week = Week::new();
        let (app, _platform, studio_id) = berlin_studio(backend, &week).await;
        let admin = token(&app, ADMIN).await;
        // Around the change back to winter time, whose day has 25 hours.
        let change = next_day_of(25);
        let (from, to) = (change - Duration::days(1), change + Duration::days(1));
        let (status, stats) = app.get(&format!("/studios/{studio_id}/stats?from={from}&to={to}"), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        let nothing = json!({
            "revenue": "0.00", "slots_sold": 0, "slots_expired_unsold": 0, "average_sale_ratio": null,
            "seats_sold": 0, "seats_capacity": 0, "fill_ratio": null, "checked_in": 0, "no_shows": 0, "no_show_rate": null,
        });
        assert_eq!(stats["totals"], nothing);
        let days = stats["days"].as_array().unwrap();
        let dates: Vec<String> = days.iter().map(|d| d["date"].as_str().unwrap().to_owned()).collect();
        assert_eq!(dates, [from.to_string(), change.to_string(), to.to_string()]);
        assert!(days.iter().all(|d| numbers(d) == nothing), "{stats}");
        assert_eq!(time(&days[1]["ends_at"]) - time(&days[1]["starts_at"]), Duration::hours(25));

        // 366 days is one range.
        let (from, to) = (week.day(0), week.day(365));
        let (status, year) = app.get(&format!("/studios/{studio_id}/stats?from={from}&to={to}"), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{year}");
        assert_eq!(year["days"].as_array().unwrap().len(), 366);
    }

    async fn only_those_who_manage_the_studio_see_its_numbers(backend) {
        let week = Week::new();
        let (app, platform, studio_id) = berlin_studio(backend, &week).await;
        let (other_studio, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let user = app.register("user@numbers.test").await;
        let path = format!("/studios/{studio_id}/stats?{}", week.query());
        assert_problem(&app.get(&path, Some(&other_admin.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_problem(&app.get(&path, Some(&user.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_problem(&app.get(&path, None).await, StatusCode::UNAUTHORIZED, "unauthorized");
        let missing = format!("/studios/999999/stats?{}", week.query());
        assert_problem(&app.get(&missing, Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(app.get(&path, Some(&platform.token)).await.0, StatusCode::OK);
        assert_eq!(app.get(&path, Some(&token(&app, ADMIN).await)).await.0, StatusCode::OK);
        let own = format!("/studios/{other_studio}/stats?{}", week.query());
        let (status, stats) = app.get(&own, Some(&other_admin.token)).await;
        assert_eq!((status, &stats["timezone"]), (StatusCode::OK, &json!("Europe/Istanbul")), "{stats}");
    }

    async fn a_bad_range_is_refused_naming_the_field(backend) {
        let week = Week::new();
        let (app, _platform, studio_id) = berlin_studio(backend, &week).await;
        let admin = token(&app, ADMIN).await;
        for (query, field) in [
            ("from=2026-03-31&to=2026-03-27", "to"),
            ("from=2026-02-30&to=2026-03-27", "from"),
            ("from=2026-3-1&to=2026-03-27", "from"),
            ("from=2026-03-01&to=2026-03-27T00:00:00Z", "to"),
            ("from=yesterday&to=2026-03-27", "from"),
            ("from=2026-03-01", "to"),
            ("to=2026-03-01", "from"),
            ("from=2025-02-28&to=2026-03-01", "to"),
            ("from=1969-12-31&to=1970-01-02", "from"),
            ("from=2026-03-01&to=2026-03-02&studio=1", "studio"),
        ] {
            for path in [format!("/studios/{studio_id}/stats?{query}"), format!("/studios/{studio_id}/reservations.csv?{query}")] {
                let answer = app.get(&path, Some(&admin)).await;
                assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
                assert!(answer.1["errors"][field].is_array(), "{path}: {}", answer.1);
            }
        }
        // 366 days is the most (`to` 365 days after `from`), and a range of one day the least.
        for query in ["from=2025-03-01&to=2026-03-01", "from=2026-03-01&to=2026-03-01"] {
            let (status, body) = app.get(&format!("/studios/{studio_id}/stats?{query}"), Some(&admin)).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
        }
    }
}
