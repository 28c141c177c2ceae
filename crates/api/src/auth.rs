//! Access tokens (HS256 JWTs), refresh tokens (opaque, stored hashed),
//! passwords (bcrypt, off the async executor) and the `Caller` extractor.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use base64::Engine;
use chrono::{DateTime, Utc};
use hothour_domain::account::{SignedIn, User};
use hothour_domain::ports::{PasswordHasher, RefreshTokens};
use hothour_domain::{Actor, Cause, DomainError, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::dto::{TokensOut, UserOut};
use crate::problem::{Problem, ProblemCode};

const ACCESS: &str = "access";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
    /// `iat` to the microsecond, so that a revocation in the same second as a
    /// sign-in can tell which came first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat_us: Option<i64>,
    /// The user's session generation when the token was issued (tokens from
    /// before generations existed are of the first, 0).
    #[serde(default, rename = "gen")]
    generation: i64,
    typ: String,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &str, access_ttl: Duration, refresh_ttl: Duration) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            access_ttl,
            refresh_ttl,
        }
    }

    /// An access token for `user` in session generation `generation`, issued now.
    pub fn access_token(&self, user: UserId, generation: i64) -> Result<String, Problem> {
        self.access_token_at(user, generation, Utc::now())
    }

    /// An access token for `user` in session generation `generation`, issued
    /// at `now` (the service's clock, so that its expiry moves with the clock
    /// a test moves).
    pub fn access_token_at(&self, user: UserId, generation: i64, now: DateTime<Utc>) -> Result<String, Problem> {
        let claims = Claims {
            sub: user.0.to_string(),
            iat: now.timestamp(),
            iat_us: Some(now.timestamp_micros()),
            exp: now.timestamp() + self.access_ttl.as_secs() as i64,
            generation,
            typ: ACCESS.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Problem::from(DomainError::TokenSigning(Cause::new(e))))
    }

    /// The session an access token stands for, if it is a valid HS256 access
    /// token that has not expired at `now`. The live socket checks expiry on
    /// the service's clock (which tests move), HTTP on the wall clock.
    pub fn verify_at(&self, token: &str, now: DateTime<Utc>) -> Option<AccessToken> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?.claims;
        let expires_at = DateTime::from_timestamp(claims.exp, 0)?;
        if claims.typ != ACCESS || expires_at <= now {
            return None;
        }
        let issued_at = match claims.iat_us {
            Some(micros) => DateTime::from_timestamp_micros(micros)?,
            None => DateTime::from_timestamp(claims.iat, 0)?,
        };
        let user = claims.sub.parse().ok().map(UserId)?;
        Some(AccessToken { user, issued_at, expires_at, generation: claims.generation })
    }
}

/// What an access token says about its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessToken {
    pub user: UserId,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The user's session generation it was issued in.
    pub generation: i64,
}

impl AccessToken {
    /// Whether the user has signed out everywhere (or changed the password)
    /// since this token was issued: they are now in generation `current`.
    pub fn revoked_by(&self, current: i64) -> bool {
        self.generation < current
    }
}

pub fn token_revoked() -> Problem {
    Problem::new(
        ProblemCode::TokenRevoked,
        "this token was signed out (everywhere, or by a password change): sign in again",
    )
}

pub fn unauthorized(detail: &str) -> Problem {
    Problem::new(ProblemCode::Unauthorized, detail)
}

/// Refresh tokens drawn from the operating system's CSPRNG, stored as SHA-256 hashes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomRefreshTokens;

impl RefreshTokens for RandomRefreshTokens {
    fn draw_refresh_token(&self) -> Result<String, DomainError> {
        Ok(format!("rt_{}", random_url_safe()?))
    }

    fn refresh_token_hash(&self, token: &str) -> String {
        Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn draw_mail_token(&self) -> Result<String, DomainError> {
        Ok(format!("mt_{}", random_url_safe()?))
    }
}

/// 32 random bytes, base64url without padding (safe in a link).
fn random_url_safe() -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| DomainError::Randomness(Cause::message(e.to_string())))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The tokens a sign-in answers with: the access token signed here, as of
/// the instant the sign-in was decided.
pub fn tokens_out(keys: &TokenKeys, signed_in: SignedIn) -> Result<TokensOut, Problem> {
    Ok(TokensOut {
        access_token: keys.access_token_at(signed_in.user.id, signed_in.user.session_generation, signed_in.at)?,
        refresh_token: signed_in.refresh_token,
        token_type: crate::dto::TokenType::Bearer,
        expires_in: keys.access_ttl.as_secs(),
        user: UserOut::of(&signed_in.user),
    })
}

/// bcrypt at a configured cost, run on the blocking pool.
#[derive(Debug, Clone, Copy)]
pub struct Bcrypt {
    pub cost: u32,
}

impl PasswordHasher for Bcrypt {
    async fn hash(&self, password: String) -> Result<String, DomainError> {
        let cost = self.cost;
        tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
            .await
            .map_err(|e| DomainError::PasswordHashing(Cause::new(e)))?
            .map_err(|e| DomainError::PasswordHashing(Cause::new(e)))
    }

