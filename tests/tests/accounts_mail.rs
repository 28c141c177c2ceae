//! Accounts that prove their mailboxes (issue 24, SPEC §7 and §14), on both
//! stores, against a real SMTP server (aiosmtpd): the verification email
//! every new account gets, the password reset link, and studio admin
//! invitations emailed to an address. Each message is checked as it
//! arrived, in both languages; each link's token is read from it, as the
//! reader of that mailbox would, and works once, for as long as it should.
//! Time moves with the test clock.
//!
//! The service's own job loop is off (`BACKGROUND_JOBS=false`): the sender
//! runs when a test (or the harness reading a link) drives it.

use chrono::Duration;
use hothour_tests::app::{PASSWORD, Session, TestApp, session};
use hothour_tests::fixtures::{World, assert_problem, id, iso};
use hothour_tests::on_both_stores;
use hothour_tests::smtp::{SmtpServer, newest_token};
use mail_parser::{Message, MessageParser};
use reqwest::StatusCode;
use serde_json::{Value, json};

const FROM: &str = "HotHour <accounts@hothour.example>";

/// A world (a platform admin, a studio and its admin) whose mail goes to `smtp`.
async fn world(backend: hothour_tests::app::Backend, smtp: &SmtpServer, more: &[(&str, &str)]) -> World {
    let url = smtp.url();
    let mut vars = vec![
        ("BACKGROUND_JOBS", "false"),
        ("MAIL_FROM", FROM),
        ("PUBLIC_URL", "https://hothour.example/"),
        ("SMTP_URL", url.as_str()),
    ];
    vars.extend_from_slice(more);
    World::with(backend, &vars).await
}

/// Registers `email` as a browser asking for `accept_language` would.
async fn register(app: &TestApp, email: &str, accept_language: &str) -> Session {
    let response = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("Accept-Language", accept_language)
        .json(&json!({"email": email, "password": PASSWORD, "full_name": format!("Reader {email}")}))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), StatusCode::CREATED);
    session(&response.json::<Value>().await.expect("a JSON body"))
}

async fn send_mail(app: &TestApp) {
    hothour_api::jobs::run_once(&app.state).await;
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default().parse(raw).expect("a message")
}

/// The messages to `address` with a link to `path`, oldest first.
fn links_to<'a>(messages: &'a [Vec<u8>], address: &str, path: &str) -> Vec<Message<'a>> {
    let link = format!("https://hothour.example{path}?token=");
    messages
        .iter()
        .map(|raw| parse(raw))
        .filter(|m| m.to().and_then(|to| to.first()).and_then(|a| a.address()) == Some(address))
        .filter(|m| m.body_text(0).is_some_and(|text| text.contains(&link)))
        .collect()
}

/// The one message to `address` with a link to `path`, checked as every
/// account message must be: from the service, a stable id, a subject, a
/// text and an HTML part in the reader's language, each with the link.
#[track_caller]
fn the_message<'a>(messages: &'a [Vec<u8>], address: &str, path: &str, lang: &str, subject: &str) -> Message<'a> {
    let mut found = links_to(messages, address, path);
    assert_eq!(found.len(), 1, "messages to {address} with {path}");
    let message = found.remove(0);
    let from = message.from().and_then(|from| from.first()).expect("a From");
    assert_eq!((from.name(), from.address()), (Some("HotHour"), Some("accounts@hothour.example")));
    assert_eq!(message.subject(), Some(subject));
    let message_id = message.message_id().expect("a Message-ID");
    assert!(message_id.starts_with("hothour-mail-") && message_id.ends_with("@hothour.example"), "{message_id}");
    let token = newest_token(std::slice::from_ref(&message.raw_message().to_vec()), address, path).expect("a token");
    assert!(token.starts_with("mt_") && token.len() > 40, "{token}");
    let html = message.body_html(0).expect("an HTML part").replace("&#x2f;", "/");
    assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{html}");
    assert!(html.contains(&format!("https://hothour.example{path}?token={token}")), "{html}");
    assert_eq!(message.attachment_count(), 0);
    message
}

