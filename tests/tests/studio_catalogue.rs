//! The studio's catalogue and the platform admins' view of studios (issue 23):
//! cancelling an event with every hold and booking it has, repeating an
//! auction weekly (DST-correct, at most 52, all or none), deleting an auction
//! no one reserved, and listing and removing a studio's admins (at once, on
//! every instance). Over HTTP and WebSocket, on both stores; every frame is
//! checked against the AsyncAPI document.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use hothour_tests::app::{Backend, Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso, time};
use hothour_tests::on_both_stores;
use hothour_tests::ws::{WsClient, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn open_event(app: &TestApp, admin: &Session, capacity: i64) -> i64 {
    let starts = app.now() + Duration::days(2);
    let body = json!({
        "title": "Salsa night", "capacity": capacity, "price": "150.00",
        "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1)),
    });
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

async fn hold(app: &TestApp, user: &Session, event_id: i64, quantity: i64) -> i64 {
    let path = format!("/events/{event_id}/holds");
    let (status, hold) = app.post(&path, Some(&user.token), json!({"quantity": quantity})).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    id(&hold)
}

async fn book(app: &TestApp, user: &Session, event_id: i64, quantity: i64) -> i64 {
    let reservation = hold(app, user, event_id, quantity).await;
    let (status, booked) =
        app.post(&format!("/reservations/{reservation}/confirm"), Some(&user.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{booked}");
    reservation
}

async fn reservation(app: &TestApp, user: &Session, id: i64) -> Value {
    let (status, value) = app.get(&format!("/reservations/{id}"), Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{value}");
    value
}

/// The audit entries of `action` that `reader` may see, newest first.
async fn audited(app: &TestApp, reader: &Session, action: &str) -> Vec<Value> {
    let (status, page) = app.get("/audit-log?limit=100", Some(&reader.token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().expect("a page").iter().filter(|e| e["action"] == action).cloned().collect()
}

/// A socket signed in as `who` (if given) in each of `rooms`.
async fn watching(app: &TestApp, who: Option<&Session>, rooms: &[&str]) -> WsClient {
    let mut ws = WsClient::connect(app).await;
    if let Some(session) = who {
        ws.authenticated(session).await;
    }
    for room in rooms {
        // A room joined before may speak first: the relay can announce the
        // auction's opening while the next room is being joined.
        let mut reply = ws.subscribe(room, None).await;
        while reply["type"] != "subscribed" {
            reply = ws.next_json().await;
        }
        assert_eq!(reply["room"], *room, "{reply}");
    }
    ws
}

// --- 1. cancelling an event -------------------------------------------------------

on_both_stores! {
    async fn cancelling_an_event_cancels_every_hold_and_booking_at_once_and_tells_everyone(backend) {
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let (ada, bob, cem) =
            (app.register("ada@cancel.test").await, app.register("bob@cancel.test").await, app.register("cem@cancel.test").await);
        let ada_booking = book(&app, &ada, event_id, 2).await;
        let bob_booking = book(&app, &bob, event_id, 3).await;
        let cem_hold = hold(&app, &cem, event_id, 1).await;
        let (status, before) = app.get(&format!("/events/{event_id}"), None).await;
        assert_eq!((status, before["available"].as_i64()), (StatusCode::OK, Some(4)), "{before}");
        assert_eq!(before["cancelled_at"], Value::Null);

        let (event_room, studio_room) = (format!("event:{event_id}"), format!("studio:{studio_id}"));
        let mut ada_ws = watching(&app, Some(&ada), &[&format!("user:{}", ada.user_id)]).await;
        let mut studio_ws = watching(&app, Some(&admin), &[&studio_room, "catalogue"]).await;
        let mut public_ws = watching(&app, None, &[&event_room, "catalogue"]).await;

        let (status, cancelled) = app.post(&format!("/events/{event_id}/cancel"), Some(&admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!((cancelled["is_active"].as_bool(), time(&cancelled["cancelled_at"])), (Some(false), app.now()));
        assert_eq!(
            (cancelled["available"].as_i64(), cancelled["held_seats"].as_i64(), cancelled["confirmed_seats"].as_i64()),
            (Some(10), Some(0), Some(0)),
            "every seat is free again: {cancelled}"
        );
        for (user, reservation_id) in [(&ada, ada_booking), (&bob, bob_booking), (&cem, cem_hold)] {
            let reservation = reservation(&app, user, reservation_id).await;
            assert_eq!(reservation["status"], "CANCELLED", "{reservation}");
        }
        let taken = app
            .sql_i64(&format!("SELECT CAST(held_seats + confirmed_seats AS BIGINT) FROM events WHERE id = {event_id}"))
            .await;
        assert_eq!(taken, 0);

        // Each holder hears it; the studio hears every one and the event; the public loses the event.
        let told = ada_ws.next_of_type("reservation_cancelled").await;
        assert_eq!((told["data"]["id"].as_i64(), told["data"]["status"].as_str()), (Some(ada_booking), Some("CANCELLED")));
        let mut heard = Vec::new();
        for _ in 0..3 {
            heard.push(studio_ws.next_of_type("reservation_cancelled").await["data"]["id"].as_i64().unwrap());
        }
        heard.sort();
        assert_eq!(heard, [ada_booking, bob_booking, cem_hold]);
        let changed = studio_ws.next_of_type("availability_changed").await;
        assert_eq!((changed["data"]["is_active"].as_bool(), changed["data"]["available"].as_i64()), (Some(false), Some(10)));
        assert!(changed["data"]["cancelled_at"].is_string(), "{changed}");
        let frames = public_ws.each_of(&["room_closed", "event_hidden"]).await;
        assert_eq!(frames[0]["room"], event_room.as_str());
        assert_eq!((frames[1]["room"].as_str(), frames[1]["data"]["id"].as_i64()), (Some("catalogue"), Some(event_id)));

        // Audited once, with what it ended.
        let entries = audited(&app, &admin, "event.cancel").await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["target"], format!("event:{event_id}"));
        assert_eq!(entries[0]["details"]["cancelled_reservations"].as_array().map(Vec::len), Some(3), "{}", entries[0]);
        assert!(audited(&app, &admin, "reservation.cancel").await.is_empty(), "one decision, one entry");
    }

    async fn a_cancelled_event_stays_cancelled_and_takes_no_holds(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let event_id = open_event(&app, &admin, 10).await;
        let path = format!("/events/{event_id}/cancel");
        assert_eq!(app.post(&path, Some(&admin.token), json!({})).await.0, StatusCode::OK);

        assert_problem(&app.post(&path, Some(&admin.token), json!({})).await, StatusCode::CONFLICT, "event_cancelled");
        let reopen = app.patch(&format!("/events/{event_id}"), Some(&admin.token), json!({"is_active": true})).await;
        assert_problem(&reopen, StatusCode::CONFLICT, "event_cancelled");
        let ada = app.register("ada@cancel.test").await;
        let refused = app.post(&format!("/events/{event_id}/holds"), Some(&ada.token), json!({"quantity": 1})).await;
        assert_problem(&refused, StatusCode::NOT_FOUND, "not_found");
        assert_problem(&app.get(&format!("/events/{event_id}"), None).await, StatusCode::NOT_FOUND, "not_found");

        // Its studio still sees it, cancelled, among its inactive events.
        let (status, seen) = app.get(&format!("/events/{event_id}"), Some(&admin.token)).await;
        assert_eq!((status, seen["is_active"].as_bool()), (StatusCode::OK, Some(false)), "{seen}");
        let (_, listed) = app.get("/events?is_active=all", Some(&admin.token)).await;
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{listed}");
        assert_eq!(items[0]["cancelled_at"], seen["cancelled_at"]);
        // Nothing live is left: it may be deleted.
        assert_eq!(app.delete(&format!("/events/{event_id}"), Some(&admin.token)).await.0, StatusCode::NO_CONTENT);
    }

    async fn only_the_events_studio_may_cancel_it(backend) {
        let World { app, platform, admin, .. } = World::new(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let event_id = open_event(&app, &admin, 10).await;
        let path = format!("/events/{event_id}/cancel");
        assert_problem(&app.post(&path, Some(&other_admin.token), json!({})).await, StatusCode::NOT_FOUND, "not_found");
        let ada = app.register("ada@cancel.test").await;
        assert_problem(&app.post(&path, Some(&ada.token), json!({})).await, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(app.call(Method::POST, &path, None, None).await.0, StatusCode::UNAUTHORIZED);
        assert_problem(&app.post("/events/999999/cancel", Some(&admin.token), json!({})).await, StatusCode::NOT_FOUND, "not_found");
        let (status, cancelled) = app.post(&path, Some(&platform.token), json!({})).await;
        assert_eq!((status, cancelled["is_active"].as_bool()), (StatusCode::OK, Some(false)), "{cancelled}");
    }
}

// --- 2. repeat weekly until … ------------------------------------------------------

/// A studio in `zone` with its own admin.
async fn studio_in(app: &TestApp, platform: &Session, zone: &str, admin_email: &str) -> (i64, Session) {
    let body = json!({"name": format!("Studio in {zone}"), "timezone": zone});
    let (status, studio) = app.post("/studios", Some(&platform.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{studio}");
    let studio_id = id(&studio);
    let admin = app.register(admin_email).await;
    app.appoint(platform, studio_id, &admin, admin_email).await;
    (studio_id, admin)
}

const BERLIN: Tz = chrono_tz::Europe::Berlin;

/// The instant of wall-clock `time` (`HH:MM`) on `day` in Berlin.
fn berlin(day: NaiveDate, time: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(&format!("{day} {time}"), "%Y-%m-%d %H:%M").unwrap();
    BERLIN.from_local_datetime(&local).earliest().unwrap().with_timezone(&Utc)
}

/// The first day from `from` on whose night Berlin's clocks change, and whether they spring forward.
fn next_clock_change(from: NaiveDate) -> (NaiveDate, bool) {
    let offset = |day: NaiveDate| berlin(day, "12:00") - berlin(day - Duration::days(1), "12:00");
    let day = (0..400).map(|n| from + Duration::days(n)).find(|day| offset(*day) != Duration::days(1)).unwrap();
    (day, offset(day) < Duration::days(1))
}

/// The first day from `from` on whose night Berlin's clocks spring forward.
fn next_spring_forward(from: NaiveDate) -> NaiveDate {
    let (day, forward) = next_clock_change(from);
    if forward { day } else { next_clock_change(day + Duration::days(1)).0 }
}

/// An auction on `day`, Berlin time: open 09:00 to 18:00 for a 19:00 session, repeated weekly until `until`.
fn series(day: NaiveDate, until: NaiveDate) -> Value {
    json!({
        "title": "Reformer pilates, 19:00", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
        "drop_interval_minutes": 60, "starts_at": iso(berlin(day, "09:00")), "ends_at": iso(berlin(day, "18:00")),
        "scheduled_at": iso(berlin(day, "19:00")),
        "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
        "repeat": {"every": "week", "until": until.to_string()},
    })
}

async fn auctions_of(app: &TestApp, studio_id: i64) -> usize {
    let (status, page) = app.get(&format!("/auctions?studio_id={studio_id}&limit=100"), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().len()
}

on_both_stores! {
    async fn a_weekly_repeat_keeps_the_wall_clock_time_across_a_change_of_summer_time(backend) {
        let World { app, platform, .. } = World::new(backend).await;
        let (studio_id, admin) = studio_in(&app, &platform, "Europe/Berlin", "admin@berlin.test").await;
        let today = app.now().with_timezone(&BERLIN).date_naive();
        let (change, _) = next_clock_change(today + Duration::days(14));
        let first = change - Duration::days(10);
        let mut catalogue = watching(&app, None, &["catalogue"]).await;

        let (status, created) =
            app.post("/auctions/batch", Some(&admin.token), series(first, change + Duration::days(10))).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let items = created["items"].as_array().unwrap();
        let days: Vec<NaiveDate> =
            items.iter().map(|a| time(&a["scheduled_at"]).with_timezone(&BERLIN).date_naive()).collect();
        assert_eq!(days, [first, first + Duration::days(7), first + Duration::days(14)], "{created}");
        for auction in items {
            let local = |field: &str| time(&auction[field]).with_timezone(&BERLIN).hour();
            assert_eq!((local("starts_at"), local("ends_at"), local("scheduled_at")), (9, 18, 19), "{auction}");
            assert_eq!((auction["studio_id"].as_i64(), auction["status"].as_str()), (Some(studio_id), Some("DRAFT")));
            assert_eq!(auction["turbo"]["trigger_before_minutes"], 30);
        }
        let utc_hour = |auction: &Value| time(&auction["scheduled_at"]).hour();
        assert_ne!(utc_hour(&items[0]), utc_hour(&items[2]), "the clocks changed in between");

        assert_eq!(auctions_of(&app, studio_id).await, 3);
        let audited = audited(&app, &admin, "auction.create").await;
        assert_eq!(audited.len(), 3, "each auction is audited: {audited:?}");
        for auction in items {
            let frame = catalogue.next_of_type("auction_updated").await;
            assert_eq!(frame["data"]["id"], auction["id"], "each is announced, in order: {frame}");
        }
    }

    async fn a_repeat_makes_at_most_52_auctions_and_none_when_one_copy_is_invalid(backend) {
        let World { app, platform, .. } = World::new(backend).await;
        let (studio_id, admin) = studio_in(&app, &platform, "Europe/Berlin", "admin@berlin.test").await;
        let today = app.now().with_timezone(&BERLIN).date_naive();
        let first = today + Duration::days(3);

        let too_many = app.post("/auctions/batch", Some(&admin.token), series(first, first + Duration::weeks(52))).await;
        assert_problem(&too_many, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(too_many.1["errors"]["repeat.until"][0].as_str().unwrap().contains("53"), "{}", too_many.1);
        let before = app.post("/auctions/batch", Some(&admin.token), series(first, first - Duration::days(1))).await;
        assert_problem(&before, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(auctions_of(&app, studio_id).await, 0);

        // One night a year lasts an hour less: a copy whose auction spans it
        // is too short for its turbo lead, and then nothing is created.
        let spring = next_spring_forward(today + Duration::days(8));
        let week_before = spring - Duration::days(7);
        let mut body = series(week_before, spring + Duration::days(7));
        body["starts_at"] = json!(iso(berlin(week_before, "01:00")));
        body["ends_at"] = json!(iso(berlin(week_before, "03:30")));
        body["scheduled_at"] = json!(iso(berlin(week_before, "04:00")));
        body["turbo"]["trigger_before_minutes"] = json!(120);
        let invalid = app.post("/auctions/batch", Some(&admin.token), body).await;
        assert_problem(&invalid, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let message = invalid.1["errors"]["turbo.trigger_before_minutes"][0].as_str().unwrap().to_owned();
        assert!(message.starts_with(&format!("in the copy of {spring}: ")), "{message}");
        assert_eq!(auctions_of(&app, studio_id).await, 0, "all or none");
        assert!(audited(&app, &admin, "auction.create").await.is_empty());

        let (status, created) =
            app.post("/auctions/batch", Some(&admin.token), series(first, first + Duration::weeks(51))).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["items"].as_array().unwrap().len(), 52);
        assert_eq!(auctions_of(&app, studio_id).await, 52);
    }

    async fn a_repeat_is_checked_as_a_single_auction_is(backend) {
        let World { app, platform, admin, studio_id } = World::new(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let first = app.now().with_timezone(&BERLIN).date_naive() + Duration::days(3);
        let body = series(first, first + Duration::days(7));

        let ada = app.register("ada@repeat.test").await;
        assert_problem(&app.post("/auctions/batch", Some(&ada.token), body.clone()).await, StatusCode::FORBIDDEN, "forbidden");
        let mut elsewhere = body.clone();
        elsewhere["studio_id"] = json!(studio_id);
        assert_problem(&app.post("/auctions/batch", Some(&other_admin.token), elsewhere).await, StatusCode::NOT_FOUND, "not_found");
        let mut daily = body.clone();
        daily["repeat"]["every"] = json!("day");
        let answer = app.post("/auctions/batch", Some(&admin.token), daily).await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(answer.1["errors"]["repeat.every"].is_array(), "{}", answer.1);
        let mut unrepeated = body.clone();
        unrepeated.as_object_mut().unwrap().remove("repeat");
        assert_problem(&app.post("/auctions/batch", Some(&admin.token), unrepeated).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let mut floor_too_high = body.clone();
        floor_too_high["floor_price"] = json!("600.00");
        let answer = app.post("/auctions/batch", Some(&admin.token), floor_too_high).await;
        assert!(answer.1["errors"]["floor_price"].is_array(), "the first auction's own errors: {}", answer.1);
        assert_eq!(auctions_of(&app, studio_id).await, 0);

        // A platform admin names the studio.
        let mut named = body;
        named["studio_id"] = json!(studio_id);
        let (status, created) = app.post("/auctions/batch", Some(&platform.token), named).await;
        assert_eq!((status, created["items"].as_array().map(Vec::len)), (StatusCode::CREATED, Some(2)), "{created}");
    }
}

// --- 3. deleting an auction --------------------------------------------------------

/// An auction of the admin's studio, on sale since ten minutes ago.
async fn open_auction(app: &TestApp, admin: &Session) -> i64 {
    let now = app.now();
    let body = json!({
        "title": "Tango slot", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
        "drop_interval_minutes": 60, "starts_at": iso(now - Duration::minutes(10)),
        "ends_at": iso(now + Duration::minutes(110)), "scheduled_at": iso(now + Duration::minutes(180)),
    });
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

on_both_stores! {
    async fn an_auction_no_one_reserved_is_deleted_and_announced(backend) {
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        let auction_id = open_auction(&app, &admin).await;
        let mut catalogue = watching(&app, None, &["catalogue", &format!("auction:{auction_id}")]).await;
        let mut studio_ws = watching(&app, Some(&admin), &[&format!("studio:{studio_id}")]).await;

        assert_eq!(app.delete(&format!("/auctions/{auction_id}"), Some(&admin.token)).await.0, StatusCode::NO_CONTENT);
        let mut rooms = Vec::new();
        for _ in 0..2 {
            let frame = catalogue.next_of_type("auction_deleted").await;
            assert_eq!(frame["data"]["id"], auction_id, "{frame}");
            rooms.push(frame["room"].as_str().unwrap().to_owned());
        }
        rooms.sort();
        assert_eq!(rooms, [format!("auction:{auction_id}"), "catalogue".to_owned()]);
        assert_eq!(studio_ws.next_of_type("auction_deleted").await["data"]["title"], "Tango slot");

        assert_problem(&app.get(&format!("/auctions/{auction_id}"), None).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(auctions_of(&app, studio_id).await, 0);
        assert_problem(&app.delete(&format!("/auctions/{auction_id}"), Some(&admin.token)).await, StatusCode::NOT_FOUND, "not_found");
        let ada = app.register("ada@delete.test").await;
        let grab = app.call(Method::POST, &format!("/auctions/{auction_id}/grab"), Some(&ada.token), None).await;
        assert_problem(&grab, StatusCode::NOT_FOUND, "not_found");
        let mut late = WsClient::connect(&app).await;
        assert_error(&late.subscribe(&format!("auction:{auction_id}"), None).await, "not_found");
        let entries = audited(&app, &admin, "auction.delete").await;
        assert_eq!((entries.len(), entries[0]["target"].as_str()), (1, Some(format!("auction:{auction_id}").as_str())));
        assert_eq!(entries[0]["details"]["title"], "Tango slot");
    }

    async fn an_auction_anyone_ever_reserved_is_not_deleted(backend) {
        let World { app, platform, admin, .. } = World::new(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let auction_id = open_auction(&app, &admin).await;
        let path = format!("/auctions/{auction_id}");
        assert_problem(&app.delete(&path, Some(&other_admin.token)).await, StatusCode::NOT_FOUND, "not_found");
        let ada = app.register("ada@delete.test").await;
        assert_problem(&app.delete(&path, Some(&ada.token)).await, StatusCode::FORBIDDEN, "forbidden");

        // Ada grabs it and lets go: the hold is history, and so is the auction's.
        let (status, held) = app.call(Method::POST, &format!("/auctions/{auction_id}/grab"), Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        assert_problem(&app.delete(&path, Some(&admin.token)).await, StatusCode::CONFLICT, "auction_has_reservations");
        let (status, _) = app.post(&format!("/reservations/{}/cancel", id(&held)), Some(&ada.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_problem(&app.delete(&path, Some(&admin.token)).await, StatusCode::CONFLICT, "auction_has_reservations");
        assert_eq!(app.get(&path, None).await.0, StatusCode::OK);
        // Cancelling is the way out.
        let (status, cancelled) = app.post(&format!("{path}/cancel"), Some(&admin.token), json!({})).await;
        assert_eq!((status, cancelled["status"].as_str()), (StatusCode::OK, Some("CANCELLED")), "{cancelled}");
    }
}

// --- 4. a studio's admins ----------------------------------------------------------

on_both_stores! {
    async fn a_studios_admins_are_listed_to_it_and_to_platform_admins(backend) {
        let World { app, platform, admin, studio_id } = World::new(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let second = app.register("second@studio-a.test").await;
        app.appoint(&platform, studio_id, &second, "second@studio-a.test").await;
        let path = format!("/studios/{studio_id}/admins");

        for reader in [&platform, &admin] {
            let (status, page) = app.get(&path, Some(&reader.token)).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(
                page,
                json!({"items": [
                    {"id": admin.user_id, "email": "admin@studio-a.test", "full_name": "Test Person"},
                    {"id": second.user_id, "email": "second@studio-a.test", "full_name": "Test Person"},
                ], "next_cursor": null})
            );
        }
        let (_, first_page) = app.get(&format!("{path}?limit=1"), Some(&admin.token)).await;
        assert_eq!(first_page["items"][0]["id"], admin.user_id);
        let cursor = first_page["next_cursor"].as_str().expect("a next page").to_owned();
        let (_, next_page) = app.get(&format!("{path}?limit=1&cursor={cursor}"), Some(&admin.token)).await;
        assert_eq!((next_page["items"][0]["id"].as_i64(), &next_page["next_cursor"]), (Some(second.user_id), &Value::Null));

        assert_problem(&app.get(&path, Some(&other_admin.token)).await, StatusCode::NOT_FOUND, "not_found");
        let ada = app.register("ada@admins.test").await;
        assert_problem(&app.get(&path, Some(&ada.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(app.get(&path, None).await.0, StatusCode::UNAUTHORIZED);
        assert_problem(&app.get("/studios/999999/admins", Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
    }

    async fn removing_an_admin_takes_the_studio_away_at_once_and_is_audited(backend) {
        let World { app, platform, admin, studio_id } = World::new(backend).await;
        let (other_studio, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let studio_room = format!("studio:{studio_id}");
        let mut ws = watching(&app, Some(&admin), &[&studio_room]).await;
        let event_id = open_event(&app, &admin, 10).await;
        let path = format!("/studios/{studio_id}/admins/{}", admin.user_id);

        assert_problem(&app.delete(&path, Some(&admin.token)).await, StatusCode::FORBIDDEN, "forbidden");
        let elsewhere = format!("/studios/{other_studio}/admins/{}", admin.user_id);
        assert_problem(&app.delete(&elsewhere, Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
        let ada = app.register("ada@admins.test").await;
        let not_an_admin = format!("/studios/{studio_id}/admins/{}", ada.user_id);
        assert_problem(&app.delete(&not_an_admin, Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
        let platform_admin = format!("/studios/{studio_id}/admins/{}", platform.user_id);
        assert_problem(&app.delete(&platform_admin, Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");

        assert_eq!(app.delete(&path, Some(&platform.token)).await.0, StatusCode::NO_CONTENT);
        // The same token acts as a plain user from the next request on, here and on its sockets.
        let (status, me) = app.get("/me", Some(&admin.token)).await;
        assert_eq!((status, me["role"].as_str(), &me["studio_id"]), (StatusCode::OK, Some("user"), &Value::Null), "{me}");
        let edit = app.patch(&format!("/events/{event_id}"), Some(&admin.token), json!({"title": "Mine"})).await;
        assert_problem(&edit, StatusCode::FORBIDDEN, "forbidden");
        let ended = ws.next_of_type("session_ended").await;
        assert_eq!((ended["reason"].as_str(), ended["rooms"].clone()), (Some("role_changed"), json!([studio_room])), "{ended}");
        assert_error(&ws.subscribe(&studio_room, None).await, "forbidden");
        let (_, page) = app.get(&format!("/studios/{studio_id}/admins"), Some(&platform.token)).await;
        assert_eq!(page["items"], json!([]));

        let entries = audited(&app, &platform, "studio.remove_admin").await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!((entries[0]["studio_id"].as_i64(), entries[0]["actor_id"].as_i64()), (Some(studio_id), Some(platform.user_id)));
        assert_eq!(entries[0]["target"], format!("user:{}", admin.user_id));
        assert_eq!(entries[0]["details"], json!({"user_id": admin.user_id, "email": "admin@studio-a.test"}));
        assert_problem(&app.delete(&path, Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
        // The other studio is untouched; the removed user may be appointed again, anywhere.
        assert_eq!(app.get(&format!("/studios/{other_studio}/admins"), Some(&other_admin.token)).await.0, StatusCode::OK);
        let accepted = app.appoint(&platform, other_studio, &admin, "admin@studio-a.test").await;
        assert_eq!(accepted["studio_id"].as_i64(), Some(other_studio));
    }
}

/// Each instance keeps a caller's role in memory: a removal made through one
/// instance takes effect on another as soon as it is announced, for its
/// requests and its sockets alike (PostgreSQL: SQLite instances share no
/// announcements).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_admin_takes_effect_on_every_instance() {
    let World { app, platform, admin, studio_id } = World::new(Backend::Postgres).await;
    let other = app.another_instance().await;
    let event_id = open_event(&other, &admin, 10).await;
    let studio_room = format!("studio:{studio_id}");
    let mut ws = watching(&other, Some(&admin), &[&studio_room]).await;

    let path = format!("/studios/{studio_id}/admins/{}", admin.user_id);
    assert_eq!(app.delete(&path, Some(&platform.token)).await.0, StatusCode::NO_CONTENT);
    let ended = ws.next_of_type("session_ended").await;
    assert_eq!(
        (ended["reason"].as_str(), ended["rooms"].clone()),
        (Some("role_changed"), json!([studio_room])),
        "{ended}"
    );
    // The socket shows the announcement arrived: the other instance's requests follow it too.
    let edit = other.patch(&format!("/events/{event_id}"), Some(&admin.token), json!({"title": "Mine"})).await;
    assert_problem(&edit, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&ws.subscribe(&studio_room, None).await, "forbidden");
}
