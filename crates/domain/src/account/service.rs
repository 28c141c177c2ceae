//! The account use cases: registration, sign-in, token refresh, sign-out,
//! one's own profile and password.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Duration, Utc};

use crate::account::mailbox::{NewEmailedToken, TokenPurpose};
use crate::account::model::{
    DeletedAccount, EMAIL_MAX_CHARS, Locale, NewUser, ProfileChange, Registration, User, check_password, login_email,
};
use crate::account::ports::{MailboxStore, PasswordHasher, RefreshTokens, Revocation, SessionNotices};
use crate::actor::Role;
use crate::clock::Clock;
use crate::error::DomainError;
use crate::ids::UserId;
use crate::memory::batcher::{Batcher, lock};
use crate::ports::{AccountStore, NewRefreshToken, TokenRotation, TokenStore};
use crate::validation::ValidationErrors;

/// What checking a password for an unknown email hashes against.
const DUMMY_PASSWORD: &str = "not anyone's password";

/// Users looked up by one query at most.
const MAX_USER_LOOKUPS: usize = 256;

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
    /// Concurrent lookups of users (each authenticated request whose caller
    /// is not in memory makes one) share one query.
    lookups: Batcher<(), Lookup, Result<Option<User>, DomainError>>,
    /// How many lookup queries failed, and the last one's error.
    lookup_failures: AtomicU64,
    last_lookup_failure: Mutex<Option<DomainError>>,
}

/// A queued lookup of a user, and how many lookup queries had failed when it was asked.
#[derive(Debug, Clone, Copy)]
struct Lookup {
    id: UserId,
    failures_seen: u64,
}

