//! Device tokens (OWASP's "device cookies"): handed out at each sign-in and
//! sent back by that client on later logins, they show the client has signed
//! in to that account before. Such a login is limited by its own budget only,
//! so a stranger guessing the owner's password cannot lock the owner out
//! (see `Limits::check_login`).
//!
//! Stateless: an HS256 JWT signed with `JWT_SECRET`, naming the user, a
//! random device id and a hash of the account's email (so a token is worth
//! nothing for another account, checked before any password is). It grants
//! no access of its own: it is refused as an access token, and an access
//! token is refused as a device token.

use base64::Engine;
use chrono::{DateTime, Utc};
use hothour_domain::account::login_email;
use hothour_domain::{Cause, DomainError, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::problem::Problem;

const DEVICE: &str = "device";

/// How long a device token is honoured: a client that has not signed in for
/// this long is a fresh client again.
pub const DEVICE_TOKEN_TTL: chrono::Duration = chrono::Duration::days(365);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
    typ: String,
    /// The device's id: the key of its own login budget.
    dev: String,
    /// SHA-256 of the account's email as logins normalise it.
    acct: String,
}

/// A client that has signed in to the account before, as its token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user: UserId,
    pub id: String,
}

/// Signs and checks device tokens.
pub struct DeviceTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl DeviceTokens {
    pub fn new(secret: &str) -> DeviceTokens {
        DeviceTokens {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// A token for `user` (whose email is `email`) on the device `known`, or
    /// on a new device when there is none.
    pub fn issue(
        &self,
        user: UserId,
        email: &str,
        known: Option<&Device>,
        now: DateTime<Utc>,
    ) -> Result<String, Problem> {
        let id = match known {
            Some(device) if device.user == user => device.id.clone(),
            _ => new_device_id()?,
        };
        let claims = Claims {
            sub: user.0.to_string(),
            iat: now.timestamp(),
            exp: (now + DEVICE_TOKEN_TTL).timestamp(),
            typ: DEVICE.into(),
            dev: id,
            acct: account_hash(email),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Problem::from(DomainError::TokenSigning(Cause::new(e))))
    }

    /// The device a token names, if it is a valid, unexpired device token for
    /// the account of `email`; anything else (another account's token, a
    /// forged or expired one) is no device at all.
    pub fn verify(&self, token: &str, email: &str, now: DateTime<Utc>) -> Option<Device> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?.claims;
        let fresh = claims.exp > now.timestamp();
        if claims.typ != DEVICE || !fresh || claims.acct != account_hash(email) || claims.dev.is_empty() {
            return None;
        }
        Some(Device { user: UserId(claims.sub.parse().ok()?), id: claims.dev })
    }
}

fn account_hash(email: &str) -> String {
    Sha256::digest(login_email(email).as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn new_device_id() -> Result<String, Problem> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Problem::from(DomainError::Randomness(Cause::message(e.to_string()))))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::TokenKeys;

    const SECRET: &str = "a-test-secret-that-is-long-enough-123";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn a_device_token_names_its_user_and_device_for_its_account_only() {
        let devices = DeviceTokens::new(SECRET);
        let token = devices.issue(UserId(7), "ada@example.com", None, now()).unwrap();
        let device = devices.verify(&token, " ADA@example.com", now()).expect("the same account, as logins read it");
        assert_eq!(device.user, UserId(7));
        assert_eq!(devices.verify(&token, "bob@example.com", now()), None, "another account");
        let again = devices.issue(UserId(7), "ada@example.com", Some(&device), now()).unwrap();
        assert_eq!(devices.verify(&again, "ada@example.com", now()).unwrap().id, device.id, "the same device");
        let other = devices.issue(UserId(7), "ada@example.com", None, now()).unwrap();
        assert_ne!(devices.verify(&other, "ada@example.com", now()).unwrap().id, device.id, "a new device");
    }

    #[test]
    fn expired_forged_and_access_tokens_are_no_device() {
        let devices = DeviceTokens::new(SECRET);
        let token = devices.issue(UserId(7), "ada@example.com", None, now()).unwrap();
        assert_eq!(devices.verify(&token, "ada@example.com", now() + DEVICE_TOKEN_TTL), None);
        let foreign = DeviceTokens::new("another-secret-that-is-long-enough-456");
        assert_eq!(foreign.verify(&token, "ada@example.com", now()), None);
        let keys = TokenKeys::new(SECRET, Duration::from_secs(60), Duration::from_secs(60));
        let access = keys.access_token_at(UserId(7), 0, now()).unwrap();
        assert_eq!(devices.verify(&access, "ada@example.com", now()), None);
        assert_eq!(keys.verify_at(&token, now()), None, "a device token is no access token");
        assert_eq!(devices.verify("garbage", "ada@example.com", now()), None);
    }
}
