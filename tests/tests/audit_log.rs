//! The audit log tells what each administrative action changed (issue 19,
//! items 6 and 11): every action names its target and the facts that matter
//! in `details`, and each entry has the shape the OpenAPI document gives its
//! action, so a generated client can read it.

use std::sync::OnceLock;

use chrono::Duration;
use hothour_tests::app::{PASSWORD, Session, TestApp};
use hothour_tests::fixtures::{World, id, iso};
use hothour_tests::localstripe::{CARD_OK, LocalStripe, SECRET_KEY};
use hothour_tests::on_both_stores;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

/// The newest entry of `action` that `token` sees, checked against the document.
async fn newest(app: &TestApp, token: &str, action: &str) -> Value {
    let (status, page) = app.get("/audit-log?limit=100", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entry = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == action)
        .unwrap_or_else(|| panic!("no {action} entry in {page}"))
        .clone();
    let violations: Vec<String> = audit_schema().iter_errors(&entry).map(|e| e.to_string()).collect();
    assert!(violations.is_empty(), "{entry} breaks the document: {violations:?}");
    entry
}

fn event_body(app: &TestApp) -> Value {
    let starts = app.now() + Duration::days(2);
    json!({
        "title": "Salsa night", "description": "For beginners", "capacity": 10, "price": "150.00",
        "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1)), "is_active": true,
    })
}

