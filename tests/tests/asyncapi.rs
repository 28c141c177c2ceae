//! Issue 10, deliverable 4: the live protocol is typed and described by an
//! AsyncAPI 3.0 document, committed, served, and kept exact: every frame the
//! WebSocket tests receive is checked against it, room data has the REST
//! shapes, and error frames name the op and room they answer.
//! Regenerate the document with `just asyncapi`.

use chrono::Duration;
use hothour_tests::app::{Session, TestApp};
use hothour_tests::fixtures::{World, id, iso};
use hothour_tests::ws::WsClient;
use hothour_tests::{asyncapi, on_both_stores};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// --- the document ----------------------------------------------------------------

#[test]
fn committed_asyncapi_matches_the_code() {
    let generated = hothour_api::asyncapi::asyncapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/asyncapi.json");
    let committed = std::fs::read_to_string(path).expect("openapi/asyncapi.json is committed");
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/asyncapi.json is out of date: run `just asyncapi` and commit the result"
    );
}

#[test]
fn the_document_lists_every_op_event_and_error_code() {
    let document = asyncapi::document();
    assert_eq!(document["asyncapi"], "3.0.0");
    assert_eq!(document["channels"]["live"]["address"], "/api/v1/ws");
    let messages = document["components"]["messages"].as_object().unwrap();
    for name in [
        "auth",
        "subscribe",
        "unsubscribe",
        "ping",
        "authenticated",
        "subscribed",
        "unsubscribed",
        "pong",
        "session_ended",
        "error",
        "price_update",
        "turbo_triggered",
        "auction_held",
        "auction_reopened",
        "auction_booked",
        "auction_updated",
        "availability_changed",
        "hold_created",
        "booking_confirmed",
        "reservation_expired",
        "reservation_cancelled",
        "reservation_checked_in",
        "reservation_no_show",
    ] {
        assert!(messages.contains_key(name), "no message {name}");
    }
    let schemas = &document["components"]["schemas"];
    let codes: Vec<&str> = schemas["ErrorCode"]["enum"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for code in [
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "invalid_since",
        "too_many_rooms",
        "rate_limited",
        "unavailable",
        "too_many_connections",
    ] {
        assert!(codes.contains(&code), "no error code {code}");
    }
    let close_codes = document["channels"]["live"]["x-close-codes"].as_object().unwrap();
    for code in ["1001", "1013", "4008", "4029"] {
        assert!(close_codes.contains_key(code), "close code {code} undocumented");
    }
    // Room data is the REST shapes, the same schemas as in openapi/openapi.json.
    let data = |message: &str| messages[message]["payload"]["properties"]["data"]["$ref"].as_str().unwrap().to_owned();
    assert_eq!(data("auction_held"), "#/components/schemas/AuctionOut");
    assert_eq!(data("availability_changed"), "#/components/schemas/EventOut");
    assert_eq!(data("reservation_checked_in"), "#/components/schemas/ReservationOut");
    let openapi: Value = serde_json::from_str(&hothour_api::openapi_json()).unwrap();
    for shape in ["AuctionOut", "EventOut", "ReservationOut"] {
        assert_eq!(schemas[shape], openapi["components"]["schemas"][shape], "{shape} differs from the REST one");
    }
    // seq: increasing within a room, not contiguous.
    assert!(document["info"]["description"].as_str().unwrap().contains("need not be contiguous"));
}

/// The validator the WebSocket tests use has teeth.
#[test]
fn frames_that_break_the_document_are_caught() {
    let pong = json!({"type": "pong", "at": "2026-06-01T12:00:00Z"});
    assert!(asyncapi::frame_violations(&pong).is_empty(), "{:?}", asyncapi::frame_violations(&pong));
    let unknown = json!({"type": "price_changed", "room": "auction:1"});
    assert!(!asyncapi::frame_violations(&unknown).is_empty());
    let extra_field = json!({"type": "pong", "at": "2026-06-01T12:00:00Z", "late": true});
    assert!(!asyncapi::frame_violations(&extra_field).is_empty());
    let error_without_room = json!({"type": "error", "code": "bad_request", "detail": "x", "op": null});
    assert!(!asyncapi::frame_violations(&error_without_room).is_empty());
    let unknown_code = json!({"type": "error", "code": "oops", "detail": "x", "op": null, "room": null});
    assert!(!asyncapi::frame_violations(&unknown_code).is_empty());
    // The snapshot shape before issue 10: `auction_id` where REST says `id`.
    let old_snapshot = json!({
        "type": "subscribed", "room": "auction:1", "seq": 0, "epoch": 1, "at": "2026-06-01T12:00:00Z",
        "resumed": false,
        "data": {"auction_id": 1, "studio_id": 1, "status": "ACTIVE", "current_price": "500.00",
                 "next_price": null, "next_change_at": null, "turbo_active": false,
                 "turbo_started_at": null, "held_price": null},
    });
    assert!(!asyncapi::frame_violations(&old_snapshot).is_empty());
}

on_both_stores! {
    async fn the_asyncapi_document_is_served_as_committed(backend) {
        let app = TestApp::spawn_on(backend).await;
        let response = app.client.get(app.url("/api/v1/asyncapi.json")).send().await.expect("the server answers");
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("application/json"), "{content_type}");
        let served: Value = response.json().await.expect("JSON");
        assert_eq!(&served, asyncapi::document(), "the served document differs from openapi/asyncapi.json");
    }
}

