//! The studio use cases: creating and changing studios, reading them, and
//! making a user a studio's admin.

use crate::account::model::{NewStudio, Studio, StudioPatch, User};
use crate::account::ports::SessionNotices;
use crate::actor::{Actor, Role};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::events::AuditEntry;
use crate::ids::StudioId;
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
        Ok(self.audited(actor, studio.id, "studio.create", studio).await)
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
        let studio =
            self.store.update_studio(id, move |current| patch.apply(current).map_err(DomainError::from)).await?;
        Ok(self.audited(actor, id, "studio.update", studio).await)
    }

    /// Makes the existing user with `email` an admin of studio `id` (platform
    /// admins only). Their live sessions are told when their role changed.
    pub async fn assign_admin(&self, actor: &Actor, id: StudioId, email: &str) -> Result<Audited<User>, DomainError> {
        if actor.role != Role::PlatformAdmin {
            return Err(DomainError::Forbidden("only platform admins assign studio admins"));
        }
        self.get(id).await?;
        let email = email.trim();
        let before = self.store.find_login(&email.to_lowercase()).await?.map(|(user, _)| (user.role, user.studio_id));
        let user = self.store.assign_studio_admin(id, email).await?;
        if before != Some((user.role, user.studio_id)) {
            // Their live sockets join private rooms again, under the new role.
            self.notices.role_changed(user.id, self.clock.now()).await?;
        }
        Ok(self.audited(actor, id, "studio.assign_admin", user).await)
    }

    async fn audited<T>(&self, actor: &Actor, studio: StudioId, action: &'static str, value: T) -> Audited<T> {
        let entry = AuditEntry {
            actor: actor.user_id,
            studio_id: Some(studio),
            action,
            target: studio.to_string(),
            details: serde_json::json!({}),
        };
        Audited { value, audit_failure: self.store.record_audit(entry).await.err() }
    }
}
