//! Accounts, tokens, roles, tenancy, error answers and rate limits, over real HTTP
//! (SPEC §1, §7, §8).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use hothour_api::auth::TokenKeys;
use hothour_domain::UserId;
use hothour_tests::app::{PASSWORD, Session, TestApp, session};
use hothour_tests::on_both_stores;
use hothour_tests::ws::WsClient;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A JWT secret the tests know, so they can forge tokens the app would accept.
const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

// --- helpers ------------------------------------------------------------------

/// An answer with its headers, for checks `TestApp::call` cannot make.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

fn api(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client.request(method, app.url(&format!("/api/v1{path}")))
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    Reply { status, headers, body }
}

/// Asserts an RFC 9457 problem with `status` and `code`, served as problem+json.
fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{reply:?}");
    let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("application/problem+json"), "content-type {content_type:?}: {reply:?}");
    assert_problem_body(reply.status, &reply.body, status, code);
}

/// Asserts the status and the problem body of a `TestApp::call` answer.
fn assert_problem_body(actual: StatusCode, body: &Value, status: u16, code: &str) {
    assert_eq!(actual.as_u16(), status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(), "{body}");
}

/// The fields a `validation_failed` problem names.
fn error_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> =
        body["errors"].as_object().map(|errors| errors.keys().cloned().collect()).unwrap_or_default();
    fields.sort();
    fields
}

fn assert_validation(actual: StatusCode, body: &Value, fields: &[&str]) {
    assert_problem_body(actual, body, 422, "validation_failed");
    let named = error_fields(body);
    for field in fields {
        assert!(named.iter().any(|n| n == field), "{field} not named in {body}");
        assert!(body["errors"][field].as_array().is_some_and(|m| !m.is_empty()), "{body}");
    }
}

async fn login_with(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.post("/auth/login", None, json!({"email": email, "password": password})).await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    app.post("/auth/refresh", None, json!({"refresh_token": refresh_token})).await
}

async fn assert_refresh_refused(app: &TestApp, refresh_token: &str) {
    let (status, body) = refresh(app, refresh_token).await;
    assert_problem_body(status, &body, 401, "invalid_refresh_token");
}

fn event_json(app: &TestApp, title: &str) -> Value {
    let starts = app.now() + Duration::days(2);
    json!({
        "title": title, "description": "An evening class", "capacity": 10, "price": "150.00",
        "starts_at": starts, "ends_at": starts + Duration::hours(1), "is_active": true,
    })
}

fn auction_json(app: &TestApp, title: &str) -> Value {
    let starts = app.now() + Duration::hours(1);
    json!({
        "title": title, "description": "An empty slot", "start_price": "500.00", "floor_price": "100.00",
        "drop_amount": "50.00", "drop_interval_minutes": 30, "starts_at": starts,
        "ends_at": starts + Duration::hours(4), "scheduled_at": starts + Duration::hours(5),
        "turbo": {"trigger_before_minutes": 60, "drop_amount": "20.00", "interval_minutes": 10},
    })
}

async fn create_event(app: &TestApp, admin: &Session, title: &str) -> i64 {
    let (status, body) = app.post("/events", Some(&admin.token), event_json(app, title)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().expect("event id")
}

async fn create_auction(app: &TestApp, admin: &Session, title: &str) -> i64 {
    let (status, body) = app.post("/auctions", Some(&admin.token), auction_json(app, title)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().expect("auction id")
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.get("/me", Some(token)).await
}

fn create_admin_config(app: &TestApp) -> hothour_api::Config {
    let url = app.db_url.clone();
    hothour_api::Config::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "BCRYPT_COST" => Some("4".into()),
        _ => None,
    })
    .expect("configuration")
}

// --- a minimal HS256 signer, so the tests can forge JWTs ------------------------
// The tests crate does not depend on a JWT or SHA-2 library; this is checked
// against a token the app's own signer produced before it is trusted.

fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut state: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (word, bytes) in w.iter_mut().zip(block.chunks(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        for (k, word) in K.iter().zip(w.iter()) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let choice = (e & f) ^ (!e & g);
            let t1 = h.wrapping_add(s1).wrapping_add(choice).wrapping_add(*k).wrapping_add(*word);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let majority = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(majority);
            (h, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(message);
    let mut outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha256(&inner));
    sha256(&outer)
}

/// An HS256 JWT with `claims`, signed with `secret`.
fn sign_jwt(secret: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(secret.as_bytes(), signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

// --- 1. registration -----------------------------------------------------------

on_both_stores! {
    async fn register_answers_201_with_tokens_and_the_user(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (status, body) = app
            .post(
                "/auth/register",
                None,
                json!({"email": "  Ada@Example.COM ", "password": PASSWORD, "full_name": " Ada Lovelace ", "phone": "+90 555 123 4567"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{body}");
        assert!(body["refresh_token"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
        assert_ne!(body["access_token"], body["refresh_token"]);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 900, "the default access-token lifetime");
        let user = &body["user"];
        assert!(user["id"].as_i64().is_some_and(|id| id > 0), "{body}");
        assert_eq!(user["email"], "ada@example.com", "emails are trimmed and lower-cased");
        assert_eq!(user["full_name"], "Ada Lovelace");
        assert_eq!(user["phone"], "+90 555 123 4567");
        assert_eq!(user["role"], "user");
        assert!(user.as_object().unwrap().contains_key("studio_id") && user["studio_id"].is_null(), "{body}");

        // The tokens work straight away, and without a phone the field is null.
        let (status, me_body) = me(&app, body["access_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{me_body}");
        assert_eq!(me_body, *user);
        let (status, refreshed) = refresh(&app, body["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        let (status, plain) = app
            .post("/auth/register", None, json!({"email": "bob@example.com", "password": PASSWORD, "full_name": "Bob"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{plain}");
        assert!(plain["user"]["phone"].is_null(), "{plain}");
    }

    async fn register_refuses_an_email_taken_in_any_letter_case(backend) {
        let app = TestApp::spawn_on(backend).await;
        app.register("ada@example.com").await;
        for email in ["ada@example.com", "ADA@Example.Com", " Ada@example.com "] {
            let (status, body) = app
                .post("/auth/register", None, json!({"email": email, "password": PASSWORD, "full_name": "Ada Again"}))
                .await;
            assert_problem_body(status, &body, 409, "email_taken");
        }
    }

    async fn concurrent_registrations_of_one_email_create_exactly_one_account(backend) {
        let app = TestApp::spawn_on(backend).await;
        let mut attempts = tokio::task::JoinSet::new();
        for i in 0..6 {
            let email = if i % 2 == 0 { "Race@Example.com" } else { "race@example.com" };
            let request = api(&app, Method::POST, "/auth/register")
                .json(&json!({"email": email, "password": PASSWORD, "full_name": "Racer"}));
            attempts.spawn(async move { send(request).await });
        }
        let answers: Vec<(StatusCode, Value)> =
            attempts.join_all().await.into_iter().map(|reply| (reply.status, reply.body)).collect();
        let created = answers.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
        assert_eq!(created, 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(status, _)| *status != StatusCode::CREATED) {
            assert_problem_body(*status, body, 409, "email_taken");
        }
        let stored = app.sql_i64("SELECT COUNT(*) FROM users WHERE lower(email) = 'race@example.com'").await;
        assert_eq!(stored, 1, "one account in the database");
    }

    async fn register_names_each_invalid_field(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (status, body) = app
            .post("/auth/register", None, json!({"email": "not-an-email", "password": "short", "full_name": "   "}))
            .await;
        assert_validation(status, &body, &["email", "password", "full_name"]);
        assert_eq!(error_fields(&body).len(), 3, "{body}");

        let (status, body) = app
            .post(
                "/auth/register",
                None,
                json!({"email": "ok@example.com", "password": "1234567", "full_name": "Seven Chars"}),
            )
            .await;
        assert_validation(status, &body, &["password"]);
        assert_eq!(error_fields(&body), vec!["password"], "{body}");

        let (status, body) = app
            .post(
                "/auth/register",
                None,
                json!({"email": "ok@example.com", "password": PASSWORD, "full_name": "Ok", "phone": "call me"}),
            )
            .await;
        assert_validation(status, &body, &["phone"]);

        // Nothing was created by the refused attempts.
        let (status, body) = login_with(&app, "ok@example.com", PASSWORD).await;
        assert_problem_body(status, &body, 401, "invalid_credentials");
    }
}

// --- 2. login ------------------------------------------------------------------

on_both_stores! {
    async fn login_succeeds_and_wrong_password_or_unknown_email_are_the_same_401(backend) {
        let app = TestApp::spawn_on(backend).await;
        let registered = app.register("ada@example.com").await;

        let (status, body) = login_with(&app, "ADA@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["user"]["id"], registered.user_id);
        assert_eq!(body["user"]["email"], "ada@example.com");
        let signed_in = session(&body);
        assert_ne!(signed_in.refresh_token, registered.refresh_token, "each login starts a new refresh token");
        let (status, me_body) = me(&app, &signed_in.token).await;
        assert_eq!((status, me_body["id"].as_i64()), (StatusCode::OK, Some(registered.user_id)));

        let (status, wrong_password) = login_with(&app, "ada@example.com", "not the password").await;
        assert_problem_body(status, &wrong_password, 401, "invalid_credentials");
        let (status, unknown) = login_with(&app, "nobody@example.com", PASSWORD).await;
        assert_problem_body(status, &unknown, 401, "invalid_credentials");
        assert_eq!(wrong_password, unknown, "the answers must not tell which accounts exist");
    }
}

// --- 3. refresh rotation -------------------------------------------------------

on_both_stores! {
    async fn refresh_rotates_and_reusing_a_revoked_token_revokes_the_family(backend) {
        let app = TestApp::spawn_on(backend).await;
        let first = app.register("ada@example.com").await;
        let other_device = app.login("ada@example.com").await;

        let (status, body) = refresh(&app, &first.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["user"]["id"], first.user_id);
        let second = session(&body);
        assert_ne!(second.refresh_token, first.refresh_token);
        let (status, _) = me(&app, &second.token).await;
        assert_eq!(status, StatusCode::OK, "the new access token works");

        // The new refresh token works once more (rotating again).
        let (status, body) = refresh(&app, &second.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let third = session(&body);

        // The first (rotated away) token is refused, and presenting it ends the family.
        assert_refresh_refused(&app, &first.refresh_token).await;
        assert_refresh_refused(&app, &third.refresh_token).await;
        assert_refresh_refused(&app, &second.refresh_token).await;

        // Another sign-in is another family, untouched.
        let (status, body) = refresh(&app, &other_device.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Garbage and an access token are not refresh tokens.
        assert_refresh_refused(&app, "rt_not-a-real-token").await;
        assert_refresh_refused(&app, &first.token).await;
    }
}

// --- 4. logout -----------------------------------------------------------------

on_both_stores! {
    async fn logout_revokes_that_refresh_token_only(backend) {
        let app = TestApp::spawn_on(backend).await;
        let phone = app.register("ada@example.com").await;
        let laptop = app.login("ada@example.com").await;
        let mallory = app.register("mallory@example.com").await;

        // Someone else cannot sign Ada out.
        let (status, body) =
            app.post("/auth/logout", Some(&mallory.token), json!({"refresh_token": laptop.refresh_token})).await;
        assert!(status.is_success() || status.is_client_error(), "{status} {body}");

        let (status, body) =
            app.post("/auth/logout", Some(&phone.token), json!({"refresh_token": phone.refresh_token})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(body, Value::Null);
        assert_refresh_refused(&app, &phone.refresh_token).await;

        let (status, body) = refresh(&app, &laptop.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "the laptop stays signed in: {body}");

        let (status, body) = app.post("/auth/logout", None, json!({"refresh_token": phone.refresh_token})).await;
        assert_problem_body(status, &body, 401, "unauthorized");
    }

    async fn logout_all_revokes_every_refresh_token_of_the_user(backend) {
        let app = TestApp::spawn_on(backend).await;
        let registered = app.register("ada@example.com").await;
        let phone = app.login("ada@example.com").await;
        let laptop = app.login("ada@example.com").await;
        let bob = app.register("bob@example.com").await;

        let (status, body) = app.call(Method::POST, "/auth/logout-all", Some(&phone.token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(body, Value::Null);
        for token in [&registered.refresh_token, &phone.refresh_token, &laptop.refresh_token] {
            assert_refresh_refused(&app, token).await;
        }
        let (status, body) = refresh(&app, &bob.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "other users stay signed in: {body}");

        // Signing in again works, with a fresh refresh token.
        let again = app.login("ada@example.com").await;
        let (status, body) = refresh(&app, &again.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let (status, body) = app.call(Method::POST, "/auth/logout-all", None, None).await;
        assert_problem_body(status, &body, 401, "unauthorized");
    }
}

// --- signed out means signed out: access tokens from before a revocation --------

/// Every route a signed-in user uses, with `token`: the answers in order.
async fn every_signed_in_route(app: &TestApp, token: &str, event_id: i64, reservation_id: i64) -> Vec<(String, Reply)> {
    let requests = [
        (Method::GET, "/me".to_owned(), None),
        (Method::PATCH, "/me".to_owned(), Some(json!({"full_name": "Someone Else"}))),
        (Method::GET, "/reservations".to_owned(), None),
        (Method::GET, format!("/reservations/{reservation_id}"), None),
        (Method::POST, format!("/reservations/{reservation_id}/confirm"), None),
        (Method::POST, format!("/reservations/{reservation_id}/cancel"), None),
        (Method::POST, format!("/events/{event_id}/holds"), Some(json!({"quantity": 1}))),
        (Method::POST, "/auth/logout-all".to_owned(), None),
    ];
    let mut answers = Vec::new();
    for (method, path, body) in requests {
        let mut request = api(app, method.clone(), &path).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answers.push((format!("{method} {path}"), send(request).await));
    }
    answers
}

on_both_stores! {
    async fn access_tokens_issued_before_a_sign_out_everywhere_are_refused_on_every_route(backend) {
        let world = hothour_tests::fixtures::World::new(backend).await;
        let app = &world.app;
        let event_id = create_event(app, &world.admin, "Salsa night").await;
        let ada = app.register("ada@example.com").await;
        let phone = app.login("ada@example.com").await;
        let (status, hold) = app.post(&format!("/events/{event_id}/holds"), Some(&phone.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        let reservation_id = hold["id"].as_i64().expect("reservation id");
        // The old token is known to this instance (its role is remembered) before the revocation.
        assert_eq!(me(app, &ada.token).await.0, StatusCode::OK);

        let (status, body) = app.call(Method::POST, "/auth/logout-all", Some(&phone.token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        for token in [&ada.token, &phone.token] {
            for (request, reply) in every_signed_in_route(app, token, event_id, reservation_id).await {
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{request}: {reply:?}");
                assert_eq!(reply.body["code"], "token_revoked", "{request}: {reply:?}");
            }
        }
        let (_, hold) = app.get(&format!("/reservations/{reservation_id}"), Some(&app.login("ada@example.com").await.token)).await;
        assert_eq!(hold["status"], "HOLD", "nothing the old tokens sent was done: {hold}");

        // A sign-in after the revocation works on every route.
        let again = app.login("ada@example.com").await;
        assert_eq!(me(app, &again.token).await.0, StatusCode::OK);
        let (status, body) = refresh(app, &again.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(me(app, body["access_token"].as_str().unwrap()).await.0, StatusCode::OK);
    }

    async fn a_password_change_refuses_every_access_token_issued_before_it(backend) {
        let app = TestApp::spawn_on(backend).await;
        let ada = app.register("ada@example.com").await;
        let laptop = app.login("ada@example.com").await;
        assert_eq!(me(&app, &laptop.token).await.0, StatusCode::OK);
        let change = json!({"current_password": PASSWORD, "new_password": "a brand new password"});
        let (status, body) = app.post("/me/password", Some(&ada.token), change).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for token in [&ada.token, &laptop.token] {
            assert_problem_body(me(&app, token).await.0, &me(&app, token).await.1, 401, "token_revoked");
            let (status, body) = app.patch("/me", Some(token), json!({"full_name": "Mallory"})).await;
            assert_problem_body(status, &body, 401, "token_revoked");
        }
        let (status, body) = login_with(&app, "ada@example.com", "a brand new password").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(me(&app, body["access_token"].as_str().unwrap()).await.0, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_everywhere_on_one_instance_is_honoured_by_every_instance() {
    let a = TestApp::spawn_on(hothour_tests::app::Backend::Postgres).await;
    let b = a.another_instance().await;
    let ada = a.register("ada@example.com").await;
    // Instance B remembers the caller before the revocation.
    assert_eq!(me(&b, &ada.token).await.0, StatusCode::OK);
    let fresh = a.login("ada@example.com").await;
    let (status, body) = a.call(Method::POST, "/auth/logout-all", Some(&fresh.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // B hears the revocation through the outbox: wait for it (bounded), not for time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, body) = me(&b, &ada.token).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(body["code"], "token_revoked", "{body}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "instance B still honours a revoked token: {status} {body}");
        tokio::task::yield_now().await;
    }
    assert_problem_body(me(&a, &ada.token).await.0, &me(&a, &ada.token).await.1, 401, "token_revoked");
}

// --- 5. one's own profile --------------------------------------------------------

on_both_stores! {
    async fn me_shows_and_patch_me_changes_the_profile(backend) {
        let app = TestApp::spawn_on(backend).await;
        let ada = app.register("ada@example.com").await;

        let (status, body) = me(&app, &ada.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({"id": ada.user_id, "email": "ada@example.com", "full_name": "Test Person", "phone": null,
                   "role": "user", "studio_id": null, "locale": "en", "email_verified": false})
        );

        let (status, body) =
            app.patch("/me", Some(&ada.token), json!({"full_name": "Ada Lovelace", "phone": "+90 555 123 4567"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["full_name"].as_str(), body["phone"].as_str()), (Some("Ada Lovelace"), Some("+90 555 123 4567")));
        let (_, body) = me(&app, &ada.token).await;
        assert_eq!((body["full_name"].as_str(), body["phone"].as_str()), (Some("Ada Lovelace"), Some("+90 555 123 4567")));

        // A field left out stays; null clears the phone.
        let (status, body) = app.patch("/me", Some(&ada.token), json!({"phone": null})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["full_name"], "Ada Lovelace");
        assert!(body["phone"].is_null(), "{body}");
        let (_, body) = me(&app, &ada.token).await;
        assert!(body["phone"].is_null(), "{body}");
        assert_eq!(body["email"], "ada@example.com");

        // Unknown and invalid fields are named; nothing changes.
        let (status, body) = app.patch("/me", Some(&ada.token), json!({"full_name": "Ada", "nickname": "ada"})).await;
        assert_validation(status, &body, &["nickname"]);
        let (status, body) = app.patch("/me", Some(&ada.token), json!({"full_name": "  "})).await;
        assert_validation(status, &body, &["full_name"]);
        let (status, body) = app.patch("/me", Some(&ada.token), json!({"phone": "not a phone"})).await;
        assert_validation(status, &body, &["phone"]);
        let (status, body) = app.patch("/me", Some(&ada.token), json!({"role": "platform_admin"})).await;
        assert_validation(status, &body, &["role"]);
        let (_, body) = me(&app, &ada.token).await;
        assert_eq!((body["full_name"].as_str(), body["role"].as_str()), (Some("Ada Lovelace"), Some("user")));

        let (status, body) = app.get("/me", None).await;
        assert_problem_body(status, &body, 401, "unauthorized");
    }

    async fn changing_the_password_checks_the_current_one_and_revokes_refresh_tokens(backend) {
        let app = TestApp::spawn_on(backend).await;
        let ada = app.register("ada@example.com").await;
        let laptop = app.login("ada@example.com").await;
        let new_password = "a brand new passphrase";

        let (status, body) = app
            .post(
                "/me/password",
                Some(&ada.token),
                json!({"current_password": "wrong guess", "new_password": new_password}),
            )
            .await;
        assert_problem_body(status, &body, 401, "invalid_credentials");

        let (status, body) = app
            .post("/me/password", Some(&ada.token), json!({"current_password": PASSWORD, "new_password": "short"}))
            .await;
        assert_validation(status, &body, &["new_password"]);

        // Neither attempt changed anything.
        let (status, _) = login_with(&app, "ada@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = refresh(&app, &laptop.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let laptop = session(&body);

        let (status, body) = app
            .post("/me/password", Some(&ada.token), json!({"current_password": PASSWORD, "new_password": new_password}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(body, Value::Null);

        let (status, body) = login_with(&app, "ada@example.com", PASSWORD).await;
        assert_problem_body(status, &body, 401, "invalid_credentials");
        let (status, body) = login_with(&app, "ada@example.com", new_password).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let fresh = session(&body);
        assert_refresh_refused(&app, &ada.refresh_token).await;
        assert_refresh_refused(&app, &laptop.refresh_token).await;
        let (status, body) = refresh(&app, &fresh.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "a sign-in after the change works: {body}");
    }
}

// --- 6. access-token attacks ----------------------------------------------------

on_both_stores! {
    async fn forged_tampered_expired_and_misused_tokens_are_401(backend) {
        let app = TestApp::spawn_on_with(backend, &[("JWT_SECRET", SECRET)]).await;
        let ada = app.register("ada@example.com").await;
        let bob = app.register("bob@example.com").await;
        let far_future = app.now().timestamp() + 365 * 86_400;
        let refused = |reply: Reply| assert_problem(&reply, 401, "unauthorized");

        // The real token works; this is what each attack below starts from.
        let reply = send(api(&app, Method::GET, "/me").bearer_auth(&ada.token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");

        refused(send(api(&app, Method::GET, "/me")).await);
        refused(send(api(&app, Method::GET, "/me").header("authorization", format!("Basic {}", ada.token))).await);
        refused(send(api(&app, Method::GET, "/me").bearer_auth("")).await);
        refused(send(api(&app, Method::GET, "/me").bearer_auth("not.a.jwt")).await);

        // alg: none, with an empty signature.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = json!({"sub": ada.user_id.to_string(), "exp": far_future, "iat": 0, "typ": "access"});
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        refused(send(api(&app, Method::GET, "/me").bearer_auth(format!("{header}.{payload}."))).await);
        // ... and with the header claiming HS256 but no signature.
        let hs_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        refused(send(api(&app, Method::GET, "/me").bearer_auth(format!("{hs_header}.{payload}."))).await);

        // A tampered signature.
        let parts: Vec<&str> = ada.token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let mut signature = parts[2].to_owned();
        let first = signature.remove(0);
        signature.insert(0, if first == 'A' { 'B' } else { 'A' });
        refused(send(api(&app, Method::GET, "/me").bearer_auth(format!("{}.{}.{signature}", parts[0], parts[1]))).await);

        // A payload changed to name Bob, keeping Ada's signature.
        let mut ada_claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(ada_claims["sub"], ada.user_id.to_string(), "{ada_claims}");
        ada_claims["sub"] = json!(bob.user_id.to_string());
        let swapped = URL_SAFE_NO_PAD.encode(ada_claims.to_string());
        refused(send(api(&app, Method::GET, "/me").bearer_auth(format!("{}.{swapped}.{}", parts[0], parts[2]))).await);

        // A token signed with another secret (by the app's own signer).
        let ttl = std::time::Duration::from_secs(600);
        let foreign = TokenKeys::new("another-secret-that-is-also-long-enough", ttl, ttl);
        refused(send(api(&app, Method::GET, "/me").bearer_auth(foreign.access_token(UserId(ada.user_id), 0).unwrap())).await);
        let same = TokenKeys::new(SECRET, ttl, ttl).access_token(UserId(ada.user_id), 0).unwrap();
        let reply = send(api(&app, Method::GET, "/me").bearer_auth(&same)).await;
        assert_eq!(reply.status, StatusCode::OK, "the control: the right secret is accepted: {reply:?}");

        // The local signer reproduces the app's signature exactly, so what it forges is trustworthy.
        let (signing_input, app_signature) = same.rsplit_once('.').unwrap();
        let ours = URL_SAFE_NO_PAD.encode(hmac_sha256(SECRET.as_bytes(), signing_input.as_bytes()));
        assert_eq!(ours, app_signature, "the test's HS256 signer agrees with the app's");
        let valid =
            sign_jwt(SECRET, &json!({"sub": ada.user_id.to_string(), "exp": far_future, "iat": 0, "typ": "access"}));
        let reply = send(api(&app, Method::GET, "/me").bearer_auth(&valid)).await;
        assert_eq!(reply.status, StatusCode::OK, "a correctly forged token is accepted: {reply:?}");
        assert_eq!(reply.body["id"], ada.user_id);

        // Correctly signed, but expired (a minute ago, by the wall clock the tokens use).
        let past = chrono::Utc::now().timestamp() - 60;
        let expired =
            sign_jwt(SECRET, &json!({"sub": ada.user_id.to_string(), "exp": past, "iat": past - 900, "typ": "access"}));
        refused(send(api(&app, Method::GET, "/me").bearer_auth(&expired)).await);
        // Correctly signed, but not an access token, or without an expiry, or for nobody.
        let not_access =
            sign_jwt(SECRET, &json!({"sub": ada.user_id.to_string(), "exp": far_future, "iat": 0, "typ": "refresh"}));
        refused(send(api(&app, Method::GET, "/me").bearer_auth(&not_access)).await);
        let no_exp = sign_jwt(SECRET, &json!({"sub": ada.user_id.to_string(), "iat": 0, "typ": "access"}));
        refused(send(api(&app, Method::GET, "/me").bearer_auth(&no_exp)).await);
        let nobody = sign_jwt(SECRET, &json!({"sub": "987654321", "exp": far_future, "iat": 0, "typ": "access"}));
        refused(send(api(&app, Method::GET, "/me").bearer_auth(&nobody)).await);

        // A refresh token is not an access token.
        refused(send(api(&app, Method::GET, "/me").bearer_auth(&ada.refresh_token)).await);
        refused(send(api(&app, Method::POST, "/auth/logout-all").bearer_auth(&ada.refresh_token)).await);
        // None of that signed Ada out.
        let (status, _) = refresh(&app, &ada.refresh_token).await;
        assert_eq!(status, StatusCode::OK);
    }
}

// --- 7. roles and tenancy ---------------------------------------------------------

on_both_stores! {
    async fn create_admin_creates_a_platform_admin_and_promotes_an_existing_user(backend) {
        let app = TestApp::spawn_on(backend).await;
        let config = create_admin_config(&app);

        let (user, created) =
            hothour_api::commands::create_admin(&app.store, &config, "Root@HotHour.test", "Root", Some(PASSWORD.into()))
                .await
                .expect("create-admin");
        assert!(created);
        assert_eq!(user.email, "root@hothour.test");
        let root = app.login("root@hothour.test").await;
        let (status, body) = me(&app, &root.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["role"].as_str(), body["full_name"].as_str()), (Some("platform_admin"), Some("Root")));
        let (status, body) = app.post("/studios", Some(&root.token), json!({"name": "Moda Dans"})).await;
        assert_eq!(status, StatusCode::CREATED, "a platform admin creates studios: {body}");

        // Run again for a registered user: they are promoted, their password kept.
        let ada = app.register("ada@example.com").await;
        let (status, body) = app.post("/studios", Some(&ada.token), json!({"name": "Not Yet"})).await;
        assert_problem_body(status, &body, 403, "forbidden");
        // The command writes to the store, not through the service, so the
        // service hears of the role change as every instance does: announced
        // (Ada's socket shows when it has been).
        let mut ws = WsClient::connect(&app).await;
        ws.authenticated(&ada).await;
        let (user, created) = hothour_api::commands::create_admin(&app.store, &config, "ADA@example.com", "Ignored", None)
            .await
            .expect("promote");
        assert!(!created);
        assert_eq!(user.id.0, ada.user_id);
        let frame = ws.next_json().await;
        assert_eq!((frame["type"].as_str(), frame["reason"].as_str()), (Some("session_ended"), Some("role_changed")));
        let (status, body) = me(&app, &ada.token).await;
        assert_eq!((status, body["role"].as_str()), (StatusCode::OK, Some("platform_admin")), "{body}");
        assert_eq!(body["full_name"], "Test Person");
        let (status, body) = app.post("/studios", Some(&ada.token), json!({"name": "Now Allowed"})).await;
        assert_eq!(status, StatusCode::CREATED, "the promotion takes effect with the same token: {body}");
        let (status, _) = login_with(&app, "ada@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::OK);

        // A new account needs a password.
        let result = hothour_api::commands::create_admin(&app.store, &config, "new@example.com", "New", None).await;
        assert!(result.is_err());
    }

    async fn platform_admins_create_studios_and_assign_their_admins(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        let ada = app.register("ada@example.com").await;

        let (status, studio) = app
            .post(
                "/studios",
                Some(&platform.token),
                json!({"name": "Moda Dans", "address": "Moda Cd. 1", "timezone": "Europe/Istanbul",
                       "maps_url": "https://maps.example/moda"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{studio}");
        let studio_id = studio["id"].as_i64().unwrap();
        assert_eq!(
            studio,
            json!({"id": studio_id, "name": "Moda Dans", "address": "Moda Cd. 1", "timezone": "Europe/Istanbul",
                   "maps_url": "https://maps.example/moda"})
        );
        let (status, body) = app.post("/studios", Some(&ada.token), json!({"name": "Mine"})).await;
        assert_problem_body(status, &body, 403, "forbidden");
        let (status, body) = app.post("/studios", None, json!({"name": "Anon"})).await;
        assert_problem_body(status, &body, 401, "unauthorized");

        // Only platform admins assign.
        let (status, body) =
            app.post(&format!("/studios/{studio_id}/admins"), Some(&ada.token), json!({"email": "ada@example.com"})).await;
        assert_problem_body(status, &body, 403, "forbidden");

        // Ada's token, issued while she was a plain user, shows the new role on the next request.
        let body = app.appoint(&platform, studio_id, &ada, "ADA@example.com").await;
        assert_eq!((body["id"].as_i64(), body["role"].as_str()), (Some(ada.user_id), Some("studio_admin")));
        assert_eq!(body["studio_id"], studio_id);
        let (status, body) = me(&app, &ada.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["role"].as_str(), body["studio_id"].as_i64()), (Some("studio_admin"), Some(studio_id)));
        let (status, body) = app.patch(&format!("/studios/{studio_id}"), Some(&ada.token), json!({"name": "Moda"})).await;
        assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("Moda")), "{body}");
        // Studio admins do not create studios.
        let (status, body) = app.post("/studios", Some(&ada.token), json!({"name": "Second"})).await;
        assert_problem_body(status, &body, 403, "forbidden");

        // One studio per admin: accepting another studio's invitation is refused; unknown studios are 404.
        let (status, other) = app.post("/studios", Some(&platform.token), json!({"name": "Kadıköy Fit"})).await;
        assert_eq!(status, StatusCode::CREATED, "{other}");
        let other_id = other["id"].as_i64().unwrap();
        let (status, body) = app
            .post(&format!("/studios/{other_id}/admins"), Some(&platform.token), json!({"email": "ada@example.com"}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let token = app.emailed_token("ada@example.com", "/invitations/accept").await;
        let (status, body) = app.post("/invitations/accept", Some(&ada.token), json!({"token": token})).await;
        assert_problem_body(status, &body, 409, "already_administers_a_studio");
        let (_, body) = me(&app, &ada.token).await;
        assert_eq!(body["studio_id"], studio_id, "the refused assignment changed nothing");
        let (status, body) =
            app.post("/studios/987654321/admins", Some(&platform.token), json!({"email": "ada@example.com"})).await;
        assert_problem_body(status, &body, 404, "not_found");
    }

    async fn a_studio_admin_gets_404_on_another_studios_things(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        let (studio_a, admin_a) = app.studio_with_admin(&platform, "a@studio.test").await;
        let (studio_b, admin_b) = app.studio_with_admin(&platform, "b@studio.test").await;
        let event_b = create_event(&app, &admin_b, "B's class").await;
        let auction_b = create_auction(&app, &admin_b, "B's slot").await;
        let a = Some(admin_a.token.as_str());

        let (status, body) = app.patch(&format!("/studios/{studio_b}"), a, json!({"name": "Taken over"})).await;
        assert_problem_body(status, &body, 404, "not_found");
        let (status, body) = app.get(&format!("/studios/{studio_b}/reservations"), a).await;
        assert_problem_body(status, &body, 404, "not_found");
        let (status, body) = app.patch(&format!("/events/{event_b}"), a, json!({"title": "Mine now"})).await;
        assert_problem_body(status, &body, 404, "not_found");
        let (status, body) = app.delete(&format!("/events/{event_b}"), a).await;
        assert_problem_body(status, &body, 404, "not_found");
        let (status, body) = app.patch(&format!("/auctions/{auction_b}"), a, json!({"title": "Mine now"})).await;
        assert_problem_body(status, &body, 404, "not_found");
        let (status, body) = app.call(Method::POST, &format!("/auctions/{auction_b}/cancel"), a, None).await;
        assert_problem_body(status, &body, 404, "not_found");
        let (status, body) = app.call(Method::POST, &format!("/auctions/{auction_b}/turbo"), a, None).await;
        assert_problem_body(status, &body, 404, "not_found");
        // Nor can A create things in B's studio.
        let mut event = event_json(&app, "Sneaky");
        event["studio_id"] = json!(studio_b);
        let (status, body) = app.post("/events", a, event).await;
        assert_problem_body(status, &body, 404, "not_found");

        // Nothing of B's changed.
        let (_, studio) = app.get(&format!("/studios/{studio_b}"), None).await;
        assert_eq!(studio["name"], "Studio of b@studio.test");
        let (status, event) = app.get(&format!("/events/{event_b}"), None).await;
        assert_eq!((status, event["title"].as_str()), (StatusCode::OK, Some("B's class")), "{event}");
        let (_, auction) = app.get(&format!("/auctions/{auction_b}"), None).await;
        assert_eq!((auction["title"].as_str(), auction["status"].as_str()), (Some("B's slot"), Some("DRAFT")));
        assert_eq!(auction["turbo_started_at"], Value::Null);

        // A's own studio is A's to manage.
        let (status, body) = app.get(&format!("/studios/{studio_a}/reservations"), a).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // The same requests from B's admin succeed, so the 404s above were tenancy.
        let b = Some(admin_b.token.as_str());
        let (status, body) = app.patch(&format!("/studios/{studio_b}"), b, json!({"name": "B Renamed"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.get(&format!("/studios/{studio_b}/reservations"), b).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.patch(&format!("/events/{event_b}"), b, json!({"title": "B's new class"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.patch(&format!("/auctions/{auction_b}"), b, json!({"title": "B's new slot"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.call(Method::POST, &format!("/auctions/{auction_b}/cancel"), b, None).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("CANCELLED")), "{body}");
        let (status, body) = app.delete(&format!("/events/{event_b}"), b).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    async fn studio_admins_cannot_hold_seats_or_grab(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        let (_, admin) = app.studio_with_admin(&platform, "admin@studio.test").await;
        let event = create_event(&app, &admin, "Class").await;
        let auction = create_auction(&app, &admin, "Slot").await;
        app.clock.advance(Duration::hours(2)); // the auction is running now

        let (status, body) = app.post(&format!("/events/{event}/holds"), Some(&admin.token), json!({"quantity": 1})).await;
        assert_problem_body(status, &body, 403, "booking_not_allowed");
        let (status, body) = app.call(Method::POST, &format!("/auctions/{auction}/grab"), Some(&admin.token), None).await;
        assert_problem_body(status, &body, 403, "booking_not_allowed");

        // Nothing was reserved, and a user can do both.
        let (_, event_body) = app.get(&format!("/events/{event}"), None).await;
        assert_eq!(event_body["available"], 10, "{event_body}");
        let user = app.register("user@example.com").await;
        let (status, body) = app.post(&format!("/events/{event}/holds"), Some(&user.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app.call(Method::POST, &format!("/auctions/{auction}/grab"), Some(&user.token), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    async fn the_audit_log_is_scoped_to_the_callers_studio(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        let (studio_a, admin_a) = app.studio_with_admin(&platform, "a@studio.test").await;
        let (studio_b, admin_b) = app.studio_with_admin(&platform, "b@studio.test").await;
        let event_a = create_event(&app, &admin_a, "A's class").await;
        let event_b = create_event(&app, &admin_b, "B's class").await;
        let created = |items: &Value, event: i64| {
            items.as_array().unwrap().iter().any(|e| {
                e["action"] == "event.create" && e["target"].as_str().is_some_and(|t| t.ends_with(&format!(":{event}")))
            })
        };

        let (status, body) = app.get("/audit-log?limit=100", Some(&admin_a.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = &body["items"];
        assert!(created(items, event_a), "A sees its own event: {body}");
        assert!(!created(items, event_b), "A must not see B's event: {body}");
        assert!(items.as_array().unwrap().iter().all(|e| e["studio_id"] == studio_a), "{body}");
        let a_entry = items.as_array().unwrap().iter().find(|e| e["action"] == "event.create").unwrap();
        assert_eq!(a_entry["actor_id"], admin_a.user_id);
        assert!(a_entry["created_at"].is_string() && a_entry["id"].is_i64(), "{a_entry}");

        // Asking for B's studio does not widen a studio admin's view.
        let (status, body) = app.get(&format!("/audit-log?limit=100&studio_id={studio_b}"), Some(&admin_a.token)).await;
        assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND, "{status} {body}");
        if status == StatusCode::OK {
            assert!(!created(&body["items"], event_b), "{body}");
            assert!(body["items"].as_array().unwrap().iter().all(|e| e["studio_id"] == studio_a), "{body}");
        }

        let (status, body) = app.get("/audit-log?limit=100", Some(&admin_b.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(created(&body["items"], event_b) && !created(&body["items"], event_a), "{body}");

        let (status, body) = app.get("/audit-log?limit=100", Some(&platform.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(created(&body["items"], event_a) && created(&body["items"], event_b), "{body}");
        let (status, body) = app.get(&format!("/audit-log?limit=100&studio_id={studio_b}"), Some(&platform.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(created(&body["items"], event_b) && !created(&body["items"], event_a), "{body}");

        let user = app.register("user@example.com").await;
        let (status, body) = app.get("/audit-log", Some(&user.token)).await;
        assert_problem_body(status, &body, 403, "forbidden");
        let (status, body) = app.get("/audit-log", None).await;
        assert_problem_body(status, &body, 401, "unauthorized");
    }
}

// --- 8. error answers -------------------------------------------------------------

on_both_stores! {
    async fn bad_bodies_are_problem_json_naming_the_field(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        let (_, admin) = app.studio_with_admin(&platform, "admin@studio.test").await;
        let event = create_event(&app, &admin, "Class").await;
        let user = app.register("user@example.com").await;
        let json_body = |request: reqwest::RequestBuilder, body: &str| {
            request.header("content-type", "application/json").body(body.to_owned())
        };

        let reply = send(json_body(api(&app, Method::POST, "/auth/login"), r#"{"email": "a@b.c", "password":"#)).await;
        assert_problem(&reply, 400, "malformed_json");
        let reply =
            send(json_body(api(&app, Method::POST, "/auth/login"), r#"{"email": "a@b.c", "password": "x"} trailing"#))
                .await;
        assert_problem(&reply, 400, "malformed_json");

        let reply = send(
            json_body(api(&app, Method::POST, &format!("/events/{event}/holds")), r#"{"quantity":"two"}"#)
                .bearer_auth(&user.token),
        )
        .await;
        assert_problem(&reply, 422, "validation_failed");
        assert_eq!(error_fields(&reply.body), vec!["quantity"], "{reply:?}");

        let mut money_as_number = event_json(&app, "Class");
        money_as_number["price"] = json!(150);
        let reply = send(api(&app, Method::POST, "/events").bearer_auth(&admin.token).json(&money_as_number)).await;
        assert_problem(&reply, 422, "validation_failed");
        assert_eq!(error_fields(&reply.body), vec!["price"], "{reply:?}");

        let reply = send(
            api(&app, Method::POST, "/auth/login").json(&json!({"email": "a@b.c", "password": PASSWORD, "remember": true})),
        )
        .await;
        assert_problem(&reply, 422, "validation_failed");
        assert_eq!(error_fields(&reply.body), vec!["remember"], "{reply:?}");
        let mut unknown = event_json(&app, "Class");
        unknown["capacty"] = json!(5);
        let reply = send(api(&app, Method::POST, "/events").bearer_auth(&admin.token).json(&unknown)).await;
        assert_problem(&reply, 422, "validation_failed");
        assert_eq!(error_fields(&reply.body), vec!["capacty"], "{reply:?}");

        // Over 64 KiB.
        let big = json!({"email": "a@b.c", "password": "x".repeat(70 * 1024)});
        let reply = send(api(&app, Method::POST, "/auth/login").json(&big)).await;
        assert_problem(&reply, 413, "payload_too_large");

        // A body that is not JSON.
        let reply = send(
            api(&app, Method::POST, "/auth/login")
                .header("content-type", "text/plain")
                .body(json!({"email": "a@b.c", "password": PASSWORD}).to_string()),
        )
        .await;
        assert_problem(&reply, 415, "unsupported_media_type");
        let reply = send(
            api(&app, Method::POST, &format!("/events/{event}/holds"))
                .bearer_auth(&user.token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("quantity=1"),
        )
        .await;
        assert_problem(&reply, 415, "unsupported_media_type");

        // None of the refused holds took a seat.
        let (_, event_body) = app.get(&format!("/events/{event}"), None).await;
        assert_eq!(event_body["available"], 10, "{event_body}");
    }

    async fn bad_paths_methods_and_queries_are_problem_json(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        let (_, admin) = app.studio_with_admin(&platform, "admin@studio.test").await;
        let event = create_event(&app, &admin, "Class").await;

        for path in ["/events/abc", "/events/99999999999999999999", "/auctions/-", "/studios/1.5", "/events/987654321"] {
            let reply = send(api(&app, Method::GET, path)).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {reply:?}");
            assert_problem(&reply, 404, "not_found");
        }
        let reply = send(app.client.get(app.url("/api/v1/no-such-thing"))).await;
        assert_problem(&reply, 404, "route_not_found");
        let reply = send(app.client.post(app.url("/api/v2/events")).json(&json!({}))).await;
        assert_problem(&reply, 404, "route_not_found");

        let reply = send(api(&app, Method::PUT, &format!("/events/{event}")).json(&json!({"title": "x"}))).await;
        assert!(reply.status.is_client_error(), "{reply:?}");
        let code = reply.body["code"].as_str().unwrap_or_default().to_owned();
        assert_problem(&reply, reply.status.as_u16(), &code);
        assert!(!code.is_empty());

        for path in [
            "/events?limit=-1",
            "/events?limit=0",
            "/events?limit=101",
            "/events?limit=ten",
            "/events?cursor=garbage",
            "/auctions?limit=-5",
            "/auctions?cursor=%21%21%21",
            "/studios?cursor=bm9wZQ",
            "/events?is_active=maybe",
        ] {
            let reply = send(api(&app, Method::GET, path)).await;
            assert_problem(&reply, 422, "validation_failed");
            assert!(!error_fields(&reply.body).is_empty(), "{path}: {reply:?}");
        }
        let reply = send(api(&app, Method::GET, "/events?limit=-1")).await;
        assert_eq!(error_fields(&reply.body), vec!["limit"]);
        let reply = send(api(&app, Method::GET, "/events?cursor=garbage")).await;
        assert_eq!(error_fields(&reply.body), vec!["cursor"]);
        let reply = send(api(&app, Method::GET, "/reservations?limit=-1").bearer_auth(&admin.token)).await;
        assert_problem(&reply, 422, "validation_failed");
        let reply = send(api(&app, Method::GET, "/audit-log?cursor=garbage").bearer_auth(&admin.token)).await;
        assert_problem(&reply, 422, "validation_failed");

        // The happy path still answers plain JSON.
        let reply = send(api(&app, Method::GET, "/events?limit=1")).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert!(reply.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    }
}

// --- 9. rate limits ----------------------------------------------------------------

on_both_stores! {
    async fn the_fourth_sign_in_within_a_minute_is_rate_limited(backend) {
        let app = TestApp::spawn_on_with(backend, &[("RATE_LIMIT_AUTH_PER_MINUTE", "3")]).await;
        // Created outside the API so that only the logins below count.
        hothour_api::commands::create_admin(
            &app.store,
            &create_admin_config(&app),
            "ada@example.com",
            "Ada",
            Some(PASSWORD.into()),
        )
        .await
        .expect("an account");
        for _ in 0..3 {
            let (status, body) = login_with(&app, "ada@example.com", PASSWORD).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let request =
            || api(&app, Method::POST, "/auth/login").json(&json!({"email": "ada@example.com", "password": PASSWORD}));
        let reply = send(request()).await;
        assert_problem(&reply, 429, "rate_limited");
        let retry_after: u64 = reply.headers["retry-after"].to_str().unwrap().parse().expect("whole seconds");
        assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
        // Registering shares the per-IP budget.
        let reply = send(
            api(&app, Method::POST, "/auth/register")
                .json(&json!({"email": "bob@example.com", "password": PASSWORD, "full_name": "Bob"})),
        )
        .await;
        assert_problem(&reply, 429, "rate_limited");
        assert!(reply.headers.contains_key("retry-after"));
    }

    async fn the_third_booking_request_within_a_minute_is_rate_limited_per_user(backend) {
        let app = TestApp::spawn_on_with(backend, &[("RATE_LIMIT_BOOKING_PER_MINUTE", "2")]).await;
        let platform = app.platform_admin().await;
        let (_, admin) = app.studio_with_admin(&platform, "admin@studio.test").await;
        let event = create_event(&app, &admin, "Class").await;
        let auction = create_auction(&app, &admin, "Slot").await;
        app.clock.advance(Duration::hours(2));
        let ada = app.register("ada@example.com").await;
        let bob = app.register("bob@example.com").await;

        let (status, body) = app.post(&format!("/events/{event}/holds"), Some(&ada.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app.call(Method::POST, &format!("/auctions/{auction}/grab"), Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let reply = send(
            api(&app, Method::POST, &format!("/events/{event}/holds"))
                .bearer_auth(&ada.token)
                .json(&json!({"quantity": 2})),
        )
        .await;
        assert_problem(&reply, 429, "rate_limited");
        let retry_after: u64 = reply.headers["retry-after"].to_str().unwrap().parse().expect("whole seconds");
        assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
        let reply = send(api(&app, Method::POST, &format!("/auctions/{auction}/grab")).bearer_auth(&ada.token)).await;
        assert_problem(&reply, 429, "rate_limited");

        // The limit is Ada's alone, and the refused request held nothing.
        let (status, body) = app.post(&format!("/events/{event}/holds"), Some(&bob.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, event_body) = app.get(&format!("/events/{event}"), None).await;
        assert_eq!(event_body["held_seats"], 2, "{event_body}");
    }
}
