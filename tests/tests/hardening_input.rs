//! Hostile and careless input (issue 9, defects 2–6), on both stores:
//! booking codes no one can compute, instants the service can always store
//! and read back, background jobs that one bad row cannot stop, NUL
//! characters and unknown time zones refused with a field-level 422.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use hothour_domain::ports::{BookingCodes, NoPublisher};
use hothour_domain::{Actor, BookingCode, DomainError, Policy, ReservationId, Services, UserId};
use hothour_tests::app::{PASSWORD, Session, TestApp, session};
use hothour_tests::fixtures::{id, iso_exact, time};
use hothour_tests::on_both_stores;
use reqwest::StatusCode;
use serde_json::{Value, json};

// --- helpers ----------------------------------------------------------------

/// The fields a 422 `validation_failed` names.
#[track_caller]
fn invalid_fields(answer: &(StatusCode, Value)) -> BTreeSet<String> {
    assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.1);
    assert_eq!(answer.1["code"], "validation_failed", "{}", answer.1);
    answer.1["errors"].as_object().unwrap_or_else(|| panic!("errors in {}", answer.1)).keys().cloned().collect()
}

#[track_caller]
fn assert_invalid(answer: &(StatusCode, Value), field: &str) {
    let fields = invalid_fields(answer);
    assert!(fields.contains(field), "{field} not named in {}", answer.1);
}

/// A platform admin and a studio with its admin.
async fn studio(app: &TestApp) -> (Session, i64, Session) {
    let platform = app.platform_admin().await;
    let (studio_id, admin) = app.studio_with_admin(&platform, "admin@studio-a.test").await;
    (platform, studio_id, admin)
}

fn event_body(app: &TestApp) -> Value {
    let starts = app.now() + Duration::days(2);
    json!({
        "title": "Salsa night",
        "capacity": 10,
        "price": "150.00",
        "starts_at": iso_exact(starts),
        "ends_at": iso_exact(starts + Duration::hours(1)),
    })
}

fn with(mut base: Value, extra: Value) -> Value {
    let fields = base.as_object_mut().expect("an object");
    for (k, v) in extra.as_object().expect("an object") {
        fields.insert(k.clone(), v.clone());
    }
    base
}

