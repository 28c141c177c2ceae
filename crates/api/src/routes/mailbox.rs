//! Proving mailboxes (SPEC §7): email verification, password reset by an
//! emailed link, and studio admin invitations accepted from the invited
//! mailbox. Each link's token is single use; the messages go through the
//! mail outbox.

use actix_web::{HttpRequest, delete, get, post, web};
use hothour_domain::StudioId;
use hothour_domain::account::login_email;
use utoipa_actix_web::service_config::ServiceConfig;

use super::studios::{StudioQuery, logged};
use super::{Reply, State, accepted, accepted_empty, no_content, ok};
use crate::auth::Caller;
use crate::dto::{
    AdminIn, EmailTokenIn, InvitationOut, InvitationPage, PasswordResetConfirmIn, PasswordResetIn, UserOut,
};
use crate::json::StrictJson;
use crate::openapi::rules;
use crate::pagination::{Cursor, encode_id_cursor, limit, split_page};
use crate::problem::ProblemCode as C;
use crate::routes::client_key;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(verify_email)
        .service(resend_verification)
        .service(request_password_reset)
        .service(confirm_password_reset)
        .service(invite_admin)
        .service(accept_invitation)
        .service(list_invitations)
        .service(revoke_invitation);
}

/// Verifies the email address a verification link was sent to (the link's
/// `token`; each works once). Signing in is not needed: the link is the proof.
#[utoipa::path(
    tag = "auth", operation_id = "verifyEmail", request_body = EmailTokenIn,
    responses((status = 200, description = "The user, their address verified", body = UserOut)),
    extensions(("x-hothour" = json!(rules::public(&[C::TokenInvalid, C::TokenExpired, C::TokenUsed, C::RateLimited])))),
)]
#[post("/auth/verify")]
async fn verify_email(state: State, req: HttpRequest, body: StrictJson<EmailTokenIn>) -> Reply {
    state.limits.check_auth(client_key(&req))?;
    ok(&UserOut::of(&state.accounts.verify_email(&body.0.token).await?))
}

/// Emails the caller a new verification link (each is a message of its own;
/// earlier links keep working until they expire).
#[utoipa::path(
    tag = "auth", operation_id = "resendVerification",
    responses((status = 202, description = "A new link is on its way")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::EmailAlreadyVerified, C::RateLimited])))),
)]
#[post("/auth/verify/resend")]
async fn resend_verification(state: State, caller: Caller) -> Reply {
    state.limits.check_resend(caller.user_id().0)?;
    state.accounts.resend_verification(caller.user_id()).await?;
    accepted_empty()
}

/// Emails a password reset link (valid 30 minutes, single use) to the
/// account with this address, if there is one: the answer is the same
/// either way, so it tells nobody which addresses have accounts.
#[utoipa::path(
    tag = "auth", operation_id = "requestPasswordReset", request_body = PasswordResetIn,
    responses((status = 202, description = "If an account has this address, a link is on its way")),
    extensions(("x-hothour" = json!(rules::public(&[C::RateLimited])))),
)]
#[post("/auth/password-reset")]
async fn request_password_reset(state: State, req: HttpRequest, body: StrictJson<PasswordResetIn>) -> Reply {
    state.limits.check_password_reset(&login_email(&body.0.email), client_key(&req))?;
    state.accounts.request_password_reset(&body.0.email).await?;
    accepted_empty()
}

/// Sets a new password with the emailed reset link's token. Every sign-in of
/// the account ends at once on every instance (as after a password change),
/// and its address counts as verified: sign in with the new password.
#[utoipa::path(
    tag = "auth", operation_id = "confirmPasswordReset", request_body = PasswordResetConfirmIn,
    responses((status = 204, description = "The password is changed; every access and refresh token of the user is revoked")),
    extensions(("x-hothour" = json!(rules::public(&[C::TokenInvalid, C::TokenExpired, C::TokenUsed, C::RateLimited])))),
)]
#[post("/auth/password-reset/confirm")]
async fn confirm_password_reset(state: State, req: HttpRequest, body: StrictJson<PasswordResetConfirmIn>) -> Reply {
    state.limits.check_auth(client_key(&req))?;
    let PasswordResetConfirmIn { token, password } = body.0;
    let user = state.accounts.reset_password(&token, password).await?;
    // This instance stops honouring the old tokens at once; the others when they hear it.
    state.actors.changed(user);
    no_content()
}