impl<S, C, H, R, N> Accounts<S, C, H, R, N>
where
    S: AccountStore + TokenStore + MailboxStore,
    C: Clock,
    H: PasswordHasher,
    R: RefreshTokens,
    N: SessionNotices,
{
    /// Refresh tokens live for `refresh_ttl`.
    pub fn new(store: S, clock: C, hasher: H, tokens: R, notices: N, refresh_ttl: Duration) -> Self {
        Accounts {
            store,
            clock,
            hasher,
            tokens,
            notices,
            refresh_ttl,
            dummy_hash: OnceLock::new(),
            lookups: Batcher::new(MAX_USER_LOOKUPS),
            lookup_failures: AtomicU64::new(0),
            last_lookup_failure: Mutex::new(None),
        }
    }

    /// Creates a user account and signs it in; a message asking them to
    /// verify their address is recorded with the account.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        full_name: &str,
        phone: Option<&str>,
        locale: Locale,
    ) -> Result<SignedIn, DomainError> {
        let registration = Registration::new(email, password, full_name, phone)?;
        let password_hash = self.hasher.hash(registration.password).await?;
        let new_user = NewUser {
            email: registration.email,
            password_hash,
            full_name: registration.full_name,
            phone: registration.phone,
            role: Role::User,
            locale,
        };
        let verification = self.emailed_token(TokenPurpose::VerifyEmail)?;
        let user = self.store.create_user_with_token(new_user, verification).await?;
        self.sign_in(user).await
    }

    /// Emails `user` a new verification link (earlier ones keep working
    /// until they expire); `EmailAlreadyVerified` once the address is.
    pub async fn resend_verification(&self, user: UserId) -> Result<(), DomainError> {
        let user = self.store.find_user(user).await?.ok_or(DomainError::NotFound("user"))?;
        if user.email_verified_at.is_some() {
            return Err(DomainError::EmailAlreadyVerified);
        }
        self.store.issue_emailed_token(user.id, self.emailed_token(TokenPurpose::VerifyEmail)?).await
    }

    /// Verifies the address the emailed `token` was sent to; each token works once.
    pub async fn verify_email(&self, token: &str) -> Result<User, DomainError> {
        self.store.verify_email(&self.tokens.refresh_token_hash(token), self.clock.now()).await
    }

    /// Emails a password reset link to the account with `email`, if there is
    /// one; the caller answers the same either way.
    pub async fn request_password_reset(&self, email: &str) -> Result<(), DomainError> {
        // Longer than any address can be is bad input, not an unknown account.
        if email.chars().count() > EMAIL_MAX_CHARS {
            return Err(DomainError::validation("email", &format!("at most {EMAIL_MAX_CHARS} characters")));
        }
        let Some((user, _)) = self.store.find_login(&login_email(email)).await? else {
            return Ok(());
        };
        self.store.issue_emailed_token(user.id, self.emailed_token(TokenPurpose::PasswordReset)?).await
    }

    /// Sets a new password with an emailed reset `token` (single use): every
    /// sign-in of the user ends, as after a password change, and their
    /// address counts as verified (they read the mail). Answers the user.
    pub async fn reset_password(&self, token: &str, new: String) -> Result<UserId, DomainError> {
        let mut errors = ValidationErrors::new();
        check_password(&new, "password", &mut errors);
        errors.into_result(())?;
        let hash = self.tokens.refresh_token_hash(token);
        let new_hash = self.hasher.hash(new).await?;
        let (user, generation) = self.store.reset_password(&hash, new_hash, self.clock.now()).await?;
        self.notices.sessions_revoked(user, Revocation::PasswordChanged, generation, self.clock.now()).await?;
        Ok(user)
    }

    /// A new token for `purpose`, drawn now.
    fn emailed_token(&self, purpose: TokenPurpose) -> Result<NewEmailedToken, DomainError> {
        let token = self.tokens.draw_mail_token()?;
        let hash = self.tokens.refresh_token_hash(&token);
        let created_at = self.clock.now();
        Ok(NewEmailedToken { purpose, token, hash, created_at, expires_at: created_at + purpose.ttl() })
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
        let new = NewRefreshToken { hash: &new_hash, expires_at: now + self.refresh_ttl };
        let user = self.store.rotate_refresh_token(TokenRotation { old_hash: &old_hash, new, now }).await?;
        Ok(SignedIn { user, refresh_token: new_token, at: now })
    }

    /// Revokes one refresh token of `user` (signs one device out).
    pub async fn logout(&self, user: UserId, refresh_token: &str) -> Result<(), DomainError> {
        self.store.revoke_refresh_token(user, &self.tokens.refresh_token_hash(refresh_token)).await
    }

    /// Signs `user` out everywhere: their refresh tokens are revoked and their
    /// access tokens refused from the moment this commits; then every instance
    /// is told (if that fails, a retry revokes and tells again).
    pub async fn logout_all(&self, user: UserId) -> Result<(), DomainError> {
        let generation = self.store.revoke_all_refresh_tokens(user).await?;
        self.notices.sessions_revoked(user, Revocation::LogoutAll, generation, self.clock.now()).await
    }

    /// The user an access token names, if the account still exists, read by
    /// a query that starts after this call does.
    pub async fn user(&self, id: UserId) -> Result<Option<User>, DomainError> {
        let lookup = Lookup { id, failures_seen: self.lookup_failures.load(Ordering::SeqCst) };
        self.lookups.submit((), lookup, |batch| self.users_together(batch)).await
    }

    /// Answers a batch of lookups with one query. Lookups that waited through
    /// a failed query get its error at once: lookups take turns, and retrying
    /// each queued batch against a database that is down would make the last
    /// caller wait for every failure before it.
    async fn users_together(&self, batch: Vec<Lookup>) -> Vec<Result<Option<User>, DomainError>> {
        let failures = self.lookup_failures.load(Ordering::SeqCst);
        let last_failure = lock(&self.last_lookup_failure).clone();
        let waited_through_failure = |lookup: &Lookup| lookup.failures_seen < failures && last_failure.is_some();
        let ids: Vec<UserId> = batch.iter().filter(|lookup| !waited_through_failure(lookup)).map(|l| l.id).collect();
        let found = if ids.is_empty() { Ok(Vec::new()) } else { self.store.find_users(&ids).await };
        let found: Result<HashMap<UserId, User>, DomainError> = match found {
            Ok(users) => Ok(users.into_iter().map(|user| (user.id, user)).collect()),
            Err(error) => {
                *lock(&self.last_lookup_failure) = Some(error.clone());
                self.lookup_failures.fetch_add(1, Ordering::SeqCst);
                Err(error)
            }
        };
        batch
            .iter()
            .map(|lookup| match (&last_failure, &found) {
                (Some(error), _) if waited_through_failure(lookup) => Err(error.clone()),
                (_, Ok(found)) => Ok(found.get(&lookup.id).cloned()),
                (_, Err(error)) => Err(error.clone()),
            })
            .collect()
    }

    pub async fn update_profile(
        &self,
        user: UserId,
        full_name: Option<&str>,
        phone: Option<Option<&str>>,
        locale: Option<Locale>,
    ) -> Result<User, DomainError> {
        let change = ProfileChange::new(full_name, phone, locale)?;
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
        let generation = self.store.change_password(user, new_hash).await?;
        self.notices.sessions_revoked(user, Revocation::PasswordChanged, generation, self.clock.now()).await
    }

    /// Deletes `user`'s account, given their password (SPEC §7): nothing
    /// personal is kept, every sign-in ends at once (live sessions are told
    /// as on [`Self::logout_all`]), admin roles end; bookings stay with the
    /// studio, nameless. The caller then lets go of the user's live holds.
    pub async fn delete_account(&self, user: UserId, password: String) -> Result<DeletedAccount, DomainError> {
        let hash = self.store.password_hash(user).await?;
        if !self.password_matches(password, hash).await? {
            return Err(DomainError::InvalidCredentials);
        }
        let now = self.clock.now();
        let deleted = self.store.delete_account(user, now).await?;
        self.notices.sessions_revoked(user, Revocation::LogoutAll, deleted.session_generation, now).await?;
        Ok(deleted)
    }

    /// Issues a new refresh-token family for `user`.
    async fn sign_in(&self, mut user: User) -> Result<SignedIn, DomainError> {
        let refresh_token = self.tokens.draw_refresh_token()?;
        let at = self.clock.now();
        let hash = self.tokens.refresh_token_hash(&refresh_token);
        let token = NewRefreshToken { hash: &hash, expires_at: at + self.refresh_ttl };
        user.session_generation = self.store.issue_refresh_token(user.id, token).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::fakes::{FakeHasher, FakeNotices, FakeStore, FakeTokens, Log, StoredToken, at, block_on};
    use crate::clock::ManualClock;

    type TestAccounts = Accounts<FakeStore, ManualClock, FakeHasher, FakeTokens, FakeNotices>;

    struct World {
        accounts: TestAccounts,
        store: FakeStore,
        clock: ManualClock,
        notices: FakeNotices,
        log: Log,
    }

    fn world() -> World {
        let log = Log::default();
        let store = FakeStore::with_log(&log);
        let clock = ManualClock::new(at(0));
        let notices = FakeNotices { log: log.clone(), ..FakeNotices::default() };
        let hasher = FakeHasher { log: log.clone() };
        let accounts = Accounts::new(
            store.clone(),
            clock.clone(),
            hasher,
            FakeTokens::default(),
            notices.clone(),
            Duration::days(7),
        );
        World { accounts, store, clock, notices, log }
    }

    #[test]
    fn users_looked_up_together_are_read_by_one_query_and_answered_in_order() {
        let w = world();
        let ada = w.store.add_user("ada@example.com", "h", Role::User, None);
        let bob = w.store.add_user("bob@example.com", "h", Role::PlatformAdmin, None);
        let nobody = UserId(999);
        w.log.clear();
        let lookups = [bob.id, nobody, ada.id].map(|id| Lookup { id, failures_seen: 0 });
        let answers = block_on(w.accounts.users_together(lookups.to_vec()));
        let answers: Vec<Option<User>> = answers.into_iter().map(Result::unwrap).collect();
        assert_eq!(answers, vec![Some(bob.clone()), None, Some(ada.clone())]);
        assert_eq!(w.log.entries(), vec![format!("store: find users {}, {nobody}, {}", bob.id, ada.id)]);
        assert_eq!(block_on(w.accounts.user(ada.id)).unwrap(), Some(ada));
        assert_eq!(block_on(w.accounts.user(nobody)).unwrap(), None);
    }

    #[test]
    fn lookups_that_waited_through_a_failed_query_get_its_error_without_another() {
        let w = world();
        let ada = w.store.add_user("ada@example.com", "h", Role::User, None);
        w.store.data.lock().unwrap().fail_lookups = true;
        assert_eq!(block_on(w.accounts.user(ada.id)), Err(DomainError::Unavailable));
        w.store.data.lock().unwrap().fail_lookups = false;
        w.log.clear();

        // Queued before that failure, and after it.
        let before = Lookup { id: ada.id, failures_seen: 0 };
        let after = Lookup { id: ada.id, failures_seen: 1 };
        let answers = block_on(w.accounts.users_together(vec![before, after]));
        assert_eq!(answers, vec![Err(DomainError::Unavailable), Ok(Some(ada.clone()))]);
        assert_eq!(w.log.entries(), vec![format!("store: find users {}", ada.id)], "one query, for the later lookup");
        assert_eq!(block_on(w.accounts.user(ada.id)), Ok(Some(ada)), "a new lookup queries again");
    }

    #[test]
    fn registering_stores_the_hash_and_starts_a_token_family() {
        let w = world();
        let signed_in =
            block_on(w.accounts.register(" Ada@Example.com ", "correct horse", "Ada", None, Locale::En)).unwrap();
        assert_eq!((signed_in.user.email.as_str(), signed_in.user.role), ("ada@example.com", Role::User));
        assert_eq!((signed_in.refresh_token.as_str(), signed_in.at), ("rt_1", at(0)));
        assert_eq!(w.store.hash_of(signed_in.user.id).as_deref(), Some("hashed:correct horse"));
        let stored = StoredToken {
            user: signed_in.user.id,
            hash: "h(rt_1)".into(),
            expires_at: at(0) + Duration::days(7),
            revoked: false,
        };
        assert_eq!(w.store.tokens(), vec![stored]);
        let emailed = w.store.data.lock().unwrap().emailed.clone();
        let [(user, verification)] = emailed.as_slice() else { panic!("{emailed:?}") };
        assert_eq!((*user, verification.purpose), (signed_in.user.id, TokenPurpose::VerifyEmail));
        assert_eq!((verification.hash.as_str(), verification.expires_at), ("h(mt_1)", at(0) + Duration::days(3)));
    }

    #[test]
    fn an_invalid_registration_hashes_nothing() {
        let w = world();
        let error = block_on(w.accounts.register("nope", "short", "", None, Locale::En)).unwrap_err();
        assert!(matches!(error, DomainError::Validation(errors) if errors.has("email") && errors.has("password")));
        assert!(w.log.entries().is_empty());
    }

    #[test]
    fn signing_in_takes_the_password_of_the_normalised_email() {
        let w = world();
        let ada = w.store.add_user("ada@example.com", "hashed:correct horse", Role::User, None);
        w.clock.advance(Duration::seconds(5));
        let signed_in = block_on(w.accounts.login(" ADA@example.com", "correct horse".into())).unwrap();
        assert_eq!((signed_in.user, signed_in.at), (ada, at(5)));
        assert_eq!(w.store.tokens().len(), 1);
    }

    #[test]
    fn a_wrong_password_issues_nothing() {
        let w = world();
        w.store.add_user("ada@example.com", "hashed:correct horse", Role::User, None);
        let error = block_on(w.accounts.login("ada@example.com", "wrong horse".into())).unwrap_err();
        assert_eq!(error, DomainError::InvalidCredentials);
        assert!(w.store.tokens().is_empty());
    }

    #[test]
    fn an_unknown_email_costs_a_password_check_against_a_dummy_made_once() {
        let w = world();
        for _ in 0..2 {
            let error = block_on(w.accounts.login("nobody@example.com", DUMMY_PASSWORD.into())).unwrap_err();
            assert_eq!(error, DomainError::InvalidCredentials);
        }
        let dummy = format!("hashed:{DUMMY_PASSWORD}");
        assert_eq!(
            w.log.entries(),
            vec![
                format!("hasher: hash {DUMMY_PASSWORD}"),
                format!("hasher: verify against {dummy}"),
                format!("hasher: verify against {dummy}"),
            ],
            "even the dummy's own password does not sign anyone in"
        );
        assert!(w.store.tokens().is_empty());
    }

    #[test]
    fn refreshing_rotates_the_presented_token_with_a_fresh_expiry() {
        let w = world();
        let first = block_on(w.accounts.register("ada@example.com", "correct horse", "Ada", None, Locale::En)).unwrap();
        w.clock.advance(Duration::hours(1));
        w.log.clear();
        let second = block_on(w.accounts.refresh(&first.refresh_token)).unwrap();
        assert_eq!((second.user.id, second.refresh_token.as_str(), second.at), (first.user.id, "rt_2", at(3600)));
        assert_eq!(w.log.entries(), vec!["store: rotate h(rt_1) to h(rt_2)".to_owned()]);
        let tokens = w.store.tokens();
        assert!(tokens[0].revoked);
        assert_eq!(tokens[1].expires_at, at(3600) + Duration::days(7));
        assert_eq!(block_on(w.accounts.refresh(&first.refresh_token)), Err(DomainError::InvalidRefreshToken));
    }

    #[test]
    fn logging_out_revokes_only_the_token_presented() {
        let w = world();
        let phone = block_on(w.accounts.register("ada@example.com", "correct horse", "Ada", None, Locale::En)).unwrap();
        let laptop = block_on(w.accounts.login("ada@example.com", "correct horse".into())).unwrap();
        block_on(w.accounts.logout(phone.user.id, &phone.refresh_token)).unwrap();
        assert_eq!(w.store.tokens().iter().map(|t| t.revoked).collect::<Vec<_>>(), [true, false]);
        assert!(block_on(w.accounts.refresh(&laptop.refresh_token)).is_ok());
    }

    #[test]
    fn signing_out_everywhere_moves_to_the_next_generation_then_tells_live_sessions() {
        let w = world();
        let ada =
            block_on(w.accounts.register("ada@example.com", "correct horse", "Ada", None, Locale::En)).unwrap().user;
        assert_eq!(ada.session_generation, 0);
        w.log.clear();
        *w.notices.fail.lock().unwrap() = true;
        assert!(matches!(block_on(w.accounts.logout_all(ada.id)), Err(DomainError::Storage(_))));
        assert_eq!(w.log.entries(), vec![format!("store: revoke all of {}", ada.id)], "revoked, though untold");
        *w.notices.fail.lock().unwrap() = false;
        w.log.clear();
        block_on(w.accounts.logout_all(ada.id)).unwrap();
        assert_eq!(
            w.log.entries(),
            vec![
                format!("store: revoke all of {}", ada.id),
                format!("notices: {} revoked (LogoutAll) to generation 2 at {}", ada.id, at(0).timestamp()),
            ]
        );
        let again = block_on(w.accounts.login("ada@example.com", "correct horse".into())).unwrap();
        assert_eq!(again.user.session_generation, 2, "a new sign-in is of the new generation");
    }

    #[test]
    fn a_password_change_needs_the_current_password_and_a_valid_new_one() {
        let w = world();
        let ada =
            block_on(w.accounts.register("ada@example.com", "correct horse", "Ada", None, Locale::En)).unwrap().user;
        w.log.clear();
        let short = block_on(w.accounts.change_password(ada.id, "wrong".into(), "short".into())).unwrap_err();
        assert!(matches!(short, DomainError::Validation(errors) if errors.has("new_password")));
        assert!(w.log.entries().is_empty(), "the new password is checked before the old one");
        let wrong = block_on(w.accounts.change_password(ada.id, "wrong horse".into(), "battery staple".into()));
        assert_eq!(wrong, Err(DomainError::InvalidCredentials));
        assert_eq!(w.store.hash_of(ada.id).as_deref(), Some("hashed:correct horse"));
        w.log.clear();
        block_on(w.accounts.change_password(ada.id, "correct horse".into(), "battery staple".into())).unwrap();
        assert_eq!(
            w.log.entries(),
            vec![
                "hasher: verify against hashed:correct horse".to_owned(),
                "hasher: hash battery staple".to_owned(),
                format!("store: change password of {}", ada.id),
                format!("notices: {} revoked (PasswordChanged) to generation 1 at {}", ada.id, at(0).timestamp()),
            ]
        );
        assert_eq!(w.store.hash_of(ada.id).as_deref(), Some("hashed:battery staple"));
    }

    #[test]
    fn deleting_an_account_needs_its_password_then_erases_it_and_ends_every_sign_in() {
        let w = world();
        let ada =
            block_on(w.accounts.register("ada@example.com", "correct horse", "Ada", None, Locale::En)).unwrap().user;
        w.log.clear();
        let wrong = block_on(w.accounts.delete_account(ada.id, "wrong horse".into()));
        assert_eq!(wrong, Err(DomainError::InvalidCredentials));
        assert_eq!(w.log.entries(), vec!["hasher: verify against hashed:correct horse".to_owned()], "nothing deleted");
        w.log.clear();
        let deleted = block_on(w.accounts.delete_account(ada.id, "correct horse".into())).unwrap();
        assert_eq!((deleted.previous_role, deleted.session_generation), (Role::User, 1));
        assert_eq!(
            w.log.entries(),
            vec![
                "hasher: verify against hashed:correct horse".to_owned(),
                format!("store: delete account {}", ada.id),
                format!("notices: {} revoked (LogoutAll) to generation 1 at {}", ada.id, at(0).timestamp()),
            ]
        );
        assert!(w.store.tokens().iter().all(|t| t.revoked));
        let login = block_on(w.accounts.login("ada@example.com", "correct horse".into()));
        assert_eq!(login.unwrap_err(), DomainError::InvalidCredentials);
        let again = block_on(w.accounts.register("ada@example.com", "new horse!", "Ada", None, Locale::En));
        assert_ne!(again.unwrap().user.id, ada.id, "the address is free for a new account");
        let entry = w.store.data.lock().unwrap().audit.last().cloned().expect("audited");
        assert_eq!((entry.action, entry.target.as_str()), (crate::AuditAction::AccountDelete, "user:1"));
        assert!(!entry.details.to_string().contains("ada"), "{}", entry.details);
    }

    #[test]
    fn the_last_platform_admin_cannot_delete_their_account() {
        let w = world();
        let root = w.store.add_user("root@example.com", "hashed:correct horse", Role::PlatformAdmin, None);
        let refused = block_on(w.accounts.delete_account(root.id, "correct horse".into()));
        assert_eq!(refused, Err(DomainError::LastPlatformAdmin));
        w.store.add_user("second@example.com", "hashed:x", Role::PlatformAdmin, None);
        let deleted = block_on(w.accounts.delete_account(root.id, "correct horse".into())).unwrap();
        assert_eq!(deleted.previous_role, Role::PlatformAdmin);
    }

    #[test]
    fn a_profile_change_is_validated_then_stored() {
        let w = world();
        let ada = block_on(w.accounts.register(
            "ada@example.com",
            "correct horse",
            "Ada",
            Some("+90 555 123 4567"),
            Locale::En,
        ))
        .unwrap()
        .user;
        let error = block_on(w.accounts.update_profile(ada.id, Some(" "), None, None)).unwrap_err();
        assert!(matches!(error, DomainError::Validation(errors) if errors.has("full_name")));
        let user = block_on(w.accounts.update_profile(ada.id, Some(" Ada L. "), Some(None), Some(Locale::Tr))).unwrap();
        assert_eq!((user.full_name.as_str(), user.phone, user.locale), ("Ada L.", None, Locale::Tr));
    }
}
