//! Outbox → commit announcements (the relay's NOTIFY or NATS messages, or the
//! in-process bus) → this instance's rooms. Announcements come in id order.
//! After a lost listener connection the instance listens again, then catches
//! up from the outbox: on PostgreSQL up to what the relay has announced
//! (later rows are announced to the new listener, in order), on SQLite
//! everything. A NATS message carries its row, and the id announced before
//! it: when that one was not heard, the ids in between are read from the
//! outbox first.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytestring::ByteString;
use hothour_domain::ports::OutboxStore;
use hothour_domain::{DomainError, StoredEvent};
use hothour_infra_sql::Heard;

use crate::AppState;
use crate::live::local_commits::RangeParts;
use crate::live::{catalogue, sessions, stored};

const CATCH_UP_BATCH: u32 = 1_000;
/// How long an outbox id missing below delivered ones is waited for. Ids are
/// taken when a transaction inserts, not when it commits, so a transaction can
/// commit after one that took a higher id; past this, the missing id is taken
/// to belong to a transaction that rolled back.
const LATE_COMMIT_PATIENCE: Duration = Duration::from_secs(60);
/// The most delivered ids remembered above a gap, whatever their age.
const MAX_REMEMBERED: usize = 100_000;

/// Runs until the process ends: delivers every committed event to local subscribers.
pub async fn run(state: Arc<AppState>) {
    // Where a relay announces, start from how far it has: what it announces
    // next is new to this instance, including rows that commit late.
    let start = match state.store.announced_through().await {
        Ok(Some(through)) => Ok(through),
        Ok(None) => state.store.latest_seq_overall().await,
        Err(error) => Err(error),
    };
    let latest = start.unwrap_or_else(|error| {
        tracing::error!(%error, "fan-out cannot read the outbox; starting from zero");
        0
    });
    let mut delivered = Delivered::after(latest);
    let mut failures = 0;
    loop {
        if failures > 0 {
            tokio::time::sleep(backoff(failures)).await;
        }
        let mut feed = match state.store.listen().await {
            Ok(feed) => feed,
            Err(error) => {
                tracing::warn!(%error, "outbox listener cannot connect; retrying");
                failures += 1;
                continue;
            }
        };
        // Listening again: now read whatever was committed while no one listened.
        if let Err(error) = catch_up(&state, &mut delivered).await {
            tracing::error!(%error, "catching up from the outbox; retrying");
            failures += 1;
            continue;
        }
        failures = 0;
        // Every commit from here on is heard: memory may answer reads.
        state.follow_commits(true);
        loop {
            match feed.recv().await {
                Ok(Heard::Range(first, last)) => {
                    if let Err(error) = deliver_range(&state, &mut delivered, first, last).await {
                        tracing::error!(%error, first, last, "delivering announced events; catching up");
                        break;
                    }
                }
                Ok(Heard::Event { after, event }) => {
                    if let Err(error) = deliver_announced(&state, &mut delivered, after, &event).await {
                        tracing::error!(%error, seq = event.seq, "delivering an announced event; catching up");
                        break;
                    }
                }
                // Open a new listener before catching up: reading the outbox
                // while nothing listens would miss what commits in between.
                Ok(Heard::Reconnected) => {
                    tracing::warn!("outbox listener lost its connection; catching up");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "outbox listener failed; reconnecting");
                    break;
                }
            }
        }
        // Commits may now go unheard until the catch-up: reads go to the store.
        state.follow_commits(false);
    }
}

/// 100 ms, doubling up to 5 s.
pub(crate) fn backoff(failures: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << failures.saturating_sub(1).min(6))).min(Duration::from_secs(5))
}

