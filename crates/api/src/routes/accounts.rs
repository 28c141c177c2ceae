//! Registration, sign-in, token refresh, sign-out, and one's own profile.

use actix_web::{HttpRequest, delete, get, patch, post};
use hothour_domain::account::{Locale, SignedIn, login_email};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, created, no_content, ok};
use crate::AppState;
use crate::auth::{Caller, tokens_out, unauthorized};
use crate::device::Device;
use crate::dto::{
    DeleteAccountIn, LoginIn, PasswordIn, ProfilePatchIn, RefreshIn, RegisterIn, SignInOut, TokensOut, UserOut,
};
use crate::json::StrictJson;
use crate::openapi::rules;
use crate::problem::{Problem, ProblemCode as C};
use crate::routes::client_key;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(logout_all)
        .service(me)
        .service(update_me)
        .service(change_password)
        .service(delete_me);
}

/// Creates an account and signs it in.
#[utoipa::path(
    tag = "auth", operation_id = "register",
    request_body(content = RegisterIn, example = json!({
        "email": "ada@example.com", "password": "correct horse battery", "full_name": "Ada Lovelace",
        "phone": "+90 555 123 4567", "locale": "tr",
    })),
    params(("Accept-Language" = Option<String>, Header,
        description = "The browser's languages: the account's `locale` is the first of `tr` and `en` it names, unless the body gives one")),
    responses((status = 201, description = "The account, its tokens and this client's device token", body = SignInOut)),
    extensions(("x-hothour" = json!(rules::public(&[C::EmailTaken, C::RateLimited])))),
)]
#[post("/auth/register")]
async fn register(state: State, req: HttpRequest, body: StrictJson<RegisterIn>) -> Reply {
    state.limits.check_auth(client_key(&req))?;
    let RegisterIn { email, password, full_name, phone, locale } = body.0;
    let browser = req.headers().get("accept-language").and_then(|value| value.to_str().ok());
    let locale = locale.or_else(|| browser.and_then(Locale::from_accept_language)).unwrap_or_default();
    let signed_in = state.accounts.register(&email, &password, &full_name, phone.as_deref(), locale).await?;
    created(&sign_in_out(&state, signed_in, None)?)
}

/// A sign-in's answer: its tokens and a device token for this client (the
/// device it already had, if it sent one).
fn sign_in_out(state: &AppState, signed_in: SignedIn, device: Option<&Device>) -> Result<SignInOut, Problem> {
    let device_token = state.devices.issue(signed_in.user.id, &signed_in.user.email, device, signed_in.at)?;
    Ok(SignInOut { tokens: tokens_out(&state.keys, signed_in)?, device_token })
}

/// Signs in with email and password (and this client's device token, if it has one).
#[utoipa::path(
    tag = "auth", operation_id = "login",
    request_body(content = LoginIn, example = json!({ "email": "ada@example.com", "password": "correct horse battery" })),
    responses((status = 200, description = "Fresh tokens and this client's device token", body = SignInOut)),
    extensions(("x-hothour" = json!(rules::public(&[C::InvalidCredentials, C::RateLimited])))),
)]
#[post("/auth/login")]
async fn login(state: State, req: HttpRequest, body: StrictJson<LoginIn>) -> Reply {
    let LoginIn { email: given, password, device_token } = body.0;
    let email = login_email(&given);
    let device = device_token.as_deref().and_then(|token| state.devices.verify(token, &email, state.now()));
    state.limits.check_login(&email, client_key(&req), device.as_ref())?;
    let signed_in = state.accounts.login(&given, password).await?;
    ok(&sign_in_out(&state, signed_in, device.as_ref())?)
}

/// Trades a refresh token for new tokens; the old refresh token stops working.
/// Presenting an already-used refresh token revokes its whole family.
#[utoipa::path(
    tag = "auth", operation_id = "refreshTokens", request_body = RefreshIn,
    responses((status = 200, description = "Fresh tokens", body = TokensOut)),
    extensions(("x-hothour" = json!(rules::public(&[C::InvalidRefreshToken, C::RateLimited])))),
)]
#[post("/auth/refresh")]
async fn refresh(state: State, req: HttpRequest, body: StrictJson<RefreshIn>) -> Reply {
    state.limits.check_auth(client_key(&req))?;
    ok(&tokens_out(&state.keys, state.accounts.refresh(&body.0.refresh_token).await?)?)
}

