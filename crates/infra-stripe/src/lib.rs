//! Stripe behind the domain's [`Payments`] port: a thin typed client over
//! the four calls HotHour makes (create, read and pay a PaymentIntent; refund
//! one), and the webhook's signature check ([`webhook`]).
//!
//! Why not a Stripe client crate: the maintained ones are generated from
//! Stripe's whole API and take minutes to build on two cores, for four
//! form-encoded calls. HTTPS is reqwest over rustls with ring, installed as
//! the process's one crypto provider ([`install_crypto_provider`]).

pub mod webhook;

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use hothour_domain::ids::ReservationId;
use hothour_domain::money::Money;
use hothour_domain::payments::{
    Intent, IntentId, IntentStatus, NewIntent, Payments, PaymentsError, Refund, RefundRequest,
};
use serde::Deserialize;

/// Stripe's API, unless `STRIPE_API_BASE` names another (a local Stripe-compatible server in tests).
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
/// Stripe.js, unless `STRIPE_JS_URL` names another.
pub const DEFAULT_JS_URL: &str = "https://js.stripe.com/v3/";
/// Where Stripe's own Stripe.js opens 3-D Secure pages, in frames.
pub const AUTHENTICATION_FRAMES: &str = "https://hooks.stripe.com";
/// How long one call to Stripe may take before it counts as unavailable.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Currencies Stripe counts in other than hundredths; HotHour's money has exactly two decimals.
const NOT_TWO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    "BHD", "JOD", "KWD", "OMR", "TND",
];

/// Whether Stripe takes amounts of `currency` in hundredths, as HotHour keeps money.
pub fn counts_in_hundredths(currency: &str) -> bool {
    !NOT_TWO_DECIMAL.contains(&currency.to_ascii_uppercase().as_str())
}

/// Makes ring the process's TLS crypto provider, once; every HTTPS client in
/// the process (Stripe's, and any later) uses it.
pub fn install_crypto_provider() {
    // Err only when a provider is installed already, which is what we want.
    // ring, not aws-lc-rs (rustls deprecates ring for lacking post-quantum key
    // exchange): aws-lc-rs needs a C toolchain build of minutes on two cores.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A Stripe account's API, as one deployment configures it.
#[derive(Clone)]
pub struct Stripe {
    http: reqwest::Client,
    api_base: String,
    secret_key: String,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe").field("api_base", &self.api_base).finish_non_exhaustive()
    }
}

impl Stripe {
    pub fn new(secret_key: &str, api_base: &str) -> Result<Stripe, PaymentsError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|error| PaymentsError::Unavailable(format!("cannot build the HTTPS client: {error}")))?;
        Ok(Stripe { http, api_base: api_base.trim_end_matches('/').to_owned(), secret_key: secret_key.to_owned() })
    }

    async fn call(
        &self,
        path: &str,
        form: Option<&[(&str, String)]>,
        idempotency_key: Option<&str>,
    ) -> Result<serde_json::Value, CallError> {
        let url = format!("{}{path}", self.api_base);
        let mut request = match form {
            Some(form) => self.http.post(url).form(form),
            None => self.http.get(url),
        };
        request = request.bearer_auth(&self.secret_key);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|error| CallError::Unavailable(error.to_string()))?;
        let status = response.status();
        let body: serde_json::Value =
            response.json().await.map_err(|error| CallError::Unavailable(format!("unreadable answer: {error}")))?;
        if status.is_success() {
            return Ok(body);
        }
        let error: StripeError = serde_json::from_value(body["error"].clone()).unwrap_or_default();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(CallError::Unavailable(format!("{status}: {}", error.message)));
        }
        if status.as_u16() == 404 {
            return Err(CallError::NotFound);
        }
        Err(CallError::Refused { code: error.code, message: error.message })
    }

    async fn intent_call(
        &self,
        id: Option<&IntentId>,
        path: &str,
        form: Option<&[(&str, String)]>,
        key: Option<&str>,
    ) -> Result<Intent, PaymentsError> {
        let body = self.call(path, form, key).await.map_err(|error| error.about(id))?;
        parse_intent(&body)
    }
}

