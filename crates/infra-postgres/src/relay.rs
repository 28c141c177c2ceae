//! The outbox relay: business transactions only insert outbox rows; one
//! instance at a time (the holder of an advisory lock) reads the committed
//! rows in id order and announces them on [`CHANNEL`] with one `NOTIFY` per
//! batch, in a short transaction of its own. A `NOTIFY` takes a database-wide
//! lock at commit, so no business transaction sends one.
//!
//! Ids are taken when a transaction inserts, not when it commits, so a row
//! can commit after rows with higher ids: the relay never announces past a
//! missing id that may still commit. Every outbox id is taken by a
//! transaction that already has a transaction id (`outbox_next_id()`, see
//! migration 0006). So once an id is seen missing below a committed one, a
//! transaction id drawn afterwards (the gap's horizon) is higher than that of
//! whichever transaction took the missing id; when every transaction below
//! the horizon has ended (a snapshot's `xmin` passed it), the id is either
//! visible or never will be, and the relay moves past it.
//!
//! With NATS (`NATS_URL`), the relay publishes each announced row to
//! JetStream instead and moves the cursor once every message is stored (see
//! [`crate::nats`]); no `NOTIFY` is sent at all.
//!
//! Everything the relay does runs on the connection that holds the lock:
//! when that connection dies, the lock is released and the relay cannot act
//! any more, so two relays never announce at once. The others retry the
//! lock every [`CAMPAIGN_RETRY`] and the first to take it resumes from the
//! stored cursor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection};
use tokio::sync::Notify;

use crate::listener::CHANNEL;
use crate::nats::Nats;

/// The advisory lock whose holder leads (in the database's own lock space).
pub const LEADER_LOCK: i64 = 0x486f_7448_6f75_7231;
/// How often an instance that does not lead tries to take over.
const CAMPAIGN_RETRY: Duration = Duration::from_millis(500);
/// How long the leader waits for new rows when nothing wakes it sooner
/// (commits on this instance do; other instances' are found by this poll).
const POLL: Duration = Duration::from_millis(10);
/// The most outbox ids one announcement covers.
const BATCH: i64 = 1_000;
/// Any statement of the relay's taking longer means its connection is gone.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// A gap held open longer than this is worth a warning (a long transaction
/// that took an outbox id holds every later announcement back).
const SLOW_GAP: Duration = Duration::from_secs(5);

/// What the store and the relay task share.
#[derive(Debug, Default)]
pub(crate) struct RelayState {
    /// Wakes the leader: a write on this instance committed outbox rows.
    wake: Notify,
    /// Whether this instance's relay leads now.
    leading: AtomicBool,
}

impl RelayState {
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn leading(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }
}

/// Why a relay stopped leading (or campaigning).
#[derive(Debug)]
enum Stop {
    Database(sqlx::Error),
    TimedOut,
    /// The stored cursor is not where this relay left it: another relay led meanwhile.
    Overtaken,
    /// Publishing to NATS failed (the cursor did not move).
    Nats(async_nats::Error),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Database(error) => write!(f, "{error}"),
            Stop::TimedOut => write!(f, "a statement took longer than {QUERY_TIMEOUT:?}"),
            Stop::Overtaken => write!(f, "another relay moved the cursor"),
            Stop::Nats(error) => write!(f, "publishing to NATS: {error}"),
        }
    }
}

impl From<sqlx::Error> for Stop {
    fn from(error: sqlx::Error) -> Stop {
        Stop::Database(error)
    }
}

async fn timed<T>(query: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, Stop> {
    tokio::time::timeout(QUERY_TIMEOUT, query).await.map_err(|_| Stop::TimedOut)?.map_err(Stop::Database)
}

async fn nats_timed<T>(request: impl Future<Output = Result<T, async_nats::Error>>) -> Result<T, Stop> {
    tokio::time::timeout(QUERY_TIMEOUT, request).await.map_err(|_| Stop::TimedOut)?.map_err(Stop::Nats)
}

/// Missing ids below `upto` (committed and visible when they were first
/// seen missing) that may still commit until every transaction whose id is
/// below `horizon` has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gap {
    upto: i64,
    horizon: u64,
    seen: Instant,
}

impl Gap {
    /// Whether the ids missing just below `next` are known to stay missing in
    /// a snapshot whose oldest running transaction is `xmin`.
    fn closed_below(&self, next: i64, xmin: u64) -> bool {
        next - 1 <= self.upto && xmin > self.horizon
    }

    fn covers(&self, next: i64) -> bool {
        next - 1 <= self.upto
    }
}

/// Where the relay stopped reading one snapshot's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Advance {
    /// The new cursor: every id up to it is announced or never will exist.
    through: i64,
    /// The first visible id beyond a missing one that may still commit.
    blocked_at: Option<i64>,
}

