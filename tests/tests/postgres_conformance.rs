//! The storage-adapter conformance suite on PostgreSQL.

use hothour_infra_postgres::{PgConfig, SqlStore};
use hothour_tests::conformance::Backend;
use hothour_tests::pg::TestDb;
use sea_orm::ConnectionTrait;

struct Postgres {
    store: SqlStore,
    _db: TestDb,
}

impl Backend for Postgres {
    type Store = SqlStore;

    async fn fresh() -> Self {
        let db = TestDb::new().await;
        let mut config = PgConfig::new(db.url.clone());
        config.max_connections = 12;
        let store = hothour_infra_postgres::connect(&config).await.expect("connect to the test database");
        Postgres { store, _db: db }
    }

    fn store(&self) -> SqlStore {
        self.store.clone()
    }

    async fn scalar(&self, sql: &str) -> i64 {
        let row = self
            .store
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .expect("a row");
        // COUNT and SUM come back as bigint or numeric; read either.
        row.try_get_by_index::<i64>(0)
            .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
            .or_else(|_| {
                row.try_get_by_index::<rust_decimal::Decimal>(0).map(|d| i64::try_from(d).expect("an integer"))
            })
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

hothour_tests::conformance_tests!(Postgres);

/// A connection plans each statement once and keeps the plan: a statement
/// run several times with different values was never planned for its values
/// (a batch's statements vary with its size, and were planned anew on each of
/// their first five runs on a connection: BENCHMARKS.md, issue 25).
#[tokio::test]
async fn a_connection_plans_a_statement_once_not_for_each_run() {
    use sea_orm::TransactionTrait;
    let db = Postgres::fresh().await;
    // One transaction: one connection, whose prepared statements are then read.
    let txn = db.store.connection().begin().await.expect("a transaction");
    let statement = "SELECT count(*) AS n FROM outbox WHERE id > $1 AND room = $2";
    for after in 0..7_i64 {
        txn.query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            statement,
            [after.into(), format!("event:{after}").into()],
        ))
        .await
        .expect("the statement runs");
    }
    let row = txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            [statement.into()],
        ))
        .await
        .expect("pg_prepared_statements")
        .expect("the statement was prepared");
    let generic: i64 = row.try_get_by_index(0).expect("generic_plans");
    let custom: i64 = row.try_get_by_index(1).expect("custom_plans");
    assert_eq!(custom, 0, "planned for its values on {custom} of 7 runs");
    assert!(generic >= 1, "one plan, kept ({generic} generic)");
}
