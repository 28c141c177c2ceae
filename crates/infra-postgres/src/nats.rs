//! The relay's announcements through NATS JetStream, for a deployment that
//! has it (`NATS_URL`): the relay publishes each outbox row it announces
//! instead of one `NOTIFY` per batch, and every instance consumes them
//! instead of LISTENing. Without NATS nothing here runs.
//!
//! - **One stream**, `<PREFIX>_OUTBOX` (the prefix upper-cased) on subjects
//!   `<prefix>.outbox.>`, file storage, bounded by [`RETENTION`] and
//!   [`MAX_BYTES`] (older messages are dropped: an instance never reads far
//!   back, it catches up from the outbox), created or updated at start-up by
//!   every instance alike.
//! - **A subject per room**: room `auction:42` is `<prefix>.outbox.auction.42`
//!   (a character a subject token may not hold becomes `_`), so a consumer may
//!   follow some rooms only; instances follow them all.
//! - **A message per outbox row**, in id order, carrying the row (JSON), so
//!   instances do not read it back from the database. `Nats-Msg-Id` is the
//!   outbox id: when a relay dies after publishing and before moving its
//!   cursor, its successor publishes the same rows again and JetStream's
//!   duplicate window drops them. [`AFTER`] is the id announced before the
//!   row (or the cursor the batch started from): every id between the two is
//!   not in the outbox and never will be. An instance that did not hear the
//!   row before (a consumer made after that row was published, a duplicate
//!   dropped, a message lost) reads the missing ids from the outbox; a
//!   duplicate that comes through anyway is skipped as delivered.
//! - The relay waits until JetStream has stored every message of a batch
//!   before it moves its cursor, so the cursor never passes an unpublished row.
//! - Each instance consumes with an ordered, ephemeral push consumer that
//!   starts [`REPLAY`] in the past (a batch stored just before the consumer
//!   existed, whose cursor move the instance's catch-up did not see yet, is
//!   heard). A lost connection ends the feed with [`Heard::Reconnected`]: the
//!   instance makes a new consumer and catches up from the outbox by id, as
//!   after a lost LISTEN connection. Resuming clients read the outbox.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, push};
use async_nats::jetstream::{self, message::PublishMessage, stream};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use hothour_domain::{DomainError, StoredEvent};
use hothour_infra_sql::{BoxFuture, CommitFeed, Heard};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// How long the stream keeps a message.
pub const RETENTION: Duration = Duration::from_secs(3600);
/// The most the stream keeps, in bytes.
pub const MAX_BYTES: i64 = 1 << 30;
/// How long JetStream remembers a message id to drop a re-publication.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How far back a new consumer starts: longer than a relay may take between
/// a batch's acks and its cursor's move (statements time out after 5 s).
const REPLAY: Duration = Duration::from_secs(10);
/// How long connecting may take at start-up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The header naming the outbox id announced before a message's row.
pub const AFTER: &str = "Hothour-After";

/// Where NATS is and the names this deployment takes on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    pub url: String,
    /// Starts every subject and (upper-cased) the stream's name: lower-case
    /// letters, digits, `_` and `-` only.
    pub prefix: String,
}

impl NatsConfig {
    /// The stream's name.
    pub fn stream(&self) -> String {
        format!("{}_OUTBOX", self.prefix.to_uppercase())
    }

    /// What every subject of the stream starts with.
    fn subjects(&self) -> String {
        format!("{}.outbox", self.prefix)
    }

    /// The subject of `room`'s messages.
    pub fn subject_of(&self, room: &str) -> String {
        let tokens: Vec<String> = room
            .split(':')
            .map(|token| {
                let clean: String = token
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
                    .collect();
                if clean.is_empty() { "_".to_owned() } else { clean }
            })
            .collect();
        format!("{}.{}", self.subjects(), tokens.join("."))
    }
}

/// An outbox row as a message carries it.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    seq: i64,
    room: String,
    kind: String,
    data: serde_json::Value,
    at: DateTime<Utc>,
}

impl From<Row> for StoredEvent {
    fn from(row: Row) -> StoredEvent {
        StoredEvent { seq: row.seq, room: row.room, kind: row.kind, data: row.data, at: row.at }
    }
}

/// A connection to NATS (reconnecting on its own) and this deployment's stream.
pub(crate) struct Nats {
    config: NatsConfig,
    jetstream: jetstream::Context,
    /// Counts the times the connection was lost.
    losses: watch::Receiver<u64>,
}

impl std::fmt::Debug for Nats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nats").field("config", &self.config).finish_non_exhaustive()
    }
}

fn unreachable(what: &str, error: impl std::fmt::Display) -> DomainError {
    DomainError::storage_message(format!("NATS: {what}: {error}"))
}

