//! What the `hothour` subcommands do, as functions tests can call.

use hothour_domain::Role;
use hothour_domain::account::{NewUser, Registration, User};
use hothour_domain::ports::AccountStore;

use crate::{AppStore, Config};

/// Creates a platform admin with `password`, or makes the existing user with `email` one.
pub async fn create_admin(
    store: &AppStore,
    config: &Config,
    email: &str,
    name: &str,
    password: Option<String>,
) -> Result<(User, bool), String> {
    let email = email.trim().to_lowercase();
    if let Some((user, _)) = store.find_login(&email).await.map_err(|e| e.to_string())? {
        let user = store.make_platform_admin(&user.email).await.map_err(|e| e.to_string())?;
        return Ok((user, false));
    }
    let password = password.ok_or("a password is needed for a new account")?;
    let registration = Registration::new(&email, &password, name, None).map_err(|e| e.to_string())?;
    let password_hash =
        crate::auth::hash_password(registration.password, config.bcrypt_cost).await.map_err(|e| e.to_string())?;
    let user = store
        .create_user(NewUser {
            email: registration.email,
            password_hash,
            full_name: registration.full_name,
            phone: None,
            role: Role::PlatformAdmin,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok((user, true))
}
