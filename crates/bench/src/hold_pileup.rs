//! `hold-pileup`: the hold rate on an event with no live holds, then on one
//! with 100,000 live holds already (inserted in SQL, counters kept in step).

use std::sync::Arc;
use std::time::Duration;

use crate::hold_storm::{check_event, storm};
use crate::load::{Cpu, Stop};
use crate::setup::{Bench, Result};

pub async fn run(bench: &Bench, connections: usize, duration: Duration, users: usize, live_holds: i64) -> Result<()> {
    let admin = bench.admin().await?;
    let empty = bench.event(&admin, 1_000_000).await?;
    let piled = bench.event(&admin, 1_000_000).await?;
    let started = std::time::Instant::now();
    bench.pile_up(piled, admin.studio_id, live_holds).await?;
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
        let stats = storm(bench, event, tokens.clone(), connections, Stop::After(duration)).await;
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
