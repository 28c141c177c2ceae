//! The export of a studio's reservations (issue 23, item 4):
//! `GET /studios/{id}/reservations.csv` read back with the `csv` crate row by
//! row — RFC 4180 with a byte order mark and CRLF, times on the studio's
//! clock, cells that could run as a formula made inert, paged through past
//! one page — written to the audit log, and refused to anyone who does not
//! manage the studio.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use hothour_tests::app::{Backend, Session, TestApp};
use hothour_tests::fixtures::{assert_problem, id, iso, register_many, time};
use hothour_tests::on_both_stores;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const ADMIN: &str = "admin@studio-a.test";

const HEADER: [&str; 17] = [
    "reservation_id",
    "booking_code",
    "status",
    "kind",
    "title",
    "session_starts_at",
    "holder_name",
    "holder_email",
    "quantity",
    "unit_price",
    "total_price",
    "refunded_amount",
    "created_at",
    "confirmed_at",
    "checked_in_at",
    "cancelled_at",
    "time_zone",
];

/// The first day of the exported range, three weeks on: ahead of the wall
/// clock, which signed-in requests are checked against.
fn first_day() -> NaiveDate {
    // Read once: a run across midnight keeps its days.
    static DAY: OnceLock<NaiveDate> = OnceLock::new();
    *DAY.get_or_init(|| (Utc::now() + Duration::days(21)).with_timezone(&New_York).date_naive())
}

/// The studio's wall clock (America/New_York), `offset` days after [`first_day`], as an instant.
fn new_york(offset: i64, time: &str) -> DateTime<Utc> {
    let day = first_day() + Duration::days(offset);
    let local = NaiveDateTime::parse_from_str(&format!("{day} {time}"), "%Y-%m-%d %H:%M:%S").unwrap();
    New_York.from_local_datetime(&local).single().expect("a time that exists once").with_timezone(&Utc)
}

/// The export of `offset` days after [`first_day`] and the next, as a query.
fn two_days(offset: i64) -> String {
    let from = first_day() + Duration::days(offset);
    format!("from={from}&to={}", from + Duration::days(1))
}

/// When the bookings are made.
fn t0() -> DateTime<Utc> {
    new_york(-2, "10:00:00")
}

/// An instant as the file shows it: wall-clock text in New York.
fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&New_York).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A cell as the file must show it: with a `'` first if it could start a formula.
fn inert(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_owned() }
}

async fn created(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (status, value) = app.post(path, Some(token), body).await;
    assert!(status.is_success(), "{path}: {status} {value}");
    value
}

/// The app on its clock at `t0`, with a platform admin and a studio in New York.
async fn new_york_studio(backend: Backend) -> (TestApp, Session, i64, Session) {
    let app = TestApp::spawn_on_with(backend, &[("ACCESS_TOKEN_TTL", "86400")]).await;
    app.clock.set(t0());
    let platform = app.platform_admin().await;
    let (studio_id, admin) = app.studio_with_admin(&platform, ADMIN).await;
    let (status, studio) =
        app.patch(&format!("/studios/{studio_id}"), Some(&admin.token), json!({"timezone": "America/New_York"})).await;
    assert_eq!(status, StatusCode::OK, "{studio}");
    (app, platform, studio_id, admin)
}

async fn event(app: &TestApp, admin: &Session, title: &str, starts: DateTime<Utc>, capacity: u32) -> Value {
    let body = json!({
        "title": title, "capacity": capacity, "price": "150.00",
        "starts_at": iso(starts), "ends_at": iso(starts + Duration::minutes(90)),
    });
    created(app, "/events", &admin.token, body).await
}

/// The export of `from` to `to` as its status, headers and body.
async fn export(app: &TestApp, studio_id: i64, query: &str, token: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let url = app.url(&format!("/api/v1/studios/{studio_id}/reservations.csv?{query}"));
    let response = app.client.get(url).bearer_auth(token).send().await.expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.expect("a body").to_vec())
}

