//! Who is acting, and what their role lets them do.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{StudioId, UserId};

/// An account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = UserRole))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    StudioAdmin,
    PlatformAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::StudioAdmin => "studio_admin",
            Role::PlatformAdmin => "platform_admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "user" => Some(Role::User),
            "studio_admin" => Some(Role::StudioAdmin),
            "platform_admin" => Some(Role::PlatformAdmin),
            _ => None,
        }
    }
}

/// The caller of a use case, as read from the database on each request (so a
/// role change takes effect on the next request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    /// The studio a studio admin administers.
    pub studio_id: Option<StudioId>,
}

impl Actor {
    pub fn user(user_id: UserId) -> Actor {
        Actor { user_id, role: Role::User, studio_id: None }
    }

    pub fn studio_admin(user_id: UserId, studio_id: StudioId) -> Actor {
        Actor { user_id, role: Role::StudioAdmin, studio_id: Some(studio_id) }
    }

    pub fn platform_admin(user_id: UserId) -> Actor {
        Actor { user_id, role: Role::PlatformAdmin, studio_id: None }
    }

    /// May this actor manage (and see the private data of) `studio`?
    pub fn manages(&self, studio: StudioId) -> bool {
        match self.role {
            Role::PlatformAdmin => true,
            Role::StudioAdmin => self.studio_id == Some(studio),
            Role::User => false,
        }
    }

    /// Only admins (of a studio, or of the platform) manage a catalogue of
    /// auctions and events; which studio's is decided per item.
    pub fn ensure_manages_catalogue(&self) -> Result<(), DomainError> {
        match self.role {
            Role::User => Err(DomainError::Forbidden("only studio admins manage the catalogue")),
            Role::StudioAdmin | Role::PlatformAdmin => Ok(()),
        }
    }

    /// Whose audit entries the actor may read: a platform admin's, every
    /// studio's (or the one `requested`); a studio admin's, their studio's;
    /// a user's, none.
    pub fn audit_scope(&self, requested: Option<StudioId>) -> Result<Option<StudioId>, DomainError> {
        match self.role {
            Role::PlatformAdmin => Ok(requested),
            Role::StudioAdmin => Ok(self.studio_id),
            Role::User => Err(DomainError::Forbidden("the audit log is for admins")),
        }
    }

    /// Users book; admins (studio and platform) run the catalogue and do not
    /// (SPEC §1). The one rule for holds, grabs and the web client's buttons.
    pub fn may_book(&self) -> bool {
        self.role == Role::User
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_users_book() {
        assert!(Actor::user(UserId(1)).may_book());
        assert!(!Actor::studio_admin(UserId(2), StudioId(1)).may_book());
        assert!(!Actor::platform_admin(UserId(3)).may_book());
    }

    #[test]
    fn only_admins_manage_a_catalogue() {
        assert!(Actor::user(UserId(1)).ensure_manages_catalogue().is_err());
        assert!(Actor::studio_admin(UserId(2), StudioId(1)).ensure_manages_catalogue().is_ok());
        assert!(Actor::platform_admin(UserId(3)).ensure_manages_catalogue().is_ok());
    }
}
