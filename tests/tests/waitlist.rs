//! The waiting list of a full event (issue 24, SPEC §14), on both stores,
//! over real HTTP, WebSocket and SMTP: who may join and when; every way
//! seats return (a hold cancelled, a booking cancelled by the studio,
//! capacity grown, holds lapsed and swept, a hold found lapsed inside
//! someone else's hold request) offers them to the line first, in order of
//! joining; a lapsed offer passes on; 200 waiters and seats returning in
//! bursts while others try to hold: offers in join order, each waiter at
//! most once, never oversold (checked in SQL).
//!
//! The service's own job loop is off: the sweep runs when a test says, on
//! the test clock.

use std::sync::Arc;

use chrono::Duration;
use hothour_tests::app::{Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso, register_many};
use hothour_tests::on_both_stores;
use hothour_tests::smtp::SmtpServer;
use hothour_tests::ws::WsClient;
use mail_parser::MessageParser;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A studio with an event of `capacity` seats starting in two days, its
/// mail going to `smtp` (or to files).
async fn studio(backend: hothour_tests::app::Backend, smtp: Option<&SmtpServer>) -> World {
    let url = smtp.map(SmtpServer::url);
    let mut vars = vec![
        ("BACKGROUND_JOBS", "false"),
        ("MAIL_FROM", "HotHour <bookings@hothour.example>"),
        ("PUBLIC_URL", "https://hothour.example/"),
    ];
    if let Some(url) = &url {
        vars.push(("SMTP_URL", url.as_str()));
    }
    World::with(backend, &vars).await
}

