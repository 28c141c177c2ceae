//! Rooms and their subscribers on this instance.
//!
//! Every connection has a bounded queue. Broadcasting only `try_send`s into
//! those queues, so a subscriber that stops reading can never slow its room:
//! when its queue is full it is kicked (and its connection closes).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use hothour_domain::{UserId, Visibility};
use tokio::sync::{Notify, mpsc, watch};

use crate::live::sessions::SessionNews;

/// One message as sent on the wire, shared by every subscriber of a room.
/// A frame as sent: encoded once, its bytes shared by every socket it goes to.
pub type Frame = ByteString;

/// What a room sends a subscriber.
pub struct Delivery {
    pub room: Arc<str>,
    /// The event's sequence number (none for price ticks).
    pub seq: Option<i64>,
    pub frame: Frame,
    /// Who may receive it (the connection decides, knowing who is signed in
    /// on it now).
    pub visibility: Visibility,
    /// What a subscriber who may not receive it gets instead; without it,
    /// that subscriber leaves the room.
    pub instead: Option<Frame>,
}

/// What the hub holds of one connection.
#[derive(Clone)]
pub struct Subscriber {
    /// Shared by every subscriber of a broadcast: a queue slot is one pointer.
    pub queue: mpsc::Sender<Arc<Delivery>>,
    /// Notified when the connection must go: it fell behind.
    pub kick: Arc<Notify>,
}

#[derive(Default)]
struct Room {
    subscribers: HashMap<u64, Subscriber>,
    /// Wakes the room's price ticker when the auction changes.
    changed: Arc<Notify>,
    /// A price ticker runs for this room (at most one ever does).
    ticking: bool,
}

/// Where a connection hears about the sessions of the user signed in on it.
#[derive(Default)]
pub struct SessionMailbox {
    /// By user: a socket that signs in as someone else must not act on
    /// news about the one before.
    news: Mutex<HashMap<UserId, SessionNews>>,
    /// Notified when news arrives.
    pub arrived: Notify,
}

impl SessionMailbox {
    fn post(&self, user: UserId, news: SessionNews) {
        self.news.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).entry(user).or_default().merge(news);
        self.arrived.notify_one();
    }

    /// The news about `user` since the last call; news about anyone else is dropped.
    pub fn take(&self, user: UserId) -> SessionNews {
        let mut news = self.news.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mine = news.remove(&user).unwrap_or_default();
        news.clear();
        mine
    }
}

pub struct Hub {
    rooms: Mutex<HashMap<String, Room>>,
    /// Connections by the user signed in on them.
    signed_in: Mutex<HashMap<UserId, HashMap<u64, Arc<SessionMailbox>>>>,
    /// Open sockets per client IP.
    sockets_per_ip: Mutex<HashMap<IpAddr, usize>>,
    next_connection: AtomicU64,
    pub slow_consumers_dropped: AtomicU64,
    pub open_connections: AtomicU64,
    /// Times a price ticker could not read its auction (it retries).
    pub ticker_read_failures: AtomicU64,
    /// Turns true once when the server shuts down: every socket closes with 1001.
    shutdown: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            rooms: Mutex::default(),
            signed_in: Mutex::default(),
            sockets_per_ip: Mutex::default(),
            next_connection: AtomicU64::new(0),
            slow_consumers_dropped: AtomicU64::new(0),
            open_connections: AtomicU64::new(0),
            ticker_read_failures: AtomicU64::new(0),
            shutdown: watch::Sender::new(false),
        }
    }
}

/// One open socket counted against its client IP; uncounted when dropped.
pub struct SocketSlot {
    hub: Arc<Hub>,
    ip: IpAddr,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut counts = self.hub.sockets_per_ip.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    /// Asks every connection to close (going away, 1001).
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts a new socket from `ip`, unless `ip` already has `max` open.
    pub fn open_socket(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<SocketSlot> {
        let mut counts = self.sockets_per_ip.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot { hub: self.clone(), ip })
    }

