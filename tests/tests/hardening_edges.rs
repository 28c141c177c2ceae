//! Abuse at the edges: password guessing spread over addresses or hidden
//! behind a proxy, bcrypt used as a CPU sink, and signed-in writes in a loop.

use hothour_tests::app::{PASSWORD, Session, TestApp};
use hothour_tests::fixtures::{World, id, register_many};
use hothour_tests::on_both_stores;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A signed-in request: its status and its `Retry-After`, if any.
async fn signed(
    app: &TestApp,
    method: Method,
    path: &str,
    user: &Session,
    body: Option<Value>,
) -> (StatusCode, Option<u64>) {
    let mut request = app.client.request(method, app.url(&format!("/api/v1{path}"))).bearer_auth(&user.token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().expect("seconds"));
    (response.status(), retry_after)
}

/// Logs in through a proxy that forwards for `client`.
async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> (StatusCode, Value, Option<String>) {
    login_with_device(app, client, email, password, None).await
}

/// Logs in through a proxy that forwards for `client`, sending a device token if given.
async fn login_with_device(
    app: &TestApp,
    client: &str,
    email: &str,
    password: &str,
    device_token: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut body = json!({"email": email, "password": password});
    if let Some(token) = device_token {
        body["device_token"] = json!(token);
    }
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", client)
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap_or(Value::Null), retry_after)
}

