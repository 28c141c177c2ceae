//! Reads from memory that are never stale across instances: before serving
//! one, an instance makes sure it has heard every commit made before the read
//! began, on any instance. It reads the highest outbox id committed now and
//! waits until the relay's announcements have reached it (the relay announces
//! in id order and never passes an id that may still commit, so by then every
//! earlier commit was heard and applied to the read model). Concurrent reads
//! share one look at the outbox, and a read only joins a look taken after it
//! began.

use std::time::Duration;

use hothour_domain::DomainError;
use hothour_domain::memory::batcher::Batcher;
use tokio::sync::watch;

use crate::AppStore;

/// Reads sharing one look at the outbox at most.
const MAX_READS_PER_SYNC: usize = 256;
/// How long a read waits for the announcements before it goes to the database.
const SYNC_PATIENCE: Duration = Duration::from_secs(1);

pub struct Syncs {
    /// The outbox id through which this instance heard and applied every announcement.
    heard: watch::Sender<i64>,
    reads: Batcher<(), (), Result<Option<i64>, DomainError>>,
}

impl Syncs {
    pub fn new() -> Syncs {
        Syncs { heard: watch::Sender::new(0), reads: Batcher::new(MAX_READS_PER_SYNC) }
    }

    /// Waits until this instance has heard every commit made before the call.
    /// `Ok(false)` if the announcements did not come in time (the relay is
    /// changing hands, the listener reconnecting): the read should then go to
    /// the database.
    pub async fn caught_up(&self, store: &AppStore) -> Result<bool, DomainError> {
        let target = self
            .reads
            .submit((), (), |reads| async move {
                let target = store.sync_target().await;
                vec![target; reads.len()]
            })
            .await?;
        // Commits are announced in-process as they happen: nothing to wait for.
        let Some(target) = target else {
            return Ok(true);
        };
        let mut heard = self.heard.subscribe();
        let reached = tokio::time::timeout(SYNC_PATIENCE, heard.wait_for(|&through| through >= target)).await;
        Ok(matches!(reached, Ok(Ok(_))))
    }

    /// Every announced commit up to outbox id `through` was heard and applied.
    pub fn heard_through(&self, through: i64) {
        self.heard.send_if_modified(|heard| {
            let newer = through > *heard;
            if newer {
                *heard = through;
            }
            newer
        });
    }
}

impl Default for Syncs {
    fn default() -> Self {
        Syncs::new()
    }
}
