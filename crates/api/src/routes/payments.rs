//! Paying for a hold, and the payment provider's webhook (SPEC §13).

use actix_web::{HttpRequest, post, web};
use hothour_domain::Money;
use hothour_domain::ReservationId;
use hothour_domain::payments::{Intent, IntentStatus};
use hothour_domain::reservation::{PaymentStatus, Settlement};
use hothour_infra_stripe::webhook;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{Reply, State, ok};
use crate::auth::Caller;
use crate::dto::schema::Limited;
use crate::dto::{ReservationOut, schema};
use crate::json::StrictJson;
use crate::openapi::rules;
use crate::payments::{PaymentsConfig, payment_method};
use crate::problem::{Problem, ProblemCode, ProblemCode as C};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(checkout).service(stripe_webhook);
}

/// A card to pay with, from Stripe.js.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// A card (`card_…`, from `createToken`) or payment method (`pm_…`) id; the
    /// server attaches it and confirms the payment. Without it, the payment is
    /// only opened (or returned).
    #[schema(schema_with = schema::PaymentMethod::value)]
    pub payment_method: Option<String>,
}

/// What the browser needs to pay for a hold.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckoutOut {
    /// `stripe`.
    pub provider: String,
    /// For Stripe.js's `confirmCardPayment`; null when nothing is to be paid.
    pub client_secret: Option<String>,
    pub publishable_key: String,
    /// Where Stripe.js is loaded from.
    pub js_url: String,
    #[schema(value_type = schema::Money)]
    pub amount: Money,
    /// As `GET /config` gives it.
    pub currency: String,
    /// The reservation's payment status.
    pub status: PaymentStatus,
    /// The card needs the customer (3-D Secure): call `confirmCardPayment(client_secret)`.
    pub requires_action: bool,
    pub reservation: ReservationOut,
}

/// Opens the caller's hold's payment, or returns it; with a card, pays it.
///
/// With payments on, a hold is confirmed only once paid: by this call with a
/// card, by the provider's webhook, or by `confirm` after paying in the
/// browser. A total of zero confirms at once, with no payment.
#[utoipa::path(
    tag = "reservations", operation_id = "payReservation",
    params(("id" = i64, Path, description = "The reservation's id")),
    request_body = PaymentIn,
    responses((status = 200, description = "The payment, and the reservation as it now stands", body = CheckoutOut)),
    extensions(("x-hothour" = json!(rules::signed_in(&[
        C::PaymentsDisabled, C::HoldExpired, C::InvalidState, C::PaymentDeclined, C::PaymentRequired,
        C::PaymentProviderUnavailable,
    ])))),
)]
#[post("/reservations/{id}/payment")]
async fn checkout(state: State, caller: Caller, id: web::Path<i64>, body: StrictJson<PaymentIn>) -> Reply {
    let PaymentsConfig::Stripe(stripe) = &state.config.payments else {
        return Err(Problem::from(hothour_domain::DomainError::PaymentsDisabled));
    };
    let id = ReservationId(id.into_inner());
    let method = payment_method(body.0.payment_method.as_deref())?;
    let paid = state.services.checkout(&caller.actor, id, method).await.inspect_err(|error| {
        if matches!(error, hothour_domain::DomainError::PaymentDeclined(_)) {
            state.metrics.payment_declined();
        }
    })?;
    let reservation = state.reservation_out(&paid.reservation).await?;
    let intent: Option<&Intent> = paid.intent.as_ref();
    ok(&CheckoutOut {
        provider: state.config.payments.provider().to_owned(),
        client_secret: intent.map(|intent| intent.client_secret.clone()),
        publishable_key: stripe.publishable_key.clone(),
        js_url: stripe.js_url.clone(),
        amount: paid.reservation.total_price,
        currency: state.config.currency.clone(),
        status: paid.reservation.payment.status,
        requires_action: intent.is_some_and(|intent| intent.status == IntentStatus::RequiresAction),
        reservation,
    })
}

/// Stripe's events (`payment_intent.succeeded` confirms a paid hold; money
/// for a hold that cannot take it is refunded). Verified by
/// `Stripe-Signature` (HMAC-SHA256, five minutes' tolerance); each event is
/// applied once; other kinds, and payments this service did not open, are
/// acknowledged and ignored. 404 where payments are off.
#[utoipa::path(
    tag = "payments", operation_id = "stripeWebhook",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256>`, as Stripe signs")),
    request_body(content = serde_json::Value, description = "A Stripe event, exactly as sent (the signature covers the raw bytes)"),
    responses((status = 200, description = "Applied, or acknowledged and ignored")),
    extensions(("x-hothour" = json!(rules::public(&[C::BadRequest, C::RouteNotFound])))),
)]
#[post("/payments/stripe/webhook")]
async fn stripe_webhook(state: State, request: HttpRequest, body: web::Bytes) -> Reply {
    // A request without the signature is malformed whatever the deployment takes.
    let Some(header) = request.headers().get("Stripe-Signature").and_then(|value| value.to_str().ok()) else {
        return Err(Problem::new(ProblemCode::BadRequest, "the Stripe-Signature header is required"));
    };
    let PaymentsConfig::Stripe(stripe) = &state.config.payments else {
        return Err(Problem::new(ProblemCode::RouteNotFound, "payments are off: no webhook here"));
    };
    // The tolerance is against the wall clock: Stripe signs with its own.
    let now = chrono::Utc::now().timestamp();
    if let Err(error) = webhook::verify(&body, header, &stripe.webhook_secret, now) {
        tracing::warn!(%error, "refused a Stripe webhook");
        return Err(Problem::new(ProblemCode::BadRequest, format!("Stripe-Signature: {error}")));
    }
    let event =
        webhook::parse_event(&body).map_err(|error| Problem::new(ProblemCode::BadRequest, error.to_string()))?;
    let event_id = event.id.clone();
    match state.services.apply_provider_event(event).await? {
        Some(Settlement::Refund(reason)) => {
            tracing::error!(event = %event_id, ?reason, "a payment that cannot be kept: refunded");
        }
        Some(Settlement::RefundExtra) => {
            tracing::error!(event = %event_id, "a second payment for one reservation: refunded")
        }
        _ => {}
    }
    Ok(actix_web::HttpResponse::Ok().finish())
}
