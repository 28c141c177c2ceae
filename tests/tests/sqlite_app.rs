//! The service on its embedded default: a SQLite file, no PostgreSQL at all.
//! Live updates travel the in-process bus instead of LISTEN/NOTIFY.

use std::net::TcpListener;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hothour_api::{AppState, Config, connect_and_migrate, start};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct SqliteApp {
    base: String,
    client: reqwest::Client,
    store: hothour_api::AppStore,
    _dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl SqliteApp {
    async fn spawn() -> SqliteApp {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("hothour-sqlite-app-{}-{nanos}", std::process::id()));
        let url = format!("sqlite://{}/hothour.db", dir.display());
        let config = test_config(Some(url));
        let store = connect_and_migrate(&config).await.expect("a SQLite file");
        assert_eq!(store.backend_name(), "sqlite");
        let listener = TcpListener::bind(&config.bind).unwrap();
        let running = start(listener, AppState::new(store.clone(), config).await.unwrap()).unwrap();
        let base = format!("http://127.0.0.1:{}", running.port);
        tokio::spawn(running.server);
        SqliteApp { base, client: reqwest::Client::new(), store, _dir: TempDir(dir) }
    }

    async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}/api/v1{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, body).await
    }

    /// Registers (or, with `admin`, creates as `hothour create-admin` does) and signs in.
    async fn sign_in(&self, email: &str, admin: bool) -> String {
        if admin {
            hothour_api::commands::create_admin(&self.store, &test_config(None), email, "Root", Some(PASSWORD.into()))
                .await
                .unwrap();
        } else {
            let body = json!({"email": email, "password": PASSWORD, "full_name": "Someone"});
            assert_eq!(self.post("/auth/register", None, body).await.0, 201);
        }
        let (status, body) = self.post("/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }
}

const PASSWORD: &str = "password-123";

fn test_config(url: Option<String>) -> Config {
    Config::from_lookup(|name| match name {
        "DATABASE_URL" => url.clone(),
        "BIND" => Some("127.0.0.1:0".into()),
        "BCRYPT_COST" => Some("4".into()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grab_confirm_and_hold_work_on_sqlite_with_live_updates() {
    let app = SqliteApp::spawn().await;
    let root = app.sign_in("root@x.io", true).await;
    let (status, studio) = app.post("/studios", Some(&root), json!({"name": "Nine"})).await;
    assert_eq!(status, 201, "{studio}");
    let owner = app.sign_in("owner@x.io", false).await;
    let studio_id = studio["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&format!("/studios/{studio_id}/admins"), Some(&root), json!({"email": "owner@x.io"})).await.0,
        200
    );

    let now = chrono::Utc::now();
    let (status, auction) = app
        .post(
            "/auctions",
            Some(&owner),
            json!({"title": "Pilates", "start_price": "500.00", "floor_price": "100.00", "drop_amount": "50.00",
                   "drop_interval_minutes": 60, "starts_at": now - chrono::Duration::minutes(5),
                   "ends_at": now + chrono::Duration::minutes(115), "scheduled_at": now + chrono::Duration::hours(3)}),
        )
        .await;
    assert_eq!((status, auction["status"].as_str()), (201, Some("ACTIVE")), "{auction}");
    let auction_id = auction["id"].as_i64().unwrap();

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{}/api/v1/ws", app.base.replacen("http", "ws", 1)))
        .await
        .expect("a WebSocket");
    let room = format!("auction:{auction_id}");
    socket.send(Message::text(json!({"op": "subscribe", "room": room}).to_string())).await.unwrap();
    let subscribed = next_json(&mut socket).await;
    assert_eq!(
        (subscribed["type"].as_str(), subscribed["data"]["current_price"].as_str()),
        (Some("subscribed"), Some("500.00"))
    );

    let ada = app.sign_in("ada@x.io", false).await;
    let (status, hold) = app.post(&format!("/auctions/{auction_id}/grab"), Some(&ada), json!({})).await;
    assert_eq!((status, hold["unit_price"].as_str()), (201, Some("500.00")), "{hold}");
    let held = next_json(&mut socket).await;
    assert_eq!((held["type"].as_str(), held["room"].as_str()), (Some("auction_held"), Some(room.as_str())), "{held}");
    let (status, booked) = app.post(&format!("/reservations/{}/confirm", hold["id"]), Some(&ada), json!({})).await;
    assert_eq!((status, booked["status"].as_str()), (200, Some("CONFIRMED")));
    let sold = next_json(&mut socket).await;
    assert_eq!(sold["type"], "auction_booked");
    assert!(sold["seq"].as_i64() > held["seq"].as_i64(), "sequence numbers grow");

    // Seats, with money that must stay exact.
    let (status, event) = app
        .post(
            "/events",
            Some(&owner),
            json!({"title": "Salsa", "capacity": 3, "price": "0.10", "starts_at": now + chrono::Duration::days(1),
                   "ends_at": now + chrono::Duration::days(1) + chrono::Duration::hours(1)}),
        )
        .await;
    assert_eq!(status, 201, "{event}");
    let (status, seats) = app.post(&format!("/events/{}/holds", event["id"]), Some(&ada), json!({"quantity": 3})).await;
    assert_eq!((status, seats["total_price"].as_str()), (201, Some("0.30")), "{seats}");
    let (status, refused) = app.post(&format!("/events/{}/holds", event["id"]), Some(&root), json!({})).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("insufficient_capacity")));
}

async fn next_json(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a message in time");
        match message.expect("open").expect("a frame") {
            Message::Text(text) => return hothour_tests::asyncapi::parse_frame(&text),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}
