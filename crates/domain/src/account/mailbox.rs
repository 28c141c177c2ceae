//! Proving mailboxes (SPEC §7): single-use tokens emailed to an address (to
//! verify it, to reset a password) and invitations to administer a studio,
//! accepted by whoever reads the invited mailbox. Only a hash of each token
//! is stored; the token itself travels in the message alone.

use chrono::{DateTime, Duration, Utc};

use crate::account::model::{Locale, User};
use crate::error::DomainError;
use crate::ids::{StudioId, UserId};
use crate::mail::{Mail, Notice, Recipient};

/// How long a verification link works.
pub const VERIFY_EMAIL_TTL: Duration = Duration::days(3);
/// How long a password reset link works.
pub const PASSWORD_RESET_TTL: Duration = Duration::minutes(30);
/// How long an invitation to administer a studio can be accepted.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// What an emailed token of a user is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    VerifyEmail,
    PasswordReset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::PasswordReset => "password_reset",
        }
    }

    /// How long a token of this purpose works.
    pub fn ttl(self) -> Duration {
        match self {
            TokenPurpose::VerifyEmail => VERIFY_EMAIL_TTL,
            TokenPurpose::PasswordReset => PASSWORD_RESET_TTL,
        }
    }
}

/// Why an emailed token opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No such token (or one for something else, or revoked).
    Unknown,
    Expired,
    /// It was used already: each works once.
    Used,
}

/// Whether a token used at `now` still works.
pub fn check_token(expires_at: DateTime<Utc>, used: bool, now: DateTime<Utc>) -> Result<(), TokenProblem> {
    if used {
        Err(TokenProblem::Used)
    } else if expires_at <= now {
        Err(TokenProblem::Expired)
    } else {
        Ok(())
    }
}

/// A token to email to a user: stored as `hash`, sent as `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmailedToken {
    pub purpose: TokenPurpose,
    pub token: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl NewEmailedToken {
    /// The message carrying it to `user`, once stored as `token_id`.
    pub fn mail(&self, user: UserId, token_id: i64) -> Mail {
        let (token, expires_at) = (self.token.clone(), self.expires_at);
        let notice = match self.purpose {
            TokenPurpose::VerifyEmail => Notice::VerifyEmail { token_id, token, expires_at },
            TokenPurpose::PasswordReset => Notice::PasswordReset { token_id, token, expires_at },
        };
        Mail { recipient: Recipient::User(user), notice }
    }
}

/// An invitation to administer a studio, sent to an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub studio_id: StudioId,
    /// Normalised (trimmed, lower-case).
    pub email: String,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// Whether `user` may accept it at `now`: it is pending and theirs (the
    /// address they signed in with is the one invited).
    pub fn check_acceptance(&self, user: &User, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.revoked_at.is_some() {
            return Err(DomainError::TokenRejected(TokenProblem::Unknown));
        }
        check_token(self.expires_at, self.accepted_at.is_some(), now).map_err(DomainError::TokenRejected)?;
        if user.email.to_lowercase() != self.email {
            return Err(DomainError::InvitationForAnotherAddress);
        }
        Ok(())
    }
}

/// An invitation to store, and the message that carries its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub studio_id: StudioId,
    pub email: String,
    /// The language the invitation is written in.
    pub locale: Locale,
    pub invited_by: UserId,
    pub token: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl NewInvitation {
    /// The message carrying it, once stored as `invitation_id`.
    pub fn mail(&self, invitation_id: i64) -> Mail {
        let notice = Notice::StudioInvitation {
            invitation_id,
            token: self.token.clone(),
            studio_id: self.studio_id,
            expires_at: self.expires_at,
        };
        Mail { recipient: Recipient::Address { email: self.email.clone(), locale: self.locale }, notice }
    }
}

/// An invitation accepted: the invitation as it is now, and its user
/// before and after they became the studio's admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedInvitation {
    pub invitation: Invitation,
    pub before: User,
    pub after: User,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::fakes::at;
    use crate::actor::Role;

    fn invitation() -> Invitation {
        Invitation {
            id: 1,
            studio_id: StudioId(1),
            email: "owner@studio.test".into(),
            invited_by: UserId(100),
            created_at: at(0),
            expires_at: at(0) + INVITATION_TTL,
            accepted_at: None,
            revoked_at: None,
        }
    }

    fn user(email: &str) -> User {
        User {
            id: UserId(5),
            email: email.into(),
            full_name: "Owner".into(),
            phone: None,
            role: Role::User,
            studio_id: None,
            created_at: at(0),
            session_generation: 0,
            locale: Locale::En,
            email_verified_at: None,
        }
    }

    #[test]
    fn tokens_work_once_and_until_they_expire() {
        assert_eq!(check_token(at(10), false, at(9)), Ok(()));
        assert_eq!(check_token(at(10), false, at(10)), Err(TokenProblem::Expired));
        assert_eq!(check_token(at(10), true, at(9)), Err(TokenProblem::Used));
    }

    #[test]
    fn an_invitation_is_accepted_by_the_invited_address_only_while_pending() {
        let pending = invitation();
        assert_eq!(pending.check_acceptance(&user("Owner@Studio.test"), at(60)), Ok(()));
        assert_eq!(
            pending.check_acceptance(&user("stranger@example.com"), at(60)),
            Err(DomainError::InvitationForAnotherAddress)
        );
        let late = at(0) + INVITATION_TTL;
        assert_eq!(
            pending.check_acceptance(&user("owner@studio.test"), late),
            Err(DomainError::TokenRejected(TokenProblem::Expired))
        );
        let accepted = Invitation { accepted_at: Some(at(5)), ..invitation() };
        assert_eq!(
            accepted.check_acceptance(&user("owner@studio.test"), at(60)),
            Err(DomainError::TokenRejected(TokenProblem::Used))
        );
        let revoked = Invitation { revoked_at: Some(at(5)), ..invitation() };
        assert_eq!(
            revoked.check_acceptance(&user("owner@studio.test"), at(60)),
            Err(DomainError::TokenRejected(TokenProblem::Unknown))
        );
    }

    #[test]
    fn each_token_is_its_own_cause_so_a_resend_is_a_new_message() {
        let token = |n: &str| NewEmailedToken {
            purpose: TokenPurpose::VerifyEmail,
            token: format!("mt_{n}"),
            hash: format!("h{n}"),
            created_at: at(0),
            expires_at: at(0) + VERIFY_EMAIL_TTL,
        };
        let first = token("1").mail(UserId(5), 1);
        let second = token("2").mail(UserId(5), 2);
        assert_eq!(first.recipient, Recipient::User(UserId(5)));
        assert_ne!(first.notice.cause(), second.notice.cause());
        assert_eq!(first.notice.kind(), crate::mail::MailKind::VerifyEmail);
    }
}