impl Nats {
    /// Connects and makes sure the stream exists with the configured limits.
    pub(crate) async fn connect(config: &NatsConfig) -> Result<Nats, DomainError> {
        let (lost, losses) = watch::channel(0_u64);
        let lost = Arc::new(lost);
        let client = async_nats::ConnectOptions::new()
            .name(format!("hothour {}", std::process::id()))
            .connection_timeout(CONNECT_TIMEOUT)
            .event_callback(move |event| {
                let lost = lost.clone();
                async move {
                    match event {
                        async_nats::Event::Disconnected => {
                            tracing::warn!("lost the connection to NATS; reconnecting");
                            lost.send_modify(|losses| *losses += 1);
                        }
                        async_nats::Event::Connected => tracing::info!("connected to NATS"),
                        other => tracing::warn!(%other, "NATS"),
                    }
                }
            })
            .connect(config.url.as_str())
            .await
            .map_err(|error| unreachable(&format!("connecting to {}", config.url), error))?;
        let nats = Nats { config: config.clone(), jetstream: jetstream::new(client), losses };
        nats.ensure_stream()
            .await
            .map_err(|error| unreachable(&format!("creating the stream {}", config.stream()), error))?;
        Ok(nats)
    }

    /// Creates the stream, or brings an existing one to the configured
    /// limits; at start-up, and whenever a relay begins to lead (a stream
    /// deleted meanwhile is made again).
    pub(crate) async fn ensure_stream(&self) -> Result<(), async_nats::Error> {
        let stream = stream::Config {
            name: self.config.stream(),
            subjects: vec![format!("{}.>", self.config.subjects())],
            storage: stream::StorageType::File,
            max_age: RETENTION,
            max_bytes: MAX_BYTES,
            discard: stream::DiscardPolicy::Old,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        };
        self.jetstream.create_or_update_stream(stream).await?;
        Ok(())
    }

    /// Publishes `rows` (ascending, each announced after the one before,
    /// the first after `cursor`) and waits until JetStream stored each.
    pub(crate) async fn publish(&self, cursor: i64, rows: Vec<StoredEvent>) -> Result<(), async_nats::Error> {
        let mut acks = Vec::with_capacity(rows.len());
        let mut after = cursor;
        for event in rows {
            let subject = self.config.subject_of(&event.room);
            let seq = event.seq;
            let row = Row { seq, room: event.room, kind: event.kind, data: event.data, at: event.at };
            let message = PublishMessage::build()
                .payload(serde_json::to_vec(&row)?.into())
                .message_id(seq.to_string())
                .header(AFTER, after.to_string().as_str());
            acks.push(self.jetstream.send_publish(subject, message).await?);
            after = seq;
        }
        for ack in acks {
            ack.await?;
        }
        Ok(())
    }

    /// A new consumer of every room's messages.
    pub(crate) async fn follow(&self) -> Result<Feed, DomainError> {
        let mut losses = self.losses.clone();
        losses.mark_unchanged();
        let stream = self
            .jetstream
            .get_stream(self.config.stream())
            .await
            .map_err(|error| unreachable("finding the stream", error))?;
        let start = Utc::now() - chrono::Duration::from_std(REPLAY).unwrap_or_default();
        let consumer = stream
            .create_consumer(push::OrderedConfig {
                deliver_subject: self.jetstream.client().new_inbox(),
                filter_subject: format!("{}.>", self.config.subjects()),
                deliver_policy: DeliverPolicy::ByStartTime { start_time: start },
                ..Default::default()
            })
            .await
            .map_err(|error| unreachable("creating a consumer", error))?;
        let messages = consumer.messages().await.map_err(|error| unreachable("consuming", error))?;
        Ok(Feed { messages: Box::pin(messages), losses })
    }
}

/// One instance's consumer: [`Heard::Event`] for each message.
pub(crate) struct Feed {
    messages: Pin<Box<push::Ordered>>,
    losses: watch::Receiver<u64>,
}

impl Feed {
    async fn next(&mut self) -> Result<Heard, DomainError> {
        loop {
            let message = tokio::select! {
                _ = self.losses.changed() => return Ok(Heard::Reconnected),
                message = self.messages.next() => message,
            };
            let message = match message {
                Some(Ok(message)) => message,
                Some(Err(error)) => return Err(unreachable("consuming", error)),
                None => return Err(DomainError::storage_message("NATS: the consumer ended")),
            };
            match heard_of(&message) {
                Some(heard) => return Ok(heard),
                None => tracing::warn!(subject = %message.subject, "ignoring a malformed outbox message"),
            }
        }
    }
}

/// What a message announces, if it is well formed.
fn heard_of(message: &async_nats::Message) -> Option<Heard> {
    let after = message.headers.as_ref()?.get(AFTER)?.as_str().parse().ok()?;
    let row: Row = serde_json::from_slice(&message.payload).ok()?;
    Some(Heard::Event { after, event: row.into() })
}

impl CommitFeed for Feed {
    fn recv(&mut self) -> BoxFuture<'_, Result<Heard, DomainError>> {
        Box::pin(self.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(prefix: &str) -> NatsConfig {
        NatsConfig { url: "nats://127.0.0.1:4222".into(), prefix: prefix.into() }
    }

    #[test]
    fn each_room_has_a_subject_of_its_own() {
        let config = config("hothour");
        assert_eq!(config.subject_of("auction:42"), "hothour.outbox.auction.42");
        assert_eq!(config.subject_of("user:7"), "hothour.outbox.user.7");
        assert_eq!(config.subject_of("odd room.*>"), "hothour.outbox.odd_room___");
        assert_eq!(config.subject_of(""), "hothour.outbox._");
        assert_eq!(config.stream(), "HOTHOUR_OUTBOX");
        assert_eq!(self::config("t-1_a").stream(), "T-1_A_OUTBOX");
    }
}