/// Moves `cursor` over the ids visible after it (ascending) in a snapshot
/// whose oldest running transaction is `xmin`: over each next id, and over
/// missing ids that `gap` shows will stay missing.
fn advance(cursor: i64, ids: &[i64], xmin: u64, gap: Option<Gap>) -> Advance {
    let mut through = cursor;
    for &id in ids {
        let contiguous = id == through + 1;
        if !(contiguous || gap.is_some_and(|gap| gap.closed_below(id, xmin))) {
            return Advance { through, blocked_at: Some(id) };
        }
        through = id;
    }
    Advance { through, blocked_at: None }
}

pub(crate) struct Relay {
    pub(crate) url: String,
    pub(crate) state: Arc<RelayState>,
    /// Where announcements go instead of `NOTIFY`, when the deployment has NATS.
    pub(crate) nats: Option<Arc<Nats>>,
}

impl Relay {
    /// Campaigns for the lead, leads while it can, and campaigns again; forever.
    pub(crate) async fn run(self) {
        loop {
            let stop = self.campaign().await;
            if self.state.leading.swap(false, Ordering::Relaxed) {
                tracing::warn!(%stop, "this instance's outbox relay stopped leading; campaigning again");
            } else {
                tracing::debug!(%stop, "campaigning for the outbox relay failed; trying again");
            }
            tokio::time::sleep(CAMPAIGN_RETRY).await;
        }
    }

    async fn campaign(&self) -> Stop {
        let options = match self.url.parse::<PgConnectOptions>() {
            Ok(options) => options,
            Err(error) => return Stop::Database(error),
        };
        let options = options
            .application_name(&format!("hothour relay {}", std::process::id()))
            // What the relay writes (its cursor) may be lost in a crash: it
            // then announces a range again, which listeners skip.
            .options([("synchronous_commit", "off"), ("tcp_user_timeout", "2000")]);
        let mut conn = match timed(PgConnection::connect_with(&options)).await {
            Ok(conn) => conn,
            Err(stop) => return stop,
        };
        loop {
            let lock = sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)").bind(LEADER_LOCK);
            match timed(lock.fetch_one(&mut conn)).await {
                Ok(true) => break,
                Ok(false) => tokio::time::sleep(CAMPAIGN_RETRY).await,
                Err(stop) => return stop,
            }
        }
        tracing::info!("this instance's outbox relay leads");
        self.state.leading.store(true, Ordering::Relaxed);
        // `run` clears `leading` once this returns.
        match self.lead(&mut conn).await {
            Err(stop) => stop,
        }
    }

    /// Announces committed rows as they come, until the connection fails.
    async fn lead(&self, conn: &mut PgConnection) -> Result<std::convert::Infallible, Stop> {
        if let Some(nats) = &self.nats {
            nats_timed(nats.ensure_stream()).await?;
        }
        let mut cursor = stored_cursor(conn).await?;
        let mut gap: Option<Gap> = None;
        loop {
            let (xmin, ids) = visible_after(conn, cursor).await?;
            let Advance { through, blocked_at } = advance(cursor, &ids, xmin, gap);
            if through > cursor {
                match &self.nats {
                    None => announce(conn, cursor, through).await?,
                    Some(nats) => publish(conn, nats, cursor, through).await?,
                }
                cursor = through;
            }
            if gap.is_some_and(|gap| cursor >= gap.upto) {
                gap = None;
            }
            if let Some(next) = blocked_at {
                match gap {
                    Some(open) if open.covers(next) => {
                        if open.seen.elapsed() >= SLOW_GAP {
                            tracing::warn!(
                                missing_after = cursor,
                                "an outbox id is still uncommitted; announcements wait"
                            );
                            gap = Some(Gap { seen: Instant::now(), ..open });
                        }
                    }
                    // Missing ids below a committed one: whoever took them has a
                    // transaction id below one drawn now.
                    _ => {
                        let upto = ids.last().copied().unwrap_or(next);
                        gap = Some(Gap { upto, horizon: fresh_transaction_id(conn).await?, seen: Instant::now() });
                    }
                }
            }
            let more_waiting = blocked_at.is_none() && ids.len() as i64 == BATCH;
            if !more_waiting {
                let _ = tokio::time::timeout(POLL, self.state.wake.notified()).await;
            }
        }
    }
}

async fn stored_cursor(conn: &mut PgConnection) -> Result<i64, Stop> {
    // Migration 0006 stores the row; a database without it starts from what is there.
    let insert = "INSERT INTO outbox_relay (announced_through) SELECT COALESCE(MAX(id), 0) FROM outbox \
                  ON CONFLICT (one) DO NOTHING";
    timed(sqlx::query(insert).execute(&mut *conn)).await?;
    timed(sqlx::query_scalar::<_, i64>("SELECT announced_through FROM outbox_relay").fetch_one(&mut *conn)).await
}

