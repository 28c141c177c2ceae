//! Registration, sign-in, token refresh, sign-out, and one's own profile.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use hothour_domain::account::{NewUser, ProfileChange, Registration, check_password};
use hothour_domain::ports::{AccountStore, TokenStore};
use hothour_domain::{DomainError, Role, ValidationErrors};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::auth::{self, Caller, hash_password, hash_token, issue_tokens, verify_password};
use crate::dto::{LoginIn, PasswordIn, ProfilePatchIn, RefreshIn, RegisterIn, TokensOut, UserOut};
use crate::json::StrictJson;
use crate::live::sessions::{self, SessionEnd};
use crate::problem::Problem;
use crate::routes::client_ip;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(logout_all)
        .service(me)
        .service(update_me)
        .service(change_password);
}

/// Creates an account and signs it in.
#[utoipa::path(
    tag = "auth", operation_id = "register", request_body = RegisterIn,
    responses(
        (status = 201, description = "The account and its tokens", body = TokensOut),
    )
)]
#[post("/auth/register")]
async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: StrictJson<RegisterIn>,
) -> Result<HttpResponse, Problem> {
    state.limits.check_auth(client_ip(&req))?;
    let body = body.0;
    let registration = Registration::new(&body.email, &body.password, &body.full_name, body.phone.as_deref())
        .map_err(DomainError::from)?;
    let password_hash = hash_password(registration.password, state.config.bcrypt_cost).await?;
    let user = state
        .store
        .create_user(NewUser {
            email: registration.email,
            password_hash,
            full_name: registration.full_name,
            phone: registration.phone,
            role: Role::User,
        })
        .await?;
    let tokens = issue_tokens(&state, &user).await?;
    Ok(HttpResponse::Created().json(tokens))
}

/// Signs in with email and password.
#[utoipa::path(
    tag = "auth", operation_id = "login", request_body = LoginIn,
    responses(
        (status = 200, description = "Fresh tokens", body = TokensOut),
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: StrictJson<LoginIn>,
) -> Result<HttpResponse, Problem> {
    state.limits.check_auth(client_ip(&req))?;
    let email = body.0.email.trim().to_lowercase();
    state.limits.check_login_account(&email)?;
    let found = state.store.find_login(&email).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    if !verify_password(body.0.password, hash, state.config.bcrypt_cost).await? {
        return Err(DomainError::InvalidCredentials.into());
    }
    let user = user.ok_or(DomainError::InvalidCredentials)?;
    Ok(HttpResponse::Ok().json(issue_tokens(&state, &user).await?))
}

/// Trades a refresh token for new tokens; the old refresh token stops working.
/// Presenting an already-used refresh token revokes its whole family.
#[utoipa::path(
    tag = "auth", operation_id = "refreshTokens", request_body = RefreshIn,
    responses(
        (status = 200, description = "Fresh tokens", body = TokensOut),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: StrictJson<RefreshIn>,
) -> Result<HttpResponse, Problem> {
    state.limits.check_auth(client_ip(&req))?;
    let (new_token, new_hash) = auth::new_refresh_token()?;
    let now = state.now();
    let expires_at = now + chrono::Duration::from_std(state.keys.refresh_ttl).unwrap_or(chrono::Duration::days(7));
    let user_id =
        state.store.rotate_refresh_token(&hash_token(&body.0.refresh_token), &new_hash, expires_at, now).await?;
    let user = state.store.find_user(user_id).await?.ok_or(DomainError::InvalidRefreshToken)?;
    Ok(HttpResponse::Ok().json(auth::tokens_out(&state, &user, new_token)?))
}

/// Revokes one refresh token (signs this device out).
#[utoipa::path(
    tag = "auth", operation_id = "logout", request_body = RefreshIn,
    responses(
        (status = 204, description = "Signed out"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    body: StrictJson<RefreshIn>,
) -> Result<HttpResponse, Problem> {
    state.store.revoke_refresh_token(caller.user.id, &hash_token(&body.0.refresh_token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes every refresh token of the caller (signs out of all devices).
#[utoipa::path(
    tag = "auth", operation_id = "logoutAll",
    responses(
        (status = 204, description = "Signed out everywhere"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout-all")]
async fn logout_all(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, Problem> {
    sessions::announce_revocation(&state.store, caller.user.id, SessionEnd::LogoutAll, state.now()).await?;
    state.store.revoke_all_refresh_tokens(caller.user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    tag = "me", operation_id = "getMe",
    responses(
        (status = 200, description = "The user", body = UserOut),
    ),
    security(("bearer" = []))
)]
#[get("/me")]
async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(UserOut::from(&caller.user))
}

/// Changes one's name or phone.
#[utoipa::path(
    tag = "me", operation_id = "updateMe", request_body = ProfilePatchIn,
    responses(
        (status = 200, description = "The user", body = UserOut),
    ),
    security(("bearer" = []))
)]
#[patch("/me")]
async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    body: StrictJson<ProfilePatchIn>,
) -> Result<HttpResponse, Problem> {
    let body = body.0;
    let change = ProfileChange::new(body.full_name.as_deref(), body.phone.as_ref().map(|p| p.as_deref()))
        .map_err(DomainError::from)?;
    let user = state.store.update_profile(caller.user.id, change).await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}

/// Changes one's password; every refresh token is revoked.
#[utoipa::path(
    tag = "me", operation_id = "changePassword", request_body = PasswordIn,
    responses(
        (status = 204, description = "Changed; sign in again on other devices"),
    ),
    security(("bearer" = []))
)]
#[post("/me/password")]
async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: StrictJson<PasswordIn>,
) -> Result<HttpResponse, Problem> {
    state.limits.check_password_change(caller.user.id.0)?;
    let body = body.0;
    let mut errors = ValidationErrors::new();
    check_password(&body.new_password, "new_password", &mut errors);
    errors.into_result(()).map_err(DomainError::from)?;
    let current = state.store.password_hash(caller.user.id).await?;
    if !verify_password(body.current_password, current, state.config.bcrypt_cost).await? {
        return Err(DomainError::InvalidCredentials.into());
    }
    let hash = hash_password(body.new_password, state.config.bcrypt_cost).await?;
    sessions::announce_revocation(&state.store, caller.user.id, SessionEnd::PasswordChanged, state.now()).await?;
    state.store.change_password(caller.user.id, hash).await?;
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}
