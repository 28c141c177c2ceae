//! The studio's door (issue 23, SPEC §6 check-in and §8 studio operations):
//! the check-in answer (holder, seats, what and when, `already_checked_in`),
//! the check-in window, the day's sessions in the studio's time zone and a
//! session's roster, each studio-scoped.

use chrono::{DateTime, Duration, Utc};
use hothour_tests::app::{PASSWORD, Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso, time};
use hothour_tests::on_both_stores;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A studio in Europe/Istanbul (`admin@studio-a.test`) whose sign-ins last a
/// day, so the clock can move through a day of sessions.
async fn door_world(backend: hothour_tests::app::Backend) -> World {
    World::with(backend, &[("ACCESS_TOKEN_TTL", "86400")]).await
}

async fn post_ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (status, value) = app.post(path, Some(token), body).await;
    assert!(status.is_success(), "{path}: {status} {value}");
    value
}

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let (status, value) = app.get(path, Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {value}");
    value
}

async fn register_named(app: &TestApp, email: &str, full_name: &str) -> Session {
    let body = json!({"email": email, "password": PASSWORD, "full_name": full_name});
    let (status, body) = app.post("/auth/register", None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    hothour_tests::app::session(&body)
}

/// An event of 10 seats from `starts_at`, an hour long.
async fn event_at(app: &TestApp, admin: &Session, title: &str, starts_at: DateTime<Utc>) -> Value {
    let body = json!({
        "title": title, "capacity": 10, "price": "150.00",
        "starts_at": iso(starts_at), "ends_at": iso(starts_at + Duration::hours(1)),
    });
    post_ok(app, "/events", &admin.token, body).await
}

/// An auction whose session is at `scheduled_at` for `session_minutes`; its
/// price runs from three hours before until an hour before.
async fn auction_at(app: &TestApp, admin: &Session, title: &str, scheduled_at: DateTime<Utc>, minutes: i64) -> Value {
    let body = json!({
        "title": title, "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
        "drop_interval_minutes": 60, "starts_at": iso(scheduled_at - Duration::hours(3)),
        "ends_at": iso(scheduled_at - Duration::hours(1)), "scheduled_at": iso(scheduled_at),
        "session_minutes": minutes,
    });
    post_ok(app, "/auctions", &admin.token, body).await
}

async fn hold(app: &TestApp, user: &Session, event_id: i64, quantity: u32) -> Value {
    post_ok(app, &format!("/events/{event_id}/holds"), &user.token, json!({"quantity": quantity})).await
}

/// `quantity` seats of the event booked by `user`.
async fn book(app: &TestApp, user: &Session, event_id: i64, quantity: u32) -> Value {
    let held = hold(app, user, event_id, quantity).await;
    post_ok(app, &format!("/reservations/{}/confirm", id(&held)), &user.token, json!({})).await
}

fn code(booking: &Value) -> String {
    booking["booking_code"].as_str().unwrap_or_else(|| panic!("a booking code in {booking}")).to_owned()
}

async fn check_in(app: &TestApp, admin: &Session, studio_id: i64, code: &str) -> (StatusCode, Value) {
    app.post(&format!("/studios/{studio_id}/check-in"), Some(&admin.token), json!({"booking_code": code})).await
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap_or_else(|| panic!("items in {page}"))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The audit entries of `action`, newest first.
async fn audited(app: &TestApp, admin: &Session, action: &str) -> Vec<Value> {
    let page = get_ok(app, "/audit-log?limit=100", &admin.token).await;
    items(&page).iter().filter(|entry| entry["action"] == action).cloned().collect()
}

on_both_stores! {
    async fn a_used_code_is_answered_as_used_with_the_time_it_was_first_used(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        let starts = app.now() + Duration::hours(1);
        let event = event_at(&app, &admin, "Salsa night", starts).await;
        let ayse = register_named(&app, "ayse@a.test", "Ayşe Yılmaz").await;
        let booked = book(&app, &ayse, id(&event), 3).await;

        let (status, first) = check_in(&app, &admin, studio_id, &code(&booked).to_lowercase()).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["already_checked_in"], false);
        assert_eq!(time(&first["checked_in_at"]), app.now());
        assert_eq!((&first["full_name"], &first["quantity"]), (&json!("Ayşe Yılmaz"), &json!(3)));
        assert_eq!((&first["title"], &first["timezone"]), (&json!("Salsa night"), &json!("Europe/Istanbul")));
        assert_eq!((time(&first["starts_at"]), time(&first["ends_at"])), (starts, starts + Duration::hours(1)));
        let reservation = &first["reservation"];
        assert_eq!((&reservation["id"], &reservation["status"]), (&booked["id"], &json!("CHECKED_IN")));
        assert_eq!(reservation["checked_in_at"], first["checked_in_at"]);
        assert_eq!(reservation["target"]["id"], event["id"]);

        // The same code again, a minute later: used, at the first time; nothing written again.
        app.clock.advance(Duration::minutes(1));
        let (status, again) = check_in(&app, &admin, studio_id, &code(&booked)).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["already_checked_in"], true);
        assert_eq!(again["checked_in_at"], first["checked_in_at"]);
        assert_eq!(again["reservation"], first["reservation"]);
        assert_eq!(audited(&app, &admin, "reservation.check_in").await.len(), 1);

        // Once the session is over the door is shut, but a used code is still told apart.
        app.clock.advance(Duration::hours(3));
        let (status, late) = check_in(&app, &admin, studio_id, &code(&booked)).await;
        assert_eq!(status, StatusCode::OK, "{late}");
        assert_eq!((&late["already_checked_in"], &late["checked_in_at"]), (&json!(true), &first["checked_in_at"]));
        let (_, read) = app.get(&format!("/reservations/{}", id(&booked)), Some(&ayse.token)).await;
        assert_eq!(read["checked_in_at"], first["checked_in_at"], "the reservation says when too");
        assert_eq!(audited(&app, &admin, "reservation.check_in").await.len(), 1);
    }

    async fn the_door_opens_two_hours_before_an_event_and_closes_when_it_ends(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        let starts = app.now() + Duration::hours(5);
        let event = event_at(&app, &admin, "Salsa night", starts).await;
        let (early, late, lost) = (
            app.register("early@a.test").await,
            app.register("late@a.test").await,
            app.register("lost@a.test").await,
        );
        let early = book(&app, &early, id(&event), 1).await;
        let late = book(&app, &late, id(&event), 1).await;
        let lost = book(&app, &lost, id(&event), 1).await;

        let answer = check_in(&app, &admin, studio_id, &code(&early)).await;
        assert_problem(&answer, StatusCode::CONFLICT, "check_in_not_open");
        assert_eq!(time(&answer.1["session_starts_at"]), starts, "{}", answer.1);
        app.clock.set(starts - Duration::hours(2) - Duration::microseconds(1));
        assert_problem(&check_in(&app, &admin, studio_id, &code(&early)).await, StatusCode::CONFLICT, "check_in_not_open");
        assert_eq!(audited(&app, &admin, "reservation.check_in").await.len(), 0, "a refusal is not audited");

        app.clock.set(starts - Duration::hours(2));
        let (status, first) = check_in(&app, &admin, studio_id, &code(&early)).await;
        assert_eq!((status, &first["already_checked_in"]), (StatusCode::OK, &json!(false)), "{first}");

        // Past the start and the grace period the late one is a no-show, and may still come in.
        app.clock.set(starts + Duration::minutes(30));
        app.state.services.mark_no_shows(100).await.unwrap();
        let (_, seen) = app.get(&format!("/studios/{studio_id}/roster?event_id={}", id(&event)), Some(&admin.token)).await;
        let status_of = |booking: &Value| {
            items(&seen).iter().find(|entry| entry["reservation_id"] == booking["id"]).map(|entry| entry["status"].clone())
        };
        assert_eq!(status_of(&late), Some(json!("NO_SHOW")), "{seen}");
        let (status, came) = check_in(&app, &admin, studio_id, &code(&late)).await;
        assert_eq!(status, StatusCode::OK, "{came}");
        assert_eq!((&came["reservation"]["status"], &came["already_checked_in"]), (&json!("CHECKED_IN"), &json!(false)));

        // At the end the door closes, for a no-show too.
        app.clock.set(starts + Duration::hours(1));
        app.state.services.mark_no_shows(100).await.unwrap();
        let answer = check_in(&app, &admin, studio_id, &code(&lost)).await;
        assert_problem(&answer, StatusCode::CONFLICT, "check_in_not_open");
        assert_eq!(time(&answer.1["session_starts_at"]), starts);
        let (status, again) = check_in(&app, &admin, studio_id, &code(&early)).await;
        assert_eq!((status, &again["already_checked_in"]), (StatusCode::OK, &json!(true)), "{again}");
        assert_eq!(audited(&app, &admin, "reservation.check_in").await.len(), 2);
    }

    async fn an_auction_slots_door_follows_its_session_and_its_length(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        let scheduled = app.now() + Duration::hours(3);
        let auction = auction_at(&app, &admin, "Tango slot", scheduled, 30).await;
        // Its price runs from three hours before the session: it is on now.
        let ada = app.register("ada@a.test").await;
        let path = format!("/auctions/{}/grab", id(&auction));
        let slot = post_ok(&app, &path, &ada.token, json!({"confirm": true})).await;
        assert_eq!(slot["status"], "CONFIRMED", "{slot}");

        let answer = check_in(&app, &admin, studio_id, &code(&slot)).await;
        assert_problem(&answer, StatusCode::CONFLICT, "check_in_not_open");
        assert_eq!(time(&answer.1["session_starts_at"]), scheduled);
        app.clock.set(scheduled + Duration::minutes(30));
        assert_problem(&check_in(&app, &admin, studio_id, &code(&slot)).await, StatusCode::CONFLICT, "check_in_not_open");
        app.clock.set(scheduled + Duration::minutes(30) - Duration::microseconds(1));
        let (status, checked) = check_in(&app, &admin, studio_id, &code(&slot)).await;
        assert_eq!(status, StatusCode::OK, "{checked}");
        assert_eq!((&checked["quantity"], &checked["title"]), (&json!(1), &json!("Tango slot")));
        assert_eq!(time(&checked["ends_at"]), scheduled + Duration::minutes(30));
    }

    async fn the_door_opens_as_configured(backend) {
        let vars = [("ACCESS_TOKEN_TTL", "86400"), ("CHECKIN_OPENS_BEFORE", "1800")];
        let World { app, admin, studio_id, .. } = World::with(backend, &vars).await;
        let (_, config) = app.get("/config", None).await;
        assert_eq!(config["check_in_opens_before_seconds"], 1800);
        let starts = app.now() + Duration::hours(1);
        let event = event_at(&app, &admin, "Salsa night", starts).await;
        let booked = book(&app, &app.register("ada@a.test").await, id(&event), 1).await;
        assert_problem(&check_in(&app, &admin, studio_id, &code(&booked)).await, StatusCode::CONFLICT, "check_in_not_open");
        app.clock.set(starts - Duration::minutes(30));
        assert_eq!(check_in(&app, &admin, studio_id, &code(&booked)).await.0, StatusCode::OK);
    }

    async fn codes_rosters_and_days_of_another_studio_are_not_found(backend) {
        let World { app, platform, admin, studio_id } = door_world(backend).await;
        let (other_studio, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let starts = app.now() + Duration::hours(1);
        let theirs = event_at(&app, &other_admin, "Their class", starts).await;
        let their_auction = auction_at(&app, &other_admin, "Their slot", app.now() + Duration::hours(2), 60).await;
        let booked = book(&app, &app.register("ada@a.test").await, id(&theirs), 1).await;

        // Their code at our door; our door by them; and a stranger at either.
        assert_problem(&check_in(&app, &admin, studio_id, &code(&booked)).await, StatusCode::NOT_FOUND, "not_found");
        assert_problem(&check_in(&app, &other_admin, studio_id, &code(&booked)).await, StatusCode::NOT_FOUND, "not_found");
        let customer = app.register("bob@a.test").await;
        for path in [
            format!("/studios/{studio_id}/roster?event_id={}", id(&theirs)),
            format!("/studios/{studio_id}/roster?auction_id={}", id(&their_auction)),
            format!("/studios/{other_studio}/roster?event_id={}", id(&theirs)),
            format!("/studios/{other_studio}/sessions"),
            format!("/studios/{studio_id}/roster?event_id=999999"),
        ] {
            assert_problem(&app.get(&path, Some(&admin.token)).await, StatusCode::NOT_FOUND, "not_found");
        }
        for path in [format!("/studios/{other_studio}/sessions"), format!("/studios/{other_studio}/roster?event_id={}", id(&theirs))] {
            assert_problem(&app.get(&path, Some(&customer.token)).await, StatusCode::NOT_FOUND, "not_found");
            assert_eq!(app.get(&path, None).await.0, StatusCode::UNAUTHORIZED);
            assert_eq!(app.get(&path, Some(&other_admin.token)).await.0, StatusCode::OK, "their own");
            assert_eq!(app.get(&path, Some(&platform.token)).await.0, StatusCode::OK, "a platform admin's");
        }
        assert_problem(&app.get("/studios/999999/sessions", Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
        // A deleted event's roster is gone with it.
        let empty = event_at(&app, &admin, "Cancelled class", starts).await;
        assert_eq!(app.delete(&format!("/events/{}", id(&empty)), Some(&admin.token)).await.0, StatusCode::NO_CONTENT);
        let path = format!("/studios/{studio_id}/roster?event_id={}", id(&empty));
        assert_problem(&app.get(&path, Some(&admin.token)).await, StatusCode::NOT_FOUND, "not_found");
    }

    async fn a_day_is_the_studios_day_across_its_midnight(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        // Istanbul is UTC+3: 2030-03-02 there runs from 2030-03-01T21:00Z to 2030-03-02T21:00Z.
        let before = event_at(&app, &admin, "Late class", at("2030-03-01T20:30:00Z")).await;
        let midnight = auction_at(&app, &admin, "Midnight slot", at("2030-03-01T21:00:00Z"), 45).await;
        let after = event_at(&app, &admin, "Night owls", at("2030-03-01T21:30:00Z")).await;
        let last = event_at(&app, &admin, "Last one", at("2030-03-02T20:59:59.999999Z")).await;
        let next = event_at(&app, &admin, "Next day", at("2030-03-02T21:00:00Z")).await;
        let (status, _) = app.patch(&format!("/events/{}", id(&last)), Some(&admin.token), json!({"is_active": false})).await;
        assert_eq!(status, StatusCode::OK);
        let ada = app.register("ada@a.test").await;
        book(&app, &ada, id(&after), 2).await;
        hold(&app, &app.register("bob@a.test").await, id(&after), 3).await;

        let day = get_ok(&app, &format!("/studios/{studio_id}/sessions?date=2030-03-02"), &admin.token).await;
        assert_eq!((&day["date"], &day["timezone"]), (&json!("2030-03-02"), &json!("Europe/Istanbul")));
        assert_eq!((time(&day["starts_at"]), time(&day["ends_at"])), (at("2030-03-01T21:00:00Z"), at("2030-03-02T21:00:00Z")));
        let listed: Vec<(Value, i64)> = items(&day).iter().map(|s| (s["kind"].clone(), id(s))).collect();
        assert_eq!(
            listed,
            vec![(json!("auction"), id(&midnight)), (json!("event"), id(&after)), (json!("event"), id(&last))],
            "by start, this day only: {day}"
        );
        let slot = &items(&day)[0];
        assert_eq!((&slot["title"], &slot["status"], &slot["capacity"]), (&json!("Midnight slot"), &json!("DRAFT"), &json!(1)));
        assert_eq!(time(&slot["ends_at"]), at("2030-03-01T21:45:00Z"), "its session_minutes");
        assert_eq!(time(&slot["check_in_opens_at"]), at("2030-03-01T19:00:00Z"));
        let class = &items(&day)[1];
        assert_eq!((&class["status"], &class["capacity"]), (&json!("ACTIVE"), &json!(10)));
        let counts = ["booked_count", "booked_seats", "checked_in_count", "checked_in_seats", "held_count", "held_seats"];
        let got: Vec<&Value> = counts.iter().map(|c| &class[*c]).collect();
        assert_eq!(got, [&json!(1), &json!(2), &json!(0), &json!(0), &json!(1), &json!(3)], "{class}");
        assert_eq!(items(&day)[2]["status"], "INACTIVE", "an inactive event is on the day too");

        let previous = get_ok(&app, &format!("/studios/{studio_id}/sessions?date=2030-03-01"), &admin.token).await;
        assert_eq!(items(&previous).iter().map(id).collect::<Vec<_>>(), vec![id(&before)]);
        let following = get_ok(&app, &format!("/studios/{studio_id}/sessions?date=2030-03-03"), &admin.token).await;
        assert_eq!(items(&following).iter().map(id).collect::<Vec<_>>(), vec![id(&next)]);

        // Without a date: today in the studio's zone, by the server's clock.
        let today = get_ok(&app, &format!("/studios/{studio_id}/sessions"), &admin.token).await;
        let expected = (app.now() + Duration::hours(3)).date_naive().format("%Y-%m-%d").to_string();
        assert_eq!(today["date"], expected);
        assert!(items(&today).is_empty(), "{today}");
    }

    async fn a_day_across_a_dst_change_has_its_own_length(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        let (status, _) = app.patch(&format!("/studios/{studio_id}"), Some(&admin.token), json!({"timezone": "Europe/London"})).await;
        assert_eq!(status, StatusCode::OK);
        // London springs forward at 01:00 on 2030-03-31 (a 23-hour day) and falls back on 2030-10-27 (25 hours).
        // Each event is on another day in London than in UTC.
        let spring = event_at(&app, &admin, "Spring", at("2030-03-31T23:30:00Z")).await;
        let autumn = event_at(&app, &admin, "Autumn", at("2030-10-26T23:30:00Z")).await;
        let long_night = event_at(&app, &admin, "Long night", at("2030-10-27T23:30:00Z")).await;
        for (date, starts, ends, expected) in [
            ("2030-03-31", "2030-03-31T00:00:00Z", "2030-03-31T23:00:00Z", vec![]),
            ("2030-04-01", "2030-03-31T23:00:00Z", "2030-04-01T23:00:00Z", vec![id(&spring)]),
            ("2030-10-26", "2030-10-25T23:00:00Z", "2030-10-26T23:00:00Z", vec![]),
            ("2030-10-27", "2030-10-26T23:00:00Z", "2030-10-28T00:00:00Z", vec![id(&autumn), id(&long_night)]),
        ] {
            let day = get_ok(&app, &format!("/studios/{studio_id}/sessions?date={date}"), &admin.token).await;
            assert_eq!((time(&day["starts_at"]), time(&day["ends_at"])), (at(starts), at(ends)), "{date}");
            assert_eq!(items(&day).iter().map(id).collect::<Vec<_>>(), expected, "{date}");
        }
    }

    async fn a_bad_date_or_roster_question_is_a_validation_problem(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        for date in ["2030-02-30", "tomorrow", "1969-12-31", "2030-3-1", "", "2030-03-01T00:00:00Z"] {
            let answer = app.get(&format!("/studios/{studio_id}/sessions?date={date}"), Some(&admin.token)).await;
            assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert!(answer.1["errors"]["date"].is_array(), "{date}: {}", answer.1);
        }
        let answer = app.get(&format!("/studios/{studio_id}/sessions?day=2030-03-01"), Some(&admin.token)).await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        for (query, fields) in [("", vec!["auction_id", "event_id"]), ("?auction_id=1&event_id=2", vec!["auction_id"])] {
            let answer = app.get(&format!("/studios/{studio_id}/roster{query}"), Some(&admin.token)).await;
            assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            for field in fields {
                assert!(answer.1["errors"][field].is_array(), "{query}: {}", answer.1);
            }
        }
    }

    async fn the_roster_lists_bookings_and_live_holds_by_name(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        let starts = app.now() + Duration::hours(5);
        let event = event_at(&app, &admin, "Salsa night", starts).await;
        let event_id = id(&event);
        let zeynep = register_named(&app, "zeynep@a.test", "Zeynep Kaya").await;
        let ada = register_named(&app, "ada@a.test", "ada Lovelace").await;
        let deniz = register_named(&app, "deniz@a.test", "Deniz Ak").await;
        let cem = register_named(&app, "cem@a.test", "Cem Öz").await;
        let bora = register_named(&app, "bora@a.test", "Bora Demir").await;
        let zeynep_booking = book(&app, &zeynep, event_id, 2).await;
        let ada_booking = book(&app, &ada, event_id, 1).await;
        let cancelled = book(&app, &deniz, event_id, 1).await;
        post_ok(&app, &format!("/reservations/{}/cancel", id(&cancelled)), &deniz.token, json!({})).await;
        hold(&app, &cem, event_id, 1).await;

        // The door opens; Cem's hold has lapsed by now, Bora is still paying.
        app.clock.set(starts - Duration::hours(1));
        let (status, checked) = check_in(&app, &admin, studio_id, &code(&ada_booking)).await;
        assert_eq!(status, StatusCode::OK, "{checked}");
        let bora_hold = hold(&app, &bora, event_id, 1).await;

        let roster = get_ok(&app, &format!("/studios/{studio_id}/roster?event_id={event_id}"), &admin.token).await;
        assert_eq!(roster["timezone"], "Europe/Istanbul");
        let names: Vec<&Value> = items(&roster).iter().map(|entry| &entry["full_name"]).collect();
        assert_eq!(names, [&json!("ada Lovelace"), &json!("Bora Demir"), &json!("Zeynep Kaya")], "by name: {roster}");
        let [first, second, third] = items(&roster).as_slice() else { panic!("{roster}") };
        assert_eq!(
            first,
            &json!({
                "reservation_id": id(&ada_booking), "user_id": ada.user_id, "full_name": "ada Lovelace", "quantity": 1,
                "status": "CHECKED_IN", "booking_code": code(&ada_booking), "checked_in_at": checked["checked_in_at"],
                "hold_expires_at": null,
            })
        );
        assert_eq!((&second["status"], &second["booking_code"]), (&json!("HOLD"), &Value::Null), "{second}");
        assert_eq!((second["reservation_id"].as_i64(), &second["hold_expires_at"]), (Some(id(&bora_hold)), &bora_hold["expires_at"]));
        assert_eq!((&third["status"], &third["quantity"]), (&json!("CONFIRMED"), &json!(2)));
        assert_eq!((&third["booking_code"], &third["checked_in_at"]), (&json!(code(&zeynep_booking)), &Value::Null));

        let session = &roster["session"];
        assert_eq!((&session["kind"], session["id"].as_i64(), &session["title"]), (&json!("event"), Some(event_id), &json!("Salsa night")));
        assert_eq!((time(&session["starts_at"]), time(&session["check_in_opens_at"])), (starts, starts - Duration::hours(2)));
        let counts = ["booked_count", "booked_seats", "checked_in_count", "checked_in_seats", "held_count", "held_seats"];
        let got: Vec<&Value> = counts.iter().map(|c| &session[*c]).collect();
        assert_eq!(got, [&json!(2), &json!(3), &json!(1), &json!(1), &json!(1), &json!(1)], "{session}");

        // Once Bora's hold lapses, it leaves the roster.
        app.clock.advance(Duration::minutes(6));
        let roster = get_ok(&app, &format!("/studios/{studio_id}/roster?event_id={event_id}"), &admin.token).await;
        assert_eq!(items(&roster).len(), 2, "{roster}");
        assert_eq!(roster["session"]["held_count"], 0);
    }

    async fn an_auctions_roster_is_its_one_booking(backend) {
        let World { app, admin, studio_id, .. } = door_world(backend).await;
        let scheduled = app.now() + Duration::hours(3);
        let auction = auction_at(&app, &admin, "Tango slot", scheduled, 60).await;
        let path = format!("/studios/{studio_id}/roster?auction_id={}", id(&auction));
        let roster = get_ok(&app, &path, &admin.token).await;
        assert!(items(&roster).is_empty(), "{roster}");
        assert_eq!((&roster["session"]["status"], &roster["session"]["booked_count"]), (&json!("ACTIVE"), &json!(0)));

        let ada = register_named(&app, "ada@a.test", "Ada Lovelace").await;
        let slot = post_ok(&app, &format!("/auctions/{}/grab", id(&auction)), &ada.token, json!({"confirm": true})).await;
        let roster = get_ok(&app, &path, &admin.token).await;
        let [entry] = items(&roster).as_slice() else { panic!("{roster}") };
        assert_eq!((&entry["full_name"], &entry["status"], &entry["quantity"]), (&json!("Ada Lovelace"), &json!("CONFIRMED"), &json!(1)));
        assert_eq!(entry["booking_code"], slot["booking_code"]);
        let session = &roster["session"];
        assert_eq!((&session["status"], &session["booked_count"], &session["capacity"]), (&json!("SOLD"), &json!(1), &json!(1)));
        assert_eq!(time(&session["ends_at"]), scheduled + Duration::hours(1));
    }
}
