//! Background jobs, safe when several instances run them at once: expire
//! lapsed holds, persist and announce auction status changes, mark no-shows,
//! fire price alerts, record booking reminders, retry refunds and ask the
//! payment provider about payments whose webhook has not come, send the
//! email that decisions recorded, prune old outbox rows.

use std::sync::Arc;

use chrono::Duration;
use hothour_domain::ports::{IdempotencyStore, OutboxStore, TokenStore};
use hothour_domain::{Clock, DomainError, JobFailure};

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
    match state.services.fire_price_alerts(BATCH).await {
        Ok(report) => log_failures("firing price alerts", &report.failed),
        Err(error) => tracing::error!(%error, "firing price alerts"),
    }
    match state.services.record_due_reminders(BATCH).await {
        Ok(report) => log_failures("recording booking reminders", &report.failed),
        Err(error) => tracing::error!(%error, "recording booking reminders"),
    }
    match crate::mail::send_due(state).await {
        Ok(report) => {
            state.metrics.mail_delivered(&report);
            for (id, error) in &report.failures {
                tracing::warn!(%error, mail = id, "sending email: not sent this time");
            }
        }
        Err(error) => tracing::error!(%error, "sending email"),
    }
    if state.services.payments().is_some() {
        match state.services.refund_due(BATCH).await {
            Ok(report) => {
                state.metrics.refunds_failed(report.failed.len());
                log_failures("retrying refunds", &report.failed);
            }
            Err(error) => tracing::error!(%error, "retrying refunds"),
        }
        match state.services.reconcile_payments(BATCH).await {
            Ok(report) => log_failures("asking the provider about waiting payments", &report.failed),
            Err(error) => tracing::error!(%error, "asking the provider about waiting payments"),
        }
    }
}

fn log_failures(job: &str, failures: &[JobFailure]) {
    for failure in failures {
        tracing::error!(error = %failure.error, item = %failure.item, "{job}: skipped an item that failed");
    }
}

/// Runs the jobs every second of the service's clock, and prunes every ten
/// minutes of it, until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut next_prune = state.clock.now();
    loop {
        run_once(&state).await;
        if state.clock.now() >= next_prune {
            prune(&state).await;
            next_prune = state.clock.now() + Duration::minutes(10);
        }
        let next = state.clock.now() + Duration::seconds(1);
        state.clock.sleep_until(next).await;
    }
}

/// Deletes old outbox rows, expired idempotency keys and expired refresh tokens.
async fn prune(state: &AppState) {
    let now = state.clock.now();
    let report = |what: &str, result: Result<u64, DomainError>| match result {
        Ok(pruned) if pruned > 0 => tracing::info!(pruned, "pruned {what}"),
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "pruning {what}"),
    };
    report("old outbox rows", state.store.prune_events(now - Duration::hours(OUTBOX_RETENTION_HOURS)).await);
    report("expired idempotency keys", state.store.prune_idempotency_keys(now).await);
    report("expired refresh tokens", state.store.prune_refresh_tokens(now).await);
}