/// Revokes one refresh token (signs this device out).
#[utoipa::path(
    tag = "auth", operation_id = "logout", request_body = RefreshIn,
    responses((status = 204, description = "Signed out")),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[post("/auth/logout")]
async fn logout(state: State, caller: Caller, body: StrictJson<RefreshIn>) -> Reply {
    state.accounts.logout(caller.user_id(), &body.0.refresh_token).await?;
    no_content()
}

/// Signs the caller out of every device: every refresh token is revoked, and
/// every access token issued so far is refused (401 `token_revoked`).
#[utoipa::path(
    tag = "auth", operation_id = "logoutAll",
    responses((status = 204, description = "Signed out everywhere")),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[post("/auth/logout-all")]
async fn logout_all(state: State, caller: Caller) -> Reply {
    let signed_out = state.accounts.logout_all(caller.user_id()).await;
    // This instance stops honouring the old tokens at once, even if telling
    // the others failed after the revocation committed.
    state.actors.changed(caller.user_id());
    signed_out?;
    no_content()
}

/// The signed-in user.
#[utoipa::path(
    tag = "me", operation_id = "getMe",
    responses((status = 200, description = "The user", body = UserOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/me")]
async fn me(state: State, caller: Caller) -> Reply {
    let user = state.accounts.user(caller.user_id()).await?;
    ok(&UserOut::of(&user.ok_or_else(|| unauthorized("the account no longer exists"))?))
}

/// Changes one's name, phone or language.
#[utoipa::path(
    tag = "me", operation_id = "updateMe", request_body = ProfilePatchIn,
    responses((status = 200, description = "The user", body = UserOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[patch("/me")]
async fn update_me(state: State, caller: Caller, body: StrictJson<ProfilePatchIn>) -> Reply {
    let ProfilePatchIn { full_name, phone, locale } = body.0;
    let phone = phone.as_ref().map(|p| p.as_deref());
    ok(&UserOut::of(&state.accounts.update_profile(caller.user_id(), full_name.as_deref(), phone, locale).await?))
}

/// Changes one's password; every sign-in ends, this one's too (sign in again
/// with the new password).
#[utoipa::path(
    tag = "me", operation_id = "changePassword", request_body = PasswordIn,
    responses(
        (status = 204, description = "Changed; every access and refresh token of the user is revoked: sign in again"),
    ),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::InvalidCredentials, C::RateLimited])))),
)]
#[post("/me/password")]
async fn change_password(state: State, caller: Caller, body: StrictJson<PasswordIn>) -> Reply {
    state.limits.check_password_change(caller.user_id().0)?;
    let PasswordIn { current_password, new_password } = body.0;
    let changed = state.accounts.change_password(caller.user_id(), current_password, new_password).await;
    state.actors.changed(caller.user_id());
    changed?;
    no_content()
}

/// Deletes one's account, confirmed by its password (throttled like a
/// password change). Nothing personal is kept: the name, phone and password
/// are erased and the email replaced, so the address may register again.
/// Every sign-in ends at once, on every instance; a studio admin role ends;
/// unsent mail to the account is dropped; live holds are let go (their
/// seats or slot return). Bookings stay in the studio's records, without a
/// name. The last platform admin cannot leave (`last_platform_admin`):
/// appoint another first.
#[utoipa::path(
    tag = "me", operation_id = "deleteMe",
    request_body(content = DeleteAccountIn, example = json!({ "password": "correct horse battery" })),
    responses((status = 204, description = "Deleted; every access and refresh token of the account is refused")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::InvalidCredentials, C::RateLimited, C::LastPlatformAdmin])))),
)]
#[delete("/me")]
async fn delete_me(state: State, caller: Caller, body: StrictJson<DeleteAccountIn>) -> Reply {
    state.limits.check_password_change(caller.user_id().0)?;
    let deleted = state.accounts.delete_account(caller.user_id(), body.0.password).await;
    // This instance stops honouring the account's tokens at once, even if
    // telling the others failed after the deletion committed.
    state.actors.changed(caller.user_id());
    deleted?;
    // After the commit: a hold that cannot be let go now lapses by itself.
    if let Err(error) = state.services.release_holds_of(caller.user_id()).await {
        tracing::warn!(user = caller.user_id().0, %error, "a deleted account's holds were not all let go; they lapse");
    }
    no_content()
}
