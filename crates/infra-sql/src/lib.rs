//! SQL-building pieces both storage adapters share. Both speak `$n`
//! placeholders through sea-orm, so one builder serves PostgreSQL and SQLite.

use sea_orm::Value;

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
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = (1..=width).map(|col| format!("${}", row * width + col)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_cell() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
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