/// A Stripe answer that is not a success.
enum CallError {
    Unavailable(String),
    NotFound,
    Refused { code: Option<String>, message: String },
}

impl CallError {
    fn about(self, intent: Option<&IntentId>) -> PaymentsError {
        match (self, intent) {
            (CallError::Unavailable(why), _) => PaymentsError::Unavailable(why),
            (CallError::NotFound, Some(id)) => PaymentsError::UnknownIntent(id.clone()),
            (CallError::NotFound, None) => PaymentsError::Refused { code: None, message: "not found".into() },
            (CallError::Refused { code, message }, _) => PaymentsError::Refused { code, message },
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct StripeError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: String,
}

/// The fields of a PaymentIntent HotHour reads.
#[derive(Debug, Deserialize)]
struct StripeIntent {
    id: String,
    #[serde(default)]
    client_secret: Option<String>,
    status: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, String>,
}

/// Stripe's intent statuses in the domain's words.
fn status(stripe: &str) -> Result<IntentStatus, PaymentsError> {
    Ok(match stripe {
        "requires_payment_method" | "requires_confirmation" => IntentStatus::RequiresPayment,
        "requires_action" => IntentStatus::RequiresAction,
        // HotHour captures automatically; an intent waiting for capture is not yet money.
        "processing" | "requires_capture" => IntentStatus::Processing,
        "succeeded" => IntentStatus::Succeeded,
        "canceled" => IntentStatus::Canceled,
        other => return Err(PaymentsError::Unavailable(format!("unknown PaymentIntent status {other:?}"))),
    })
}

/// Reads a PaymentIntent object (from an answer or from a webhook event).
pub fn parse_intent(object: &serde_json::Value) -> Result<Intent, PaymentsError> {
    let unreadable = |why: String| PaymentsError::Unavailable(format!("unreadable PaymentIntent: {why}"));
    let intent: StripeIntent = serde_json::from_value(object.clone()).map_err(|e| unreadable(e.to_string()))?;
    let amount = Money::from_minor_units(intent.amount).map_err(|e| unreadable(e.to_string()))?;
    Ok(Intent {
        id: IntentId(intent.id),
        client_secret: intent.client_secret.unwrap_or_default(),
        status: status(&intent.status)?,
        amount,
        currency: intent.currency.to_ascii_uppercase(),
        reservation: intent.metadata.get(RESERVATION_KEY).and_then(|id| id.parse().ok()).map(ReservationId),
    })
}

/// The metadata key naming the reservation an intent pays for.
const RESERVATION_KEY: &str = "reservation_id";

fn intent_path(id: &IntentId) -> Result<String, PaymentsError> {
    // Ids come from Stripe's answers and webhooks; refuse anything that could leave the path.
    if id.0.is_empty() || !id.0.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(PaymentsError::UnknownIntent(id.clone()));
    }
    Ok(format!("/v1/payment_intents/{}", id.0))
}

impl Payments for Stripe {
    fn provider(&self) -> &'static str {
        "stripe"
    }

    fn create_intent<'a>(&'a self, intent: &'a NewIntent) -> BoxFuture<'a, Result<Intent, PaymentsError>> {
        async move {
            let form = [
                ("amount", intent.amount.minor_units().to_string()),
                ("currency", intent.currency.to_ascii_lowercase()),
                ("payment_method_types[]", "card".to_owned()),
                ("metadata[reservation_id]", intent.reservation.0.to_string()),
            ];
            let key = intent.idempotency_key();
            self.intent_call(None, "/v1/payment_intents", Some(&form), Some(&key)).await
        }
        .boxed()
    }

    fn find_intent<'a>(&'a self, id: &'a IntentId) -> BoxFuture<'a, Result<Intent, PaymentsError>> {
        async move { self.intent_call(Some(id), &intent_path(id)?, None, None).await }.boxed()
    }

