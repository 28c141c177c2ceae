//! The HotHour app on a random port over its own fresh database.

use std::net::TcpListener;

use hothour_api::{AppState, Config, connect_and_migrate, start};

use crate::pg::TestDb;

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let db = TestDb::new().await;
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(db.url.clone()),
            "BIND" => Some("127.0.0.1:0".into()),
            _ => None,
        })
        .expect("test configuration");
        let store = connect_and_migrate(&config).await.expect("database");
        let listener = TcpListener::bind(&config.bind).expect("bind a random port");
        let running = start(listener, AppState { store }).expect("server");
        tokio::spawn(running.server);
        TestApp { base_url: format!("http://127.0.0.1:{}", running.port), client: reqwest::Client::new(), db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}
