//! A studio's numbers by day and its reservations for export, read by
//! session start: an auction's `scheduled_at`, an event's `starts_at`. The
//! day boundaries come from the domain (the studio's zone, DST included) as
//! UTC instants, so both stores bucket by plain comparisons.

use chrono::{DateTime, Utc};
use hothour_domain::ports::StudioReports;
use hothour_domain::reports::{DayTotals, ExportCursor, ExportRow, SALE_RATIO_SCALE, StudioDays};
use hothour_domain::{DomainError, Money, StudioId};

use crate::SqlStore;
use crate::rows::{RESERVATION_COLUMNS, Reader, corrupt};
use crate::sql::{Conditions, auction_status_sql, prefixed};

/// When the session of a `reservations r` row joined to its `auctions a` or `events e` starts.
const SESSION_AT: &str = "COALESCE(a.scheduled_at, e.starts_at)";

/// The statuses of a booking: a hold that was confirmed, whatever happened at the door.
const BOOKED: &str = "('CONFIRMED', 'CHECKED_IN', 'NO_SHOW')";

impl SqlStore {
    /// One statement counting every day of `days`: the bookings, the auctions
    /// that expired unsold and the events' capacity, each bucketed by joining
    /// a table of the days (`VALUES`) on the session start.
    fn day_totals_sql(&self, c: &mut Conditions, studio: StudioId, days: &StudioDays, now: DateTime<Utc>) -> String {
        let d = self.d();
        let studio = c.bind(studio.0);
        let now = c.bind(d.time(now));
        let (first, last) = (c.bind(d.time(days.starts_at())), c.bind(d.time(days.ends_at())));
        let rows: Vec<String> = days
            .bounds()
            .windows(2)
            .zip(0_i64..)
            .map(|(day, n)| format!("({}, {}, {})", c.bind(n), c.bind(d.time(day[0])), c.bind(d.time(day[1]))))
            .collect();
        let (total, refunded, start) = (
            d.minor_units_sql("r.total_price"),
            d.minor_units_sql("r.refunded_amount"),
            d.minor_units_sql("a.start_price"),
        );
        let status = auction_status_sql(&now);
        let in_day = |at: &str| format!("{at} >= d.day_start AND {at} < d.day_end");
        format!(
            "WITH days (day, day_start, day_end) AS (VALUES {rows}), \
             booked AS ( \
               SELECT r.auction_id, r.status, r.quantity, {total} - {refunded} AS net, \
                      CASE WHEN r.auction_id IS NOT NULL THEN ({total} * {SALE_RATIO_SCALE}) / {start} END AS sale_ratio, \
                      {SESSION_AT} AS session_at \
               FROM reservations r \
               LEFT JOIN auctions a ON a.id = r.auction_id \
               LEFT JOIN events e ON e.id = r.event_id \
               WHERE r.studio_id = {studio} AND r.status IN {BOOKED} \
                 AND {SESSION_AT} >= {first} AND {SESSION_AT} < {last}), \
             by_booking AS ( \
               SELECT d.day, \
                 CAST(COALESCE(SUM(b.net), 0) AS BIGINT) AS revenue, \
                 CAST(COUNT(b.auction_id) AS BIGINT) AS slots_sold, \
                 CAST(COALESCE(SUM(b.sale_ratio), 0) AS BIGINT) AS sale_ratio, \
                 CAST(COALESCE(SUM(CASE WHEN b.auction_id IS NULL THEN b.quantity END), 0) AS BIGINT) AS seats_sold, \
                 CAST(COUNT(CASE WHEN b.status = 'CHECKED_IN' THEN 1 END) AS BIGINT) AS checked_in, \
                 CAST(COUNT(CASE WHEN b.status = 'NO_SHOW' THEN 1 END) AS BIGINT) AS no_show \
               FROM days d LEFT JOIN booked b ON {booked_in_day} GROUP BY d.day), \
             unsold AS ( \
               SELECT a.scheduled_at FROM auctions a \
               WHERE a.studio_id = {studio} AND a.scheduled_at >= {first} AND a.scheduled_at < {last} \
                 AND ({status}) = 'EXPIRED'), \
             by_unsold AS ( \
               SELECT d.day, CAST(COUNT(u.scheduled_at) AS BIGINT) AS slots_expired_unsold \
               FROM days d LEFT JOIN unsold u ON {unsold_in_day} GROUP BY d.day), \
             seats AS ( \
               SELECT e.starts_at, e.capacity FROM events e \
               WHERE e.studio_id = {studio} AND e.deleted_at IS NULL AND e.cancelled_at IS NULL AND e.starts_at >= {first} AND e.starts_at < {last}), \
             by_seats AS ( \
               SELECT d.day, CAST(COALESCE(SUM(s.capacity), 0) AS BIGINT) AS seats_capacity \
               FROM days d LEFT JOIN seats s ON {seats_in_day} GROUP BY d.day) \
             SELECT b.day, b.revenue, b.slots_sold, b.sale_ratio, b.seats_sold, b.checked_in, b.no_show, \
                    u.slots_expired_unsold, s.seats_capacity \
             FROM by_booking b JOIN by_unsold u ON u.day = b.day JOIN by_seats s ON s.day = b.day \
             ORDER BY b.day",
            rows = rows.join(", "),
            booked_in_day = in_day("b.session_at"),
            unsold_in_day = in_day("u.scheduled_at"),
            seats_in_day = in_day("s.starts_at"),
        )
    }
}

