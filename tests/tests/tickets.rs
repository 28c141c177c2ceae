//! Tickets (issue 21, SPEC §8 and §12): reservations carry what they are for
//! (title, session start and end, studio), auctions a session length,
//! `GET /reservations?status=HOLD` pages one's live holds, and
//! `GET /reservations/{id}/calendar.ics` is the owner's calendar entry.

use chrono::Duration;
use hothour_tests::app::{Session, TestApp};
use hothour_tests::fixtures::{World, id, iso};
use hothour_tests::on_both_stores;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn created(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (status, value) = app.post(path, Some(token), body).await;
    assert!(status.is_success(), "{path}: {status} {value}");
    value
}

/// An auction on now, its session at `scheduled_in` from now, lasting `session_minutes` (if given).
fn auction_body(app: &TestApp, title: &str, session_minutes: Option<i64>) -> Value {
    let now = app.now();
    let mut body = json!({
        "title": title,
        "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
        "drop_interval_minutes": 60,
        "starts_at": iso(now - Duration::minutes(10)),
        "ends_at": iso(now + Duration::minutes(110)),
        "scheduled_at": iso(now + Duration::minutes(180)),
    });
    if let Some(minutes) = session_minutes {
        body["session_minutes"] = json!(minutes);
    }
    body
}

fn event_body(app: &TestApp, title: &str) -> Value {
    let starts = app.now() + Duration::days(2);
    json!({
        "title": title, "capacity": 10, "price": "150.00",
        "starts_at": iso(starts), "ends_at": iso(starts + Duration::minutes(90)),
    })
}

async fn hold(app: &TestApp, user: &Session, event_id: i64) -> Value {
    created(app, &format!("/events/{event_id}/holds"), &user.token, json!({"quantity": 2})).await
}

