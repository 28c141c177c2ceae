//! The fixed-concurrency loop, the recorded latencies and their percentiles,
//! and CPU accounting from `/proc`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::conn::Conn;

/// How one operation ended: a label for the status table and whether it did its work.
pub struct Outcome {
    pub label: String,
    pub ok: bool,
}

/// When a run ends: after a time, or after a number of operations.
#[derive(Clone, Copy)]
pub enum Stop {
    After(Duration),
    Count(u64),
}

/// Every operation's latency (in microseconds) and how it ended.
#[derive(Default)]
pub struct Stats {
    pub latencies_us: Vec<u64>,
    pub statuses: BTreeMap<String, u64>,
    pub ok: u64,
    pub elapsed: Duration,
    /// A worker stopped early because the prepared users ran out.
    pub exhausted: bool,
}

impl Stats {
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
        self.latencies_us.push(latency.as_micros() as u64);
        *self.statuses.entry(outcome.label).or_default() += 1;
        self.ok += u64::from(outcome.ok);
    }

    fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        for (label, count) in other.statuses {
            *self.statuses.entry(label).or_default() += count;
        }
        self.ok += other.ok;
        self.exhausted |= other.exhausted;
    }

    pub fn total(&self) -> u64 {
        self.latencies_us.len() as u64
    }

    pub fn ok_per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at percentile `p` in milliseconds (call after [`Stats::finish`]).
    pub fn ms(&self, p: f64) -> f64 {
        percentile(&self.latencies_us, p) as f64 / 1000.0
    }

    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
        self.latencies_us.sort_unstable();
    }

    /// Statuses whose label starts with a 5 or says the request got no answer.
    pub fn failures(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(label, _)| label.starts_with('5') || label.starts_with("no answer"))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn print(&self, title: &str, connections: usize, unit: &str) {
        println!("== {title} ==");
        println!(
            "  {connections} connections, {:.2} s, {} requests, {} ok -> {:.1} {unit}/s ({:.1} requests/s)",
            self.elapsed.as_secs_f64(),
            self.total(),
            self.ok,
            self.ok_per_second(),
            self.total() as f64 / self.elapsed.as_secs_f64().max(1e-9),
        );
        println!(
            "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            self.ms(50.0),
            self.ms(90.0),
            self.ms(99.0),
            self.ms(100.0)
        );
        let statuses: Vec<String> = self.statuses.iter().map(|(label, n)| format!("{label} x{n}")).collect();
        println!("  statuses: {}", statuses.join(", "));
        if self.exhausted {
            println!("  note: the prepared users ran out before the time was up (raise --users)");
        }
        let json = serde_json::json!({
            "scenario": title, "connections": connections, "elapsed_s": self.elapsed.as_secs_f64(),
            "requests": self.total(), "ok": self.ok, "ok_per_s": self.ok_per_second(),
            "p50_ms": self.ms(50.0), "p90_ms": self.ms(90.0), "p99_ms": self.ms(99.0), "max_ms": self.ms(100.0),
            "statuses": self.statuses,
        });
        println!("  json: {json}");
    }
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100; 100 is the maximum).
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// An HTTP client for one worker: one keep-alive connection, like a wrk connection.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

/// Runs `op` on `connections` workers, each with its own connection to the
/// server at `base` (see [`Conn`]), until
/// `stop`. Every call gets the next index (0, 1, 2, … across all workers), so
/// index `i` can pick user `i`; `op` answers `None` when there is no more work.
pub async fn run<F, Fut>(base: &str, connections: usize, stop: Stop, op: F) -> Stats
where
    F: Fn(Conn, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Outcome>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let (deadline, limit) = match stop {
        Stop::After(duration) => (Some(started + duration), u64::MAX),
        Stop::Count(count) => (None, count),
    };
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (op, next, conn) = (op.clone(), next.clone(), Conn::to(base));
            tokio::spawn(async move {
                let mut stats = Stats::default();
                while deadline.is_none_or(|deadline| Instant::now() < deadline) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= limit {
                        break;
                    }
                    let sent = Instant::now();
                    match op(conn.clone(), index).await {
                        Some(outcome) => stats.record(outcome, sent.elapsed()),
                        None => {
                            stats.exhausted = true;
                            break;
                        }
                    }
                }
                stats
            })
        })
        .collect();
    let mut all = Stats::default();
    for worker in workers {
        all.merge(worker.await.expect("a load worker panicked"));
    }
    all.finish(started.elapsed());
    all
}