/// Delivers the announced events `first..=last`, in id order. Announcements
/// follow each other: once they are delivered, every id up to `last` is
/// either delivered or never will exist — provided every id before `first`
/// was settled already (otherwise an announcement went missing, and reads
/// wait for the next catch-up or go to the database).
async fn deliver_range(state: &AppState, delivered: &mut Delivered, first: i64, last: i64) -> Result<(), DomainError> {
    // What this instance committed itself is not read back.
    let RangeParts { kept, to_read } = state.local_commits.take_range(first, last);
    let from_memory = kept.len();
    // This instance observed its own commits before answering their callers.
    let mut events: Vec<(StoredEvent, Observed)> = kept.into_iter().map(|event| (event, Observed::Already)).collect();
    for (from, through) in to_read {
        let read = state.store.events_between(from, through).await?;
        events.extend(read.into_iter().map(|event| (event, Observed::NotYet)));
    }
    state.local_commits.count(from_memory, events.len() - from_memory);
    events.sort_unstable_by_key(|(event, _)| event.seq);
    for (event, observed) in &events {
        deliver(state, delivered, event, *observed).await?;
    }
    if delivered.settled >= first - 1 {
        delivered.settle_through(last);
        state.syncs.heard_through(last);
    }
    state.local_commits.delivered_through(delivered.settled);
    Ok(())
}

/// Delivers an announced `event` whose predecessor is `after`: every id up
/// to `after` is final, so if this instance has not settled that far (it
/// missed a message), it reads the ids in between from the outbox first.
async fn deliver_announced(
    state: &AppState,
    delivered: &mut Delivered,
    after: i64,
    event: &StoredEvent,
) -> Result<(), DomainError> {
    if delivered.settled < after {
        tracing::debug!(settled = delivered.settled, after, "an announcement was missed; reading the outbox");
        deliver_outbox_through(state, delivered, after).await?;
        delivered.settle_through(after);
    }
    deliver(state, delivered, event, Observed::NotYet).await?;
    delivered.settle_through(event.seq);
    state.syncs.heard_through(event.seq);
    state.local_commits.delivered_through(delivered.settled);
    Ok(())
}

/// Reads the outbox from the lowest id that may still be missing, delivering
/// only what was not delivered yet. Where a relay announces, only up to what
/// it has announced (every id below is final, and later ones are announced to
/// the listener already listening, in order); otherwise everything, including
/// a transaction that took a low id and committed late.
async fn catch_up(state: &AppState, delivered: &mut Delivered) -> Result<(), DomainError> {
    let announced = state.store.announced_through().await?;
    deliver_outbox_through(state, delivered, announced.unwrap_or(i64::MAX)).await?;
    if let Some(through) = announced {
        delivered.settle_through(through);
        state.syncs.heard_through(through);
    }
    state.local_commits.delivered_through(delivered.settled);
    Ok(())
}

/// Delivers the outbox's events after the lowest id that may still be
/// missing, through `bound`, except those delivered already.
async fn deliver_outbox_through(state: &AppState, delivered: &mut Delivered, bound: i64) -> Result<(), DomainError> {
    let mut cursor = delivered.settled;
    while cursor < bound {
        let events = state.store.events_after(cursor, CATCH_UP_BATCH).await?;
        let Some(last) = events.last() else {
            break;
        };
        cursor = last.seq;
        for event in events.iter().take_while(|event| event.seq <= bound) {
            deliver(state, delivered, event, Observed::NotYet).await?;
        }
    }
    Ok(())
}

/// Whether the read model has seen an event already (this instance's own
/// commits, kept in memory for the fan-out) or not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Observed {
    Already,
    NotYet,
}

/// Delivers `event` unless it was; an error (reading what its frame carries)
/// leaves it undelivered, for the catch-up to try again. Its frame is built
/// only when something on this instance listens to its room.
async fn deliver(
    state: &AppState,
    delivered: &mut Delivered,
    event: &StoredEvent,
    observed: Observed,
) -> Result<(), DomainError> {
    if delivered.has(event.seq) {
        return Ok(());
    }
    let news = sessions::news_of(event);
    let listened = state.hub.has_room(&event.room) || catalogue::listens_to(&state.hub, &event.room);
    let frame = if news.is_some() || !listened { None } else { stored::frame_of(state, event).await? };
    if !delivered.record(event.seq, Instant::now()) {
        return Ok(());
    }
    if observed == Observed::NotYet {
        state.services.observe(event);
    }
    if let Some((user, news)) = news {
        state.actors.changed(user);
        state.hub.post_session_news(user, news);
        return Ok(());
    }
    if let Some(frame) = frame {
        let visibility = frame.visibility();
        state.hub.broadcast(&event.room, Some(event.seq), ByteString::from(frame.to_text()), visibility, None);
        catalogue::pass_on(&state.hub, &event.room, event.seq, &frame);
    }
    Ok(())
}

