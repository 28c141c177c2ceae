//! HotHour's HTTP adapter: routes, problem+json errors, configuration and
//! start-up. `main.rs` only parses the command line and wires.

pub mod config;
pub mod problem;
mod routes;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use hothour_infra_postgres::{PgConfig, PgStore};
use hothour_migrations::{Migrator, MigratorTrait};

pub use config::Config;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: PgStore,
}

/// Connects to the database named in `config` and applies pending migrations.
pub async fn connect_and_migrate(config: &Config) -> Result<PgStore, String> {
    PgStore::ensure_database(&config.database_url)
        .await
        .map_err(|e| format!("cannot reach the database server: {e}"))?;
    let mut pg = PgConfig::new(config.database_url.clone());
    pg.lock_timeout = config.lock_timeout;
    pg.max_connections = config.db_max_connections;
    let store = PgStore::connect(&pg).await.map_err(|e| format!("cannot connect to the database: {e}"))?;
    Migrator::up(store.connection(), None).await.map_err(|e| format!("migrations failed: {e}"))?;
    Ok(store)
}

/// A bound, not yet running, server and the port it listens on (`BIND` may ask for port 0).
pub struct Running {
    pub server: Server,
    pub port: u16,
}

pub fn start(listener: TcpListener, state: AppState) -> std::io::Result<Running> {
    let port = listener.local_addr()?.port();
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::JsonConfig::default().limit(64 * 1024))
            .configure(routes::configure)
            .default_service(web::to(routes::not_found))
    })
    .listen(listener)?
    .run();
    Ok(Running { server, port })
}
