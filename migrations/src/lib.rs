//! HotHour's database schema, as plain SQL run by sea-orm-migration.
//!
//! Each migration is a pair of SQL files under `migrations/sql/`. Plain SQL
//! says exactly which partial indexes and `CHECK`s guard the invariants.

pub use sea_orm_migration::prelude::*;

/// One migration: its name and the SQL that applies and reverts it.
struct SqlMigration {
    name: &'static str,
    up: &'static str,
    down: &'static str,
}

const MIGRATIONS: &[SqlMigration] = &[SqlMigration {
    name: "m0001_schema",
    up: include_str!("../sql/0001_schema.up.sql"),
    down: include_str!("../sql/0001_schema.down.sql"),
}];

impl MigrationName for &'static SqlMigration {
    fn name(&self) -> &str {
        self.name
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for &'static SqlMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(self.up).await.map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(self.down).await.map(|_| ())
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        MIGRATIONS.iter().map(|migration| Box::new(migration) as Box<dyn MigrationTrait>).collect()
    }
}

/// A fingerprint of the whole schema: test harnesses key their migrated
/// template database on it, so a changed migration gets a fresh template.
pub fn fingerprint() -> String {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in MIGRATIONS {
        for byte in migration.name.bytes().chain(migration.up.bytes()) {
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
    fn fingerprint_is_stable_hex() {
        assert_eq!(fingerprint(), fingerprint());
        assert_eq!(fingerprint().len(), 16);
    }
}