async fn create_event(app: &TestApp, admin: &Session) -> Value {
    let (status, event) = app.post("/events", Some(&admin.token), event_body(app)).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

/// Open for ten minutes at 500.00, 50.00 off every hour; turbo 30 minutes before the end.
fn auction_body(app: &TestApp, starts_in: Duration) -> Value {
    let starts = app.now() + starts_in;
    json!({
        "title": "Tango slot", "description": "", "start_price": "500.00", "floor_price": "100.00",
        "drop_amount": "50.00", "drop_interval_minutes": 60, "starts_at": iso(starts),
        "ends_at": iso(starts + Duration::minutes(120)), "scheduled_at": iso(starts + Duration::minutes(180)),
        "turbo": { "trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5 },
    })
}

async fn create_auction(app: &TestApp, admin: &Session, starts_in: Duration) -> Value {
    let (status, auction) = app.post("/auctions", Some(&admin.token), auction_body(app, starts_in)).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    auction
}

/// A confirmed booking of `quantity` seats by a new user.
async fn booking(app: &TestApp, event_id: i64, quantity: i64) -> (Session, Value) {
    let user = app.register("owner@example.com").await;
    let (status, held) =
        app.post(&format!("/events/{event_id}/holds"), Some(&user.token), json!({ "quantity": quantity })).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    let (status, booked) =
        app.post(&format!("/reservations/{}/confirm", id(&held)), Some(&user.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{booked}");
    (user, booked)
}

#[track_caller]
fn assert_entry(entry: &Value, actor: &Session, studio_id: i64, target: String, details: Value) {
    assert_eq!(entry["actor_id"], actor.user_id, "{entry}");
    assert_eq!(entry["studio_id"], studio_id, "{entry}");
    assert_eq!(entry["target"], target, "{entry}");
    assert_eq!(entry["details"], details, "{entry}");
}

on_both_stores! {
    async fn studio_assign_admin_names_the_appointed_user(backend) {
        let World { app, platform, studio_id, admin } = World::new(backend).await;
        let entry = newest(&app, &platform.token, "studio.assign_admin").await;
        let details = json!({
            "user_id": admin.user_id, "email": "admin@studio-a.test",
            "previous_role": "user", "previous_studio_id": null,
        });
        assert_entry(&entry, &platform, studio_id, format!("user:{}", admin.user_id), details);
        // The appointed admin sees it in their studio's log too.
        assert_eq!(newest(&app, &admin.token, "studio.assign_admin").await, entry);
    }

    async fn studio_create_names_the_studio(backend) {
        let World { app, platform, studio_id, .. } = World::new(backend).await;
        let entry = newest(&app, &platform.token, "studio.create").await;
        let details =
            json!({ "name": "Studio of admin@studio-a.test", "address": "Moda Cd. 1", "timezone": "Europe/Istanbul" });
        assert_entry(&entry, &platform, studio_id, format!("studio:{studio_id}"), details);
    }

    async fn studio_update_lists_only_the_changed_fields_with_old_and_new_values(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let patch = json!({ "name": "Moda Yoga", "address": "Moda Cd. 1", "maps_url": "https://maps.example/moda" });
        let (status, body) = app.patch(&format!("/studios/{studio_id}"), Some(&admin.token), patch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "studio.update").await;
        let changes = json!({ "changes": {
            "name": { "from": "Studio of admin@studio-a.test", "to": "Moda Yoga" },
            "maps_url": { "from": null, "to": "https://maps.example/moda" },
        } });
        assert_entry(&entry, &admin, studio_id, format!("studio:{studio_id}"), changes);
    }

    async fn event_create_names_the_event(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let event = create_event(&app, &admin).await;
        let entry = newest(&app, &admin.token, "event.create").await;
        let details = json!({
            "title": "Salsa night", "capacity": 10, "price": "150.00",
            "starts_at": event["starts_at"], "ends_at": event["ends_at"],
        });
        assert_entry(&entry, &admin, studio_id, format!("event:{}", id(&event)), details);
    }

    async fn event_update_lists_only_the_changed_fields_with_old_and_new_values(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let event = create_event(&app, &admin).await;
        let patch = json!({ "title": "Salsa night", "capacity": 12, "price": "175.5" });
        let (status, body) = app.patch(&format!("/events/{}", id(&event)), Some(&admin.token), patch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "event.update").await;
        let changes = json!({ "changes": {
            "capacity": { "from": 10, "to": 12 },
            "price": { "from": "150.00", "to": "175.50" },
        } });
        assert_entry(&entry, &admin, studio_id, format!("event:{}", id(&event)), changes);
    }

    async fn event_delete_names_what_was_deleted(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let event = create_event(&app, &admin).await;
        let (status, body) = app.delete(&format!("/events/{}", id(&event)), Some(&admin.token)).await;
        assert!(status.is_success(), "{status} {body}");
        let entry = newest(&app, &admin.token, "event.delete").await;
        let details = json!({
            "title": "Salsa night", "capacity": 10, "price": "150.00",
            "starts_at": event["starts_at"], "ends_at": event["ends_at"],
        });
        assert_entry(&entry, &admin, studio_id, format!("event:{}", id(&event)), details);
    }

    async fn event_cancel_names_the_event_and_every_reservation_it_cancelled(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let event = create_event(&app, &admin).await;
        let (owner, booked) = booking(&app, id(&event), 3).await;
        let (status, body) = app.post(&format!("/events/{}/cancel", id(&event)), Some(&admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "event.cancel").await;
        let details = json!({
            "title": "Salsa night", "capacity": 10, "price": "150.00",
            "starts_at": event["starts_at"], "ends_at": event["ends_at"],
            "cancelled_reservations": [{
                "reservation_id": id(&booked), "kind": "event", "auction_id": null, "event_id": id(&event),
                "user_id": owner.user_id, "previous_status": "CONFIRMED", "quantity": 3, "total_price": "450.00",
                "booking_code": booked["booking_code"],
            }],
        });
        assert_entry(&entry, &admin, studio_id, format!("event:{}", id(&event)), details);
    }

    async fn auction_delete_names_what_was_deleted(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let auction = create_auction(&app, &admin, Duration::hours(1)).await;
        let (status, body) = app.delete(&format!("/auctions/{}", id(&auction)), Some(&admin.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let entry = newest(&app, &admin.token, "auction.delete").await;
        let details = json!({
            "title": "Tango slot", "start_price": "500.00", "floor_price": "100.00",
            "starts_at": auction["starts_at"], "ends_at": auction["ends_at"], "scheduled_at": auction["scheduled_at"],
        });
        assert_entry(&entry, &admin, studio_id, format!("auction:{}", id(&auction)), details);
    }

    async fn studio_remove_admin_names_who_was_removed(backend) {
        let World { app, platform, studio_id, admin } = World::new(backend).await;
        let path = format!("/studios/{studio_id}/admins/{}", admin.user_id);
        let (status, body) = app.delete(&path, Some(&platform.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let entry = newest(&app, &platform.token, "studio.remove_admin").await;
        let details = json!({ "user_id": admin.user_id, "email": "admin@studio-a.test" });
        assert_entry(&entry, &platform, studio_id, format!("user:{}", admin.user_id), details);
    }

    async fn account_delete_names_the_account_by_its_id_and_former_role_only(backend) {
        let World { app, platform, studio_id, admin } = World::new(backend).await;
        let (status, body) = app
            .call(Method::DELETE, "/me", Some(&admin.token), Some(json!({ "password": PASSWORD })))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let entry = newest(&app, &platform.token, "account.delete").await;
        let details = json!({ "user_id": admin.user_id, "previous_role": "studio_admin", "previous_studio_id": studio_id });
        assert_entry(&entry, &admin, studio_id, format!("user:{}", admin.user_id), details);
    }

    async fn auction_create_names_the_auction_and_its_prices(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let auction = create_auction(&app, &admin, Duration::hours(1)).await;
        let entry = newest(&app, &admin.token, "auction.create").await;
        let details = json!({
            "title": "Tango slot", "start_price": "500.00", "floor_price": "100.00",
            "starts_at": auction["starts_at"], "ends_at": auction["ends_at"], "scheduled_at": auction["scheduled_at"],
        });
        assert_entry(&entry, &admin, studio_id, format!("auction:{}", id(&auction)), details);
    }

    async fn auction_update_lists_only_the_changed_fields_with_old_and_new_values(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let auction = create_auction(&app, &admin, Duration::hours(1)).await;
        let patch = json!({
            "title": "Tango slot", "floor_price": "150", "drop_interval_minutes": 30,
            "turbo": { "trigger_before_minutes": 30, "drop_amount": "25.00", "interval_minutes": 5 },
        });
        let (status, body) = app.patch(&format!("/auctions/{}", id(&auction)), Some(&admin.token), patch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "auction.update").await;
        let changes = json!({ "changes": {
            "floor_price": { "from": "100.00", "to": "150.00" },
            "drop_interval_minutes": { "from": 60, "to": 30 },
            "turbo": {
                "from": { "trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 5 },
                "to": { "trigger_before_minutes": 30, "drop_amount": "25.00", "interval_minutes": 5 },
            },
        } });
        assert_entry(&entry, &admin, studio_id, format!("auction:{}", id(&auction)), changes);
    }

    async fn auction_cancel_names_the_booking_it_cancelled_and_its_price(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let auction = create_auction(&app, &admin, Duration::minutes(-10)).await;
        let buyer = app.register("buyer@example.com").await;
        let path = format!("/auctions/{}/grab", id(&auction));
        let (status, booked) = app.post(&path, Some(&buyer.token), json!({ "confirm": true })).await;
        assert_eq!(status, StatusCode::CREATED, "{booked}");
        let (status, body) =
            app.call(Method::POST, &format!("/auctions/{}/cancel", id(&auction)), Some(&admin.token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "auction.cancel").await;
        let details = json!({
            "title": "Tango slot", "previous_status": "SOLD",
            "cancelled_reservation": {
                "reservation_id": id(&booked), "kind": "auction", "auction_id": id(&auction), "event_id": null,
                "user_id": buyer.user_id, "previous_status": "CONFIRMED", "quantity": 1, "total_price": "500.00",
                "booking_code": booked["booking_code"],
            },
        });
        assert_entry(&entry, &admin, studio_id, format!("auction:{}", id(&auction)), details);
    }

    async fn auction_turbo_names_the_price_it_started_at(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let auction = create_auction(&app, &admin, Duration::minutes(-70)).await;
        let path = format!("/auctions/{}/turbo", id(&auction));
        let (status, body) = app.call(Method::POST, &path, Some(&admin.token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "auction.turbo").await;
        let details = json!({ "title": "Tango slot", "price": "450.00" });
        assert_entry(&entry, &admin, studio_id, format!("auction:{}", id(&auction)), details);
    }

    async fn reservation_cancel_by_the_studio_names_whose_booking_how_many_seats_and_how_much(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let event = create_event(&app, &admin).await;
        let (owner, booked) = booking(&app, id(&event), 3).await;
        let path = format!("/reservations/{}/cancel", id(&booked));
        let (status, body) = app.post(&path, Some(&admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "reservation.cancel").await;
        let details = json!({
            "reservation_id": id(&booked), "kind": "event", "auction_id": null, "event_id": id(&event),
            "user_id": owner.user_id, "previous_status": "CONFIRMED", "quantity": 3, "total_price": "450.00",
            "booking_code": booked["booking_code"],
        });
        assert_entry(&entry, &admin, studio_id, format!("reservation:{}", id(&booked)), details);
    }

    async fn reservation_check_in_names_the_booking_code_and_its_holder(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let event = create_event(&app, &admin).await;
        let (owner, booked) = booking(&app, id(&event), 2).await;
        let code = booked["booking_code"].clone();
        // The day of the class, an hour before it: the door is open.
        app.clock.advance(Duration::days(2) - Duration::hours(1));
        let admin = app.login("admin@studio-a.test").await;
        let path = format!("/studios/{studio_id}/check-in");
        let (status, body) = app.post(&path, Some(&admin.token), json!({ "booking_code": code })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, again) = app.post(&path, Some(&admin.token), json!({ "booking_code": code })).await;
        assert_eq!((status, &again["already_checked_in"]), (StatusCode::OK, &json!(true)), "{again}");
        let (_, page) = app.get("/audit-log?limit=100", Some(&admin.token)).await;
        let check_ins = page["items"].as_array().unwrap().iter().filter(|e| e["action"] == "reservation.check_in");
        assert_eq!(check_ins.count(), 1, "a used code writes nothing new");
        let entry = newest(&app, &admin.token, "reservation.check_in").await;
        let details = json!({
            "reservation_id": id(&booked), "kind": "event", "auction_id": null, "event_id": id(&event),
            "user_id": owner.user_id, "previous_status": "CONFIRMED", "quantity": 2, "total_price": "300.00",
            "booking_code": code,
        });
        assert_entry(&entry, &admin, studio_id, format!("reservation:{}", id(&booked)), details);
    }

    async fn payment_succeeded_and_refunded_name_the_reservation_as_its_owners_doing(backend) {
        let stripe = LocalStripe::start();
        let js = format!("{}/js.stripe.com/v3/", stripe.base_url);
        let vars = [
            ("PAYMENTS", "stripe"), ("STRIPE_SECRET_KEY", SECRET_KEY), ("STRIPE_PUBLISHABLE_KEY", "pk_test_audit"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_audit"), ("STRIPE_API_BASE", stripe.base_url.as_str()),
            ("STRIPE_JS_URL", js.as_str()),
        ];
        let World { app, studio_id, admin, .. } = World::with(backend, &vars).await;
        let event = create_event(&app, &admin).await;
        let owner = app.register("payer@example.com").await;
        let (_, held) = app.post(&format!("/events/{}/holds", id(&event)), Some(&owner.token), json!({ "quantity": 2 })).await;
        let card = stripe.card(CARD_OK).await;
        let path = format!("/reservations/{}/payment", id(&held));
        let (status, paid) = app.post(&path, Some(&owner.token), json!({ "payment_method": card })).await;
        assert_eq!(status, StatusCode::OK, "{paid}");
        let code = paid["reservation"]["booking_code"].clone();
        let entry = newest(&app, &admin.token, "payment.succeeded").await;
        let details = |previous: &str| json!({
            "reservation_id": id(&held), "kind": "event", "auction_id": null, "event_id": id(&event),
            "user_id": owner.user_id, "previous_status": previous, "quantity": 2, "total_price": "300.00",
            "booking_code": code,
        });
        assert_entry(&entry, &owner, studio_id, format!("reservation:{}", id(&held)), details("CONFIRMED"));
        let (status, body) = app.post(&format!("/reservations/{}/cancel", id(&held)), Some(&owner.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry = newest(&app, &admin.token, "payment.refunded").await;
        assert_entry(&entry, &owner, studio_id, format!("reservation:{}", id(&held)), details("CANCELLED"));
    }

    async fn reservations_export_names_the_days_and_their_zone(backend) {
        let World { app, studio_id, admin, .. } = World::new(backend).await;
        let (status, _) = app.get(&format!("/studios/{studio_id}/reservations.csv?from=2030-01-01&to=2030-01-07"), Some(&admin.token)).await;
        assert_eq!(status, StatusCode::OK);
        let entry = newest(&app, &admin.token, "reservations.export").await;
        let details = json!({ "from": "2030-01-01", "to": "2030-01-07", "timezone": "Europe/Istanbul" });
        assert_entry(&entry, &admin, studio_id, format!("studio:{studio_id}"), details);
    }
}

#[test]
fn every_audit_action_has_a_test_here() {
    let source = include_str!("audit_log.rs");
    for action in hothour_domain::AuditAction::ALL {
        let needle = format!("newest(&app, &admin.token, \"{}\")", action.as_str());
        let by_platform = format!("newest(&app, &platform.token, \"{}\")", action.as_str());
        assert!(source.contains(&needle) || source.contains(&by_platform), "{} is not tested", action.as_str());
    }
}

#[test]
fn the_document_refuses_an_entry_without_its_details() {
    let entry = json!({
        "id": 1, "actor_id": 1, "studio_id": 1, "action": "studio.assign_admin", "target": "studio:1",
        "details": {}, "created_at": "2030-01-01T00:00:00Z",
    });
    assert!(!audit_schema().is_valid(&entry), "the untyped entry of issue 19 passes");
    let mut typed = entry.clone();
    typed["details"] =
        json!({ "user_id": 2, "email": "a@b.test", "previous_role": "user", "previous_studio_id": null });
    assert!(audit_schema().is_valid(&typed));
    typed["action"] = json!("studio.create");
    assert!(!audit_schema().is_valid(&typed), "details are checked against their action's shape");
}
