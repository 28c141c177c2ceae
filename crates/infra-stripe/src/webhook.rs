//! Stripe's webhooks: the `Stripe-Signature` check and the event's reading.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`; each `v1`
//! is HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint's secret (several
//! while a secret is being rolled). Any one matching, compared in constant
//! time, with `t` within the tolerance of the wall clock, verifies it.

use hmac::{Hmac, Mac};
use hothour_domain::payments::{ProviderEvent, ProviderEventKind};
use sha2::Sha256;

use crate::parse_intent;

/// How far a signature's timestamp may be from now (Stripe's default).
pub const TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header, or one without a timestamp and a v1 signature")]
    Malformed,
    #[error("no v1 signature matches")]
    NoMatch,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

/// Verifies `header` for `payload` under `secret` at `now` (unix seconds).
pub fn verify(payload: &[u8], header: &str, secret: &str, now: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            // A v1 value that is not hex cannot match; it does not spoil the others.
            Some(("v1", value)) => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let signed = |signature: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac.verify_slice(signature).is_ok()
    };
    // Every candidate is checked, so the time taken says nothing about which matched.
    let matched = signatures.iter().fold(false, |matched, signature| signed(signature) | matched);
    if !matched {
        return Err(SignatureError::NoMatch);
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The signature of `payload` at `timestamp` under `secret`, as Stripe sends it
/// (for tests that stage webhooks).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Stripe event: {0}")]
pub struct UnreadableEvent(String);

/// Reads a verified event body.
pub fn parse_event(payload: &[u8]) -> Result<ProviderEvent, UnreadableEvent> {
    let event: serde_json::Value = serde_json::from_slice(payload).map_err(|e| UnreadableEvent(e.to_string()))?;
    let id = event["id"].as_str().ok_or_else(|| UnreadableEvent("no id".into()))?.to_owned();
    let kind = event["type"].as_str().ok_or_else(|| UnreadableEvent("no type".into()))?;
    let object = &event["data"]["object"];
    let intent = || parse_intent(object).map_err(|e| UnreadableEvent(e.to_string()));
    let kind = match kind {
        "payment_intent.succeeded" => ProviderEventKind::PaymentSucceeded(intent()?),
        "payment_intent.payment_failed" => ProviderEventKind::PaymentFailed(intent()?),
        other => ProviderEventKind::Other(other.to_owned()),
    };
    Ok(ProviderEvent { id, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const AT: i64 = 1_800_000_000;
    /// Computed outside Rust: python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test_secret",
    /// b"1800000000.{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\"}",hashlib.sha256).hexdigest())'
    const KNOWN: &str = "334f9dbfd609cf6c38f112f028756732c80faa7fdbeab117549d6303a5dcf896";

    #[test]
    fn a_signature_made_elsewhere_verifies() {
        assert_eq!(verify(BODY, &format!("t={AT},v1={KNOWN}"), SECRET, AT), Ok(()));
        assert_eq!(sign(BODY, SECRET, AT), format!("t={AT},v1={KNOWN}"));
    }

    #[test]
    fn any_of_several_v1_signatures_verifies_and_v0_is_ignored() {
        let header = format!("t={AT},v0={KNOWN},v1={},v1={KNOWN}", "00".repeat(32));
        assert_eq!(verify(BODY, &header, SECRET, AT), Ok(()));
        let only_v0 = format!("t={AT},v0={KNOWN}");
        assert_eq!(verify(BODY, &only_v0, SECRET, AT), Err(SignatureError::Malformed));
    }

    #[test]
    fn a_changed_body_another_secret_or_a_bad_header_fails() {
        let header = sign(BODY, SECRET, AT);
        assert_eq!(verify(b"{}", &header, SECRET, AT), Err(SignatureError::NoMatch));
        assert_eq!(verify(BODY, &header, "whsec_other", AT), Err(SignatureError::NoMatch));
        for bad in ["", "v1=abc", &format!("t={AT}"), "t=soon,v1=00"] {
            assert_eq!(verify(BODY, bad, SECRET, AT), Err(SignatureError::Malformed), "{bad:?}");
        }
        assert_eq!(verify(BODY, &format!("t={AT},v1=zz"), SECRET, AT), Err(SignatureError::Malformed));
    }

    #[test]
    fn a_signature_older_or_newer_than_five_minutes_is_stale() {
        let header = sign(BODY, SECRET, AT);
        assert_eq!(verify(BODY, &header, SECRET, AT + TOLERANCE_SECONDS), Ok(()));
        assert_eq!(verify(BODY, &header, SECRET, AT - TOLERANCE_SECONDS), Ok(()));
        assert_eq!(verify(BODY, &header, SECRET, AT + TOLERANCE_SECONDS + 1), Err(SignatureError::Stale));
        assert_eq!(verify(BODY, &header, SECRET, AT - TOLERANCE_SECONDS - 1), Err(SignatureError::Stale));
    }

    #[test]
    fn reads_a_succeeded_payment_and_passes_over_other_kinds() {
        let succeeded = br#"{"id":"evt_2","type":"payment_intent.succeeded","data":{"object":{
            "id":"pi_9","status":"succeeded","amount":15000,"currency":"try","metadata":{"reservation_id":"5"}}}}"#;
        let event = parse_event(succeeded).unwrap();
        assert_eq!(event.id, "evt_2");
        let ProviderEventKind::PaymentSucceeded(intent) = event.kind else { panic!("{:?}", event.kind) };
        assert_eq!(intent.amount.to_string(), "150.00");
        let other = parse_event(br#"{"id":"evt_3","type":"customer.created","data":{"object":{}}}"#).unwrap();
        assert_eq!(other.kind, ProviderEventKind::Other("customer.created".into()));
        assert!(parse_event(b"not json").is_err());
    }
}
