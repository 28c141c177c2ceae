//! One WebSocket connection: `auth`, `subscribe` (with snapshot or resume),
//! `unsubscribe`, `ping`; heartbeats and a read timeout; a bounded outbound
//! queue whose overflow disconnects the connection rather than slow its room.
//!
//! Limits: rooms per socket, ops per second, sockets per client IP (see
//! `WS_*` in the configuration). Private rooms (`user:`, `studio:`) last as
//! long as the sign-in behind them: until the access token expires on the
//! service's clock, and no longer than a sign-out everywhere, a password
//! change or a role change heard from any instance. An `event:` room lasts
//! as long as the event is visible to the socket's user (checked on joining
//! and on every frame): once it is hidden from them, `room_closed` ends it.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message, Session};
use bytestring::ByteString;
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use hothour_domain::account::User;
use hothour_domain::ports::OutboxStore;
use hothour_domain::{Actor, AuctionId, Clock, Role, Room};
use tokio::sync::{Notify, mpsc};

use crate::AppState;
use crate::auth::AccessToken;
use crate::client_ip::client_key;
use crate::dto::{AuctionOut, EventOut};
use crate::live::hub::{Delivery, SessionMailbox, SocketSlot, Subscriber};
use crate::live::protocol::{
    Authenticated, CatalogueRoom, ClientOp, ErrorCode, ErrorFrame, MAX_SINCE, OpName, Pong, RoomClosed, RoomClosedData,
    RoomClosedReason, ServerFrame, SessionEnded, Snapshot, StudioRoom, Subscribed, Unsubscribed, UserRoom,
};
use crate::live::sessions::SessionEnd;
use crate::live::{catalogue, stored, ticker};

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
/// Close code for a client that keeps sending ops after being told it sends too many.
pub const TOO_MANY_OPS: u16 = 4029;

/// `GET /api/v1/ws`
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let state = state.into_inner();
    let slot = state.hub.open_socket(client_key(&req), state.config.sockets.max_per_ip);
    actix_web::rt::spawn(async move {
        match slot {
            Some(slot) => Connection::new(state, session, slot).run(stream.max_frame_size(MAX_FRAME)).await,
            None => refuse_crowded(session).await,
        }
    });
    Ok(response)
}

/// Tells a socket over its IP's cap why, and closes it with 1013 (try again later).
async fn refuse_crowded(mut session: Session) {
    let frame = ServerFrame::Error(ErrorFrame {
        code: ErrorCode::TooManyConnections,
        detail: "too many live connections from this address; close one or try again later".into(),
        op: None,
        room: None,
    });
    let reason =
        CloseReason { code: CloseCode::Again, description: Some("too many connections from this address".into()) };
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = session.text(frame.to_text()).await;
        let _ = session.close(Some(reason)).await;
    })
    .await;
}

struct Connection {
    state: Arc<AppState>,
    session: Session,
    id: u64,
    /// Who signed in with `auth`, until their token expires or the session ends.
    signed_in: Option<SignedIn>,
    /// Rooms joined, with what was already sent in each.
    rooms: HashMap<String, RoomCursor>,
    queue_tx: mpsc::Sender<Arc<Delivery>>,
    queue_rx: mpsc::Receiver<Arc<Delivery>>,
    kick: Arc<Notify>,
    /// News of the signed-in user's sessions, from any instance.
    mailbox: Arc<SessionMailbox>,
    budget: OpBudget,
    /// Counts this socket against its client IP while it is open.
    _slot: SocketSlot,
}

struct SignedIn {
    user: User,
    token: AccessToken,
}

/// What an error frame answers: the op and the room it named, when known.
#[derive(Debug, Clone, Default)]
struct Answering {
    op: Option<OpName>,
    room: Option<String>,
}

impl Answering {
    fn op(op: OpName) -> Answering {
        Answering { op: Some(op), room: None }
    }

    fn room(op: OpName, room: &str) -> Answering {
        Answering { op: Some(op), room: Some(room.to_owned()) }
    }

