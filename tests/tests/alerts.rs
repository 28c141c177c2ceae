//! Price alerts, booking reminders and one-click unsubscribe (issue 24,
//! SPEC §14) on both stores, with a real SMTP server (aiosmtpd) and a real
//! WebSocket client: an alert fires once, at the step boundary of the test
//! clock (or at once, or when a hold lapses below it), as a `price_alert`
//! frame on `user:{id}` and an email; many instances running the job fire
//! it exactly once; a reminder goes once per booking however many instances
//! record and send; the `List-Unsubscribe` link stops that kind of email.
//!
//! The service's own job loop is off (`BACKGROUND_JOBS=false`): each test
//! drives the jobs with `hothour_api::jobs::run_once` and the test clock.

use chrono::{Duration, Timelike};
use hothour_api::AppState;
use hothour_tests::app::{Backend, PASSWORD, Session, TestApp, session};
use hothour_tests::fixtures::{World, assert_problem, id, iso};
use hothour_tests::on_both_stores;
use hothour_tests::smtp::SmtpServer;
use hothour_tests::ws::WsClient;
use mail_parser::{Message, MessageParser};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A world whose mail goes to `smtp` (or to files, without one).
async fn world(backend: Backend, smtp: Option<&SmtpServer>) -> World {
    let url = smtp.map(SmtpServer::url);
    let mut vars = vec![
        ("BACKGROUND_JOBS", "false"),
        ("MAIL_FROM", "HotHour <alerts@hothour.example>"),
        ("PUBLIC_URL", "https://hothour.example/"),
        // Sockets stay signed in while the tests move the clock by the hour.
        ("ACCESS_TOKEN_TTL", "86400"),
    ];
    if let Some(url) = &url {
        vars.push(("SMTP_URL", url.as_str()));
    }
    World::with(backend, &vars).await
}

