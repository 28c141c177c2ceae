//! `hold-profile`: where the time of one hold goes. Three measurements:
//! holds over HTTP one at a time; the same SQL the service sends for a hold
//! (crates/api/src/auth.rs, crates/infra-postgres/src/events.rs and persist.rs),
//! replayed from here one at a time with every statement timed; and that SQL
//! replayed by many clients at once on one event, which bounds what the
//! service's one-transaction-per-hold design can reach without any HTTP.
//! The hold's transaction sends no `NOTIFY`: the outbox relay announces its
//! rows afterwards, outside it (crates/infra-postgres/src/relay.rs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use serde_json::json;

use crate::load::{self, Outcome, Stats, Stop};
use crate::setup::{self, Bench, Result};

const STEPS: [&str; 9] = [
    "auth: SELECT the user (Caller extractor)",
    "BEGIN",
    "SELECT event FOR UPDATE + nextval",
    "SELECT lapsed holds FOR UPDATE",
    "SELECT the user's live hold",
    "UPDATE events (seat counters)",
    "INSERT reservation (upsert)",
    "INSERT 3 outbox rows RETURNING",
    "COMMIT (WAL flush)",
];
/// Steps 2..=8 run while the event's row is locked.
const LOCKED: std::ops::RangeInclusive<usize> = 2..=8;

/// Time per step, accumulated.
struct Laps {
    total: [Duration; STEPS.len()],
    at: Instant,
}

impl Laps {
    fn lap(&mut self, step: usize) {
        let now = Instant::now();
        self.total[step] += now - self.at;
        self.at = now;
    }
}

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// One hold as the service writes it, statement by statement.
async fn replay_hold(db: &DatabaseConnection, event: i64, studio: i64, user: i64, laps: &mut Laps) -> Result<()> {
    laps.at = Instant::now();
    db.query_one_raw(stmt(
        "SELECT id, email, password_hash, full_name, phone, role, studio_id, created_at FROM users WHERE id = $1",
        vec![user.into()],
    ))
    .await?;
    laps.lap(0);
    let txn = db.begin().await?;
    laps.lap(1);
    let row = txn
        .query_one_raw(stmt(
            "SELECT id, studio_id, title, description, capacity, price, starts_at, ends_at, is_active, held_seats, \
             held_count, confirmed_seats, confirmed_count, deleted_at, created_at, \
             nextval('reservations_id_seq') AS next_reservation_id FROM events WHERE id = $1 FOR UPDATE",
            vec![event.into()],
        ))
        .await?
        .ok_or("no such event")?;
    let id: i64 = row.try_get("", "next_reservation_id")?;
    laps.lap(2);
    let now = Utc::now();
    txn.query_all_raw(stmt(
        "SELECT id, kind, auction_id, event_id, user_id, studio_id, status, quantity, unit_price, total_price, \
         expires_at, booking_code, created_at, confirmed_at, checked_in_at, cancelled_at FROM reservations \
         WHERE event_id = $1 AND status = 'HOLD' AND expires_at <= $2 ORDER BY id FOR UPDATE",
        vec![event.into(), now.into()],
    ))
    .await?;
    laps.lap(3);
    txn.query_one_raw(stmt(
        "SELECT id FROM reservations WHERE event_id = $1 AND user_id = $2 AND status = 'HOLD' AND expires_at > $3",
        vec![event.into(), user.into(), now.into()],
    ))
    .await?;
    laps.lap(4);
    txn.execute_raw(stmt(
        "UPDATE events SET title = title, description = description, capacity = capacity, price = price, \
         starts_at = starts_at, ends_at = ends_at, is_active = is_active, held_seats = held_seats + $2, \
         held_count = held_count + $3, confirmed_seats = confirmed_seats + $4, confirmed_count = confirmed_count + $5, \
         deleted_at = deleted_at, updated_at = $6 WHERE id = $1",
        vec![event.into(), 1i64.into(), 1i64.into(), 0i64.into(), 0i64.into(), now.into()],
    ))
    .await?;
    laps.lap(5);
    let expires_at = now + chrono::Duration::minutes(5);
    txn.execute_raw(stmt(
        "INSERT INTO reservations (id, kind, auction_id, event_id, user_id, studio_id, status, quantity, unit_price, \
         total_price, expires_at, booking_code, created_at, confirmed_at, checked_in_at, cancelled_at, updated_at) \
         VALUES ($1, 'event', NULL, $2, $3, $4, 'HOLD', 1, 150.00, 150.00, $5, NULL, $6, NULL, NULL, NULL, $6) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, expires_at = EXCLUDED.expires_at, \
         booking_code = EXCLUDED.booking_code, confirmed_at = EXCLUDED.confirmed_at, \
         checked_in_at = EXCLUDED.checked_in_at, cancelled_at = EXCLUDED.cancelled_at, updated_at = EXCLUDED.updated_at",
        vec![id.into(), event.into(), user.into(), studio.into(), expires_at.into(), now.into()],
    ))
    .await?;
    laps.lap(6);
    let reservation =
        json!({"id": id, "kind": "event", "event_id": event, "user_id": user, "status": "HOLD", "quantity": 1});
    txn.query_all_raw(stmt(
            "INSERT INTO outbox (room, kind, payload, created_at) VALUES ($1, 'hold_created', $2, $3), \
             ($4, 'hold_created', $5, $6), ($7, 'availability_changed', $8, $9) RETURNING id, room, kind, payload, created_at",
            vec![
                format!("user:{user}").into(),
                reservation.clone().into(),
                now.into(),
                format!("studio:{studio}").into(),
                reservation.into(),
                now.into(),
                format!("event:{event}").into(),
                json!({"event_id": event}).into(),
                now.into(),
            ],
        ))
    .await?;
    laps.lap(7);
    txn.commit().await?;
    laps.lap(8);
    Ok(())
}