    /// Sends `user`'s session news to `connection` from now on.
    pub fn watch_sessions(&self, user: UserId, connection: u64, mailbox: Arc<SessionMailbox>) {
        let mut signed_in = self.signed_in.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        signed_in.entry(user).or_default().insert(connection, mailbox);
    }

    pub fn unwatch_sessions(&self, user: UserId, connection: u64) {
        let mut signed_in = self.signed_in.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(connections) = signed_in.get_mut(&user) {
            connections.remove(&connection);
            if connections.is_empty() {
                signed_in.remove(&user);
            }
        }
    }

    /// Tells every connection signed in as `user` on this instance.
    pub fn post_session_news(&self, user: UserId, news: SessionNews) {
        let signed_in = self.signed_in.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for mailbox in signed_in.get(&user).into_iter().flat_map(HashMap::values) {
            mailbox.post(user, news);
        }
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a subscriber. With `wants_ticker`, answers whether the caller must
    /// start the room's price ticker (none runs yet), and the room's change signal.
    pub fn subscribe(
        &self,
        room: &str,
        connection: u64,
        subscriber: Subscriber,
        wants_ticker: bool,
    ) -> (bool, Arc<Notify>) {
        let mut rooms = self.rooms();
        let entry = rooms.entry(room.to_owned()).or_default();
        entry.subscribers.insert(connection, subscriber);
        let start_ticker = wants_ticker && !entry.ticking;
        entry.ticking |= start_ticker;
        (start_ticker, entry.changed.clone())
    }

    pub fn unsubscribe(&self, room: &str, connection: u64) {
        let mut rooms = self.rooms();
        if let Some(entry) = rooms.get_mut(room) {
            entry.subscribers.remove(&connection);
            if entry.subscribers.is_empty() {
                // A running ticker removes the room itself when it sees it empty.
                entry.changed.notify_waiters();
                if !entry.ticking {
                    rooms.remove(room);
                }
            }
        }
    }

    /// Called by a room's ticker: when nobody listens any more the room is
    /// removed and the ticker must stop. Checked and done under one lock, so a
    /// subscriber arriving meanwhile keeps this ticker instead of starting another.
    pub fn ticker_should_stop(&self, room: &str) -> bool {
        let mut rooms = self.rooms();
        match rooms.get(room) {
            Some(entry) if !entry.subscribers.is_empty() => false,
            _ => {
                rooms.remove(room);
                true
            }
        }
    }

    /// Called by a ticker that cannot go on (its auction vanished): a later
    /// subscriber may start a new one.
    pub fn ticker_gave_up(&self, room: &str) {
        let mut rooms = self.rooms();
        if let Some(entry) = rooms.get_mut(room) {
            entry.ticking = false;
            if entry.subscribers.is_empty() {
                rooms.remove(room);
            }
        }
    }

    /// Whether anything on this instance listens to `room`: a subscriber, or
    /// the room's ticker (which waits for its changes).
    pub fn has_room(&self, room: &str) -> bool {
        self.rooms().contains_key(room)
    }

    pub fn subscriber_count(&self, room: &str) -> usize {
        self.rooms().get(room).map_or(0, |r| r.subscribers.len())
    }

    /// Sends `frame` (or `instead`, to whom `visibility` excludes) to every
    /// subscriber of `room` without waiting for any.
    pub fn broadcast(
        &self,
        room: &str,
        seq: Option<i64>,
        frame: Frame,
        visibility: Visibility,
        instead: Option<Frame>,
    ) {
        let rooms = self.rooms();
        let Some(entry) = rooms.get(room) else {
            return;
        };
        if seq.is_some() {
            entry.changed.notify_waiters();
        }
        let delivery = Arc::new(Delivery { room: Arc::from(room), seq, frame, visibility, instead });
        for subscriber in entry.subscribers.values() {
            if let Err(mpsc::error::TrySendError::Full(_)) = subscriber.queue.try_send(delivery.clone()) {
                subscriber.kick.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscriber(capacity: usize) -> (Subscriber, mpsc::Receiver<Arc<Delivery>>) {
        let (queue, receiver) = mpsc::channel(capacity);
        (Subscriber { queue, kick: Arc::new(Notify::new()) }, receiver)
    }

    #[tokio::test]
    async fn a_full_queue_kicks_its_subscriber_and_spares_the_others() {
        let hub = Hub::new();
        let (slow, _slow_rx) = subscriber(2);
        let (fast, mut fast_rx) = subscriber(100);
        let kicked = slow.kick.clone();
        hub.subscribe("auction:1", 1, slow, false);
        hub.subscribe("auction:1", 2, fast, false);
        for i in 0..5 {
            hub.broadcast("auction:1", Some(i), ByteString::from(format!("{i}")), Visibility::Everyone, None);
        }
        tokio::time::timeout(std::time::Duration::from_secs(1), kicked.notified()).await.expect("kicked");
        for i in 0..5 {
            assert_eq!(fast_rx.recv().await.unwrap().seq, Some(i));
        }
    }

    #[test]
    fn rooms_disappear_with_their_last_subscriber() {
        let hub = Hub::new();
        let (a, _rx) = subscriber(1);
        hub.subscribe("event:1", 1, a.clone(), false);
        hub.subscribe("event:1", 2, a, false);
        hub.unsubscribe("event:1", 1);
        assert_eq!(hub.subscriber_count("event:1"), 1);
        hub.unsubscribe("event:1", 2);
        assert_eq!(hub.subscriber_count("event:1"), 0);
        assert!(hub.rooms().is_empty());
    }

    #[test]
    fn sockets_per_ip_are_capped_and_released() {
        let hub = Arc::new(Hub::new());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let first = hub.open_socket(ip, 2).expect("first");
        let _second = hub.open_socket(ip, 2).expect("second");
        assert!(hub.open_socket(ip, 2).is_none(), "a third is over the cap");
        assert!(hub.open_socket("192.0.2.2".parse().unwrap(), 2).is_some(), "another address has its own count");
        drop(first);
        assert!(hub.open_socket(ip, 2).is_some(), "a closed socket frees its place");
    }

    #[test]
    fn session_news_reaches_only_that_users_connections() {
        let hub = Hub::new();
        let (ada, bob) = (Arc::new(SessionMailbox::default()), Arc::new(SessionMailbox::default()));
        hub.watch_sessions(UserId(1), 10, ada.clone());
        hub.watch_sessions(UserId(2), 11, bob.clone());
        hub.post_session_news(UserId(1), SessionNews { revoked: None, role_changed: true });
        assert!(ada.take(UserId(1)).role_changed);
        assert!(!bob.take(UserId(2)).role_changed);
        hub.post_session_news(UserId(1), SessionNews { revoked: None, role_changed: true });
        assert!(!ada.take(UserId(3)).role_changed, "news about another user is not taken");
        assert!(!ada.take(UserId(1)).role_changed, "and is dropped");
        hub.unwatch_sessions(UserId(1), 10);
        hub.post_session_news(UserId(1), SessionNews { revoked: None, role_changed: true });
        assert!(!ada.take(UserId(1)).role_changed, "no news after unwatching");
    }

    #[test]
    fn a_room_never_gets_two_tickers() {
        let hub = Hub::new();
        let (a, _rx) = subscriber(1);
        assert!(hub.subscribe("auction:1", 1, a.clone(), true).0, "the first subscriber starts the ticker");
        assert!(!hub.subscribe("auction:1", 2, a.clone(), true).0);
        hub.unsubscribe("auction:1", 1);
        hub.unsubscribe("auction:1", 2);
        // Someone comes back before the ticker noticed the room was empty.
        assert!(!hub.subscribe("auction:1", 3, a.clone(), true).0, "the running ticker carries on");
        assert!(!hub.ticker_should_stop("auction:1"));
        hub.unsubscribe("auction:1", 3);
        assert!(hub.ticker_should_stop("auction:1"));
        assert!(hub.subscribe("auction:1", 4, a, true).0, "after it stopped, a new one starts");
    }
}
