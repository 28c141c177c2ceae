//! `hothour-bench`: drives a running HotHour over real HTTP and WebSocket.
//!
//! Each scenario prepares its own studio, events, auctions and users (users in
//! bulk with one SQL statement, tokens minted with the server's `JWT_SECRET`),
//! runs at a fixed connection count for a fixed time or count, prints
//! throughput, latency percentiles and status counts, then checks the
//! invariant in the database. `scripts/bench.sh` runs them all on a fresh
//! server; BENCHMARKS.md has the numbers.

mod conn;
mod grab_race;
mod hold_confirm;
mod hold_correctness;
mod hold_pileup;
mod hold_profile;
mod hold_spread;
mod hold_storm;
mod load;
mod observer;
mod read;
mod send_floor;
mod setup;
mod ws_fanout;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hothour-bench", about = "Load scenarios against a running HotHour on 127.0.0.1.")]
struct Cli {
    /// The server under test (127.0.0.1 only).
    #[arg(long, env = "BENCH_BASE_URL", default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// The server's database, for preparing data and checking invariants.
    #[arg(long, env = "BENCH_DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/hothour_bench")]
    database_url: String,
    /// The server's JWT_SECRET, to mint access tokens.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
    /// The server's process id: its CPU time and VmRSS are reported.
    #[arg(long, env = "BENCH_SERVER_PID")]
    server_pid: Option<u32>,
    #[command(subcommand)]
    scenario: Scenario,
}

fn seconds(value: &str) -> Result<Duration, String> {
    value.parse::<f64>().ok().filter(|s| *s > 0.0).map(Duration::from_secs_f64).ok_or_else(|| "seconds, > 0".into())
}

/// How hard and how long a timed scenario runs.
#[derive(Args)]
struct Timed {
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds, for each run of the scenario.
    #[arg(long, default_value = "20", value_parser = seconds)]
    duration: Duration,
}

#[derive(Subcommand)]
enum Scenario {
    /// One event with a huge capacity; a different user for every hold.
    HoldStorm {
        #[command(flatten)]
        timed: Timed,
        /// Users prepared (one per hold); the run stops early if they run out.
        #[arg(long, default_value_t = 100_000)]
        users: usize,
    },
    /// The marketplace case: holds spread at random over `--events` events, a different user for every hold.
    HoldSpread {
        #[command(flatten)]
        timed: Timed,
        #[arg(long, default_value_t = 1_000)]
        events: usize,
        /// Users prepared (one per hold); the run stops early if they run out.
        #[arg(long, default_value_t = 60_000)]
        users: usize,
        /// The base URL of a second instance on the same database: one socket
        /// there follows the studio's room, timing each hold's news.
        #[arg(long)]
        observe: Option<String>,
    },
    /// `--holds` holds by as many users at `--connections` concurrency on an event of `--capacity` seats.
    HoldCorrectness {
        #[arg(long, default_value_t = 500)]
        capacity: i64,
        #[arg(long, default_value_t = 2_000)]
        holds: u64,
        #[arg(long, default_value_t = 200)]
        connections: usize,
    },
    /// The hold rate on an event with no live holds, then with `--live-holds` live holds.
    HoldPileup {
        #[command(flatten)]
        timed: Timed,
        #[arg(long, default_value_t = 60_000)]
        users: usize,
        #[arg(long, default_value_t = 100_000)]
        live_holds: i64,
    },
    /// `--users` users grab one auction at the same moment.
    GrabRace {
        #[arg(long, default_value_t = 1_000)]
        users: usize,
    },
    /// Hold then confirm; confirmed bookings per second.
    HoldConfirm {
        #[command(flatten)]
        timed: Timed,
        #[arg(long, default_value_t = 60_000)]
        users: usize,
    },
    /// GET /auctions/{id}, then GET /events/{id}, each for the duration.
    Read {
        #[command(flatten)]
        timed: Timed,
    },
    /// Sockets in one auction room: delivery latency of each broadcast, server memory per socket.
    WsFanout {
        #[arg(long, default_value_t = 10_000)]
        sockets: usize,
        /// Rounds of grab (one broadcast) then cancel (another).
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        /// Sockets being opened at once.
        #[arg(long, default_value_t = 100)]
        connect_concurrency: usize,
    },
    /// Where a hold's time goes: HTTP one at a time, the service's SQL statement by statement, and that SQL under contention.
    HoldProfile {
        /// Holds for the one-at-a-time measurements.
        #[arg(long, default_value_t = 1_000)]
        count: usize,
        /// Database clients replaying the SQL at once.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds of the contended replay.
        #[arg(long, default_value = "10", value_parser = seconds)]
        duration: Duration,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // Built with the service, reqwest takes TLS without a provider of its own.
    hothour_api::install_crypto_provider();
    let cli = Cli::parse();
    let bench = match setup::Bench::connect(&cli.base_url, &cli.database_url, &cli.jwt_secret, cli.server_pid).await {
        Ok(bench) => bench,
        Err(error) => {
            eprintln!("hothour-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.scenario {
        Scenario::HoldStorm { timed, users } => hold_storm::run(&bench, timed.connections, timed.duration, users).await,
        Scenario::HoldSpread { timed, events, users, observe } => {
            hold_spread::run(&bench, timed.connections, timed.duration, users, events, observe.as_deref()).await
        }
        Scenario::HoldCorrectness { capacity, holds, connections } => {
            hold_correctness::run(&bench, capacity, holds, connections).await
        }
        Scenario::HoldPileup { timed, users, live_holds } => {
            hold_pileup::run(&bench, timed.connections, timed.duration, users, live_holds).await
        }
        Scenario::GrabRace { users } => grab_race::run(&bench, users).await,
        Scenario::HoldConfirm { timed, users } => {
            hold_confirm::run(&bench, timed.connections, timed.duration, users).await
        }
        Scenario::Read { timed } => read::run(&bench, timed.connections, timed.duration).await,
        Scenario::WsFanout { sockets, rounds, connect_concurrency } => {
            ws_fanout::run(&bench, sockets, rounds, connect_concurrency).await
        }
        Scenario::HoldProfile { count, clients, duration } => hold_profile::run(&bench, count, clients, duration).await,
    };
    match result {
        Err(error) => {
            eprintln!("hothour-bench: {error}");
            ExitCode::FAILURE
        }
        Ok(()) if bench.any_broken() => {
            eprintln!("hothour-bench: an invariant is broken (see above)");
            ExitCode::FAILURE
        }
        Ok(()) => ExitCode::SUCCESS,
    }
}