async fn open_event(app: &TestApp, admin: &Session) -> i64 {
    let (status, event) = app.post("/events", Some(&admin.token), event_body(app)).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

/// A DRAFT auction starting in `starts_in`, two hours long, with turbo.
fn auction_body(app: &TestApp, starts_in: Duration) -> Value {
    let starts = app.now() + starts_in;
    json!({
        "title": "Tango slot",
        "start_price": "500.00",
        "floor_price": "100.00",
        "drop_amount": "50.00",
        "drop_interval_minutes": 60,
        "starts_at": iso_exact(starts),
        "ends_at": iso_exact(starts + Duration::hours(2)),
        "scheduled_at": iso_exact(starts + Duration::hours(3)),
        "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
    })
}

async fn create_auction(app: &TestApp, admin: &Session, starts_in: Duration) -> i64 {
    let (status, auction) = app.post("/auctions", Some(&admin.token), auction_body(app, starts_in)).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

async fn hold(app: &TestApp, user: &Session, event_id: i64) -> i64 {
    let (status, held) = app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    id(&held)
}

async fn confirm(app: &TestApp, user: &Session, reservation_id: i64) -> Value {
    let (status, booked) =
        app.post(&format!("/reservations/{reservation_id}/confirm"), Some(&user.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{booked}");
    booked
}

async fn register_named(app: &TestApp, email: &str, full_name: &str) -> Session {
    let body = json!({"email": email, "password": PASSWORD, "full_name": full_name});
    let (status, tokens) = app.post("/auth/register", None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{tokens}");
    session(&tokens)
}

/// The stored status of an auction, as the status job last persisted it.
async fn stored_status_is(app: &TestApp, auction_id: i64, status: &str) -> bool {
    app.sql_i64(&format!("SELECT COUNT(*) FROM auctions WHERE id = {auction_id} AND status = '{status}'")).await == 1
}

/// Waits (up to 5 s) for the status job to persist `status` on every auction.
async fn wait_until_settled(app: &TestApp, auctions: &[i64], status: &str) {
    for _ in 0..100 {
        let mut all = true;
        for auction in auctions {
            all &= stored_status_is(app, *auction, status).await;
        }
        if all {
            return;
        }
        // The job runs each second of the service's clock.
        app.clock.advance(Duration::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("auctions {auctions:?} were not settled to {status}");
}

/// Booking codes taken from a list first, then counted up.
struct ScriptedCodes {
    script: Mutex<VecDeque<BookingCode>>,
    draws: AtomicUsize,
}

impl BookingCodes for ScriptedCodes {
    fn draw_booking_code(&self) -> Result<BookingCode, DomainError> {
        let draw = self.draws.fetch_add(1, Ordering::SeqCst);
        let scripted = self.script.lock().expect("the script").pop_front();
        Ok(scripted.unwrap_or_else(|| BookingCode::from_random([0x42, 0, 0, 0, draw as u8])))
    }
}

// --- 2. booking codes ---------------------------------------------------------

on_both_stores! {
    /// On main the code was a fixed function of the reservation id: the same
    /// id on two fresh databases got the same code.
    async fn booking_codes_are_random_not_derived_from_the_id(backend) {
        let mut codes = Vec::new();
        for _ in 0..2 {
            let app = TestApp::spawn_on(backend).await;
            let (_, _, admin) = studio(&app).await;
            let event_id = open_event(&app, &admin).await;
            let owner = app.register("owner@a.test").await;
            let reservation_id = hold(&app, &owner, event_id).await;
            let booked = confirm(&app, &owner, reservation_id).await;
            let code = booked["booking_code"].as_str().expect("a booking code").to_owned();
            assert_eq!(code.len(), 8, "{code}");
            assert!(code.bytes().all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)), "{code}");
            codes.push((reservation_id, code));
        }
        assert_eq!(codes[0].0, codes[1].0, "the same reservation id on both databases");
        assert_ne!(codes[0].1, codes[1].1, "the code must not follow from the id");
    }

    async fn check_in_names_the_holder(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, studio_id, admin) = studio(&app).await;
        let event_id = open_event(&app, &admin).await;
        let owner = register_named(&app, "ayse@a.test", "Ayşe Yılmaz").await;
        let booked = confirm(&app, &owner, hold(&app, &owner, event_id).await).await;

        // The day of the class, an hour before it: the door is open.
        app.clock.advance(Duration::days(2) - Duration::hours(1));
        let admin = app.login("admin@studio-a.test").await;
        let path = format!("/studios/{studio_id}/check-in");
        let code = booked["booking_code"].as_str().expect("a booking code").to_lowercase();
        let (status, checked) = app.post(&path, Some(&admin.token), json!({"booking_code": code})).await;
        assert_eq!(status, StatusCode::OK, "{checked}");
        assert_eq!(checked["full_name"], "Ayşe Yılmaz");
        assert_eq!(checked["reservation"]["status"], "CHECKED_IN");
        assert_eq!(checked["reservation"]["id"], booked["id"], "with the reservation in its shape");
        assert_eq!(checked["reservation"]["booking_code"], booked["booking_code"]);
        let (status, again) = app.post(&path, Some(&admin.token), json!({"booking_code": code})).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!((&again["already_checked_in"], &checked["already_checked_in"]), (&json!(true), &json!(false)));
        assert_eq!(again["reservation"], checked["reservation"]);
    }

    /// A drawn code already taken (the unique index says so) is drawn again,
    /// for a confirmation and for a one-tap grab.
    async fn a_booking_code_collision_is_retried_with_a_fresh_code(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, admin) = studio(&app).await;
        let event_id = open_event(&app, &admin).await;
        let (first, second) = (app.register("first@a.test").await, app.register("second@a.test").await);
        let taken = confirm(&app, &first, hold(&app, &first, event_id).await).await;
        let taken = BookingCode::from_stored(taken["booking_code"].as_str().expect("a code").to_owned());
        let second_hold = hold(&app, &second, event_id).await;

        let fresh = BookingCode::from_random([7, 7, 7, 7, 7]);
        let codes = std::sync::Arc::new(ScriptedCodes {
            script: Mutex::new(VecDeque::from([taken.clone(), fresh.clone()])),
            draws: AtomicUsize::new(0),
        });
        let store = app.store.clone().with_booking_codes(codes.clone());
        let services = Services::new(store, app.clock.clone(), NoPublisher, Policy::default());
        let booked = services
            .confirm(&Actor::user(UserId(second.user_id)), ReservationId(second_hold))
            .await
            .expect("confirmed despite the collision");
        assert_eq!(booked.booking_code, Some(fresh));
        assert_eq!(codes.draws.load(Ordering::SeqCst), 2);

        // Grab-and-confirm draws again too.
        let auction_id = create_auction(&app, &admin, Duration::minutes(-10)).await;
        codes.script.lock().expect("the script").extend([taken.clone(), taken]);
        let third = app.register("third@a.test").await;
        let booked = services
            .grab(&Actor::user(UserId(third.user_id)), hothour_domain::AuctionId(auction_id), true)
            .await
            .expect("grabbed despite the collisions");
        assert_eq!(codes.draws.load(Ordering::SeqCst), 5);
        let code = booked.booking_code.expect("a booking code");
        let (status, mine) = app.get("/reservations", Some(&third.token)).await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert_eq!(mine["items"][0]["booking_code"], code.as_str());
    }
}

// --- 3. instants truncated before validation; stored rows trusted; jobs go on --

on_both_stores! {
    /// On main this auction was accepted, stored truncated and then failed
    /// validation on every read.
    async fn a_turbo_window_one_nanosecond_too_long_is_refused(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, admin) = studio(&app).await;
        let starts = app.now() + Duration::hours(1);
        let body = with(
            auction_body(&app, Duration::hours(1)),
            json!({
                "starts_at": iso_exact(starts),
                "ends_at": iso_exact(starts + Duration::minutes(30) + Duration::nanoseconds(1)),
                "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
            }),
        );
        let answer = app.post("/auctions", Some(&admin.token), body).await;
        assert_invalid(&answer, "turbo.trigger_before_minutes");
        let (status, page) = app.get("/auctions", None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["items"], json!([]));
    }

    /// A stored auction that today's rules would refuse (here: turbo as long
    /// as the auction) is still read, listed and settled, and the auctions
    /// after it too.
    async fn a_stored_row_is_never_revalidated_and_later_rows_are_settled(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, admin) = studio(&app).await;
        let odd = create_auction(&app, &admin, Duration::minutes(30)).await;
        let later = [
            create_auction(&app, &admin, Duration::minutes(40)).await,
            create_auction(&app, &admin, Duration::minutes(50)).await,
        ];
        app.sql_execute(&format!("UPDATE auctions SET turbo_trigger_before_seconds = 7200 WHERE id = {odd}")).await;

        let (status, page) = app.get("/auctions", None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["items"].as_array().map(Vec::len), Some(3), "{page}");
        let (status, one) = app.get(&format!("/auctions/{odd}"), None).await;
        assert_eq!(status, StatusCode::OK, "{one}");

        app.clock.advance(Duration::hours(1));
        let mut all = vec![odd];
        all.extend(later);
        wait_until_settled(&app, &all, "ACTIVE").await;
        let (status, page) = app.get("/auctions?status=ACTIVE", None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["items"].as_array().map(Vec::len), Some(3), "{page}");
    }

    /// A row the status job cannot even load (a drop interval no duration
    /// holds) is logged and skipped; the job goes on with the rest.
    async fn the_status_job_skips_a_row_that_fails_and_goes_on(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, admin) = studio(&app).await;
        let broken = create_auction(&app, &admin, Duration::minutes(30)).await;
        let later = [
            create_auction(&app, &admin, Duration::minutes(40)).await,
            create_auction(&app, &admin, Duration::minutes(50)).await,
        ];
        app.sql_execute(&format!(
            "UPDATE auctions SET drop_interval_seconds = 9223372036854775807 WHERE id = {broken}"
        ))
        .await;

        app.clock.advance(Duration::hours(1));
        wait_until_settled(&app, &later, "ACTIVE").await;
        assert!(stored_status_is(&app, broken, "DRAFT").await, "the broken row is left as it was");
        for auction in later {
            let (status, body) = app.get(&format!("/auctions/{auction}"), None).await;
            assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ACTIVE")), "{body}");
        }
        // The rest of the service keeps working.
        assert_eq!(app.get(&format!("/auctions?studio_id={}", 999), None).await.0, StatusCode::OK);
    }
}

