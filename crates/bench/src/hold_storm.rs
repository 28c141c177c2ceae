//! `hold-storm`: one event with a huge capacity, a different user for every hold.

use std::sync::Arc;
use std::time::Duration;

use crate::load::{self, Cpu, Stats, Stop};
use crate::setup::{self, Bench, Result};

/// Holds one seat per request on `event`, user `i` for request `i`, until `stop`.
pub async fn storm(bench: &Bench, event: i64, tokens: Arc<Vec<String>>, connections: usize, stop: Stop) -> Stats {
    load::run(&bench.base, connections, stop, move |conn, i| {
        let tokens = tokens.clone();
        async move {
            let token = tokens.get(i as usize)?;
            Some(setup::hold_on(&conn, event, token).await.outcome(201))
        }
    })
    .await
}

/// Checks the event's counters against its live holds, and that every 201 is one of them.
pub async fn check_event(bench: &Bench, event: i64, created: u64, extra_live: i64) -> Result<()> {
    let row = bench
        .row(
            "SELECT CAST(e.capacity AS BIGINT) AS capacity, CAST(e.held_seats AS BIGINT) AS held_seats, CAST(e.held_count AS BIGINT) AS held_count, \
             CAST((SELECT COUNT(*) FROM reservations r WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at > $2) AS BIGINT) AS live, \
             CAST((SELECT COALESCE(SUM(quantity), 0) FROM reservations r WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at > $2) AS BIGINT) AS live_seats \
             FROM events e WHERE e.id = $1",
            vec![event.into(), bench.now()],
            &["capacity", "held_seats", "held_count", "live", "live_seats"],
        )
        .await?;
    let [capacity, held_seats, held_count, live, live_seats] = row[..] else { unreachable!() };
    bench.check(live_seats <= capacity, &format!("live held seats {live_seats} <= capacity {capacity}"));
    bench.check(
        held_seats == live_seats && held_count == live,
        &format!("event counters held_seats {held_seats}, held_count {held_count} match {live_seats} seats in {live} live holds"),
    );
    bench.check(
        live == created as i64 + extra_live,
        &format!("{live} live holds = {created} answered 201 + {extra_live} prepared"),
    );
    Ok(())
}

pub async fn run(bench: &Bench, connections: usize, duration: Duration, users: usize) -> Result<()> {
    let admin = bench.admin().await?;
    bench.history(&admin).await?;
    let event = bench.event(&admin, 1_000_000).await?;
    let tokens = Arc::new(bench.tokens(&bench.users("storm", users).await?));
    println!("hold-storm: event {event} (capacity 1,000,000), {users} users, {connections} connections, {duration:?}");
    let cpu = Cpu::sample(bench.server_pid);
    let stats = storm(bench, event, tokens, connections, Stop::After(duration)).await;
    stats.print("hold-storm", connections, "holds");
    cpu.report_since(bench.server_pid, stats.ok, "hold");
    check_event(bench, event, stats.ok, 0).await
}
