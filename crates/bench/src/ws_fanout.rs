//! `ws-fanout`: many sockets in one auction room; how long each broadcast
//! takes to reach every socket, and the server's memory per socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt, stream};
use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::load::{Cpu, Stats, percentile};
use crate::send_floor;
use crate::setup::{self, Bench, Result};

/// The soft `RLIMIT_NOFILE` of a process, from `/proc/<pid>/limits`.
fn open_files_limit(pid: &str) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn check_open_files(who: &str, pid: &str, sockets: usize) -> Result<()> {
    let limit = open_files_limit(pid).ok_or_else(|| format!("cannot read /proc/{pid}/limits"))?;
    println!("  RLIMIT_NOFILE of {who}: {limit}");
    if limit < sockets as u64 + 256 {
        return Err(
            format!("{who} may open only {limit} files, {sockets} sockets need more: raise `ulimit -n` first").into()
        );
    }
    Ok(())
}

/// The length of a server's (unmasked) WebSocket frame header for a text of `len` bytes.
fn ws_header_bytes(len: usize) -> usize {
    match len {
        0..=125 => 2,
        126..=65_535 => 4,
        _ => 10,
    }
}

/// Opens a socket, joins `room`, and leaves a task reading it: the arrival
/// time of every state change (`seq`) goes to `arrivals`.
async fn open(
    url: String,
    room: String,
    arrivals: mpsc::UnboundedSender<(i64, Instant)>,
    mut stop: watch::Receiver<bool>,
    dropped: Arc<AtomicU64>,
    frame_bytes: Arc<AtomicU64>,
) -> Result<()> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
    ws.send(Message::text(json!({"op": "subscribe", "room": room}).to_string())).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let frame: Json = serde_json::from_str(&text)?;
                if frame["type"] == "subscribed" {
                    break;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => return Err("closed before `subscribed`".into()),
        }
    }
    tokio::spawn(async move {
        loop {
            tokio::select! {
                message = ws.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        let at = Instant::now();
                        if let Some(seq) = serde_json::from_str::<Json>(&text).ok().and_then(|frame| frame["seq"].as_i64()) {
                            let _ = arrivals.send((seq, at));
                            frame_bytes.store(text.len() as u64, Ordering::Relaxed);
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                },
                _ = stop.changed() => {
                    let _ = ws.close(None).await;
                    break;
                }
            }
        }
    });
    Ok(())
}

/// Waits for one broadcast (the first `seq` after `last_seq`) to reach every
/// socket; records each arrival's latency since `sent`. Answers how many arrived.
async fn collect(
    arrivals: &mut mpsc::UnboundedReceiver<(i64, Instant)>,
    sockets: usize,
    sent: Instant,
    last_seq: &mut i64,
    latencies_us: &mut Vec<u64>,
) -> usize {
    let deadline = tokio::time::Instant::from_std(sent + Duration::from_secs(15));
    let (mut seq, mut arrived) = (None, 0);
    while arrived < sockets {
        let Ok(Some((s, at))) = tokio::time::timeout_at(deadline, arrivals.recv()).await else { break };
        if s <= *last_seq || seq.is_some_and(|seq| seq != s) {
            continue; // a late copy of an earlier broadcast
        }
        seq = Some(s);
        arrived += 1;
        latencies_us.push(at.duration_since(sent).as_micros() as u64);
    }
    *last_seq = seq.unwrap_or(*last_seq);
    arrived
}

