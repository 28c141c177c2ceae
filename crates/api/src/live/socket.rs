//! One WebSocket connection: `auth`, `subscribe` (with snapshot or resume),
//! `unsubscribe`, `ping`; heartbeats and a read timeout; a bounded outbound
//! queue whose overflow disconnects the connection rather than slow its room.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message, Session};
use hothour_domain::account::User;
use hothour_domain::ports::{AccountStore, OutboxStore};
use hothour_domain::{AuctionId, Clock, Room};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use crate::AppState;
use crate::live::hub::{Frame, Subscriber};
use crate::live::{event_frame, ticker};

/// Messages a connection may have waiting before it counts as too slow.
pub const QUEUE_CAPACITY: usize = 256;
const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long one frame may wait for a client to take it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(45);
const MAX_FRAME: usize = 16 * 1024;
const REPLAY_LIMIT: u32 = 1_000;
/// Close code for a client that fell too far behind (private-use range).
pub const SLOW_CONSUMER: u16 = 4008;

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum Op {
    Auth { token: String },
    Subscribe { room: String, since: Option<i64> },
    Unsubscribe { room: String },
    Ping,
}

/// `GET /api/v1/ws`
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let state = state.into_inner();
    actix_web::rt::spawn(async move {
        let connection = Connection::new(state, session);
        connection.run(stream.max_frame_size(MAX_FRAME)).await;
    });
    Ok(response)
}

struct Connection {
    state: Arc<AppState>,
    session: Session,
    id: u64,
    user: Option<User>,
    /// Rooms joined, with what was already sent in each.
    rooms: HashMap<String, RoomCursor>,
    queue_tx: mpsc::Sender<(String, Option<i64>, Frame)>,
    queue_rx: mpsc::Receiver<(String, Option<i64>, Frame)>,
    kick: Arc<Notify>,
}

enum Ending {
    ClientLeft,
    /// Fell behind: its queue overflowed, or a write stayed blocked too long.
    TooSlow,
    Close(CloseCode, &'static str),
}

/// What a connection remembers of a room: events up to `floor` are covered by
/// the snapshot or replay; `sent` holds those delivered since, so an event
/// committed out of id order (rooms fed by several parents) is still delivered.
#[derive(Debug, Default)]
struct RoomCursor {
    floor: i64,
    sent: std::collections::BTreeSet<i64>,
}

/// How many delivered sequence numbers a cursor remembers per room.
const REMEMBERED: usize = 1_024;

impl RoomCursor {
    fn at(floor: i64) -> RoomCursor {
        RoomCursor { floor, sent: Default::default() }
    }

    /// Whether `seq` is new to this connection; records it if so.
    fn admit(&mut self, seq: i64) -> bool {
        if seq <= self.floor || !self.sent.insert(seq) {
            return false;
        }
        if self.sent.len() > REMEMBERED
            && let Some(oldest) = self.sent.pop_first()
        {
            self.floor = self.floor.max(oldest);
        }
        true
    }
}

impl Connection {
    fn new(state: Arc<AppState>, session: Session) -> Connection {
        let (queue_tx, queue_rx) = mpsc::channel(state.config.ws_queue_capacity);
        let id = state.hub.connection_id();
        state.hub.open_connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Connection {
            state,
            session,
            id,
            user: None,
            rooms: HashMap::new(),
            queue_tx,
            queue_rx,
            kick: Arc::new(Notify::new()),
        }
    }

