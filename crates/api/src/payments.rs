//! Payments at the edge (SPEC §13): the provider chosen once at start-up
//! (`PAYMENTS=none`, the default, or `stripe`) and what a card id must look
//! like. The routes are in `routes/payments.rs`.

use std::sync::Arc;

use hothour_domain::services::PaymentsSetup;
use hothour_infra_stripe::Stripe;

use crate::config::ConfigError;

/// What a card or payment method id from Stripe.js looks like.
pub const PAYMENT_METHOD_PATTERN: &str = "^(card|pm)_[A-Za-z0-9_]+$";
pub const PAYMENT_METHOD_MAX_BYTES: usize = 255;

/// Checks a payment method id before it goes to the provider.
pub(crate) fn payment_method(method: Option<&str>) -> Result<Option<&str>, hothour_domain::DomainError> {
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
