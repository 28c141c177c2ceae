//! SQL-building pieces: conditions with numbered placeholders (both
//! databases speak `$n` through sea-orm), column lists, the effective auction
//! status, and the field a violated constraint stands for.

use hothour_domain::ValidationErrors;
use sea_orm::Value;

/// The field-level error a violated `CHECK` stands for, named as the API
/// names the field. The rules normally refuse such input first; this keeps a
/// rule the code missed a client error instead of a storage failure.
pub fn check_violation(constraint: &str) -> ValidationErrors {
    let (field, message) = match constraint {
        "events_times" => ("ends_at", "must be after starts_at"),
        "auctions_times" => ("ends_at", "must be after starts_at and not after scheduled_at"),
        "auctions_prices" => ("floor_price", "must be greater than 0 and less than start_price"),
        "auctions_price_limit" => ("start_price", "is too large"),
        "auctions_drop" => ("drop_amount", "must be greater than 0 and at most start_price - floor_price"),
        "auctions_drop_interval" => ("drop_interval_minutes", "must be at least 1 minute"),
        "auctions_session_minutes" => ("session_minutes", "must be between 1 and 1440 minutes"),
        "auctions_turbo_complete" | "auctions_turbo_values" => ("turbo", "is not a valid turbo configuration"),
        c if c.ends_with("title_check") || c.contains("trim(title)") => ("title", "must not be blank"),
        c if c.ends_with("name_check") || c.contains("trim(name)") => ("name", "must not be blank"),
        _ => ("body", "breaks a rule of the stored data"),
    };
    ValidationErrors::single(field, message)
}

/// The field-level error for a value the database cannot store at all.
pub fn unacceptable_value() -> ValidationErrors {
    ValidationErrors::single("body", "holds a value that cannot be stored")
}

/// Collects SQL conditions and their values, numbering placeholders as it goes.
pub struct Conditions {
    clauses: Vec<String>,
    /// The values, in placeholder order.
    pub values: Vec<Value>,
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions::new()
    }
}

impl Conditions {
    pub fn new() -> Conditions {
        Conditions { clauses: vec!["TRUE".into()], values: Vec::new() }
    }

    /// Adds a value and returns its placeholder.
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    pub fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// The conditions joined with `AND`.
    pub fn sql(&self) -> String {
        self.clauses.join(" AND ")
    }
}

/// The effective auction status at the instant bound to `now`, as SQL over an
/// `auctions a` row: the same rule as the domain's `Auction::status_at`.
pub fn auction_status_sql(now: &str) -> String {
    format!(
        "CASE WHEN a.cancelled_at IS NOT NULL THEN 'CANCELLED' \
         WHEN EXISTS (SELECT 1 FROM reservations r WHERE r.auction_id = a.id \
                      AND r.status IN ('CONFIRMED', 'CHECKED_IN', 'NO_SHOW')) THEN 'SOLD' \
         WHEN EXISTS (SELECT 1 FROM reservations r WHERE r.auction_id = a.id \
                      AND r.status = 'HOLD' AND r.expires_at > {now}) THEN 'HELD' \
         WHEN {now} < a.starts_at THEN 'DRAFT' \
         WHEN {now} >= a.ends_at THEN 'EXPIRED' ELSE 'ACTIVE' END"
    )
}

/// A comma-separated column list with each column prefixed by `alias.`.
pub fn prefixed(columns: &str, alias: &str) -> String {
    columns.split(", ").map(|col| format!("{alias}.{col}")).collect::<Vec<_>>().join(", ")
}

/// `($1, $2, $3), ($4, $5, $6), …` for `rows` rows of `width` values.
pub fn placeholders(rows: usize, width: usize) -> String {
    placeholders_with(rows, width, |_, param, sql| sql.push_str(param))
}

/// As [`placeholders`], each cell written into the statement by `cell`, from
/// its column (from 1) and its placeholder. Written into one string: every
/// batched write builds one per statement.
pub fn placeholders_with(rows: usize, width: usize, cell: impl Fn(usize, &str, &mut String)) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(rows * width * 6);
    let mut param = String::new();
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { "), (" });
        for col in 1..=width {
            if col > 1 {
                sql.push_str(", ");
            }
            param.clear();
            let _ = write!(param, "${}", row * width + col);
            cell(col, &param, &mut sql);
        }
    }
    if rows > 0 {
        sql.push(')');
    }
    sql
}

/// Seats and holds of an `events e` row that lapsed by `now` but were not swept
/// yet, as the `lapsed_seats` and `lapsed_count` columns, and when the next
/// live hold lapses, as `next_lapse_at`.
fn lapsed_sql(now: &str) -> String {
    format!(
        "(SELECT CAST(COALESCE(SUM(quantity), 0) AS INTEGER) FROM reservations r \
            WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at <= {now}) AS lapsed_seats, \
         (SELECT CAST(COUNT(*) AS INTEGER) FROM reservations r \
            WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at <= {now}) AS lapsed_count, \
         (SELECT MIN(r.expires_at) FROM reservations r \
            WHERE r.event_id = e.id AND r.status = 'HOLD' AND r.expires_at > {now}) AS next_lapse_at"
    )
}

/// The columns of an `events e` row with its lapsed seats and holds at `now`.
pub(crate) fn event_columns_with_lapsed(now: &str) -> String {
    format!("{}, {}", prefixed(crate::rows::EVENT_COLUMNS, "e"), lapsed_sql(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_cell() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
        assert_eq!(placeholders(0, 4), "");
        let json_third = placeholders_with(2, 3, |col, p, sql| {
            sql.push_str(&if col == 3 { format!("j({p})") } else { p.to_owned() })
        });
        assert_eq!(json_third, "($1, $2, j($3)), ($4, $5, j($6))");
    }

    #[test]
    fn conditions_number_their_values() {
        let mut c = Conditions::new();
        let a = c.bind(1_i64);
        let b = c.bind("x");
        c.push(format!("a = {a}"));
        c.push(format!("b = {b}"));
        assert_eq!(c.sql(), "TRUE AND a = $1 AND b = $2");
        assert_eq!(c.values.len(), 2);
    }

    #[test]
    fn columns_get_their_alias() {
        assert_eq!(prefixed("id, title", "a"), "a.id, a.title");
    }
}