/// Invites an address to administer this studio (platform admins only): an
/// invitation is emailed to it, valid 7 days. Whoever reads it signs in with
/// that address and accepts (`POST /invitations/accept`). Inviting the same
/// address again replaces its pending invitation.
#[utoipa::path(
    tag = "studios", operation_id = "inviteStudioAdmin", request_body = AdminIn,
    params(("id" = i64, Path, description = "Studio id")),
    responses((status = 202, description = "The invitation; its email is on its way", body = InvitationOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden])))),
)]
#[post("/studios/{id}/admins")]
async fn invite_admin(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<AdminIn>) -> Reply {
    let AdminIn { email, locale } = body.0;
    let invitation = state.invitations.invite(&caller.actor, StudioId(*id), &email, locale).await?;
    accepted(&InvitationOut::of(&invitation))
}

/// Accepts an invitation (the emailed link's token), signed in with the
/// invited address: the caller becomes the studio's admin, on every instance
/// at once, and their address counts as verified.
#[utoipa::path(
    tag = "studios", operation_id = "acceptInvitation", request_body = EmailTokenIn,
    responses((status = 200, description = "The caller, now the studio's admin", body = UserOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[
        C::TokenInvalid, C::TokenExpired, C::TokenUsed, C::InvitationForAnotherAddress, C::AlreadyAdministersAStudio,
    ])))),
)]
#[post("/invitations/accept")]
async fn accept_invitation(state: State, caller: Caller, body: StrictJson<EmailTokenIn>) -> Reply {
    let accepted = state.invitations.accept(caller.user_id(), &body.0.token).await;
    // This instance acts on the new role at once; the others when they hear it.
    state.actors.changed(caller.user_id());
    let accepted = logged(accepted?, "studio.assign_admin");
    ok(&UserOut::of(&accepted.after))
}

/// The studio's pending invitations (its admins and platform admins may read them).
#[utoipa::path(
    tag = "studios", operation_id = "listInvitations",
    params(("id" = i64, Path, description = "Studio id"), StudioQuery),
    responses((status = 200, description = "One page of pending invitations, by id", body = InvitationPage)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/studios/{id}/invitations")]
async fn list_invitations(state: State, caller: Caller, id: web::Path<i64>, query: web::Query<StudioQuery>) -> Reply {
    let limit = limit(query.limit)?;
    let after = query.cursor.as_ref().map(Cursor::id).transpose()?;
    let pending = state.invitations.pending(&caller.actor, StudioId(*id), limit + 1, after).await?;
    let (pending, next_cursor) = split_page(pending, limit, |i| encode_id_cursor(i.id));
    ok(&InvitationPage { items: pending.iter().map(InvitationOut::of).collect(), next_cursor })
}

/// Revokes a pending invitation (platform admins only): its link opens nothing from now on.
#[utoipa::path(
    tag = "studios", operation_id = "revokeInvitation",
    params(("id" = i64, Path, description = "Studio id"), ("invitation_id" = i64, Path, description = "Invitation id")),
    responses((status = 204, description = "Revoked")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::Forbidden])))),
)]
#[delete("/studios/{id}/invitations/{invitation_id}")]
async fn revoke_invitation(state: State, caller: Caller, path: web::Path<(i64, i64)>) -> Reply {
    let (studio, invitation) = path.into_inner();
    state.invitations.revoke(&caller.actor, StudioId(studio), invitation).await?;
    no_content()
}