/// An auction on sale since a minute ago: 500.00, 50.00 less every ten
/// minutes down to 100.00; its session in three hours.
async fn auction(world: &World) -> i64 {
    let now = world.app.now();
    let body = json!({
        "title": "Tango & milonga", "description": "", "start_price": "500.00", "floor_price": "100.00",
        "drop_amount": "50.00", "drop_interval_minutes": 10,
        "starts_at": iso(now - Duration::minutes(1)), "ends_at": iso(now + Duration::minutes(119)),
        "scheduled_at": iso(now + Duration::minutes(180)),
    });
    let (status, auction) = world.app.post("/auctions", Some(&world.admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{auction}");
    id(&auction)
}

/// A 50-seat event starting at `starts_at`.
async fn salsa_night(world: &World, starts_at: chrono::DateTime<chrono::Utc>) -> Value {
    let body = json!({
        "title": "Salsa & bachata", "capacity": 50, "price": "150.00",
        "starts_at": iso(starts_at), "ends_at": iso(starts_at + Duration::minutes(90)),
    });
    let (status, event) = world.app.post("/events", Some(&world.admin.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

async fn register(app: &TestApp, email: &str, locale: &str) -> Session {
    let body = json!({"email": email, "password": PASSWORD, "full_name": format!("Reader {email}"), "locale": locale});
    let (status, answer) = app.post("/auth/register", None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    session(&answer)
}

async fn alert(app: &TestApp, user: &Session, auction: i64, below: &str) -> (StatusCode, Value) {
    app.post(&format!("/auctions/{auction}/alerts"), Some(&user.token), json!({"below": below})).await
}

/// A socket signed in as `user`, in their `user:` room.
async fn user_room(app: &TestApp, user: &Session) -> WsClient {
    let mut ws = WsClient::connect(app).await;
    ws.authenticated(user).await;
    ws.subscribed(&format!("user:{}", user.user_id)).await;
    ws
}

async fn run_jobs(state: &AppState) {
    hothour_api::jobs::run_once(state).await;
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql_i64(sql).await
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default().parse(raw).expect("a message")
}

/// The received messages whose subject starts with `prefix`.
fn with_subject<'a>(messages: &'a [Vec<u8>], prefix: &str) -> Vec<Message<'a>> {
    messages.iter().map(|raw| parse(raw)).filter(|m| m.subject().is_some_and(|s| s.starts_with(prefix))).collect()
}

fn recipient<'a>(message: &'a Message<'_>) -> &'a str {
    message.to().and_then(|to| to.first()).and_then(|a| a.address()).expect("a recipient")
}

/// The message's one-click unsubscribe link, checked to be RFC 8058's.
#[track_caller]
fn unsubscribe_link(message: &Message<'_>) -> String {
    let post = message.header_raw("List-Unsubscribe-Post").map(str::trim);
    assert_eq!(post, Some("List-Unsubscribe=One-Click"));
    let link = message.header_raw("List-Unsubscribe").expect("a List-Unsubscribe header").trim();
    let link = link.strip_prefix('<').and_then(|l| l.strip_suffix('>')).expect("<https://…>");
    assert!(link.starts_with("https://hothour.example/api/v1/mail/unsubscribe?token="), "{link}");
    let token = link.split_once("token=").expect("a token").1;
    let page = format!("https://hothour.example/unsubscribe?token={token}");
    let text = message.body_text(0).expect("a text part");
    assert!(text.contains(&page), "the text links the web client's page:\n{text}");
    let html = message.body_html(0).expect("an HTML part").replace("&#x2f;", "/").replace("&#x3d;", "=");
    assert!(html.contains(&page), "so does the HTML:\n{html}");
    link.to_owned()
}

/// What a browser opening `link` is answered: the status and where it is sent.
async fn open_in_browser(app: &TestApp, link: &str) -> (StatusCode, Option<String>) {
    let path = link.strip_prefix("https://hothour.example").expect("a link of ours");
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    let response = browser.get(app.url(path)).send().await.expect("the server answers");
    let location = response.headers().get("Location").map(|value| value.to_str().expect("text").to_owned());
    (response.status(), location)
}

/// The link posted as a mail client does it (RFC 8058), against the test server.
async fn one_click(app: &TestApp, link: &str) -> (StatusCode, Value) {
    let path = link.strip_prefix("https://hothour.example").expect("a link of ours");
    let response = app
        .client
        .post(app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

on_both_stores! {
    async fn an_alert_fires_once_at_the_step_that_reaches_it(backend) {
        let smtp = SmtpServer::start();
        let world = world(backend, Some(&smtp)).await;
        let app = &world.app;
        let auction = auction(&world).await;
        let ayse = register(app, "ayse@example.com", "tr").await;
        let mut ws = user_room(app, &ayse).await;

        let (status, made) = alert(app, &ayse, auction, "420.00").await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!((made["below"].as_str(), made["fired"].as_bool()), (Some("420.00"), Some(false)), "{made}");
        assert_eq!(made["auction"]["current_price"], "500.00");
        assert_problem(&alert(app, &ayse, auction, "300.00").await, StatusCode::CONFLICT, "price_alert_exists");
        let (_, mine) = app.get("/me/alerts", Some(&ayse.token)).await;
        assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
        assert_eq!(mine[0]["auction"]["title"], "Tango & milonga");

        run_jobs(&app.state).await;
        app.clock.advance(Duration::minutes(10));
        run_jobs(&app.state).await;
        ws.assert_quiet().await;
        assert_eq!(count(app, "SELECT COUNT(*) FROM price_alerts").await, 1, "450.00 is not yet 420.00");

        app.clock.advance(Duration::minutes(10));
        run_jobs(&app.state).await;
        let frame = ws.next_of_type("price_alert").await;
        assert_eq!(frame["room"], format!("user:{}", ayse.user_id));
        let data = &frame["data"];
        assert_eq!((data["id"].as_i64(), data["price"].as_str()), (made["id"].as_i64(), Some("400.00")), "{frame}");
        assert_eq!((data["below"].as_str(), data["auction"]["id"].as_i64()), (Some("420.00"), Some(auction)));
        run_jobs(&app.state).await;
        app.clock.advance(Duration::minutes(10));
        run_jobs(&app.state).await;
        ws.assert_quiet().await;

        let messages = smtp.messages();
        let mails = with_subject(&messages, "Fiyat alarmı");
        assert_eq!(mails.len(), 1, "one email, in Turkish");
        let mail = &mails[0];
        assert_eq!(mail.subject(), Some("Fiyat alarmı: Tango & milonga şimdi ₺400,00"));
        assert_eq!(recipient(mail), "ayse@example.com");
        let text = mail.body_text(0).unwrap();
        assert!(text.contains("₺420,00") && text.contains(&format!("https://hothour.example/auctions/{auction}")), "{text}");
        assert!(text.contains("Europe/Istanbul"), "the session on the studio's clock: {text}");
        assert!(mail.body_html(0).unwrap().contains("Tango &amp; milonga"));
        unsubscribe_link(mail);
        assert_eq!(count(app, "SELECT COUNT(*) FROM price_alerts").await, 0, "gone once fired");
        assert_eq!(count(app, "SELECT COUNT(*) FROM outbox WHERE kind = 'price_alert'").await, 1);
        assert_eq!(count(app, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'price_alert'").await, 1);
        let (_, mine) = app.get("/me/alerts", Some(&ayse.token)).await;
        assert_eq!(mine, json!([]));
    }

    async fn an_alert_already_met_fires_at_once_and_ended_auctions_drop_theirs(backend) {
        let world = world(backend, None).await;
        let app = &world.app;
        let auction = auction(&world).await;
        let ada = register(app, "ada@example.com", "en").await;
        let bob = register(app, "bob@example.com", "en").await;
        let mut ws = user_room(app, &ada).await;

        let (status, made) = alert(app, &ada, auction, "500.00").await;
        assert_eq!((status, made["fired"].as_bool()), (StatusCode::CREATED, Some(true)), "{made}");
        let frame = ws.next_of_type("price_alert").await;
        assert_eq!(frame["data"]["price"], "500.00");
        let (_, mine) = app.get("/me/alerts", Some(&ada.token)).await;
        assert_eq!(mine, json!([]), "a fired alert is gone");

        // Bad input, someone else's alert, an admin, an unknown auction.
        for bad in [json!({"below": "abc"}), json!({"below": "0.00"}), json!({"below": "-5.00"}), json!({}), json!({"below": "1.00", "x": 1})] {
            let answer = app.post(&format!("/auctions/{auction}/alerts"), Some(&bob.token), bad.clone()).await;
            assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        }
        assert_problem(&alert(app, &world.admin, auction, "100.00").await, StatusCode::FORBIDDEN, "booking_not_allowed");
        assert_problem(&alert(app, &bob, 999_999, "100.00").await, StatusCode::NOT_FOUND, "not_found");
        let (_, bobs) = alert(app, &bob, auction, "150.00").await;
        let path = format!("/alerts/{}", id(&bobs));
        assert_problem(&app.delete(&path, Some(&ada.token)).await, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(app.delete(&path, Some(&bob.token)).await.0, StatusCode::NO_CONTENT);
        assert_problem(&app.delete(&path, Some(&bob.token)).await, StatusCode::NOT_FOUND, "not_found");

        // A cancelled auction takes its alerts, silently.
        let (status, _) = alert(app, &bob, auction, "150.00").await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = app.post(&format!("/auctions/{auction}/cancel"), Some(&world.admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_problem(&alert(app, &ada, auction, "150.00").await, StatusCode::CONFLICT, "auction_closed");
        run_jobs(&app.state).await;
        assert_eq!(count(app, "SELECT COUNT(*) FROM price_alerts").await, 0);
        assert_eq!(count(app, "SELECT COUNT(*) FROM outbox WHERE kind = 'price_alert'").await, 1, "only ada's");

        // A deleted auction too.
        let other = self::auction(&world).await;
        let (status, _) = alert(app, &bob, other, "150.00").await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(app.delete(&format!("/auctions/{other}"), Some(&world.admin.token)).await.0, StatusCode::NO_CONTENT);
        assert_eq!(count(app, "SELECT COUNT(*) FROM price_alerts").await, 0);
    }

    async fn a_held_auction_fires_its_alert_when_it_reopens_below_it(backend) {
        let world = world(backend, None).await;
        let app = &world.app;
        let auction = auction(&world).await;
        let ada = register(app, "ada@example.com", "en").await;
        let bob = register(app, "bob@example.com", "en").await;
        let mut ws = user_room(app, &ada).await;
        let (status, _) = alert(app, &ada, auction, "470.00").await;
        assert_eq!(status, StatusCode::CREATED);

        app.clock.advance(Duration::minutes(8));
        let (status, hold) = app.post(&format!("/auctions/{auction}/grab"), Some(&bob.token), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        app.clock.advance(Duration::minutes(3));
        run_jobs(&app.state).await;
        ws.assert_quiet().await;
        assert_eq!(count(app, "SELECT COUNT(*) FROM price_alerts").await, 1, "held: not on sale");

        app.clock.advance(Duration::minutes(3));
        run_jobs(&app.state).await;
        let frame = ws.next_of_type("price_alert").await;
        assert_eq!(frame["data"]["price"], "450.00", "reopened at the price of its time");
        assert_eq!(count(app, "SELECT COUNT(*) FROM price_alerts").await, 0);
    }

    async fn many_instances_fire_each_alert_exactly_once(backend) {
        let world = world(backend, None).await;
        let app = &world.app;
        let auctions = [auction(&world).await, auction(&world).await];
        let users = hothour_tests::fixtures::register_many(app, "watcher", 40).await;
        for (i, user) in users.iter().enumerate() {
            let below = if i % 4 == 3 { "150.00" } else { "420.00" };
            let (status, made) = alert(app, user, auctions[i % 2], below).await;
            assert_eq!(status, StatusCode::CREATED, "{made}");
        }
        app.clock.advance(Duration::minutes(20));
        let mut states = vec![app.state.clone()];
        for _ in 0..3 {
            states.push(std::sync::Arc::new(app.another_state().await));
        }
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let state = states[i % states.len()].clone();
                tokio::spawn(async move { state.services.fire_price_alerts(200).await })
            })
            .collect();
        let mut fired = 0;
        for task in tasks {
            match task.await.expect("the task") {
                Ok(report) => fired += report.changed,
                Err(error) => panic!("{error}"),
            }
        }
        assert_eq!(fired, 30, "each alert under 420.00 fired by one run");
        assert_eq!(count(app, "SELECT COUNT(*) FROM outbox WHERE kind = 'price_alert'").await, 30);
        assert_eq!(count(app, "SELECT COUNT(DISTINCT room) FROM outbox WHERE kind = 'price_alert'").await, 30);
        assert_eq!(count(app, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'price_alert'").await, 30);
        assert_eq!(count(app, "SELECT COUNT(*) FROM price_alerts").await, 10, "those under 150.00 wait");
    }

    async fn a_reminder_held_back_by_a_mail_outage_is_not_sent_for_a_cancelled_booking(backend) {
        let mut smtp = SmtpServer::start();
        let world = world(backend, Some(&smtp)).await;
        let app = &world.app;
        let starts_at = app.now() + Duration::hours(2);
        let event = salsa_night(&world, starts_at).await;
        let mut bookings = Vec::new();
        for email in ["ayse@example.com", "bob@example.com"] {
            let user = register(app, email, "en").await;
            let path = format!("/events/{}/holds", id(&event));
            let (status, hold) = app.post(&path, Some(&user.token), json!({"quantity": 1})).await;
            assert_eq!(status, StatusCode::CREATED, "{hold}");
            let (status, booking) =
                app.post(&format!("/reservations/{}/confirm", id(&hold)), Some(&user.token), json!({})).await;
            assert_eq!(status, StatusCode::OK, "{booking}");
            bookings.push((user, booking));
        }

        // The mail server is away when both reminders fall due (booked inside
        // the reminder window); ayse cancels meanwhile.
        smtp.stop();
        run_jobs(&app.state).await;
        let reminders = "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'booking_reminder' AND status = 'pending'";
        assert_eq!(count(app, reminders).await, 2, "both recorded, kept to try again");
        let (ayse, ayses) = &bookings[0];
        let (status, body) = app.post(&format!("/reservations/{}/cancel", id(ayses)), Some(&ayse.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        smtp.restart();
        app.clock.advance(Duration::minutes(5));
        run_jobs(&app.state).await;
        let messages = smtp.messages();
        let reminders = with_subject(&messages, "Reminder");
        assert_eq!(reminders.len(), 1, "bob's only");
        assert_eq!(recipient(&reminders[0]), "bob@example.com");
        let cancelled = with_subject(&messages, "Booking cancelled");
        assert_eq!(cancelled.iter().map(recipient).collect::<Vec<_>>(), ["ayse@example.com"], "ayse hears of her cancellation");
        let why = app
            .sql_i64(&format!(
                "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'booking_reminder' AND status = 'dead' \
                 AND recipient_id = {} AND last_error LIKE '%reservation is cancelled now%'",
                ayse.user_id
            ))
            .await;
        assert_eq!(why, 1, "ayse's reminder ends unsent, saying why");
    }

    async fn a_reminder_goes_once_per_booking_and_unsubscribing_stops_it(backend) {
        let smtp = SmtpServer::start();
        let world = world(backend, Some(&smtp)).await;
        let app = &world.app;
        let starts_at = app.now() + Duration::hours(4);
        let event = salsa_night(&world, starts_at).await;
        let book = |user: Session| {
            let path = format!("/events/{}/holds", id(&event));
            async move {
                let (status, hold) = app.post(&path, Some(&user.token), json!({"quantity": 2})).await;
                assert_eq!(status, StatusCode::CREATED, "{hold}");
                let (status, booking) =
                    app.post(&format!("/reservations/{}/confirm", id(&hold)), Some(&user.token), json!({})).await;
                assert_eq!(status, StatusCode::OK, "{booking}");
                booking
            }
        };
        let ayse = register(app, "ayse@example.com", "tr").await;
        let bob = register(app, "bob@example.com", "en").await;
        let ayse_booking = book(ayse.clone()).await;
        let bobs = book(bob.clone()).await;
        let (status, _) = app.post(&format!("/reservations/{}/cancel", id(&bobs)), Some(&bob.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        run_jobs(&app.state).await;
        assert!(with_subject(&smtp.messages(), "Hatırlatma").is_empty(), "four hours ahead: not yet");

        // Inside the three hours: two instances record and send at once.
        app.clock.advance(Duration::minutes(61));
        let other = app.another_state().await;
        tokio::join!(
            async {
                for _ in 0..3 {
                    run_jobs(&app.state).await;
                }
            },
            async {
                for _ in 0..3 {
                    run_jobs(&other).await;
                }
            },
        );
        let messages = smtp.messages();
        let reminders = with_subject(&messages, "Hatırlatma");
        assert_eq!(reminders.len(), 1, "ayse's, once");
        assert!(with_subject(&messages, "Reminder").is_empty(), "bob cancelled");
        let reminder = &reminders[0];
        assert_eq!(recipient(reminder), "ayse@example.com");
        let local = starts_at + Duration::hours(3);
        let starts = format!("{:02}:{:02}", local.hour(), local.minute());
        assert!(reminder.subject().unwrap().contains(&starts), "on the studio's clock: {:?}", reminder.subject());
        let text = reminder.body_text(0).unwrap();
        assert!(text.contains(ayse_booking["booking_code"].as_str().unwrap()) && text.contains("Europe/Istanbul"), "{text}");
        let link = unsubscribe_link(reminder);

        // Booked inside the window: a reminder at the next round, once.
        let carol = register(app, "carol@example.com", "en").await;
        book(carol.clone()).await;
        run_jobs(&app.state).await;
        run_jobs(&other).await;
        let messages = smtp.messages();
        let english = with_subject(&messages, "Reminder");
        assert_eq!(english.len(), 1);
        assert_eq!(recipient(&english[0]), "carol@example.com");
        assert_eq!(count(app, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'booking_reminder'").await, 2);

        // One click stops reminders for ayse. Opened in a browser, the link
        // leads to the web client's page, which asks; a scanner following it
        // stops nothing.
        let (status, location) = open_in_browser(app, &link).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let token = link.split_once("token=").unwrap().1;
        assert_eq!(location.as_deref(), Some(format!("https://hothour.example/unsubscribe?token={token}").as_str()));
        assert_eq!(open_in_browser(app, &format!("{link}x")).await, (StatusCode::UNPROCESSABLE_ENTITY, None));
        let (_, preferences) = app.get("/me/mail-preferences", Some(&ayse.token)).await;
        assert_eq!(preferences, json!({"booking_reminder": true, "price_alert": true}));
        let (status, answer) = one_click(app, &link).await;
        assert_eq!((status, answer), (StatusCode::OK, json!({"kind": "booking_reminder"})));
        assert_eq!(one_click(app, &link).await.0, StatusCode::OK, "again: nothing changes");
        assert_problem(&one_click(app, &format!("{link}x")).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let (_, preferences) = app.get("/me/mail-preferences", Some(&ayse.token)).await;
        assert_eq!(preferences, json!({"booking_reminder": false, "price_alert": true}));

        let (status, event2) = app
            .post("/events", Some(&world.admin.token), json!({
                "title": "Kizomba", "capacity": 10, "price": "100.00",
                "starts_at": iso(app.now() + Duration::hours(1)), "ends_at": iso(app.now() + Duration::hours(2)),
            }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{event2}");
        let (_, hold) = app.post(&format!("/events/{}/holds", id(&event2)), Some(&ayse.token), json!({"quantity": 1})).await;
        let (status, _) = app.post(&format!("/reservations/{}/confirm", id(&hold)), Some(&ayse.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        run_jobs(&app.state).await;
        assert_eq!(count(app, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'booking_reminder'").await, 2, "none for ayse");
        assert_eq!(with_subject(&smtp.messages(), "Hatırlatma").len(), 1);

        // Signed in, she turns them back on (and price-alert email off).
        let patch = json!({"booking_reminder": true, "price_alert": false});
        let (status, preferences) = app.patch("/me/mail-preferences", Some(&ayse.token), patch).await;
        assert_eq!((status, preferences), (StatusCode::OK, json!({"booking_reminder": true, "price_alert": false})));
        run_jobs(&app.state).await;
        assert_eq!(count(app, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'booking_reminder'").await, 3);
    }

    async fn after_unsubscribing_an_alert_still_tells_the_app_but_sends_no_email(backend) {
        let smtp = SmtpServer::start();
        let world = world(backend, Some(&smtp)).await;
        let app = &world.app;
        let auction = auction(&world).await;
        let ada = register(app, "ada@example.com", "en").await;
        let (status, _) = alert(app, &ada, auction, "500.00").await;
        assert_eq!(status, StatusCode::CREATED);
        run_jobs(&app.state).await;
        let messages = smtp.messages();
        let mails = with_subject(&messages, "Price alert");
        assert_eq!(mails.len(), 1);
        let link = unsubscribe_link(&mails[0]);
        let (status, answer) = one_click(app, &link).await;
        assert_eq!((status, answer), (StatusCode::OK, json!({"kind": "price_alert"})));

        let other = self::auction(&world).await;
        let mut ws = user_room(app, &ada).await;
        let (status, made) = alert(app, &ada, other, "450.00").await;
        assert_eq!((status, made["fired"].as_bool()), (StatusCode::CREATED, Some(false)));
        app.clock.advance(Duration::minutes(10));
        run_jobs(&app.state).await;
        let frame = ws.next_of_type("price_alert").await;
        assert_eq!(frame["data"]["auction"]["id"].as_i64(), Some(other));
        run_jobs(&app.state).await;
        assert_eq!(with_subject(&smtp.messages(), "Price alert").len(), 1, "no second email");
        assert_eq!(count(app, "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'price_alert'").await, 1);
    }
}
