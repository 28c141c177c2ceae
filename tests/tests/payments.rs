//! Payments (issue 22, SPEC §13) over HTTP against a real Stripe-compatible
//! server (localstripe), on both stores: checkout, the webhook and the
//! client's confirm in any order and any number of times, refunds of money
//! that cannot be kept, and the jobs that retry refunds and find lost webhooks.

use chrono::Duration;
use hothour_infra_stripe::webhook::sign;
use hothour_tests::app::{Session, TestApp};
use hothour_tests::fixtures::{World, assert_problem, id, iso};
use hothour_tests::localstripe::{CARD_3DS, CARD_OK, FlakyRefunds, LocalStripe, SECRET_KEY};
use hothour_tests::on_both_stores;
use hothour_tests::ws::WsClient;
use reqwest::StatusCode;
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "whsec_hothour_tests";
const PUBLISHABLE_KEY: &str = "pk_test_hothour";

/// A studio taking payments through `stripe`, with an event at 150.00 a seat.
struct Shop {
    world: World,
    stripe: LocalStripe,
    event_id: i64,
    user: Session,
}

impl Shop {
    async fn open(backend: hothour_tests::app::Backend) -> Shop {
        Shop::open_with(backend, true).await
    }

    /// With `webhook`, localstripe sends its events to the service.
    async fn open_with(backend: hothour_tests::app::Backend, webhook: bool) -> Shop {
        let stripe = LocalStripe::start();
        let api_base = stripe.base_url.clone();
        Shop::open_through(backend, webhook, stripe, &api_base).await
    }

