//! The studio use cases: creating and changing studios, reading them, and
//! removing a studio's admin (they are appointed by invitation: [`super::invitations`]).

use crate::account::model::{NewStudio, Studio, StudioPatch, User};
use crate::account::ports::SessionNotices;
use crate::actor::{Actor, Role};
use crate::audit::{AdminRemoved, Changes, STUDIO_FIELDS, StudioFacts, studio_fields};
use crate::clock::Clock;
use crate::domain_events::{AuditDetails, AuditEntry};
use crate::error::DomainError;
use crate::ids::{StudioId, UserId};
use crate::ports::AccountStore;

/// A change that is done, and the audit entry about it that could not be
/// written, if any. The change stands either way; the caller logs the failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited<T> {
    pub value: T,
    pub audit_failure: Option<DomainError>,
}

/// Every use case of studios.
#[derive(Debug, Clone)]
pub struct Studios<S, C, N> {
    store: S,
    clock: C,
    notices: N,
}

impl<S, C, N> Studios<S, C, N>
where
    S: AccountStore,
    C: Clock,
    N: SessionNotices,
{
    pub fn new(store: S, clock: C, notices: N) -> Self {
        Studios { store, clock, notices }
    }

    /// Creates a studio (platform admins only).
    pub async fn create(
        &self,
        actor: &Actor,
        name: &str,
        address: &str,
        timezone: &str,
        maps_url: Option<&str>,
    ) -> Result<Audited<Studio>, DomainError> {
        if actor.role != Role::PlatformAdmin {
            return Err(DomainError::Forbidden("only platform admins create studios"));
        }
        let studio = NewStudio::new(name, address, timezone, maps_url)?;
        let studio = self.store.create_studio(studio).await?;
        let details = AuditDetails::StudioCreate(StudioFacts::of(&studio));
        Ok(self.audited(actor, studio.id, studio.id.to_string(), &details, studio).await)
    }

    /// Studios by id, at most `limit` after the cursor.
    pub async fn list(&self, limit: u32, after: Option<StudioId>) -> Result<Vec<Studio>, DomainError> {
        self.store.list_studios(limit, after).await
    }

    pub async fn get(&self, id: StudioId) -> Result<Studio, DomainError> {
        self.store.find_studio(id).await?.ok_or(DomainError::NotFound("studio"))
    }

    /// Changes a studio (its admins and platform admins; to anyone else it
    /// does not exist), the patch merged into the studio as read under its lock.
    pub async fn update(
        &self,
        actor: &Actor,
        id: StudioId,
        patch: StudioPatch,
    ) -> Result<Audited<Studio>, DomainError> {
        if !actor.manages(id) {
            return Err(DomainError::NotFound("studio"));
        }
        let before = std::sync::OnceLock::new();
        let studio = self
            .store
            .update_studio(id, |current| {
                let _ = before.set(studio_fields(current));
                patch.apply(current).map_err(DomainError::from)
            })
            .await?;
        let before = before.into_inner().unwrap_or_else(|| studio_fields(&studio));
        let changes = Changes::between(&before, &studio_fields(&studio), STUDIO_FIELDS);
        Ok(self.audited(actor, id, id.to_string(), &AuditDetails::StudioUpdate(changes), studio).await)
    }

    /// The studio's admins by id, at most `limit` after the cursor (its own
    /// admins and platform admins; to anyone else the studio is not found).
    pub async fn admins(
        &self,
        actor: &Actor,
        id: StudioId,
        limit: u32,
        after: Option<UserId>,
    ) -> Result<Vec<User>, DomainError> {
        if !actor.manages(id) {
            return Err(DomainError::NotFound("studio"));
        }
        self.get(id).await?;
        self.store.list_studio_admins(id, limit, after).await
    }

    /// Makes `user`, an admin of studio `id`, a plain user again (platform
    /// admins only). Their live sessions, on every instance, lose the
    /// studio's rooms at once, as after any change of role.
    pub async fn remove_admin(&self, actor: &Actor, id: StudioId, user: UserId) -> Result<Audited<User>, DomainError> {
        if actor.role != Role::PlatformAdmin {
            return Err(DomainError::Forbidden("only platform admins remove studio admins"));
        }
        self.get(id).await?;
        let removed = self.store.remove_studio_admin(id, user).await?;
        self.notices.role_changed(removed.id, self.clock.now()).await?;
        let details = AuditDetails::StudioRemoveAdmin(AdminRemoved::of(&removed));
        Ok(self.audited(actor, id, removed.id.to_string(), &details, removed).await)
    }

    /// Records `details` about `target` in `studio`'s audit log.
    async fn audited<T>(
        &self,
        actor: &Actor,
        studio: StudioId,
        target: String,
        details: &AuditDetails,
        value: T,
    ) -> Audited<T> {
        let entry = AuditEntry::new(actor.user_id, Some(studio), target, details);
        Audited { value, audit_failure: self.store.record_audit(entry).await.err() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::fakes::{FakeNotices, FakeStore, Log, at, block_on};
    use crate::clock::ManualClock;
    use crate::domain_events::AuditAction;
    use crate::ids::UserId;

    fn world() -> (Studios<FakeStore, ManualClock, FakeNotices>, FakeStore, Log) {
        let log = Log::default();
        let store = FakeStore::with_log(&log);
        let notices = FakeNotices { log: log.clone(), ..FakeNotices::default() };
        (Studios::new(store.clone(), ManualClock::new(at(0)), notices), store, log)
    }

    const ROOT: Actor = Actor { user_id: UserId(100), role: Role::PlatformAdmin, studio_id: None };

    #[test]
    fn only_platform_admins_create_studios_whatever_they_send() {
        let (studios, store, _) = world();
        for actor in [Actor::user(UserId(1)), Actor::studio_admin(UserId(2), StudioId(1))] {
            let error = block_on(studios.create(&actor, "", "", "nowhere", None)).unwrap_err();
            assert_eq!(error, DomainError::Forbidden("only platform admins create studios"));
        }
        let invalid = block_on(studios.create(&ROOT, "", "", "nowhere", None)).unwrap_err();
        assert!(matches!(invalid, DomainError::Validation(errors) if errors.has("name") && errors.has("timezone")));
        let created = block_on(studios.create(&ROOT, " Nine ", "Moda", "Europe/Istanbul", None)).unwrap();
        assert_eq!((created.value.name.as_str(), created.audit_failure), ("Nine", None));
        let audit = &store.data.lock().unwrap().audit;
        assert_eq!((audit.len(), audit[0].action, audit[0].actor), (1, AuditAction::StudioCreate, ROOT.user_id));
    }

    #[test]
    fn a_failed_audit_is_reported_and_the_change_stands() {
        let (studios, store, _) = world();
        store.data.lock().unwrap().fail_audit = true;
        let created = block_on(studios.create(&ROOT, "Nine", "", "UTC", None)).unwrap();
        assert!(matches!(created.audit_failure, Some(DomainError::Storage(_))));
        assert_eq!(block_on(studios.get(created.value.id)), Ok(created.value));
    }

    #[test]
    fn a_studio_is_changed_by_those_who_manage_it_and_hidden_from_others() {
        let (studios, store, _) = world();
        let nine = store.add_studio("Nine");
        let ten = store.add_studio("Ten");
        let patch = StudioPatch { name: Some("Nine and a half".into()), ..StudioPatch::default() };
        let outsider = Actor::studio_admin(UserId(1), ten.id);
        assert_eq!(block_on(studios.update(&outsider, nine.id, patch.clone())), Err(DomainError::NotFound("studio")));
        let admin = Actor::studio_admin(UserId(2), nine.id);
        let changed = block_on(studios.update(&admin, nine.id, patch)).unwrap().value;
        assert_eq!((changed.name.as_str(), changed.timezone.as_str()), ("Nine and a half", "UTC"));
        let bad = StudioPatch { timezone: Some("Mars/Base".into()), ..StudioPatch::default() };
        assert!(matches!(block_on(studios.update(&ROOT, nine.id, bad)), Err(DomainError::Validation(_))));
    }

    #[test]
    fn a_studios_admins_are_listed_to_it_and_to_platform_admins_only() {
        let (studios, store, _) = world();
        let nine = store.add_studio("Nine");
        let ten = store.add_studio("Ten");
        let ada = store.add_user("ada@example.com", "x", Role::StudioAdmin, Some(nine.id));
        let bob = store.add_user("bob@example.com", "x", Role::StudioAdmin, Some(nine.id));
        store.add_user("cem@example.com", "x", Role::StudioAdmin, Some(ten.id));
        let listed = |actor: &Actor, after| block_on(studios.admins(actor, nine.id, 10, after));
        let ids = |users: Vec<User>| users.into_iter().map(|u| u.id).collect::<Vec<_>>();
        assert_eq!(listed(&ROOT, None).map(ids), Ok(vec![ada.id, bob.id]));
        assert_eq!(listed(&Actor::studio_admin(ada.id, nine.id), Some(ada.id)).map(ids), Ok(vec![bob.id]));
        for outsider in [Actor::studio_admin(UserId(50), ten.id), Actor::user(UserId(51))] {
            assert_eq!(listed(&outsider, None), Err(DomainError::NotFound("studio")), "{outsider:?}");
        }
        assert_eq!(block_on(studios.admins(&ROOT, StudioId(99), 10, None)), Err(DomainError::NotFound("studio")));
    }

    #[test]
    fn removing_an_admin_makes_them_a_user_tells_their_sessions_and_is_audited() {
        let (studios, store, log) = world();
        let nine = store.add_studio("Nine");
        let ten = store.add_studio("Ten");
        let ada = store.add_user("ada@example.com", "x", Role::StudioAdmin, Some(nine.id));
        let own_admin = Actor::studio_admin(ada.id, nine.id);
        let refused = block_on(studios.remove_admin(&own_admin, nine.id, ada.id));
        assert_eq!(refused, Err(DomainError::Forbidden("only platform admins remove studio admins")));
        let elsewhere = block_on(studios.remove_admin(&ROOT, ten.id, ada.id));
        assert_eq!(elsewhere, Err(DomainError::NotFound("admin")), "not that studio's admin");
        assert!(log.entries().is_empty());

        let removed = block_on(studios.remove_admin(&ROOT, nine.id, ada.id)).unwrap().value;
        assert_eq!((removed.role, removed.studio_id), (Role::User, None));
        assert_eq!(log.entries(), vec![format!("notices: {} role changed", ada.id)]);
        let entry = store.data.lock().unwrap().audit.last().cloned().unwrap();
        assert_eq!(
            (entry.action, entry.studio_id, entry.target.as_str()),
            (AuditAction::StudioRemoveAdmin, Some(nine.id), "user:1")
        );
        assert_eq!(entry.details["email"], "ada@example.com");
        assert_eq!(block_on(studios.remove_admin(&ROOT, nine.id, ada.id)), Err(DomainError::NotFound("admin")));
    }

    #[test]
    fn studios_are_listed_after_the_cursor() {
        let (studios, store, _) = world();
        let ids: Vec<_> = ["A", "B", "C"].iter().map(|name| store.add_studio(name).id).collect();
        let page = block_on(studios.list(2, Some(ids[0]))).unwrap();
        assert_eq!(page.iter().map(|s| s.id).collect::<Vec<_>>(), ids[1..]);
    }
}
