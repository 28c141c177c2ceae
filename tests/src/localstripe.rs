//! A real Stripe-compatible server for the payment tests: `localstripe`
//! (pinned in `scripts/localstripe-requirements.txt`), installed on first use
//! into `target/test-tools/localstripe` and started with `--from-scratch` on
//! a free port, one per test binary (or per test that wants its own).
//!
//! What it does not do, the tests stage themselves: it sends each event once
//! to every registered URL and never retries, ignores idempotency keys and
//! never fails a refund.

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::test_tools::{free_port, installed, target_dir};

const REQUIREMENTS: &str = include_str!("../../scripts/localstripe-requirements.txt");

/// A running localstripe; stopped when dropped.
pub struct LocalStripe {
    pub base_url: String,
    child: Child,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LocalStripe {
    pub fn start() -> LocalStripe {
        hothour_infra_stripe::install_crypto_provider();
        let command = installed("localstripe", REQUIREMENTS, "bin/localstripe");
        let port = free_port();
        let log = File::create(target_dir().join(format!("test-tools/localstripe-{port}.log"))).expect("a log file");
        let child = Command::new(&command)
            .args(["--port", &port.to_string(), "--from-scratch"])
            .stdout(Stdio::from(log.try_clone().expect("the log")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", command.display()));
        let server = LocalStripe { base_url: format!("http://127.0.0.1:{port}"), child };
        server.wait_until_ready(Path::new(&command));
        server
    }

    fn wait_until_ready(&self, command: &Path) {
        let started = Instant::now();
        let address = self.base_url.trim_start_matches("http://").to_owned();
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{} did not listen on {address} within 30 s",
                command.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Registers a webhook endpoint: every event goes to `url`, signed with `secret`.
    pub async fn register_webhook(&self, url: &str, secret: &str) {
        let answer = reqwest::Client::new()
            .post(format!("{}/_config/webhooks/hothour", self.base_url))
            .form(&[("url", url), ("secret", secret)])
            .send()
            .await
            .expect("registering the webhook");
        assert!(answer.status().is_success(), "registering the webhook: {}", answer.status());
    }

    /// A card token's card id (`card_…`), as Stripe.js's `createToken` gives the browser.
    pub async fn card(&self, number: &str) -> String {
        let token: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v1/tokens", self.base_url))
            .basic_auth(SECRET_KEY, Some(""))
            .form(&[
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ])
            .send()
            .await
            .expect("creating a card token")
            .json()
            .await
            .expect("a token");
        token["card"]["id"].as_str().expect("the token's card id").to_owned()
    }

    /// Pays `intent` with `card` as the browser would (Stripe.js), past the service.
    pub async fn pay(&self, intent: &str, card: &str) {
        let card = self.card(card).await;
        let client = reqwest::Client::new();
        for (path, form) in [
            (format!("/v1/payment_intents/{intent}"), vec![("payment_method", card.as_str())]),
            (format!("/v1/payment_intents/{intent}/confirm"), vec![]),
        ] {
            let answer = client
                .post(format!("{}{path}", self.base_url))
                .basic_auth(SECRET_KEY, Some(""))
                .form(&form)
                .send()
                .await
                .expect("localstripe answers");
            assert!(answer.status().is_success(), "{path}: {}", answer.text().await.unwrap_or_default());
        }
    }
}

/// Any key does for localstripe; this one looks like a test key.
pub const SECRET_KEY: &str = "sk_test_hothour";
/// Stripe's test card that pays without authentication.
pub const CARD_OK: &str = "4242424242424242";
/// Stripe's test card that always asks for 3-D Secure.
pub const CARD_3DS: &str = "4000002760003184";
/// Stripe's test card whose charge is declined.
pub const CARD_DECLINED: &str = "4000000000000341";

/// A proxy in front of localstripe that fails the next refunds it is told
/// to (localstripe never fails one), so the refund retry job can be tested.
pub struct FlakyRefunds {
    pub base_url: String,
    failures: std::sync::Arc<std::sync::atomic::AtomicU32>,
    server: actix_web::dev::ServerHandle,
}

impl FlakyRefunds {
    pub fn start(upstream: &str) -> FlakyRefunds {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        use std::sync::atomic::Ordering;

        let failures = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (upstream, counter) = (upstream.to_owned(), failures.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        let server = HttpServer::new(move || {
            let (upstream, counter) = (upstream.clone(), counter.clone());
            App::new().default_service(web::to(move |request: HttpRequest, body: web::Bytes| {
                let (upstream, counter) = (upstream.clone(), counter.clone());
                async move {
                    let refund = request.path() == "/v1/refunds";
                    if refund && counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
                    {
                        return HttpResponse::InternalServerError()
                            .json(serde_json::json!({"error": {"message": "staged failure", "type": "api_error"}}));
                    }
                    let url = format!("{upstream}{}", request.uri());
                    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).expect("a method");
                    let mut forward = reqwest::Client::new().request(method, url).body(body.to_vec());
                    for (name, value) in request.headers() {
                        if name != "host" {
                            forward = forward.header(name.as_str(), value.as_bytes());
                        }
                    }
                    let answer = forward.send().await.expect("localstripe answers");
                    let status = actix_web::http::StatusCode::from_u16(answer.status().as_u16()).expect("a status");
                    let bytes = answer.bytes().await.expect("a body");
                    HttpResponse::build(status).content_type("application/json").body(bytes)
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listening")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FlakyRefunds { base_url: format!("http://127.0.0.1:{port}"), failures, server: handle }
    }

    /// The next `n` refunds fail with a 500.
    pub fn fail_next_refunds(&self, n: u32) {
        self.failures.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for FlakyRefunds {
    fn drop(&mut self) {
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}
