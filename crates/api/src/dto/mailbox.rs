//! Proving mailboxes: emailed links (verification, password reset) and
//! studio admin invitations.

use chrono::{DateTime, Utc};
use hothour_domain::account::mailbox::Invitation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema::{self, Limited};

/// The token of an emailed link (`?token=` of the link).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailTokenIn {
    #[schema(example = "mt_2Zb1qg3p7c0Zr6mF0yJmZC1bq2p5VtqzQ4vU8mX9Hk")]
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetIn {
    #[schema(schema_with = schema::KnownEmail::value)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmIn {
    /// The token of the emailed reset link.
    pub token: String,
    /// The new password: at least 8 characters.
    #[schema(schema_with = schema::Password::value)]
    pub password: String,
}

/// An invitation to administer a studio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationOut {
    pub id: i64,
    pub studio_id: i64,
    /// The invited address (lower-case).
    pub email: String,
    /// The platform admin who invited it.
    pub invited_by: i64,
    pub created_at: DateTime<Utc>,
    /// Until when it can be accepted (7 days after it was sent).
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl InvitationOut {
    pub fn of(invitation: &Invitation) -> InvitationOut {
        InvitationOut {
            id: invitation.id,
            studio_id: invitation.studio_id.0,
            email: invitation.email.clone(),
            invited_by: invitation.invited_by.0,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
            accepted_at: invitation.accepted_at,
            revoked_at: invitation.revoked_at,
        }
    }
}

/// One page of a studio's pending invitations; pass `next_cursor` as `?cursor=` for the next.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationPage {
    pub items: Vec<InvitationOut>,
    pub next_cursor: Option<String>,
}
