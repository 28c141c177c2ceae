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

/// Outbox kind: every access token issued up to `at` is done for.
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
    /// The latest revocation: tokens issued up to then are done for.
    pub revoked: Option<(DateTime<Utc>, SessionEnd)>,
    pub role_changed: bool,
}

impl SessionNews {
    pub fn merge(&mut self, other: SessionNews) {
        if other.revoked.is_some_and(|(at, _)| self.revoked.is_none_or(|(mine, _)| at >= mine)) {
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
            SessionNews { revoked: Some((event.at, reason)), role_changed: false }
        }
        ROLE_CHANGED => SessionNews { revoked: None, role_changed: true },
        _ => return Some((user, SessionNews::default())),
    };
    Some((user, news))
}

/// Ends, on every instance, the live sessions of every access token of `user`
/// issued up to `at`. Announced before the revocation itself, so that if it
/// cannot be announced nothing is revoked and the request can simply be retried.
pub async fn announce_revocation<S: OutboxStore>(
    store: &S,
    user: UserId,
    reason: SessionEnd,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let data = Announcement { user_id: user.0, reason: Some(reason) }.to_value();
    store.append_event(&announcement_name(user), REVOKED, data, at).await.map(|_| ())
}

/// Tells every instance that `user`'s role changed (after the change committed,
/// so that sockets re-checking it read the new role).
pub async fn announce_role_change<S: OutboxStore>(
    store: &S,
    user: UserId,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let data = Announcement { user_id: user.0, reason: None }.to_value();
    store.append_event(&announcement_name(user), ROLE_CHANGED, data, at).await.map(|_| ())
}

/// The account use cases' [`SessionNotices`], written to the outbox of `S`.
#[derive(Debug, Clone)]
pub struct OutboxSessions<S>(pub S);

impl<S: OutboxStore> SessionNotices for OutboxSessions<S> {
    async fn sessions_revoked(&self, user: UserId, reason: Revocation, at: DateTime<Utc>) -> Result<(), DomainError> {
        let reason = match reason {
            Revocation::LogoutAll => SessionEnd::LogoutAll,
            Revocation::PasswordChanged => SessionEnd::PasswordChanged,
        };
        announce_revocation(&self.0, user, reason, at).await
    }

    async fn role_changed(&self, user: UserId, at: DateTime<Utc>) -> Result<(), DomainError> {
        announce_role_change(&self.0, user, at).await
    }
}

/// When `user`'s tokens were last revoked, and why, if that is still on record.
pub async fn last_revocation<S: OutboxStore>(
    store: &S,
    user: UserId,
) -> Result<Option<(DateTime<Utc>, SessionEnd)>, DomainError> {
    let event = store.latest_event(&announcement_name(user), REVOKED).await?;
    Ok(event.and_then(|event| news_of(&event)).and_then(|(_, news)| news.revoked))
}

/// Whether a token issued at `issued_at` is covered by a revocation at
/// `revoked_at`. A tie counts as covered: refusing a token issued in the very
/// microsecond of a revocation is safer than honouring one issued just before.
pub fn revokes(revoked_at: DateTime<Utc>, issued_at: DateTime<Utc>) -> bool {
    issued_at <= revoked_at
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
        let revoked = event("session:7", REVOKED, json!({"reason": "password_changed"}), at);
        assert_eq!(
            news_of(&revoked),
            Some((UserId(7), SessionNews { revoked: Some((at, SessionEnd::PasswordChanged)), role_changed: false }))
        );
        let role = event("session:7", ROLE_CHANGED, json!({}), at);
        assert_eq!(news_of(&role), Some((UserId(7), SessionNews { revoked: None, role_changed: true })));
        assert_eq!(news_of(&event("user:7", "hold_created", json!({}), at)), None);
    }

    #[test]
    fn news_keeps_the_latest_revocation_and_any_role_change() {
        let at = Utc::now();
        let mut news = SessionNews { revoked: Some((at, SessionEnd::PasswordChanged)), role_changed: false };
        news.merge(SessionNews {
            revoked: Some((at - chrono::Duration::seconds(1), SessionEnd::LogoutAll)),
            role_changed: true,
        });
        assert_eq!(news, SessionNews { revoked: Some((at, SessionEnd::PasswordChanged)), role_changed: true });
        news.merge(SessionNews { revoked: Some((at, SessionEnd::LogoutAll)), role_changed: false });
        assert_eq!(news.revoked, Some((at, SessionEnd::LogoutAll)));
    }
}