    /// As [`Shop::open_with`], calling Stripe's API at `api_base` (a proxy in front of `stripe`).
    async fn open_through(
        backend: hothour_tests::app::Backend,
        webhook: bool,
        stripe: LocalStripe,
        api_base: &str,
    ) -> Shop {
        let js_url = format!("{}/js.stripe.com/v3/", stripe.base_url);
        let vars = [
            ("PAYMENTS", "stripe"),
            ("CURRENCY", "TRY"),
            ("STRIPE_SECRET_KEY", SECRET_KEY),
            ("STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("STRIPE_API_BASE", api_base),
            ("STRIPE_JS_URL", js_url.as_str()),
        ];
        let world = World::with(backend, &vars).await;
        if webhook {
            stripe.register_webhook(&world.app.url("/api/v1/payments/stripe/webhook"), WEBHOOK_SECRET).await;
        }
        let starts = world.app.now() + Duration::days(2);
        let body = json!({
            "title": "Sound bath", "capacity": 10, "price": "150.00",
            "starts_at": iso(starts), "ends_at": iso(starts + Duration::minutes(90)),
        });
        let (status, event) = world.app.post("/events", Some(&world.admin.token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        let user = world.app.register("ada@pay.test").await;
        Shop { event_id: id(&event), world, stripe, user }
    }

    fn app(&self) -> &TestApp {
        &self.world.app
    }

    /// An auction open now at 500.00, its session in three hours.
    async fn open_auction(&self) -> Value {
        let now = self.app().now();
        let body = json!({
            "title": "Slot", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
            "drop_interval_minutes": 60, "starts_at": iso(now - Duration::minutes(10)),
            "ends_at": iso(now + Duration::minutes(110)), "scheduled_at": iso(now + Duration::minutes(180)),
        });
        let (status, auction) = self.app().post("/auctions", Some(&self.world.admin.token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{auction}");
        auction
    }

    /// Ada's hold of two seats (300.00).
    async fn hold(&self) -> Value {
        let path = format!("/events/{}/holds", self.event_id);
        let (status, hold) = self.app().post(&path, Some(&self.user.token), json!({"quantity": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{hold}");
        hold
    }

    async fn checkout(&self, reservation: i64, body: Value) -> (StatusCode, Value) {
        self.app().post(&format!("/reservations/{reservation}/payment"), Some(&self.user.token), body).await
    }

    async fn reservation(&self, reservation: i64) -> Value {
        let (status, value) = self.app().get(&format!("/reservations/{reservation}"), Some(&self.user.token)).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value
    }

    /// Pays `intent` as the browser would (Stripe.js), past the service.
    async fn pay_at_provider(&self, intent: &str, card: &str) {
        self.stripe.pay(intent, card).await;
    }

    /// The PaymentIntent as the provider holds it.
    async fn intent_at_provider(&self, intent: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}/v1/payment_intents/{intent}", self.stripe.base_url))
            .basic_auth(SECRET_KEY, Some(""))
            .send()
            .await
            .expect("localstripe answers")
            .json()
            .await
            .expect("an intent")
    }

    /// Posts `event` to the webhook, signed now (or with `header`).
    async fn webhook(&self, event: &Value, header: Option<String>) -> StatusCode {
        let body = serde_json::to_vec(event).unwrap();
        let header = header.unwrap_or_else(|| sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp()));
        self.app()
            .client
            .post(self.app().url("/api/v1/payments/stripe/webhook"))
            .header("Stripe-Signature", header)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers")
            .status()
    }

    /// Waits (up to 10 s) until reservation `id`'s answer satisfies `done`.
    async fn until(&self, reservation: i64, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let value = self.reservation(reservation).await;
            if done(&value) {
                return value;
            }
            assert!(std::time::Instant::now() < deadline, "never came: {value}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The studio's audit entries of `action`.
    async fn audited(&self, action: &str) -> Vec<Value> {
        let (status, page) = self.app().get("/audit-log?limit=100", Some(&self.world.admin.token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"].as_array().expect("a page").iter().filter(|e| e["action"] == action).cloned().collect()
    }

    async fn confirmed_count(&self) -> i64 {
        self.app().sql_i64("SELECT COUNT(*) FROM reservations WHERE status = 'CONFIRMED'").await
    }
}

/// A `payment_intent.succeeded` event for `intent` as the provider sends it.
fn succeeded(event_id: &str, intent: &Value) -> Value {
    json!({ "id": event_id, "object": "event", "type": "payment_intent.succeeded", "data": { "object": intent } })
}

on_both_stores! {
    async fn checkout_opens_one_payment_for_the_exact_total(backend) {
        let shop = Shop::open(backend).await;
        let hold = shop.hold().await;
        let (status, checkout) = shop.checkout(id(&hold), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{checkout}");
        assert_eq!(checkout["provider"], "stripe");
        assert_eq!(checkout["publishable_key"], PUBLISHABLE_KEY);
        assert_eq!((checkout["amount"].as_str(), checkout["currency"].as_str()), (Some("300.00"), Some("TRY")));
        assert_eq!(checkout["status"], "requires_payment");
        let secret = checkout["client_secret"].as_str().unwrap().to_owned();
        let intent = shop.intent_at_provider(secret.split("_secret_").next().unwrap()).await;
        assert_eq!((intent["amount"].as_i64(), intent["currency"].as_str()), (Some(30000), Some("try")));
        assert_eq!(intent["metadata"]["reservation_id"], id(&hold).to_string());

        let (_, again) = shop.checkout(id(&hold), json!({})).await;
        assert_eq!(again["client_secret"], checkout["client_secret"], "one payment per hold");
        let stranger = shop.app().register("bob@pay.test").await;
        let path = format!("/reservations/{}/payment", id(&hold));
        let answer = shop.app().post(&path, Some(&stranger.token), json!({})).await;
        assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(shop.reservation(id(&hold)).await["payment"]["status"], "requires_payment");
    }

    async fn paying_with_a_card_books_with_one_code(backend) {
        let shop = Shop::open(backend).await;
        let hold = shop.hold().await;
        let mut owner = WsClient::connect(shop.app()).await;
        owner.authenticated(&shop.user).await;
        owner.subscribed(&format!("user:{}", shop.user.user_id)).await;
        let card = shop.stripe.card(CARD_OK).await;
        let (status, paid) = shop.checkout(id(&hold), json!({"payment_method": card})).await;
        assert_eq!(status, StatusCode::OK, "{paid}");
        assert_eq!(paid["status"], "succeeded");
        let booked = shop.reservation(id(&hold)).await;
        assert_eq!(booked["status"], "CONFIRMED");
        assert_eq!(booked["payment"], json!({"status": "succeeded", "amount": "300.00", "refunded_amount": "0.00"}));
        // localstripe's own webhook arrives a second later and changes nothing.
        let code = booked["booking_code"].clone();
        let (status, confirmed) =
            shop.app().post(&format!("/reservations/{}/confirm", id(&hold)), Some(&shop.user.token), json!({})).await;
        assert_eq!((status, &confirmed["booking_code"]), (StatusCode::OK, &code));
        assert_eq!(shop.confirmed_count().await, 1);

        // Told live, audited as the owner's payment, counted once.
        let frame = owner.next_of_type("payment_succeeded").await;
        assert_eq!(frame["data"]["payment"]["status"], "succeeded");
        assert_eq!(frame["data"]["id"], id(&hold));
        let entries = shop.audited("payment.succeeded").await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["actor_id"], shop.user.user_id);
        let metrics = shop.app().client.get(shop.app().url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("hothour_payments_total{outcome=\"succeeded\"} 1"), "{metrics}");
    }

    async fn the_providers_webhook_confirms_a_hold_paid_in_the_browser(backend) {
        let shop = Shop::open(backend).await;
        let hold = shop.hold().await;
        let (_, checkout) = shop.checkout(id(&hold), json!({})).await;
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        shop.pay_at_provider(&intent, CARD_OK).await;
        let booked = shop.until(id(&hold), |r| r["status"] == "CONFIRMED").await;
        assert_eq!(booked["payment"]["status"], "succeeded");
        assert!(booked["booking_code"].is_string());
    }

    async fn confirm_before_the_webhook_asks_the_provider(backend) {
        let shop = Shop::open_with(backend, false).await;
        let hold = shop.hold().await;
        let confirm = format!("/reservations/{}/confirm", id(&hold));
        let answer = shop.app().post(&confirm, Some(&shop.user.token), json!({})).await;
        assert_problem(&answer, StatusCode::CONFLICT, "payment_required");
        let (_, checkout) = shop.checkout(id(&hold), json!({})).await;
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        let answer = shop.app().post(&confirm, Some(&shop.user.token), json!({})).await;
        assert_problem(&answer, StatusCode::CONFLICT, "payment_required");
        shop.pay_at_provider(&intent, CARD_OK).await;
        let (status, booked) = shop.app().post(&confirm, Some(&shop.user.token), json!({})).await;
        assert_eq!((status, booked["status"].as_str()), (StatusCode::OK, Some("CONFIRMED")), "{booked}");
        // The webhook after it (staged: this shop registered none), twice, and at once with a confirm.
        let event = succeeded("evt_late", &shop.intent_at_provider(&intent).await);
        let (first, second, again) = tokio::join!(
            shop.webhook(&event, None),
            shop.webhook(&event, None),
            shop.app().post(&confirm, Some(&shop.user.token), json!({})),
        );
        assert_eq!((first, second, again.0), (StatusCode::OK, StatusCode::OK, StatusCode::OK));
        assert_eq!(again.1["booking_code"], booked["booking_code"]);
        assert_eq!(shop.confirmed_count().await, 1);
        let events = shop.app().sql_i64("SELECT COUNT(*) FROM payment_events WHERE event_id = 'evt_late'").await;
        assert_eq!(events, 1, "each provider event is recorded once");
    }

    async fn webhook_and_confirm_racing_confirm_once(backend) {
        let shop = Shop::open_with(backend, false).await;
        let mut holds = Vec::new();
        for _ in 0..5 {
            let user = shop.app().register(&format!("racer{}@pay.test", holds.len())).await;
            let path = format!("/events/{}/holds", shop.event_id);
            let (_, hold) = shop.app().post(&path, Some(&user.token), json!({"quantity": 1})).await;
            let (_, checkout) =
                shop.app().post(&format!("/reservations/{}/payment", id(&hold)), Some(&user.token), json!({})).await;
            let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
            shop.pay_at_provider(&intent, CARD_OK).await;
            holds.push((user, id(&hold), intent));
        }
        let mut racing = Vec::new();
        for (user, reservation, intent) in &holds {
            let event = succeeded(&format!("evt_{intent}"), &shop.intent_at_provider(intent).await);
            let (shop, path) = (&shop, format!("/reservations/{reservation}/confirm"));
            racing.push(async move {
                let confirm = shop.app().post(&path, Some(&user.token), json!({}));
                let (hook, confirmed) = tokio::join!(shop.webhook(&event, None), confirm);
                (hook, confirmed.0)
            });
        }
        for (hook, confirmed) in futures_util::future::join_all(racing).await {
            assert_eq!((hook, confirmed), (StatusCode::OK, StatusCode::OK));
        }
        assert_eq!(shop.confirmed_count().await, 5);
        let codes = shop.app().sql_i64("SELECT COUNT(DISTINCT booking_code) FROM reservations WHERE status = 'CONFIRMED'").await;
        assert_eq!(codes, 5, "one code each");
    }

    async fn forged_or_stale_webhooks_are_refused(backend) {
        let shop = Shop::open_with(backend, false).await;
        let hold = shop.hold().await;
        let (_, checkout) = shop.checkout(id(&hold), json!({})).await;
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        shop.pay_at_provider(&intent, CARD_OK).await;
        let event = succeeded("evt_forged", &shop.intent_at_provider(&intent).await);
        let body = serde_json::to_vec(&event).unwrap();
        let now = chrono::Utc::now().timestamp();
        let forged = sign(&body, "whsec_someone_else", now);
        assert_eq!(shop.webhook(&event, Some(forged)).await, StatusCode::BAD_REQUEST);
        let stale = sign(&body, WEBHOOK_SECRET, now - 301);
        assert_eq!(shop.webhook(&event, Some(stale)).await, StatusCode::BAD_REQUEST);
        assert_eq!(shop.webhook(&event, Some("t=1".into())).await, StatusCode::BAD_REQUEST);
        let webhook = shop.app().url("/api/v1/payments/stripe/webhook");
        let unsigned = shop.app().client.post(webhook).body(body.clone()).send().await.unwrap();
        assert_eq!(unsigned.status(), StatusCode::BAD_REQUEST);
        assert_eq!(shop.reservation(id(&hold)).await["status"], "HOLD");
        // Several v1 signatures (a secret being rolled): one good one is enough.
        let good = sign(&body, WEBHOOK_SECRET, now);
        let rolled = format!("{},v1={}", good, "ab".repeat(32));
        assert_eq!(shop.webhook(&event, Some(rolled)).await, StatusCode::OK);
        assert_eq!(shop.reservation(id(&hold)).await["status"], "CONFIRMED");
        // An event of another kind is acknowledged and ignored.
        let other = json!({"id": "evt_other", "type": "customer.created", "data": {"object": {}}});
        assert_eq!(shop.webhook(&other, None).await, StatusCode::OK);
    }

    async fn money_for_a_lapsed_hold_is_refunded_in_full(backend) {
        let shop = Shop::open_with(backend, false).await;
        let hold = shop.hold().await;
        let (_, checkout) = shop.checkout(id(&hold), json!({})).await;
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        shop.app().clock.advance(Duration::minutes(30));
        shop.pay_at_provider(&intent, CARD_OK).await;
        let event = succeeded("evt_lapsed", &shop.intent_at_provider(&intent).await);
        assert_eq!(shop.webhook(&event, None).await, StatusCode::OK);
        let lapsed = shop.reservation(id(&hold)).await;
        assert_eq!(lapsed["status"], "EXPIRED");
        assert_eq!(lapsed["payment"], json!({"status": "refunded", "amount": "300.00", "refunded_amount": "300.00"}));
        let charge = &shop.intent_at_provider(&intent).await["latest_charge"];
        assert_eq!(charge["amount_refunded"], 30000, "{charge}");
        let confirm = format!("/reservations/{}/confirm", id(&hold));
        let answer = shop.app().post(&confirm, Some(&shop.user.token), json!({})).await;
        assert_eq!(answer.0, StatusCode::CONFLICT, "{}", answer.1);
    }

    async fn cancelling_a_paid_booking_refunds_it(backend) {
        let shop = Shop::open(backend).await;
        let hold = shop.hold().await;
        let card = shop.stripe.card(CARD_OK).await;
        let (_, paid) = shop.checkout(id(&hold), json!({"payment_method": card})).await;
        let intent = paid["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        let path = format!("/reservations/{}/cancel", id(&hold));
        let (status, cancelled) = shop.app().post(&path, Some(&shop.user.token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "CANCELLED");
        assert_eq!(cancelled["payment"]["status"], "refunded");
        assert_eq!(shop.intent_at_provider(&intent).await["latest_charge"]["amount_refunded"], 30000);
        assert_eq!(shop.audited("payment.refunded").await.len(), 1);
        let metrics = shop.app().client.get(shop.app().url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("hothour_refunds_total{outcome=\"refunded\"} 1"), "{metrics}");
    }

    async fn a_lost_webhook_is_found_by_reconciliation(backend) {
        let shop = Shop::open_with(backend, false).await;
        let hold = shop.hold().await;
        let (_, checkout) = shop.checkout(id(&hold), json!({})).await;
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        shop.pay_at_provider(&intent, CARD_OK).await;
        hothour_api::jobs::run_once(&shop.app().state).await;
        assert_eq!(shop.reservation(id(&hold)).await["status"], "HOLD", "not asked about before a minute");
        shop.app().clock.advance(Duration::seconds(61));
        hothour_api::jobs::run_once(&shop.app().state).await;
        assert_eq!(shop.reservation(id(&hold)).await["status"], "CONFIRMED");
    }

    async fn a_payment_of_the_wrong_amount_is_refunded_not_confirmed(backend) {
        let shop = Shop::open_with(backend, false).await;
        let hold = shop.hold().await;
        let (_, checkout) = shop.checkout(id(&hold), json!({})).await;
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        shop.pay_at_provider(&intent, CARD_OK).await;
        let mut paid = shop.intent_at_provider(&intent).await;
        paid["amount"] = json!(100);
        assert_eq!(shop.webhook(&succeeded("evt_wrong", &paid), None).await, StatusCode::OK);
        let held = shop.reservation(id(&hold)).await;
        assert_eq!(held["status"], "HOLD", "{held}");
        assert_eq!(held["payment"]["status"], "refunded");
        assert_eq!(shop.intent_at_provider(&intent).await["latest_charge"]["amount_refunded"], 100);
    }

    async fn a_card_needing_3d_secure_leaves_the_hold_to_the_browser(backend) {
        let shop = Shop::open_with(backend, false).await;
        let hold = shop.hold().await;
        let card = shop.stripe.card(CARD_3DS).await;
        let (status, checkout) = shop.checkout(id(&hold), json!({"payment_method": card})).await;
        assert_eq!(status, StatusCode::OK, "{checkout}");
        assert_eq!(checkout["status"], "requires_payment");
        assert_eq!(checkout["requires_action"], true);
        assert_eq!(shop.reservation(id(&hold)).await["status"], "HOLD");
    }

    async fn with_payments_on_a_grab_cannot_book_at_once(backend) {
        let shop = Shop::open_with(backend, false).await;
        let auction = shop.open_auction().await;
        let grab = format!("/auctions/{}/grab", id(&auction));
        let answer = shop.app().post(&grab, Some(&shop.user.token), json!({"confirm": true})).await;
        assert_problem(&answer, StatusCode::CONFLICT, "payment_required");
    }

    async fn config_names_the_provider(backend) {
        let shop = Shop::open_with(backend, false).await;
        let (_, config) = shop.app().get("/config", None).await;
        assert_eq!(config["payments"]["provider"], "stripe");
        assert_eq!(config["payments"]["publishable_key"], PUBLISHABLE_KEY);
        assert_eq!(config["payments"]["js_url"], format!("{}/js.stripe.com/v3/", shop.stripe.base_url));
    }

    async fn without_payments_confirm_books_and_payment_is_refused(backend) {
        let world = World::new(backend).await;
        let app = &world.app;
        let starts = app.now() + Duration::days(2);
        let body = json!({"title": "Free", "capacity": 3, "price": "150.00",
            "starts_at": iso(starts), "ends_at": iso(starts + Duration::minutes(60))});
        let (_, event) = app.post("/events", Some(&world.admin.token), body).await;
        let user = app.register("cy@pay.test").await;
        let (_, hold) = app.post(&format!("/events/{}/holds", id(&event)), Some(&user.token), json!({"quantity": 1})).await;
        let answer = app.post(&format!("/reservations/{}/payment", id(&hold)), Some(&user.token), json!({})).await;
        assert_problem(&answer, StatusCode::CONFLICT, "payments_disabled");
        let webhook = app.url("/api/v1/payments/stripe/webhook");
        let hook = app.client.post(&webhook).header("Stripe-Signature", "t=1,v1=00").body("{}").send().await.unwrap();
        assert_eq!(hook.status(), StatusCode::NOT_FOUND);
        let unsigned = app.client.post(&webhook).body("{}").send().await.unwrap();
        assert_eq!(unsigned.status(), StatusCode::BAD_REQUEST, "malformed whatever the deployment takes");
        let (_, config) = app.get("/config", None).await;
        assert_eq!(config["payments"]["provider"], "none");
        let (status, booked) = app.post(&format!("/reservations/{}/confirm", id(&hold)), Some(&user.token), json!({})).await;
        assert_eq!((status, booked["payment"]["status"].as_str()), (StatusCode::OK, Some("none")));
    }

    async fn a_refund_that_fails_is_retried_with_back_off(backend) {
        let stripe = LocalStripe::start();
        let proxy = FlakyRefunds::start(&stripe.base_url);
        let api_base = proxy.base_url.clone();
        let shop = Shop::open_through(backend, false, stripe, &api_base).await;
        let hold = shop.hold().await;
        let card = shop.stripe.card(CARD_OK).await;
        let (_, paid) = shop.checkout(id(&hold), json!({"payment_method": card})).await;
        let intent = paid["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        proxy.fail_next_refunds(1);
        let path = format!("/reservations/{}/cancel", id(&hold));
        let (status, cancelled) = shop.app().post(&path, Some(&shop.user.token), json!({})).await;
        assert_eq!((status, cancelled["payment"]["status"].as_str()), (StatusCode::OK, Some("refund_pending")), "{cancelled}");
        hothour_api::jobs::run_once(&shop.app().state).await;
        assert_eq!(shop.reservation(id(&hold)).await["payment"]["status"], "refund_pending", "not before its back-off");
        // Its back-off passed: the jobs (run by the service when its clock moves) retry it.
        shop.app().clock.advance(Duration::minutes(1));
        let refunded = shop.until(id(&hold), |r| r["payment"]["status"] == "refunded").await;
        assert_eq!(refunded["payment"], json!({"status": "refunded", "amount": "300.00", "refunded_amount": "300.00"}));
        assert_eq!(shop.intent_at_provider(&intent).await["latest_charge"]["amount_refunded"], 30000);
    }

    async fn a_studio_cancelling_an_auction_refunds_its_paid_booking(backend) {
        let shop = Shop::open_with(backend, false).await;
        let auction = shop.open_auction().await;
        let (_, hold) =
            shop.app().post(&format!("/auctions/{}/grab", id(&auction)), Some(&shop.user.token), json!({})).await;
        let card = shop.stripe.card(CARD_OK).await;
        let (_, paid) = shop.checkout(id(&hold), json!({"payment_method": card})).await;
        assert_eq!(paid["reservation"]["status"], "CONFIRMED", "{paid}");
        let intent = paid["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        let path = format!("/auctions/{}/cancel", id(&auction));
        let (status, _) = shop.app().post(&path, Some(&shop.world.admin.token), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        // The refund job (run by the service, or here) pays it back.
        hothour_api::jobs::run_once(&shop.app().state).await;
        let refunded = shop.until(id(&hold), |r| r["payment"]["status"] == "refunded").await;
        assert_eq!(refunded["status"], "CANCELLED");
        assert_eq!(refunded["payment"]["status"], "refunded");
        assert_eq!(shop.intent_at_provider(&intent).await["latest_charge"]["amount_refunded"], 50000);
    }

    async fn a_studio_cancelling_an_event_refunds_every_paid_booking(backend) {
        let shop = Shop::open_with(backend, false).await;
        let bob = shop.app().register("bob@pay.test").await;
        let cem = shop.app().register("cem@pay.test").await;
        let path = format!("/events/{}/holds", shop.event_id);
        let mut paid = Vec::new();
        for user in [&shop.user, &bob] {
            let (status, hold) = shop.app().post(&path, Some(&user.token), json!({"quantity": 2})).await;
            assert_eq!(status, StatusCode::CREATED, "{hold}");
            let card = shop.stripe.card(CARD_OK).await;
            let payment = format!("/reservations/{}/payment", id(&hold));
            let (status, checkout) = shop.app().post(&payment, Some(&user.token), json!({"payment_method": card})).await;
            assert_eq!((status, checkout["reservation"]["status"].as_str()), (StatusCode::OK, Some("CONFIRMED")), "{checkout}");
            let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
            paid.push((user, id(&hold), intent));
        }
        let (status, unpaid) = shop.app().post(&path, Some(&cem.token), json!({"quantity": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{unpaid}");
        let mut ada_ws = WsClient::connect(shop.app()).await;
        ada_ws.authenticated(&shop.user).await;
        ada_ws.subscribed(&format!("user:{}", shop.user.user_id)).await;

        let cancel = format!("/events/{}/cancel", shop.event_id);
        let (status, event) = shop.app().post(&cancel, Some(&shop.world.admin.token), json!({})).await;
        assert_eq!((status, event["available"].as_i64()), (StatusCode::OK, Some(10)), "{event}");
        // Refunded as the cancellation is answered, each in full, at the provider too.
        for (user, reservation, intent) in &paid {
            let (_, refunded) = shop.app().get(&format!("/reservations/{reservation}"), Some(&user.token)).await;
            assert_eq!(refunded["status"], "CANCELLED", "{refunded}");
            assert_eq!(refunded["payment"], json!({"status": "refunded", "amount": "300.00", "refunded_amount": "300.00"}));
            assert_eq!(shop.intent_at_provider(intent).await["latest_charge"]["amount_refunded"], 30000);
        }
        let (_, never_paid) = shop.app().get(&format!("/reservations/{}", id(&unpaid)), Some(&cem.token)).await;
        assert_eq!((never_paid["status"].as_str(), never_paid["payment"]["status"].as_str()), (Some("CANCELLED"), Some("none")));
        assert_eq!(shop.audited("payment.refunded").await.len(), 2);
        assert_eq!(shop.audited("event.cancel").await.len(), 1);
        let told = ada_ws.each_of(&["reservation_cancelled", "payment_refunded"]).await;
        assert_eq!(told[1]["data"]["payment"]["status"], "refunded", "{told:?}");
    }

    async fn a_service_stopped_after_the_payment_confirms_on_restart(backend) {
        let shop = Shop::open_with(backend, false).await;
        let hold = shop.hold().await;
        let (_, checkout) = shop.checkout(id(&hold), json!({})).await;
        let intent = checkout["client_secret"].as_str().unwrap().split("_secret_").next().unwrap().to_owned();
        // The provider takes the money; the service hears nothing (no webhook, and it stops).
        shop.pay_at_provider(&intent, CARD_OK).await;
        shop.app().server.stop(false).await;
        let restarted = shop.app().restarted().await;
        restarted.clock.advance(Duration::seconds(61));
        hothour_api::jobs::run_once(&restarted.state).await;
        let (_, booked) = restarted.get(&format!("/reservations/{}", id(&hold)), Some(&shop.user.token)).await;
        assert_eq!(booked["status"], "CONFIRMED", "{booked}");
        assert_eq!(booked["payment"]["status"], "succeeded");
    }
}
