//! In-memory stand-ins for the account ports, for the use cases' unit tests.
//! Every port call worth ordering is written to one shared log.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, Utc};

use crate::account::mailbox::{AcceptedInvitation, Invitation, NewEmailedToken, NewInvitation};
use crate::account::model::{DeletedAccount, ERASED_PASSWORD_HASH, NewStudio, NewUser, ProfileChange, Studio, User};
use crate::account::ports::{MailboxStore, PasswordHasher, RefreshTokens, Revocation, SessionNotices};
use crate::actor::Role;
use crate::domain_events::AuditEntry;
use crate::error::{Cause, DomainError};
use crate::ids::{StudioId, UserId};
use crate::ports::{AccountStore, NewRefreshToken, TokenRotation, TokenStore};

/// Runs a future that never waits (every fake answers at once).
pub fn block_on<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("a fake port waited"),
    }
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("an instant")
}

/// What the ports were asked, in order.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub user: UserId,
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

#[derive(Debug, Default)]
pub struct Data {
    pub users: Vec<(User, String)>,
    pub studios: Vec<Studio>,
    pub tokens: Vec<StoredToken>,
    /// Emailed tokens, as stored, with the user they are for.
    pub emailed: Vec<(UserId, NewEmailedToken)>,
    pub audit: Vec<AuditEntry>,
    pub fail_audit: bool,
    pub fail_lookups: bool,
}

#[derive(Debug, Clone, Default)]
pub struct FakeStore {
    pub data: Arc<Mutex<Data>>,
    pub log: Log,
}

impl FakeStore {
    pub fn with_log(log: &Log) -> FakeStore {
        FakeStore { data: Arc::default(), log: log.clone() }
    }

    pub fn add_user(&self, email: &str, password_hash: &str, role: Role, studio_id: Option<StudioId>) -> User {
        let mut data = self.data.lock().unwrap();
        let user = User {
            id: UserId(data.users.len() as i64 + 1),
            email: email.into(),
            full_name: "Someone".into(),
            phone: None,
            role,
            studio_id,
            created_at: at(0),
            session_generation: 0,
            locale: Default::default(),
            email_verified_at: None,
        };
        data.users.push((user.clone(), password_hash.into()));
        user
    }

    /// Revokes every refresh token of `user` and moves them to the next session generation.
    fn revoke_sessions(&self, user: UserId) -> i64 {
        let mut data = self.data.lock().unwrap();
        data.tokens.iter_mut().filter(|t| t.user == user).for_each(|t| t.revoked = true);
        let (found, _) = data.users.iter_mut().find(|(u, _)| u.id == user).expect("a known user");
        found.session_generation += 1;
        found.session_generation
    }

    pub fn add_studio(&self, name: &str) -> Studio {
        let mut data = self.data.lock().unwrap();
        let studio = Studio {
            id: StudioId(data.studios.len() as i64 + 1),
            name: name.into(),
            address: String::new(),
            timezone: "UTC".into(),
            maps_url: None,
            created_at: at(0),
        };
        data.studios.push(studio.clone());
        studio
    }

    pub fn hash_of(&self, id: UserId) -> Option<String> {
        self.data.lock().unwrap().users.iter().find(|(u, _)| u.id == id).map(|(_, h)| h.clone())
    }

    pub fn tokens(&self) -> Vec<StoredToken> {
        self.data.lock().unwrap().tokens.clone()
    }

    fn user_mut<T>(&self, id: UserId, change: impl FnOnce(&mut User, &mut String) -> T) -> Option<T> {
        let mut data = self.data.lock().unwrap();
        data.users.iter_mut().find(|(u, _)| u.id == id).map(|(u, h)| change(u, h))
    }
}

impl AccountStore for FakeStore {
    async fn create_user(&self, user: NewUser) -> Result<User, DomainError> {
        if self.data.lock().unwrap().users.iter().any(|(u, _)| u.email == user.email) {
            return Err(DomainError::EmailTaken);
        }
        let created = self.add_user(&user.email, &user.password_hash, user.role, None);
        self.user_mut(created.id, |u, _| {
            u.full_name = user.full_name;
            u.phone = user.phone;
            u.locale = user.locale;
            u.clone()
        })
        .ok_or(DomainError::NotFound("user"))
    }

