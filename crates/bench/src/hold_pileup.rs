//! `hold-pileup`: the hold rate on an event with no live holds, then on one
//! with 100,000 live holds already (inserted in SQL, counters kept in step).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use crate::hold_storm::{check_event, storm};
use crate::load::Cpu;
use crate::setup::{Bench, Result};

/// `count` new users, each with a live one-seat hold on `event` for an hour, and the event's counters moved by as much.
async fn pile_up(bench: &Bench, event: i64, studio: i64, count: i64) -> Result<()> {
    let txn = bench.db.begin().await?;
    let holds = "WITH u AS ( \
           INSERT INTO users (email, password_hash, full_name, role) \
           SELECT 'bench-pile-' || $1 || '-' || g || '@x.io', $2, 'Bench', 'user' FROM generate_series(1, $3) g RETURNING id) \
         INSERT INTO reservations (kind, event_id, user_id, studio_id, status, quantity, unit_price, total_price, expires_at, created_at) \
         SELECT 'event', $4, u.id, $5, 'HOLD', 1, 150.00, 150.00, now() + interval '1 hour', now() FROM u";
    let tag = chrono::Utc::now().timestamp_millis().to_string();
    let values = vec![tag.into(), crate::setup::PASSWORD_HASH.into(), count.into(), event.into(), studio.into()];
    txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, holds, values)).await?;
    let counters = "UPDATE events SET held_seats = held_seats + $2, held_count = held_count + $2 WHERE id = $1";
    let values = vec![event.into(), (count as i32).into()];
    txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, counters, values)).await?;
    txn.commit().await?;
    bench.db.execute_unprepared("ANALYZE reservations").await?;
    Ok(())
}

pub async fn run(bench: &Bench, connections: usize, duration: Duration, users: usize, live_holds: i64) -> Result<()> {
    let admin = bench.admin().await?;
    let empty = bench.event(&admin, 1_000_000).await?;
    let piled = bench.event(&admin, 1_000_000).await?;
    let started = std::time::Instant::now();
    pile_up(bench, piled, admin.studio_id, live_holds).await?;
    println!(
        "hold-pileup: {live_holds} live holds inserted on event {piled} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The same users hold on both events: a user may hold once per event.
    let tokens = Arc::new(bench.tokens(&bench.users("pileup", users).await?));

    let mut rates = Vec::new();
    for (event, extra) in [(empty, 0), (piled, live_holds)] {
        let title = format!("hold-pileup ({extra} live holds)");
        let cpu = Cpu::sample(bench.server_pid);
        let stats = storm(bench, event, tokens.clone(), connections, duration).await;
        stats.print(&title, connections, "holds");
        cpu.report_since(bench.server_pid, stats.ok, "hold");
        check_event(bench, event, stats.ok, extra).await?;
        rates.push(stats.ok_per_second());
    }
    let ratio = rates[1] / rates[0].max(1e-9);
    println!("  rate with {live_holds} live holds / rate with none: {:.1} / {:.1} = {:.2}", rates[1], rates[0], ratio);
    println!("  goal (within 20%): {}", if ratio >= 0.8 { "met" } else { "missed" });
    Ok(())
}
