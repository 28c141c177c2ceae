//! Price alerts (`POST /auctions/{id}/alerts`, `GET /me/alerts`, `DELETE
//! /alerts/{id}`), the optional email a user gets (`/me/mail-preferences`)
//! and the one-click unsubscribe link those messages carry (RFC 8058).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use hothour_domain::alerts::AlertStore;
use hothour_domain::mail::MailKind;
use hothour_domain::{AlertId, AuctionId, DomainError, UserId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, client_key, created, no_content, ok};
use crate::AppState;
use crate::auth::Caller;
use crate::dto::{
    MailPreferencesOut, MailPreferencesPatch, OptionalMail, PriceAlertIn, PriceAlertOut, UnsubscribedOut,
};
use crate::json::StrictJson;
use crate::openapi::rules;
use crate::problem::{Problem, ProblemCode as C};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_alert)
        .service(my_alerts)
        .service(delete_alert)
        .service(mail_preferences)
        .service(update_mail_preferences)
        .service(unsubscribe)
        .service(unsubscribe_page);
}

/// Asks to be told — a `price_alert` frame on `user:{id}` and an email —
/// when the auction is on sale (ACTIVE, not held) at or below `below`: at
/// once if it already is, else when its price steps there or a hold on it
/// lapses below it. One alert per user and auction; it is gone once fired
/// or when the auction ends.
#[utoipa::path(
    tag = "alerts", operation_id = "createPriceAlert",
    params(("id" = i64, Path, description = "Auction id")),
    request_body(content = PriceAlertIn, example = json!({ "below": "150.00" })),
    responses((status = 201, description = "The alert (`fired`: it went off at once and is gone)", body = PriceAlertOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[
        C::BookingNotAllowed, C::NotFound, C::AuctionClosed, C::PriceAlertExists,
    ])))),
)]
#[post("/auctions/{id}/alerts")]
async fn create_alert(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<PriceAlertIn>) -> Reply {
    state.limits.check_write(caller.user_id().0)?;
    let auction = AuctionId(*id);
    let (alert, fired) = state.services.create_price_alert(&caller.actor, auction, body.0.below).await?;
    let (record, _) = state.services.get_auction(auction).await?;
    created(&PriceAlertOut::of(&alert, fired, state.auction_out_now(&record).await?))
}