    async fn find_user(&self, id: UserId) -> Result<Option<User>, DomainError> {
        Ok(self.user_mut(id, |u, _| u.clone()))
    }

    async fn find_users(&self, ids: &[UserId]) -> Result<Vec<User>, DomainError> {
        let listed: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.log.push(format!("store: find users {}", listed.join(", ")));
        if self.data.lock().unwrap().fail_lookups {
            return Err(DomainError::Unavailable);
        }
        Ok(ids.iter().filter_map(|id| self.user_mut(*id, |u, _| u.clone())).collect())
    }

    async fn find_login(&self, email: &str) -> Result<Option<(User, String)>, DomainError> {
        Ok(self.data.lock().unwrap().users.iter().find(|(u, _)| u.email == email).cloned())
    }

    async fn password_hash(&self, id: UserId) -> Result<Option<String>, DomainError> {
        Ok(self.hash_of(id))
    }

    async fn update_profile(&self, id: UserId, change: ProfileChange) -> Result<User, DomainError> {
        self.user_mut(id, |u, _| {
            if let Some(name) = change.full_name {
                u.full_name = name;
            }
            if let Some(phone) = change.phone {
                u.phone = phone;
            }
            if let Some(locale) = change.locale {
                u.locale = locale;
            }
            u.clone()
        })
        .ok_or(DomainError::NotFound("user"))
    }

    async fn change_password(&self, id: UserId, password_hash: String) -> Result<i64, DomainError> {
        self.log.push(format!("store: change password of {id}"));
        self.user_mut(id, |_, h| *h = password_hash).ok_or(DomainError::NotFound("user"))?;
        Ok(self.revoke_sessions(id))
    }

    async fn delete_account(&self, id: UserId, _at: DateTime<Utc>) -> Result<DeletedAccount, DomainError> {
        self.log.push(format!("store: delete account {id}"));
        let found = self.user_mut(id, |u, _| u.clone()).ok_or(DomainError::NotFound("user"))?;
        let platform_admins =
            self.data.lock().unwrap().users.iter().filter(|(u, _)| u.role == Role::PlatformAdmin).count();
        if found.role == Role::PlatformAdmin && platform_admins < 2 {
            return Err(DomainError::LastPlatformAdmin);
        }
        self.user_mut(id, |u, hash| {
            u.email = DeletedAccount::tombstone_email(id);
            u.full_name = String::new();
            u.phone = None;
            u.role = Role::User;
            u.studio_id = None;
            *hash = ERASED_PASSWORD_HASH.into();
        });
        let deleted = DeletedAccount {
            id,
            session_generation: self.revoke_sessions(id),
            previous_role: found.role,
            previous_studio_id: found.studio_id,
        };
        self.data.lock().unwrap().audit.push(deleted.audit_entry());
        Ok(deleted)
    }

    async fn make_platform_admin(&self, _email: &str) -> Result<User, DomainError> {
        unimplemented!("not a use case of these services")
    }

    async fn create_studio(&self, studio: NewStudio) -> Result<Studio, DomainError> {
        let created = self.add_studio(&studio.name);
        let mut data = self.data.lock().unwrap();
        let stored = data.studios.iter_mut().find(|s| s.id == created.id).expect("just added");
        (stored.address, stored.timezone, stored.maps_url) = (studio.address, studio.timezone, studio.maps_url);
        Ok(stored.clone())
    }

    async fn find_studio(&self, id: StudioId) -> Result<Option<Studio>, DomainError> {
        Ok(self.data.lock().unwrap().studios.iter().find(|s| s.id == id).cloned())
    }

    async fn list_studios(&self, limit: u32, after: Option<StudioId>) -> Result<Vec<Studio>, DomainError> {
        let data = self.data.lock().unwrap();
        let after = after.map_or(0, |id| id.0);
        Ok(data.studios.iter().filter(|s| s.id.0 > after).take(limit as usize).cloned().collect())
    }

    async fn update_studio<F>(&self, id: StudioId, change: F) -> Result<Studio, DomainError>
    where
        F: FnOnce(&Studio) -> Result<NewStudio, DomainError> + Send,
    {
        let mut data = self.data.lock().unwrap();
        let studio = data.studios.iter_mut().find(|s| s.id == id).ok_or(DomainError::NotFound("studio"))?;
        let new = change(studio)?;
        (studio.name, studio.address, studio.timezone, studio.maps_url) =
            (new.name, new.address, new.timezone, new.maps_url);
        Ok(studio.clone())
    }

