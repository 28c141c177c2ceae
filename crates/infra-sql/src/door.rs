//! What the studio's door reads: sessions with their reservations counted,
//! and a session's live reservations with their holders' names. Reads take
//! no lock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hothour_domain::door::{DoorSession, DoorStore, RosterEntry, SessionCounts, SessionState};
use hothour_domain::{AuctionStatus, DomainError, ReservationStatus, ReservationTarget, StudioId};

use crate::SqlStore;
use crate::rows::{RESERVATION_COLUMNS, corrupt};
use crate::sql::{Conditions, auction_status_sql, prefixed};

/// Which sessions to read.
#[derive(Clone, Copy)]
enum Sessions {
    /// A studio's, starting in [from, to).
    Starting {
        studio: StudioId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    One(ReservationTarget),
}

/// The reservations live at the instant bound to `now`, as SQL over `reservations r`.
fn live_sql(now: &str) -> String {
    format!("(r.status IN ('CONFIRMED', 'CHECKED_IN', 'NO_SHOW') OR (r.status = 'HOLD' AND r.expires_at > {now}))")
}

impl SqlStore {
    async fn door_auctions(&self, which: Sessions, now: DateTime<Utc>) -> Result<Vec<DoorSession>, DomainError> {
        let mut c = Conditions::new();
        let now = c.bind(self.d().time(now));
        match which {
            Sessions::Starting { studio, from, to } => {
                let (studio, from, to) = (c.bind(studio.0), c.bind(self.d().time(from)), c.bind(self.d().time(to)));
                c.push(format!("a.studio_id = {studio} AND a.scheduled_at >= {from} AND a.scheduled_at < {to}"));
            }
            Sessions::One(ReservationTarget::Auction(id)) => {
                let id = c.bind(id.0);
                c.push(format!("a.id = {id}"));
            }
            Sessions::One(ReservationTarget::Event(_)) => return Ok(Vec::new()),
        }
        let sql = format!(
            "SELECT a.id, a.studio_id, a.title, a.scheduled_at, a.session_minutes, ({}) AS effective_status \
             FROM auctions a WHERE {}",
            auction_status_sql(&now),
            c.sql()
        );
        let rows = self.all(&self.db, &sql, c.values).await?;
        rows.iter()
            .map(|row| {
                let read = self.read(row);
                let status = read.string("effective_status")?;
                let status = AuctionStatus::parse(&status).ok_or_else(|| corrupt("auction", status))?;
                let session = read.auction_session()?;
                Ok(DoorSession {
                    session,
                    state: SessionState::Auction(status),
                    capacity: 1,
                    counts: Default::default(),
                })
            })
            .collect()
    }

    async fn door_events(&self, which: Sessions) -> Result<Vec<DoorSession>, DomainError> {
        let mut c = Conditions::new();
        c.push("e.deleted_at IS NULL".into());
        match which {
            Sessions::Starting { studio, from, to } => {
                let (studio, from, to) = (c.bind(studio.0), c.bind(self.d().time(from)), c.bind(self.d().time(to)));
                c.push(format!("e.studio_id = {studio} AND e.starts_at >= {from} AND e.starts_at < {to}"));
            }
            Sessions::One(ReservationTarget::Event(id)) => {
                let id = c.bind(id.0);
                c.push(format!("e.id = {id}"));
            }
            Sessions::One(ReservationTarget::Auction(_)) => return Ok(Vec::new()),
        }
        let sql = format!(
            "SELECT e.id, e.studio_id, e.title, e.starts_at, e.ends_at, e.capacity, e.is_active FROM events e WHERE {}",
            c.sql()
        );
        let rows = self.all(&self.db, &sql, c.values).await?;
        rows.iter()
            .map(|row| {
                let read = self.read(row);
                Ok(DoorSession {
                    session: read.event_session()?,
                    state: SessionState::Event { is_active: read.bool("is_active")? },
                    capacity: read.count("capacity")?,
                    counts: Default::default(),
                })
            })
            .collect()
    }

    /// The sessions with their live reservations counted, in one grouped query.
    async fn door_sessions(&self, which: Sessions, now: DateTime<Utc>) -> Result<Vec<DoorSession>, DomainError> {
        let mut sessions = self.door_auctions(which, now).await?;
        sessions.extend(self.door_events(which).await?);
        if sessions.is_empty() {
            return Ok(sessions);
        }
        let mut c = Conditions::new();
        let now = c.bind(self.d().time(now));
        let (mut auctions, mut events) = (Vec::new(), Vec::new());
        for door in &sessions {
            match door.session.target {
                ReservationTarget::Auction(id) => auctions.push(c.bind(id.0)),
                ReservationTarget::Event(id) => events.push(c.bind(id.0)),
            }
        }
        let of = |column: &str, ids: &[String]| {
            if ids.is_empty() { "FALSE".to_owned() } else { format!("r.{column} IN ({})", ids.join(", ")) }
        };
        let sql = format!(
            "SELECT r.auction_id, r.event_id, r.status, CAST(COUNT(*) AS INTEGER) AS reservations, \
             CAST(COALESCE(SUM(r.quantity), 0) AS INTEGER) AS seats FROM reservations r \
             WHERE ({} OR {}) AND {} GROUP BY r.auction_id, r.event_id, r.status",
            of("auction_id", &auctions),
            of("event_id", &events),
            live_sql(&now)
        );
        let mut counts: HashMap<ReservationTarget, SessionCounts> = HashMap::new();
        for row in self.all(&self.db, &sql, c.values).await? {
            let read = self.read(&row);
            let status = read.string("status")?;
            let status = ReservationStatus::parse(&status).ok_or_else(|| corrupt("reservation", status))?;
            counts.entry(read.target()?).or_default().add(status, read.count("reservations")?, read.count("seats")?);
        }
        for door in &mut sessions {
            door.counts = counts.get(&door.session.target).copied().unwrap_or_default();
        }
        Ok(sessions)
    }
}

impl DoorStore for SqlStore {
    async fn sessions_starting(
        &self,
        studio: StudioId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DoorSession>, DomainError> {
        self.door_sessions(Sessions::Starting { studio, from, to }, now).await
    }

    async fn door_session(
        &self,
        target: ReservationTarget,
        now: DateTime<Utc>,
    ) -> Result<Option<DoorSession>, DomainError> {
        Ok(self.door_sessions(Sessions::One(target), now).await?.pop())
    }

    async fn roster(&self, target: ReservationTarget, now: DateTime<Utc>) -> Result<Vec<RosterEntry>, DomainError> {
        let mut c = Conditions::new();
        let now = c.bind(self.d().time(now));
        let (column, id) = match target {
            ReservationTarget::Auction(id) => ("auction_id", id.0),
            ReservationTarget::Event(id) => ("event_id", id.0),
        };
        let id = c.bind(id);
        c.push(format!("r.{column} = {id}"));
        c.push(live_sql(&now));
        let sql = format!(
            "SELECT {}, u.full_name FROM reservations r JOIN users u ON u.id = r.user_id WHERE {}",
            prefixed(RESERVATION_COLUMNS, "r"),
            c.sql()
        );
        let rows = self.all(&self.db, &sql, c.values).await?;
        rows.iter()
            .map(|row| {
                let read = self.read(row);
                Ok(RosterEntry { reservation: read.reservation()?, full_name: read.string("full_name")? })
            })
            .collect()
    }
}