/// The ids after `cursor` (ascending, at most [`BATCH`]) and the `xmin` of
/// the one snapshot they were read in.
async fn visible_after(conn: &mut PgConnection, cursor: i64) -> Result<(u64, Vec<i64>), Stop> {
    let read = sqlx::query_as::<_, (String, Vec<i64>)>(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, \
                ARRAY(SELECT id FROM outbox WHERE id > $1 ORDER BY id LIMIT $2)",
    )
    .bind(cursor)
    .bind(BATCH);
    let (xmin, ids) = timed(read.fetch_one(conn)).await?;
    Ok((parse_xid(&xmin)?, ids))
}

/// A transaction id drawn now (and its transaction ended at once): higher
/// than every transaction id assigned before.
async fn fresh_transaction_id(conn: &mut PgConnection) -> Result<u64, Stop> {
    let xid = timed(sqlx::query_scalar::<_, String>("SELECT pg_current_xact_id()::text").fetch_one(conn)).await?;
    parse_xid(&xid)
}

fn parse_xid(text: &str) -> Result<u64, Stop> {
    text.parse().map_err(|_| Stop::Database(sqlx::Error::Decode(format!("a transaction id: {text:?}").into())))
}

/// Moves the stored cursor from `from` to `through` and announces
/// `from + 1..=through`, in one transaction; a cursor moved by someone else
/// announces nothing.
async fn announce(conn: &mut PgConnection, from: i64, through: i64) -> Result<(), Stop> {
    let statement = sqlx::query(
        "WITH moved AS (UPDATE outbox_relay SET announced_through = $2 WHERE announced_through = $1 RETURNING 1) \
         SELECT pg_notify($3, $4) FROM moved",
    )
    .bind(from)
    .bind(through)
    .bind(CHANNEL)
    .bind(format!("{},{through}", from + 1));
    let moved = timed(statement.fetch_all(conn)).await?;
    if moved.is_empty() {
        return Err(Stop::Overtaken);
    }
    Ok(())
}

/// Publishes the rows `from + 1..=through` to NATS, then moves the stored
/// cursor from `from` to `through`; a cursor moved by someone else stops
/// this relay (what it published twice is dropped or skipped as a duplicate).
async fn publish(conn: &mut PgConnection, nats: &Nats, from: i64, through: i64) -> Result<(), Stop> {
    let read = sqlx::query_as::<_, (i64, String, String, serde_json::Value, chrono::DateTime<chrono::Utc>)>(
        "SELECT id, room, kind, payload, created_at FROM outbox WHERE id > $1 AND id <= $2 ORDER BY id",
    )
    .bind(from)
    .bind(through);
    let rows = timed(read.fetch_all(&mut *conn)).await?;
    let rows = rows
        .into_iter()
        .map(|(seq, room, kind, data, at)| hothour_domain::StoredEvent { seq, room, kind, data, at })
        .collect();
    nats_timed(nats.publish(from, rows)).await?;
    let moved = sqlx::query("UPDATE outbox_relay SET announced_through = $2 WHERE announced_through = $1")
        .bind(from)
        .bind(through);
    if timed(moved.execute(conn)).await?.rows_affected() == 0 {
        return Err(Stop::Overtaken);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(upto: i64, horizon: u64) -> Option<Gap> {
        Some(Gap { upto, horizon, seen: Instant::now() })
    }

    #[test]
    fn contiguous_ids_are_announced_in_one_go() {
        assert_eq!(advance(10, &[11, 12, 13], 500, None), Advance { through: 13, blocked_at: None });
        assert_eq!(advance(10, &[], 500, None), Advance { through: 10, blocked_at: None });
    }

    #[test]
    fn a_missing_id_holds_back_every_id_after_it() {
        // 12 is taken by a transaction still open: 13 and 14 wait for it.
        assert_eq!(advance(10, &[11, 13, 14], 500, None), Advance { through: 11, blocked_at: Some(13) });
    }

    #[test]
    fn a_missing_id_is_passed_only_once_every_transaction_below_its_horizon_ended() {
        // The gap was seen with 14 committed; a transaction id drawn then was 600.
        let seen = gap(14, 600);
        assert_eq!(advance(11, &[13, 14, 15], 600, seen).blocked_at, Some(13), "600 may still run");
        assert_eq!(advance(11, &[13, 14, 15], 601, seen), Advance { through: 15, blocked_at: None });
    }

    #[test]
    fn a_gap_above_what_the_horizon_covers_waits_for_a_horizon_of_its_own() {
        let seen = gap(14, 600);
        // 16 went missing after the horizon was drawn: it is not covered.
        assert_eq!(advance(14, &[17], 9_000, seen), Advance { through: 14, blocked_at: Some(17) });
        assert!(!seen.unwrap().covers(17));
        assert!(seen.unwrap().covers(14));
    }

    #[test]
    fn transaction_ids_read_as_numbers() {
        assert_eq!(parse_xid("742").unwrap(), 742);
        assert!(parse_xid("x").is_err());
    }
}
