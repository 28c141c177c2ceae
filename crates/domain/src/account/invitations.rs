//! Studio admin invitations (SPEC §7): a platform admin invites an address;
//! whoever reads that mailbox, signed in with that address, accepts and
//! becomes the studio's admin. Never whoever registered the address first:
//! they cannot read the invitation (and an owner takes their address back by
//! resetting its password).

use crate::account::mailbox::{AcceptedInvitation, INVITATION_TTL, Invitation, NewInvitation};
use crate::account::model::{Locale, normalize_email};
use crate::account::ports::{MailboxStore, RefreshTokens, SessionNotices};
use crate::account::studios::Audited;
use crate::actor::{Actor, Role};
use crate::audit::AdminAppointed;
use crate::clock::Clock;
use crate::domain_events::{AuditDetails, AuditEntry};
use crate::error::DomainError;
use crate::ids::{StudioId, UserId};
use crate::ports::AccountStore;
use crate::validation::ValidationErrors;

/// Every use case of invitations.
#[derive(Debug)]
pub struct Invitations<S, C, R, N> {
    store: S,
    clock: C,
    tokens: R,
    notices: N,
}

impl<S, C, R, N> Invitations<S, C, R, N>
where
    S: AccountStore + MailboxStore,
    C: Clock,
    R: RefreshTokens,
    N: SessionNotices,
{
    pub fn new(store: S, clock: C, tokens: R, notices: N) -> Self {
        Invitations { store, clock, tokens, notices }
    }

    /// Emails an invitation to administer studio `studio` to `email`
    /// (platform admins only), written in `locale` or else the inviter's
    /// language. An earlier pending invitation to that address is replaced.
    pub async fn invite(
        &self,
        actor: &Actor,
        studio: StudioId,
        email: &str,
        locale: Option<Locale>,
    ) -> Result<Invitation, DomainError> {
        if actor.role != Role::PlatformAdmin {
            return Err(DomainError::Forbidden("only platform admins invite studio admins"));
        }
        let mut errors = ValidationErrors::new();
        let email = normalize_email(email, &mut errors);
        errors.into_result(())?;
        self.store.find_studio(studio).await?.ok_or(DomainError::NotFound("studio"))?;
        let locale = match locale {
            Some(locale) => locale,
            None => self.store.find_user(actor.user_id).await?.map(|inviter| inviter.locale).unwrap_or_default(),
        };
        let token = self.tokens.draw_mail_token()?;
        let created_at = self.clock.now();
        let invitation = NewInvitation {
            studio_id: studio,
            email,
            locale,
            invited_by: actor.user_id,
            hash: self.tokens.refresh_token_hash(&token),
            token,
            created_at,
            expires_at: created_at + INVITATION_TTL,
        };
        self.store.create_invitation(invitation).await
    }

    /// `user` accepts the invitation `token` names: they become its studio's
    /// admin, their live sessions are told, and the appointment is audited
    /// as the inviter's.
    pub async fn accept(&self, user: UserId, token: &str) -> Result<Audited<AcceptedInvitation>, DomainError> {
        let hash = self.tokens.refresh_token_hash(token);
        let accepted = self.store.accept_invitation(&hash, user, self.clock.now()).await?;
        let (before, after) = (&accepted.before, &accepted.after);
        if (before.role, before.studio_id) != (after.role, after.studio_id) {
            // Their live sockets join private rooms again, under the new role.
            self.notices.role_changed(user, self.clock.now()).await?;
        }
        let details = AuditDetails::StudioAssignAdmin(AdminAppointed::of(after, before.role, before.studio_id));
        let invitation = &accepted.invitation;
        let entry = AuditEntry::new(invitation.invited_by, Some(invitation.studio_id), after.id.to_string(), &details);
        let audit_failure = self.store.record_audit(entry).await.err();
        Ok(Audited { value: accepted, audit_failure })
    }

    /// The studio's pending invitations, by id, at most `limit` after the
    /// cursor (to its admins and platform admins; to anyone else the studio
    /// is not found).
    pub async fn pending(
        &self,
        actor: &Actor,
        studio: StudioId,
        limit: u32,
        after: Option<i64>,
    ) -> Result<Vec<Invitation>, DomainError> {
        if !actor.manages(studio) {
            return Err(DomainError::NotFound("studio"));
        }
        self.store.find_studio(studio).await?.ok_or(DomainError::NotFound("studio"))?;
        self.store.pending_invitations(studio, self.clock.now(), limit, after).await
    }

    /// Revokes a pending invitation (platform admins only): its link opens nothing from now on.
    pub async fn revoke(&self, actor: &Actor, studio: StudioId, id: i64) -> Result<Invitation, DomainError> {
        if actor.role != Role::PlatformAdmin {
            return Err(DomainError::Forbidden("only platform admins revoke invitations"));
        }
        self.store.revoke_invitation(studio, id, self.clock.now()).await
    }
}