/// The body and headers of a GET, as text.
async fn raw_get(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = app.client.get(app.url(&format!("/api/v1{path}")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.expect("a body"))
}

#[track_caller]
fn assert_studio(studio: &Value, studio_id: i64) {
    assert_eq!(
        studio,
        &json!({"id": studio_id, "name": "Studio of admin@studio-a.test", "address": "Moda Cd. 1", "timezone": "Europe/Istanbul",
                "maps_url": null})
    );
}

on_both_stores! {
    async fn auctions_have_a_session_length_defaulting_to_an_hour(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let plain = created(&app, "/auctions", &admin.token, auction_body(&app, "Plain", None)).await;
        assert_eq!(plain["session_minutes"], 60);
        let long = created(&app, "/auctions", &admin.token, auction_body(&app, "Long", Some(90))).await;
        assert_eq!(long["session_minutes"], 90);
        let (_, read) = app.get(&format!("/auctions/{}", id(&long)), None).await;
        assert_eq!(read["session_minutes"], 90, "stored: {read}");

        for bad in [0, 1441, -5] {
            let (status, problem) = app.post("/auctions", Some(&admin.token), auction_body(&app, "Bad", Some(bad))).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
            assert!(problem["errors"]["session_minutes"].is_array(), "{problem}");
        }

        // A draft's length can be changed, and checked the same way.
        let now = app.now();
        let mut draft = auction_body(&app, "Draft", None);
        draft["starts_at"] = json!(iso(now + Duration::hours(1)));
        draft["ends_at"] = json!(iso(now + Duration::hours(2)));
        let draft = created(&app, "/auctions", &admin.token, draft).await;
        let path = format!("/auctions/{}", id(&draft));
        let (status, patched) = app.patch(&path, Some(&admin.token), json!({"session_minutes": 1440})).await;
        assert_eq!((status, &patched["session_minutes"]), (StatusCode::OK, &json!(1440)), "{patched}");
        let (status, problem) = app.patch(&path, Some(&admin.token), json!({"session_minutes": 1441})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(app.get(&path, None).await.1["session_minutes"], 1440);
    }

    async fn reservations_carry_what_when_and_where(backend) {
        // The slot's session is 3 h away: its door opens 4 h before, so it can be checked in now.
        let World { app, admin, studio_id, .. } = World::with(backend, &[("CHECKIN_OPENS_BEFORE", "14400")]).await;
        let user = app.register("user@a.test").await;
        let event = created(&app, "/events", &admin.token, event_body(&app, "Salsa, beginners")).await;
        let auction = created(&app, "/auctions", &admin.token, auction_body(&app, "Tango slot", Some(45))).await;

        let seats = hold(&app, &user, id(&event)).await;
        let target = &seats["target"];
        assert_eq!(
            (&target["kind"], &target["id"], &target["title"]),
            (&json!("event"), &json!(id(&event)), &json!("Salsa, beginners"))
        );
        assert_eq!((&target["starts_at"], &target["ends_at"]), (&event["starts_at"], &event["ends_at"]));
        assert_studio(&target["studio"], studio_id);

        let slot = created(&app, &format!("/auctions/{}/grab", id(&auction)), &user.token, json!({})).await;
        let target = &slot["target"];
        assert_eq!((&target["kind"], &target["title"]), (&json!("auction"), &json!("Tango slot")));
        let starts: chrono::DateTime<chrono::Utc> = auction["scheduled_at"].as_str().unwrap().parse().unwrap();
        let (starts_at, ends_at): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = (
            target["starts_at"].as_str().unwrap().parse().unwrap(),
            target["ends_at"].as_str().unwrap().parse().unwrap(),
        );
        assert_eq!((starts_at, ends_at), (starts, starts + Duration::minutes(45)));
        assert_studio(&target["studio"], studio_id);

        // Every answer about a reservation carries it the same way.
        let confirmed = created(&app, &format!("/reservations/{}/confirm", id(&slot)), &user.token, json!({})).await;
        assert_eq!(confirmed["target"], slot["target"]);
        let (_, read) = app.get(&format!("/reservations/{}", id(&seats)), Some(&user.token)).await;
        assert_eq!(read["target"], seats["target"]);
        let (_, page) = app.get("/reservations", Some(&user.token)).await;
        let listed: Vec<&Value> = page["items"].as_array().unwrap().iter().map(|r| &r["target"]).collect();
        assert_eq!(listed, vec![&slot["target"], &seats["target"]]);
        let (_, studio_page) = app.get(&format!("/studios/{studio_id}/reservations"), Some(&admin.token)).await;
        assert_eq!(studio_page["items"][0]["target"], slot["target"]);
        let code = confirmed["booking_code"].as_str().unwrap();
        let checked_in =
            created(&app, &format!("/studios/{studio_id}/check-in"), &admin.token, json!({"booking_code": code})).await;
        assert_eq!(checked_in["reservation"]["target"], slot["target"]);
        assert_eq!((&checked_in["title"], &checked_in["starts_at"]), (&slot["target"]["title"], &slot["target"]["starts_at"]));
        let cancelled = created(&app, &format!("/reservations/{}/cancel", id(&seats)), &user.token, json!({})).await;
        assert_eq!(cancelled["target"], seats["target"]);

        // A studio's change shows at once (the summary kept in memory is forgotten).
        let (status, _) = app
            .patch(
                &format!("/studios/{studio_id}"),
                Some(&admin.token),
                json!({"name": "Moda Dans", "timezone": "Europe/London", "maps_url": "https://maps.example/moda"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, read) = app.get(&format!("/reservations/{}", id(&seats)), Some(&user.token)).await;
        let studio = &read["target"]["studio"];
        assert_eq!((&studio["name"], &studio["timezone"]), (&json!("Moda Dans"), &json!("Europe/London")));
        assert_eq!(studio["maps_url"], "https://maps.example/moda", "a map of where the session is");

        // A deleted event's tickets still say what they were for.
        let (status, _) = app.delete(&format!("/events/{}", id(&event)), Some(&admin.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, read) = app.get(&format!("/reservations/{}", id(&seats)), Some(&user.token)).await;
        assert_eq!(read["target"]["title"], "Salsa, beginners");
    }

    async fn my_live_holds_page_by_cursor(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let user = app.register("user@a.test").await;
        let mut holds = Vec::new();
        for n in 0..3 {
            let event = created(&app, "/events", &admin.token, event_body(&app, &format!("Class {n}"))).await;
            holds.push(id(&hold(&app, &user, id(&event)).await));
        }
        let booked = created(&app, &format!("/reservations/{}/confirm", holds[0]), &user.token, json!({})).await;
        let (_, first) = app.get("/reservations?status=HOLD&limit=1", Some(&user.token)).await;
        assert_eq!(first["items"].as_array().unwrap().iter().map(id).collect::<Vec<_>>(), vec![holds[2]]);
        let cursor = first["next_cursor"].as_str().expect("a next page");
        let (_, second) = app.get(&format!("/reservations?status=HOLD&limit=1&cursor={cursor}"), Some(&user.token)).await;
        assert_eq!(second["items"].as_array().unwrap().iter().map(id).collect::<Vec<_>>(), vec![holds[1]]);
        assert_eq!(second["items"][0]["target"]["title"], "Class 1");
        assert!(second["next_cursor"].is_null(), "{second}");
        assert_eq!(booked["status"], "CONFIRMED");
        for status in ["HOLD", "CONFIRMED", "CHECKED_IN", "NO_SHOW", "EXPIRED", "CANCELLED"] {
            assert_eq!(app.get(&format!("/reservations?status={status}"), Some(&user.token)).await.0, StatusCode::OK);
        }
        let (status, problem) = app.get("/reservations?status=hold", Some(&user.token)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(problem["errors"]["status"].is_array());
    }

    async fn the_calendar_entry_is_the_owners_rfc_5545_event(backend) {
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        let (status, _) = app
            .patch(&format!("/studios/{studio_id}"), Some(&admin.token), json!({"address": "Moda Cd. 1; Kadıköy\nİstanbul"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let user = app.register("user@a.test").await;
        let title = "Salsa, beginners; bring shoes \\ water — a long title that needs folding at seventy-five octets";
        let event = created(&app, "/events", &admin.token, event_body(&app, title)).await;
        let seats = hold(&app, &user, id(&event)).await;
        let booked = created(&app, &format!("/reservations/{}/confirm", id(&seats)), &user.token, json!({})).await;
        let path = format!("/reservations/{}/calendar.ics", id(&seats));

        let (status, headers, body) = raw_get(&app, &path, Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/calendar"), "{headers:?}");
        assert!(body.ends_with("\r\n") && !body.replace("\r\n", "").contains('\n'), "CRLF lines only: {body:?}");
        for line in body.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        let unfolded = body.replace("\r\n ", "");
        let lines: Vec<&str> = unfolded.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(), 1, "{unfolded}");
        let starts: chrono::DateTime<chrono::Utc> = event["starts_at"].as_str().unwrap().parse().unwrap();
        let expected = [
            format!("UID:reservation-{}@hothour", id(&seats)),
            format!("DTSTART:{}", starts.format("%Y%m%dT%H%M%SZ")),
            format!("DTEND:{}", (starts + Duration::minutes(90)).format("%Y%m%dT%H%M%SZ")),
            "SUMMARY:Salsa\\, beginners\\; bring shoes \\\\ water — a long title that needs folding at seventy-five octets".to_owned(),
            "LOCATION:Studio of admin@studio-a.test\\, Moda Cd. 1\\; Kadıköy\\nİstanbul".to_owned(),
            format!("DESCRIPTION:Booking code: {}", booked["booking_code"].as_str().unwrap()),
            "STATUS:CONFIRMED".to_owned(),
        ];
        for line in &expected {
            assert!(lines.contains(&line.as_str()), "missing {line:?} in {unfolded}");
        }
        assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
        assert_eq!(lines.last(), Some(&"END:VCALENDAR"));
        // The UID stays the same for the reservation.
        let again = raw_get(&app, &path, Some(&user.token)).await.2.replace("\r\n ", "");
        assert!(again.contains(&expected[0]));

        // Only its owner gets it: not another user, not the studio, not a stranger.
        let other = app.register("other@a.test").await;
        for token in [other.token.as_str(), admin.token.as_str()] {
            let (status, _, body) = raw_get(&app, &path, Some(token)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
            assert!(body.contains("\"not_found\""), "{body}");
        }
        assert_eq!(raw_get(&app, &path, None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(raw_get(&app, "/reservations/999999/calendar.ics", Some(&user.token)).await.0, StatusCode::NOT_FOUND);
    }
}

on_both_stores! {
    async fn auctions_and_events_carry_their_studio_in_answers_and_frames(backend) {
        use hothour_tests::ws::WsClient;
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        let user = app.register("user@a.test").await;
        let auction = created(&app, "/auctions", &admin.token, auction_body(&app, "Tango slot", None)).await;
        let event = created(&app, "/events", &admin.token, event_body(&app, "Salsa")).await;
        assert_studio(&auction["studio"], studio_id);
        assert_studio(&event["studio"], studio_id);
        assert_eq!(auction["studio_id"], studio_id);
        for path in [format!("/auctions/{}", id(&auction)), format!("/events/{}", id(&event))] {
            assert_studio(&app.get(&path, None).await.1["studio"], studio_id);
        }
        for path in ["/auctions", "/events"] {
            let (_, page) = app.get(path, None).await;
            assert_studio(&page["items"][0]["studio"], studio_id);
        }

        let mut client = WsClient::connect(&app).await;
        client.authenticated(&user).await;
        let snapshot = client.subscribed(&format!("auction:{}", id(&auction))).await;
        assert_studio(&snapshot["data"]["studio"], studio_id);
        let snapshot = client.subscribed(&format!("event:{}", id(&event))).await;
        assert_studio(&snapshot["data"]["studio"], studio_id);
        client.subscribed(&format!("user:{}", user.user_id)).await;

        // A studio's change reaches the next answer and frame at once.
        let (status, _) =
            app.patch(&format!("/studios/{studio_id}"), Some(&admin.token), json!({"name": "Moda Dans"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.get(&format!("/auctions/{}", id(&auction)), None).await.1["studio"]["name"], "Moda Dans");

        created(&app, &format!("/auctions/{}/grab", id(&auction)), &user.token, json!({})).await;
        let frames = client.each_of(&["auction_held", "hold_created"]).await;
        let (held, hold) = (&frames[0], &frames[1]);
        assert_eq!(held["data"]["studio"]["name"], "Moda Dans", "{held}");
        assert_eq!(hold["data"]["target"]["title"], "Tango slot", "{hold}");
        assert_eq!(hold["data"]["target"]["studio"]["name"], "Moda Dans", "{hold}");
        hold_seats(&app, &user, id(&event)).await;
        let seats = client.next_of_type("availability_changed").await;
        assert_eq!(seats["data"]["studio"]["id"], studio_id, "{seats}");
        assert_eq!(seats["data"]["studio"]["name"], "Moda Dans", "{seats}");
    }
}

async fn hold_seats(app: &TestApp, user: &Session, event_id: i64) -> Value {
    hold(app, user, event_id).await
}
