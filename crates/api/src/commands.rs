//! What the `hothour` subcommands do, as functions tests can call.

use hothour_domain::Role;
use hothour_domain::account::{NewUser, Registration, User};
use hothour_domain::ports::{AccountStore, OutboxStore};

use crate::Config;

/// Creates a platform admin with `password`, or makes the existing user with `email` one.
pub async fn create_admin<S: AccountStore + OutboxStore>(
    store: &S,
    config: &Config,
    email: &str,
    name: &str,
    password: Option<String>,
) -> Result<(User, bool), String> {
    let email = email.trim().to_lowercase();
    if let Some((user, _)) = store.find_login(&email).await.map_err(|e| e.to_string())? {
        let before = user.role;
        let user = store.make_platform_admin(&user.email).await.map_err(|e| e.to_string())?;
        if before != user.role {
            // Sockets of a running service on the same PostgreSQL hear it
            // (an in-process SQLite bus does not reach across processes).
            crate::live::sessions::announce_role_change(store, user.id, chrono::Utc::now())
                .await
                .map_err(|e| e.to_string())?;
        }
        return Ok((user, false));
    }
    let password = password.ok_or("a password is needed for a new account")?;
    let registration = Registration::new(&email, &password, name, None).map_err(|e| e.to_string())?;
    let password_hash = crate::auth::hash_password(registration.password, config.sign_in.bcrypt_cost)
        .await
        .map_err(|e| e.to_string())?;
    let user = store
        .create_user(NewUser {
            email: registration.email,
            password_hash,
            full_name: registration.full_name,
            phone: None,
            role: Role::PlatformAdmin,
            locale: Default::default(),
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok((user, true))
}

/// The demo accounts' password where `APP_ENV` is `development` or `test` (README).
pub const DEMO_PASSWORD: &str = "hothour-demo";

/// 18 random bytes from the operating system, as 24 URL-safe characters.
fn random_password() -> Result<String, String> {
    use base64::Engine;
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a password: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What `seed-demo` made, to print.
pub struct Demo {
    pub studio_id: i64,
    pub admin_email: &'static str,
    pub user_email: &'static str,
    /// The fixed demo password in development and test, a random one elsewhere.
    pub password: String,
    pub auctions: Vec<(i64, &'static str)>,
    pub event_id: i64,
}

/// A studio with an admin, three auctions at different stages (mid-drop, in
/// turbo, upcoming), an event with seats, and a customer to try them with.
pub async fn seed_demo(state: &crate::AppState) -> Result<Demo, String> {
    use chrono::Duration;
    use hothour_domain::account::NewStudio;
    use hothour_domain::{AuctionInput, EventInput, Money, PriceScheduleInput, TurboConfig};

    const ADMIN: &str = "demo-admin@hothour.local";
    const USER: &str = "demo@hothour.local";
    let store = &state.store;
    let fixed_password = state.config.is_development();
    if store.find_login(ADMIN).await.map_err(|e| e.to_string())?.is_some() {
        let password = if fixed_password { DEMO_PASSWORD } else { "the password printed when it was seeded" };
        return Err(format!("the demo is already seeded (sign in as {ADMIN} / {password})"));
    }
    // Anywhere but a developer's machine a known password would be a known
    // way into a studio admin's account.
    let password = if fixed_password { DEMO_PASSWORD.to_owned() } else { random_password()? };
    let hash = crate::auth::hash_password(password.clone(), state.config.sign_in.bcrypt_cost)
        .await
        .map_err(|e| e.to_string())?;
    let new_user = |email: &str, name: &str| NewUser {
        email: email.into(),
        password_hash: hash.clone(),
        full_name: name.into(),
        phone: None,
        role: Role::User,
        locale: Default::default(),
    };
    let studio = NewStudio::new("HotHour Demo Studio", "Moda Cd. 9, Kadıköy, İstanbul", "Europe/Istanbul", None)
        .map_err(|e| e.to_string())?;
    let studio = store.create_studio(studio).await.map_err(|e| e.to_string())?;
    store.create_user(new_user(ADMIN, "Demo Studio Admin")).await.map_err(|e| e.to_string())?;
    let admin = store.assign_studio_admin(studio.id, ADMIN).await.map_err(|e| e.to_string())?;
    store.create_user(new_user(USER, "Demo Customer")).await.map_err(|e| e.to_string())?;

    let money = |value: &str| Money::parse(value).expect("a valid amount");
    let now = state.now();
    let auction = |title: &str, starts_in: i64, minutes: i64| AuctionInput {
        title: title.into(),
        description: "A last-minute spot, cheaper every few minutes".into(),
        schedule: PriceScheduleInput {
            start_price: money("600.00"),
            floor_price: money("150.00"),
            drop_amount: money("25.00"),
            drop_interval: Duration::minutes(10),
            starts_at: now + Duration::minutes(starts_in),
            ends_at: now + Duration::minutes(starts_in + minutes),
            turbo: Some(TurboConfig {
                trigger_before: Duration::minutes(20),
                drop_amount: money("10.00"),
                interval: Duration::minutes(2),
            }),
        },
        scheduled_at: now + Duration::minutes(starts_in + minutes + 30),
        session_minutes: hothour_domain::auction::SESSION_MINUTES_DEFAULT,
    };
    let actor = admin.actor();
    let mut auctions = Vec::new();
    for (title, starts_in, minutes, stage) in [
        ("Reformer pilates — mid-drop", -35, 120, "mid-drop"),
        ("Salsa for two — in turbo", -100, 110, "in turbo"),
        ("Drum lesson — upcoming", 60, 120, "upcoming"),
    ] {
        let created = state
            .services
            .create_auction(&actor, None, auction(title, starts_in, minutes))
            .await
            .map_err(|e| e.to_string())?;
        auctions.push((created.id.0, stage));
    }
    let event = state
        .services
        .create_event(
            &actor,
            None,
            EventInput {
                title: "Open studio night".into(),
                description: "Twenty seats, live music".into(),
                capacity: 20,
                price: money("150.00"),
                starts_at: now + Duration::days(1),
                ends_at: now + Duration::days(1) + Duration::hours(2),
                is_active: true,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Demo { studio_id: studio.id.0, admin_email: ADMIN, user_email: USER, password, auctions, event_id: event.id.0 })
}
