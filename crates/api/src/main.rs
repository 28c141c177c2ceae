//! The `hothour` binary: `serve` (default), `migrate`, `create-admin`, and the
//! `openapi`/`asyncapi` documents.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hothour_api::{AppState, Config, connect_and_migrate, start};
use hothour_domain::ports::AccountStore;

#[derive(Parser)]
#[command(
    name = "hothour",
    version,
    about = "HotHour: Dutch auctions for a studio's empty slots, events with seats, hold → confirm reservations."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API (the default).
    #[command(after_help = variables_help())]
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a demo studio with an admin, three auctions (mid-drop, in turbo, upcoming), an event and a customer.
    SeedDemo,
    /// Print the OpenAPI document (what `openapi/openapi.json` holds).
    Openapi,
    /// Print the AsyncAPI document of the live protocol (what `openapi/asyncapi.json` holds).
    Asyncapi,
    /// Print the error catalogue (what `docs/errors.md` holds).
    Errors,
    /// Create a platform admin, or make an existing user one.
    CreateAdmin {
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// The admin's full name (for a new account).
        #[arg(long, default_value = "Platform admin")]
        name: String,
        /// The password; prompted for when neither this nor HOTHOUR_ADMIN_PASSWORD is set.
        #[arg(long, env = "HOTHOUR_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

fn variables_help() -> String {
    let mut help = String::from("Environment variables (a .env file in the working directory fills in unset ones):\n");
    for variable in hothour_api::config::variables() {
        let default = match (variable.name, variable.default.as_str()) {
            ("JWT_SECRET", _) => "(development value)",
            (_, "") => "(none)",
            (_, default) => default,
        };
        help.push_str(&format!("  {:<30} {} [default: {default}]\n", variable.name, variable.meaning));
    }
    help
}

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file, when present, fills in what the environment does not set.
    let _ = dotenvy::dotenv();
    // Every HTTPS client of the process (Stripe's) uses this one provider.
    hothour_api::install_crypto_provider();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn".into());
    if std::env::var("LOG_FORMAT").is_ok_and(|format| format == "json") {
        tracing_subscriber::fmt().json().with_current_span(true).with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::Openapi => print_openapi(),
        Command::Asyncapi => print_asyncapi(),
        Command::Errors => {
            print!("{}", hothour_api::problem::catalogue());
            Ok(())
        }
        Command::SeedDemo => seed_demo().await,
        Command::CreateAdmin { email, name, password } => create_admin(email, name, password).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hothour: {message}");
            ExitCode::FAILURE
        }
    }
}

fn config() -> Result<Config, String> {
    Config::from_env().map_err(|e| e.to_string())
}

async fn serve() -> Result<(), String> {
    let config = config()?;
    let store = connect_and_migrate(&config).await?;
    let listener = TcpListener::bind(&config.bind).map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let running = start(listener, AppState::new(store, config).await?).map_err(|e| e.to_string())?;
    tracing::info!(%address, "HotHour listening");
    println!("HotHour listening on http://{address}");
    println!("  API docs: http://{address}/docs/   OpenAPI: http://{address}/api/v1/openapi.json");
    println!("  Live updates: ws://{address}/api/v1/ws");
    let (hub, handle) = (running.hub.clone(), running.server.handle());
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: closing sockets, finishing requests");
        hothour_api::Running::shut_down(&hub, handle).await;
    });
    running.server.await.map_err(|e| e.to_string())
}

fn print_openapi() -> Result<(), String> {
    println!("{}", hothour_api::openapi_json());
    Ok(())
}

fn print_asyncapi() -> Result<(), String> {
    println!("{}", hothour_api::asyncapi::asyncapi_json());
    Ok(())
}

async fn seed_demo() -> Result<(), String> {
    let config = config()?;
    let store = connect_and_migrate(&config).await?;
    let state = AppState::new(store, config).await?;
    let demo = hothour_api::commands::seed_demo(&state).await?;
    println!("Demo studio {} seeded.", demo.studio_id);
    println!("  studio admin: {} / {}", demo.admin_email, demo.password);
    println!("  customer:     {} / {}", demo.user_email, demo.password);
    if demo.password != hothour_api::commands::DEMO_PASSWORD {
        println!("  (APP_ENV is not development or test: the password is random and shown only now)");
    }
    for (id, stage) in &demo.auctions {
        println!("  auction {id}: {stage}   (GET /api/v1/auctions/{id}, room auction:{id})");
    }
    println!(
        "  event {}: 20 seats       (GET /api/v1/events/{}, room event:{})",
        demo.event_id, demo.event_id, demo.event_id
    );
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

async fn migrate() -> Result<(), String> {
    connect_and_migrate(&config()?).await?;
    println!("migrations applied");
    Ok(())
}

async fn create_admin(email: String, name: String, password: Option<String>) -> Result<(), String> {
    let config = config()?;
    let store = connect_and_migrate(&config).await?;
    let exists = store.find_login(&email.trim().to_lowercase()).await.map_err(|e| e.to_string())?.is_some();
    let password = match (exists, password) {
        (true, _) => None,
        (false, Some(password)) => Some(password),
        (false, None) => Some(
            rpassword::prompt_password(format!("Password for {email}: "))
                .map_err(|e| format!("reading the password: {e}"))?,
        ),
    };
    let (user, created) = hothour_api::commands::create_admin(&store, &config, &email, &name, password).await?;
    if created {
        println!("created platform admin {} (id {})", user.email, user.id.0);
    } else {
        println!("{} (id {}) is now a platform admin", user.email, user.id.0);
    }
    Ok(())
}
