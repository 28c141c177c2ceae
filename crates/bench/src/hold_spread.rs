//! `hold-spread`: the marketplace case. Many events with a little load on
//! each: every hold goes to an event picked at random among `--events`, by a
//! user of its own, so per-event batching finds one request in each queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::load::{self, Cpu, Stop};
use crate::observer::Observer;
use crate::setup::{self, Admin, Bench, Result};

/// Seats of each event: far more than a run can hold, so no hold is refused for capacity.
const CAPACITY: i64 = 100_000;

/// Events created over HTTP at once while preparing.
const CREATE_CONCURRENCY: usize = 16;

/// Event `index` of `events`, spread evenly but not in order (a multiplicative
/// hash, so consecutive requests land on unrelated events and rows).
fn pick(index: u64, events: usize) -> usize {
    (index.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % events
}

async fn events(bench: &Bench, admin: &Admin, count: usize) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = stream::iter(0..count)
        .map(|_| bench.event(admin, CAPACITY))
        .buffer_unordered(CREATE_CONCURRENCY)
        .try_collect()
        .await?;
    ids.sort_unstable();
    Ok(ids)
}

/// Every event's counters against its live holds, each within capacity, and
/// every 201 one of those live holds.
async fn check_events(bench: &Bench, studio: i64, first_event: i64, created: u64) -> Result<()> {
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) AS events, \
               CAST(COALESCE(SUM(CASE WHEN e.held_seats = COALESCE(l.seats, 0) AND e.held_count = COALESCE(l.live, 0) \
                    AND COALESCE(l.seats, 0) <= e.capacity THEN 0 ELSE 1 END), 0) AS BIGINT) AS broken, \
               CAST(COALESCE(SUM(l.live), 0) AS BIGINT) AS live, \
               CAST(COUNT(l.event_id) AS BIGINT) AS touched \
               FROM events e LEFT JOIN ( \
                 SELECT event_id, COUNT(*) AS live, SUM(quantity) AS seats FROM reservations \
                 WHERE status = 'HOLD' AND expires_at > $3 GROUP BY event_id \
               ) l ON l.event_id = e.id \
               WHERE e.studio_id = $1 AND e.id >= $2";
    let row = bench
        .row(sql, vec![studio.into(), first_event.into(), bench.now()], &["events", "broken", "live", "touched"])
        .await?;
    let [events, broken, live, touched] = row[..] else { unreachable!() };
    bench.check(broken == 0, &format!("{broken} of {events} events have counters that differ from their live holds"));
    bench.check(live == created as i64, &format!("{live} live holds over {touched} events = {created} answered 201"));
    Ok(())
}

/// How long the other instance is given, after the load, for its last frames.
const OBSERVER_GRACE: Duration = Duration::from_secs(2);

/// How often the `NOTIFY` lock is sampled during the run.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// Sessions waiting on the database-wide lock a transaction with `NOTIFY`
/// takes at commit (`LockSharedObject` on `pg_database`, object 0), or
/// waiting for room in the notification queue.
const NOTIFY_WAITERS: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS waiting FROM pg_stat_activity a \
    WHERE a.wait_event = 'NotifyQueue' OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted \
    AND l.locktype = 'object' AND l.classid = 'pg_database'::regclass AND l.objid = 0)";

/// Samples [`NOTIFY_WAITERS`] until `done`: (samples, samples with a waiter, most waiters seen).
async fn sample_notify_waits(bench: &Bench, done: &AtomicBool) -> Result<(u64, u64, i64)> {
    let (mut samples, mut waited, mut most) = (0, 0, 0);
    while !done.load(Ordering::Relaxed) {
        let waiting = bench.row(NOTIFY_WAITERS, vec![], &["waiting"]).await?[0];
        samples += 1;
        waited += u64::from(waiting > 0);
        most = most.max(waiting);
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    Ok((samples, waited, most))
}

pub async fn run(
    bench: &Bench,
    connections: usize,
    duration: Duration,
    users: usize,
    event_count: usize,
    observe: Option<&str>,
) -> Result<()> {
    let admin = bench.admin().await?;
    bench.history(&admin).await?;
    let event_ids = Arc::new(events(bench, &admin, event_count).await?);
    let tokens = Arc::new(bench.tokens(&bench.users("spread", users).await?));
    println!(
        "hold-spread: {event_count} events (capacity {CAPACITY} each), {users} users, {connections} connections, {duration:?}"
    );
    let observer = match observe {
        Some(url) => Some(Arc::new(Observer::follow(url, &admin.token, admin.studio_id).await?)),
        None => None,
    };
    let cpu = Cpu::sample(bench.server_pid);
    let ids = event_ids.clone();
    let observing = observer.clone();
    let load = load::run(&bench.base, connections, Stop::After(duration), move |conn, i| {
        let (tokens, ids, observing) = (tokens.clone(), ids.clone(), observing.clone());
        async move {
            let token = tokens.get(i as usize)?;
            let event = ids[pick(i, ids.len())];
            let outcome = setup::hold_on(&conn, event, token).await.outcome(201);
            if let (true, Some(observer)) = (outcome.ok, &observing) {
                observer.answered(event);
            }
            Some(outcome)
        }
    });
    let done = AtomicBool::new(false);
    let (stats, waits) = if bench.is_sqlite() {
        (load.await, None)
    } else {
        let sampling = sample_notify_waits(bench, &done);
        let loading = async {
            let stats = load.await;
            done.store(true, Ordering::Relaxed);
            stats
        };
        let (stats, waits) = tokio::join!(loading, sampling);
        (stats, Some(waits?))
    };
    stats.print("hold-spread", connections, "holds");
    cpu.report_since(bench.server_pid, stats.ok, "hold");
    if let Some(observer) = observer {
        observer.report(OBSERVER_GRACE).await?;
    }
    if let Some((samples, waited, most)) = waits {
        bench.check(
            waited == 0,
            &format!(
                "no session waited on the NOTIFY lock: {waited} of {samples} samples had a waiter (at most {most})"
            ),
        );
    }
    check_events(bench, admin.studio_id, event_ids[0], stats.ok).await
}

#[cfg(test)]
mod tests {
    use super::pick;

    #[test]
    fn picks_cover_every_event_about_evenly() {
        let mut counts = vec![0u32; 1_000];
        for i in 0..100_000 {
            let event = pick(i, counts.len());
            counts[event] += 1;
        }
        let (least, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*least > 50 && *most < 200, "between {least} and {most} picks per event");
    }

    #[test]
    fn consecutive_requests_go_to_different_events() {
        let picks: Vec<usize> = (0..64).map(|i| pick(i, 1_000)).collect();
        let distinct: std::collections::HashSet<_> = picks.iter().collect();
        assert!(distinct.len() > 55, "{} distinct events in 64 requests", distinct.len());
    }
}
