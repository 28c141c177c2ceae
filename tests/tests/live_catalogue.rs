//! The public `catalogue` room (issue 21, the board): every auction's and
//! event's change, new ones included, on one room anyone may join; an
//! inactive event's changes reach only those who may see it, everyone else
//! hears `event_hidden` with its id alone. Over a real WebSocket, on both
//! stores; every frame is checked against the AsyncAPI document.

use chrono::Duration;
use hothour_tests::app::{Backend, Session, TestApp};
use hothour_tests::fixtures::{World, id, iso};
use hothour_tests::on_both_stores;
use hothour_tests::ws::{WsClient, assert_error, seq};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ROOM: &str = "catalogue";

/// An auction of `title` starting `starts_in` minutes from now (negative: already running), two hours long.
async fn create_auction(app: &TestApp, admin: &Session, title: &str, starts_in: i64) -> i64 {
    let starts = app.now() + Duration::minutes(starts_in);
    let body = json!({
        "title": title,
        "start_price": "500.00",
        "floor_price": "100.00",
        "drop_amount": "50.00",
        "drop_interval_minutes": 60,
        "starts_at": iso(starts),
        "ends_at": iso(starts + Duration::minutes(120)),
        "scheduled_at": iso(starts + Duration::minutes(180)),
        "turbo": {"trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5},
    });
    let (status, auction) = app.post("/auctions", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

async fn create_event(app: &TestApp, admin: &Session, title: &str, is_active: bool) -> i64 {
    let starts = app.now() + Duration::days(2);
    let body = json!({
        "title": title,
        "capacity": 10,
        "price": "150.00",
        "starts_at": iso(starts),
        "ends_at": iso(starts + Duration::hours(1)),
        "is_active": is_active,
    });
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

async fn expect(answer: (StatusCode, Value), status: StatusCode) -> Value {
    assert_eq!(answer.0, status, "{}", answer.1);
    answer.1
}

/// A socket in the catalogue, signed in as `who` if given; answers its `subscribed`.
async fn in_catalogue(app: &TestApp, who: Option<&Session>) -> (WsClient, Value) {
    let mut ws = WsClient::connect(app).await;
    if let Some(session) = who {
        ws.authenticated(session).await;
    }
    let subscribed = ws.subscribed(ROOM).await;
    (ws, subscribed)
}

/// The next catalogue frame, which must be of `kind` about item `id`.
async fn next_change(ws: &mut WsClient, kind: &str, id: i64) -> Value {
    let frame = ws.next_json().await;
    assert_eq!((frame["type"].as_str(), frame["room"].as_str()), (Some(kind), Some(ROOM)), "{frame}");
    assert_eq!(frame["data"]["id"], id, "{frame}");
    frame
}

on_both_stores! {
    async fn the_catalogue_announces_auctions_and_events_created_changed_opened_held_sold_and_ended(backend) {
        let World { app, admin, studio_id, .. } = World::new(backend).await;
        let (mut ws, subscribed) = in_catalogue(&app, None).await;
        assert_eq!(subscribed["data"], json!({}), "the catalogue has no state of its own: {subscribed}");
        let epoch = subscribed["epoch"].clone();
        assert!(epoch.is_i64() && subscribed["seq"].is_i64(), "{subscribed}");

        // Created: a running auction, one that opens later, an event.
        let running = create_auction(&app, &admin, "Tango slot", -10).await;
        let created = next_change(&mut ws, "auction_updated", running).await;
        assert_eq!(created["data"]["status"], "ACTIVE", "{created}");
        assert_eq!(created["data"]["studio"]["id"], studio_id, "the card names its studio: {created}");
        assert_eq!(created["data"]["current_price"], "500.00", "{created}");
        let later = create_auction(&app, &admin, "Salsa slot", 30).await;
        assert_eq!(next_change(&mut ws, "auction_updated", later).await["data"]["status"], "DRAFT");
        let event = create_event(&app, &admin, "Salsa night", true).await;
        let announced = next_change(&mut ws, "availability_changed", event).await;
        assert_eq!((announced["data"]["available"].as_i64(), announced["data"]["is_active"].as_bool()), (Some(10), Some(true)));
        assert_eq!(announced["data"]["title"], "Salsa night", "{announced}");

        // Changed: the event renamed, the auction's turbo started.
        expect(app.patch(&format!("/events/{event}"), Some(&admin.token), json!({"title": "Salsa party"})).await, StatusCode::OK).await;
        assert_eq!(next_change(&mut ws, "availability_changed", event).await["data"]["title"], "Salsa party");
        expect(app.post(&format!("/auctions/{running}/turbo"), Some(&admin.token), json!({})).await, StatusCode::OK).await;
        assert_eq!(next_change(&mut ws, "turbo_triggered", running).await["data"]["turbo_active"], true);

        // Held and sold; seats held and booked. The reservations themselves stay private.
        let ada = app.register("ada@catalogue.test").await;
        let (status, held) = app.call(Method::POST, &format!("/auctions/{running}/grab"), Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        assert_eq!(next_change(&mut ws, "auction_held", running).await["data"]["status"], "HELD");
        expect(app.post(&format!("/reservations/{}/confirm", id(&held)), Some(&ada.token), json!({})).await, StatusCode::OK).await;
        assert_eq!(next_change(&mut ws, "auction_booked", running).await["data"]["status"], "SOLD");
        let seats = expect(app.post(&format!("/events/{event}/holds"), Some(&ada.token), json!({"quantity": 3})).await, StatusCode::CREATED).await;
        assert_eq!(next_change(&mut ws, "availability_changed", event).await["data"]["available"], 7);
        expect(app.post(&format!("/reservations/{}/confirm", id(&seats)), Some(&ada.token), json!({})).await, StatusCode::OK).await;
        let booked = next_change(&mut ws, "availability_changed", event).await;
        assert_eq!((booked["data"]["available"].as_i64(), booked["data"]["confirmed_seats"].as_i64()), (Some(7), Some(3)));

        // Opened by time; ended by a cancel.
        app.clock.advance(Duration::minutes(31));
        assert_eq!(next_change(&mut ws, "auction_updated", later).await["data"]["status"], "ACTIVE");
        expect(app.post(&format!("/auctions/{later}/cancel"), Some(&admin.token), json!({})).await, StatusCode::OK).await;
        assert_eq!(next_change(&mut ws, "auction_updated", later).await["data"]["status"], "CANCELLED");
        ws.assert_quiet().await;
    }

    async fn catalogue_frames_carry_increasing_seq_and_the_streams_epoch_and_no_price_steps(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let (mut ws, subscribed) = in_catalogue(&app, None).await;
        let first = create_auction(&app, &admin, "Tango slot", -10).await;
        let second = create_auction(&app, &admin, "Salsa slot", -10).await;
        let event = create_event(&app, &admin, "Salsa night", true).await;
        let mut previous = seq(&subscribed);
        for (kind, id) in [("auction_updated", first), ("auction_updated", second), ("availability_changed", event)] {
            let frame = next_change(&mut ws, kind, id).await;
            assert_eq!(frame["epoch"], subscribed["epoch"], "{frame}");
            assert!(seq(&frame) > previous, "seq increases: {frame} after {previous}");
            previous = seq(&frame);
        }
        // Both prices step 50 minutes in: that is for the auctions' own rooms, not the catalogue.
        app.clock.advance(Duration::minutes(51));
        ws.assert_quiet().await;
    }

    async fn an_inactive_event_reaches_only_its_studio_and_platform_admins(backend) {
        let World { app, platform, admin, .. } = World::new(backend).await;
        let (_, other_admin) = app.studio_with_admin(&platform, "admin@studio-b.test").await;
        let user = app.register("user@catalogue.test").await;
        let mut strangers = Vec::new();
        for who in [None, Some(&user), Some(&other_admin)] {
            strangers.push(in_catalogue(&app, who).await.0);
        }
        let mut insiders = Vec::new();
        for who in [&admin, &platform] {
            insiders.push(in_catalogue(&app, Some(who)).await.0);
        }

        // Created hidden, renamed, opened, hidden again, deleted; a new auction as the barrier.
        let event = create_event(&app, &admin, "Secret rehearsal", false).await;
        let path = format!("/events/{event}");
        expect(app.patch(&path, Some(&admin.token), json!({"title": "Secret casting"})).await, StatusCode::OK).await;
        expect(app.patch(&path, Some(&admin.token), json!({"is_active": true, "title": "Open class"})).await, StatusCode::OK).await;
        expect(app.patch(&path, Some(&admin.token), json!({"is_active": false, "title": "Secret again"})).await, StatusCode::OK).await;
        expect(app.delete(&path, Some(&admin.token)).await, StatusCode::NO_CONTENT).await;
        let barrier = create_auction(&app, &admin, "Tango slot", -10).await;

        for ws in &mut insiders {
            let titles: Vec<(Value, Value)> = {
                let mut seen = Vec::new();
                for _ in 0..5 {
                    let frame = next_change(ws, "availability_changed", event).await;
                    seen.push((frame["data"]["title"].clone(), frame["data"]["is_active"].clone()));
                }
                seen
            };
            assert_eq!(
                titles,
                [
                    (json!("Secret rehearsal"), json!(false)),
                    (json!("Secret casting"), json!(false)),
                    (json!("Open class"), json!(true)),
                    (json!("Secret again"), json!(false)),
                    (json!("Secret again"), json!(false)),
                ]
            );
            next_change(ws, "auction_updated", barrier).await;
        }
        for ws in &mut strangers {
            let mut frames = Vec::new();
            loop {
                let frame = ws.next_json().await;
                let last = frame["type"] == "auction_updated";
                frames.push(frame);
                if last {
                    break;
                }
            }
            let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap_or("?")).collect();
            assert_eq!(
                kinds,
                ["event_hidden", "event_hidden", "availability_changed", "event_hidden", "event_hidden", "auction_updated"],
                "{frames:?}"
            );
            let hidden = &frames[0];
            assert_eq!(hidden["data"], json!({"id": event}), "the id alone: {hidden}");
            assert_eq!(frames[2]["data"]["title"], "Open class", "{frames:?}");
            assert!(!frames.iter().any(|f| f.to_string().contains("Secret")), "{frames:?}");
            // The room carries on for them.
            ws.ping().await;
        }
    }

    async fn the_catalogue_is_public_has_no_replay_and_names_only_itself(backend) {
        let World { app, admin, .. } = World::new(backend).await;
        let mut ws = WsClient::connect(&app).await;
        // `since` gets the (empty) snapshot: the client reloads its lists.
        let resumed = ws.subscribe(ROOM, Some(3)).await;
        assert_eq!((resumed["type"].as_str(), resumed["resumed"].as_bool()), (Some("subscribed"), Some(false)), "{resumed}");
        assert_eq!(resumed["data"], json!({}), "{resumed}");
        assert_error(&ws.subscribe(ROOM, Some(-1)).await, "invalid_since");
        for name in ["catalogue:1", "Catalogue", "catalogue ", "catalog"] {
            assert_error(&ws.subscribe(name, None).await, "bad_request");
        }

        // Leaving it stops its frames.
        let auction = create_auction(&app, &admin, "Tango slot", -10).await;
        next_change(&mut ws, "auction_updated", auction).await;
        ws.send_json(json!({"op": "unsubscribe", "room": ROOM})).await;
        assert_eq!(ws.next_json().await, json!({"type": "unsubscribed", "room": ROOM}));
        create_auction(&app, &admin, "Salsa slot", -10).await;
        ws.assert_quiet().await;
    }

    async fn a_new_auction_reaches_the_catalogue_on_every_instance(backend) {
        // Instances share only the database; SQLite ones do not share one.
        if matches!(backend, Backend::Sqlite) {
            return;
        }
        let World { app, admin, .. } = World::new(backend).await;
        let other = app.another_instance().await;
        let (mut here, _) = in_catalogue(&app, None).await;
        let (mut there, _) = in_catalogue(&other, None).await;
        let auction = create_auction(&app, &admin, "Tango slot", -10).await;
        let seen_here = next_change(&mut here, "auction_updated", auction).await;
        let seen_there = next_change(&mut there, "auction_updated", auction).await;
        assert_eq!(seq(&seen_here), seq(&seen_there), "the same outbox row: {seen_here} {seen_there}");
    }
}
