//! Leaving (issue 24, item 7; SPEC §7): `DELETE /me`, confirmed by the
//! password, on both stores. Nothing personal stays (the email becomes a
//! tombstone that frees the address), every sign-in ends at once on every
//! instance, live holds are let go, an admin role ends, unsent mail is
//! dropped, and the bookings stay in the studio's records, nameless: its
//! roster, door, CSV export and numbers still count them. The last platform
//! admin cannot leave.

use chrono::Duration;
use hothour_tests::app::{Backend, PASSWORD, Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso};
use hothour_tests::on_both_stores;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `DELETE /me` with `password`.
async fn delete_me(app: &TestApp, who: &Session, password: &str) -> (StatusCode, Value) {
    app.call(Method::DELETE, "/me", Some(&who.token), Some(json!({"password": password}))).await
}

/// An event of the world's studio, starting tomorrow, with `capacity` seats at 150.00.
async fn event(world: &World, capacity: u32) -> Value {
    let starts = world.app.now() + Duration::days(1);
    let body = json!({
        "title": "Salsa", "capacity": capacity, "price": "150.00",
        "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1)),
    });
    let (status, event) = world.app.post("/events", Some(&world.admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

/// An auction of the world's studio, on sale since ten minutes ago (500.00 falling to 100.00).
async fn auction(world: &World) -> Value {
    let now = world.app.now();
    let body = json!({
        "title": "Studio hour", "start_price": "500.00", "floor_price": "100.00",
        "drop_amount": "50.00", "drop_interval_minutes": 60,
        "starts_at": iso(now - Duration::minutes(10)), "ends_at": iso(now + Duration::minutes(110)),
        "scheduled_at": iso(now + Duration::minutes(180)),
    });
    let (status, slot) = world.app.post("/auctions", Some(&world.admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{slot}");
    slot
}

async fn hold(app: &TestApp, who: &Session, event: &Value, quantity: u32) -> Value {
    let path = format!("/events/{}/holds", id(event));
    let (status, hold) = app.post(&path, Some(&who.token), json!({"quantity": quantity})).await;
    assert_eq!(status, StatusCode::CREATED, "{hold}");
    hold
}

async fn book(app: &TestApp, who: &Session, event: &Value, quantity: u32) -> Value {
    let held = hold(app, who, event, quantity).await;
    let (status, booking) =
        app.post(&format!("/reservations/{}/confirm", id(&held)), Some(&who.token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{booking}");
    booking
}

async fn available(app: &TestApp, event: &Value) -> i64 {
    let (_, read) = app.get(&format!("/events/{}", id(event)), None).await;
    read["available"].as_i64().unwrap_or_else(|| panic!("{read}"))
}

on_both_stores! {
    async fn a_wrong_password_deletes_nothing(backend) {
        let app = TestApp::spawn_on(backend).await;
        let ada = app.register("ada@leaving.test").await;
        let answer = delete_me(&app, &ada, "not my password").await;
        assert_problem(&answer, StatusCode::UNAUTHORIZED, "invalid_credentials");
        let (status, me) = app.get("/me", Some(&ada.token)).await;
        assert_eq!((status, me["email"].as_str()), (StatusCode::OK, Some("ada@leaving.test")), "{me}");
        let answer = app.call(Method::DELETE, "/me", Some(&ada.token), Some(json!({}))).await;
        assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "the password is required: {}", answer.1);
        assert_eq!(app.call(Method::DELETE, "/me", None, Some(json!({"password": PASSWORD}))).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn deleting_is_throttled_like_a_password_change(backend) {
        let app = TestApp::spawn_on_with(backend, &[("RATE_LIMIT_PASSWORD_PER_MINUTE", "2")]).await;
        let ada = app.register("ada@leaving.test").await;
        for _ in 0..2 {
            assert_problem(&delete_me(&app, &ada, "guess").await, StatusCode::UNAUTHORIZED, "invalid_credentials");
        }
        assert_problem(&delete_me(&app, &ada, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert_eq!(app.get("/me", Some(&ada.token)).await.0, StatusCode::OK, "still there");
    }

    async fn a_deleted_account_keeps_nothing_personal_and_its_address_registers_again(backend) {
        let world = World::new(backend).await;
        let app = &world.app;
        let (status, body) = app
            .post("/auth/register", None, json!({
                "email": "Ada@Leaving.test", "password": PASSWORD, "full_name": "Ada Lovelace",
                "phone": "+90 555 123 4567", "locale": "tr",
            }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let ada = hothour_tests::app::session(&body);
        // Several instances share a PostgreSQL database (a SQLite file has one).
        let other_instance = if backend == Backend::Postgres { Some(app.another_instance().await) } else { None };
        if let Some(other) = &other_instance {
            assert_eq!(other.get("/me", Some(&ada.token)).await.0, StatusCode::OK);
        }

        let (status, body) = delete_me(app, &ada, PASSWORD).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        let row = |column: &str| format!("SELECT COUNT(*) FROM users WHERE id = {} AND {column}", ada.user_id);
        assert_eq!(app.sql_i64(&row(&format!("email = 'deleted-{}@deleted.invalid'", ada.user_id))).await, 1);
        assert_eq!(app.sql_i64(&row("full_name = '' AND phone IS NULL AND password_hash = '!'")).await, 1);
        assert_eq!(app.sql_i64(&row("role = 'user' AND studio_id IS NULL AND deleted_at IS NOT NULL")).await, 1);
        let live = app.sql_i64(&format!(
            "SELECT COUNT(*) FROM refresh_tokens WHERE user_id = {} AND revoked_at IS NULL", ada.user_id
        )).await;
        assert_eq!(live, 0, "every refresh token revoked");

        // Every sign-in is over, on this instance and the other.
        assert_eq!(app.get("/me", Some(&ada.token)).await.0, StatusCode::UNAUTHORIZED);
        if let Some(other) = &other_instance {
            assert_eq!(other.get("/me", Some(&ada.token)).await.0, StatusCode::UNAUTHORIZED);
        }
        let refresh = app.post("/auth/refresh", None, json!({"refresh_token": ada.refresh_token})).await;
        assert_problem(&refresh, StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        let login = app.post("/auth/login", None, json!({"email": "ada@leaving.test", "password": PASSWORD})).await;
        assert_problem(&login, StatusCode::UNAUTHORIZED, "invalid_credentials");
        let tombstone = format!("deleted-{}@deleted.invalid", ada.user_id);
        let login = app.post("/auth/login", None, json!({"email": tombstone, "password": "!"})).await;
        assert_problem(&login, StatusCode::UNAUTHORIZED, "invalid_credentials");

        // The address is free again, for a new account.
        let again = app.register("ada@leaving.test").await;
        assert_ne!(again.user_id, ada.user_id);
        let (_, me) = app.get("/me", Some(&again.token)).await;
        assert_eq!(me["email"], "ada@leaving.test");

        // Audited without anything personal.
        let (_, log) = app.get("/audit-log?limit=50", Some(&world.platform.token)).await;
        let entries: Vec<&Value> =
            log["items"].as_array().unwrap().iter().filter(|e| e["action"] == "account.delete").collect();
        let [entry] = entries.as_slice() else { panic!("{log}") };
        assert_eq!((&entry["actor_id"], &entry["target"]), (&json!(ada.user_id), &json!(format!("user:{}", ada.user_id))));
        assert_eq!(entry["details"], json!({"user_id": ada.user_id, "previous_role": "user", "previous_studio_id": null}));
        let text = entry.to_string().to_lowercase();
        assert!(!text.contains("ada") && !text.contains("555"), "{text}");
    }

    async fn a_live_socket_of_the_account_ends_its_private_rooms_on_every_instance(backend) {
        let app = TestApp::spawn_on(backend).await;
        // On PostgreSQL the socket sits on another instance than the request.
        let other = if backend == Backend::Postgres { Some(app.another_instance().await) } else { None };
        let watched = other.as_ref().unwrap_or(&app);
        let ada = app.register("ada@leaving.test").await;
        let user_room = format!("user:{}", ada.user_id);
        let mut ws = hothour_tests::ws::WsClient::connect(watched).await;
        ws.authenticated(&ada).await;
        ws.subscribed(&user_room).await;
        assert_eq!(delete_me(&app, &ada, PASSWORD).await.0, StatusCode::NO_CONTENT);
        let ended = ws.next_of_type("session_ended").await;
        assert_eq!((&ended["rooms"], &ended["signed_in"]), (&json!([user_room]), &json!(false)), "{ended}");
        let again = ws.auth(&ada.token).await;
        assert_eq!(again["type"], "error", "the deleted account's token signs nothing in: {again}");
    }

    async fn holds_go_back_and_bookings_stay_in_the_studios_records_nameless(backend) {
        let world = World::new(backend).await;
        let app = &world.app;
        let ada = app.register("ada@leaving.test").await;
        let bob = app.register("bob@leaving.test").await;
        let salsa = event(&world, 10).await;
        let booking = book(app, &ada, &salsa, 2).await;
        book(app, &bob, &salsa, 1).await;
        hold(app, &ada, &salsa, 3).await;
        let starts = world.app.now() + Duration::days(1);
        let slot = auction(&world).await;
        let (status, grabbed) = app.post(&format!("/auctions/{}/grab", id(&slot)), Some(&ada.token), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{grabbed}");
        assert_eq!(available(app, &salsa).await, 4);
        let (_, code_row) = app.get(&format!("/reservations/{}", id(&booking)), Some(&ada.token)).await;
        let code = code_row["booking_code"].as_str().unwrap().to_owned();

        let mut room = hothour_tests::ws::WsClient::connect(app).await;
        room.subscribed(&format!("event:{}", id(&salsa))).await;
        assert_eq!(delete_me(app, &ada, PASSWORD).await.0, StatusCode::NO_CONTENT);

        // The three held seats (and the slot) went back, announced as on any cancellation.
        assert_eq!(available(app, &salsa).await, 7);
        let frame = room.next_of_type("availability_changed").await;
        assert_eq!(frame["data"]["available"], 7, "{frame}");
        let (_, read) = app.get(&format!("/auctions/{}", id(&slot)), None).await;
        assert_eq!(read["status"], "ACTIVE", "the slot is for sale again: {read}");
        let holds = app.sql_i64(&format!("SELECT COUNT(*) FROM reservations WHERE user_id = {} AND status = 'HOLD'", ada.user_id)).await;
        assert_eq!(holds, 0);

        // The booking stays: the roster lists it without a name, the door lets it in.
        let studio = world.studio_id;
        let (_, roster) = app.get(&format!("/studios/{studio}/roster?event_id={}", id(&salsa)), Some(&world.admin.token)).await;
        let entries = roster["items"].as_array().unwrap_or_else(|| panic!("{roster}"));
        let kept = entries.iter().find(|e| e["reservation_id"] == booking["id"]).unwrap_or_else(|| panic!("{roster}"));
        assert_eq!((&kept["full_name"], &kept["quantity"], &kept["status"]), (&json!(""), &json!(2), &json!("CONFIRMED")));
        assert_eq!(entries.len(), 2, "Ada's booking and Bob's: {roster}");
        app.clock.set(starts - Duration::minutes(30));
        let (status, came) = app.post(&format!("/studios/{studio}/check-in"), Some(&world.admin.token), json!({"booking_code": code})).await;
        assert_eq!((status, &came["full_name"]), (StatusCode::OK, &json!("")), "{came}");

        // The CSV has it, without a name or an address; the numbers count it.
        let day = (starts + Duration::hours(3)).date_naive();
        let csv = app.client.get(app.url(&format!("/api/v1/studios/{studio}/reservations.csv?from={day}&to={day}")))
            .bearer_auth(&world.admin.token).send().await.unwrap().text().await.unwrap();
        let line = csv.lines().find(|l| l.starts_with(&format!("{},", id(&booking)))).unwrap_or_else(|| panic!("{csv}"));
        assert!(!line.contains("ada@") && !line.contains("deleted.invalid") && !line.contains("Test Person"), "{line}");
        let (status, stats) = app.get(&format!("/studios/{studio}/stats?from={day}&to={day}"), Some(&world.admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        assert_eq!(stats["totals"]["seats_sold"], 3, "Ada's two seats and Bob's one: {stats}");
        assert_eq!(stats["totals"]["checked_in"], 1, "{stats}");
    }

    async fn a_deleted_account_leaves_its_waiting_lists_and_its_price_alerts(backend) {
        let world = World::new(backend).await;
        let app = &world.app;
        let ada = app.register("ada@leaving.test").await;
        let bob = app.register("bob@leaving.test").await;
        let full = event(&world, 2).await;
        let booking = book(app, &bob, &full, 2).await;
        let (status, place) =
            app.post(&format!("/events/{}/waitlist", id(&full)), Some(&ada.token), json!({"quantity": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{place}");
        let slot = auction(&world).await;
        let (status, alert) =
            app.post(&format!("/auctions/{}/alerts", id(&slot)), Some(&ada.token), json!({"below": "150.00"})).await;
        assert_eq!(status, StatusCode::CREATED, "{alert}");

        assert_eq!(delete_me(app, &ada, PASSWORD).await.0, StatusCode::NO_CONTENT);
        let alerts = app.sql_i64(&format!("SELECT COUNT(*) FROM price_alerts WHERE user_id = {}", ada.user_id)).await;
        assert_eq!(alerts, 0, "the alert went with the account");

        // Bob's seats come back: nobody is left in line, so nothing is held for the account that is gone.
        let (status, _) =
            app.post(&format!("/reservations/{}/cancel", id(&booking)), Some(&bob.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(available(app, &full).await, 2, "the seats are free, not offered");
        let offered = app
            .sql_i64(&format!("SELECT COUNT(*) FROM reservations WHERE user_id = {} AND status = 'HOLD'", ada.user_id))
            .await;
        assert_eq!(offered, 0);
    }

    async fn unsent_mail_to_a_deleted_account_is_dropped_and_none_is_sent_to_it_later(backend) {
        let world = World::with(backend, &[("BACKGROUND_JOBS", "false")]).await;
        let app = &world.app;
        let ada = app.register("ada@leaving.test").await;
        let bob = app.register("bob@leaving.test").await;
        let salsa = event(&world, 10).await;
        let booking = book(app, &ada, &salsa, 1).await;
        book(app, &bob, &salsa, 1).await;
        let pending_bookings = "SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending' AND kind = 'booking_confirmed'";
        assert_eq!(app.sql_i64(pending_bookings).await, 2);
        assert_eq!(delete_me(app, &ada, PASSWORD).await.0, StatusCode::NO_CONTENT);
        let to_ada = format!("SELECT COUNT(*) FROM mail_outbox WHERE recipient_id = {}", ada.user_id);
        assert_eq!(app.sql_i64(&to_ada).await, 0, "Ada's confirmation (and her verification link) is never sent");
        assert_eq!(app.sql_i64(pending_bookings).await, 1, "Bob's still is");

        // The studio cancels the kept booking: the message it records finds no one to write to.
        let path = format!("/reservations/{}/cancel", id(&booking));
        let (status, cancelled) = app.post(&path, Some(&world.admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        hothour_api::jobs::run_once(&app.state).await;
        let dead = format!("{to_ada} AND status = 'dead'");
        assert_eq!(app.sql_i64(&dead).await, 1, "given up at once, never sent to the tombstone");
        let files = hothour_tests::smtp::read_eml_dir(&app.mail_dir.0);
        let sent_bookings = "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent' AND kind = 'booking_confirmed'";
        assert_eq!(app.sql_i64(sent_bookings).await, 1, "Bob's confirmation alone");
        let sent = app.sql_i64("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'").await;
        assert_eq!(files.len() as i64, sent, "each message sent is a file (the world's and Bob's, none of Ada's)");
        assert!(files.iter().all(|(_, raw)| !String::from_utf8_lossy(raw).contains("deleted.invalid")));
    }

    async fn a_studio_admin_who_leaves_is_no_longer_its_admin(backend) {
        let world = World::new(backend).await;
        let app = &world.app;
        let (status, _) = delete_me(app, &world.admin, PASSWORD).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, admins) = app.get(&format!("/studios/{}/admins", world.studio_id), Some(&world.platform.token)).await;
        assert_eq!(admins["items"], json!([]), "{admins}");
        let (_, log) = app.get(&format!("/audit-log?studio_id={}&limit=50", world.studio_id), Some(&world.platform.token)).await;
        let entry = log["items"].as_array().unwrap().iter().find(|e| e["action"] == "account.delete").cloned();
        let entry = entry.unwrap_or_else(|| panic!("in the studio's log: {log}"));
        assert_eq!(entry["details"]["previous_role"], "studio_admin");
        assert_eq!(entry["details"]["previous_studio_id"], world.studio_id);
        assert_eq!(entry["studio_id"], world.studio_id);
    }

    async fn the_last_platform_admin_cannot_leave_but_one_of_two_can(backend) {
        let world = World::new(backend).await;
        let app = &world.app;
        let answer = delete_me(app, &world.platform, PASSWORD).await;
        assert_problem(&answer, StatusCode::CONFLICT, "last_platform_admin");
        assert_eq!(app.get("/me", Some(&world.platform.token)).await.0, StatusCode::OK);
        let second = app.register("second@leaving.test").await;
        app.sql_execute(&format!("UPDATE users SET role = 'platform_admin' WHERE id = {}", second.user_id)).await;
        assert_eq!(delete_me(app, &world.platform, PASSWORD).await.0, StatusCode::NO_CONTENT);
        let left = app.sql_i64("SELECT COUNT(*) FROM users WHERE role = 'platform_admin' AND deleted_at IS NULL").await;
        assert_eq!(left, 1);
    }

    async fn platform_admins_all_leaving_at_once_leave_one(backend) {
        let world = World::new(backend).await;
        let app = &world.app;
        let mut admins = vec![world.platform.clone()];
        for n in 0..7 {
            let email = format!("admin{n}@leaving.test");
            let user = app.register(&email).await;
            app.sql_execute(&format!("UPDATE users SET role = 'platform_admin' WHERE id = {}", user.user_id)).await;
            admins.push(app.login(&email).await);
        }
        let answers = futures_util::future::join_all(admins.iter().map(|admin| delete_me(app, admin, PASSWORD))).await;
        let statuses: Vec<StatusCode> = answers.iter().map(|(status, _)| *status).collect();
        let left = statuses.iter().filter(|status| **status == StatusCode::CONFLICT).count();
        let gone = statuses.iter().filter(|status| **status == StatusCode::NO_CONTENT).count();
        assert_eq!((gone, left), (7, 1), "{answers:?}");
        let remaining = app.sql_i64("SELECT COUNT(*) FROM users WHERE role = 'platform_admin' AND deleted_at IS NULL").await;
        assert_eq!(remaining, 1, "never none");
    }
}