on_both_stores! {
    async fn login_is_throttled_per_account_from_any_address(backend) {
        let app = TestApp::spawn_on_with(
            backend,
            &[("RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE", "3"), ("TRUSTED_PROXIES", "127.0.0.1")],
        )
        .await;
        app.register("victim@example.com").await;
        app.register("bystander@example.com").await;
        for n in 0..3 {
            let (status, body, _) = login_from(&app, &format!("198.51.100.{n}"), "victim@example.com", "wrong guess").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        // A fourth guess from yet another address is refused before bcrypt runs,
        // and so is the right password until the window passes.
        let (status, body, retry_after) = login_from(&app, "198.51.100.77", "victim@example.com", "wrong guess").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "rate_limited");
        assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
        let (status, _, _) = login_from(&app, "198.51.100.78", "VICTIM@example.com ", PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the email is normalised before it is counted");
        // Other accounts are not affected.
        let (status, body, _) = login_from(&app, "198.51.100.77", "bystander@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Unknown accounts are counted the same way, so the limit tells nothing about who is registered.
        for _ in 0..3 {
            assert_eq!(login_from(&app, "198.51.100.5", "nobody@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(login_from(&app, "198.51.100.5", "nobody@example.com", "x").await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn behind_a_trusted_proxy_each_client_has_its_own_bucket(backend) {
        let app = TestApp::spawn_on_with(
            backend,
            &[("RATE_LIMIT_AUTH_PER_MINUTE", "2"), ("TRUSTED_PROXIES", "127.0.0.0/8")],
        )
        .await;
        for _ in 0..2 {
            assert_eq!(login_from(&app, "203.0.113.1", "a@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(login_from(&app, "203.0.113.1", "a@example.com", "x").await.0, StatusCode::TOO_MANY_REQUESTS);
        // Another client behind the same proxy still gets in.
        assert_eq!(login_from(&app, "203.0.113.2", "b@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        // A client cannot escape its bucket by prepending an address of its choosing.
        let spoofed = "192.0.2.99, 203.0.113.1";
        assert_eq!(login_from(&app, spoofed, "a@example.com", "x").await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(backend) {
        let app = TestApp::spawn_on_with(backend, &[("RATE_LIMIT_AUTH_PER_MINUTE", "2")]).await;
        assert_eq!(login_from(&app, "203.0.113.1", "a@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(login_from(&app, "203.0.113.2", "a@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        // Made-up addresses do not buy a fresh bucket: the peer is the client.
        assert_eq!(login_from(&app, "203.0.113.3", "a@example.com", "x").await.0, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn password_changes_are_throttled_per_user(backend) {
        let app = TestApp::spawn_on_with(backend, &[("RATE_LIMIT_PASSWORD_PER_MINUTE", "2")]).await;
        let thief = app.register("stolen@example.com").await;
        let other = app.register("other@example.com").await;
        let guess = |n: usize| json!({"current_password": format!("guess number {n}"), "new_password": "a new password"});
        for n in 0..2 {
            let (status, body) = app.post("/me/password", Some(&thief.token), guess(n)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        let (status, body) = app.post("/me/password", Some(&thief.token), guess(3)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "rate_limited");
        // Even the right password waits: the limit is on bcrypt checks, not on failures.
        let right = json!({"current_password": PASSWORD, "new_password": "a new password"});
        assert_eq!(app.post("/me/password", Some(&thief.token), right.clone()).await.0, StatusCode::TOO_MANY_REQUESTS);
        // The password did not change, and another user is not slowed down.
        assert_eq!(app.post("/me/password", Some(&other.token), right).await.0, StatusCode::NO_CONTENT);
        app.login("stolen@example.com").await;
    }
}

on_both_stores! {
    async fn one_user_writing_in_a_loop_is_throttled(backend) {
        // 20 a minute, in bursts of 2.
        let app = TestApp::spawn_on_with(backend, &[("RATE_LIMIT_WRITES_PER_MINUTE", "20")]).await;
        let looper = app.register("looper@example.com").await;
        let other = app.register("other@example.com").await;
        let mut answers = Vec::new();
        for n in 0..10 {
            let body = json!({"full_name": format!("Name {n}")});
            answers.push(signed(&app, Method::PATCH, "/me", &looper, Some(body)).await);
        }
        assert_eq!(answers[..2], [(StatusCode::OK, None), (StatusCode::OK, None)], "a burst passes");
        let refused: Vec<_> = answers.iter().filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS).collect();
        assert!(refused.len() >= 5, "{answers:?}");
        assert!(refused.iter().all(|(_, retry_after)| retry_after.is_some_and(|s| (1..=60).contains(&s))), "{answers:?}");
        let (status, body) = app.patch("/me", Some(&looper.token), json!({"full_name": "Refused"})).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "rate_limited");
        // The refused writes did nothing; reads go on; signing out everywhere is a write too.
        let (status, me) = app.get("/me", Some(&looper.token)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_ne!(me["full_name"], "Refused");
        assert_eq!(signed(&app, Method::POST, "/auth/logout-all", &looper, None).await.0, StatusCode::TOO_MANY_REQUESTS);
        let logout = json!({"refresh_token": looper.refresh_token});
        assert_eq!(signed(&app, Method::POST, "/auth/logout", &looper, Some(logout)).await.0, StatusCode::TOO_MANY_REQUESTS);
        let outbox_before = app.sql_i64("SELECT COUNT(*) FROM outbox").await;
        for _ in 0..5 {
            signed(&app, Method::POST, "/auth/logout-all", &looper, None).await;
        }
        assert_eq!(app.sql_i64("SELECT COUNT(*) FROM outbox").await, outbox_before, "refused sign-outs announce nothing");
        // The budget is the looper's alone.
        assert_eq!(signed(&app, Method::POST, "/auth/logout-all", &other, None).await.0, StatusCode::NO_CONTENT);
    }

    async fn a_busy_door_checks_a_queue_in_within_the_default_write_limit(backend) {
        let World { app, admin, studio_id, .. } = World::with(backend, &[("RATE_LIMIT_WRITES_PER_MINUTE", "600")]).await;
        let starts = app.now() + chrono::Duration::hours(1);
        let (status, event) = app
            .post(
                "/events",
                Some(&admin.token),
                json!({"title": "Packed class", "capacity": 50, "price": "10.00", "starts_at": starts,
                       "ends_at": starts + chrono::Duration::hours(1), "is_active": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        let guests = register_many(&app, "guest", 50).await;
        let mut codes = Vec::new();
        for guest in &guests {
            let (status, held) = app.post(&format!("/events/{}/holds", id(&event)), Some(&guest.token), json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "{held}");
            let (status, booked) = app.post(&format!("/reservations/{}/confirm", id(&held)), Some(&guest.token), json!({})).await;
            assert_eq!(status, StatusCode::OK, "{booked}");
            codes.push(booked["booking_code"].as_str().unwrap().to_owned());
        }
        // The door scans all fifty at once.
        let path = format!("/studios/{studio_id}/check-in");
        let scans = codes.iter().map(|code| app.post(&path, Some(&admin.token), json!({"booking_code": code})));
        for (status, body) in futures_util::future::join_all(scans).await {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
}

/// The device token a sign-in answered.
fn device_token(body: &Value) -> String {
    body["device_token"].as_str().unwrap_or_else(|| panic!("no device token in {body}")).to_owned()
}

on_both_stores! {
    async fn a_strangers_guesses_never_lock_the_owner_out_of_a_device_they_used_before(backend) {
        let app = TestApp::spawn_on_with(
            backend,
            &[("RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE", "10"), ("TRUSTED_PROXIES", "127.0.0.1")],
        )
        .await;
        let (status, registered) = app
            .post("/auth/register", None, json!({"email": "owner@example.com", "password": PASSWORD, "full_name": "Owner"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let laptop = device_token(&registered);
        let (status, body, _) = login_with_device(&app, "198.51.100.7", "owner@example.com", PASSWORD, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let phone = device_token(&body);
        let stranger = app.register("stranger@example.com").await;
        let (_, body, _) = login_from(&app, "203.0.113.200", "stranger@example.com", PASSWORD).await;
        let strangers_device = device_token(&body);

        // Twenty wrong passwords for the owner's email, each from another address.
        let mut statuses = Vec::new();
        for n in 0..20 {
            statuses.push(login_from(&app, &format!("203.0.113.{n}"), "owner@example.com", "wrong guess").await.0);
        }
        assert!(statuses[..8].iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
        assert_eq!(statuses[19], StatusCode::TOO_MANY_REQUESTS, "the account's budget slows the guesser: {statuses:?}");
        // The stranger's own device token is worth nothing on the owner's account.
        let (status, _, _) =
            login_with_device(&app, "203.0.113.99", "owner@example.com", "wrong guess", Some(&strangers_device)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

        // The owner, on either device they signed in from, still gets in, from any address.
        for (client, token) in [("198.51.100.7", &phone), ("192.0.2.33", &laptop), ("203.0.113.1", &phone)] {
            let (status, body, _) = login_with_device(&app, client, " OWNER@example.com", PASSWORD, Some(token)).await;
            assert_eq!(status, StatusCode::OK, "{client}: {body}");
            assert_eq!(body["user"]["email"], "owner@example.com");
            assert!(!device_token(&body).is_empty());
        }
        // From a fresh client the owner is slowed like anyone else (documented), and told when to retry.
        let (status, body, retry_after) = login_from(&app, "192.0.2.50", "owner@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "rate_limited");
        assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
        // The stranger's own account is not affected.
        let (status, body, _) = login_from(&app, "203.0.113.5", "stranger@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["id"], stranger.user_id);
    }

    async fn a_device_token_that_guesses_is_locked_itself(backend) {
        let app = TestApp::spawn_on_with(
            backend,
            &[("RATE_LIMIT_LOGIN_PER_DEVICE_PER_MINUTE", "3"), ("TRUSTED_PROXIES", "127.0.0.1")],
        )
        .await;
        app.register("owner@example.com").await;
        let (_, body, _) = login_from(&app, "198.51.100.7", "owner@example.com", PASSWORD).await;
        let stolen = device_token(&body);
        for n in 0..2 {
            let guess = format!("guess {n}");
            let (status, body, _) = login_with_device(&app, "203.0.113.9", "owner@example.com", &guess, Some(&stolen)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        let (status, body, _) = login_with_device(&app, "203.0.113.10", "owner@example.com", PASSWORD, Some(&stolen)).await;
        assert_eq!(status, StatusCode::OK, "the third attempt is within the device's budget: {body}");
        let (status, body, retry_after) =
            login_with_device(&app, "203.0.113.11", "owner@example.com", PASSWORD, Some(&stolen)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "every attempt with the token counts: {body}");
        assert!(retry_after.is_some());
        // Only that device is locked: the account and other clients are not.
        let (status, body, _) = login_from(&app, "198.51.100.7", "owner@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn login_is_limited_per_account_and_client_pair(backend) {
        let app = TestApp::spawn_on_with(
            backend,
            &[("RATE_LIMIT_LOGIN_PER_CLIENT_PER_MINUTE", "3"), ("TRUSTED_PROXIES", "127.0.0.1")],
        )
        .await;
        app.register("victim@example.com").await;
        app.register("other@example.com").await;
        for _ in 0..3 {
            assert_eq!(login_from(&app, "203.0.113.1", "victim@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        }
        let (status, body, retry_after) = login_from(&app, "203.0.113.1", "victim@example.com", PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(retry_after.is_some());
        // The same client on another account, and another client on this one, go on.
        assert_eq!(login_from(&app, "203.0.113.1", "other@example.com", PASSWORD).await.0, StatusCode::OK);
        assert_eq!(login_from(&app, "198.51.100.7", "victim@example.com", PASSWORD).await.0, StatusCode::OK);
    }

    async fn ipv6_clients_share_a_bucket_per_64(backend) {
        let app = TestApp::spawn_on_with(
            backend,
            &[("RATE_LIMIT_AUTH_PER_MINUTE", "2"), ("TRUSTED_PROXIES", "127.0.0.1")],
        )
        .await;
        assert_eq!(login_from(&app, "2001:db8:1:2::1", "a@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(login_from(&app, "2001:db8:1:2::ffff", "b@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
        // Another address in the same /64 is the same client.
        let (status, body, _) = login_from(&app, "2001:db8:1:2:abcd:1234:5678:9", "c@example.com", "x").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        // The next /64 is another client.
        assert_eq!(login_from(&app, "2001:db8:1:3::1", "a@example.com", "x").await.0, StatusCode::UNAUTHORIZED);
    }
}