    async fn assign_studio_admin(&self, studio: StudioId, email: &str) -> Result<User, DomainError> {
        let mut data = self.data.lock().unwrap();
        let (user, _) = data
            .users
            .iter_mut()
            .find(|(u, _)| u.email.eq_ignore_ascii_case(email))
            .ok_or(DomainError::NotFound("user"))?;
        if user.studio_id.is_some_and(|s| s != studio) {
            return Err(DomainError::AlreadyAdministers);
        }
        (user.role, user.studio_id) = (Role::StudioAdmin, Some(studio));
        Ok(user.clone())
    }

    async fn list_studio_admins(
        &self,
        studio: StudioId,
        limit: u32,
        after: Option<UserId>,
    ) -> Result<Vec<User>, DomainError> {
        let data = self.data.lock().unwrap();
        let mut admins: Vec<User> = data
            .users
            .iter()
            .map(|(user, _)| user)
            .filter(|user| user.role == Role::StudioAdmin && user.studio_id == Some(studio))
            .filter(|user| after.is_none_or(|after| user.id > after))
            .cloned()
            .collect();
        admins.sort_by_key(|user| user.id);
        admins.truncate(limit as usize);
        Ok(admins)
    }

    async fn remove_studio_admin(&self, studio: StudioId, user: UserId) -> Result<User, DomainError> {
        let mut data = self.data.lock().unwrap();
        let (user, _) = data
            .users
            .iter_mut()
            .find(|(u, _)| u.id == user && u.role == Role::StudioAdmin && u.studio_id == Some(studio))
            .ok_or(DomainError::NotFound("admin"))?;
        (user.role, user.studio_id) = (Role::User, None);
        Ok(user.clone())
    }

    async fn record_audit(&self, entry: AuditEntry) -> Result<(), DomainError> {
        let mut data = self.data.lock().unwrap();
        if data.fail_audit {
            return Err(DomainError::storage_message("the audit table is gone"));
        }
        data.audit.push(entry);
        Ok(())
    }
}

impl MailboxStore for FakeStore {
    async fn create_user_with_token(&self, user: NewUser, token: NewEmailedToken) -> Result<User, DomainError> {
        let created = self.create_user(user).await?;
        self.issue_emailed_token(created.id, token).await?;
        Ok(created)
    }

    async fn issue_emailed_token(&self, user: UserId, token: NewEmailedToken) -> Result<(), DomainError> {
        self.log.push(format!("store: email {} token to {user}", token.purpose.as_str()));
        self.data.lock().unwrap().emailed.push((user, token));
        Ok(())
    }

    async fn verify_email(&self, _token_hash: &str, _now: DateTime<Utc>) -> Result<User, DomainError> {
        unimplemented!("kept by the SQL store; tested through the API")
    }

    async fn reset_password(
        &self,
        _token_hash: &str,
        _password_hash: String,
        _now: DateTime<Utc>,
    ) -> Result<(UserId, i64), DomainError> {
        unimplemented!("kept by the SQL store; tested through the API")
    }

    async fn create_invitation(&self, _invitation: NewInvitation) -> Result<Invitation, DomainError> {
        unimplemented!("kept by the SQL store; tested through the API")
    }

    async fn accept_invitation(
        &self,
        _token_hash: &str,
        _user: UserId,
        _now: DateTime<Utc>,
    ) -> Result<AcceptedInvitation, DomainError> {
        unimplemented!("kept by the SQL store; tested through the API")
    }

    async fn pending_invitations(
        &self,
        _studio: StudioId,
        _now: DateTime<Utc>,
        _limit: u32,
        _after: Option<i64>,
    ) -> Result<Vec<Invitation>, DomainError> {
        unimplemented!("kept by the SQL store; tested through the API")
    }

    async fn revoke_invitation(
        &self,
        _studio: StudioId,
        _id: i64,
        _now: DateTime<Utc>,
    ) -> Result<Invitation, DomainError> {
        unimplemented!("kept by the SQL store; tested through the API")
    }
}

