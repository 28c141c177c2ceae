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
