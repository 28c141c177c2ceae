//! What the account use cases need besides storage ([`AccountStore`] and
//! [`TokenStore`] in [`crate::ports`]): password hashing, refresh tokens and
//! a way to tell live sessions that they are over.
//!
//! [`AccountStore`]: crate::ports::AccountStore
//! [`TokenStore`]: crate::ports::TokenStore

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::account::mailbox::{AcceptedInvitation, Invitation, NewEmailedToken, NewInvitation};
use crate::account::model::{NewUser, User};
use crate::error::DomainError;
use crate::ids::{StudioId, UserId};

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
    /// A new token to email (a verification or reset link, an invitation):
    /// as unguessable as a refresh token, stored by the same hash.
    fn draw_mail_token(&self) -> Result<String, DomainError>;
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

/// Where emailed tokens and studio invitations are kept, each written with
/// the message that carries it in one transaction (SPEC §7, §14).
pub trait MailboxStore: Send + Sync {
    /// Creates a user (as [`crate::ports::AccountStore::create_user`]) with
    /// `token` for them and its message.
    fn create_user_with_token(
        &self,
        user: NewUser,
        token: NewEmailedToken,
    ) -> impl Future<Output = Result<User, DomainError>> + Send;
    /// Stores `token` for `user` and records its message.
    fn issue_emailed_token(
        &self,
        user: UserId,
        token: NewEmailedToken,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
    /// Uses the verification token stored as `token_hash`: the user's address
    /// is verified from `now` (if it was not already). Answers the user.
    fn verify_email(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<User, DomainError>> + Send;
    /// Uses the password reset token stored as `token_hash`: the password
    /// becomes `password_hash`, every refresh token of the user is revoked and
    /// they move to the next session generation, their address is verified
    /// and their other reset tokens are used up, atomically. Answers the user
    /// and that generation.
    fn reset_password(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(UserId, i64), DomainError>> + Send;
    /// Stores an invitation and records its message; earlier pending
    /// invitations of the studio to the same address are revoked.
    fn create_invitation(
        &self,
        invitation: NewInvitation,
    ) -> impl Future<Output = Result<Invitation, DomainError>> + Send;
    /// `user` accepts the invitation stored as `token_hash` (checked with
    /// [`Invitation::check_acceptance`] under its lock): they become its
    /// studio's admin (`AlreadyAdministers` when they run another studio) and
    /// their address is verified.
    fn accept_invitation(
        &self,
        token_hash: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<AcceptedInvitation, DomainError>> + Send;
    /// The studio's invitations pending at `now`, by id, after the cursor.
    fn pending_invitations(
        &self,
        studio: StudioId,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<i64>,
    ) -> impl Future<Output = Result<Vec<Invitation>, DomainError>> + Send;
    /// Revokes the studio's pending invitation `id`: `NotFound("invitation")`
    /// when it has none such.
    fn revoke_invitation(
        &self,
        studio: StudioId,
        id: i64,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Invitation, DomainError>> + Send;
}
