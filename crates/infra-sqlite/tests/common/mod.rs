//! A fresh, migrated SQLite database per test, under the system temp dir.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use hothour_domain::account::{NewStudio, NewUser};
use hothour_domain::ports::{AccountStore, NoPublisher};
use hothour_domain::{
    Actor, AuctionInput, EventInput, ManualClock, Money, Policy, PriceScheduleInput, Role, Services, StudioId,
    TurboConfig,
};
use hothour_infra_sqlite::{SqlStore, SqliteConfig};
use hothour_migrations::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A directory of the test's own, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name =
            format!("hothour-sqlite-{label}-{}-{}-{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        TempDir(std::env::temp_dir().join(name))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated store on a file in a directory that does not exist yet.
pub struct TestDb {
    pub store: SqlStore,
    pub dir: TempDir,
}

impl TestDb {
    pub async fn new(label: &str) -> TestDb {
        TestDb::with(label, |_| {}).await
    }

    pub async fn with(label: &str, configure: impl FnOnce(&mut SqliteConfig)) -> TestDb {
        let dir = TempDir::new(label);
        let mut config = SqliteConfig::new(dir.0.join("nested").join("hothour.db").to_string_lossy().into_owned());
        configure(&mut config);
        let store = hothour_infra_sqlite::connect(&config).await.expect("open");
        Migrator::up(store.connection(), None).await.expect("migrate");
        TestDb { store, dir }
    }

    /// One integer from `sql`.
    pub async fn scalar(&self, sql: &str) -> i64 {
        self.text_or_int(sql).await.1.unwrap_or_else(|| panic!("{sql}: not an integer"))
    }

    /// One text value from `sql`.
    pub async fn text(&self, sql: &str) -> String {
        self.text_or_int(sql).await.0.unwrap_or_else(|| panic!("{sql}: not text"))
    }

    async fn text_or_int(&self, sql: &str) -> (Option<String>, Option<i64>) {
        let row = self
            .store
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .expect("a row");
        (row.try_get_by_index::<String>(0).ok(), row.try_get_by_index::<i64>(0).ok())
    }
}

pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, 1, 9, 0, 0).unwrap()
}

pub fn money(value: &str) -> Money {
    Money::parse(value).expect("valid money")
}

pub fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        password_hash: "$2b$04$not.a.real.hash.for.tests.only.......................".into(),
        full_name: "Test Person".into(),
        phone: None,
        role: Role::User,
        locale: Default::default(),
    }
}

pub type Svc = Services<SqlStore, ManualClock, NoPublisher>;

/// A studio with its admin, and the services on a manual clock at [`epoch`].
pub struct World {
    pub db: TestDb,
    pub clock: ManualClock,
    pub services: Svc,
    pub studio: StudioId,
    pub admin: Actor,
}

impl World {
    pub async fn new(label: &str) -> World {
        let db = TestDb::new(label).await;
        let studio = db
            .store
            .create_studio(NewStudio {
                name: "Studio Nine".into(),
                address: "Moda Cd. 9".into(),
                timezone: "Europe/Istanbul".into(),
                maps_url: None,
            })
            .await
            .expect("studio");
        let admin = db.store.create_user(new_user("admin@studio9.test")).await.expect("admin");
        let clock = ManualClock::new(epoch());
        let services = Services::new(db.store.clone(), clock.clone(), NoPublisher, Policy::default());
        World { db, clock, services, studio: studio.id, admin: Actor::studio_admin(admin.id, studio.id) }
    }

    pub async fn user(&self, email: &str) -> Actor {
        Actor::user(self.db.store.create_user(new_user(email)).await.expect("user").id)
    }

    pub fn event_input(&self, price: Money, capacity: i64) -> EventInput {
        EventInput {
            title: "Salsa night".into(),
            description: String::new(),
            capacity,
            price,
            starts_at: epoch() + Duration::days(2),
            ends_at: epoch() + Duration::days(2) + Duration::hours(2),
            is_active: true,
        }
    }
}

/// An auction from `starts_at` for 120 minutes: −`drop` every 60 min, turbo
/// −`turbo_drop` every 5 min in the last 30 min; session 3 h after the start.
pub fn auction_input(
    starts_at: DateTime<Utc>,
    start: Money,
    floor: Money,
    drop: Money,
    turbo_drop: Money,
) -> AuctionInput {
    AuctionInput {
        title: "Reformer pilates, 19:00".into(),
        description: String::new(),
        schedule: PriceScheduleInput {
            start_price: start,
            floor_price: floor,
            drop_amount: drop,
            drop_interval: Duration::minutes(60),
            starts_at,
            ends_at: starts_at + Duration::minutes(120),
            turbo: Some(TurboConfig {
                trigger_before: Duration::minutes(30),
                drop_amount: turbo_drop,
                interval: Duration::minutes(5),
            }),
        },
        scheduled_at: starts_at + Duration::minutes(180),
        session_minutes: hothour_domain::auction::SESSION_MINUTES_DEFAULT,
    }
}
