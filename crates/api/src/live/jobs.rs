//! Background jobs, safe when several instances run them at once: expire
//! lapsed holds, persist and announce auction status changes, mark no-shows,
//! prune old outbox rows.

use std::sync::Arc;

use chrono::Duration;
use hothour_domain::ports::OutboxStore;
use hothour_domain::{Clock, JobFailure};

use crate::AppState;

const BATCH: u32 = 200;
/// Outbox rows older than this are pruned; clients resuming from before get a snapshot.
pub const OUTBOX_RETENTION_HOURS: i64 = 24;

/// Runs one round of every job. An item that fails is logged and skipped:
/// one bad row never stops a job from settling the rest.
pub async fn run_once(state: &AppState) {
    loop {
        match state.services.expire_lapsed_holds(BATCH).await {
            Ok(report) => {
                log_failures("expiring lapsed holds", &report.failed);
                if report.parents < BATCH as usize {
                    break;
                }
            }
            Err(error) => {
                tracing::error!(%error, "expiring lapsed holds");
                break;
            }
        }
    }
    match state.services.settle_due_auctions(BATCH).await {
        Ok(report) => log_failures("settling auctions", &report.failed),
        Err(error) => tracing::error!(%error, "settling auctions"),
    }
    match state.services.mark_no_shows(BATCH).await {
        Ok(report) => log_failures("marking no-shows", &report.failed),
        Err(error) => tracing::error!(%error, "marking no-shows"),
    }
}

fn log_failures(job: &str, failures: &[JobFailure]) {
    for failure in failures {
        tracing::error!(error = %failure.error, item = %failure.item, "{job}: skipped an item that failed");
    }
}

/// Runs the jobs every second of the service's clock, until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut rounds: u64 = 0;
    loop {
        run_once(&state).await;
        if rounds.is_multiple_of(600) {
            let before = state.clock.now() - Duration::hours(OUTBOX_RETENTION_HOURS);
            match state.store.prune_events(before).await {
                Ok(pruned) if pruned > 0 => tracing::info!(pruned, "pruned old outbox rows"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "pruning the outbox"),
            }
        }
        rounds += 1;
        let next = state.clock.now() + Duration::seconds(1);
        state.clock.sleep_until(next).await;
    }
}
