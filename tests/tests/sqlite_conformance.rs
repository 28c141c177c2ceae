//! The storage-adapter conformance suite on SQLite: each test gets a fresh,
//! migrated database file under the system temp dir, deleted afterwards.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use hothour_infra_sqlite::{SqlStore, SqliteConfig};
use hothour_migrations::{Migrator, MigratorTrait};
use hothour_tests::conformance::Backend;
use sea_orm::ConnectionTrait;

static NEXT_FILE: AtomicU64 = AtomicU64::new(0);

/// A database file of the test's own, removed (with its WAL files) on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new() -> TempFile {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "hothour-conformance-{}-{}-{nanos}.db",
            std::process::id(),
            NEXT_FILE.fetch_add(1, Ordering::Relaxed)
        );
        TempFile(std::env::temp_dir().join(name))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

struct Sqlite {
    store: SqlStore,
    _file: TempFile,
}

impl Backend for Sqlite {
    type Store = SqlStore;

    async fn fresh() -> Self {
        let file = TempFile::new();
        let config = SqliteConfig::new(file.0.to_string_lossy().into_owned());
        let store = hothour_infra_sqlite::connect(&config).await.expect("open the test database");
        Migrator::up(store.connection(), None).await.expect("migrate the test database");
        Sqlite { store, _file: file }
    }

    fn store(&self) -> SqlStore {
        self.store.clone()
    }

    async fn scalar(&self, sql: &str) -> i64 {
        let row = self
            .store
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .expect("a row");
        row.try_get_by_index::<i64>(0).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

hothour_tests::conformance_tests!(Sqlite);