// --- frames ----------------------------------------------------------------------

/// An active event of 10 seats starting in `starts_in`.
async fn open_event(app: &TestApp, admin: &Session, starts_in: Duration) -> i64 {
    let starts = app.now() + starts_in;
    let body = json!({
        "title": "Salsa night", "capacity": 10, "price": "150.00",
        "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1)),
    });
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

async fn open_auction(app: &TestApp, admin: &Session) -> i64 {
    let now = app.now();
    let body = json!({
        "title": "Tango slot", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
        "drop_interval_minutes": 60, "starts_at": iso(now - Duration::minutes(10)),
        "ends_at": iso(now + Duration::minutes(110)), "scheduled_at": iso(now + Duration::minutes(170)),
        "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
    });
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

async fn rest(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let (status, body) = app.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

on_both_stores! {
    async fn snapshots_and_state_changes_carry_the_rest_shapes(backend) {
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        let auction_id = open_auction(&app, &admin).await;
        let event_id = open_event(&app, &admin, Duration::days(2)).await;
        let user = app.register("ada@contract.test").await;
        let mut ws = WsClient::connect(&app).await;
        ws.authenticated(&user).await;
        let mut studio = WsClient::connect(&app).await;
        studio.authenticated(&admin).await;
        let studio_room = format!("studio:{studio_id}");
        let subscribed = studio.subscribed(&studio_room).await;
        assert_eq!(subscribed["data"], json!({"studio_id": studio_id}), "{subscribed}");

        let auction_path = format!("/auctions/{auction_id}");
        let subscribed = ws.subscribed(&format!("auction:{auction_id}")).await;
        assert_eq!(subscribed["data"], rest(&app, &auction_path, None).await, "the snapshot is the REST auction");
        let event_path = format!("/events/{event_id}");
        let subscribed = ws.subscribed(&format!("event:{event_id}")).await;
        assert_eq!(subscribed["data"], rest(&app, &event_path, None).await, "the snapshot is the REST event");
        let subscribed = ws.subscribed(&format!("user:{}", user.user_id)).await;
        assert_eq!(subscribed["data"], json!({"user_id": user.user_id}), "{subscribed}");

        // A grab: the auction's room gets the auction, the user's room the reservation.
        let (status, held) =
            app.call(Method::POST, &format!("/auctions/{auction_id}/grab"), Some(&user.token), None).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        let [auction_held, created] = ws.each_of(&["auction_held", "hold_created"]).await.try_into().unwrap();
        assert_eq!(auction_held["data"], rest(&app, &auction_path, None).await, "auction_held carries the REST auction");
        assert_eq!(created["data"], held, "hold_created carries the REST reservation");
        let [in_studio_held, in_studio_created] =
            studio.each_of(&["auction_held", "hold_created"]).await.try_into().unwrap();
        assert_eq!(in_studio_held["data"], auction_held["data"]);
        assert_eq!(in_studio_created["data"], held);

        // A hold on the event: its room gets the event with its seats.
        let (status, hold) =
            app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({"quantity": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        let [changed, created] = ws.each_of(&["availability_changed", "hold_created"]).await.try_into().unwrap();
        assert_eq!(changed["data"], rest(&app, &event_path, None).await, "availability_changed carries the REST event");
        assert_eq!(created["data"], hold);
    }

    async fn check_ins_and_no_shows_reach_the_owner_in_the_documented_shape(backend) {
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        // Starting in an hour and a half: its door is open.
        let event_id = open_event(&app, &admin, Duration::minutes(90)).await;
        let (ada, bob) = (app.register("ada@contract.test").await, app.register("bob@contract.test").await);
        let mut booked = Vec::new();
        for user in [&ada, &bob] {
            let (status, hold) =
                app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({"quantity": 1})).await;
            assert_eq!(status, StatusCode::CREATED, "{hold}");
            let confirm = format!("/reservations/{}/confirm", id(&hold));
            let (status, confirmed) = app.post(&confirm, Some(&user.token), json!({})).await;
            assert_eq!(status, StatusCode::OK, "{confirmed}");
            booked.push(confirmed);
        }
        let (mut ada_ws, mut bob_ws) = (WsClient::connect(&app).await, WsClient::connect(&app).await);
        ada_ws.authenticated(&ada).await;
        ada_ws.subscribed(&format!("user:{}", ada.user_id)).await;
        bob_ws.authenticated(&bob).await;
        let bob_room = format!("user:{}", bob.user_id);
        let seen = bob_ws.subscribed(&bob_room).await["seq"].as_i64().expect("a seq");

        let code = booked[0]["booking_code"].as_str().expect("a booking code");
        let check_in = format!("/studios/{studio_id}/check-in");
        let (status, checked) = app.post(&check_in, Some(&admin.token), json!({"booking_code": code})).await;
        assert_eq!(status, StatusCode::OK, "{checked}");
        let frame = ada_ws.next_of_type("reservation_checked_in").await;
        assert_eq!(frame["data"]["id"], booked[0]["id"], "{frame}");
        assert_eq!(frame["data"]["status"], "CHECKED_IN", "{frame}");

        // Past the start and the grace period, the unchecked booking is a no-show.
        // Bob's token has expired by then: he signs in again and resumes his room.
        app.clock.advance(Duration::hours(4));
        let ended = bob_ws.next_of_type("session_ended").await;
        assert_eq!(ended["reason"], "token_expired", "{ended}");
        let bob = app.login("bob@contract.test").await;
        bob_ws.authenticated(&bob).await;
        bob_ws.send_json(json!({"op": "subscribe", "room": bob_room, "since": seen})).await;
        let frame = bob_ws.next_of_type("reservation_no_show").await;
        assert_eq!(frame["data"]["id"], booked[1]["id"], "{frame}");
        assert_eq!(frame["data"]["status"], "NO_SHOW", "{frame}");
        let shown = rest(&app, &format!("/reservations/{}", id(&booked[1])), Some(&bob.token)).await;
        assert_eq!(frame["data"], shown, "reservation_no_show carries the REST reservation");
    }

    async fn error_frames_name_the_op_and_room_they_answer(backend) {
        let World { app, .. } = World::with(backend, &[("WS_OPS_PER_SECOND", "1")]).await;
        let mut ws = WsClient::connect(&app).await;

        // A subscribe the server cannot read still names its op and room.
        ws.send_json(json!({"op": "subscribe", "room": "auction:1", "since": "yesterday"})).await;
        let reply = ws.next_json().await;
        assert_eq!((reply["code"].as_str(), reply["op"].as_str(), reply["room"].as_str()),
            (Some("bad_request"), Some("subscribe"), Some("auction:1")), "{reply}");
        // Nothing to name: null, present.
        ws.send_text("not json").await;
        let reply = ws.next_json().await;
        assert_eq!(reply["code"], "bad_request", "{reply}");
        assert!(reply["op"].is_null() && reply["room"].is_null(), "{reply}");

        // Over the rate (a burst of two): the refused subscribe is named, so the client knows what to retry.
        ws.send_json(json!({"op": "subscribe", "room": "event:77"})).await;
        let reply = ws.next_json().await;
        assert_eq!((reply["code"].as_str(), reply["op"].as_str(), reply["room"].as_str()),
            (Some("rate_limited"), Some("subscribe"), Some("event:77")), "{reply}");
    }
}
