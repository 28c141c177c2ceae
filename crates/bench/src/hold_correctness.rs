//! `hold-correctness`: 2,000 holds at 200 concurrency on an event of 500 seats.

use std::sync::Arc;

use crate::load::{Cpu, Stop};
use crate::setup::{Bench, Result};

pub async fn run(bench: &Bench, capacity: i64, holds: u64, connections: usize) -> Result<()> {
    let admin = bench.admin().await?;
    bench.history(&admin).await?;
    let event = bench.event(&admin, capacity).await?;
    let tokens = Arc::new(bench.tokens(&bench.users("correct", holds as usize).await?));
    println!(
        "hold-correctness: event {event} (capacity {capacity}), {holds} holds by as many users, {connections} concurrent"
    );
    let cpu = Cpu::sample(bench.server_pid);
    let stats = crate::hold_storm::storm(bench, event, tokens, connections, Stop::Count(holds)).await;
    stats.print("hold-correctness", connections, "holds");
    println!("  all {holds} answered in {:.3} s", stats.elapsed.as_secs_f64());
    cpu.report_since(bench.server_pid, stats.total(), "hold request");
    bench.check(stats.total() == holds, &format!("every request answered ({} of {holds})", stats.total()));
    bench.check(stats.failures() == 0, &format!("no 5xx and no unanswered request ({} seen)", stats.failures()));
    bench.check(stats.ok == capacity as u64, &format!("exactly {capacity} holds answered 201 ({})", stats.ok));
    crate::hold_storm::check_event(bench, event, stats.ok, 0).await
}