/// The outbox ids this instance delivered: every id up to `settled`, and the
/// ids in `above` (with when), which lie beyond a missing id that may yet commit.
#[derive(Debug)]
struct Delivered {
    settled: i64,
    above: BTreeMap<i64, Instant>,
}

impl Delivered {
    fn after(settled: i64) -> Delivered {
        Delivered { settled, above: BTreeMap::new() }
    }

    /// Whether `id` was delivered.
    fn has(&self, id: i64) -> bool {
        id <= self.settled || self.above.contains_key(&id)
    }

    /// Records `id` as delivered at `now`; answers whether it was new.
    fn record(&mut self, id: i64, now: Instant) -> bool {
        if id <= self.settled || self.above.insert(id, now).is_some() {
            return false;
        }
        self.settle(now);
        true
    }

    /// Every id up to `through` is delivered or never will exist.
    fn settle_through(&mut self, through: i64) {
        self.settled = self.settled.max(through);
        self.above = self.above.split_off(&(self.settled + 1));
        self.settle(Instant::now());
    }

    /// Moves `settled` up over every id that is delivered, or missing for
    /// longer than a transaction lives (or when too many ids wait above it).
    fn settle(&mut self, now: Instant) {
        while let Some((&first, &at)) = self.above.first_key_value() {
            let contiguous = first == self.settled + 1;
            // Every id missing below `first` was taken before `first` was, so
            // before `at`: after the patience it has long rolled back.
            let waited_enough = now.duration_since(at) >= LATE_COMMIT_PATIENCE;
            if !(contiguous || waited_enough || self.above.len() > MAX_REMEMBERED) {
                break;
            }
            self.settled = first;
            self.above.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_that_commits_late_is_still_new() {
        let start = Instant::now();
        let mut delivered = Delivered::after(10);
        assert!(delivered.record(12, start), "12 commits first; 11 is still in flight");
        assert_eq!(delivered.settled, 10, "a catch-up must read from 10, not 12");
        assert!(!delivered.record(12, start), "delivered once");
        assert!(delivered.record(11, start), "11 commits late and is delivered");
        assert_eq!(delivered.settled, 12);
        assert!(delivered.above.is_empty());
        assert!(!delivered.record(11, start));
    }

    #[test]
    fn an_id_that_never_commits_is_given_up_after_the_patience() {
        let start = Instant::now();
        let mut delivered = Delivered::after(10);
        delivered.record(12, start);
        delivered.record(13, start + Duration::from_secs(1));
        assert_eq!(delivered.settled, 10);
        delivered.record(14, start + LATE_COMMIT_PATIENCE);
        assert_eq!(delivered.settled, 14, "11 rolled back long ago");
        assert!(delivered.above.is_empty());
    }

    #[test]
    fn an_announced_range_settles_every_id_up_to_its_end() {
        let start = Instant::now();
        let mut delivered = Delivered::after(10);
        delivered.record(12, start);
        delivered.record(15, start);
        // 11, 13 and 14 rolled back: the relay announced 11..=14 past them.
        delivered.settle_through(14);
        assert_eq!(delivered.settled, 15, "15 was delivered already");
        assert!(delivered.above.is_empty());
        assert!(delivered.has(13));
        assert!(!delivered.record(12, start));
        assert!(delivered.record(16, start));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(30), Duration::from_secs(5));
    }
}
