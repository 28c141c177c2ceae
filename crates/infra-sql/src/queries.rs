//! Catalogue and history reads, paginated by keyset cursors. Reads take no
//! lock: each query sees the last committed state.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{
    ActiveFilter, AuctionCursor, AuctionFilter, AuctionRecord, AuditRecord, EventCursor, EventFilter, EventRecord,
    QueryStore, ReservationFilter, SessionSummary,
};
use hothour_domain::{DomainError, ReservationId, ReservationStatus, ReservationTarget, StudioId, UserId};

use crate::SqlStore;
use crate::rows::{AUCTION_COLUMNS, AUDIT_COLUMNS, RESERVATION_COLUMNS};
use crate::sql::{Conditions, auction_status_sql, event_columns_with_lapsed, prefixed};

impl SqlStore {
    /// A page of `t` (a table's alias) by (`starts_at`, `id`) ascending:
    /// adds the condition for what comes after the cursor (`starts_at`, `id`)
    /// and answers the `ORDER BY … LIMIT` clause.
    fn by_start(&self, c: &mut Conditions, t: &str, after: Option<(DateTime<Utc>, i64)>, limit: u32) -> String {
        if let Some((starts_at, id)) = after {
            let (s, i) = (c.bind(self.d().time(starts_at)), c.bind(id));
            c.push(format!("({t}.starts_at, {t}.id) > ({s}, {i})"));
        }
        format!("ORDER BY {t}.starts_at, {t}.id LIMIT {}", c.bind(i64::from(limit)))
    }
}