    async fn run(mut self, mut stream: actix_ws::MessageStream) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut last_heard = Instant::now();
        let mut shutdown = self.state.hub.shutdown_signal();
        let ending = loop {
            tokio::select! {
                message = stream.recv() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            if let Err(ending) = self.handle_text(&text).await {
                                break ending;
                            }
                        }
                        Some(Ok(Message::Ping(bytes))) => {
                            if self.session.pong(&bytes).await.is_err() {
                                break Ending::ClientLeft;
                            }
                        }
                        Some(Ok(Message::Pong(_))) => {}
                        Some(Ok(Message::Binary(_))) => {
                            if self.reply_error("bad_request", "send JSON text frames").await.is_err() {
                                break Ending::ClientLeft;
                            }
                        }
                        Some(Ok(Message::Close(_))) | None => break Ending::ClientLeft,
                        Some(Ok(_)) => {}
                        Some(Err(_)) => break Ending::Close(CloseCode::Protocol, "protocol error"),
                    }
                }
                Some((room, seq, frame)) = self.queue_rx.recv() => {
                    if !self.should_send(&room, seq) {
                        continue;
                    }
                    if let Err(ending) = self.write(frame.to_string()).await {
                        break ending;
                    }
                }
                _ = self.kick.notified() => break Ending::TooSlow,
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > READ_TIMEOUT {
                        break Ending::Close(CloseCode::Away, "no answer to pings");
                    }
                    let ping = tokio::time::timeout(WRITE_TIMEOUT, self.session.ping(b"")).await;
                    match ping {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break Ending::ClientLeft,
                        Err(_) => break Ending::TooSlow,
                    }
                }
                _ = shutdown.wait_for(|down| *down) => break Ending::Close(CloseCode::Away, "server shutting down"),
            }
        };
        for room in self.rooms.keys() {
            self.state.hub.unsubscribe(room, self.id);
        }
        self.state.hub.open_connections.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        let close = match ending {
            Ending::ClientLeft => None,
            Ending::TooSlow => {
                self.state.hub.slow_consumers_dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Some((CloseCode::Other(SLOW_CONSUMER), "too slow: messages were piling up"))
            }
            Ending::Close(code, description) => Some((code, description)),
        };
        if let Some((code, description)) = close {
            let reason = CloseReason { code, description: Some(description.to_owned()) };
            // A client that stopped reading cannot take the close frame either: do not wait on it.
            let _ = tokio::time::timeout(Duration::from_secs(1), self.session.close(Some(reason))).await;
        }
    }

    /// Drops events already covered by the snapshot, the replay, or sent before.
    fn should_send(&mut self, room: &str, seq: Option<i64>) -> bool {
        let Some(cursor) = self.rooms.get_mut(room) else {
            return false;
        };
        seq.is_none_or(|seq| cursor.admit(seq))
    }

    /// Writes one frame, giving up when the connection is kicked, the server
    /// shuts down, or the client has not taken it within `WRITE_TIMEOUT`: a
    /// client that stopped reading must not keep this task (or the room) waiting.
    async fn write(&mut self, text: String) -> Result<(), Ending> {
        let kick = self.kick.clone();
        let mut shutdown = self.state.hub.shutdown_signal();
        tokio::select! {
            sent = self.session.text(text) => sent.map_err(|_| Ending::ClientLeft),
            _ = kick.notified() => Err(Ending::TooSlow),
            _ = shutdown.wait_for(|down| *down) => Err(Ending::Close(CloseCode::Away, "server shutting down")),
            _ = tokio::time::sleep(WRITE_TIMEOUT) => Err(Ending::TooSlow),
        }
    }

    async fn send(&mut self, value: Value) -> Result<(), Ending> {
        self.write(value.to_string()).await
    }

    async fn reply_error(&mut self, code: &str, detail: &str) -> Result<(), Ending> {
        self.send(json!({ "type": "error", "code": code, "detail": detail })).await
    }

    async fn handle_text(&mut self, text: &str) -> Result<(), Ending> {
        let op = match serde_json::from_str::<Op>(text) {
            Ok(op) => op,
            Err(error) => return self.reply_error("bad_request", &error.to_string()).await,
        };
        match op {
            Op::Ping => self.send(json!({ "type": "pong", "at": self.state.clock.now() })).await,
            Op::Auth { token } => self.authenticate(&token).await,
            Op::Subscribe { room, since } => self.subscribe(&room, since).await,
            Op::Unsubscribe { room } => {
                if self.rooms.remove(&room).is_some() {
                    self.state.hub.unsubscribe(&room, self.id);
                }
                self.send(json!({ "type": "unsubscribed", "room": room })).await
            }
        }
    }

    async fn authenticate(&mut self, token: &str) -> Result<(), Ending> {
        let user = match self.state.keys.verify(token) {
            Some(id) => self.state.store.find_user(id).await.ok().flatten(),
            None => None,
        };
        match user {
            Some(user) => {
                let reply = json!({ "type": "authenticated", "user_id": user.id.0, "role": user.role.as_str() });
                self.user = Some(user);
                self.send(reply).await
            }
            None => self.reply_error("unauthorized", "the access token is invalid or expired").await,
        }
    }

    /// May this connection's user join `room`? Answers the error to send if not.
    async fn admit(&self, room: Room) -> Result<(), (&'static str, &'static str)> {
        // Re-read the user: a role change takes effect at once.
        let user = match &self.user {
            Some(user) => self.state.store.find_user(user.id).await.ok().flatten(),
            None => None,
        };
        match room {
            Room::Auction(_) | Room::Event(_) => Ok(()),
            Room::User(id) => match user {
                Some(user) if user.id == id => Ok(()),
                Some(_) => Err(("forbidden", "only that user may join their room")),
                None => Err(("unauthorized", "authenticate first")),
            },
            Room::Studio(id) => match user {
                Some(user) if user.actor().manages(id) => Ok(()),
                Some(_) => Err(("forbidden", "only the studio's admins may join its room")),
                None => Err(("unauthorized", "authenticate first")),
            },
        }
    }

    /// The room's state now, for a client that starts (or must restart) from scratch.
    async fn snapshot(&self, room: Room) -> Option<Value> {
        let now = self.state.clock.now();
        match room {
            Room::Auction(id) => {
                let (record, _) = self.state.services.get_auction(id).await.ok()?;
                Some(record.auction.to_json(record.live.as_ref(), now))
            }
            Room::Event(id) => {
                let record = self.state.services.get_event(id).await.ok()?;
                let visible = record.event.details.is_active
                    || self.user.as_ref().is_some_and(|u| u.actor().manages(record.event.studio_id));
                visible.then(|| record.event.availability_json(record.availability))
            }
            Room::User(id) => Some(json!({ "user_id": id.0 })),
            Room::Studio(id) => Some(json!({ "studio_id": id.0 })),
        }
    }

    async fn subscribe(&mut self, name: &str, since: Option<i64>) -> Result<(), Ending> {
        let Some(room) = Room::parse(name) else {
            return self
                .reply_error("bad_request", "rooms are auction:{id}, event:{id}, user:{id} or studio:{id}")
                .await;
        };
        if let Err((code, detail)) = self.admit(room).await {
            return self.reply_error(code, detail).await;
        }
        let name = room.to_string();
        // Join first, so nothing committed from now on is missed; what the
        // snapshot or replay already covers is dropped by sequence number.
        let is_auction = matches!(room, Room::Auction(_));
        let (start_ticker, changed) = self.state.hub.subscribe(
            &name,
            self.id,
            Subscriber { queue: self.queue_tx.clone(), kick: self.kick.clone() },
            is_auction,
        );
        if let (true, Room::Auction(id)) = (start_ticker, room) {
            ticker::spawn(self.state.clone(), AuctionId(id.0), changed);
        }
        let latest = self.state.store.latest_seq(&name).await.unwrap_or(0);
        let replay = match since {
            // More missed events than a replay carries: a snapshot is cheaper.
            Some(since) => self
                .state
                .store
                .events_since(&name, since, REPLAY_LIMIT)
                .await
                .ok()
                .flatten()
                .filter(|events| events.len() < REPLAY_LIMIT as usize),
            None => None,
        };
        let now = self.state.clock.now();
        match replay {
            Some(events) => {
                let last = events.last().map_or(since.unwrap_or(0), |e| e.seq).max(since.unwrap_or(0));
                self.rooms.insert(name.clone(), RoomCursor::at(since.unwrap_or(0)));
                if let Some(cursor) = self.rooms.get_mut(&name) {
                    for event in &events {
                        cursor.admit(event.seq);
                    }
                }
                self.send(json!({
                    "type": "subscribed", "room": name, "seq": last, "epoch": self.state.epoch,
                    "at": now, "resumed": true, "data": null,
                }))
                .await?;
                for event in &events {
                    self.write(event_frame(event, self.state.epoch)).await?;
                }
                Ok(())
            }
            None => {
                let Some(snapshot) = self.snapshot(room).await else {
                    self.state.hub.unsubscribe(&name, self.id);
                    return self.reply_error("not_found", "no such room").await;
                };
                self.rooms.insert(name.clone(), RoomCursor::at(latest));
                self.send(json!({
                    "type": "subscribed", "room": name, "seq": latest, "epoch": self.state.epoch,
                    "at": now, "resumed": false, "data": snapshot,
                }))
                .await
            }
        }
    }
}
