//! Who may see an event: the one rule behind `GET /events/{id}`, holds, the
//! catalogue's inactive listings and the live `event:` room (on joining and on
//! every frame delivered).

use crate::actor::{Actor, Role};
use crate::error::DomainError;
use crate::ids::StudioId;

/// Anyone sees an active event. An inactive (or deleted) one is private to its
/// studio: its studio's admins and platform admins see it; to everyone else it
/// does not exist (404, and its live room ends for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Everyone,
    StudioOnly(StudioId),
}

impl Visibility {
    pub fn of(is_active: bool, studio: StudioId) -> Visibility {
        if is_active { Visibility::Everyone } else { Visibility::StudioOnly(studio) }
    }

    /// May `viewer` (`None`: signed out) see it?
    pub fn allows(self, viewer: Option<&Actor>) -> bool {
        match self {
            Visibility::Everyone => true,
            Visibility::StudioOnly(studio) => viewer.is_some_and(|actor| actor.manages(studio)),
        }
    }
}

/// Whose inactive events a viewer may list, by the same rule as [`Visibility::allows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenEvents {
    /// Every studio's (platform admins).
    OfEveryStudio,
    /// One studio's (its admins).
    OfStudio(StudioId),
    /// None at all.
    Nowhere,
}

impl HiddenEvents {
    pub fn for_viewer(viewer: Option<&Actor>) -> HiddenEvents {
        match viewer {
            Some(actor) if actor.role == Role::PlatformAdmin => HiddenEvents::OfEveryStudio,
            Some(Actor { role: Role::StudioAdmin, studio_id: Some(studio), .. }) => HiddenEvents::OfStudio(*studio),
            _ => HiddenEvents::Nowhere,
        }
    }

    /// The studio a listing of hidden events is narrowed to, given the one
    /// `requested`: none for every studio; another studio than one's own is
    /// not found; a viewer who sees no hidden events is forbidden to list them.
    pub fn studio_filter(self, requested: Option<StudioId>) -> Result<Option<StudioId>, DomainError> {
        match self {
            HiddenEvents::OfEveryStudio => Ok(requested),
            HiddenEvents::OfStudio(own) if requested.is_none_or(|studio| studio == own) => Ok(Some(own)),
            HiddenEvents::OfStudio(_) => Err(DomainError::NotFound("studio")),
            HiddenEvents::Nowhere => {
                Err(DomainError::Forbidden("inactive events are visible to their studio's admins only"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;

    #[test]
    fn inactive_events_are_seen_by_those_who_manage_their_studio_only() {
        let (mine, other) = (StudioId(1), StudioId(2));
        let viewers = [
            None,
            Some(Actor::user(UserId(1))),
            Some(Actor::studio_admin(UserId(2), mine)),
            Some(Actor::studio_admin(UserId(3), other)),
            Some(Actor::platform_admin(UserId(4))),
        ];
        for viewer in &viewers {
            assert!(Visibility::of(true, mine).allows(viewer.as_ref()), "{viewer:?}");
            let sees_hidden = viewer.is_some_and(|v| v.role == Role::PlatformAdmin || v.studio_id == Some(mine));
            assert_eq!(Visibility::of(false, mine).allows(viewer.as_ref()), sees_hidden, "{viewer:?}");
            // Listing agrees with seeing one.
            let listed = match HiddenEvents::for_viewer(viewer.as_ref()) {
                HiddenEvents::OfEveryStudio => true,
                HiddenEvents::OfStudio(studio) => studio == mine,
                HiddenEvents::Nowhere => false,
            };
            assert_eq!(listed, sees_hidden, "{viewer:?}");
        }
    }
}
