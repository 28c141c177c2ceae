//! The storage the API runs on: PostgreSQL in production, a SQLite file as the
//! embedded default. Both are one adapter body (`hothour-infra-sql`) over a
//! dialect, picked once at start-up; nothing here forwards per method.

use hothour_infra_postgres::PgConfig;
pub use hothour_infra_sql::SqlStore as AppStore;
use hothour_infra_sqlite::SqliteConfig;
use hothour_migrations::{Migrator, MigratorTrait};

use crate::Config;

/// Opens the database named in `config` — PostgreSQL for a `postgres://` URL
/// (created if missing), otherwise a SQLite file — and applies pending migrations.
pub async fn connect_and_migrate(config: &Config) -> Result<AppStore, String> {
    let url = &config.database.url;
    let store = if config.database.is_postgres() {
        hothour_infra_postgres::ensure_database(url)
            .await
            .map_err(|e| format!("cannot reach the database server: {}", e.chain()))?;
        let mut pg = PgConfig::new(url.clone());
        pg.lock_timeout = config.database.lock_timeout;
        pg.max_connections = config.database.max_connections;
        pg.acquire_timeout = config.database.acquire_timeout;
        pg.nats = config.database.nats.clone();
        hothour_infra_postgres::connect(&pg)
            .await
            .map_err(|e| format!("cannot connect to the database: {}", e.chain()))?
    } else {
        let mut sqlite = SqliteConfig::new(url.clone());
        sqlite.max_connections = config.database.max_connections.min(8);
        sqlite.lock_timeout = config.database.lock_timeout;
        hothour_infra_sqlite::connect(&sqlite)
            .await
            .map_err(|e| format!("cannot open the SQLite database {url}: {}", e.chain()))?
    };
    Migrator::up(store.connection(), None).await.map_err(|e| format!("migrations failed: {e}"))?;
    Ok(store)
}