impl QueryStore for SqlStore {
    async fn list_auctions(
        &self,
        filter: AuctionFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<AuctionCursor>,
    ) -> Result<Vec<AuctionRecord>, DomainError> {
        let mut c = Conditions::new();
        if let Some(studio) = filter.studio_id {
            let p = c.bind(studio.0);
            c.push(format!("a.studio_id = {p}"));
        }
        if let Some(status) = filter.status {
            let now = c.bind(self.d().time(now));
            let p = c.bind(status.as_str());
            c.push(format!("({}) = {p}", auction_status_sql(&now)));
        }
        let page = self.by_start(&mut c, "a", after.map(|(starts_at, id)| (starts_at, id.0)), limit);
        let columns = prefixed(AUCTION_COLUMNS, "a");
        let sql = format!("SELECT {columns} FROM auctions a WHERE {} {page}", c.sql());
        let rows = self.all(&self.db, &sql, c.values).await?;
        let auctions = rows.iter().map(|row| self.read(row).auction()).collect::<Result<Vec<_>, _>>()?;
        if auctions.is_empty() {
            return Ok(Vec::new());
        }
        // The live reservations of the page, in one query.
        let mut ids = Conditions::new();
        let placeholders: Vec<String> = auctions.iter().map(|a| ids.bind(a.id.0)).collect();
        let sql = format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE auction_id IN ({}) \
             AND status IN ('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW')",
            placeholders.join(", ")
        );
        let rows = self.all(&self.db, &sql, ids.values).await?;
        let live = rows.iter().map(|row| self.read(row).reservation()).collect::<Result<Vec<_>, _>>()?;
        Ok(auctions
            .into_iter()
            .map(|auction| {
                let live =
                    live.iter().find(|r| r.target == hothour_domain::ReservationTarget::Auction(auction.id)).cloned();
                AuctionRecord { auction, live }
            })
            .collect())
    }

    async fn list_events(
        &self,
        filter: EventFilter,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<EventCursor>,
    ) -> Result<Vec<EventRecord>, DomainError> {
        let d = self.d();
        let mut c = Conditions::new();
        let now = c.bind(d.time(now));
        c.push("e.deleted_at IS NULL".into());
        match filter.active {
            ActiveFilter::Active => c.push("e.is_active".into()),
            ActiveFilter::Inactive => c.push("NOT e.is_active".into()),
            ActiveFilter::All => {}
        }
        if let Some(studio) = filter.studio_id {
            let p = c.bind(studio.0);
            c.push(format!("e.studio_id = {p}"));
        }
        if let Some(at) = filter.starts_after {
            let p = c.bind(d.time(at));
            c.push(format!("e.starts_at >= {p}"));
        }
        if let Some(at) = filter.starts_before {
            let p = c.bind(d.time(at));
            c.push(format!("e.starts_at < {p}"));
        }
        let page = self.by_start(&mut c, "e", after.map(|(starts_at, id)| (starts_at, id.0)), limit);
        let sql = format!("SELECT {} FROM events e WHERE {} {page}", event_columns_with_lapsed(&now), c.sql());
        self.all(&self.db, &sql, c.values).await?.iter().map(|row| self.read(row).event_record()).collect()
    }

    async fn list_reservations(
        &self,
        filter: ReservationFilter,
        now: DateTime<Utc>,
        limit: u32,
        before: Option<ReservationId>,
    ) -> Result<Vec<hothour_domain::Reservation>, DomainError> {
        let d = self.d();
        let mut c = Conditions::new();
        if let Some(UserId(user)) = filter.user_id {
            let p = c.bind(user);
            c.push(format!("user_id = {p}"));
        }
        if let Some(StudioId(studio)) = filter.studio_id {
            let p = c.bind(studio);
            c.push(format!("studio_id = {p}"));
        }
        if let Some(status) = filter.status {
            let now = c.bind(d.time(now));
            match status {
                ReservationStatus::Hold => c.push(format!("status = 'HOLD' AND expires_at > {now}")),
                ReservationStatus::Expired => {
                    c.push(format!("(status = 'EXPIRED' OR (status = 'HOLD' AND expires_at <= {now}))"));
                }
                other => {
                    let p = c.bind(other.as_str());
                    c.push(format!("status = {p}"));
                }
            }
        }
        if let Some(ReservationId(id)) = before {
            let p = c.bind(id);
            c.push(format!("id < {p}"));
        }
        let limit = c.bind(i64::from(limit));
        let sql =
            format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE {} ORDER BY id DESC LIMIT {limit}", c.sql());
        self.all(&self.db, &sql, c.values).await?.iter().map(|row| self.read(row).reservation()).collect()
    }

    async fn sessions(&self, targets: &[ReservationTarget]) -> Result<Vec<SessionSummary>, DomainError> {
        let auctions: Vec<i64> = targets
            .iter()
            .filter_map(|t| if let ReservationTarget::Auction(id) = t { Some(id.0) } else { None })
            .collect();
        let events: Vec<i64> = targets
            .iter()
            .filter_map(|t| if let ReservationTarget::Event(id) = t { Some(id.0) } else { None })
            .collect();
        let mut sessions = Vec::with_capacity(targets.len());
        if !auctions.is_empty() {
            let mut c = Conditions::new();
            let ids: Vec<String> = auctions.iter().map(|id| c.bind(*id)).collect();
            let sql = format!(
                "SELECT id, studio_id, title, scheduled_at, session_minutes FROM auctions WHERE id IN ({})",
                ids.join(", ")
            );
            for row in self.all(&self.db, &sql, c.values).await? {
                sessions.push(self.read(&row).auction_session()?);
            }
        }
        if !events.is_empty() {
            let mut c = Conditions::new();
            let ids: Vec<String> = events.iter().map(|id| c.bind(*id)).collect();
            let sql =
                format!("SELECT id, studio_id, title, starts_at, ends_at FROM events WHERE id IN ({})", ids.join(", "));
            for row in self.all(&self.db, &sql, c.values).await? {
                sessions.push(self.read(&row).event_session()?);
            }
        }
        Ok(sessions)
    }

    async fn list_audit(
        &self,
        studio: Option<StudioId>,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, DomainError> {
        let mut c = Conditions::new();
        if let Some(StudioId(studio)) = studio {
            let p = c.bind(studio);
            c.push(format!("studio_id = {p}"));
        }
        if let Some(id) = before {
            let p = c.bind(id);
            c.push(format!("id < {p}"));
        }
        let limit = c.bind(i64::from(limit));
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {} ORDER BY id DESC LIMIT {limit}", c.sql());
        self.all(&self.db, &sql, c.values).await?.iter().map(|row| self.read(row).audit()).collect()
    }
}
