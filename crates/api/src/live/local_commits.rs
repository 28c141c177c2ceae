//! The events this instance committed, kept until the fan-out reaches them,
//! so that a range the relay announces is read back from the outbox only
//! where other instances (or nobody) wrote it. Only a shortcut: whatever is
//! not kept — published after its range was delivered, or dropped because the
//! fan-out fell far behind — is read from the outbox as before.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hothour_domain::StoredEvent;
use hothour_domain::ports::EventPublisher;

use crate::metrics::CommittedPayments;

/// The most events kept; beyond it the oldest are dropped (and read back).
const MAX_KEPT: usize = 5_000;

/// A range read back in more pieces than this is read whole instead.
const MAX_PIECES: usize = 4;

#[derive(Debug, Default)]
pub struct LocalCommits {
    kept: Mutex<Kept>,
    /// Announced events the fan-out took from here, and those it read back.
    from_memory: AtomicU64,
    read_back: AtomicU64,
}

#[derive(Debug, Default)]
struct Kept {
    events: BTreeMap<i64, StoredEvent>,
    /// Every id up to here was delivered: an event this old is not kept.
    delivered_through: i64,
}

/// What an announced range holds: the events kept here, and the id ranges
/// (inclusive) to read from the outbox for the rest.
#[derive(Debug, Default, PartialEq)]
pub struct RangeParts {
    pub kept: Vec<StoredEvent>,
    pub to_read: Vec<(i64, i64)>,
}

impl LocalCommits {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `events`, just committed here.
    pub fn keep(&self, events: Vec<StoredEvent>) {
        let mut kept = self.kept();
        let through = kept.delivered_through;
        for event in events.into_iter().filter(|event| event.seq > through) {
            kept.events.insert(event.seq, event);
        }
        while kept.events.len() > MAX_KEPT {
            kept.events.pop_first();
        }
    }

    /// Takes the kept events of `first..=last` and says what else to read.
    pub fn take_range(&self, first: i64, last: i64) -> RangeParts {
        let mut kept = self.kept();
        let mut later = kept.events.split_off(&first);
        let tail = later.split_off(&(last + 1));
        kept.events.append(&mut { tail });
        let mut to_read = Vec::new();
        let mut next = first;
        for &seq in later.keys() {
            if seq > next {
                to_read.push((next, seq - 1));
            }
            next = seq + 1;
        }
        if next <= last {
            to_read.push((next, last));
        }
        if to_read.len() > MAX_PIECES {
            to_read = vec![(first, last)];
        }
        RangeParts { kept: later.into_values().collect(), to_read }
    }

    /// The fan-out delivered `from_memory` announced events from here and
    /// read `read_back` from the outbox.
    pub fn count(&self, from_memory: usize, read_back: usize) {
        self.from_memory.fetch_add(from_memory as u64, Ordering::Relaxed);
        self.read_back.fetch_add(read_back as u64, Ordering::Relaxed);
    }

    /// How many announced events the fan-out took from here, and read back.
    pub fn counts(&self) -> (u64, u64) {
        (self.from_memory.load(Ordering::Relaxed), self.read_back.load(Ordering::Relaxed))
    }

    /// Every id up to `through` is delivered: nothing that old is kept.
    pub fn delivered_through(&self, through: i64) {
        let mut kept = self.kept();
        kept.delivered_through = kept.delivered_through.max(through);
        kept.events = kept.events.split_off(&(through + 1));
    }
}

/// What this instance does with the events it commits: counts its payments
/// and keeps the events for its fan-out.
#[derive(Clone)]
pub struct InstancePublisher {
    pub payments: CommittedPayments,
    pub local: std::sync::Arc<LocalCommits>,
}

impl EventPublisher for InstancePublisher {
    fn publish(&self, events: Vec<StoredEvent>) {
        self.payments.count(&events);
        self.local.keep(events);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn event(seq: i64) -> StoredEvent {
        StoredEvent {
            seq,
            room: "event:1".into(),
            kind: "availability_changed".into(),
            data: serde_json::json!({ "seq": seq }),
            at: Utc::now(),
        }
    }

    fn seqs(events: &[StoredEvent]) -> Vec<i64> {
        events.iter().map(|event| event.seq).collect()
    }

    #[test]
    fn a_range_kept_whole_needs_no_read() {
        let local = LocalCommits::default();
        local.keep(vec![event(3), event(4), event(5)]);
        let parts = local.take_range(3, 5);
        assert_eq!(seqs(&parts.kept), [3, 4, 5]);
        assert!(parts.to_read.is_empty());
        assert!(local.take_range(3, 5).kept.is_empty(), "taken once");
    }

    #[test]
    fn the_gaps_of_a_range_are_read() {
        let local = LocalCommits::default();
        local.keep(vec![event(2), event(5), event(6), event(9), event(12)]);
        let parts = local.take_range(1, 10);
        assert_eq!(seqs(&parts.kept), [2, 5, 6, 9]);
        assert_eq!(parts.to_read, [(1, 1), (3, 4), (7, 8), (10, 10)]);
        assert_eq!(seqs(&local.take_range(11, 12).kept), [12], "what lies beyond the range stays kept");
    }

    #[test]
    fn a_range_in_many_pieces_is_read_whole() {
        let local = LocalCommits::default();
        local.keep(vec![event(2), event(4), event(6), event(8), event(10)]);
        let parts = local.take_range(1, 11);
        assert_eq!(seqs(&parts.kept), [2, 4, 6, 8, 10]);
        assert_eq!(parts.to_read, [(1, 11)]);
    }

    #[test]
    fn nothing_kept_reads_the_range() {
        let parts = LocalCommits::default().take_range(7, 9);
        assert!(parts.kept.is_empty());
        assert_eq!(parts.to_read, [(7, 9)]);
    }

    #[test]
    fn what_was_delivered_is_not_kept() {
        let local = LocalCommits::default();
        local.keep(vec![event(1), event(2), event(3)]);
        local.delivered_through(2);
        // Published after the fan-out read it from the outbox: not kept.
        local.keep(vec![event(2)]);
        assert_eq!(seqs(&local.take_range(1, 3).kept), [3]);
    }

    #[test]
    fn at_most_max_kept_are_kept_the_oldest_dropped() {
        let local = LocalCommits::default();
        let events: Vec<StoredEvent> = (1..=MAX_KEPT as i64 + 2).map(event).collect();
        local.keep(events);
        let parts = local.take_range(1, MAX_KEPT as i64 + 2);
        assert_eq!(parts.kept.len(), MAX_KEPT);
        assert_eq!(parts.kept[0].seq, 3);
        assert_eq!(parts.to_read, [(1, 2)]);
    }
}
