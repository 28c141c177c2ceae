//! A fresh PostgreSQL database per test, cloned from a migrated template.
//!
//! The server comes from `DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`.
//! When nothing answers there, a throw-away cluster is started from the
//! installed PostgreSQL binaries (kept under the system temp dir and reused by
//! later runs); without binaries the harness fails saying how to get a server.
//!
//! The template is named after the schema's fingerprint, so it is migrated
//! once per schema version and shared by every test process; each test's
//! database is dropped when the test's [`TestDb`] is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hothour_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tokio::sync::OnceCell;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const FALLBACK_PORT: u16 = 54329;
const TEST_PREFIX: &str = "hothour_test_";
const TEMPLATE_PREFIX: &str = "hothour_tpl_";

/// The server and the template every test database is cloned from.
#[derive(Debug, Clone)]
struct Server {
    /// URL of the server's maintenance database, used for CREATE/DROP DATABASE.
    admin_url: String,
    template: String,
}

static SERVER: OnceCell<Result<Server, String>> = OnceCell::const_new();
static NEXT_DB: AtomicU64 = AtomicU64::new(0);

/// A database of the test's own, dropped when this value is dropped.
#[derive(Debug)]
pub struct TestDb {
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDb {
    /// Creates a fresh, migrated database.
    pub async fn new() -> TestDb {
        let server = match SERVER.get_or_init(prepare_server).await {
            Ok(server) => server.clone(),
            Err(message) => panic!("{message}"),
        };
        let name = format!(
            "{TEST_PREFIX}{}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
        );
        let admin = connect(&server.admin_url, 1).await.expect("connect to the test server");
        let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{}\"", server.template);
        let mut attempt = 0;
        // Two clones of one template at the same instant can collide; retry briefly.
        while let Err(error) = admin.execute_unprepared(&sql).await {
            attempt += 1;
            assert!(attempt < 20, "could not create test database {name}: {error}");
            tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
        }
        let _ = admin.close().await;
        TestDb { url: with_database(&server.admin_url, &name), name, admin_url: server.admin_url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime; a thread of its own may block.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(drop_database(&admin_url, &name));
        });
        let _ = dropper.join();
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(admin) = connect(admin_url, 1).await {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        let _ = admin.close().await;
    }
}

async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

async fn prepare_server() -> Result<Server, String> {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let admin_url = match connect(&url, 1).await {
        Ok(db) => {
            let _ = db.close().await;
            url
        }
        Err(first_error) => start_throwaway_cluster().await.map_err(|why| {
            format!(
                "no PostgreSQL answers at {url} ({first_error}), and no throw-away cluster could be started: {why}.\n\
                 Start one (e.g. `docker compose up -d postgres`, or install PostgreSQL: `apt-get install postgresql`) \
                 or set DATABASE_URL=postgres://user@host:port/postgres"
            )
        })?,
    };
    let template = format!("{TEMPLATE_PREFIX}{}", hothour_migrations::fingerprint());
    ensure_template(&admin_url, &template).await.map_err(|e| format!("preparing the template database: {e}"))?;
    Ok(Server { admin_url, template })
}

async fn scalar_exists(db: &DatabaseConnection, sql: &str, value: &str) -> Result<Option<bool>, sea_orm::DbErr> {
    let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [value.into()])).await?;
    row.map(|row| row.try_get_by_index::<bool>(0)).transpose()
}

/// Creates and migrates the template once, across processes (an advisory
/// lock serialises them), and removes leftovers of older schemas and of
/// test processes that died before dropping their databases.
async fn ensure_template(admin_url: &str, template: &str) -> Result<(), sea_orm::DbErr> {
    let admin = connect(admin_url, 1).await?;
    admin.execute_unprepared("SELECT pg_advisory_lock(7000001)").await?;
    let result = async {
        let ready = scalar_exists(&admin, "SELECT datistemplate FROM pg_database WHERE datname = $1", template).await?;
        if ready != Some(true) {
            if ready.is_some() {
                admin.execute_unprepared(&format!("DROP DATABASE \"{template}\" WITH (FORCE)")).await?;
            }
            admin.execute_unprepared(&format!("CREATE DATABASE \"{template}\"")).await?;
            let db = connect(&with_database(admin_url, template), 1).await?;
            Migrator::up(&db, None).await?;
            db.close().await?;
            admin.execute_unprepared(&format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true")).await?;
        }
        remove_leftovers(&admin).await
    }
    .await;
    let _ = admin.execute_unprepared("SELECT pg_advisory_unlock(7000001)").await;
    let _ = admin.close().await;
    result
}

/// Drops the test databases of processes that are gone. Templates of other
/// schemas are kept: a test run of another checkout may be cloning one now.
async fn remove_leftovers(admin: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let rows = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT datname FROM pg_database WHERE datname LIKE '{TEST_PREFIX}%'"),
        ))
        .await?;
    for row in rows {
        let name: String = row.try_get_by_index(0)?;
        // Test databases are named after their process; drop those whose process is gone.
        let rest = name.strip_prefix(TEST_PREFIX).unwrap_or("");
        let pid = rest.split('_').next().unwrap_or("");
        if Path::new("/proc").exists() && !Path::new("/proc").join(pid).exists() {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        }
    }
    Ok(())
}

/// Starts (or reuses) a private cluster from installed PostgreSQL binaries.
async fn start_throwaway_cluster() -> Result<String, String> {
    let bin = postgres_bin_dir().ok_or("no PostgreSQL server binaries (initdb, pg_ctl) were found")?;
    let url = format!("postgres://postgres@127.0.0.1:{FALLBACK_PORT}/postgres");
    if let Ok(db) = connect(&url, 1).await {
        let _ = db.close().await;
        return Ok(url);
    }
    let dir = std::env::temp_dir().join("hothour-test-postgres");
    let data = dir.join("data");
    let as_root = running_as_root();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if as_root {
        // PostgreSQL refuses to run as root; its own account runs it.
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
    }
    if !data.join("PG_VERSION").exists() {
        let mut initdb = command(as_root, &bin.join("initdb"));
        initdb.args(["-U", "postgres", "--auth=trust", "--no-sync", "-D"]).arg(&data);
        run(&mut initdb)?;
    }
    let mut start = command(as_root, &bin.join("pg_ctl"));
    start
        .args(["-w", "-t", "30", "-D"])
        .arg(&data)
        .arg("-l")
        .arg(dir.join("log"))
        .arg("-o")
        .arg(format!("-p {FALLBACK_PORT} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", dir.display()))
        .arg("start");
    run(&mut start)?;
    connect(&url, 1).await.map_err(|e| format!("the throw-away cluster does not answer: {e}"))?.close().await.ok();
    Ok(url)
}

pub(crate) fn postgres_bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    candidates.sort();
    candidates.reverse();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.into_iter().find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
}

pub(crate) fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|out| out.stdout.starts_with(b"0")).unwrap_or(false)
}

pub(crate) fn command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

pub(crate) fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    }
}
