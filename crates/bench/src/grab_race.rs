//! `grab-race`: 1,000 users grab one auction at the same moment.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Barrier;

use crate::load::{self, Cpu, Stats};
use crate::setup::{self, Bench, Result};

pub async fn run(bench: &Bench, users: usize) -> Result<()> {
    let admin = bench.admin().await?;
    let auction = bench.auction(&admin).await?;
    let tokens = bench.tokens(&bench.users("grab", users).await?);
    println!("grab-race: auction {auction}, {users} users, each on its own connection, released together");
    let barrier = Arc::new(Barrier::new(users + 1));
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let (barrier, base, api) = (barrier.clone(), bench.base.clone(), bench.api.clone());
            tokio::spawn(async move {
                let client = load::client();
                // Open the connection first, so the race is between requests, not TCP handshakes.
                let _ = client.get(format!("{base}/health/live")).send().await;
                barrier.wait().await;
                let sent = Instant::now();
                let reply = setup::send(client.post(format!("{api}/auctions/{auction}/grab")).bearer_auth(token)).await;
                (reply.outcome(201), sent.elapsed())
            })
        })
        .collect();
    let cpu = Cpu::sample(bench.server_pid);
    barrier.wait().await;
    let started = Instant::now();
    let mut stats = Stats::default();
    for task in tasks {
        let (outcome, latency) = task.await?;
        stats.record(outcome, latency);
    }
    stats.finish(started.elapsed());
    stats.print("grab-race", users, "grabs");
    cpu.report_since(bench.server_pid, stats.total(), "grab request");
    bench.check(stats.total() == users as u64, &format!("every request answered ({} of {users})", stats.total()));
    bench.check(stats.ok == 1, &format!("exactly one 201 ({})", stats.ok));
    bench.check(stats.failures() == 0, &format!("no 5xx and no unanswered request ({} seen)", stats.failures()));
    let outcome = bench.auction_outcome(auction).await?;
    bench.check(outcome.live == 1, &format!("exactly one live reservation on the auction ({})", outcome.live));
    bench.check(outcome.held, "the auction is HELD");
    Ok(())
}