impl TokenStore for FakeStore {
    async fn issue_refresh_token(&self, user: UserId, token: NewRefreshToken<'_>) -> Result<i64, DomainError> {
        let token = StoredToken { user, hash: token.hash.into(), expires_at: token.expires_at, revoked: false };
        self.data.lock().unwrap().tokens.push(token);
        self.find_user(user).await?.map(|user| user.session_generation).ok_or(DomainError::NotFound("user"))
    }

    async fn rotate_refresh_token(&self, rotation: TokenRotation<'_>) -> Result<User, DomainError> {
        let TokenRotation { old_hash, new, now } = rotation;
        let new_hash = new.hash;
        self.log.push(format!("store: rotate {old_hash} to {new_hash}"));
        let mut data = self.data.lock().unwrap();
        let old = data
            .tokens
            .iter_mut()
            .find(|t| t.hash == old_hash && !t.revoked && t.expires_at > now)
            .ok_or(DomainError::InvalidRefreshToken)?;
        old.revoked = true;
        let user = old.user;
        data.tokens.push(StoredToken { user, hash: new_hash.into(), expires_at: new.expires_at, revoked: false });
        data.users.iter().find(|(u, _)| u.id == user).map(|(u, _)| u.clone()).ok_or(DomainError::InvalidRefreshToken)
    }

    async fn revoke_refresh_token(&self, user: UserId, token_hash: &str) -> Result<(), DomainError> {
        let mut data = self.data.lock().unwrap();
        data.tokens.iter_mut().filter(|t| t.user == user && t.hash == token_hash).for_each(|t| t.revoked = true);
        Ok(())
    }

    async fn revoke_all_refresh_tokens(&self, user: UserId) -> Result<i64, DomainError> {
        self.log.push(format!("store: revoke all of {user}"));
        Ok(self.revoke_sessions(user))
    }

    async fn prune_refresh_tokens(&self, _now: DateTime<Utc>) -> Result<u64, DomainError> {
        unimplemented!("a job, not a use case of these services")
    }
}

/// "Hashes" by prefixing, so a test can tell which password a hash is of.
#[derive(Debug, Clone, Default)]
pub struct FakeHasher {
    pub log: Log,
}

impl PasswordHasher for FakeHasher {
    async fn hash(&self, password: String) -> Result<String, DomainError> {
        self.log.push(format!("hasher: hash {password}"));
        Ok(format!("hashed:{password}"))
    }

    async fn verify(&self, password: String, hash: String) -> Result<bool, DomainError> {
        self.log.push(format!("hasher: verify against {hash}"));
        Ok(hash == format!("hashed:{password}"))
    }
}

/// Tokens `rt_1`, `rt_2`, … (emailed ones `mt_1`, …), hashed as `h(rt_1)`.
#[derive(Debug, Default)]
pub struct FakeTokens {
    drawn: AtomicU32,
    mailed: AtomicU32,
}

impl RefreshTokens for FakeTokens {
    fn draw_refresh_token(&self) -> Result<String, DomainError> {
        Ok(format!("rt_{}", self.drawn.fetch_add(1, Ordering::Relaxed) + 1))
    }

    fn refresh_token_hash(&self, token: &str) -> String {
        format!("h({token})")
    }

    fn draw_mail_token(&self) -> Result<String, DomainError> {
        Ok(format!("mt_{}", self.mailed.fetch_add(1, Ordering::Relaxed) + 1))
    }
}

#[derive(Debug, Clone, Default)]
pub struct FakeNotices {
    pub log: Log,
    pub fail: Arc<Mutex<bool>>,
}

impl FakeNotices {
    fn answer(&self) -> Result<(), DomainError> {
        if *self.fail.lock().unwrap() {
            return Err(DomainError::Storage(Cause::message("the outbox is unreachable")));
        }
        Ok(())
    }
}

impl SessionNotices for FakeNotices {
    async fn sessions_revoked(
        &self,
        user: UserId,
        reason: Revocation,
        generation: i64,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.answer()?;
        self.log.push(format!("notices: {user} revoked ({reason:?}) to generation {generation} at {}", at.timestamp()));
        Ok(())
    }

    async fn role_changed(&self, user: UserId, _at: DateTime<Utc>) -> Result<(), DomainError> {
        self.answer()?;
        self.log.push(format!("notices: {user} role changed"));
        Ok(())
    }
}