async fn event(world: &World, capacity: i64) -> i64 {
    let starts_at = world.app.now() + Duration::days(2);
    let body = json!({
        "title": "Sound bath", "capacity": capacity, "price": "100.00",
        "starts_at": iso(starts_at), "ends_at": iso(starts_at + Duration::minutes(90)),
    });
    let (status, event) = world.app.post("/events", Some(&world.admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

async fn hold(app: &TestApp, event: i64, user: &Session, quantity: i64) -> (StatusCode, Value) {
    app.post(&format!("/events/{event}/holds"), Some(&user.token), json!({ "quantity": quantity })).await
}

async fn join(app: &TestApp, event: i64, user: &Session, quantity: i64) -> (StatusCode, Value) {
    app.post(&format!("/events/{event}/waitlist"), Some(&user.token), json!({ "quantity": quantity })).await
}

/// The user's live hold on the event (id, seats), if any.
async fn held(app: &TestApp, event: i64, user: &Session) -> Option<(i64, i64)> {
    let sql = format!(
        "SELECT id * 100 + quantity FROM reservations WHERE event_id = {event} AND user_id = {} AND status = 'HOLD'",
        user.user_id
    );
    let found = app.sql_i64(&format!("SELECT COALESCE(({sql}), 0)")).await;
    (found != 0).then_some((found / 100, found % 100))
}

/// Who was offered seats of the event, in the order the offers were made.
async fn offered(app: &TestApp, event: i64) -> Vec<i64> {
    let count = app
        .sql_i64(&format!("SELECT COUNT(*) FROM waitlist_entries WHERE event_id = {event} AND status = 'OFFERED'"))
        .await;
    let mut users = Vec::new();
    for n in 0..count {
        let user = app
            .sql_i64(&format!(
                "SELECT user_id FROM waitlist_entries WHERE event_id = {event} AND status = 'OFFERED' \
                 ORDER BY reservation_id LIMIT 1 OFFSET {n}"
            ))
            .await;
        users.push(user);
    }
    users
}

#[track_caller]
fn assert_place(answer: &(StatusCode, Value), status: StatusCode, place: u64, quantity: u64) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(
        (answer.1["place"].as_u64(), answer.1["quantity"].as_u64()),
        (Some(place), Some(quantity)),
        "{}",
        answer.1
    );
}

on_both_stores! {
    async fn only_a_full_event_has_a_line_and_each_user_stands_in_it_once(backend) {
        let world = studio(backend, None).await;
        let app = &world.app;
        let full = event(&world, 2).await;
        let open = event(&world, 5).await;
        let holder = app.register("holder@example.com").await;
        let ada = app.register("ada@example.com").await;
        let bob = app.register("bob@example.com").await;
        assert_eq!(hold(app, full, &holder, 2).await.0, StatusCode::CREATED);

        let path = format!("/events/{full}/waitlist");
        assert_eq!(app.post(&path, None, json!({"quantity": 1})).await.0, StatusCode::UNAUTHORIZED);
        assert_problem(&join(app, full, &world.admin, 1).await, StatusCode::FORBIDDEN, "booking_not_allowed");
        for quantity in [0, 11] {
            assert_problem(&join(app, full, &ada, quantity).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        }
        assert_problem(&join(app, open, &ada, 5).await, StatusCode::CONFLICT, "seats_available");
        assert_place(&join(app, open, &ada, 6).await, StatusCode::CREATED, 1, 6);
        assert_problem(&join(app, full, &holder, 1).await, StatusCode::CONFLICT, "hold_already_exists");
        assert_problem(&join(app, 999_999, &ada, 1).await, StatusCode::NOT_FOUND, "not_found");

        let joined = join(app, full, &ada, 1).await;
        assert_place(&joined, StatusCode::CREATED, 1, 1);
        assert_eq!(joined.1["event_id"], full);
        assert_problem(&join(app, full, &ada, 2).await, StatusCode::CONFLICT, "already_waiting");
        assert_place(&join(app, full, &bob, 2).await, StatusCode::CREATED, 2, 2);
        let me = format!("/events/{full}/waitlist/me");
        let mine = app.get(&me, Some(&ada.token)).await;
        assert_place(&mine, StatusCode::OK, 1, 1);
        assert!(mine.1["since"].is_string(), "{}", mine.1);
        assert_problem(&app.get(&me, Some(&holder.token)).await, StatusCode::NOT_FOUND, "not_found");

        assert_eq!(app.delete(&me, Some(&ada.token)).await.0, StatusCode::NO_CONTENT);
        assert_problem(&app.get(&me, Some(&ada.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_problem(&app.delete(&me, Some(&ada.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_place(&app.get(&me, Some(&bob.token)).await, StatusCode::OK, 1, 2);
        // Who left may come back, at the end of the line.
        assert_place(&join(app, full, &ada, 1).await, StatusCode::CREATED, 2, 1);

        // A cancelled event's line ends with it.
        let (status, _) = app.post(&format!("/events/{full}/cancel"), Some(&world.admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_problem(&app.get(&me, Some(&bob.token)).await, StatusCode::NOT_FOUND, "not_found");
        let waiting = app.sql_i64(&format!("SELECT COUNT(*) FROM waitlist_entries WHERE event_id = {full} AND status = 'WAITING'")).await;
        assert_eq!(waiting, 0);
        assert_eq!(held(app, full, &bob).await, None, "the seats the holder had went to nobody");
    }

    async fn every_way_seats_return_offers_them_to_the_line_first_in_order(backend) {
        let world = studio(backend, None).await;
        let app = &world.app;
        let event = event(&world, 3).await;
        let holders = register_many(app, "holder", 3).await;
        for holder in &holders {
            assert_eq!(hold(app, event, holder, 1).await.0, StatusCode::CREATED);
        }
        let waiters = register_many(app, "waiter", 6).await;
        let [w1, w2, w3, w4, w5, w6] = &waiters[..] else { unreachable!() };
        for (waiter, quantity) in [(w1, 2), (w2, 1), (w3, 1)] {
            assert_eq!(join(app, event, waiter, quantity).await.0, StatusCode::CREATED);
        }
        let mut socket = WsClient::connect(app).await;
        socket.authenticated(w2).await;
        socket.subscribed(&format!("user:{}", w2.user_id)).await;

        // A hold let go: one seat, and w1 (2) does not fit, so w2 (1) gets it.
        let (_, first) = app.get("/reservations?status=HOLD", Some(&holders[0].token)).await;
        let first = id(&first["items"][0]);
        let (status, _) = app.post(&format!("/reservations/{first}/cancel"), Some(&holders[0].token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (hold_id, seats) = held(app, event, w2).await.expect("w2 was offered the seat");
        assert_eq!(seats, 1);
        let frame = socket.next_of_type("hold_offered").await;
        assert_eq!((frame["data"]["id"].as_i64(), frame["data"]["status"].as_str()), (Some(hold_id), Some("HOLD")));
        assert_eq!(frame["data"]["target"]["title"], "Sound bath", "{frame}");
        assert_problem(&app.get(&format!("/events/{event}/waitlist/me"), Some(&w2.token)).await, StatusCode::NOT_FOUND, "not_found");
        // Nobody else can take it: the event is full again.
        let stranger = app.register("stranger@example.com").await;
        assert_problem(&hold(app, event, &stranger, 1).await, StatusCode::CONFLICT, "insufficient_capacity");

        // A booking the studio cancels: its seat goes to w3.
        let (_, second) = app.get("/reservations?status=HOLD", Some(&holders[1].token)).await;
        let second = id(&second["items"][0]);
        let (status, _) = app.post(&format!("/reservations/{second}/confirm"), Some(&holders[1].token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.post(&format!("/reservations/{second}/cancel"), Some(&world.admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(held(app, event, w3).await.map(|h| h.1), Some(1));
        assert_eq!(held(app, event, w1).await, None);

        // More capacity: the two new seats are w1's.
        let (status, _) = app.patch(&format!("/events/{event}"), Some(&world.admin.token), json!({"capacity": 5})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(held(app, event, w1).await.map(|h| h.1), Some(2));
        assert_eq!(offered(app, event).await, vec![w2.user_id, w3.user_id, w1.user_id]);
        let (_, detail) = app.get(&format!("/events/{event}"), None).await;
        assert_eq!(detail["available"], 0, "{detail}");

        // Everything held lapses and the sweep finds it: w4 (3) and w5 (2) fit the five seats.
        for (waiter, quantity) in [(w4, 3), (w5, 2), (w6, 5)] {
            assert_eq!(join(app, event, waiter, quantity).await.0, StatusCode::CREATED);
        }
        app.clock.advance(Duration::minutes(6));
        hothour_api::jobs::run_once(&app.state).await;
        assert_eq!(held(app, event, w4).await.map(|h| h.1), Some(3));
        assert_eq!(held(app, event, w5).await.map(|h| h.1), Some(2));
        assert_eq!(held(app, event, w2).await, None, "the lapsed offer is gone");

        // Those offers lapse unswept, found inside someone else's hold
        // request: the seats go to w6 before the stranger can take one.
        app.clock.advance(Duration::minutes(6));
        assert_problem(&hold(app, event, &stranger, 1).await, StatusCode::CONFLICT, "insufficient_capacity");
        assert_eq!(held(app, event, w6).await.map(|h| h.1), Some(5));
        let order = offered(app, event).await;
        assert_eq!(order, [w2, w3, w1, w4, w5, w6].map(|w| w.user_id).to_vec());
        let waiting = app.sql_i64(&format!("SELECT COUNT(*) FROM waitlist_entries WHERE event_id = {event} AND status = 'WAITING'")).await;
        assert_eq!(waiting, 0);
        // With no one waiting, seats that come back are anyone's.
        app.clock.advance(Duration::minutes(6));
        assert_eq!(hold(app, event, &stranger, 5).await.0, StatusCode::CREATED);
    }

    async fn an_offer_is_mailed_in_its_readers_language_with_a_link_to_the_event(backend) {
        let smtp = SmtpServer::start();
        let world = studio(backend, Some(&smtp)).await;
        let app = &world.app;
        let event = event(&world, 1).await;
        let holder = app.register("holder@example.com").await;
        let (_, hold_answer) = hold(app, event, &holder, 1).await;
        let (status, ayse) = app
            .post(
                "/auth/register",
                None,
                json!({"email": "ayse@example.com", "password": hothour_tests::app::PASSWORD, "full_name": "Ayşe", "locale": "tr"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ayse}");
        let ayse = hothour_tests::app::session(&ayse);
        assert_eq!(join(app, event, &ayse, 1).await.0, StatusCode::CREATED);
        let (status, _) = app.post(&format!("/reservations/{}/cancel", id(&hold_answer)), Some(&holder.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        hothour_api::jobs::run_once(&app.state).await;
        // Registrations and the studio's invitation are mailed links (`?token=`): leave them out.
        let messages: Vec<_> = smtp
            .messages()
            .into_iter()
            .filter(|raw| {
                let message = MessageParser::default().parse(raw).expect("a message");
                !message.body_text(0).is_some_and(|text| text.contains("?token="))
            })
            .collect();
        assert_eq!(messages.len(), 1, "the offer, once (a hold let go is no news)");
        let message = MessageParser::default().parse(&messages[0]).expect("a message");
        assert_eq!(message.to().and_then(|to| to.first()).and_then(|a| a.address()), Some("ayse@example.com"));
        assert_eq!(message.subject(), Some("Sizin için yer açıldı: Sound bath"));
        let text = message.body_text(0).expect("a text part");
        let link = format!("https://hothour.example/events/{event}");
        assert!(text.contains("Merhaba Ayşe") && text.contains(&link), "{text}");
        // The hold lasts five minutes from now, on the studio's clock (Istanbul, UTC+3).
        let until = app.now() + Duration::minutes(5) + Duration::hours(3);
        assert!(text.contains(&until.format("%H:%M").to_string()), "{text}");
        let html = message.body_html(0).expect("an HTML part").replace("&#x2f;", "/");
        assert!(html.contains(&link) && html.contains("lang=\"tr\""), "{html}");
        let kind = app.sql_i64("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'waitlist_offer' AND status = 'sent'").await;
        assert_eq!(kind, 1);
    }

    async fn an_offer_held_back_by_a_mail_outage_is_not_sent_once_it_lapsed(backend) {
        let mut smtp = SmtpServer::start();
        let world = studio(backend, Some(&smtp)).await;
        let app = &world.app;
        let event = event(&world, 1).await;
        let holder = app.register("holder@example.com").await;
        let (_, hold_answer) = hold(app, event, &holder, 1).await;
        let waiter = app.register("waiter@example.com").await;
        assert_eq!(join(app, event, &waiter, 1).await.0, StatusCode::CREATED);
        hothour_api::jobs::run_once(&app.state).await;
        let sent_before = smtp.messages().len();

        // The seat comes back while the mail server is away: the offer waits.
        smtp.stop();
        let (status, _) = app.post(&format!("/reservations/{}/cancel", id(&hold_answer)), Some(&holder.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        hothour_api::jobs::run_once(&app.state).await;
        let offers = "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'waitlist_offer' AND status = 'pending'";
        assert_eq!(app.sql_i64(offers).await, 1, "kept to try again");

        // Back after the offered hold lapsed: the offer is not sent.
        smtp.restart();
        app.clock.advance(Duration::minutes(6));
        hothour_api::jobs::run_once(&app.state).await;
        assert_eq!(smtp.messages().len(), sent_before, "nothing about a lapsed offer");
        let dead = "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'waitlist_offer' AND status = 'dead' \
                    AND last_error LIKE '%reservation is % now%'";
        assert_eq!(app.sql_i64(dead).await, 1, "it ends unsent, saying why");
    }

    async fn two_hundred_waiters_get_returning_seats_in_order_once_each_never_oversold(backend) {
        const CAPACITY: usize = 100;
        const WAITERS: usize = 200;
        let world = studio(backend, None).await;
        let app = Arc::new(world.app);
        let event = event_on(&app, &world.admin, CAPACITY as i64).await;
        let holders = register_many(&app, "holder", CAPACITY).await;
        let outsiders = register_many(&app, "outsider", 50).await;
        let waiters = register_many(&app, "waiter", WAITERS).await;
        let holds = concurrently(holders.iter().cloned().map(|user| {
            let app = app.clone();
            async move { hold(&app, event, &user, 1).await }
        }))
        .await;
        assert!(holds.iter().all(|(status, _)| *status == StatusCode::CREATED));
        // They join a few at a time (each join takes the event's lock alone,
        // and 200 at once would queue past the lock timeout on a loaded
        // machine): the line is the order their joins committed in.
        let turns = Arc::new(tokio::sync::Semaphore::new(16));
        let joins = concurrently(waiters.iter().cloned().map(|user| {
            let (app, turns) = (app.clone(), turns.clone());
            async move {
                let _turn = turns.acquire().await.expect("the semaphore stays open");
                join(&app, event, &user, 1).await
            }
        }))
        .await;
        assert!(joins.iter().all(|(status, _)| *status == StatusCode::CREATED), "{joins:?}");

        // Burst 1: half the holders let go while outsiders try to hold.
        let cancels = holds[..CAPACITY / 2].iter().map(|(_, hold)| hold.clone()).zip(holders.iter().cloned());
        let outsiders_try = |app: Arc<TestApp>, outsiders: Vec<Session>| async move {
            concurrently(outsiders.into_iter().map(|user| {
                let app = app.clone();
                async move { hold(&app, event, &user, 1).await.0 }
            }))
            .await
        };
        let (cancelled, tried) = tokio::join!(
            concurrently(cancels.map(|(hold, user)| {
                let app = app.clone();
                async move { app.post(&format!("/reservations/{}/cancel", id(&hold)), Some(&user.token), json!({})).await.0 }
            })),
            outsiders_try(app.clone(), outsiders.clone()),
        );
        assert!(cancelled.iter().all(|status| *status == StatusCode::OK));
        assert!(tried.iter().all(|status| *status == StatusCode::CONFLICT), "a returned seat went to an outsider: {tried:?}");
        check_invariants(&app, event, CAPACITY).await;
        assert_eq!(offered(&app, event).await.len(), CAPACITY / 2);

        // Burst 2: every hold lapses (holders' and offers alike); the sweep
        // and outsiders' hold requests find them at once.
        app.clock.advance(Duration::minutes(6));
        let sweeps = {
            let app = app.clone();
            async move {
                for _ in 0..3 {
                    hothour_api::jobs::run_once(&app.state).await;
                }
            }
        };
        let (_, tried) = tokio::join!(sweeps, outsiders_try(app.clone(), outsiders.clone()));
        assert!(tried.iter().all(|status| *status == StatusCode::CONFLICT), "{tried:?}");
        check_invariants(&app, event, CAPACITY).await;
        assert_eq!(offered(&app, event).await.len(), CAPACITY + CAPACITY / 2);

        // Burst 3: those offers lapse; the last 50 in line get theirs, and
        // the 50 seats no one waits for are the outsiders'.
        app.clock.advance(Duration::minutes(6));
        let tried = outsiders_try(app.clone(), outsiders.clone()).await;
        hothour_api::jobs::run_once(&app.state).await;
        check_invariants(&app, event, CAPACITY).await;
        let offers = offered(&app, event).await;
        assert_eq!(offers.len(), WAITERS, "every waiter offered once");
        let created = tried.iter().filter(|status| **status == StatusCode::CREATED).count();
        assert_eq!(created, 50, "{tried:?}");

        // In join order: the order of the offers is the order of the line.
        let line_sql = |n: usize| {
            format!("SELECT user_id FROM waitlist_entries WHERE event_id = {event} ORDER BY id LIMIT 1 OFFSET {n}")
        };
        for (n, user) in offers.iter().enumerate() {
            assert_eq!(app.sql_i64(&line_sql(n)).await, *user, "offer {n}");
        }
    }
}

async fn event_on(app: &TestApp, admin: &Session, capacity: i64) -> i64 {
    let starts_at = app.now() + Duration::days(2);
    let body = json!({
        "title": "Sound bath", "capacity": capacity, "price": "100.00",
        "starts_at": iso(starts_at), "ends_at": iso(starts_at + Duration::minutes(90)),
    });
    let (status, event) = app.post("/events", Some(&admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    id(&event)
}

/// Runs every future at once, each in its own task; answers in order.
async fn concurrently<T: Send + 'static>(
    futures: impl Iterator<Item = impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("the task ends"));
    }
    answers
}

/// In SQL: the seats of stored holds and bookings never exceed the
/// capacity, and no waiter was offered seats twice.
async fn check_invariants(app: &TestApp, event: i64, capacity: usize) {
    let taken = app
        .sql_i64(&format!(
            "SELECT COALESCE(SUM(quantity), 0) FROM reservations WHERE event_id = {event} \
             AND status IN ('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW')"
        ))
        .await;
    assert!(taken <= capacity as i64, "{taken} seats taken of {capacity}");
    let twice = app
        .sql_i64(&format!(
            "SELECT COUNT(*) FROM (SELECT user_id FROM waitlist_entries WHERE event_id = {event} \
             AND status = 'OFFERED' GROUP BY user_id HAVING COUNT(*) > 1) AS doubled"
        ))
        .await;
    assert_eq!(twice, 0, "a waiter offered twice");
    let offers = app
        .sql_i64(&format!(
            "SELECT COUNT(*) FROM waitlist_entries w JOIN reservations r ON r.id = w.reservation_id \
             WHERE w.event_id = {event} AND r.user_id = w.user_id AND r.quantity = w.quantity"
        ))
        .await;
    let entries = app
        .sql_i64(&format!("SELECT COUNT(*) FROM waitlist_entries WHERE event_id = {event} AND status = 'OFFERED'"))
        .await;
    assert_eq!(offers, entries, "each offer is its waiter's hold of the seats they waited for");
}