impl Reader<'_> {
    fn total(&self, column: &str) -> Result<u64, DomainError> {
        u64::try_from(self.i64(column)?).map_err(|e| corrupt(column, e))
    }

    fn day_totals(&self) -> Result<DayTotals, DomainError> {
        Ok(DayTotals {
            revenue: Money::from_minor_units(self.i64("revenue")?).map_err(|e| corrupt("revenue", e))?,
            slots_sold: self.total("slots_sold")?,
            slots_expired_unsold: self.total("slots_expired_unsold")?,
            sale_ratio_millionths: self.total("sale_ratio")?,
            seats_sold: self.total("seats_sold")?,
            seats_capacity: self.total("seats_capacity")?,
            checked_in: self.total("checked_in")?,
            no_show: self.total("no_show")?,
        })
    }

    fn export_row(&self) -> Result<ExportRow, DomainError> {
        Ok(ExportRow {
            reservation: self.reservation()?,
            title: self.string("session_title")?,
            session_starts_at: self.time("session_at")?,
            holder_name: self.string("holder_name")?,
            holder_email: self.string("holder_email")?,
        })
    }
}

impl StudioReports for SqlStore {
    async fn day_totals(
        &self,
        studio: StudioId,
        days: &StudioDays,
        now: DateTime<Utc>,
    ) -> Result<Vec<DayTotals>, DomainError> {
        let mut c = Conditions::new();
        let sql = self.day_totals_sql(&mut c, studio, days, now);
        self.all(&self.db, &sql, c.values).await?.iter().map(|row| self.read(row).day_totals()).collect()
    }

    async fn export_page(
        &self,
        studio: StudioId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        after: Option<ExportCursor>,
        limit: u32,
    ) -> Result<Vec<ExportRow>, DomainError> {
        let d = self.d();
        let mut c = Conditions::new();
        let p = c.bind(studio.0);
        c.push(format!("r.studio_id = {p}"));
        let p = c.bind(d.time(starts_at));
        c.push(format!("{SESSION_AT} >= {p}"));
        let p = c.bind(d.time(ends_at));
        c.push(format!("{SESSION_AT} < {p}"));
        if let Some((at, id)) = after {
            let (at, id) = (c.bind(d.time(at)), c.bind(id.0));
            c.push(format!("({SESSION_AT}, r.id) > ({at}, {id})"));
        }
        let limit = c.bind(i64::from(limit));
        let sql = format!(
            "SELECT {columns}, COALESCE(a.title, e.title) AS session_title, {SESSION_AT} AS session_at, \
                    COALESCE(u.full_name, '') AS holder_name, \
                    CASE WHEN u.deleted_at IS NULL THEN COALESCE(u.email, '') ELSE '' END AS holder_email \
             FROM reservations r \
             LEFT JOIN auctions a ON a.id = r.auction_id \
             LEFT JOIN events e ON e.id = r.event_id \
             LEFT JOIN users u ON u.id = r.user_id \
             WHERE {} ORDER BY {SESSION_AT}, r.id LIMIT {limit}",
            c.sql(),
            columns = prefixed(RESERVATION_COLUMNS, "r"),
        );
        self.all(&self.db, &sql, c.values).await?.iter().map(|row| self.read(row).export_row()).collect()
    }
}