    /// What a text frame asks, as far as it can be read: a client whose op
    /// is refused (malformed, or over the rate) learns which one it was.
    fn guess(text: &str) -> Answering {
        if let Ok(op) = serde_json::from_str::<ClientOp>(text) {
            return Answering { op: Some(op.name()), room: op.room().map(str::to_owned) };
        }
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(text) else {
            return Answering::default();
        };
        let op = fields.get("op").and_then(|op| op.as_str());
        let op = OpName::ALL.into_iter().find(|name| Some(name.as_str()) == op);
        let room = op.and(fields.get("room")).and_then(|room| room.as_str()).map(str::to_owned);
        Answering { op, room }
    }
}

/// The ops a socket may send: a bucket holding two seconds' worth, refilled
/// continuously at the configured rate (on the wall clock: this is about load).
struct OpBudget {
    per_second: f64,
    tokens: f64,
    refilled: Instant,
    refused_in_a_row: u32,
}

enum Spend {
    Allowed,
    Refused,
    /// Refused more than a full bucket's worth in a row: the client is not listening.
    Flooding,
}

impl OpBudget {
    fn new(per_second: u32) -> OpBudget {
        let per_second = f64::from(per_second.max(1));
        OpBudget { per_second, tokens: 2.0 * per_second, refilled: Instant::now(), refused_in_a_row: 0 }
    }

    fn spend(&mut self) -> Spend {
        let now = Instant::now();
        let capacity = 2.0 * self.per_second;
        self.tokens = (self.tokens + now.duration_since(self.refilled).as_secs_f64() * self.per_second).min(capacity);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_a_row = 0;
            return Spend::Allowed;
        }
        self.refused_in_a_row += 1;
        if f64::from(self.refused_in_a_row) > capacity { Spend::Flooding } else { Spend::Refused }
    }
}

fn is_private(room: &str) -> bool {
    matches!(Room::parse(room), Some(Room::User(_) | Room::Studio(_)))
}

/// May `user` (or nobody) join `room`? Answers the error to send if not.
fn may_join(user: Option<&User>, room: Room) -> Result<(), (ErrorCode, &'static str)> {
    match room {
        Room::Auction(_) | Room::Event(_) => Ok(()),
        Room::User(id) => match user {
            Some(user) if user.id == id => Ok(()),
            Some(_) => Err((ErrorCode::Forbidden, "only that user may join their room")),
            None => Err((ErrorCode::Unauthorized, "authenticate first")),
        },
        Room::Studio(id) => match user {
            Some(user) if user.actor().manages(id) => Ok(()),
            Some(_) => Err((ErrorCode::Forbidden, "only the studio's admins may join its room")),
            None => Err((ErrorCode::Unauthorized, "authenticate first")),
        },
    }
}

enum Ending {
    ClientLeft,
    /// Fell behind: its queue overflowed, or a write stayed blocked too long.
    TooSlow,
    Close(CloseCode, &'static str),
}

/// What a connection remembers of a room: events up to `floor` are covered by
/// the snapshot or replay, or were sent.
///
/// An auction's or event's events are written under its row lock, so they
/// commit, and arrive, in id order: the floor alone tells what is new. A
/// user's or studio's room, or the catalogue, is fed by many parents, and an
/// event may commit after one with a higher id: `sent` holds what was
/// delivered above the floor, so that one is still delivered.
#[derive(Debug)]
struct RoomCursor {
    floor: i64,
    /// `None` for a room whose events arrive in id order.
    sent: Option<BTreeSet<i64>>,
}

/// How many delivered sequence numbers a cursor remembers per room.
const REMEMBERED: usize = 1_024;

impl RoomCursor {
    /// For `room` (its name), covered up to `floor`.
    fn at(room: &str, floor: i64) -> RoomCursor {
        let in_id_order = matches!(Room::parse(room), Some(Room::Auction(_) | Room::Event(_)));
        RoomCursor { floor, sent: (!in_id_order).then(BTreeSet::new) }
    }

