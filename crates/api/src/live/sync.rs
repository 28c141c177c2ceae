//! Reads from memory that are never stale across instances: before serving
//! one, an instance makes sure it has heard every commit made before the read
//! began, on any instance. It commits a sync notification of its own and waits
//! to hear it: notifications arrive in commit order, so by then every earlier
//! commit was heard (and applied to the read model). Concurrent reads share
//! one sync, and a read only joins a sync sent after it began.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hothour_domain::DomainError;
use hothour_domain::memory::batcher::Batcher;
use tokio::sync::oneshot;

use crate::AppStore;

/// Reads waiting for one sync at most.
const MAX_READS_PER_SYNC: usize = 256;
/// How long a sync is waited for before the read goes to the database.
const SYNC_PATIENCE: Duration = Duration::from_secs(1);

pub struct Syncs {
    /// Tells this instance's syncs apart from other instances' on the shared channel.
    instance: u64,
    next: AtomicU64,
    waiting: Mutex<HashMap<String, oneshot::Sender<()>>>,
    reads: Batcher<(), (), Result<bool, DomainError>>,
}

impl Syncs {
    pub fn new() -> Syncs {
        let mut instance = [0u8; 8];
        // A clash between instances would only wake a read a little early.
        let _ = getrandom::fill(&mut instance);
        Syncs {
            instance: u64::from_le_bytes(instance),
            next: AtomicU64::new(0),
            waiting: Mutex::new(HashMap::new()),
            reads: Batcher::new(MAX_READS_PER_SYNC),
        }
    }

    /// Waits until this instance has heard every commit made before the call.
    /// `Ok(false)` if the sync was not heard in time (the listener is
    /// reconnecting): the read should then go to the database.
    pub async fn caught_up(&self, store: &AppStore) -> Result<bool, DomainError> {
        self.reads
            .submit((), (), |reads| async move {
                let heard = self.round_trip(store).await;
                vec![heard; reads.len()]
            })
            .await
    }

    async fn round_trip(&self, store: &AppStore) -> Result<bool, DomainError> {
        let payload = format!("{}:{}", self.instance, self.next.fetch_add(1, Ordering::Relaxed));
        let (heard, hear) = oneshot::channel();
        lock(&self.waiting).insert(payload.clone(), heard);
        let caught_up = match store.send_sync(&payload).await {
            // Commits are announced in-process as they happen: nothing to wait for.
            Ok(false) => Ok(true),
            Ok(true) => Ok(matches!(tokio::time::timeout(SYNC_PATIENCE, hear).await, Ok(Ok(())))),
            Err(error) => Err(error),
        };
        lock(&self.waiting).remove(&payload);
        caught_up
    }

    /// The listener heard the sync with `payload` (this instance's or another's).
    pub fn heard(&self, payload: &str) {
        if let Some(waiting) = lock(&self.waiting).remove(payload) {
            let _ = waiting.send(());
        }
    }
}

impl Default for Syncs {
    fn default() -> Self {
        Syncs::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