/// CPU time used so far (seconds) by the server, by all PostgreSQL processes and by this tool.
pub struct Cpu {
    server: Option<f64>,
    postgres: f64,
    bench: f64,
    at: Instant,
}

/// utime + stime of a process, in seconds (`/proc` counts in 1/100 s on Linux).
fn process_cpu(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

impl Cpu {
    pub fn sample(server_pid: Option<u32>) -> Cpu {
        let mut postgres = 0.0;
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.bytes().all(|b| b.is_ascii_digit())
                    && std::fs::read_to_string(format!("/proc/{name}/comm")).is_ok_and(|comm| comm.trim() == "postgres")
                {
                    postgres += process_cpu(&name).unwrap_or(0.0);
                }
            }
        }
        Cpu {
            server: server_pid.and_then(|pid| process_cpu(&pid.to_string())),
            postgres,
            bench: process_cpu("self").unwrap_or(0.0),
            at: Instant::now(),
        }
    }

    /// Prints the CPU used since `self`, and per unit of work (`ok` of them,
    /// each a `unit`); answers the server's CPU seconds per unit.
    pub fn report_since(&self, server_pid: Option<u32>, ok: u64, unit: &str) -> Option<f64> {
        let now = Cpu::sample(server_pid);
        let wall = now.at.duration_since(self.at).as_secs_f64();
        let server = match (self.server, now.server) {
            (Some(before), Some(after)) => format!("server {:.1} s", after - before),
            _ => "server ? (give --server-pid)".into(),
        };
        let postgres = now.postgres - self.postgres;
        let bench = now.bench - self.bench;
        println!(
            "  cpu over {wall:.1} s wall ({:.1} core-s on {} cores): {server}, postgres (all processes) {postgres:.1} s, bench {bench:.1} s",
            wall * cores() as f64,
            cores()
        );
        let (Some(before), Some(after), true) = (self.server, now.server, ok > 0) else {
            return None;
        };
        let server = (after - before) / ok as f64;
        println!(
            "  cpu per {unit}: server {:.0} us, postgres {:.0} us, bench {:.0} us",
            server * 1e6,
            postgres * 1e6 / ok as f64,
            bench * 1e6 / ok as f64
        );
        Some(server)
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), 50);
        assert_eq!(percentile(&sorted, 90.0), 90);
        assert_eq!(percentile(&sorted, 99.0), 99);
        assert_eq!(percentile(&sorted, 100.0), 100);
        assert_eq!(percentile(&sorted, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[10, 20, 30, 40], 50.0), 20);
        assert_eq!(percentile(&[10, 20, 30, 40], 51.0), 30);
    }

    #[test]
    fn stats_count_statuses_and_successes() {
        let mut stats = Stats::default();
        stats.record(Outcome { label: "201".into(), ok: true }, Duration::from_millis(3));
        stats.record(Outcome { label: "503 busy".into(), ok: false }, Duration::from_millis(1));
        stats.record(Outcome { label: "201".into(), ok: true }, Duration::from_millis(2));
        stats.finish(Duration::from_secs(1));
        assert_eq!(stats.ok, 2);
        assert_eq!(stats.statuses["201"], 2);
        assert_eq!(stats.failures(), 1);
        assert_eq!(stats.ms(100.0), 3.0);
        assert_eq!(stats.ms(50.0), 2.0);
        assert_eq!(stats.ok_per_second(), 2.0);
    }
}