/// What the outbox still holds of emailed tokens, and what the token tables hold in clear.
async fn secrets_at_rest(app: &TestApp) -> i64 {
    app.sql_i64(
        "SELECT (SELECT COUNT(*) FROM mail_outbox WHERE CAST(payload AS TEXT) LIKE '%mt\\_%' ESCAPE '\\') \
         + (SELECT COUNT(*) FROM account_tokens WHERE token_hash LIKE 'mt%') \
         + (SELECT COUNT(*) FROM studio_invitations WHERE token_hash LIKE 'mt%')",
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.get("/me", Some(token)).await
}

on_both_stores! {
    async fn a_new_account_verifies_its_address_with_the_link_it_is_emailed(backend) {
        let smtp = SmtpServer::start();
        let World { app, studio_id: _, admin, .. } = world(backend, &smtp, &[]).await;
        let ayse = register(&app, "ayse@example.com", "tr-TR,tr;q=0.9").await;
        let ada = register(&app, "ada@example.com", "en-GB").await;
        let pending = "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'verify_email' AND status = 'pending'";
        assert_eq!(app.sql_i64(pending).await, 2, "recorded with the accounts");
        assert!(secrets_at_rest(&app).await >= 2, "each token waits in its message until it is sent");
        send_mail(&app).await;
        let messages = smtp.messages();
        let turkish = the_message(&messages, "ayse@example.com", "/verify", "tr", "HotHour için e-posta adresinizi doğrulayın");
        assert!(turkish.body_text(0).unwrap().contains("Merhaba Reader ayse@example.com") && turkish.body_text(0).unwrap().contains("3 gün"));
        let english = the_message(&messages, "ada@example.com", "/verify", "en", "Confirm your email address for HotHour");
        assert!(english.body_text(0).unwrap().contains("valid for 3 days"), "{:?}", english.body_text(0));
        assert_eq!(secrets_at_rest(&app).await, 0, "sent: the outbox keeps no token, the tables only hashes");

        let (_, body) = me(&app, &ada.token).await;
        assert_eq!(body["email_verified"], false, "{body}");
        // Unverified accounts can book all the same.
        let starts = app.now() + Duration::days(2);
        let event = json!({"title": "Yoga", "capacity": 5, "price": "150.00", "starts_at": iso(starts), "ends_at": iso(starts + Duration::hours(1))});
        let (_, event) = app.post("/events", Some(&admin.token), event).await;
        let (status, hold) = app.post(&format!("/events/{}/holds", id(&event)), Some(&ada.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");

        let token = app.emailed_token("ada@example.com", "/verify").await;
        let (status, user) = app.post("/auth/verify", None, json!({"token": token})).await;
        assert_eq!((status, user["email_verified"].as_bool(), user["id"].as_i64()), (StatusCode::OK, Some(true), Some(ada.user_id)), "{user}");
        assert_eq!(me(&app, &ada.token).await.1["email_verified"], true);
        assert_eq!(me(&app, &ayse.token).await.1["email_verified"], false, "each link verifies its own address");
        assert_problem(&app.post("/auth/verify", None, json!({"token": token})).await, StatusCode::CONFLICT, "token_used");
        assert_problem(&app.post("/auth/verify", None, json!({"token": "mt_nothing"})).await, StatusCode::UNPROCESSABLE_ENTITY, "token_invalid");
        let reset = app.emailed_token("ayse@example.com", "/verify").await;
        assert_problem(&app.post("/auth/password-reset/confirm", None, json!({"token": reset, "password": "new password!"})).await, StatusCode::UNPROCESSABLE_ENTITY, "token_invalid");
        assert_problem(&app.post("/auth/verify", None, json!({"token": token, "extra": 1})).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }

    async fn a_resent_link_is_a_new_message_and_each_expires(backend) {
        let smtp = SmtpServer::start();
        let World { app, .. } = world(backend, &smtp, &[("RATE_LIMIT_PASSWORD_PER_MINUTE", "3")]).await;
        let ada = register(&app, "ada@example.com", "en").await;
        send_mail(&app).await;
        let first = app.emailed_token("ada@example.com", "/verify").await;
        app.clock.advance(Duration::days(2));
        assert_eq!(app.post("/auth/verify/resend", Some(&ada.token), json!(null)).await.0, StatusCode::ACCEPTED);
        send_mail(&app).await;
        let messages = smtp.messages();
        let both = links_to(&messages, "ada@example.com", "/verify");
        assert_eq!(both.len(), 2, "a resend is a message of its own");
        assert_ne!(both[0].message_id(), both[1].message_id());
        let second = app.emailed_token("ada@example.com", "/verify").await;
        assert_ne!(first, second);

        app.clock.advance(Duration::days(1) + Duration::seconds(1));
        assert_problem(&app.post("/auth/verify", None, json!({"token": first})).await, StatusCode::GONE, "token_expired");
        let (status, user) = app.post("/auth/verify", None, json!({"token": second})).await;
        assert_eq!((status, user["email_verified"].as_bool()), (StatusCode::OK, Some(true)), "{user}");
        assert_problem(&app.post("/auth/verify/resend", Some(&ada.token), json!(null)).await, StatusCode::CONFLICT, "email_already_verified");
        assert_problem(&app.post("/auth/verify/resend", None, json!(null)).await, StatusCode::UNAUTHORIZED, "unauthorized");

        // Resending is throttled per user.
        let bob = register(&app, "bob@example.com", "en").await;
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(app.post("/auth/verify/resend", Some(&bob.token), json!(null)).await.0);
        }
        assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    }

    async fn a_password_reset_reveals_no_account_works_once_within_30_minutes_and_ends_every_session(backend) {
        let smtp = SmtpServer::start();
        let World { app, .. } = world(backend, &smtp, &[]).await;
        let ada = register(&app, "ada@example.com", "en").await;
        let ada_elsewhere = app.login("ada@example.com").await;
        let ayse = register(&app, "ayse@example.com", "tr").await;
        let resets = "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'password_reset'";

        let (status, body) = app.post("/auth/password-reset", None, json!({"email": "nobody@example.com"})).await;
        assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null), "the same answer for an unknown address");
        assert_eq!(app.sql_i64(resets).await, 0);
        // Longer than any address (the contract's maxLength) is bad input, not an unknown account.
        let too_long = format!("{}@example.com", "a".repeat(250));
        let answer = app.post("/auth/password-reset", None, json!({"email": too_long})).await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        for (email, status) in [(" ADA@example.com ", StatusCode::ACCEPTED), ("ayse@example.com", StatusCode::ACCEPTED)] {
            assert_eq!(app.post("/auth/password-reset", None, json!({"email": email})).await.0, status);
        }
        send_mail(&app).await;
        let messages = smtp.messages();
        let english = the_message(&messages, "ada@example.com", "/reset", "en", "Reset your HotHour password");
        assert!(english.body_text(0).unwrap().contains("valid for 30 minutes, once"), "{:?}", english.body_text(0));
        let turkish = the_message(&messages, "ayse@example.com", "/reset", "tr", "HotHour şifrenizi sıfırlayın");
        assert!(turkish.body_text(0).unwrap().contains("30 dakika"));
        assert_eq!(secrets_at_rest(&app).await, 0);

        // Thirty minutes later the link is no good.
        let late = app.emailed_token("ada@example.com", "/reset").await;
        app.clock.advance(Duration::minutes(30));
        let confirm = |token: &str, password: &str| json!({"token": token, "password": password});
        assert_problem(&app.post("/auth/password-reset/confirm", None, confirm(&late, "battery staple")).await, StatusCode::GONE, "token_expired");

        assert_eq!(app.post("/auth/password-reset", None, json!({"email": "ada@example.com"})).await.0, StatusCode::ACCEPTED);
        let token = app.emailed_token("ada@example.com", "/reset").await;
        assert_ne!(token, late);
        assert_problem(&app.post("/auth/password-reset/confirm", None, confirm(&token, "short")).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let (status, body) = app.post("/auth/password-reset/confirm", None, confirm(&token, "battery staple")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for session in [&ada, &ada_elsewhere] {
            assert_problem(&me(&app, &session.token).await, StatusCode::UNAUTHORIZED, "token_revoked");
            let refreshed = app.post("/auth/refresh", None, json!({"refresh_token": session.refresh_token})).await;
            assert_problem(&refreshed, StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        }
        assert_eq!(me(&app, &ayse.token).await.0, StatusCode::OK, "nobody else is signed out");
        assert_problem(&app.post("/auth/password-reset/confirm", None, confirm(&token, "another one")).await, StatusCode::CONFLICT, "token_used");
        let old = app.post("/auth/login", None, json!({"email": "ada@example.com", "password": PASSWORD})).await;
        assert_problem(&old, StatusCode::UNAUTHORIZED, "invalid_credentials");
        let (status, signed_in) = app.post("/auth/login", None, json!({"email": "ada@example.com", "password": "battery staple"})).await;
        assert_eq!(status, StatusCode::OK, "{signed_in}");
        assert_eq!(signed_in["user"]["email_verified"], true, "reading the reset link proved the mailbox");
    }

    async fn password_resets_are_throttled_per_address(backend) {
        let smtp = SmtpServer::start();
        let World { app, .. } = world(backend, &smtp, &[("RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE", "2")]).await;
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(app.post("/auth/password-reset", None, json!({"email": "nobody@example.com"})).await);
        }
        assert_eq!(statuses[1].0, StatusCode::ACCEPTED);
        assert_problem(&statuses[2], StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        let other = app.post("/auth/password-reset", None, json!({"email": "someone@example.com"})).await;
        assert_eq!(other.0, StatusCode::ACCEPTED, "another address has its own budget");
    }

    async fn an_invitation_makes_whoever_reads_the_invited_mailbox_the_studios_admin(backend) {
        let smtp = SmtpServer::start();
        let World { app, platform, .. } = world(backend, &smtp, &[]).await;
        let body = json!({"name": "Moda Dans", "address": "Moda Cd. 1", "timezone": "Europe/Istanbul"});
        let (_, studio) = app.post("/studios", Some(&platform.token), body).await;
        let studio_id = id(&studio);
        let path = format!("/studios/{studio_id}/admins");
        let (status, invitation) = app.post(&path, Some(&platform.token), json!({"email": " Owner@Moda.test ", "locale": "tr"})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{invitation}");
        assert_eq!((invitation["email"].as_str(), invitation["studio_id"].as_i64()), (Some("owner@moda.test"), Some(studio_id)));
        let expires = hothour_tests::fixtures::time(&invitation["expires_at"]);
        assert_eq!(expires, hothour_tests::fixtures::time(&invitation["created_at"]) + Duration::days(7));
        let (status, english) = app.post(&path, Some(&platform.token), json!({"email": "manager@moda.test", "locale": "en"})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{english}");
        send_mail(&app).await;
        let messages = smtp.messages();
        let turkish = the_message(&messages, "owner@moda.test", "/invitations/accept", "tr", "HotHour'da Moda Dans yönetimine davet edildiniz");
        assert!(turkish.body_text(0).unwrap().contains("(Europe/Istanbul)"), "the expiry on the studio's clock");
        the_message(&messages, "manager@moda.test", "/invitations/accept", "en", "You are invited to run Moda Dans on HotHour");
        assert_eq!(secrets_at_rest(&app).await, 0);

        let listed = app.get(&format!("/studios/{studio_id}/invitations"), Some(&platform.token)).await;
        assert_eq!(listed.0, StatusCode::OK, "{}", listed.1);
        let emails: Vec<_> = listed.1["items"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap().to_owned()).collect();
        assert_eq!(emails, ["owner@moda.test", "manager@moda.test"]);

        // The owner had no account: they register with the invited address, then accept.
        let owner = app.register("owner@moda.test").await;
        let token = app.emailed_token("owner@moda.test", "/invitations/accept").await;
        let (status, user) = app.post("/invitations/accept", Some(&owner.token), json!({"token": token})).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_eq!((user["role"].as_str(), user["studio_id"].as_i64(), user["email_verified"].as_bool()), (Some("studio_admin"), Some(studio_id), Some(true)));
        let (_, admins) = app.get(&format!("/studios/{studio_id}/admins"), Some(&owner.token)).await;
        assert_eq!(admins["items"][0]["id"].as_i64(), Some(owner.user_id), "{admins}");
        assert_problem(&app.post("/invitations/accept", Some(&owner.token), json!({"token": token})).await, StatusCode::CONFLICT, "token_used");
        let (_, listed) = app.get(&format!("/studios/{studio_id}/invitations"), Some(&owner.token)).await;
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(1), "the accepted one is no longer pending: {listed}");
        let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'studio.assign_admin'";
        assert_eq!(app.sql_i64(audited).await, 2, "the world's admin and the owner, each audited");
    }

    async fn invitations_are_for_their_address_only_revocable_and_last_seven_days(backend) {
        let smtp = SmtpServer::start();
        let World { app, platform, studio_id, admin } = world(backend, &smtp, &[]).await;
        let path = format!("/studios/{studio_id}/admins");
        let invite = |email: &'static str| {
            let (app, token, path) = (&app, platform.token.clone(), path.clone());
            async move {
                let (status, body) = app.post(&path, Some(&token), json!({"email": email})).await;
                assert_eq!(status, StatusCode::ACCEPTED, "{body}");
                body
            }
        };
        assert_problem(&app.post(&path, Some(&admin.token), json!({"email": "x@moda.test"})).await, StatusCode::FORBIDDEN, "forbidden");
        assert_problem(&app.post(&path, Some(&platform.token), json!({"email": "not an address"})).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

        // Someone else holding Bob's link is refused.
        invite("bob@moda.test").await;
        let bob_token = app.emailed_token("bob@moda.test", "/invitations/accept").await;
        let ada = app.register("ada@moda.test").await;
        assert_problem(&app.post("/invitations/accept", Some(&ada.token), json!({"token": bob_token})).await, StatusCode::FORBIDDEN, "invitation_for_another_address");
        assert_eq!(me(&app, &ada.token).await.1["role"], "user");

        // Revoked, it opens nothing.
        let cem = invite("cem@moda.test").await;
        let cem_token = app.emailed_token("cem@moda.test", "/invitations/accept").await;
        let revoke = format!("/studios/{studio_id}/invitations/{}", id(&cem));
        assert_problem(&app.delete(&revoke, Some(&admin.token)).await, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(app.delete(&revoke, Some(&platform.token)).await.0, StatusCode::NO_CONTENT);
        assert_problem(&app.delete(&revoke, Some(&platform.token)).await, StatusCode::NOT_FOUND, "not_found");
        let cem_user = app.register("cem@moda.test").await;
        assert_problem(&app.post("/invitations/accept", Some(&cem_user.token), json!({"token": cem_token})).await, StatusCode::UNPROCESSABLE_ENTITY, "token_invalid");

        // Inviting again replaces the pending invitation.
        invite("dan@moda.test").await;
        let first = app.emailed_token("dan@moda.test", "/invitations/accept").await;
        invite("dan@moda.test").await;
        let second = app.emailed_token("dan@moda.test", "/invitations/accept").await;
        assert_ne!(first, second);
        let dan = app.register("dan@moda.test").await;
        assert_problem(&app.post("/invitations/accept", Some(&dan.token), json!({"token": first})).await, StatusCode::UNPROCESSABLE_ENTITY, "token_invalid");

        let (_, listed) = app.get(&format!("/studios/{studio_id}/invitations"), Some(&admin.token)).await;
        let emails: Vec<_> = listed["items"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap().to_owned()).collect();
        assert_eq!(emails, ["bob@moda.test", "dan@moda.test"], "pending only");
        let (_, other) = app.studio_with_admin(&platform, "other@studio.test").await;
        assert_problem(&app.get(&format!("/studios/{studio_id}/invitations"), Some(&other.token)).await, StatusCode::NOT_FOUND, "not_found");

        // Seven days on, Bob's is no good and no longer pending.
        app.clock.advance(Duration::days(7));
        let bob = app.register("bob@moda.test").await;
        assert_problem(&app.post("/invitations/accept", Some(&bob.token), json!({"token": bob_token})).await, StatusCode::GONE, "token_expired");
        let (_, listed) = app.get(&format!("/studios/{studio_id}/invitations"), Some(&platform.token)).await;
        assert_eq!(listed["items"], json!([]), "{listed}");
    }

    async fn a_stranger_who_registered_the_owners_address_first_cannot_take_the_studio(backend) {
        let smtp = SmtpServer::start();
        let World { app, platform, .. } = world(backend, &smtp, &[]).await;
        let (_, studio) = app.post("/studios", Some(&platform.token), json!({"name": "Nine", "timezone": "Europe/Istanbul"})).await;
        let studio_id = id(&studio);
        // The stranger registers the owner's address before the owner does.
        let stranger = app.register("owner@nine.test").await;
        let stranger_refresh = stranger.refresh_token.clone();
        let (status, invitation) = app.post(&format!("/studios/{studio_id}/admins"), Some(&platform.token), json!({"email": "owner@nine.test"})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{invitation}");
        assert_eq!(me(&app, &stranger.token).await.1["role"], "user", "an invitation appoints nobody");
        // The stranger cannot read the owner's mailbox: whatever token they try opens nothing.
        for guess in ["", "mt_", "mt_owner", &"A".repeat(46)] {
            let guessed = app.post("/invitations/accept", Some(&stranger.token), json!({"token": guess})).await;
            assert_problem(&guessed, StatusCode::UNPROCESSABLE_ENTITY, "token_invalid");
        }
        // The owner cannot register (the address is taken) but proves the mailbox by resetting its password.
        let (status, _) = app.post("/auth/register", None, json!({"email": "owner@nine.test", "password": PASSWORD, "full_name": "Owner"})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(app.post("/auth/password-reset", None, json!({"email": "owner@nine.test"})).await.0, StatusCode::ACCEPTED);
        let reset = app.emailed_token("owner@nine.test", "/reset").await;
        let (status, _) = app.post("/auth/password-reset/confirm", None, json!({"token": reset, "password": "the owner's own"})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_problem(&me(&app, &stranger.token).await, StatusCode::UNAUTHORIZED, "token_revoked");
        assert_problem(&app.post("/auth/refresh", None, json!({"refresh_token": stranger_refresh})).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        assert_problem(&app.post("/auth/login", None, json!({"email": "owner@nine.test", "password": PASSWORD})).await, StatusCode::UNAUTHORIZED, "invalid_credentials");

        let (status, signed_in) = app.post("/auth/login", None, json!({"email": "owner@nine.test", "password": "the owner's own"})).await;
        assert_eq!((status, signed_in["user"]["email_verified"].as_bool()), (StatusCode::OK, Some(true)), "{signed_in}");
        let owner = session(&signed_in);
        let token = app.emailed_token("owner@nine.test", "/invitations/accept").await;
        let (status, user) = app.post("/invitations/accept", Some(&owner.token), json!({"token": token})).await;
        assert_eq!((status, user["role"].as_str(), user["studio_id"].as_i64()), (StatusCode::OK, Some("studio_admin"), Some(studio_id)), "{user}");
        assert_eq!(app.sql_i64(&format!("SELECT COUNT(*) FROM users WHERE role = 'studio_admin' AND studio_id = {studio_id}")).await, 1);
    }
}

on_both_stores! {
    async fn a_link_tried_by_many_at_once_works_once(backend) {
        let smtp = SmtpServer::start();
        let World { app, .. } = world(backend, &smtp, &[]).await;
        let ada = register(&app, "ada@example.com", "en").await;
        assert_eq!(app.post("/auth/password-reset", None, json!({"email": "ada@example.com"})).await.0, StatusCode::ACCEPTED);
        let token = app.emailed_token("ada@example.com", "/reset").await;
        let generation = format!("SELECT session_generation FROM users WHERE id = {}", ada.user_id);
        let before = app.sql_i64(&generation).await;
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let (client, url, token) = (app.client.clone(), app.url("/api/v1/auth/password-reset/confirm"), token.clone());
                tokio::spawn(async move {
                    let body = json!({"token": token, "password": format!("password number {i}")});
                    let response = client.post(url).json(&body).send().await.expect("the server answers");
                    let status = response.status();
                    (status, response.json::<Value>().await.unwrap_or(Value::Null)["code"].as_str().map(str::to_owned))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("a request"));
        }
        let done: Vec<_> = answers.iter().filter(|(status, _)| *status == StatusCode::NO_CONTENT).collect();
        assert_eq!(done.len(), 1, "{answers:?}");
        for (status, code) in &answers {
            assert!(*status == StatusCode::NO_CONTENT || code.as_deref() == Some("token_used"), "{status} {code:?}");
        }
        assert_eq!(app.sql_i64(&generation).await, before + 1, "the sessions ended once");
        let used = "SELECT COUNT(*) FROM account_tokens WHERE purpose = 'password_reset' AND used_at IS NOT NULL";
        assert_eq!(app.sql_i64(used).await, 1);
    }
}