pub async fn run(bench: &Bench, count: usize, clients: usize, duration: Duration) -> Result<()> {
    if bench.is_sqlite() {
        return Err("hold-profile replays the service's PostgreSQL statements; run it against PostgreSQL".into());
    }
    let admin = bench.admin().await?;
    let (http_event, sql_event, contended_event) = (
        bench.event(&admin, 1_000_000).await?,
        bench.event(&admin, 1_000_000).await?,
        bench.event(&admin, 1_000_000).await?,
    );
    let users = bench.users("profile", 2 * count + 60_000).await?;
    let tokens = Arc::new(bench.tokens(&users[..count]));

    // 1. Over HTTP, one at a time: the uncontended latency of the whole path.
    let stats = load::run(&bench.base, 1, Stop::Count(count as u64), move |conn, i| {
        let tokens = tokens.clone();
        async move { Some(setup::hold_on(&conn, http_event, &tokens[i as usize]).await.outcome(201)) }
    })
    .await;
    stats.print("hold-profile: HTTP holds one at a time", 1, "holds");

    // 2. The service's SQL, one hold at a time, every statement timed.
    let db = setup::pool(&bench.database_url, clients as u32).await?;
    let mut laps = Laps { total: [Duration::ZERO; STEPS.len()], at: Instant::now() };
    for user in &users[count..2 * count] {
        replay_hold(&db, sql_event, admin.studio_id, *user, &mut laps).await?;
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / count as f64;
    let all: f64 = laps.total.iter().map(|d| per(*d)).sum();
    let locked: f64 = laps.total[LOCKED].iter().map(|d| per(*d)).sum();
    println!("== hold-profile: the service's SQL for one hold, replayed {count} times one at a time ==");
    for (step, total) in STEPS.iter().zip(laps.total) {
        println!("  {:>8.0} us  {:>4.1}%  {step}", per(total), 100.0 * per(total) / all);
    }
    println!("  {all:>8.0} us  total: {} round trips to PostgreSQL per hold", STEPS.len());
    println!(
        "  {locked:>8.0} us  with the event row locked ({} round trips) -> at most {:.0} holds/s on one event, whatever the concurrency",
        LOCKED.count(),
        1e6 / locked
    );
    println!(
        "  for comparison, one hold over HTTP took {:.0} us on average: the SQL round trips are nearly all of it",
        mean_ms(&stats) * 1000.0
    );

    // 3. The same SQL from many clients on one event: the ceiling without HTTP.
    let db = Arc::new(db);
    let users = Arc::new(users[2 * count..].to_vec());
    let studio = admin.studio_id;
    let stats = load::run(&bench.base, clients, Stop::After(duration), move |_, i| {
        let (db, users) = (db.clone(), users.clone());
        async move {
            let user = *users.get(i as usize)?;
            let mut laps = Laps { total: [Duration::ZERO; STEPS.len()], at: Instant::now() };
            Some(match replay_hold(&db, contended_event, studio, user, &mut laps).await {
                Ok(()) => Outcome { label: "committed".into(), ok: true },
                Err(error) => Outcome { label: format!("error: {error}"), ok: false },
            })
        }
    })
    .await;
    stats.print(
        &format!("hold-profile: the service's SQL from {clients} clients on one event, no HTTP"),
        clients,
        "holds",
    );
    Ok(())
}

fn mean_ms(stats: &Stats) -> f64 {
    stats.latencies_us.iter().sum::<u64>() as f64 / stats.latencies_us.len().max(1) as f64 / 1000.0
}
