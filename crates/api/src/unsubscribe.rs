//! One-click unsubscribe links (RFC 8058) in reminders and price-alert
//! email: a token naming the user and the kind of message, signed (HS256)
//! with `JWT_SECRET`. It grants nothing but stopping that kind of message,
//! so it does not expire; it is refused as any other token.

use chrono::{DateTime, Utc};
use hothour_domain::mail::MailKind;
use hothour_domain::{Cause, DomainError, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const UNSUBSCRIBE: &str = "unsubscribe";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    typ: String,
    /// The kind of message it stops (`booking_reminder`, `price_alert`).
    kind: String,
}

/// A token stopping `kind` of message to `user`.
pub fn token(secret: &str, user: UserId, kind: MailKind, now: DateTime<Utc>) -> Result<String, DomainError> {
    let claims =
        Claims { sub: user.0.to_string(), iat: now.timestamp(), typ: UNSUBSCRIBE.into(), kind: kind.as_str().into() };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|e| DomainError::TokenSigning(Cause::new(e)))
}

/// The user and the optional kind of message a token names, if it is one
/// of ours.
pub fn verify(secret: &str, token: &str) -> Option<(UserId, MailKind)> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["sub"]);
    let claims =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).ok()?.claims;
    if claims.typ != UNSUBSCRIBE {
        return None;
    }
    let kind = MailKind::parse(&claims.kind).filter(|kind| kind.is_optional())?;
    Some((UserId(claims.sub.parse().ok()?), kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-123";

    #[test]
    fn a_token_names_its_user_and_kind_and_nothing_else_passes() {
        let now = Utc::now();
        let token = token(SECRET, UserId(7), MailKind::PriceAlert, now).unwrap();
        assert_eq!(verify(SECRET, &token), Some((UserId(7), MailKind::PriceAlert)));
        assert_eq!(verify("another-secret-that-is-long-enough-456", &token), None);
        assert_eq!(verify(SECRET, &format!("{token}x")), None);
        let compulsory = super::token(SECRET, UserId(7), MailKind::BookingConfirmed, now).unwrap();
        assert_eq!(verify(SECRET, &compulsory), None, "only optional kinds can be stopped");
        let access =
            crate::auth::TokenKeys::new(SECRET, std::time::Duration::from_secs(60), std::time::Duration::from_secs(60))
                .access_token(UserId(7), 0)
                .unwrap();
        assert_eq!(verify(SECRET, &access), None, "an access token is no unsubscribe link");
    }
}
