//! A cache that never answers with something older than the last change it
//! was told of.
//!
//! Reads miss, read the store, and offer what they read back with the
//! [`Fill`] their miss gave them. The offer is refused when the key changed
//! (or the cache was cleared) after the miss, since the store's answer may
//! predate that change. So once [`FreshCache::changed`] returns, no read that
//! starts afterwards sees the older value, whatever reads were in flight.
//!
//! The cache serves only while it follows the changes ([`FreshCache::follow`]);
//! whoever feeds it stops it when it may have missed one (a lost connection),
//! which also forgets everything.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

/// The most keys remembered (entries, or changes since the last clear);
/// past it the cache forgets everything and starts over.
const MAX_KEYS: usize = 100_000;

/// Permission to offer a value read after a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill(u64);

#[derive(Debug)]
pub struct FreshCache<K, V> {
    state: Mutex<State<K, V>>,
    /// Reads answered from memory, and reads that missed.
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct State<K, V> {
    following: bool,
    /// Changes told so far: each change and clear takes the next number.
    changes: u64,
    /// The number of the last clear.
    cleared_at: u64,
    /// The number of each key's last change since the last clear.
    changed_at: HashMap<K, u64>,
    entries: HashMap<K, Entry<V>>,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    /// The value stops being true at this instant, whatever is told.
    until: Option<DateTime<Utc>>,
}

impl<K, V> Default for FreshCache<K, V> {
    fn default() -> Self {
        FreshCache {
            state: Mutex::new(State {
                following: false,
                changes: 0,
                cleared_at: 0,
                changed_at: HashMap::new(),
                entries: HashMap::new(),
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl<K: Eq + Hash + Copy, V: Clone> FreshCache<K, V> {
    /// The value of `key` at `now`, or, on a miss, a [`Fill`] to offer what the
    /// store answers (none while the cache does not follow the changes).
    pub fn get(&self, key: K, now: DateTime<Utc>) -> Result<V, Option<Fill>> {
        let mut state = self.lock();
        if !state.following {
            return Err(None);
        }
        match state.entries.get(&key) {
            Some(entry) if entry.until.is_none_or(|until| now < until) => Ok(entry.value.clone()),
            Some(_) => {
                state.entries.remove(&key);
                Err(Some(Fill(state.changes)))
            }
            None => Err(Some(Fill(state.changes))),
        }
    }

    /// The value of `key` at `now`, from memory or else from `read` (what the
    /// store answers, kept unless `key` changed meanwhile, until `until` says).
    pub async fn get_or_read<E>(
        &self,
        key: K,
        now: DateTime<Utc>,
        read: impl Future<Output = Result<Option<V>, E>>,
        until: impl FnOnce(&V) -> Option<DateTime<Utc>>,
    ) -> Result<Option<V>, E> {
        let fill = match self.get(key, now) {
            Ok(value) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Some(value));
            }
            Err(fill) => fill,
        };
        self.misses.fetch_add(1, Ordering::Relaxed);
        let value = read.await?;
        if let (Some(fill), Some(value)) = (fill, &value) {
            self.offer(fill, key, value.clone(), until(value));
        }
        Ok(value)
    }

    /// Offers `value`, read from the store after the miss that gave `fill`;
    /// it is kept unless `key` changed since, and served until `until`.
    pub fn offer(&self, fill: Fill, key: K, value: V, until: Option<DateTime<Utc>>) {
        let mut state = self.lock();
        let changed_since = state.changed_at.get(&key).is_some_and(|&at| at > fill.0);
        if !state.following || state.cleared_at > fill.0 || changed_since {
            return;
        }
        if state.entries.len() >= MAX_KEYS {
            state.clear();
            return;
        }
        state.entries.insert(key, Entry { value, until });
    }

    /// Whether `value` is what is kept of `key` (false when nothing is).
    pub fn keeps(&self, key: K, value: &V) -> bool
    where
        V: PartialEq,
    {
        self.lock().entries.get(&key).is_some_and(|entry| entry.value == *value)
    }

    /// `key` changed: what is kept of it, and every read in flight, is stale.
    pub fn changed(&self, key: K) {
        let mut state = self.lock();
        if state.changed_at.len() >= MAX_KEYS {
            state.clear();
            return;
        }
        state.changes += 1;
        let at = state.changes;
        state.changed_at.insert(key, at);
        state.entries.remove(&key);
    }

    /// Starts serving (the feeder hears every change from now on), or stops
    /// and forgets everything (it may miss some).
    pub fn follow(&self, following: bool) {
        let mut state = self.lock();
        state.clear();
        state.following = following;
    }

    /// Whether it serves (it follows the changes).
    pub fn following(&self) -> bool {
        self.lock().following
    }

    /// Reads [`Self::get_or_read`] answered from memory, and those that read the store.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K, V> State<K, V> {
    fn clear(&mut self) {
        self.changes += 1;
        self.cleared_at = self.changes;
        self.changed_at.clear();
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reservation::tests::t;

    fn following() -> FreshCache<i64, &'static str> {
        let cache = FreshCache::default();
        cache.follow(true);
        cache
    }

    #[test]
    fn a_miss_filled_is_served_until_its_key_changes() {
        let cache = following();
        let fill = cache.get(1, t(0)).unwrap_err().expect("a fill while following");
        cache.offer(fill, 1, "one", None);
        assert_eq!(cache.get(1, t(0)), Ok("one"));
        cache.changed(1);
        assert!(cache.get(1, t(0)).is_err(), "a change forgets the value");
    }

    #[test]
    fn a_value_read_before_a_change_is_refused() {
        let cache = following();
        let fill = cache.get(1, t(0)).unwrap_err().unwrap();
        cache.changed(1);
        cache.offer(fill, 1, "read before the change", None);
        assert!(cache.get(1, t(0)).is_err());
        let other = cache.get(2, t(0)).unwrap_err().unwrap();
        cache.changed(1);
        cache.offer(other, 2, "two", None);
        assert_eq!(cache.get(2, t(0)), Ok("two"), "another key's change does not matter");
    }

    #[test]
    fn a_value_is_served_only_until_it_stops_being_true() {
        let cache = following();
        let fill = cache.get(1, t(0)).unwrap_err().unwrap();
        cache.offer(fill, 1, "one", Some(t(5)));
        assert_eq!(cache.get(1, t(4)), Ok("one"));
        assert!(cache.get(1, t(5)).is_err());
    }

    #[test]
    fn nothing_is_served_or_kept_unless_following() {
        let cache: FreshCache<i64, &str> = FreshCache::default();
        assert_eq!(cache.get(1, t(0)), Err(None), "not following yet");
        cache.follow(true);
        let fill = cache.get(1, t(0)).unwrap_err().unwrap();
        cache.offer(fill, 1, "one", None);
        let in_flight = cache.get(2, t(0)).unwrap_err().unwrap();
        cache.follow(false);
        assert_eq!(cache.get(1, t(0)), Err(None), "stopped: forgotten");
        cache.follow(true);
        assert!(cache.get(1, t(0)).is_err(), "following again starts empty");
        cache.offer(in_flight, 2, "read before the stop", None);
        assert!(cache.get(2, t(0)).is_err(), "a read from before the stop is refused");
    }
}