/// The file's records after its header, checked as RFC 4180 with a byte order mark and CRLF.
fn records(headers: &HeaderMap, body: &[u8]) -> Vec<Vec<String>> {
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".csv\""), "{disposition}");
    let text = std::str::from_utf8(body).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte order mark first");
    assert!(text.ends_with("\r\n"), "the last record ends with CRLF");
    assert!(!text.replace("\r\n", "").contains('\n'), "every line ends with CRLF");
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header: Vec<&str> = reader.headers().expect("a header row").iter().collect();
    assert_eq!(header, HEADER);
    reader
        .records()
        .map(|record| {
            let record = record.expect("an RFC 4180 record");
            assert_eq!(record.len(), HEADER.len(), "{record:?}");
            record.iter().map(str::to_owned).collect()
        })
        .collect()
}

/// Every reservation of the studio, newest first.
async fn reservations(app: &TestApp, studio_id: i64, token: &str) -> Vec<Value> {
    let (mut items, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/studios/{studio_id}/reservations?limit=100&cursor={cursor}"),
            None => format!("/studios/{studio_id}/reservations?limit=100"),
        };
        let (status, page) = app.get(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// The document's `AuditOut`, with its references resolved in the document.
fn audit_schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let document: Value = serde_json::from_str(&hothour_api::openapi_json()).unwrap();
        let schema = json!({
            "$ref": "#/components/schemas/AuditOut",
            "components": { "schemas": document["components"]["schemas"] },
        });
        jsonschema::draft202012::options().should_validate_formats(true).build(&schema).expect("a valid schema")
    })
}

/// The export entries of the audit log, newest first, each checked against the document.
async fn exports_audited(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, page) = app.get("/audit-log?limit=100", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries: Vec<Value> =
        page["items"].as_array().unwrap().iter().filter(|e| e["action"] == "reservations.export").cloned().collect();
    for entry in &entries {
        let violations: Vec<String> = audit_schema().iter_errors(entry).map(|e| e.to_string()).collect();
        assert!(violations.is_empty(), "{entry} breaks the document: {violations:?}");
    }
    entries
}