pub async fn run(bench: &Bench, sockets: usize, rounds: usize, connect_concurrency: usize) -> Result<()> {
    println!(
        "ws-fanout: {sockets} sockets in one auction room, {rounds} rounds of grab (auction_held) then cancel (auction_reopened)"
    );
    check_open_files("hothour-bench", "self", sockets)?;
    if let Some(pid) = bench.server_pid {
        check_open_files("the server", &pid.to_string(), sockets)?;
    }
    let admin = bench.admin().await?;
    let auction = bench.auction(&admin).await?;
    let tokens = bench.tokens(&bench.users("ws", rounds).await?);
    let rss_before = bench.server_rss_kb();

    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let dropped = Arc::new(AtomicU64::new(0));
    let frame_bytes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let (url, room) = (bench.ws_url(), format!("auction:{auction}"));
    let opened: Vec<Result<()>> = stream::iter(0..sockets)
        .map(|_| {
            let (arrivals, stop) = (arrivals_tx.clone(), stop_rx.clone());
            open(url.clone(), room.clone(), arrivals, stop, dropped.clone(), frame_bytes.clone())
        })
        .buffer_unordered(connect_concurrency)
        .collect()
        .await;
    let failed: Vec<String> = opened.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
    let connected = sockets - failed.len();
    println!(
        "  {connected} sockets subscribed in {:.1} s ({} failed{})",
        started.elapsed().as_secs_f64(),
        failed.len(),
        failed.first().map(|e| format!(", first: {e}")).unwrap_or_default()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = bench.server_rss_kb();
    if let (Some(before), Some(after)) = (rss_before, rss_idle) {
        let per_socket = after.saturating_sub(before) as f64 / connected.max(1) as f64;
        println!(
            "  server VmRSS: {before} kB before, {after} kB with {connected} idle sockets -> {per_socket:.1} kB per socket"
        );
    } else {
        println!("  server memory: give --server-pid to read its VmRSS");
    }

    let mut latencies_us = Vec::new();
    let mut to_last_ms = Vec::new();
    let mut last_seq = 0;
    let mut actions = Stats::default();
    let mut incomplete = 0;
    let cpu = Cpu::sample(bench.server_pid);
    for token in &tokens {
        let sent = Instant::now();
        let grab =
            setup::send(bench.http.post(format!("{}/auctions/{auction}/grab", bench.api)).bearer_auth(token)).await;
        actions.record(grab.outcome(201), sent.elapsed());
        let id = grab.body["id"].as_i64().ok_or_else(|| format!("the grab failed: {}", grab.body))?;
        let before = latencies_us.len();
        let arrived = collect(&mut arrivals, connected, sent, &mut last_seq, &mut latencies_us).await;
        to_last_ms.push(latencies_us[before..].iter().max().copied().unwrap_or(0) as f64 / 1000.0);
        incomplete += connected - arrived;

        let sent = Instant::now();
        let cancel = bench.http.post(format!("{}/reservations/{id}/cancel", bench.api)).bearer_auth(token);
        let cancel = setup::send(cancel).await;
        actions.record(cancel.outcome(200), sent.elapsed());
        let before = latencies_us.len();
        let arrived = collect(&mut arrivals, connected, sent, &mut last_seq, &mut latencies_us).await;
        to_last_ms.push(latencies_us[before..].iter().max().copied().unwrap_or(0) as f64 / 1000.0);
        incomplete += connected - arrived;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let rss_after = bench.server_rss_kb();
    latencies_us.sort_unstable();
    let ms = |p| percentile(&latencies_us, p) as f64 / 1000.0;
    println!("== ws-fanout ==");
    println!(
        "  {} broadcasts x {connected} sockets: {} deliveries, {incomplete} missing, {} sockets closed by the server",
        2 * rounds,
        latencies_us.len(),
        dropped.load(Ordering::Relaxed)
    );
    println!(
        "  delivery latency ms (from the request that caused it): p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(50.0),
        ms(90.0),
        ms(99.0),
        ms(100.0)
    );
    let to_last: Vec<String> = to_last_ms.iter().map(|ms| format!("{ms:.0}")).collect();
    println!("  time until the last socket had it, per broadcast (ms): {}", to_last.join(" "));
    let server_per_broadcast =
        cpu.report_since(bench.server_pid, 2 * rounds as u64, "broadcast to every socket (with its grab or cancel)");
    actions.finish(Duration::ZERO);
    println!("  the grabs and cancels themselves: p50 {:.2} ms, max {:.2} ms", actions.ms(50.0), actions.ms(100.0));
    if let Some(after) = rss_after {
        println!("  server VmRSS after the broadcasts: {after} kB");
    }
    let _ = stop_tx.send(true);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // With the sockets closed, the same number of plain loopback sockets:
    // their two ends are both in this process, within its open files limit.
    let floor_sockets = connected.min(open_files_limit("self").unwrap_or(0).saturating_sub(256) as usize / 2);
    let text_bytes = frame_bytes.load(Ordering::Relaxed) as usize;
    let frame_len = text_bytes + ws_header_bytes(text_bytes);
    let floor = send_floor::measure(floor_sockets, 20, frame_len).await?;
    let floor_us = floor.median_us();
    println!(
        "  the kernel's floor: one write of the same frame ({} bytes) to each of {} loopback sockets: {floor_us:.1} us of the writing thread's CPU per socket (median of {} rounds)",
        frame_len,
        floor.sockets,
        floor.per_socket_us.len()
    );
    if let Some(server) = server_per_broadcast {
        let per_socket_us = server * 1e6 / connected.max(1) as f64;
        println!(
            "  server cpu per socket per broadcast: {per_socket_us:.1} us = the floor {floor_us:.1} + {:.1} us of the server's own",
            per_socket_us - floor_us
        );
    }
    let json = json!({
        "scenario": "ws-fanout", "sockets": connected, "broadcasts": 2 * rounds, "deliveries": latencies_us.len(),
        "missing": incomplete, "p50_ms": ms(50.0), "p90_ms": ms(90.0), "p99_ms": ms(99.0), "max_ms": ms(100.0),
        "rss_before_kb": rss_before, "rss_idle_kb": rss_idle, "rss_after_kb": rss_after,
        "floor_us_per_socket": floor_us, "server_us_per_socket": server_per_broadcast.map(|s| s * 1e6 / connected.max(1) as f64),
    });
    println!("  json: {json}");

    bench.check(failed.is_empty(), &format!("every socket subscribed ({connected} of {sockets})"));
    bench.check(incomplete == 0, &format!("every broadcast reached every socket ({incomplete} missing)"));
    bench.check(
        actions.ok == actions.total(),
        &format!("every grab and cancel succeeded ({} of {})", actions.ok, actions.total()),
    );
    let outcome = bench.auction_outcome(auction).await?;
    bench.check(
        outcome.live == 0 && outcome.cancelled == rounds as i64,
        &format!("no live reservation left, {} cancelled of {rounds}", outcome.cancelled),
    );
    Ok(())
}