    /// Whether `seq` is new to this connection; records it if so.
    fn admit(&mut self, seq: i64) -> bool {
        if seq <= self.floor {
            return false;
        }
        let Some(sent) = &mut self.sent else {
            self.floor = seq;
            return true;
        };
        if !sent.insert(seq) {
            return false;
        }
        if sent.len() > REMEMBERED
            && let Some(oldest) = sent.pop_first()
        {
            self.floor = self.floor.max(oldest);
        }
        true
    }
}

impl Connection {
    fn new(state: Arc<AppState>, session: Session, slot: SocketSlot) -> Connection {
        let (queue_tx, queue_rx) = mpsc::channel(state.config.sockets.queue_capacity);
        let id = state.hub.connection_id();
        state.hub.open_connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let budget = OpBudget::new(state.config.sockets.ops_per_second);
        Connection {
            state,
            session,
            id,
            signed_in: None,
            rooms: HashMap::new(),
            queue_tx,
            queue_rx,
            kick: Arc::new(Notify::new()),
            mailbox: Arc::new(SessionMailbox::default()),
            budget,
            _slot: slot,
        }
    }

    async fn run(mut self, mut stream: actix_ws::MessageStream) {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        let mut last_heard = Instant::now();
        let mut shutdown = self.state.hub.shutdown_signal();
        let clock = self.state.clock.clone();
        let mailbox = self.mailbox.clone();
        // The token's expiry is a timer: set once per token, not on every
        // turn of the loop (every frame to a signed-in socket).
        let mut expiry_of: Option<DateTime<Utc>> = None;
        let mut token_expiry: Pin<Box<dyn Future<Output = ()> + Send + '_>> = Box::pin(std::future::pending());
        let ending = loop {
            let expires_at = self.signed_in.as_ref().map(|signed_in| signed_in.token.expires_at);
            if expires_at != expiry_of {
                expiry_of = expires_at;
                token_expiry = match expires_at {
                    Some(at) => clock.sleep_until(at),
                    None => Box::pin(std::future::pending()),
                };
            }
            tokio::select! {
                message = stream.recv() => {
                    last_heard = Instant::now();
                    // Protocol pings count too (a refused one is not answered).
                    if let Some(Ok(incoming @ (Message::Text(_) | Message::Binary(_) | Message::Ping(_)))) = &message {
                        match self.budget.spend() {
                            Spend::Allowed => {}
                            Spend::Refused => {
                                let detail = "too many ops: slow down";
                                let answering = match incoming {
                                    Message::Text(text) => Some(Answering::guess(text)),
                                    Message::Binary(_) => Some(Answering::default()),
                                    _ => None,
                                };
                                if let Some(answering) = answering
                                    && let Err(ending) = Box::pin(self.reply_error(answering, ErrorCode::RateLimited, detail)).await
                                {
                                    break ending;
                                }
                                continue;
                            }
                            Spend::Flooding => break Ending::Close(CloseCode::Other(TOO_MANY_OPS), "too many ops"),
                        }
                    }
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            // Boxed, as every rare path here: its future is large and lives
                            // only while it runs; inline, every idle socket's task would keep
                            // room for it (ws memory per socket, BENCHMARKS.md).
                            if let Err(ending) = Box::pin(self.handle_text(&text)).await {
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
                            let detail = "send JSON text frames";
                            if Box::pin(self.reply_error(Answering::default(), ErrorCode::BadRequest, detail)).await.is_err() {
                                break Ending::ClientLeft;
                            }
                        }
                        Some(Ok(Message::Close(_))) | None => break Ending::ClientLeft,
                        Some(Ok(_)) => {}
                        Some(Err(_)) => break Ending::Close(CloseCode::Protocol, "protocol error"),
                    }
                }
                Some(delivery) = self.queue_rx.recv() => {
                    if let Err(ending) = self.deliver(&delivery).await {
                        break ending;
                    }
                }
                _ = &mut token_expiry => {
                    if let Err(ending) = Box::pin(self.end_session(SessionEnd::TokenExpired)).await {
                        break ending;
                    }
                }
                _ = mailbox.arrived.notified() => {
                    if let Err(ending) = Box::pin(self.read_session_news()).await {
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
        if let Some(signed_in) = &self.signed_in {
            self.state.hub.unwatch_sessions(signed_in.user.id, self.id);
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

    /// Passes on a room's frame, unless the room was left or the frame is
    /// covered by the snapshot, the replay or what was sent before. Checked
    /// with whoever is signed in now: a room that turned private ends for
    /// those who may not see it (even on a frame its snapshot already covered).
    async fn deliver(&mut self, delivery: &Delivery) -> Result<(), Ending> {
        let allowed = delivery.visibility.allows(self.viewer().as_ref());
        let Some(cursor) = self.rooms.get_mut(&*delivery.room) else {
            return Ok(());
        };
        let frame = match (allowed, &delivery.instead) {
            (true, _) => &delivery.frame,
            (false, Some(instead)) => instead,
            (false, None) => return Box::pin(self.close_room(&delivery.room, RoomClosedReason::EventHidden)).await,
        };
        if delivery.seq.is_some_and(|seq| !cursor.admit(seq)) {
            return Ok(());
        }
        self.write(frame.clone()).await
    }

    /// Writes one frame, giving up when the connection is kicked, the server
    /// shuts down, or the client has not taken it within `WRITE_TIMEOUT`: a
    /// client that stopped reading must not keep this task (or the room) waiting.
    async fn write(&mut self, text: ByteString) -> Result<(), Ending> {
        let mut sent = std::pin::pin!(self.session.text(text));
        // Almost always the connection's queue has room: done without setting
        // up a timer and two signals for every socket of every broadcast.
        if let Some(sent) = (&mut sent).now_or_never() {
            return sent.map_err(|_| Ending::ClientLeft);
        }
        let mut shutdown = self.state.hub.shutdown_signal();
        tokio::select! {
            sent = sent => sent.map_err(|_| Ending::ClientLeft),
            _ = self.kick.notified() => Err(Ending::TooSlow),
            _ = shutdown.wait_for(|down| *down) => Err(Ending::Close(CloseCode::Away, "server shutting down")),
            _ = tokio::time::sleep(WRITE_TIMEOUT) => Err(Ending::TooSlow),
        }
    }

    async fn send(&mut self, frame: ServerFrame) -> Result<(), Ending> {
        self.write(ByteString::from(frame.to_text())).await
    }

    /// Who is signed in on this socket, as far as it knows.
    fn viewer(&self) -> Option<Actor> {
        self.signed_in.as_ref().map(|signed_in| signed_in.user.actor())
    }

    /// Leaves `room` for good and tells the client why.
    async fn close_room(&mut self, room: &str, reason: RoomClosedReason) -> Result<(), Ending> {
        self.rooms.remove(room);
        self.state.hub.unsubscribe(room, self.id);
        let frame = RoomClosed { room: room.to_owned(), data: RoomClosedData { reason } };
        self.send(ServerFrame::RoomClosed(frame)).await
    }

    async fn reply_error(&mut self, answering: Answering, code: ErrorCode, detail: &str) -> Result<(), Ending> {
        let frame = ErrorFrame { code, detail: detail.to_owned(), op: answering.op, room: answering.room };
        self.send(ServerFrame::Error(frame)).await
    }

    async fn handle_text(&mut self, text: &str) -> Result<(), Ending> {
        let op = match serde_json::from_str::<ClientOp>(text) {
            Ok(op) => op,
            Err(error) => {
                return self.reply_error(Answering::guess(text), ErrorCode::BadRequest, &error.to_string()).await;
            }
        };
        match op {
            ClientOp::Ping(_) => self.send(ServerFrame::Pong(Pong { at: self.state.clock.now() })).await,
            ClientOp::Auth(auth) => self.authenticate(&auth.token).await,
            ClientOp::Subscribe(subscribe) => self.subscribe(&subscribe.room, subscribe.since).await,
            ClientOp::Unsubscribe(unsubscribe) => {
                let room = unsubscribe.room;
                if self.rooms.remove(&room).is_some() {
                    self.state.hub.unsubscribe(&room, self.id);
                }
                self.send(ServerFrame::Unsubscribed(Unsubscribed { room })).await
            }
        }
    }

    async fn authenticate(&mut self, token: &str) -> Result<(), Ending> {
        let Some(token) = self.state.keys.verify_at(token, self.state.clock.now()) else {
            let detail = "the access token is invalid or expired";
            return self.reply_error(Answering::op(OpName::Auth), ErrorCode::Unauthorized, detail).await;
        };
        // Listen before checking, so that a revocation committed meanwhile is still heard.
        self.state.hub.watch_sessions(token.user, self.id, self.mailbox.clone());
        let user = match self.check_session(&token).await {
            Ok(user) => user,
            Err((code, detail)) => {
                if self.signed_in.as_ref().is_none_or(|signed_in| signed_in.user.id != token.user) {
                    self.state.hub.unwatch_sessions(token.user, self.id);
                }
                return self.reply_error(Answering::op(OpName::Auth), code, detail).await;
            }
        };
        let reply = ServerFrame::Authenticated(Authenticated {
            user_id: user.id.0,
            role: user.role,
            expires_at: token.expires_at,
        });
        let previous = self.signed_in.replace(SignedIn { user, token });
        if let Some(previous) = previous.filter(|previous| previous.user.id != token.user) {
            // Another user now: nothing of the previous one's stays.
            self.state.hub.unwatch_sessions(previous.user.id, self.id);
            let dropped = self.leave_private_rooms();
            self.send_session_ended(SessionEnd::Replaced, dropped).await?;
        }
        self.send(reply).await
    }

    /// The user a valid token signs in, unless the token was signed out or the
    /// account is gone. Answers the error to send if not.
    async fn check_session(&self, token: &AccessToken) -> Result<User, (ErrorCode, &'static str)> {
        const UNAVAILABLE: (ErrorCode, &str) = (ErrorCode::Unavailable, "the session cannot be checked now; try again");
        let user = self.state.accounts.user(token.user).await.map_err(|_| UNAVAILABLE)?;
        let user = user.ok_or((ErrorCode::Unauthorized, "the account no longer exists"))?;
        if token.revoked_by(user.session_generation) {
            return Err((
                ErrorCode::Unauthorized,
                "this token was signed out (everywhere, or by a password change): sign in again",
            ));
        }
        Ok(user)
    }

    /// Leaves every private room; answers the rooms left.
    fn leave_private_rooms(&mut self) -> Vec<String> {
        let private: Vec<String> = self.rooms.keys().filter(|room| is_private(room)).cloned().collect();
        for room in &private {
            self.rooms.remove(room);
            self.state.hub.unsubscribe(room, self.id);
        }
        private
    }

    async fn send_session_ended(&mut self, reason: SessionEnd, mut rooms: Vec<String>) -> Result<(), Ending> {
        rooms.sort();
        let frame = SessionEnded { reason, rooms, signed_in: self.signed_in.is_some(), at: self.state.clock.now() };
        self.send(ServerFrame::SessionEnded(frame)).await
    }

    /// Signs the socket out: its private rooms end; public rooms carry on.
    async fn end_session(&mut self, reason: SessionEnd) -> Result<(), Ending> {
        let Some(signed_in) = self.signed_in.take() else {
            return Ok(());
        };
        self.state.hub.unwatch_sessions(signed_in.user.id, self.id);
        let dropped = self.leave_private_rooms();
        self.send_session_ended(reason, dropped).await
    }

    /// Acts on what was heard about the signed-in user: a revocation covering
    /// this socket's token signs it out; a role change ends its private rooms
    /// (joining again checks the new role).
    async fn read_session_news(&mut self) -> Result<(), Ending> {
        let Some(signed_in) = &self.signed_in else {
            return Ok(());
        };
        let news = self.mailbox.take(signed_in.user.id);
        if let Some((generation, reason)) = news.revoked
            && signed_in.token.revoked_by(generation)
        {
            return self.end_session(reason).await;
        }
        if news.role_changed {
            self.reread_role().await;
            let dropped = self.leave_private_rooms();
            return self.send_session_ended(SessionEnd::RoleChanged, dropped).await;
        }
        Ok(())
    }

    /// Learns the signed-in user's new role, which decides what the socket's
    /// public rooms may still deliver to it. Unread, the user counts as a plain
    /// user: an admin who may have lost the role sees no hidden event.
    async fn reread_role(&mut self) {
        let Some(signed_in) = &mut self.signed_in else {
            return;
        };
        match self.state.accounts.user(signed_in.user.id).await {
            Ok(Some(user)) => signed_in.user = user,
            _ => {
                signed_in.user.role = Role::User;
                signed_in.user.studio_id = None;
            }
        }
    }

    /// May this connection's user join `room`? Answers who is looking if so,
    /// the error to send if not.
    async fn admit(&self, room: Room) -> Result<Option<Actor>, (ErrorCode, &'static str)> {
        // Re-read the user: a role change takes effect at once.
        let user = match &self.signed_in {
            Some(signed_in) => match self.state.accounts.user(signed_in.user.id).await {
                Ok(user) => user,
                Err(_) => return Err((ErrorCode::Unavailable, "the session cannot be checked now; try again")),
            },
            None => None,
        };
        may_join(user.as_ref(), room)?;
        Ok(user.map(|user| user.actor()))
    }

    /// The room's state now, for a client that starts (or must restart) from
    /// scratch; `None` when there is no such room (or `viewer` may not see it).
    async fn snapshot(&self, room: Room, viewer: Option<&Actor>) -> Option<Snapshot> {
        match room {
            Room::Auction(id) => {
                let (record, view) = self.state.services.get_auction(id).await.ok()?;
                let studio = self.state.studio_summary(record.auction.studio_id).await.ok()?;
                Some(Snapshot::Auction(AuctionOut::new(&record.auction, &view, studio)))
            }
            Room::Event(id) => {
                let record = self.state.services.get_event(id).await.ok()?;
                if !record.event.visibility().allows(viewer) {
                    return None;
                }
                let studio = self.state.studio_summary(record.event.studio_id).await.ok()?;
                Some(Snapshot::Event(EventOut::new(&record, studio)))
            }
            Room::User(id) => Some(Snapshot::User(UserRoom { user_id: id.0 })),
            Room::Studio(id) => {
                self.state.studios.get(id).await.ok()?;
                Some(Snapshot::Studio(StudioRoom { studio_id: id.0 }))
            }
        }
    }

    /// Joins the public catalogue: from now on every change is new to this
    /// socket (it is fed by many parents, and its empty snapshot covers none).
    async fn join_catalogue(&mut self) -> Result<(), Ending> {
        let subscriber = Subscriber { queue: self.queue_tx.clone(), kick: self.kick.clone() };
        self.state.hub.subscribe(catalogue::ROOM, self.id, subscriber, false);
        self.rooms.insert(catalogue::ROOM.to_owned(), RoomCursor::at(catalogue::ROOM, 0));
        let Ok(latest) = self.state.store.latest_seq_overall().await else {
            self.rooms.remove(catalogue::ROOM);
            self.state.hub.unsubscribe(catalogue::ROOM, self.id);
            let detail = "the catalogue cannot be joined now; try again";
            return self
                .reply_error(Answering::room(OpName::Subscribe, catalogue::ROOM), ErrorCode::Unavailable, detail)
                .await;
        };
        let reply = Subscribed {
            room: catalogue::ROOM.to_owned(),
            seq: latest,
            epoch: self.state.epoch,
            at: self.state.clock.now(),
            resumed: false,
            data: Some(Snapshot::Catalogue(CatalogueRoom {})),
        };
        self.send(ServerFrame::Subscribed(reply)).await
    }

    async fn subscribe(&mut self, name: &str, since: Option<i64>) -> Result<(), Ending> {
        let answering = || Answering::room(OpName::Subscribe, name);
        // `None`: the catalogue, which no domain event names.
        let room = match Room::parse(name) {
            Some(room) => Some(room),
            None if name == catalogue::ROOM => None,
            None => {
                let detail = "rooms are catalogue, auction:{id}, event:{id}, user:{id} or studio:{id}";
                return self.reply_error(answering(), ErrorCode::BadRequest, detail).await;
            }
        };
        if since.is_some_and(|since| !(0..=MAX_SINCE).contains(&since)) {
            let detail = format!("since must be a sequence number from 0 to {MAX_SINCE}");
            return self.reply_error(answering(), ErrorCode::InvalidSince, &detail).await;
        }
        let name = room.map_or_else(|| catalogue::ROOM.to_owned(), |room| room.to_string());
        let limit = self.state.config.sockets.max_rooms;
        if !self.rooms.contains_key(&name) && self.rooms.len() >= limit {
            let detail = format!("a socket may be in at most {limit} rooms: unsubscribe from one first");
            return self.reply_error(answering(), ErrorCode::TooManyRooms, &detail).await;
        }
        let Some(room) = room else {
            return self.join_catalogue().await;
        };
        let viewer = match self.admit(room).await {
            Ok(viewer) => viewer,
            Err((code, detail)) => return self.reply_error(answering(), code, detail).await,
        };
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
        // The room must exist, resuming or not.
        let Some(snapshot) = self.snapshot(room, viewer.as_ref()).await else {
            self.rooms.remove(&name);
            self.state.hub.unsubscribe(&name, self.id);
            return self.reply_error(answering(), ErrorCode::NotFound, "no such room").await;
        };
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
                let since = since.unwrap_or(0);
                let last = events.last().map_or(since, |e| e.seq).max(since);
                let mut cursor = RoomCursor::at(&name, since);
                for event in &events {
                    cursor.admit(event.seq);
                }
                self.rooms.insert(name.clone(), cursor);
                let epoch = self.state.epoch;
                let reply = Subscribed { room: name, seq: last, epoch, at: now, resumed: true, data: None };
                self.send(ServerFrame::Subscribed(reply)).await?;
                // A row without its kind's shape is skipped: gaps in `seq` are
                // normal. So is what was said while the event was hidden from `viewer`.
                for event in &events {
                    let frame = match stored::frame_of(&self.state, event).await {
                        Ok(frame) => frame,
                        Err(_) => {
                            let detail = "the missed events cannot be read now; subscribe again";
                            return self.reply_error(answering(), ErrorCode::Unavailable, detail).await;
                        }
                    };
                    if let Some(frame) = frame.filter(|frame| frame.visibility().allows(viewer.as_ref())) {
                        self.send(frame).await?;
                    }
                }
                Ok(())
            }
            None => {
                // An auction's or event's events are written under its row
                // lock, so they commit in id order and the snapshot covers
                // every id up to `latest`. A user's or studio's room is fed by
                // many parents: one may commit later with an id below `latest`,
                // and its snapshot holds no state to cover it, so every event
                // heard from now on is new.
                let covered = if is_private(&name) { 0 } else { latest };
                self.rooms.insert(name.clone(), RoomCursor::at(&name, covered));
                let epoch = self.state.epoch;
                let reply =
                    Subscribed { room: name, seq: latest, epoch, at: now, resumed: false, data: Some(snapshot) };
                self.send(ServerFrame::Subscribed(reply)).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auction_or_event_room_needs_only_its_floor() {
        for room in ["auction:1", "event:1"] {
            let mut cursor = RoomCursor::at(room, 10);
            assert!(!cursor.admit(10), "{room}: covered by the snapshot");
            assert!(cursor.admit(12), "{room}");
            assert!(!cursor.admit(12), "{room}: sent once");
            assert!(cursor.admit(15), "{room}");
            assert_eq!(cursor.floor, 15, "{room}");
            assert!(cursor.sent.is_none(), "{room}: nothing remembered above the floor");
        }
    }

    #[test]
    fn a_room_fed_by_many_parents_still_delivers_an_event_that_commits_late() {
        for room in ["user:1", "studio:1", catalogue::ROOM] {
            let mut cursor = RoomCursor::at(room, 0);
            assert!(cursor.admit(12), "{room}");
            assert!(cursor.admit(11), "{room}: committed after 12, still new");
            assert!(!cursor.admit(11), "{room}: sent once");
            assert!(!cursor.admit(12), "{room}: sent once");
        }
    }

    #[test]
    fn a_cursor_remembers_a_bounded_number_of_events() {
        let mut cursor = RoomCursor::at("studio:1", 0);
        for seq in 1..=(REMEMBERED as i64 + 10) {
            assert!(cursor.admit(seq));
        }
        assert_eq!(cursor.sent.as_ref().map(BTreeSet::len), Some(REMEMBERED));
        assert_eq!(cursor.floor, 10, "the oldest ones became the floor");
        assert!(!cursor.admit(5));
    }
}
