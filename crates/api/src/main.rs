//! The `hothour` binary: reads configuration, migrates, serves.

use std::net::TcpListener;

use hothour_api::{AppState, Config, connect_and_migrate, start};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_env_filter(env_filter()).init();
    match serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hothour: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn env_filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into())
}

async fn serve() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let store = connect_and_migrate(&config).await?;
    let listener = TcpListener::bind(&config.bind).map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let running = start(listener, AppState { store }).map_err(|e| e.to_string())?;
    tracing::info!(%address, port = running.port, "HotHour listening");
    println!("HotHour listening on http://{address}  (health: /health/ready)");
    running.server.await.map_err(|e| e.to_string())
}
