//! `read`: `GET /auctions/{id}` and `GET /events/{id}`, anonymous, each for the duration.

use std::sync::Arc;
use std::time::Duration;

use crate::load::{self, Cpu, Stop};
use crate::setup::{self, API, Bench, Result};

pub async fn run(bench: &Bench, connections: usize, duration: Duration) -> Result<()> {
    let admin = bench.admin().await?;
    let auction = bench.auction(&admin).await?;
    let event = bench.event(&admin, 500).await?;
    // A few live holds, so the event read has something to count.
    let tokens = bench.tokens(&bench.users("read", 20).await?);
    for token in &tokens {
        setup::send(setup::hold(&bench.http, &bench.api, event, token)).await;
    }
    for (title, path) in [
        ("read GET /auctions/{id}", format!("{API}/auctions/{auction}")),
        ("read GET /events/{id}", format!("{API}/events/{event}")),
    ] {
        let path = Arc::new(path);
        let cpu = Cpu::sample(bench.server_pid);
        let stats = load::run(&bench.base, connections, Stop::After(duration), move |conn, _| {
            let path = path.clone();
            async move { Some(conn.get(&path).await.outcome(200)) }
        })
        .await;
        stats.print(title, connections, "reads");
        cpu.report_since(bench.server_pid, stats.ok, "read");
        bench.check(stats.ok == stats.total(), &format!("every read answered 200 ({} of {})", stats.ok, stats.total()));
    }
    let row = bench
        .row("SELECT CAST(held_seats AS BIGINT) AS held FROM events WHERE id = $1", vec![event.into()], &["held"])
        .await?;
    bench.check(
        row[0] == tokens.len() as i64,
        &format!("reads changed nothing: held_seats {} = {}", row[0], tokens.len()),
    );
    Ok(())
}