/// The caller's price alerts waiting to fire, newest first.
#[utoipa::path(
    tag = "alerts", operation_id = "listMyPriceAlerts",
    responses((status = 200, description = "The alerts, each with its auction now", body = Vec<PriceAlertOut>)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/me/alerts")]
async fn my_alerts(state: State, caller: Caller) -> Reply {
    let mut answers = Vec::new();
    for alert in state.services.my_price_alerts(&caller.actor).await? {
        match state.services.get_auction(alert.auction_id).await {
            Ok((record, _)) => answers.push(PriceAlertOut::of(&alert, false, state.auction_out_now(&record).await?)),
            // Deleted since it was read: its alert went with it.
            Err(DomainError::NotFound(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    ok(&answers)
}

/// Removes one of the caller's price alerts (another's is not found).
#[utoipa::path(
    tag = "alerts", operation_id = "deletePriceAlert",
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 204, description = "Removed")),
    extensions(("x-hothour" = json!(rules::signed_in(&[C::NotFound])))),
)]
#[delete("/alerts/{id}")]
async fn delete_alert(state: State, caller: Caller, id: web::Path<i64>) -> Reply {
    state.services.delete_price_alert(&caller.actor, AlertId(*id)).await?;
    no_content()
}

async fn preferences_of(state: &AppState, user: UserId) -> Result<MailPreferencesOut, Problem> {
    let opted_out = state.store.mail_opt_outs(user).await?;
    Ok(MailPreferencesOut {
        booking_reminder: !opted_out.contains(&MailKind::BookingReminder),
        price_alert: !opted_out.contains(&MailKind::PriceAlert),
    })
}

/// Which optional email the caller gets (reminders, price alerts).
#[utoipa::path(
    tag = "me", operation_id = "getMailPreferences",
    responses((status = 200, description = "The preferences", body = MailPreferencesOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[get("/me/mail-preferences")]
async fn mail_preferences(state: State, caller: Caller) -> Reply {
    ok(&preferences_of(&state, caller.user_id()).await?)
}

/// Turns reminders or price-alert email on or off.
#[utoipa::path(
    tag = "me", operation_id = "updateMailPreferences",
    request_body(content = MailPreferencesPatch, example = json!({ "booking_reminder": false })),
    responses((status = 200, description = "The preferences now", body = MailPreferencesOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[])))),
)]
#[patch("/me/mail-preferences")]
async fn update_mail_preferences(state: State, caller: Caller, body: StrictJson<MailPreferencesPatch>) -> Reply {
    let user = caller.user_id();
    let changes = [(MailKind::BookingReminder, body.0.booking_reminder), (MailKind::PriceAlert, body.0.price_alert)];
    for (kind, wanted) in changes {
        if let Some(wanted) = wanted {
            state.store.set_mail_wanted(user, kind, wanted, state.now()).await?;
        }
    }
    ok(&preferences_of(&state, user).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UnsubscribeQuery {
    /// The token of the link in the email.
    token: String,
}

/// One click (RFC 8058: a mail client posts `List-Unsubscribe=One-Click` to
/// the email's `List-Unsubscribe` link; the web client's `/unsubscribe`
/// page, linked from the email's text, posts the same): stops that kind of
/// email to the link's user. Any body is ignored. Saying it again changes
/// nothing. Only a POST stops anything, so a scanner following links cannot.
#[utoipa::path(
    tag = "me", operation_id = "unsubscribe", params(UnsubscribeQuery),
    responses((status = 200, description = "What was stopped", body = UnsubscribedOut)),
    extensions(("x-hothour" = json!(rules::public(&[C::RateLimited])))),
)]
#[post("/mail/unsubscribe")]
async fn unsubscribe(state: State, req: HttpRequest, query: web::Query<UnsubscribeQuery>) -> Reply {
    state.limits.check_auth(client_key(&req))?;
    let (user, kind) = unsubscribe_token(&state, &query.token)?;
    match state.store.set_mail_wanted(user, kind, false, state.now()).await {
        // The account was deleted since: nothing is sent to it anyway.
        Ok(()) | Err(DomainError::NotFound(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let kind = if kind == MailKind::PriceAlert { OptionalMail::PriceAlert } else { OptionalMail::BookingReminder };
    ok(&UnsubscribedOut { kind })
}

/// The same link opened in a browser (what a mail client without one-click
/// does with it): sent on to the web client's `/unsubscribe` page, which
/// asks and then posts. A GET stops nothing.
#[utoipa::path(
    tag = "me", operation_id = "openUnsubscribeLink", params(UnsubscribeQuery),
    responses((status = 303, description = "To the web client's page for this link",
        headers(("Location" = String, description = "`{PUBLIC_URL}/unsubscribe?token=…`")))),
    extensions(("x-hothour" = json!(rules::public(&[C::RateLimited])))),
)]
#[get("/mail/unsubscribe")]
async fn unsubscribe_page(state: State, req: HttpRequest, query: web::Query<UnsubscribeQuery>) -> Reply {
    state.limits.check_auth(client_key(&req))?;
    // Only a token of ours goes into the header: it is URL-safe by construction.
    unsubscribe_token(&state, &query.token)?;
    let page = format!("{}/unsubscribe?token={}", state.mail.public_url, query.token);
    Ok(HttpResponse::SeeOther().insert_header(("Location", page)).finish())
}

/// The user and kind of message an unsubscribe link's token names, if it is one of ours.
fn unsubscribe_token(state: &AppState, token: &str) -> Result<(UserId, MailKind), DomainError> {
    crate::unsubscribe::verify(&state.config.sign_in.jwt_secret, token)
        .ok_or_else(|| DomainError::validation("token", "is not an unsubscribe link of ours"))
}
