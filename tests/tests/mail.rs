//! Email (issue 24, SPEC §14) against a real SMTP server (aiosmtpd), on both
//! stores: each message recorded in the transaction of the decision that
//! causes it and sent once, in its reader's language, with its headers,
//! text and HTML parts and the booking's calendar file; two senders never
//! send one twice; a server that is down, or a sender that dies mid-send,
//! delays a message but never loses it; without a server, `.eml` files.
//! Messages: booking confirmed (with the code's QR image), booking
//! cancelled (by whom; the refund), session cancelled by the studio,
//! payment refunded.
//!
//! The service's own job loop is off (`BACKGROUND_JOBS=false`): each test
//! drives the sender with `hothour_api::jobs::run_once` and the test clock.

use chrono::{Duration, Timelike};
use hothour_domain::mail::{MailOutbox, Notice};
use hothour_domain::ports::{LockMode, Locks};
use hothour_domain::{ReservationId, ReservationUnit, UserId};
use hothour_tests::app::{PASSWORD, Session, TestApp, session};
use hothour_tests::fixtures::{World, id, iso};
use hothour_tests::localstripe::{CARD_OK, LocalStripe, SECRET_KEY};
use hothour_tests::on_both_stores;
use hothour_tests::smtp::{SmtpServer, read_eml_dir};
use mail_parser::{Message, MessageParser, MimeHeaders};
use reqwest::StatusCode;
use serde_json::{Value, json};

const FROM: &str = "HotHour <bookings@hothour.example>";

/// A studio (in Europe/Istanbul) with a 150.00 event two days from now,
/// whose mail goes to `smtp` (or to files, without one).
struct Studio {
    world: World,
    event_id: i64,
    starts_at: chrono::DateTime<chrono::Utc>,
}

impl Studio {
    async fn open(backend: hothour_tests::app::Backend, smtp: Option<&SmtpServer>) -> Studio {
        Studio::open_with(backend, smtp, &[]).await
    }