/// What was done to a reservation, and when, beyond what its answer says.
#[derive(Debug, Default, Clone)]
struct Done {
    checked_in_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

on_both_stores! {
    async fn the_file_is_every_reservation_of_the_range_row_by_row_with_no_formula_in_it(backend) {
        let (app, _platform, studio_id, admin) = new_york_studio(backend).await;
        // Names that would run as formulas; two can only come in by other ways than the
        // API (which trims names), so they are written directly.
        let names = [
            "Ada Lovelace", "=cmd|' /C calc'!A0", "+1 555 0100", "-1", "@x", "Doe, \"Jane\"", "Tab", "CR",
        ];
        let mut users = Vec::new();
        for (n, name) in names.iter().enumerate() {
            let email = format!("holder{n}@export.test");
            let (status, body) = app
                .post("/auth/register", None, json!({"email": email, "password": hothour_tests::app::PASSWORD, "full_name": name}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            users.push(hothour_tests::app::session(&body));
        }
        app.sql_execute(&format!("UPDATE users SET full_name = '\tTab' WHERE id = {}", users[6].user_id)).await;
        app.sql_execute(&format!("UPDATE users SET full_name = '\rCR' WHERE id = {}", users[7].user_id)).await;
        let full_names: HashMap<i64, String> = users
            .iter()
            .zip(names)
            .map(|(user, name)| (user.user_id, match name { "Tab" => "\tTab".into(), "CR" => "\rCR".into(), n => n.to_owned() }))
            .collect();
        let emails: HashMap<i64, String> =
            users.iter().enumerate().map(|(n, user)| (user.user_id, format!("holder{n}@export.test"))).collect();

        // The range is two days on New York's clock.
        let formula = event(&app, &admin, "=HYPERLINK(\"http://evil.test\",\"Salsa\")", new_york(0, "19:00:00"), 20).await;
        let midnight = event(&app, &admin, "Salsa, beginners", new_york(1, "00:00:00"), 20).await;
        let last = event(&app, &admin, "-Late class", new_york(1, "23:59:59"), 20).await;
        let before = event(&app, &admin, "The day before", new_york(-1, "23:59:00"), 20).await;
        let after = event(&app, &admin, "The day after", new_york(2, "00:00:00"), 20).await;
        let auction = created(&app, "/auctions", &admin.token, json!({
            "title": "@Sunrise slot", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
            "drop_interval_minutes": 60, "starts_at": iso(t0() - Duration::minutes(61)),
            "ends_at": iso(t0() + Duration::hours(1)), "scheduled_at": iso(new_york(0, "07:00:00")),
        })).await;

        let mut done: HashMap<i64, Done> = HashMap::new();
        let mut to_check_in = Vec::new();
        // Who books what, and what becomes of it.
        let plan = [
            (0, &formula, "check in"),
            (1, &midnight, "check in"),
            (2, &last, "keep"),
            (3, &before, "keep"),
            (4, &last, "keep"),
            (5, &formula, "let lapse"),
            (6, &midnight, "cancel"),
            (7, &last, "keep"),
            (7, &after, "keep"),
        ];
        for (n, target, fate) in plan {
            let user = &users[n];
            let hold = created(&app, &format!("/events/{}/holds", id(target)), &user.token, json!({"quantity": 1 + n % 3})).await;
            if fate == "let lapse" {
                continue;
            }
            let booked = created(&app, &format!("/reservations/{}/confirm", id(&hold)), &user.token, json!({})).await;
            match fate {
                "cancel" => {
                    created(&app, &format!("/reservations/{}/cancel", id(&booked)), &user.token, json!({})).await;
                    done.entry(id(&booked)).or_default().cancelled_at = Some(app.now());
                }
                "check in" => to_check_in.push((time(&target["starts_at"]), booked)),
                _ => {}
            }
        }
        let sold = created(&app, &format!("/auctions/{}/grab", id(&auction)), &users[3].token, json!({"confirm": true})).await;
        app.sql_execute(&format!(
            "UPDATE reservations SET payment_status = 'succeeded', paid_amount = total_price, refunded_amount = {} WHERE id = {}",
            if backend == Backend::Postgres { "12.50" } else { "1250" },
            id(&sold)
        )).await;
        to_check_in.sort_by_key(|(at, _)| *at);
        for (at, booked) in &to_check_in {
            app.clock.set(*at + Duration::minutes(1));
            let admin = app.login(ADMIN).await;
            let code = booked["booking_code"].as_str().unwrap();
            created(&app, &format!("/studios/{studio_id}/check-in"), &admin.token, json!({"booking_code": code})).await;
            done.entry(id(booked)).or_default().checked_in_at = Some(app.now());
        }
        // Read on the morning of the second day: the sessions before are over (the slot's
        // holder did not come), the last one of the range is still to come.
        app.clock.set(new_york(1, "08:00:00"));
        hothour_api::jobs::run_once(&app.state).await;
        let admin = app.login(ADMIN).await;

        let (status, headers, body) = export(&app, studio_id, &two_days(0), &admin.token).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(&body[..3], b"\xEF\xBB\xBF", "UTF-8 with a byte order mark");
        let rows = records(&headers, &body);

        // What each row must say, from the API's answers and what the test did.
        let mut titles: HashMap<(&str, i64), &str> = [&formula, &midnight, &last, &before, &after]
            .into_iter()
            .map(|event| (("event", id(event)), event["title"].as_str().unwrap()))
            .collect();
        titles.insert(("auction", id(&auction)), auction["title"].as_str().unwrap());
        let mut expected: Vec<(DateTime<Utc>, i64, Vec<String>)> = reservations(&app, studio_id, &admin.token)
            .await
            .iter()
            .filter(|r| {
                let day = time(&r["target"]["starts_at"]).with_timezone(&New_York).date_naive();
                day == first_day() || day == first_day() + Duration::days(1)
            })
            .map(|r| {
                let starts = time(&r["target"]["starts_at"]);
                let user = r["user_id"].as_i64().unwrap();
                let target = (r["kind"].as_str().unwrap(), r["auction_id"].as_i64().or(r["event_id"].as_i64()).unwrap());
                let did = done.get(&id(r)).cloned().unwrap_or_default();
                let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
                let row = vec![
                    id(r).to_string(),
                    text(&r["booking_code"]),
                    text(&r["status"]),
                    text(&r["kind"]),
                    inert(titles[&target]),
                    local(starts),
                    inert(&full_names[&user]),
                    emails[&user].clone(),
                    r["quantity"].to_string(),
                    text(&r["unit_price"]),
                    text(&r["total_price"]),
                    text(&r["payment"]["refunded_amount"]),
                    local(time(&r["created_at"])),
                    r["confirmed_at"].as_str().map(|_| local(time(&r["confirmed_at"]))).unwrap_or_default(),
                    did.checked_in_at.map(local).unwrap_or_default(),
                    did.cancelled_at.map(local).unwrap_or_default(),
                    "America/New_York".to_owned(),
                ];
                (starts, id(r), row)
            })
            .collect();
        expected.sort_by_key(|(starts, id, _)| (*starts, *id));
        let expected: Vec<Vec<String>> = expected.into_iter().map(|(_, _, row)| row).collect();
        assert_eq!(rows.len(), 8, "{rows:#?}");
        for (row, expected) in rows.iter().zip(&expected) {
            assert_eq!(row, expected);
        }
        assert_eq!(rows.len(), expected.len());

        // Every kind of outcome is there, and no cell of the file could start a formula.
        let column = |name: &str| HEADER.iter().position(|h| *h == name).unwrap();
        let statuses: Vec<&str> = rows.iter().map(|r| r[column("status")].as_str()).collect();
        for status in ["CHECKED_IN", "CANCELLED", "EXPIRED", "NO_SHOW", "CONFIRMED"] {
            assert!(statuses.contains(&status), "{status} in {statuses:?}");
        }
        let holders: Vec<&str> = rows.iter().map(|r| r[column("holder_name")].as_str()).collect();
        for name in ["'=cmd|' /C calc'!A0", "'+1 555 0100", "'-1", "'@x", "'\tTab", "'\rCR", "Doe, \"Jane\""] {
            assert!(holders.contains(&name), "{name:?} in {holders:?}");
        }
        assert!(rows.iter().any(|r| r[column("title")] == "'=HYPERLINK(\"http://evil.test\",\"Salsa\")"));
        assert!(rows.iter().any(|r| r[column("refunded_amount")] == "12.50"));
        for row in &rows {
            for cell in row {
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?} could run as a formula");
            }
        }
        // The first session at midnight and the last second of the range are in; the
        // minute before and the midnight after are not.
        let sessions: Vec<&str> = rows.iter().map(|r| r[column("session_starts_at")].as_str()).collect();
        let second = first_day() + Duration::days(1);
        for time in ["00:00:00", "23:59:59"] {
            assert!(sessions.contains(&format!("{second} {time}").as_str()), "{sessions:?}");
        }
        assert!(!rows.iter().any(|r| r[column("title")].contains("The day")), "{rows:?}");

        // The export is in the audit log, with its range.
        let audited = exports_audited(&app, &admin.token).await;
        assert_eq!(audited.len(), 1, "{audited:?}");
        let entry = &audited[0];
        assert_eq!((&entry["actor_id"], &entry["studio_id"]), (&json!(admin.user_id), &json!(studio_id)));
        assert_eq!(entry["target"], format!("studio:{studio_id}"));
        let (from, to) = (first_day().to_string(), (first_day() + Duration::days(1)).to_string());
        assert_eq!(entry["details"], json!({"from": from, "to": to, "timezone": "America/New_York"}));

        // A range with nothing in it is the header alone.
        let (status, headers, body) = export(&app, studio_id, &two_days(100), &admin.token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(records(&headers, &body).is_empty());
        assert_eq!(exports_audited(&app, &admin.token).await.len(), 2);
    }

    async fn a_long_file_is_read_page_by_page_in_session_order(backend) {
        let (app, _platform, studio_id, admin) = new_york_studio(backend).await;
        let crowd = register_many(&app, "crowd", 27).await;
        // 19 events at 10 instants (pairs share one, so the order falls back to ids): 513
        // reservations, more than a page of the export.
        let mut events = Vec::new();
        for n in 0..19 {
            let starts = new_york(12, "08:00:00") + Duration::hours(n / 2);
            events.push(id(&event(&app, &admin, &format!("Class {n}"), starts, 30).await));
        }
        let mut holds = Vec::new();
        for chunk in crowd.chunks(9) {
            let tasks: Vec<_> = chunk
                .iter()
                .map(|user| {
                    let (client, base, token, events) = (app.client.clone(), app.base_url.clone(), user.token.clone(), events.clone());
                    tokio::spawn(async move {
                        let mut made = Vec::new();
                        for event in events {
                            let response = client
                                .post(format!("{base}/api/v1/events/{event}/holds"))
                                .bearer_auth(&token)
                                .json(&json!({"quantity": 1}))
                                .send()
                                .await
                                .expect("the server answers");
                            assert_eq!(response.status(), StatusCode::CREATED);
                            made.push(id(&response.json::<Value>().await.expect("a hold")));
                        }
                        made
                    })
                })
                .collect();
            for task in tasks {
                holds.extend(task.await.expect("the holds"));
            }
        }
        assert_eq!(holds.len(), 513);

        let (status, headers, body) = export(&app, studio_id, &two_days(12), &admin.token).await;
        assert_eq!(status, StatusCode::OK);
        let rows = records(&headers, &body);
        let mut listed: Vec<(DateTime<Utc>, i64)> = reservations(&app, studio_id, &admin.token)
            .await
            .iter()
            .map(|r| (time(&r["target"]["starts_at"]), id(r)))
            .collect();
        listed.sort();
        let exported: Vec<(String, i64)> = rows.iter().map(|r| (r[5].clone(), r[0].parse().unwrap())).collect();
        let expected: Vec<(String, i64)> = listed.iter().map(|(at, id)| (local(*at), *id)).collect();
        assert_eq!(exported.len(), 513);
        assert_eq!(exported, expected, "every reservation once, by session start then id");
    }

    async fn only_those_who_manage_the_studio_export_it(backend) {
        let (app, platform, studio_id, admin) = new_york_studio(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let user = app.register("user@export.test").await;
        let path = format!("/studios/{studio_id}/reservations.csv?{}", two_days(0));
        assert_problem(&app.get(&path, Some(&other_admin.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_problem(&app.get(&path, Some(&user.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_problem(&app.get(&path, None).await, StatusCode::UNAUTHORIZED, "unauthorized");
        let missing = format!("/studios/999999/reservations.csv?{}", two_days(0));
        assert_problem(&app.get(&missing, Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert!(exports_audited(&app, &platform.token).await.is_empty(), "a refused export is not one");

        let (status, headers, body) = export(&app, studio_id, &two_days(0), &platform.token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(records(&headers, &body).is_empty());
        let audited = exports_audited(&app, &admin.token).await;
        assert_eq!(audited.len(), 1, "the studio's admin sees the platform admin's export");
        assert_eq!(audited[0]["actor_id"], platform.user_id);
    }
}
