//! Refresh tokens: stored hashed, rotated within a family, reuse revokes the family.

use chrono::{DateTime, Utc};
use hothour_domain::account::User;
use hothour_domain::ports::{NewRefreshToken, TokenRotation, TokenStore};
use hothour_domain::{DomainError, UserId};
use sea_orm::{ConnectionTrait, Value};

use crate::SqlStore;
use crate::dialect::{LockMode, RowLock};
use crate::rows::USER_COLUMNS;

impl SqlStore {
    /// Locks the user's row and reads it, which serializes a sign-in or a
    /// refresh with "sign out everywhere" and a password change: under READ
    /// COMMITTED an `UPDATE` of every token does not see a token that a
    /// concurrent refresh inserts, so without it a refresh in flight could
    /// issue a token that survives; and the session generation read here is
    /// the one the new access token carries, so a revocation that commits
    /// later refuses it. A revocation takes the same lock with its `UPDATE users`.
    async fn lock_user(&self, conn: &impl ConnectionTrait, user: UserId) -> Result<User, DomainError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 {}", self.d().lock_clause(RowLock::NoKeyUpdate));
        let row = self.one(conn, &sql, [user.0.into()]).await?.ok_or(DomainError::NotFound("user"))?;
        self.read(&row).user()
    }

    /// Revokes every refresh token of `user` and moves them to the next
    /// session generation, within the caller's transaction; answers it.
    pub(crate) async fn revoke_sessions(&self, conn: &impl ConnectionTrait, user: UserId) -> Result<i64, DomainError> {
        let row = self
            .one(
                conn,
                "UPDATE users SET session_generation = session_generation + 1 WHERE id = $1 \
                 RETURNING session_generation",
                [user.0.into()],
            )
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let generation = self.read(&row).i64("session_generation")?;
        self.exec(
            conn,
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            [user.0.into(), self.wall_clock()],
        )
        .await?;
        Ok(generation)
    }
}

impl TokenStore for SqlStore {
    async fn issue_refresh_token(&self, user: UserId, token: NewRefreshToken<'_>) -> Result<i64, DomainError> {
        let write = self.write().await?;
        let result = async {
            let generation = self.lock_user(write.conn(), user).await?.session_generation;
            // A new family is named after its first token: insert, then name
            // the family after the id the row got.
            let values: [Value; 4] =
                [user.0.into(), token.hash.into(), self.d().time(token.expires_at), self.wall_clock()];
            let row = self
                .one_referencing(
                    write.conn(),
                    "user",
                    "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, created_at) \
                     VALUES ($1, 0, $2, $3, $4) RETURNING id",
                    values,
                )
                .await?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let id = self.read(&row).i64("id")?;
            self.exec(write.conn(), "UPDATE refresh_tokens SET family_id = id WHERE id = $1", [id.into()]).await?;
            Ok(generation)
        }
        .await;
        self.finish(write, result).await
    }

    async fn rotate_refresh_token(&self, rotation: TokenRotation<'_>) -> Result<User, DomainError> {
        let TokenRotation { old_hash, new, now } = rotation;
        let d = self.d();
        // A token's owner never changes, so it is read before any lock.
        let owner = self
            .one(&self.db, "SELECT user_id FROM refresh_tokens WHERE token_hash = $1", [old_hash.into()])
            .await?
            .map(|row| self.read(&row).i64("user_id"))
            .transpose()?;
        let Some(owner) = owner else {
            return Err(DomainError::InvalidRefreshToken);
        };
        let write = self.write().await?;
        let result = async {
            let conn = write.conn();
            let owner = match self.lock_user(conn, UserId(owner)).await {
                Err(DomainError::NotFound(_)) => return Ok(Err(DomainError::InvalidRefreshToken)),
                owner => owner?,
            };
            let sql = format!(
                "SELECT id, user_id, family_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 {}",
                d.lock_clause(RowLock::Update(LockMode::Wait))
            );
            let Some(row) = self.one(conn, &sql, [old_hash.into()]).await? else {
                return Ok(Err(DomainError::InvalidRefreshToken));
            };
            let row = self.read(&row);
            let id = row.i64("id")?;
            let family = row.i64("family_id")?;
            if row.opt_time("revoked_at")?.is_some() {
                // A revoked token came back: someone holds a stolen copy. End the whole family.
                self.exec(
                    conn,
                    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
                    [family.into(), d.time(now)],
                )
                .await?;
                tracing::warn!(user = owner.id.0, family, "refresh token reuse: family revoked");
                return Ok(Err(DomainError::InvalidRefreshToken));
            }
            if row.time("expires_at")? <= now {
                return Ok(Err(DomainError::InvalidRefreshToken));
            }
            let values: [Value; 5] =
                [owner.id.0.into(), family.into(), new.hash.into(), d.time(new.expires_at), d.time(now)];
            let new_id = self
                .one(
                    conn,
                    "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    values,
                )
                .await?
                .map(|row| self.read(&row).i64("id"))
                .transpose()?;
            self.exec(
                conn,
                "UPDATE refresh_tokens SET revoked_at = $2, replaced_by = $3 WHERE id = $1",
                [id.into(), d.time(now), new_id.into()],
            )
            .await?;
            Ok(Ok(owner))
        }
        .await;
        // The family revocation must be committed even though the caller gets an error.
        self.finish(write, result).await?
    }

    async fn revoke_refresh_token(&self, user: UserId, token_hash: &str) -> Result<(), DomainError> {
        let write = self.write().await?;
        let result = self
            .exec(
                write.conn(),
                "UPDATE refresh_tokens SET revoked_at = $3 \
                 WHERE user_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
                [user.0.into(), token_hash.into(), self.wall_clock()],
            )
            .await
            .map(|_| ());
        self.finish(write, result).await
    }

    async fn revoke_all_refresh_tokens(&self, user: UserId) -> Result<i64, DomainError> {
        let write = self.write().await?;
        let result = self.revoke_sessions(write.conn(), user).await;
        self.finish(write, result).await
    }

    async fn prune_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let write = self.write().await?;
        let result = async {
            // A token that outlives the one it was replaced by still points at it.
            self.exec(
                write.conn(),
                "UPDATE refresh_tokens SET replaced_by = NULL \
                 WHERE replaced_by IN (SELECT id FROM refresh_tokens WHERE expires_at <= $1)",
                [self.d().time(now)],
            )
            .await?;
            self.exec(write.conn(), "DELETE FROM refresh_tokens WHERE expires_at <= $1", [self.d().time(now)]).await
        }
        .await;
        self.finish(write, result).await
    }
}
