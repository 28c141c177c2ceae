//! HotHour's database schema, as plain SQL run by sea-orm-migration.
//!
//! Each migration is a pair of SQL files per backend: PostgreSQL's under
//! `migrations/sql/`, SQLite's under `migrations/sql/sqlite/`. Plain SQL says
//! exactly which partial indexes and `CHECK`s guard the invariants; the two
//! schemas hold the same tables, indexes and constraints, each in its
//! database's own types. `up` and `down` pick the SQL of the connection's backend.

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// The SQL that applies and reverts a migration on one backend.
struct Sql {
    up: &'static str,
    down: &'static str,
}

/// One migration: its name and its SQL for each backend.
struct SqlMigration {
    name: &'static str,
    postgres: Sql,
    sqlite: Sql,
}

impl SqlMigration {
    /// The SQL for `backend`; MySQL is not supported.
    fn sql(&self, backend: DbBackend) -> Result<&Sql, DbErr> {
        match backend {
            DbBackend::Postgres => Ok(&self.postgres),
            DbBackend::Sqlite => Ok(&self.sqlite),
            other => Err(DbErr::Migration(format!("{}: no SQL for the {other:?} backend", self.name))),
        }
    }
}

/// A migration named `m{stem}`, from `sql/{stem}.{up,down}.sql` (PostgreSQL)
/// and `sql/sqlite/{stem}.{up,down}.sql` (SQLite).
macro_rules! sql_migration {
    ($stem:literal) => {
        SqlMigration {
            name: concat!("m", $stem),
            postgres: Sql {
                up: include_str!(concat!("../sql/", $stem, ".up.sql")),
                down: include_str!(concat!("../sql/", $stem, ".down.sql")),
            },
            sqlite: Sql {
                up: include_str!(concat!("../sql/sqlite/", $stem, ".up.sql")),
                down: include_str!(concat!("../sql/sqlite/", $stem, ".down.sql")),
            },
        }
    };
}

const MIGRATIONS: &[SqlMigration] = &[
    sql_migration!("0001_schema"),
    sql_migration!("0002_idempotency_lease"),
    sql_migration!("0003_session_generation"),
    sql_migration!("0004_session_minutes"),
    sql_migration!("0005_payments"),
    sql_migration!("0006_event_cancellation"),
    sql_migration!("0007_outbox_relay"),
    sql_migration!("0008_mail"),
    sql_migration!("0009_accounts"),
    sql_migration!("0010_alerts"),
    sql_migration!("0011_waitlist"),
    sql_migration!("0012_account_deletion"),
];

impl MigrationName for &'static SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for &'static SqlMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = self.sql(manager.get_database_backend())?;
        manager.get_connection().execute_unprepared(sql.up).await.map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = self.sql(manager.get_database_backend())?;
        manager.get_connection().execute_unprepared(sql.down).await.map(|_| ())
    }

    /// Every migration runs in a transaction, on SQLite too (sea-orm-migration
    /// would otherwise run it bare there), so a failed one leaves nothing behind.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        MIGRATIONS.iter().map(|migration| Box::new(migration) as Box<dyn MigrationTrait>).collect()
    }
}

/// A fingerprint of the whole PostgreSQL schema: test harnesses key their
/// migrated template database on it, so a changed migration gets a fresh template.
pub fn fingerprint() -> String {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in MIGRATIONS {
        for byte in migration.name.bytes().chain(migration.postgres.up.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_names_are_unique_and_ordered() {
        let names: Vec<_> = MIGRATIONS.iter().map(|m| m.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn every_backend_has_its_sql() {
        for migration in MIGRATIONS {
            for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
                let sql = migration.sql(backend).expect("SQL for the backend");
                assert!(!sql.up.trim().is_empty() && !sql.down.trim().is_empty(), "{}", migration.name);
            }
            assert!(migration.sql(DbBackend::MySql).is_err());
        }
    }

    #[test]
    fn fingerprint_is_stable_hex() {
        assert_eq!(fingerprint(), fingerprint());
        assert_eq!(fingerprint().len(), 16);
    }
}