    fn pay_with<'a>(&'a self, id: &'a IntentId, method: &'a str) -> BoxFuture<'a, Result<Intent, PaymentsError>> {
        async move {
            let path = intent_path(id)?;
            // Attach, then confirm: two calls, as not every Stripe-compatible
            // server takes a payment method on confirm.
            let attached =
                self.intent_call(Some(id), &path, Some(&[("payment_method", method.to_owned())]), None).await?;
            if attached.status != IntentStatus::RequiresPayment {
                return Ok(attached);
            }
            self.intent_call(Some(id), &format!("{path}/confirm"), Some(&[]), None).await
        }
        .boxed()
    }

    fn refund<'a>(&'a self, refund: &'a RefundRequest) -> BoxFuture<'a, Result<Refund, PaymentsError>> {
        async move {
            let form = [
                ("payment_intent", refund.intent.0.clone()),
                ("amount", refund.amount.minor_units().to_string()),
                ("metadata[reservation_id]", refund.reservation.0.to_string()),
            ];
            let key = refund.idempotency_key();
            let body =
                self.call("/v1/refunds", Some(&form), Some(&key)).await.map_err(|e| e.about(Some(&refund.intent)))?;
            let unreadable = |why: &str| PaymentsError::Unavailable(format!("unreadable refund: {why}"));
            let amount = body["amount"].as_i64().ok_or_else(|| unreadable("no amount"))?;
            Ok(Refund {
                id: body["id"].as_str().ok_or_else(|| unreadable("no id"))?.to_owned(),
                amount: Money::from_minor_units(amount).map_err(|e| unreadable(&e.to_string()))?,
                succeeded: matches!(body["status"].as_str(), Some("succeeded" | "pending")),
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_intent_in_the_domains_words() {
        let intent = parse_intent(&json!({
            "id": "pi_1", "object": "payment_intent", "client_secret": "pi_1_secret_x", "status": "requires_action",
            "amount": 30050, "currency": "try", "metadata": { "reservation_id": "42" }, "latest_charge": null,
        }))
        .unwrap();
        assert_eq!(intent.id, IntentId("pi_1".into()));
        assert_eq!(intent.status, IntentStatus::RequiresAction);
        assert_eq!(intent.amount, Money::parse("300.50").unwrap());
        assert_eq!(intent.currency, "TRY");
        assert_eq!(intent.reservation, Some(ReservationId(42)));
    }

    #[test]
    fn an_intent_this_service_did_not_create_names_no_reservation() {
        let intent = parse_intent(&json!({
            "id": "pi_2", "status": "succeeded", "amount": 100, "currency": "usd", "metadata": {},
        }))
        .unwrap();
        assert_eq!(intent.reservation, None);
    }

    #[test]
    fn every_stripe_status_has_a_word_and_an_unknown_one_is_refused() {
        for (stripe, ours) in [
            ("requires_payment_method", IntentStatus::RequiresPayment),
            ("requires_confirmation", IntentStatus::RequiresPayment),
            ("requires_action", IntentStatus::RequiresAction),
            ("processing", IntentStatus::Processing),
            ("requires_capture", IntentStatus::Processing),
            ("succeeded", IntentStatus::Succeeded),
            ("canceled", IntentStatus::Canceled),
        ] {
            assert_eq!(status(stripe).unwrap(), ours, "{stripe}");
        }
        assert!(status("requires_magic").is_err());
    }

    #[test]
    fn intent_ids_that_could_leave_the_path_are_refused() {
        assert!(intent_path(&IntentId("pi_3Abc".into())).is_ok());
        for bad in ["", "../v1/refunds", "pi_1/confirm", "pi_1?x=1"] {
            assert!(intent_path(&IntentId(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn lira_counts_in_hundredths_and_yen_does_not() {
        assert!(counts_in_hundredths("TRY"));
        assert!(counts_in_hundredths("eur"));
        assert!(!counts_in_hundredths("JPY"));
        assert!(!counts_in_hundredths("KWD"));
    }
}