// --- 4. bounded instants --------------------------------------------------------

on_both_stores! {
    async fn instants_outside_1970_to_9999_are_a_field_level_422(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, admin) = studio(&app).await;

        // Query filters, without signing in.
        assert_invalid(&app.get("/events?starts_after=-9999-01-01T00:00:00Z", None).await, "starts_after");
        assert_invalid(&app.get("/events?starts_before=1969-12-31T23:59:59Z", None).await, "starts_before");
        let (status, page) = app.get("/events?starts_after=1970-01-01T00:00:00Z", None).await;
        assert_eq!(status, StatusCode::OK, "{page}");

        // Event bodies, on create and on change.
        let minimum = "-262143-01-01T00:00:00Z";
        let body = with(event_body(&app), json!({"starts_at": minimum}));
        assert_invalid(&app.post("/events", Some(&admin.token), body).await, "starts_at");
        let body = with(event_body(&app), json!({"ends_at": "1969-07-20T20:17:40Z"}));
        assert_invalid(&app.post("/events", Some(&admin.token), body).await, "ends_at");
        let event_id = open_event(&app, &admin).await;
        let patch = json!({"starts_at": "1960-01-01T00:00:00Z"});
        assert_invalid(&app.patch(&format!("/events/{event_id}"), Some(&admin.token), patch).await, "starts_at");

        // Auction bodies.
        for field in ["starts_at", "ends_at", "scheduled_at"] {
            let body = with(auction_body(&app, Duration::hours(1)), json!({ field: "1969-12-31T23:59:59.999999Z" }));
            assert_invalid(&app.post("/auctions", Some(&admin.token), body).await, field);
        }
        let (status, page) = app.get("/events", None).await;
        assert_eq!((status, page["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{page}");
    }

    /// On main the domain saw two distinct instants, and the database's
    /// `CHECK (starts_at < ends_at)` then failed unmapped: a 500.
    async fn instants_equal_once_truncated_are_a_422_not_a_constraint_failure(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, admin) = studio(&app).await;
        let starts = chrono::SubsecRound::trunc_subsecs(app.now() + Duration::days(1), 0);
        let body = with(
            event_body(&app),
            json!({
                "starts_at": iso_exact(starts + Duration::nanoseconds(100)),
                "ends_at": iso_exact(starts + Duration::nanoseconds(900)),
            }),
        );
        assert_invalid(&app.post("/events", Some(&admin.token), body).await, "ends_at");
        let event_id = open_event(&app, &admin).await;
        let (_, event) = app.get(&format!("/events/{event_id}"), None).await;
        let patch = json!({"ends_at": event["starts_at"]});
        assert_invalid(&app.patch(&format!("/events/{event_id}"), Some(&admin.token), patch).await, "ends_at");

        let auction_starts = starts + Duration::hours(1);
        let body = with(
            auction_body(&app, Duration::hours(1)),
            json!({
                "starts_at": iso_exact(auction_starts + Duration::nanoseconds(1)),
                "ends_at": iso_exact(auction_starts + Duration::nanoseconds(999)),
                "turbo": null,
            }),
        );
        assert_invalid(&app.post("/auctions", Some(&admin.token), body).await, "ends_at");
        assert_eq!(app.sql_i64("SELECT COUNT(*) FROM events").await, 1);
        assert_eq!(app.sql_i64("SELECT COUNT(*) FROM auctions").await, 0);
    }

    /// Instants are kept at the microseconds storage keeps, and an event
    /// ending at the last accepted instant can be booked and cancelled.
    async fn accepted_instants_are_truncated_and_the_last_one_works(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, admin) = studio(&app).await;
        let starts = chrono::SubsecRound::trunc_subsecs(app.now() + Duration::days(1), 0);
        let body = with(
            event_body(&app),
            json!({
                "starts_at": iso_exact(starts + Duration::nanoseconds(1_999)),
                "ends_at": "9999-12-31T23:59:59.999999999Z",
            }),
        );
        let (status, event) = app.post("/events", Some(&admin.token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        assert_eq!(time(&event["starts_at"]), starts + Duration::microseconds(1));
        assert_eq!(time(&event["ends_at"]), hothour_domain::instant::latest());

        let owner = app.register("owner@a.test").await;
        let reservation_id = hold(&app, &owner, id(&event)).await;
        confirm(&app, &owner, reservation_id).await;
        let (status, cancelled) =
            app.post(&format!("/reservations/{reservation_id}/cancel"), Some(&owner.token), json!({})).await;
        assert_eq!((status, cancelled["status"].as_str()), (StatusCode::OK, Some("CANCELLED")), "{cancelled}");
    }
}

// --- 5. NUL characters ------------------------------------------------------------

/// A method and a path.
struct Request(reqwest::Method, String);

on_both_stores! {
    async fn nul_characters_are_a_422_naming_the_field_everywhere(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (platform, studio_id, admin) = studio(&app).await;
        let user = app.register("user@a.test").await;
        let event_id = open_event(&app, &admin).await;
        let nul = "a\u{0}b";
        let post = |path: &str| Request(reqwest::Method::POST, path.to_owned());
        let patch = |path: &str| Request(reqwest::Method::PATCH, path.to_owned());
        let cases: Vec<(Request, Option<&str>, Value, &str)> = vec![
            (post("/auth/register"), None, json!({"email": "n@a.test", "password": PASSWORD, "full_name": nul}), "full_name"),
            (post("/auth/register"), None, json!({"email": "n@a.test", "password": nul, "full_name": "N"}), "password"),
            (post("/auth/login"), None, json!({"email": nul, "password": PASSWORD}), "email"),
            (post("/auth/refresh"), None, json!({"refresh_token": nul}), "refresh_token"),
            (patch("/me"), Some(&user.token), json!({"full_name": nul}), "full_name"),
            (patch("/me"), Some(&user.token), json!({"phone": nul}), "phone"),
            (post("/me/password"), Some(&user.token), json!({"current_password": PASSWORD, "new_password": format!("{nul}{PASSWORD}")}), "new_password"),
            (post("/studios"), Some(&platform.token), json!({"name": nul}), "name"),
            (post("/studios"), Some(&platform.token), json!({"name": "S", "address": nul}), "address"),
            (patch(&format!("/studios/{studio_id}")), Some(&platform.token), json!({"maps_url": nul}), "maps_url"),
            (post(&format!("/studios/{studio_id}/admins")), Some(&platform.token), json!({"email": nul}), "email"),
            (post("/events"), Some(&admin.token), with(event_body(&app), json!({"title": nul})), "title"),
            (post("/events"), Some(&admin.token), with(event_body(&app), json!({"description": nul})), "description"),
            (patch(&format!("/events/{event_id}")), Some(&admin.token), json!({"title": nul}), "title"),
            (post("/auctions"), Some(&admin.token), with(auction_body(&app, Duration::hours(1)), json!({"title": nul})), "title"),
            (post(&format!("/studios/{studio_id}/check-in")), Some(&admin.token), json!({"booking_code": nul}), "booking_code"),
        ];
        for (Request(method, path), token, body, field) in cases {
            let answer = app.call(method.clone(), &path, token, Some(body)).await;
            assert_eq!(
                invalid_fields(&answer),
                BTreeSet::from([field.to_owned()]),
                "{method} {path}: {}",
                answer.1
            );
        }
        // Query strings with text are checked against closed sets.
        for path in ["/events?is_active=%00", "/auctions?status=%00", "/events?cursor=%00"] {
            assert_eq!(app.get(path, Some(&admin.token)).await.0, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        }
        assert_eq!(app.sql_i64("SELECT COUNT(*) FROM events").await, 1);
        assert_eq!(app.sql_i64("SELECT COUNT(*) FROM studios").await, 1);
    }
}

// --- 6. IANA time zones ---------------------------------------------------------

on_both_stores! {
    async fn a_studio_time_zone_must_be_an_iana_zone(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (platform, studio_id, _) = studio(&app).await;
        for zone in ["Mars/Olympus_Mons", "Europe/Atlantis", "Utc/Nowhere", "+03:00"] {
            let body = json!({"name": "Nine", "timezone": zone});
            assert_invalid(&app.post("/studios", Some(&platform.token), body).await, "timezone");
            let patch = json!({"timezone": zone});
            assert_invalid(&app.patch(&format!("/studios/{studio_id}"), Some(&platform.token), patch).await, "timezone");
        }
        let body = json!({"name": "Nine", "timezone": "America/Argentina/Buenos_Aires"});
        let (status, created) = app.post("/studios", Some(&platform.token), body).await;
        assert_eq!((status, created["timezone"].as_str()), (StatusCode::CREATED, Some("America/Argentina/Buenos_Aires")));
        let patch = json!({"timezone": "Asia/Tokyo"});
        let (status, changed) = app.patch(&format!("/studios/{studio_id}"), Some(&platform.token), patch).await;
        assert_eq!((status, changed["timezone"].as_str()), (StatusCode::OK, Some("Asia/Tokyo")), "{changed}");
        assert_eq!(app.sql_i64("SELECT COUNT(*) FROM studios").await, 2);
    }
}
