//! A WebSocket client for the live endpoint: every text frame it reads is
//! checked against the AsyncAPI document.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::app::{Session, TestApp};
use crate::asyncapi;

/// How long a message the test expects may take.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long the test listens to conclude that nothing more comes.
pub const QUIET: Duration = Duration::from_millis(500);

/// How a connection ended.
#[derive(Debug, PartialEq)]
pub enum Ending {
    /// A Close frame, with its code if it had one.
    Closed(Option<u16>),
    /// The stream ended without a Close frame.
    Ended,
    /// Reading failed (e.g. the connection was reset).
    Failed(String),
}

pub struct WsClient {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub async fn connect(app: &TestApp) -> WsClient {
        WsClient::connect_to(&app.ws_url()).await
    }

    /// A client of the live endpoint at `url` (`ws://…/api/v1/ws`), e.g. of a service run as a process.
    pub async fn connect_to(url: &str) -> WsClient {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("the WebSocket upgrade");
        WsClient { ws }
    }

    /// A client whose socket has a tiny receive buffer, so that it stops
    /// accepting data soon once it stops reading.
    pub async fn connect_with_small_buffer(app: &TestApp) -> WsClient {
        let addr: SocketAddr = app.base_url.trim_start_matches("http://").parse().expect("a socket address");
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("a small receive buffer");
        let stream = socket.connect(addr).await.expect("connect");
        let (ws, _) = tokio_tungstenite::client_async(app.ws_url(), MaybeTlsStream::Plain(stream))
            .await
            .expect("the WebSocket upgrade");
        WsClient { ws }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send a frame");
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// The next JSON message within `wait` (control frames skipped), or `None`.
    /// Panics when the connection ends instead.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let Ok(message) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return None;
            };
            match message {
                Some(Ok(Message::Text(text))) => return Some(asyncapi::parse_frame(&text)),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Binary(bytes))) => panic!("unexpected binary frame: {bytes:?}"),
                Some(Ok(Message::Close(frame))) => panic!("the server closed the connection: {frame:?}"),
                Some(Err(error)) => panic!("reading failed: {error}"),
                None => panic!("the connection ended"),
            }
        }
    }

    pub async fn next_json(&mut self) -> Value {
        self.next_within(WAIT).await.unwrap_or_else(|| panic!("no message within {WAIT:?}"))
    }

    /// The next message of type `kind` within `wait`, skipping others.
    pub async fn next_of_type_within(&mut self, kind: &str, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let message = self.next_within(deadline.saturating_duration_since(Instant::now())).await?;
            if message["type"] == kind {
                return Some(message);
            }
        }
    }

    pub async fn next_of_type(&mut self, kind: &str) -> Value {
        self.next_of_type_within(kind, WAIT).await.unwrap_or_else(|| panic!("no {kind} within {WAIT:?}"))
    }

    /// The next message of each of `kinds`, in whatever order they come (others skipped).
    pub async fn each_of(&mut self, kinds: &[&str]) -> Vec<Value> {
        let mut found: Vec<Option<Value>> = vec![None; kinds.len()];
        let deadline = Instant::now() + WAIT;
        while found.iter().any(Option::is_none) {
            let Some(message) = self.next_within(deadline.saturating_duration_since(Instant::now())).await else {
                panic!("not all of {kinds:?} within {WAIT:?}: {found:?}");
            };
            if let Some(at) = kinds.iter().position(|kind| message["type"] == *kind) {
                found[at].get_or_insert(message);
            }
        }
        found.into_iter().flatten().collect()
    }

    /// Every message that arrives within `wait`.
    pub async fn collect_for(&mut self, wait: Duration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        let mut messages = Vec::new();
        while let Some(message) = self.next_within(deadline.saturating_duration_since(Instant::now())).await {
            messages.push(message);
        }
        messages
    }

    /// Asserts that nothing arrives for a while.
    pub async fn assert_quiet(&mut self) {
        let extra = self.collect_for(QUIET).await;
        assert!(extra.is_empty(), "expected nothing more, got {extra:?}");
    }

    pub async fn auth(&mut self, token: &str) -> Value {
        self.send_json(json!({"op": "auth", "token": token})).await;
        self.next_json().await
    }

    /// Signs in and asserts it worked.
    pub async fn authenticated(&mut self, session: &Session) {
        let reply = self.auth(&session.token).await;
        assert_eq!(reply["type"], "authenticated", "{reply}");
        assert_eq!(reply["user_id"], session.user_id, "{reply}");
    }

    /// Sends `subscribe` and answers the reply.
    pub async fn subscribe(&mut self, room: &str, since: Option<i64>) -> Value {
        let mut op = json!({"op": "subscribe", "room": room});
        if let Some(since) = since {
            op["since"] = json!(since);
        }
        self.send_json(op).await;
        self.next_json().await
    }

    /// Subscribes (without `since`) and asserts it worked with a fresh snapshot.
    pub async fn subscribed(&mut self, room: &str) -> Value {
        let reply = self.subscribe(room, None).await;
        assert_eq!(reply["type"], "subscribed", "{room}: {reply}");
        assert_eq!(reply["room"], room, "{reply}");
        assert_eq!(reply["resumed"], false, "{reply}");
        reply
    }

    pub async fn ping(&mut self) {
        self.send_json(json!({"op": "ping"})).await;
        assert_eq!(self.next_json().await["type"], "pong");
    }

    /// Every text frame until the connection ends, and the close code if a Close frame came.
    /// Panics if it stays open for [`WAIT`].
    pub async fn read_to_close(&mut self) -> (Vec<Value>, Option<u16>) {
        let deadline = Instant::now() + WAIT;
        let mut texts = Vec::new();
        loop {
            let Ok(message) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                panic!("the connection is still open after {WAIT:?}: {texts:?}");
            };
            match message {
                Some(Ok(Message::Text(text))) => texts.push(asyncapi::parse_frame(&text)),
                Some(Ok(Message::Close(frame))) => return (texts, frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (texts, None),
            }
        }
    }

    /// Reads (skipping messages) until the connection ends; panics if it stays open for `wait`.
    pub async fn ending(&mut self, wait: Duration) -> Ending {
        read_to_end(&mut self.ws, wait).await.1
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Reads until the connection ends: how many text frames came first, and how it ended.
/// Panics if it stays open for `wait`.
pub async fn read_to_end<S>(stream: &mut S, wait: Duration) -> (usize, Ending)
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = Instant::now() + wait;
    let mut texts = 0;
    loop {
        let Ok(message) = tokio::time::timeout_at(deadline, stream.next()).await else {
            panic!("the connection is still open after {wait:?} ({texts} text frames read)");
        };
        match message {
            Some(Ok(Message::Close(frame))) => return (texts, Ending::Closed(frame.map(|f| u16::from(f.code)))),
            Some(Ok(Message::Text(text))) => {
                asyncapi::parse_frame(&text);
                texts += 1;
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return (texts, Ending::Failed(error.to_string())),
            None => return (texts, Ending::Ended),
        }
    }
}

/// Asserts an `error` frame with `code`.
#[track_caller]
pub fn assert_error(reply: &Value, code: &str) {
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], code, "{reply}");
}

/// The `seq` of a room message.
pub fn seq(message: &Value) -> i64 {
    message["seq"].as_i64().unwrap_or_else(|| panic!("a seq in {message}"))
}
