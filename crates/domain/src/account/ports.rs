//! What the account use cases need besides storage ([`AccountStore`] and
//! [`TokenStore`] in [`crate::ports`]): password hashing, refresh tokens and
//! a way to tell live sessions that they are over.
//!
//! [`AccountStore`]: crate::ports::AccountStore
//! [`TokenStore`]: crate::ports::TokenStore

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::ids::UserId;

/// Hashes and checks passwords (slow on purpose, so off the async executor).
/// A failure to compute is `PasswordHashing`, never a wrong password.
pub trait PasswordHasher: Send + Sync {
    fn hash(&self, password: String) -> impl Future<Output = Result<String, DomainError>> + Send;
    /// Whether `password` matches `hash`; a malformed hash matches nothing.
    fn verify(&self, password: String, hash: String) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

/// Where refresh tokens come from: opaque, unguessable, stored only as hashes.
pub trait RefreshTokens: Send + Sync {
    /// A new token; no randomness is `Randomness`.
    fn draw_refresh_token(&self) -> Result<String, DomainError>;
    /// What a token is stored and looked up under.
    fn refresh_token_hash(&self, token: &str) -> String;
}

/// Why every access token of a user issued so far stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    LogoutAll,
    PasswordChanged,
}

/// Tells live sessions (on every instance) what happened to their sign-in.
pub trait SessionNotices: Send + Sync {
    /// Access tokens of `user` from before session generation `generation` are done for.
    fn sessions_revoked(
        &self,
        user: UserId,
        reason: Revocation,
        generation: i64,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
    /// `user`'s role changed: their sessions must check it again.
    fn role_changed(&self, user: UserId, at: DateTime<Utc>) -> impl Future<Output = Result<(), DomainError>> + Send;
}
