//! Payments at the edge (SPEC §13): the provider chosen once at start-up
//! (`PAYMENTS=none`, the default, or `stripe`), the checkout route and the
//! provider's webhook.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, post, web};
use hothour_domain::payments::{Intent, IntentStatus};
use hothour_domain::reservation::{PaymentStatus, Settlement};
use hothour_domain::services::PaymentsSetup;
use hothour_domain::{Money, ReservationId};
use hothour_infra_stripe::{Stripe, webhook};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::auth::Caller;
use crate::config::ConfigError;
use crate::dto::schema::Limited;
use crate::dto::{ReservationOut, schema};
use crate::json::StrictJson;
use crate::problem::{Problem, ProblemCode};

/// What a card or payment method id from Stripe.js looks like.
pub const PAYMENT_METHOD_PATTERN: &str = "^(card|pm)_[A-Za-z0-9_]+$";
pub const PAYMENT_METHOD_MAX_BYTES: usize = 255;

/// Checks a payment method id before it goes to the provider.
fn payment_method(method: Option<&str>) -> Result<Option<&str>, hothour_domain::DomainError> {
    let Some(method) = method else { return Ok(None) };
    let known = ["card_", "pm_"].iter().any(|prefix| {
        method
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    });
    if known && method.len() <= PAYMENT_METHOD_MAX_BYTES {
        Ok(Some(method))
    } else {
        Err(hothour_domain::DomainError::validation("payment_method", "must be a card_… or pm_… id from Stripe.js"))
    }
}

/// The provider a deployment takes payments through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentsConfig {
    /// Confirm books with no payment; the client says "pay at the studio".
    Off,
    Stripe(StripeConfig),
}

#[derive(Clone, PartialEq, Eq)]
pub struct StripeConfig {
    pub secret_key: String,
    pub publishable_key: String,
    pub webhook_secret: String,
    pub api_base: String,
    pub js_url: String,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("publishable_key", &self.publishable_key)
            .field("api_base", &self.api_base)
            .field("js_url", &self.js_url)
            .finish_non_exhaustive()
    }
}

impl PaymentsConfig {
    /// Reads `PAYMENTS` and, for Stripe, every `STRIPE_*` variable: a
    /// half-configured Stripe is refused at start.
    pub fn read(get: impl Fn(&str) -> String, currency: &str) -> Result<PaymentsConfig, ConfigError> {
        let invalid = |name: &'static str, reason: String| ConfigError::Invalid { name, reason };
        match get("PAYMENTS").as_str() {
            "none" => Ok(PaymentsConfig::Off),
            "stripe" => {
                let required = |name: &'static str| {
                    let value = get(name);
                    if value.is_empty() {
                        Err(invalid(name, "is required with PAYMENTS=stripe".into()))
                    } else {
                        Ok(value)
                    }
                };
                let url = |name: &'static str| {
                    let value = get(name);
                    // Its origin stands in the Content-Security-Policy as it is.
                    if crate::security_headers::origin(&value).is_some() {
                        Ok(value)
                    } else {
                        Err(invalid(name, format!("expected an http(s) URL with a plain host, got {value:?}")))
                    }
                };
                if !hothour_infra_stripe::counts_in_hundredths(currency) {
                    return Err(invalid(
                        "CURRENCY",
                        format!(
                            "Stripe counts {currency} in other than hundredths; HotHour's amounts have two decimals"
                        ),
                    ));
                }
                Ok(PaymentsConfig::Stripe(StripeConfig {
                    secret_key: required("STRIPE_SECRET_KEY")?,
                    publishable_key: required("STRIPE_PUBLISHABLE_KEY")?,
                    webhook_secret: required("STRIPE_WEBHOOK_SECRET")?,
                    api_base: url("STRIPE_API_BASE")?,
                    js_url: url("STRIPE_JS_URL")?,
                }))
            }
            other => Err(invalid("PAYMENTS", format!("expected none or stripe, got {other:?}"))),
        }
    }

    /// The provider for the use cases, if payments are on.
    pub fn setup(&self, currency: &str) -> Result<Option<PaymentsSetup>, String> {
        match self {
            PaymentsConfig::Off => Ok(None),
            PaymentsConfig::Stripe(stripe) => {
                let client = Stripe::new(&stripe.secret_key, &stripe.api_base).map_err(|e| e.to_string())?;
                Ok(Some(PaymentsSetup { provider: Arc::new(client), currency: currency.to_owned() }))
            }
        }
    }

    /// What `GET /config` tells clients.
    pub fn out(&self) -> crate::dto::PaymentsConfigOut {
        let stripe = match self {
            PaymentsConfig::Off => None,
            PaymentsConfig::Stripe(stripe) => Some(stripe),
        };
        crate::dto::PaymentsConfigOut {
            provider: self.provider().to_owned(),
            publishable_key: stripe.map(|s| s.publishable_key.clone()),
            js_url: stripe.map(|s| s.js_url.clone()),
        }
    }

    /// The provider's name as clients see it.
    pub fn provider(&self) -> &'static str {
        match self {
            PaymentsConfig::Off => "none",
            PaymentsConfig::Stripe(_) => "stripe",
        }
    }
}

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
    security(("bearer" = []))
)]
#[post("/reservations/{id}/payment")]
async fn checkout(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: StrictJson<PaymentIn>,
) -> Result<HttpResponse, Problem> {
    let PaymentsConfig::Stripe(stripe) = &state.config.payments else {
        return Err(Problem::from(hothour_domain::DomainError::PaymentsDisabled));
    };
    let id = ReservationId(id.into_inner());
    let method = payment_method(body.0.payment_method.as_deref())?;
    let paid = state.services.checkout(&caller.actor, id, method).await?;
    let reservation = state.reservation_outs(std::slice::from_ref(&paid.reservation)).await?.remove(0);
    let intent: Option<&Intent> = paid.intent.as_ref();
    Ok(HttpResponse::Ok().json(CheckoutOut {
        provider: state.config.payments.provider().to_owned(),
        client_secret: intent.map(|intent| intent.client_secret.clone()),
        publishable_key: stripe.publishable_key.clone(),
        js_url: stripe.js_url.clone(),
        amount: paid.reservation.total_price,
        currency: state.config.currency.clone(),
        status: paid.reservation.payment.status,
        requires_action: intent.is_some_and(|intent| intent.status == IntentStatus::RequiresAction),
        reservation,
    }))
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
    responses((status = 200, description = "Applied, or acknowledged and ignored"))
)]
#[post("/payments/stripe/webhook")]
async fn stripe_webhook(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let PaymentsConfig::Stripe(stripe) = &state.config.payments else {
        return Err(Problem::new(ProblemCode::RouteNotFound, "payments are off: no webhook here"));
    };
    let header = request.headers().get("Stripe-Signature").and_then(|value| value.to_str().ok()).unwrap_or("");
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
    Ok(HttpResponse::Ok().finish())
}
