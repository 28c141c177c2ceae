//! The account use cases: registration, sign-in, token refresh, sign-out,
//! one's own profile and password.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};

use crate::account::model::{NewUser, ProfileChange, Registration, User, check_password, login_email};
use crate::account::ports::{PasswordHasher, RefreshTokens, Revocation, SessionNotices};
use crate::actor::Role;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::UserId;
use crate::ports::{AccountStore, TokenStore};
use crate::validation::ValidationErrors;

/// What checking a password for an unknown email hashes against.
const DUMMY_PASSWORD: &str = "not anyone's password";

/// A sign-in: the user and a new refresh token, issued at `at`. The caller
/// signs the access token for `user` as of `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user: User,
    pub refresh_token: String,
    pub at: DateTime<Utc>,
}

/// Every use case of one's own account.
#[derive(Debug)]
pub struct Accounts<S, C, H, R, N> {
    store: S,
    clock: C,
    hasher: H,
    tokens: R,
    notices: N,
    refresh_ttl: Duration,
    /// A hash of [`DUMMY_PASSWORD`], made once by `hasher` (so at its cost).
    dummy_hash: OnceLock<String>,
}

impl<S, C, H, R, N> Accounts<S, C, H, R, N>
where
    S: AccountStore + TokenStore,
    C: Clock,
    H: PasswordHasher,
    R: RefreshTokens,
    N: SessionNotices,
{
    /// Refresh tokens live for `refresh_ttl`.
    pub fn new(store: S, clock: C, hasher: H, tokens: R, notices: N, refresh_ttl: Duration) -> Self {
        Accounts { store, clock, hasher, tokens, notices, refresh_ttl, dummy_hash: OnceLock::new() }
    }

    /// Creates a user account and signs it in.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        full_name: &str,
        phone: Option<&str>,
    ) -> Result<SignedIn, DomainError> {
        let registration = Registration::new(email, password, full_name, phone)?;
        let password_hash = self.hasher.hash(registration.password).await?;
        let user = self
            .store
            .create_user(NewUser {
                email: registration.email,
                password_hash,
                full_name: registration.full_name,
                phone: registration.phone,
                role: Role::User,
            })
            .await?;
        self.sign_in(user).await
    }

    /// Signs in with email and password. An unknown email costs a password
    /// check all the same, so that timing does not tell which emails exist.
    pub async fn login(&self, email: &str, password: String) -> Result<SignedIn, DomainError> {
        let (user, hash) = match self.store.find_login(&login_email(email)).await? {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        if !self.password_matches(password, hash).await? {
            return Err(DomainError::InvalidCredentials);
        }
        self.sign_in(user.ok_or(DomainError::InvalidCredentials)?).await
    }

    /// Trades a refresh token for a new one in its family; the store revokes
    /// the whole family when a used token comes back.
    pub async fn refresh(&self, refresh_token: &str) -> Result<SignedIn, DomainError> {
        let new_token = self.tokens.draw_refresh_token()?;
        let now = self.clock.now();
        let old_hash = self.tokens.refresh_token_hash(refresh_token);
        let new_hash = self.tokens.refresh_token_hash(&new_token);
        let user_id = self.store.rotate_refresh_token(&old_hash, &new_hash, now + self.refresh_ttl, now).await?;
        let user = self.store.find_user(user_id).await?.ok_or(DomainError::InvalidRefreshToken)?;
        Ok(SignedIn { user, refresh_token: new_token, at: now })
    }

    /// Revokes one refresh token of `user` (signs one device out).
    pub async fn logout(&self, user: UserId, refresh_token: &str) -> Result<(), DomainError> {
        self.store.revoke_refresh_token(user, &self.tokens.refresh_token_hash(refresh_token)).await
    }

    /// Signs `user` out everywhere. The live sessions are told first: if that
    /// fails nothing is revoked, and the request can simply be retried.
    pub async fn logout_all(&self, user: UserId) -> Result<(), DomainError> {
        self.notices.sessions_revoked(user, Revocation::LogoutAll, self.clock.now()).await?;
        self.store.revoke_all_refresh_tokens(user).await
    }

    /// The user an access token names, if the account still exists.
    pub async fn user(&self, id: UserId) -> Result<Option<User>, DomainError> {
        self.store.find_user(id).await
    }

    pub async fn update_profile(
        &self,
        user: UserId,
        full_name: Option<&str>,
        phone: Option<Option<&str>>,
    ) -> Result<User, DomainError> {
        let change = ProfileChange::new(full_name, phone)?;
        self.store.update_profile(user, change).await
    }

    /// Changes `user`'s password, given the current one; every sign-in of
    /// theirs ends (told to live sessions first, as in [`Self::logout_all`]).
    pub async fn change_password(&self, user: UserId, current: String, new: String) -> Result<(), DomainError> {
        let mut errors = ValidationErrors::new();
        check_password(&new, "new_password", &mut errors);
        errors.into_result(())?;
        let hash = self.store.password_hash(user).await?;
        if !self.password_matches(current, hash).await? {
            return Err(DomainError::InvalidCredentials);
        }
        let new_hash = self.hasher.hash(new).await?;
        self.notices.sessions_revoked(user, Revocation::PasswordChanged, self.clock.now()).await?;
        self.store.change_password(user, new_hash).await
    }

    /// Issues a new refresh-token family for `user`.
    async fn sign_in(&self, user: User) -> Result<SignedIn, DomainError> {
        let refresh_token = self.tokens.draw_refresh_token()?;
        let at = self.clock.now();
        let hash = self.tokens.refresh_token_hash(&refresh_token);
        self.store.issue_refresh_token(user.id, &hash, at + self.refresh_ttl).await?;
        Ok(SignedIn { user, refresh_token, at })
    }

    /// Whether `password` matches the stored `hash`. Without one a dummy hash
    /// is checked anyway, so the answer (`false`) takes as long as a wrong password.
    async fn password_matches(&self, password: String, hash: Option<String>) -> Result<bool, DomainError> {
        let known = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => self.dummy_hash().await?,
        };
        let matches = self.hasher.verify(password, hash).await?;
        Ok(known && matches)
    }

    async fn dummy_hash(&self) -> Result<String, DomainError> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = self.hasher.hash(DUMMY_PASSWORD.to_owned()).await?;
        Ok(self.dummy_hash.get_or_init(|| hash).clone())
    }
}