    /// As [`Studio::open`], with more configuration variables.
    async fn open_with(
        backend: hothour_tests::app::Backend,
        smtp: Option<&SmtpServer>,
        more: &[(&str, &str)],
    ) -> Studio {
        let url = smtp.map(SmtpServer::url);
        let mut vars =
            vec![("BACKGROUND_JOBS", "false"), ("MAIL_FROM", FROM), ("PUBLIC_URL", "https://hothour.example/")];
        if let Some(url) = &url {
            vars.push(("SMTP_URL", url.as_str()));
        }
        vars.extend_from_slice(more);
        let world = World::with(backend, &vars).await;
        let starts_at = world.app.now() + Duration::days(2);
        let body = json!({
            "title": "Salsa & bachata", "capacity": 50, "price": "150.00",
            "starts_at": iso(starts_at), "ends_at": iso(starts_at + Duration::minutes(90)),
        });
        let (status, event) = world.app.post("/events", Some(&world.admin.token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        Studio { event_id: id(&event), world, starts_at }
    }

    /// As [`Studio::open`], taking cards through `stripe`.
    async fn paying(backend: hothour_tests::app::Backend, smtp: &SmtpServer, stripe: &LocalStripe) -> Studio {
        let js_url = format!("{}/js.stripe.com/v3/", stripe.base_url);
        let vars = [
            ("PAYMENTS", "stripe"),
            ("STRIPE_SECRET_KEY", SECRET_KEY),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_hothour"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_hothour_tests"),
            ("STRIPE_API_BASE", stripe.base_url.as_str()),
            ("STRIPE_JS_URL", js_url.as_str()),
        ];
        Studio::open_with(backend, Some(smtp), &vars).await
    }

    fn app(&self) -> &TestApp {
        &self.world.app
    }

    /// Registers `email` as a browser asking for `accept_language` would.
    async fn register(&self, email: &str, accept_language: &str) -> Session {
        let response = self
            .app()
            .client
            .post(self.app().url("/api/v1/auth/register"))
            .header("Accept-Language", accept_language)
            .json(&json!({"email": email, "password": PASSWORD, "full_name": format!("Reader {email}")}))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), StatusCode::CREATED);
        session(&response.json::<Value>().await.expect("a JSON body"))
    }

    /// Two seats held and confirmed by `user`: the booking.
    async fn book(&self, user: &Session) -> Value {
        let path = format!("/events/{}/holds", self.event_id);
        let (status, hold) = self.app().post(&path, Some(&user.token), json!({"quantity": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        let path = format!("/reservations/{}/confirm", id(&hold));
        let (status, booking) = self.app().post(&path, Some(&user.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{booking}");
        booking
    }

    async fn cancel(&self, booking: &Value, by: &Session) {
        let path = format!("/reservations/{}/cancel", id(booking));
        let (status, cancelled) = self.app().post(&path, Some(&by.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
    }

    /// One round of the jobs, as the service runs them every second.
    async fn run_jobs(&self) {
        hothour_api::jobs::run_once(&self.app().state).await;
    }

    /// Messages about bookings in the outbox with `status`.
    async fn outbox(&self, status: &str) -> i64 {
        self.app()
            .sql_i64(&format!("SELECT COUNT(*) FROM mail_outbox WHERE status = '{status}' AND {ABOUT_BOOKINGS}"))
            .await
    }

    /// The count a line of `/metrics` starting with `series` shows.
    async fn metric(&self, series: &str) -> i64 {
        let text = self.app().client.get(self.app().url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok()).unwrap_or(0)
    }
}

/// The outbox rows about bookings (not the account messages every
/// registration and invitation sends: tests/tests/accounts_mail.rs has those).
const ABOUT_BOOKINGS: &str = "kind NOT IN ('verify_email', 'password_reset', 'studio_invitation')";

/// The messages `smtp` received about bookings: an account message carries
/// a link with a token, and no booking message does.
fn booking_mail(smtp: &SmtpServer) -> Vec<Vec<u8>> {
    about_bookings(smtp.messages())
}

fn about_bookings(messages: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    messages.into_iter().filter(|raw| !parse(raw).body_text(0).is_some_and(|text| text.contains("?token="))).collect()
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default().parse(raw).expect("a message")
}

/// The received message to `address` (exactly one).
fn to<'a>(messages: &'a [Vec<u8>], address: &str) -> Message<'a> {
    let mut found: Vec<Message<'a>> = messages
        .iter()
        .map(|raw| parse(raw))
        .filter(|m| m.to().and_then(|to| to.first()).and_then(|a| a.address()) == Some(address))
        .collect();
    assert_eq!(found.len(), 1, "messages to {address}");
    found.remove(0)
}

/// A calendar file's lines, unfolded (RFC 5545 §3.1). The server's Maildir
/// keeps messages with bare newlines; an `.eml` file keeps the CRLFs.
fn unfolded(ics: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in ics.replace("\r\n", "\n").split('\n') {
        match line.strip_prefix(' ') {
            Some(rest) => lines.last_mut().expect("a line to continue").push_str(rest),
            None => lines.push(line.to_owned()),
        }
    }
    lines
}

/// The session's start on the studio's clock (Istanbul keeps UTC+3 all year).
fn istanbul_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let local = at + Duration::hours(3);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

#[track_caller]
fn assert_booking_mail(message: &Message<'_>, booking: &Value, subject: &str, total: &str, starts: &str) {
    let code = booking["booking_code"].as_str().expect("a booking code");
    let from = message.from().and_then(|from| from.first()).expect("a From");
    assert_eq!((from.name(), from.address()), (Some("HotHour"), Some("bookings@hothour.example")));
    assert_eq!(message.subject(), Some(format!("{subject}: Salsa & bachata · {code}").as_str()));
    let message_id = message.message_id().expect("a Message-ID");
    assert!(message_id.starts_with("hothour-mail-") && message_id.ends_with("@hothour.example"), "{message_id}");
    let text = message.body_text(0).expect("a text part");
    for expected in [code, total, starts, "Europe/Istanbul", "https://hothour.example/me"] {
        assert!(text.contains(expected), "{expected:?} not in the text:\n{text}");
    }
    // HTML-escaped as minijinja does it (`/` too), which a browser reads back.
    let html = message.body_html(0).expect("an HTML part").replace("&#x2f;", "/");
    assert!(html.contains(code) && html.contains("Salsa &amp; bachata"), "{html}");
    assert!(html.contains(&format!("https://hothour.example/events/{}", booking["event_id"])), "{html}");
    let attachments: Vec<_> = message.attachments().collect();
    let [qr, ics] = attachments.as_slice() else { panic!("{} attachments", attachments.len()) };
    assert_qr_of(qr, code, &html);
    assert_eq!(ics.attachment_name(), Some(format!("hothour-{}.ics", id(booking)).as_str()));
    assert_eq!(ics.content_type().map(|t| (t.ctype(), t.subtype())), Some(("text", Some("calendar"))));
    let lines = unfolded(std::str::from_utf8(ics.contents()).expect("UTF-8"));
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    for expected in [
        "BEGIN:VEVENT".to_owned(),
        format!("UID:reservation-{}@hothour", id(booking)),
        "SUMMARY:Salsa & bachata".to_owned(),
        format!("DESCRIPTION:Booking code: {code}"),
        "STATUS:CONFIRMED".to_owned(),
        "END:VCALENDAR".to_owned(),
    ] {
        assert!(lines.contains(&expected), "{expected:?} not in {lines:?}");
    }
    assert!(lines.iter().any(|line| line.starts_with("DTSTART:") && line.ends_with('Z')), "{lines:?}");
}

/// `part` is the booking code's QR image, shown inline by the HTML: a PNG
/// that a QR reader reads back as the code the door scans.
#[track_caller]
fn assert_qr_of(part: &mail_parser::MessagePart<'_>, code: &str, html: &str) {
    assert_eq!(part.content_type().map(|t| (t.ctype(), t.subtype())), Some(("image", Some("png"))));
    let cid = part.content_id().expect("a Content-ID");
    assert!(html.contains(&format!("src=\"cid:{cid}\"")), "the HTML shows {cid}: {html}");
    assert_eq!(part.content_disposition().map(|d| d.ctype()), Some("inline"));
    assert_eq!(read_qr(part.contents()), code);
}

/// The text of the one QR code in a PNG image.
fn read_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut pixels).expect("its pixels");
    assert_eq!((frame.color_type, frame.bit_depth), (png::ColorType::Grayscale, png::BitDepth::Eight));
    let width = frame.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, frame.height as usize, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    let [grid] = grids.as_slice() else { panic!("{} QR codes in the image", grids.len()) };
    grid.decode().expect("a readable QR").1
}

on_both_stores! {
    async fn a_booking_confirmed_arrives_once_in_its_readers_language(backend) {
        let smtp = SmtpServer::start();
        let studio = Studio::open(backend, Some(&smtp)).await;
        let sent_before = studio.metric("hothour_mail_total{outcome=\"sent\"}").await;
        let ayse = studio.register("ayse@example.com", "tr-TR,tr;q=0.9,en;q=0.5").await;
        let (_, me) = studio.app().get("/me", Some(&ayse.token)).await;
        assert_eq!(me["locale"], "tr", "from the browser");
        let (status, ada) = studio
            .app()
            .post(
                "/auth/register",
                None,
                json!({"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada", "locale": "en"}),
            )
            .await;
        assert_eq!((status, ada["user"]["locale"].as_str()), (StatusCode::CREATED, Some("en")), "{ada}");
        let ada = session(&ada);

        let ayse_booking = studio.book(&ayse).await;
        let ada_booking = studio.book(&ada).await;
        assert_eq!(studio.outbox("pending").await, 2, "recorded with the bookings");
        assert!(booking_mail(&smtp).is_empty(), "sent after the commit, by the sender");
        studio.run_jobs().await;
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert_eq!(messages.len(), 2, "each once");
        assert_eq!(studio.outbox("sent").await, 2);
        let starts = istanbul_time(studio.starts_at);
        let turkish = to(&messages, "ayse@example.com");
        assert_booking_mail(&turkish, &ayse_booking, "Rezervasyonunuz onaylandı", "₺300,00", &starts);
        assert!(turkish.body_text(0).unwrap().contains("Merhaba Reader ayse@example.com"));
        let english = to(&messages, "ada@example.com");
        assert_booking_mail(&english, &ada_booking, "Booking confirmed", "₺300.00", &starts);
        assert_ne!(turkish.message_id(), english.message_id());

        let sent = studio.metric("hothour_mail_total{outcome=\"sent\"}").await - sent_before;
        assert_eq!(sent, 4, "the two bookings, and each reader's verification");
    }

    async fn a_reader_changes_their_language_in_their_profile(backend) {
        let smtp = SmtpServer::start();
        let studio = Studio::open(backend, Some(&smtp)).await;
        let ada = studio.register("ada@example.com", "de-DE").await;
        let (_, me) = studio.app().get("/me", Some(&ada.token)).await;
        assert_eq!(me["locale"], "en", "neither language asked for: English");
        let (status, me) = studio.app().patch("/me", Some(&ada.token), json!({"locale": "tr"})).await;
        assert_eq!((status, me["locale"].as_str()), (StatusCode::OK, Some("tr")), "{me}");
        let (status, _) = studio.app().patch("/me", Some(&ada.token), json!({"locale": "de"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        studio.book(&ada).await;
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert!(to(&messages, "ada@example.com").subject().unwrap().starts_with("Rezervasyonunuz onaylandı"));
    }

    async fn a_cancelled_booking_is_mailed_saying_who_cancelled_it(backend) {
        let smtp = SmtpServer::start();
        let studio = Studio::open(backend, Some(&smtp)).await;
        let ada = studio.register("ada@example.com", "en").await;
        let ayse = studio.register("ayse@example.com", "tr").await;
        let own = studio.book(&ada).await;
        let theirs = studio.book(&ayse).await;
        studio.cancel(&own, &ada).await;
        studio.cancel(&theirs, &studio.world.admin).await;
        // A hold let go is no news.
        let path = format!("/events/{}/holds", studio.event_id);
        let (_, hold) = studio.app().post(&path, Some(&ada.token), json!({"quantity": 1})).await;
        studio.cancel(&hold, &ada).await;
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert_eq!(messages.len(), 4, "two bookings, two cancellations");
        let cancelled = |address: &str| {
            messages
                .iter()
                .map(|raw| parse(raw))
                .find(|m| {
                    m.to().and_then(|to| to.first()).and_then(|a| a.address()) == Some(address)
                        && m.attachment_count() == 0
                })
                .expect("a cancellation")
        };
        let english = cancelled("ada@example.com");
        assert_eq!(english.subject(), Some("Booking cancelled: Salsa & bachata"));
        let text = english.body_text(0).unwrap().into_owned();
        assert!(text.contains("you have cancelled your booking") && text.contains(own["booking_code"].as_str().unwrap()));
        assert!(!text.contains("refund"), "nothing was paid: {text}");
        let turkish = cancelled("ayse@example.com");
        assert_eq!(turkish.subject(), Some("Rezervasyonunuz iptal edildi: Salsa & bachata"));
        assert!(turkish.body_text(0).unwrap().contains("stüdyo tarafından iptal edildi"));
        assert!(turkish.body_html(0).unwrap().contains("stüdyo tarafından iptal edildi"));
    }

    async fn everyone_booked_is_told_when_the_studio_calls_the_session_off(backend) {
        let smtp = SmtpServer::start();
        let studio = Studio::open(backend, Some(&smtp)).await;
        let ada = studio.register("ada@example.com", "en").await;
        let ayse = studio.register("ayse@example.com", "tr").await;
        let cem = studio.register("cem@example.com", "en").await;
        studio.book(&ada).await;
        studio.book(&ayse).await;
        let path = format!("/events/{}/holds", studio.event_id);
        let (status, _) = studio.app().post(&path, Some(&cem.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED);
        let path = format!("/events/{}/cancel", studio.event_id);
        let (status, body) = studio.app().post(&path, Some(&studio.world.admin.token), json!({})).await;
        assert!(status.is_success(), "{status} {body}");
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert_eq!(messages.len(), 4, "two bookings, then each told; a hold is no news");
        let called_off = |address: &str| {
            messages
                .iter()
                .map(|raw| parse(raw))
                .find(|m| {
                    m.to().and_then(|to| to.first()).and_then(|a| a.address()) == Some(address)
                        && m.attachment_count() == 0
                })
                .expect("the session called off")
        };
        assert_eq!(called_off("ada@example.com").subject(), Some("Cancelled by the studio: Salsa & bachata"));
        let turkish = called_off("ayse@example.com");
        assert_eq!(turkish.subject(), Some("Stüdyo seansı iptal etti: Salsa & bachata"));
        assert!(turkish.body_text(0).unwrap().contains("bu seansı iptal etti"));
    }

    async fn a_paid_booking_is_mailed_when_paid_and_its_refund_when_cancelled_then_when_refunded(backend) {
        let smtp = SmtpServer::start();
        let stripe = LocalStripe::start();
        let studio = Studio::paying(backend, &smtp, &stripe).await;
        let ada = studio.register("ada@example.com", "en").await;
        let path = format!("/events/{}/holds", studio.event_id);
        let (_, hold) = studio.app().post(&path, Some(&ada.token), json!({"quantity": 2})).await;
        let card = stripe.card(CARD_OK).await;
        let path = format!("/reservations/{}/payment", id(&hold));
        let (status, paid) = studio.app().post(&path, Some(&ada.token), json!({"payment_method": card})).await;
        assert_eq!((status, paid["reservation"]["status"].as_str()), (StatusCode::OK, Some("CONFIRMED")), "{paid}");
        studio.cancel(&hold, &ada).await;
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert_eq!(messages.len(), 3, "the booking, its cancellation, then the money back");
        let booked = parse(&messages[0]);
        assert!(booked.subject().unwrap().starts_with("Booking confirmed"), "confirmed by the payment");
        let cancelled = parse(&messages[1]);
        let text = cancelled.body_text(0).unwrap().into_owned();
        assert!(text.contains("₺300.00 will be refunded to your card"), "{text}");
        let refunded = parse(&messages[2]);
        assert_eq!(refunded.subject(), Some("Refunded: ₺300.00 · Salsa & bachata"));
        let text = refunded.body_text(0).unwrap().into_owned();
        let code = paid["reservation"]["booking_code"].as_str().unwrap();
        assert!(text.contains(&format!("₺300.00 has been refunded to the card you paid with for booking {code}")), "{text}");
        assert!(refunded.body_html(0).unwrap().contains("<strong>₺300.00</strong> has been refunded"));
        // Refunds retried by the job find nothing more to give back, and say nothing more.
        studio.app().clock.advance(Duration::minutes(5));
        studio.run_jobs().await;
        assert_eq!(booking_mail(&smtp).len(), 3);
        assert_eq!(studio.app().sql_i64("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'payment_refunded'").await, 1);
    }

    async fn a_payment_too_late_for_its_hold_is_refunded_and_only_that_is_mailed_in_turkish(backend) {
        let smtp = SmtpServer::start();
        let stripe = LocalStripe::start();
        let studio = Studio::paying(backend, &smtp, &stripe).await;
        let ayse = studio.register("ayse@example.com", "tr").await;
        let path = format!("/events/{}/holds", studio.event_id);
        let (_, hold) = studio.app().post(&path, Some(&ayse.token), json!({"quantity": 2})).await;
        let path = format!("/reservations/{}/payment", id(&hold));
        let (status, checkout) = studio.app().post(&path, Some(&ayse.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{checkout}");
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        studio.app().clock.advance(Duration::minutes(30));
        stripe.pay(&intent, CARD_OK).await;
        // The browser comes back to confirm: too late, so the money goes back at once.
        let path = format!("/reservations/{}/confirm", id(&hold));
        let (status, answer) = studio.app().post(&path, Some(&ayse.token), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        let (_, lapsed) = studio.app().get(&format!("/reservations/{}", id(&hold)), Some(&ayse.token)).await;
        assert_eq!(lapsed["payment"]["status"], "refunded", "{lapsed}");
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert_eq!(messages.len(), 1, "no booking, no cancellation: the refund alone");
        let refunded = to(&messages, "ayse@example.com");
        assert_eq!(refunded.subject(), Some("İade edildi: ₺300,00 · Salsa & bachata"));
        let text = refunded.body_text(0).unwrap().into_owned();
        assert!(text.contains("ödediğiniz ₺300,00 kartınıza iade edildi"), "{text}");
        assert!(text.contains("bununla bir rezervasyon yapılmadı"), "{text}");
        assert!(refunded.body_html(0).unwrap().contains("bununla bir rezervasyon yapılmadı"));
    }

    async fn two_senders_never_send_a_message_twice(backend) {
        let smtp = SmtpServer::start();
        let studio = Studio::open(backend, Some(&smtp)).await;
        let mut bookings = 0;
        for i in 0..12 {
            let user = studio.register(&format!("reader{i}@example.com"), "en").await;
            studio.book(&user).await;
            bookings += 1;
        }
        let other = studio.app().another_state().await;
        let (first, second) = tokio::join!(
            async {
                for _ in 0..3 {
                    hothour_api::jobs::run_once(&studio.app().state).await;
                }
            },
            async {
                for _ in 0..3 {
                    hothour_api::jobs::run_once(&other).await;
                }
            },
        );
        let ((), ()) = (first, second);
        let messages = booking_mail(&smtp);
        let mut ids: Vec<String> = messages.iter().map(|raw| parse(raw).message_id().unwrap().to_owned()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!((messages.len(), ids.len()), (bookings, bookings), "every message once");
        assert_eq!(studio.outbox("sent").await, bookings as i64);
    }

    async fn senders_racing_for_claims_each_get_their_own_messages(backend) {
        let studio = Studio::open(backend, None).await;
        let ada = studio.register("ada@example.com", "en").await;
        studio.run_jobs().await;
        let booking = studio.book(&ada).await;
        // 100 more messages, each of another cause, recorded in one decision.
        let (store, clock) = (&studio.app().store, &studio.app().clock);
        store
            .locked(ReservationId(id(&booking)), LockMode::Wait, clock, |unit: &mut ReservationUnit, now| {
                for n in 1..=100 {
                    let mut other = unit.reservation.clone();
                    other.id = ReservationId(1_000 + n);
                    unit.effects.mail(UserId(ada.user_id), Notice::booking_confirmed(&other, now));
                }
                Ok(())
            })
            .await
            .expect("recorded");
        let mut senders = vec![studio.app().store.clone()];
        for _ in 0..3 {
            senders.push(studio.app().another_state().await.store);
        }
        let now = studio.app().now();
        let tasks: Vec<_> = senders
            .into_iter()
            .map(|store| {
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let claimed = store.claim_mail(now, now + Duration::minutes(10), 7).await.expect("a claim");
                        if claimed.is_empty() {
                            return mine;
                        }
                        mine.extend(claimed.into_iter().map(|mail| mail.id));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("a sender"));
        }
        let claimed = all.len();
        all.sort();
        all.dedup();
        assert_eq!((claimed, all.len()), (101, 101), "every message claimed, none twice");
    }

    async fn a_server_that_is_down_delays_mail_but_loses_none(backend) {
        let mut smtp = SmtpServer::start();
        let studio = Studio::open(backend, Some(&smtp)).await;
        let ada = studio.register("ada@example.com", "en").await;
        studio.run_jobs().await;
        let (sent_before, retried_before) = (
            studio.metric("hothour_mail_total{outcome=\"sent\"}").await,
            studio.metric("hothour_mail_total{outcome=\"retried\"}").await,
        );
        smtp.stop();
        let booking = studio.book(&ada).await;
        studio.run_jobs().await;
        assert_eq!(studio.outbox("pending").await, 1, "kept to try again");
        let attempts = studio.app().sql_i64(&format!("SELECT CAST(attempts AS BIGINT) FROM mail_outbox WHERE {ABOUT_BOOKINGS}")).await;
        assert_eq!(attempts, 1);

        smtp.restart();
        studio.run_jobs().await;
        assert!(booking_mail(&smtp).is_empty(), "not before its back-off");
        studio.app().clock.advance(Duration::seconds(31));
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert_eq!(messages.len(), 1);
        assert_eq!(parse(&messages[0]).subject(), Some(format!("Booking confirmed: Salsa & bachata · {}", booking["booking_code"].as_str().unwrap()).as_str()));
        assert_eq!(studio.outbox("sent").await, 1);
        assert_eq!(studio.metric("hothour_mail_total{outcome=\"retried\"}").await - retried_before, 1);
        assert_eq!(studio.metric("hothour_mail_total{outcome=\"sent\"}").await - sent_before, 1);
    }

    async fn mail_a_server_keeps_refusing_ends_as_a_dead_letter(backend) {
        let mut smtp = SmtpServer::start();
        let url = smtp.url();
        let vars = [("BACKGROUND_JOBS", "false"), ("SMTP_URL", url.as_str()), ("MAIL_MAX_ATTEMPTS", "2")];
        let world = World::with(backend, &vars).await;
        smtp.stop();
        let starts = world.app.now() + Duration::days(2);
        let body = json!({"title": "Yoga", "capacity": 5, "price": "150.00", "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1))});
        let (_, event) = world.app.post("/events", Some(&world.admin.token), body).await;
        let ada = world.app.register("ada@example.com").await;
        let (_, hold) = world.app.post(&format!("/events/{}/holds", id(&event)), Some(&ada.token), json!({"quantity": 1})).await;
        world.app.post(&format!("/reservations/{}/confirm", id(&hold)), Some(&ada.token), json!({})).await;
        hothour_api::jobs::run_once(&world.app.state).await;
        world.app.clock.advance(Duration::seconds(31));
        hothour_api::jobs::run_once(&world.app.state).await;
        let dead = world.app.sql_i64(&format!("SELECT COUNT(*) FROM mail_outbox WHERE status = 'dead' AND last_error IS NOT NULL AND {ABOUT_BOOKINGS}")).await;
        assert_eq!(dead, 1, "given up after two tries");
        world.app.clock.advance(Duration::hours(2));
        hothour_api::jobs::run_once(&world.app.state).await;
        assert_eq!(world.app.sql_i64(&format!("SELECT CAST(attempts AS BIGINT) FROM mail_outbox WHERE {ABOUT_BOOKINGS}")).await, 2, "and never tried again");
    }

    async fn a_sender_that_dies_after_claiming_leaves_its_mail_to_be_sent_again(backend) {
        let smtp = SmtpServer::start();
        let studio = Studio::open(backend, Some(&smtp)).await;
        let ada = studio.register("ada@example.com", "en").await;
        studio.run_jobs().await;
        studio.book(&ada).await;
        // A sender claims the message, then dies before sending it.
        let now = studio.app().now();
        let claimed = studio.app().store.claim_mail(now, now + Duration::minutes(10), 20).await.unwrap();
        assert_eq!(claimed.len(), 1);
        studio.run_jobs().await;
        assert!(booking_mail(&smtp).is_empty(), "its claim holds until its lease lapses");
        studio.app().clock.advance(Duration::minutes(10));
        studio.run_jobs().await;
        let messages = booking_mail(&smtp);
        assert_eq!(messages.len(), 1, "sent by the next sender");
        let message_id = format!("hothour-mail-{}@hothour.example", claimed[0].id);
        assert_eq!(parse(&messages[0]).message_id(), Some(message_id.as_str()), "the id is the row's");
        assert_eq!(studio.app().sql_i64(&format!("SELECT CAST(attempts AS BIGINT) FROM mail_outbox WHERE {ABOUT_BOOKINGS}")).await, 2);
    }

    async fn a_message_recorded_twice_is_kept_once(backend) {
        let studio = Studio::open(backend, None).await;
        let ada = studio.register("ada@example.com", "en").await;
        let booking = studio.book(&ada).await;
        let (store, clock) = (&studio.app().store, &studio.app().clock);
        let decided = store
            .locked(ReservationId(id(&booking)), LockMode::Wait, clock, |unit: &mut ReservationUnit, now| {
                let notice = Notice::booking_confirmed(&unit.reservation, now);
                unit.effects.mail(UserId(ada.user_id), notice.clone());
                unit.effects.mail(UserId(ada.user_id), notice);
                Ok(())
            })
            .await;
        assert!(decided.is_ok(), "{decided:?}");
        assert_eq!(studio.app().sql_i64(&format!("SELECT COUNT(*) FROM mail_outbox WHERE {ABOUT_BOOKINGS}")).await, 1, "one per cause, recipient and kind");
    }

    async fn without_a_server_mail_is_written_as_eml_files(backend) {
        let studio = Studio::open(backend, None).await;
        let ada = studio.register("ada@example.com", "tr").await;
        let booking = studio.book(&ada).await;
        studio.run_jobs().await;
        let files: Vec<_> = read_eml_dir(&studio.app().mail_dir.0)
            .into_iter()
            .filter(|(_, raw)| !about_bookings(vec![raw.clone()]).is_empty())
            .collect();
        let [(name, raw)] = files.as_slice() else { panic!("{} files", files.len()) };
        let message = parse(raw);
        assert_eq!(name, &format!("{}.eml", message.message_id().unwrap()));
        assert_booking_mail(&message, &booking, "Rezervasyonunuz onaylandı", "₺300,00", &istanbul_time(studio.starts_at));
        assert_eq!(studio.outbox("sent").await, 1);
    }
}