    async fn verify(&self, password: String, hash: String) -> Result<bool, DomainError> {
        tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
            .map_err(|e| DomainError::PasswordHashing(Cause::new(e)))
    }
}

/// Hashes a password with bcrypt at `cost`, on the blocking pool.
pub async fn hash_password(password: String, cost: u32) -> Result<String, DomainError> {
    Bcrypt { cost }.hash(password).await
}

/// The longest a caller's role is served from memory. A change of role is
/// heard through the outbox and takes effect at once; this bounds the case
/// where a role change committed but its announcement could not be written.
pub const ACTOR_TTL: chrono::Duration = chrono::Duration::seconds(30);

/// What is remembered of a signed-in user between their requests: whom they
/// act as, and their session generation (tokens of earlier ones are refused).
/// Kept until a change of role or a revocation is heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownUser {
    pub actor: Actor,
    pub session_generation: i64,
}

impl From<&User> for KnownUser {
    fn from(user: &User) -> KnownUser {
        KnownUser { actor: user.actor(), session_generation: user.session_generation }
    }
}

/// The authenticated caller: the token's user, with the role and studio they
/// act with (kept in memory until a change of role is heard).
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub actor: Actor,
}

impl Caller {
    pub fn user_id(&self) -> UserId {
        self.actor.user_id
    }
}

impl FromRequest for Caller {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, Problem>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| unauthorized("no application state"))?;
            let header = header.ok_or_else(|| unauthorized("sign in: send Authorization: Bearer <access token>"))?;
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <access token>`"))?;
            let token = state
                .keys
                .verify_at(token.trim(), Utc::now())
                .ok_or_else(|| unauthorized("the access token is invalid or expired"))?;
            let now = state.now();
            let read =
                async { Ok::<_, DomainError>(state.accounts.user(token.user).await?.as_ref().map(KnownUser::from)) };
            let known = state.actors.get_or_read(token.user, now, read, |_| Some(now + ACTOR_TTL)).await?;
            let known = known.ok_or_else(|| unauthorized("the account no longer exists"))?;
            if token.revoked_by(known.session_generation) {
                return Err(token_revoked());
            }
            Ok(Caller { actor: known.actor })
        })
    }
}

/// A caller if a valid token was sent, else nobody (for public reads).
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<MaybeCaller, Problem>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().get("authorization").is_none() {
            return Box::pin(async { Ok(MaybeCaller(None)) });
        }
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { caller.await.map(|c| MaybeCaller(Some(c))) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new("a-test-secret-that-is-long-enough-123", Duration::from_secs(60), Duration::from_secs(600))
    }

    #[test]
    fn access_tokens_round_trip() {
        let token = keys().access_token(UserId(42), 3).unwrap();
        let session = keys().verify_at(&token, Utc::now()).expect("valid");
        assert_eq!((session.user, session.generation), (UserId(42), 3));
        assert!(!session.revoked_by(3));
        assert!(session.revoked_by(4), "a later generation refuses it");
    }

    #[test]
    fn a_token_expires_on_the_clock_it_is_checked_against() {
        let issued = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let token = keys().access_token_at(UserId(7), 0, issued).unwrap();
        let session = keys().verify_at(&token, issued).expect("valid when issued");
        assert_eq!(session.user, UserId(7));
        assert_eq!(session.issued_at, issued);
        assert_eq!(session.expires_at, issued + chrono::Duration::seconds(60));
        assert!(keys().verify_at(&token, issued + chrono::Duration::seconds(59)).is_some());
        assert_eq!(keys().verify_at(&token, issued + chrono::Duration::seconds(60)), None);
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let token = keys().access_token(UserId(42), 0).unwrap();
        let verify = |keys: &TokenKeys, token: &str| keys.verify_at(token, Utc::now()).map(|session| session.user);
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(verify(&keys(), &tampered), None);
        let other =
            TokenKeys::new("another-secret-that-is-long-enough-456", Duration::from_secs(60), Duration::from_secs(1));
        assert_eq!(verify(&other, &token), None);
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = engine.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = engine.encode(format!(r#"{{"sub":"42","exp":{},"iat":0,"typ":"access"}}"#, i64::MAX / 2));
        assert_eq!(verify(&keys(), &format!("{header}.{payload}.")), None);
        let refresh = RandomRefreshTokens.draw_refresh_token().unwrap();
        assert_eq!(verify(&keys(), &refresh), None);
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let tokens = RandomRefreshTokens;
        let (a, b) = (tokens.draw_refresh_token().unwrap(), tokens.draw_refresh_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("rt_"));
        let hash_a = tokens.refresh_token_hash(&a);
        assert_eq!(hash_a, tokens.refresh_token_hash(&a));
        assert_ne!(hash_a, tokens.refresh_token_hash(&b));
        assert_eq!(hash_a.len(), 64);
        // SHA-256 in lower-case hex: the form tokens already stored are kept in.
        assert_eq!(
            tokens.refresh_token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
