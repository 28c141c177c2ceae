//! `hold-confirm`: hold a seat, then confirm it; confirmed bookings per second.

use std::sync::Arc;
use std::time::Duration;

use crate::load::{self, Cpu, Outcome, Stop};
use crate::setup::{self, API, Bench, Result};

pub async fn run(bench: &Bench, connections: usize, duration: Duration, users: usize) -> Result<()> {
    let admin = bench.admin().await?;
    bench.history(&admin).await?;
    let event = bench.event(&admin, 1_000_000).await?;
    let tokens = Arc::new(bench.tokens(&bench.users("confirm", users).await?));
    println!(
        "hold-confirm: event {event}, {users} users, {connections} connections, {duration:?}; latency is hold + confirm"
    );
    let cpu = Cpu::sample(bench.server_pid);
    let stats = load::run(&bench.base, connections, Stop::After(duration), move |conn, i| {
        let tokens = tokens.clone();
        async move {
            let token = tokens.get(i as usize)?;
            let hold = setup::hold_on(&conn, event, token).await;
            let Some(id) = hold.body["id"].as_i64().filter(|_| hold.status == Some(201)) else {
                return Some(hold.outcome(201));
            };
            let confirm = conn.post(&format!("{API}/reservations/{id}/confirm"), token, None).await;
            Some(Outcome { label: format!("201 then {}", confirm.label()), ok: confirm.status == Some(200) })
        }
    })
    .await;
    stats.print("hold-confirm", connections, "confirmed");
    cpu.report_since(bench.server_pid, stats.ok, "confirmed booking");
    let row = bench
        .row(
            "SELECT CAST(e.confirmed_seats AS BIGINT) AS seats, CAST(e.confirmed_count AS BIGINT) AS count, CAST(e.held_seats AS BIGINT) AS held, \
               CAST((SELECT COUNT(*) FROM reservations r WHERE r.event_id = e.id AND r.status = 'CONFIRMED') AS BIGINT) AS confirmed, \
               CAST((SELECT COUNT(*) FROM reservations r WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at > $2) AS BIGINT) AS live \
             FROM events e WHERE e.id = $1",
            vec![event.into(), bench.now()],
            &["seats", "count", "held", "confirmed", "live"],
        )
        .await?;
    bench.check(
        row[0] == row[3] && row[1] == row[3],
        &format!("confirmed_seats {} and confirmed_count {} match {} CONFIRMED rows", row[0], row[1], row[3]),
    );
    bench.check(row[3] == stats.ok as i64, &format!("{} CONFIRMED rows = {} answered 200", row[3], stats.ok));
    bench.check(row[2] == row[4], &format!("held_seats {} matches {} live holds", row[2], row[4]));
    Ok(())
}
