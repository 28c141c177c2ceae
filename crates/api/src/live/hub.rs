//! Rooms and their subscribers on this instance.
//!
//! Every connection has a bounded queue. Broadcasting only `try_send`s into
//! those queues, so a subscriber that stops reading can never slow its room:
//! when its queue is full it is kicked (and its connection closes).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc, watch};

/// One message as sent on the wire, shared by every subscriber of a room.
pub type Frame = Arc<str>;

/// What the hub holds of one connection.
#[derive(Clone)]
pub struct Subscriber {
    pub queue: mpsc::Sender<(String, Option<i64>, Frame)>,
    /// Notified when the connection must go: it fell behind.
    pub kick: Arc<Notify>,
}

#[derive(Default)]
struct Room {
    subscribers: HashMap<u64, Subscriber>,
    /// Wakes the room's price ticker when the auction changes.
    changed: Arc<Notify>,
}

pub struct Hub {
    rooms: Mutex<HashMap<String, Room>>,
    next_connection: AtomicU64,
    pub slow_consumers_dropped: AtomicU64,
    pub open_connections: AtomicU64,
    /// Turns true once when the server shuts down: every socket closes with 1001.
    shutdown: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            rooms: Mutex::default(),
            next_connection: AtomicU64::new(0),
            slow_consumers_dropped: AtomicU64::new(0),
            open_connections: AtomicU64::new(0),
            shutdown: watch::Sender::new(false),
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

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a subscriber; answers whether it is the room's first (so a price
    /// ticker should start) and the room's change signal.
    pub fn subscribe(&self, room: &str, connection: u64, subscriber: Subscriber) -> (bool, Arc<Notify>) {
        let mut rooms = self.rooms();
        let entry = rooms.entry(room.to_owned()).or_default();
        let first = entry.subscribers.is_empty();
        entry.subscribers.insert(connection, subscriber);
        (first, entry.changed.clone())
    }

    pub fn unsubscribe(&self, room: &str, connection: u64) {
        let mut rooms = self.rooms();
        if let Some(entry) = rooms.get_mut(room) {
            entry.subscribers.remove(&connection);
            if entry.subscribers.is_empty() {
                entry.changed.notify_waiters();
                rooms.remove(room);
            }
        }
    }

    pub fn subscriber_count(&self, room: &str) -> usize {
        self.rooms().get(room).map_or(0, |r| r.subscribers.len())
    }

    /// Sends `frame` to every subscriber of `room` without waiting for any.
    pub fn broadcast(&self, room: &str, seq: Option<i64>, frame: Frame) {
        let rooms = self.rooms();
        let Some(entry) = rooms.get(room) else {
            return;
        };
        if seq.is_some() {
            entry.changed.notify_waiters();
        }
        for subscriber in entry.subscribers.values() {
            if let Err(mpsc::error::TrySendError::Full(_)) =
                subscriber.queue.try_send((room.to_owned(), seq, frame.clone()))
            {
                subscriber.kick.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscriber(capacity: usize) -> (Subscriber, mpsc::Receiver<(String, Option<i64>, Frame)>) {
        let (queue, receiver) = mpsc::channel(capacity);
        (Subscriber { queue, kick: Arc::new(Notify::new()) }, receiver)
    }

    #[tokio::test]
    async fn a_full_queue_kicks_its_subscriber_and_spares_the_others() {
        let hub = Hub::new();
        let (slow, _slow_rx) = subscriber(2);
        let (fast, mut fast_rx) = subscriber(100);
        let kicked = slow.kick.clone();
        hub.subscribe("auction:1", 1, slow);
        hub.subscribe("auction:1", 2, fast);
        for i in 0..5 {
            hub.broadcast("auction:1", Some(i), Arc::from(format!("{i}")));
        }
        tokio::time::timeout(std::time::Duration::from_secs(1), kicked.notified()).await.expect("kicked");
        for i in 0..5 {
            assert_eq!(fast_rx.recv().await.unwrap().1, Some(i));
        }
    }

    #[test]
    fn rooms_disappear_with_their_last_subscriber() {
        let hub = Hub::new();
        let (a, _rx) = subscriber(1);
        assert!(hub.subscribe("event:1", 1, a.clone()).0);
        assert!(!hub.subscribe("event:1", 2, a).0);
        hub.unsubscribe("event:1", 1);
        assert_eq!(hub.subscriber_count("event:1"), 1);
        hub.unsubscribe("event:1", 2);
        assert_eq!(hub.subscriber_count("event:1"), 0);
    }
}
