//! A write's statements, sent in as few round trips as the dialect allows.
//!
//! Where it [joins writes](crate::Dialect::joins_writes) (PostgreSQL), the
//! statements go to the database as one: every one but the last as a
//! data-modifying CTE, the last as the main statement. The database runs them
//! all on one snapshot and in an order of its own (PostgreSQL finishes the
//! CTEs after the main statement, the last-written first), so a statement that
//! must come after the ones before it, because a constraint checks it against
//! their rows, says so ([`WriteStatement::after_earlier`]) and starts another
//! joined statement. Constraints are still checked on every row, and the write
//! still fails or succeeds as a whole. The rows of the last statement (its
//! `RETURNING`) are the answer, joined or not.

use hothour_domain::DomainError;
use sea_orm::{ConnectionTrait, QueryResult, Value};

use crate::SqlStore;

/// Values one joined statement binds at most, well within the 65,535 that
/// PostgreSQL's protocol can number (a statement binding more goes alone).
const MAX_JOINED_VALUES: usize = 32_767;

/// One statement of a write, its placeholders numbered from `$1`.
pub(crate) struct WriteStatement {
    pub sql: String,
    pub values: Vec<Value>,
    /// What the statement's one foreign key that can fail refers to (see
    /// [`SqlStore::exec_referencing`]); a dialect that joins writes names the
    /// violated key itself.
    pub referencing: Option<&'static str>,
    /// Must run after the statements before it: it is never joined with them.
    pub after_earlier: bool,
}

impl WriteStatement {
    pub fn new(sql: String, values: Vec<Value>) -> WriteStatement {
        WriteStatement { sql, values, referencing: None, after_earlier: false }
    }

    pub fn referencing(mut self, parent: &'static str) -> WriteStatement {
        self.referencing = Some(parent);
        self
    }

    /// This statement must see the rows the statements before it wrote (the
    /// second chunk of reservations may hold a seat the first one expired).
    pub fn after_earlier(mut self) -> WriteStatement {
        self.after_earlier = true;
        self
    }
}

impl SqlStore {
    /// Runs `statements` in order and answers the rows the last one returns.
    pub(crate) async fn run_writes(
        &self,
        conn: &impl ConnectionTrait,
        statements: Vec<WriteStatement>,
    ) -> Result<Vec<QueryResult>, DomainError> {
        let mut rows = Vec::new();
        if self.d().joins_writes() {
            for group in joinable_groups(statements) {
                let (sql, values) = join(group);
                rows = self.all(conn, &sql, values).await?;
            }
        } else {
            for WriteStatement { sql, values, referencing, .. } in statements {
                rows = self.all_referencing(conn, referencing, &sql, values).await?;
            }
        }
        Ok(rows)
    }
}

/// Consecutive statements in groups that each bind at most
/// [`MAX_JOINED_VALUES`] (a statement binding more goes alone); a statement
/// that must come [after the earlier ones](WriteStatement::after_earlier)
/// starts a group.
fn joinable_groups(statements: Vec<WriteStatement>) -> Vec<Vec<WriteStatement>> {
    let mut groups: Vec<Vec<WriteStatement>> = Vec::new();
    let mut bound = 0;
    for statement in statements {
        let len = statement.values.len();
        match groups.last_mut() {
            Some(group) if bound + len <= MAX_JOINED_VALUES && !statement.after_earlier => {
                bound += len;
                group.push(statement);
            }
            _ => {
                bound = len;
                groups.push(vec![statement]);
            }
        }
    }
    groups
}

/// `WITH w0 AS (first), w1 AS (second) last`, each statement's placeholders
/// moved past those of the statements before it.
fn join(group: Vec<WriteStatement>) -> (String, Vec<Value>) {
    let count = group.len();
    let mut sql = String::new();
    let mut values = Vec::with_capacity(group.iter().map(|s| s.values.len()).sum());
    for (i, statement) in group.into_iter().enumerate() {
        let shifted = shift_placeholders(&statement.sql, values.len());
        if i + 1 == count {
            if i > 0 {
                sql.push(' ');
            }
            sql.push_str(&shifted);
        } else {
            sql.push_str(if i == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("w{i} AS ({shifted})"));
        }
        values.extend(statement.values);
    }
    (sql, values)
}

/// `sql` with every placeholder `$n` outside quotes written as `$(n + by)`.
fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        out.push(c);
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + digit as usize;
                    chars.next();
                }
                out.push_str(&(n + by).to_string());
            }
            (None, _) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sql: &str, values: usize) -> WriteStatement {
        WriteStatement::new(sql.to_owned(), (0..values as i64).map(Value::from).collect())
    }

    #[test]
    fn placeholders_move_past_the_earlier_statements_values() {
        assert_eq!(shift_placeholders("x = $1 AND y IN ($2, $10)", 3), "x = $4 AND y IN ($5, $13)");
        assert_eq!(shift_placeholders("x = '$1' AND \"$2\" = $2", 5), "x = '$1' AND \"$2\" = $7");
        assert_eq!(shift_placeholders("a = 'it''s $1' OR b = $1", 1), "a = 'it''s $1' OR b = $2");
        assert_eq!(shift_placeholders("$tag$ and $", 9), "$tag$ and $");
    }

    #[test]
    fn all_but_the_last_statement_become_ctes() {
        let (sql, values) = join(vec![
            statement("UPDATE a SET n = $1", 1),
            statement("INSERT INTO b VALUES ($1, $2)", 2),
            statement("INSERT INTO c VALUES ($1) RETURNING id", 1),
        ]);
        assert_eq!(
            sql,
            "WITH w0 AS (UPDATE a SET n = $1), w1 AS (INSERT INTO b VALUES ($2, $3)) \
             INSERT INTO c VALUES ($4) RETURNING id"
        );
        assert_eq!(values.len(), 4);
        assert_eq!(join(vec![statement("DELETE FROM a WHERE id = $1", 1)]).0, "DELETE FROM a WHERE id = $1");
    }

    #[test]
    fn a_group_binds_at_most_the_joined_limit() {
        let sizes = |groups: Vec<Vec<WriteStatement>>| -> Vec<Vec<usize>> {
            groups.iter().map(|g| g.iter().map(|s| s.values.len()).collect()).collect()
        };
        let groups = joinable_groups(vec![
            statement("a", 11_500),
            statement("b", 11_500),
            statement("c", 11_500),
            statement("d", 40_000),
            statement("e", 4),
        ]);
        assert_eq!(sizes(groups), vec![vec![11_500, 11_500], vec![11_500], vec![40_000], vec![4]]);
        assert!(joinable_groups(Vec::new()).is_empty());
    }

    #[test]
    fn a_statement_that_must_see_the_earlier_ones_starts_a_group() {
        let groups = joinable_groups(vec![
            statement("events", 15),
            statement("first chunk", 23),
            statement("second chunk", 23).after_earlier(),
            statement("outbox", 8),
        ]);
        let names: Vec<Vec<&str>> = groups.iter().map(|g| g.iter().map(|s| s.sql.as_str()).collect()).collect();
        assert_eq!(names, vec![vec!["events", "first chunk"], vec!["second chunk", "outbox"]]);
    }
}
