//! `hothour seed-demo` on the real binary (issue 19, item 12): outside
//! `development` and `test` the demo accounts get a random password, printed
//! once, never the fixed demo one; on a developer's machine the documented
//! demo password stays. Both stores.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use hothour_tests::app::TempDir;
use hothour_tests::pg::TestDb;
use reqwest::StatusCode;
use serde_json::json;

const SECRET: &str = "a-production-secret-of-at-least-32-bytes";
const ADMIN: &str = "demo-admin@hothour.local";
const CUSTOMER: &str = "demo@hothour.local";

fn hothour(command: &str, database_url: &str, app_env: &str) -> Command {
    let mut hothour = Command::new(env!("CARGO_BIN_EXE_hothour"));
    hothour
        .arg(command)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("APP_ENV", app_env)
        .env("JWT_SECRET", SECRET)
        .env("BIND", "127.0.0.1:0")
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", "warn");
    hothour
}

fn seed(database_url: &str, app_env: &str) -> Output {
    hothour("seed-demo", database_url, app_env).output().expect("the binary runs")
}

/// The password printed for `email` (`  studio admin: email / password`).
fn printed_password(stdout: &str, email: &str) -> String {
    let line = stdout.lines().find(|line| line.contains(email)).unwrap_or_else(|| panic!("no {email} in {stdout}"));
    line.rsplit(" / ").next().unwrap().trim().to_owned()
}

/// `hothour serve` on a free port, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database_url: &str, app_env: &str) -> Server {
        let mut child = hothour("serve", database_url, app_env)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("the server says where it listens").unwrap();
            if let Some(rest) = line.strip_prefix("HotHour listening on ") {
                break rest.trim().to_owned();
            }
        };
        // Keep reading, or the server's next line to stdout finds the pipe closed.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, base }
    }

    async fn login(&self, email: &str, password: &str) -> StatusCode {
        hothour_api::install_crypto_provider();
        reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("the server answers")
            .status()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database of each store: its URL, and what keeps it alive.
async fn databases() -> Vec<(String, Box<dyn std::any::Any>)> {
    let dir = TempDir::new("hothour-seed");
    let sqlite = format!("sqlite://{}/hothour.db", dir.0.display());
    let postgres = TestDb::new().await;
    let postgres_url = postgres.url.clone();
    vec![(sqlite, Box::new(dir)), (postgres_url, Box::new(postgres))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_development_the_demo_accounts_get_a_random_password_printed_once() {
    let mut passwords = Vec::new();
    for (url, _kept) in databases().await {
        let output = seed(&url, "production");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
        assert!(!stdout.contains("hothour-demo"), "the fixed password is never used here: {stdout}");
        let password = printed_password(&stdout, ADMIN);
        assert_eq!(printed_password(&stdout, CUSTOMER), password);
        assert!(password.len() >= 20, "{password}");

        let again = seed(&url, "production");
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(!again.status.success(), "a second seed is refused");
        assert!(!stderr.contains(&password) && !stderr.contains("hothour-demo"), "{stderr}");

        let server = Server::start(&url, "production");
        assert_eq!(server.login(ADMIN, "hothour-demo").await, StatusCode::UNAUTHORIZED);
        assert_eq!(server.login(ADMIN, &password).await, StatusCode::OK);
        assert_eq!(server.login(CUSTOMER, &password).await, StatusCode::OK);
        passwords.push(password);
    }
    assert_ne!(passwords[0], passwords[1], "each seed draws its own password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_development_and_test_the_documented_demo_password_stays() {
    for app_env in ["development", "test"] {
        for (url, _kept) in databases().await {
            let output = seed(&url, app_env);
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
            assert_eq!(printed_password(&stdout, ADMIN), "hothour-demo", "{app_env}");
            let server = Server::start(&url, app_env);
            assert_eq!(server.login(ADMIN, "hothour-demo").await, StatusCode::OK, "{app_env}");
        }
    }
}
