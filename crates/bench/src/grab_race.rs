//! `grab-race`: 1,000 users grab one auction at the same moment.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Barrier;

use crate::conn::Conn;
use crate::load::{Cpu, Stats};
use crate::setup::{API, Bench, Result};

pub async fn run(bench: &Bench, users: usize) -> Result<()> {
    let admin = bench.admin().await?;
    let auction = bench.auction(&admin).await?;
    let tokens = bench.tokens(&bench.users("grab", users).await?);
    println!("grab-race: auction {auction}, {users} users, each on its own connection, released together");
    // Every user first gets ready (its connection open, its request built),
    // then all are released together: the race, and the CPU measured over
    // it, are the requests alone, not the TCP handshakes before them.
    let (ready, go) = (Arc::new(Barrier::new(users + 1)), Arc::new(Barrier::new(users + 1)));
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let (ready, go, conn) = (ready.clone(), go.clone(), Conn::to(&bench.base));
            let grab = format!("{API}/auctions/{auction}/grab");
            tokio::spawn(async move {
                let _ = conn.get("/health/live").await;
                ready.wait().await;
                go.wait().await;
                let sent = Instant::now();
                let reply = conn.post(&grab, &token, None).await;
                (reply.outcome(201), sent.elapsed())
            })
        })
        .collect();
    ready.wait().await;
    let cpu = Cpu::sample(bench.server_pid);
    go.wait().await;
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
