//! Outbox → LISTEN/NOTIFY → this instance's rooms. After a lost listener
//! connection the instance catches up from the outbox.

use std::sync::Arc;
use std::time::Duration;

use hothour_domain::DomainError;
use hothour_domain::ports::OutboxStore;
use hothour_infra_postgres::{Heard, OutboxListener};
use tokio::sync::broadcast;

use crate::live::event_frame;
use crate::{AppState, AppStore};

const CATCH_UP_BATCH: u32 = 1_000;

/// Runs until the process ends: delivers every committed event to local subscribers.
pub async fn run(state: Arc<AppState>) {
    let mut delivered = match state.store.latest_seq_overall().await {
        Ok(seq) => seq,
        Err(error) => {
            tracing::error!(%error, "fan-out cannot read the outbox; starting from zero");
            0
        }
    };
    loop {
        let mut listener = match Feed::open(&state).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "outbox listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Whatever was committed while no one listened.
        delivered = catch_up(&state, delivered).await;
        loop {
            match listener.recv().await {
                Ok(Heard::Range(first, last)) => match state.store.events_between(first, last).await {
                    Ok(events) => {
                        for event in &events {
                            deliver(&state, event);
                        }
                        delivered = delivered.max(last);
                    }
                    Err(error) => tracing::error!(%error, first, last, "reading notified events"),
                },
                Ok(Heard::Reconnected) => {
                    tracing::warn!("outbox listener reconnected; catching up");
                    delivered = catch_up(&state, delivered).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "outbox listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn catch_up(state: &AppState, mut delivered: i64) -> i64 {
    loop {
        match state.store.events_after(delivered, CATCH_UP_BATCH).await {
            Ok(events) if events.is_empty() => return delivered,
            Ok(events) => {
                for event in &events {
                    deliver(state, event);
                    delivered = delivered.max(event.seq);
                }
            }
            Err(error) => {
                tracing::error!(%error, "catching up from the outbox");
                return delivered;
            }
        }
    }
}

fn deliver(state: &AppState, event: &hothour_domain::StoredEvent) {
    let frame = event_frame(event, state.epoch);
    state.hub.broadcast(&event.room, Some(event.seq), Arc::from(frame));
}

/// Where committed outbox ranges are heard: PostgreSQL's LISTEN, or the SQLite
/// store's in-process bus.
enum Feed {
    Postgres(OutboxListener),
    Local(broadcast::Receiver<(i64, i64)>),
}

impl Feed {
    async fn open(state: &AppState) -> Result<Feed, DomainError> {
        match &state.store {
            AppStore::Postgres(_) => OutboxListener::connect(&state.config.database_url).await.map(Feed::Postgres),
            AppStore::Sqlite(store) => Ok(Feed::Local(store.subscribe_outbox())),
        }
    }

    async fn recv(&mut self) -> Result<Heard, DomainError> {
        match self {
            Feed::Postgres(listener) => listener.recv().await,
            Feed::Local(receiver) => match receiver.recv().await {
                Ok((first, last)) => Ok(Heard::Range(first, last)),
                // Fell behind the bus: read what was missed from the outbox.
                Err(broadcast::error::RecvError::Lagged(_)) => Ok(Heard::Reconnected),
                Err(broadcast::error::RecvError::Closed) => Err(DomainError::Storage("the outbox bus closed".into())),
            },
        }
    }
}
