//! Emailed tokens (verification, password reset) and studio invitations,
//! each stored as a hash with the message that carries it, in one write.

use chrono::{DateTime, Utc};
use hothour_domain::account::NewUser;
use hothour_domain::account::User;
use hothour_domain::account::mailbox::{
    AcceptedInvitation, Invitation, NewEmailedToken, NewInvitation, TokenProblem, TokenPurpose, check_token,
};
use hothour_domain::account::ports::MailboxStore;
use hothour_domain::{DomainError, StudioId, UserId};
use sea_orm::{ConnectionTrait, Value};

use crate::SqlStore;
use crate::accounts::returned;
use crate::dialect::{LockMode, RowLock};
use crate::rows::{Reader, USER_COLUMNS};

const INVITATION_COLUMNS: &str = "id, studio_id, email, invited_by, created_at, expires_at, accepted_at, revoked_at";

fn invitation(row: Reader<'_>) -> Result<Invitation, DomainError> {
    Ok(Invitation {
        id: row.i64("id")?,
        studio_id: StudioId(row.i64("studio_id")?),
        email: row.string("email")?,
        invited_by: UserId(row.i64("invited_by")?),
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        accepted_at: row.opt_time("accepted_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

impl SqlStore {
    fn update_lock(&self) -> &'static str {
        self.d().lock_clause(RowLock::Update(LockMode::Wait))
    }

    /// Stores `token` for `user` and records the message carrying it.
    async fn insert_emailed_token(
        &self,
        conn: &impl ConnectionTrait,
        user: UserId,
        token: &NewEmailedToken,
    ) -> Result<(), DomainError> {
        let d = self.d();
        let values: [Value; 5] = [
            user.0.into(),
            token.purpose.as_str().into(),
            token.hash.clone().into(),
            d.time(token.expires_at),
            d.time(token.created_at),
        ];
        let sql = "INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at, created_at) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let row = self.one_referencing(conn, "user", sql, values).await?.ok_or_else(returned)?;
        let id = self.read(&row).i64("id")?;
        self.write_mail(conn, &[token.mail(user, id)], token.created_at).await
    }

    /// Uses the token of `purpose` stored as `hash` at `now` (locked, checked,
    /// marked used) within the caller's transaction; answers its user.
    async fn use_emailed_token(
        &self,
        conn: &impl ConnectionTrait,
        purpose: TokenPurpose,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<UserId, DomainError> {
        let sql = format!(
            "SELECT id, user_id, expires_at, used_at FROM account_tokens WHERE token_hash = $1 AND purpose = $2 {}",
            self.update_lock()
        );
        let row = self
            .one(conn, &sql, [hash.into(), purpose.as_str().into()])
            .await?
            .ok_or(DomainError::TokenRejected(TokenProblem::Unknown))?;
        let row = self.read(&row);
        check_token(row.time("expires_at")?, row.opt_time("used_at")?.is_some(), now)
            .map_err(DomainError::TokenRejected)?;
        self.exec(
            conn,
            "UPDATE account_tokens SET used_at = $2 WHERE id = $1",
            [row.i64("id")?.into(), self.d().time(now)],
        )
        .await?;
        Ok(UserId(row.i64("user_id")?))
    }

    /// Marks `user`'s address verified from `now`, unless it already was.
    async fn mark_verified(
        &self,
        conn: &impl ConnectionTrait,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<User, DomainError> {
        let sql = format!(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let row = self.one(conn, &sql, [user.0.into(), self.d().time(now)]).await?;
        self.read(&row.ok_or(DomainError::NotFound("user"))?).user()
    }
}

impl MailboxStore for SqlStore {
    async fn create_user_with_token(&self, user: NewUser, token: NewEmailedToken) -> Result<User, DomainError> {
        let write = self.write().await?;
        let result = async {
            let user = self.insert_user(write.conn(), user).await?;
            self.insert_emailed_token(write.conn(), user.id, &token).await?;
            Ok(user)
        }
        .await;
        self.finish(write, result).await
    }

    async fn issue_emailed_token(&self, user: UserId, token: NewEmailedToken) -> Result<(), DomainError> {
        let write = self.write().await?;
        let result = self.insert_emailed_token(write.conn(), user, &token).await;
        self.finish(write, result).await
    }

    async fn verify_email(&self, token_hash: &str, now: DateTime<Utc>) -> Result<User, DomainError> {
        let write = self.write().await?;
        let result = async {
            let user = self.use_emailed_token(write.conn(), TokenPurpose::VerifyEmail, token_hash, now).await?;
            self.mark_verified(write.conn(), user, now).await
        }
        .await;
        self.finish(write, result).await
    }

    async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> Result<(UserId, i64), DomainError> {
        let write = self.write().await?;
        let result = async {
            let conn = write.conn();
            let user = self.use_emailed_token(conn, TokenPurpose::PasswordReset, token_hash, now).await?;
            let d = self.d();
            self.exec(
                conn,
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                [user.0.into(), password_hash.into(), self.wall_clock()],
            )
            .await?;
            self.mark_verified(conn, user, now).await?;
            // Every other reset link of theirs is spent too.
            self.exec(
                conn,
                "UPDATE account_tokens SET used_at = $2 WHERE user_id = $1 AND purpose = $3 AND used_at IS NULL",
                [user.0.into(), d.time(now), TokenPurpose::PasswordReset.as_str().into()],
            )
            .await?;
            Ok((user, self.revoke_sessions(conn, user).await?))
        }
        .await;
        self.finish(write, result).await
    }

    async fn create_invitation(&self, new: NewInvitation) -> Result<Invitation, DomainError> {
        let d = self.d();
        let write = self.write().await?;
        let result = async {
            let conn = write.conn();
            self.exec(
                conn,
                "UPDATE studio_invitations SET revoked_at = $3 \
                 WHERE studio_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
                [new.studio_id.0.into(), new.email.clone().into(), d.time(new.created_at)],
            )
            .await?;
            let sql = format!(
                "INSERT INTO studio_invitations (studio_id, email, token_hash, invited_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {INVITATION_COLUMNS}"
            );
            let values: [Value; 6] = [
                new.studio_id.0.into(),
                new.email.clone().into(),
                new.hash.clone().into(),
                new.invited_by.0.into(),
                d.time(new.created_at),
                d.time(new.expires_at),
            ];
            let row = self.one_referencing(conn, "studio", &sql, values).await?.ok_or_else(returned)?;
            let stored = invitation(self.read(&row))?;
            self.write_mail(conn, &[new.mail(stored.id)], new.created_at).await?;
            Ok(stored)
        }
        .await;
        self.finish(write, result).await
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<AcceptedInvitation, DomainError> {
        let write = self.write().await?;
        let result = async {
            let conn = write.conn();
            let lock = self.update_lock();
            let sql = format!("SELECT {INVITATION_COLUMNS} FROM studio_invitations WHERE token_hash = $1 {lock}");
            let row = self
                .one(conn, &sql, [token_hash.into()])
                .await?
                .ok_or(DomainError::TokenRejected(TokenProblem::Unknown))?;
            let pending = invitation(self.read(&row))?;
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 {lock}");
            let row = self.one(conn, &sql, [user.0.into()]).await?.ok_or(DomainError::NotFound("user"))?;
            let before = self.read(&row).user()?;
            pending.check_acceptance(&before, now)?;
            self.appoint_locked(conn, before.clone(), pending.studio_id).await?;
            let after = self.mark_verified(conn, user, now).await?;
            let sql = format!(
                "UPDATE studio_invitations SET accepted_at = $2, accepted_by = $3 WHERE id = $1 \
                 RETURNING {INVITATION_COLUMNS}"
            );
            let row = self.one(conn, &sql, [pending.id.into(), self.d().time(now), user.0.into()]).await?;
            let invitation = invitation(self.read(&row.ok_or_else(returned)?))?;
            Ok(AcceptedInvitation { invitation, before, after })
        }
        .await;
        self.finish(write, result).await
    }

    async fn pending_invitations(
        &self,
        studio: StudioId,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<i64>,
    ) -> Result<Vec<Invitation>, DomainError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM studio_invitations \
             WHERE studio_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 AND id > $3 \
             ORDER BY id LIMIT $4"
        );
        let values: [Value; 4] =
            [studio.0.into(), self.d().time(now), after.unwrap_or(0).into(), i64::from(limit).into()];
        self.all(&self.db, &sql, values).await?.iter().map(|row| invitation(self.read(row))).collect()
    }

    async fn revoke_invitation(
        &self,
        studio: StudioId,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Invitation, DomainError> {
        let sql = format!(
            "UPDATE studio_invitations SET revoked_at = $3 \
             WHERE id = $1 AND studio_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL \
             RETURNING {INVITATION_COLUMNS}"
        );
        let values = [id.into(), studio.0.into(), self.d().time(now)];
        self.write_returning(&sql, values, DomainError::NotFound("invitation"), invitation).await
    }
}
