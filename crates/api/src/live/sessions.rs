//! The sign-in behind a live socket's private rooms (`user:`, `studio:`).
//!
//! Signing out everywhere, changing the password and a change of role are
//! written to the outbox under a `session:{user id}` name (not a room anyone
//! can join), so every instance on the database hears them the way it hears
//! state changes, and each tells its sockets signed in as that user.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{OutboxStore, Revocation, SessionNotices};
use hothour_domain::{DomainError, StoredEvent, UserId};
use serde::{Deserialize, Serialize};

/// Outbox kind: every access token of an earlier session generation is done for.
const REVOKED: &str = "sessions_revoked";
/// Outbox kind: the user's role changed; private rooms must be joined again.
const ROLE_CHANGED: &str = "role_changed";

/// Why a socket's private rooms ended (the `reason` of a `session_ended` frame):
/// - `token_expired`: the access token expired: `auth` again with a fresh one
///   (sending one before `expires_at` extends the sign-in without interruption);
/// - `logout_all`: the user signed out everywhere: sign in again;
/// - `password_changed`: the user changed the password: sign in again;
/// - `role_changed`: the user's role changed; still signed in: join again (the new role decides);
/// - `replaced`: `auth` on this socket signed in another user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    TokenExpired,
    LogoutAll,
    PasswordChanged,
    RoleChanged,
    Replaced,
}

/// What an instance heard about one user's sessions, merged until a socket reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionNews {
    /// The latest revocation: the session generation the user moved to
    /// (tokens of earlier ones are done for), and why.
    pub revoked: Option<(i64, SessionEnd)>,
    pub role_changed: bool,
}

impl SessionNews {
    pub fn merge(&mut self, other: SessionNews) {
        if other.revoked.is_some_and(|(generation, _)| self.revoked.is_none_or(|(mine, _)| generation >= mine)) {
            self.revoked = other.revoked;
        }
        self.role_changed |= other.role_changed;
    }
}

/// What a session announcement stores in the outbox (read by instances, never sent to clients).
#[derive(Serialize)]
struct Announcement {
    user_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<SessionEnd>,
    /// The session generation a revocation moved the user to.
    #[serde(skip_serializing_if = "Option::is_none")]
    generation: Option<i64>,
}

impl Announcement {
    fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an announcement serialises")
    }
}

fn announcement_name(user: UserId) -> String {
    format!("session:{}", user.0)
}

/// The user a stored session announcement is about and what it says, or
/// `None` for an ordinary room event.
pub fn news_of(event: &StoredEvent) -> Option<(UserId, SessionNews)> {
    let user = event.room.strip_prefix("session:")?.parse().ok().map(UserId)?;
    let news = match event.kind.as_str() {
        REVOKED => {
            let reason = match SessionEnd::deserialize(&event.data["reason"]) {
                Ok(reason @ (SessionEnd::LogoutAll | SessionEnd::PasswordChanged)) => reason,
                _ => SessionEnd::LogoutAll,
            };
            // An announcement without a generation (from before generations
            // existed) ends every session the socket may still hold.
            let generation = event.data["generation"].as_i64().unwrap_or(i64::MAX);
            SessionNews { revoked: Some((generation, reason)), role_changed: false }
        }
        ROLE_CHANGED => SessionNews { revoked: None, role_changed: true },
        _ => return Some((user, SessionNews::default())),
    };
    Some((user, news))
}

/// Ends, on every instance, the live sessions and cached sign-ins of every
/// access token of `user` from before session generation `generation`.
pub async fn announce_revocation<S: OutboxStore>(
    store: &S,
    user: UserId,
    reason: SessionEnd,
    generation: i64,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let data = Announcement { user_id: user.0, reason: Some(reason), generation: Some(generation) }.to_value();
    store.append_event(&announcement_name(user), REVOKED, data, at).await.map(|_| ())
}

/// Tells every instance that `user`'s role changed (after the change committed,
/// so that sockets re-checking it read the new role).
pub async fn announce_role_change<S: OutboxStore>(
    store: &S,
    user: UserId,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let data = Announcement { user_id: user.0, reason: None, generation: None }.to_value();
    store.append_event(&announcement_name(user), ROLE_CHANGED, data, at).await.map(|_| ())
}

/// The account use cases' [`SessionNotices`], written to the outbox of `S`.
#[derive(Debug, Clone)]
pub struct OutboxSessions<S>(pub S);

impl<S: OutboxStore> SessionNotices for OutboxSessions<S> {
    async fn sessions_revoked(
        &self,
        user: UserId,
        reason: Revocation,
        generation: i64,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let reason = match reason {
            Revocation::LogoutAll => SessionEnd::LogoutAll,
            Revocation::PasswordChanged => SessionEnd::PasswordChanged,
        };
        announce_revocation(&self.0, user, reason, generation, at).await
    }

    async fn role_changed(&self, user: UserId, at: DateTime<Utc>) -> Result<(), DomainError> {
        announce_role_change(&self.0, user, at).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(room: &str, kind: &str, data: serde_json::Value, at: DateTime<Utc>) -> StoredEvent {
        StoredEvent { seq: 1, room: room.into(), kind: kind.into(), data, at }
    }

    #[test]
    fn announcements_are_told_apart_from_room_events() {
        let at = Utc::now();
        let revoked = event("session:7", REVOKED, json!({"reason": "password_changed", "generation": 3}), at);
        assert_eq!(
            news_of(&revoked),
            Some((UserId(7), SessionNews { revoked: Some((3, SessionEnd::PasswordChanged)), role_changed: false }))
        );
        let role = event("session:7", ROLE_CHANGED, json!({}), at);
        assert_eq!(news_of(&role), Some((UserId(7), SessionNews { revoked: None, role_changed: true })));
        assert_eq!(news_of(&event("user:7", "hold_created", json!({}), at)), None);
    }

    #[test]
    fn news_keeps_the_latest_revocation_and_any_role_change() {
        let mut news = SessionNews { revoked: Some((5, SessionEnd::PasswordChanged)), role_changed: false };
        news.merge(SessionNews { revoked: Some((4, SessionEnd::LogoutAll)), role_changed: true });
        assert_eq!(news, SessionNews { revoked: Some((5, SessionEnd::PasswordChanged)), role_changed: true });
        news.merge(SessionNews { revoked: Some((6, SessionEnd::LogoutAll)), role_changed: false });
        assert_eq!(news.revoked, Some((6, SessionEnd::LogoutAll)));
    }
}
