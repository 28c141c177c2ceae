//! Refresh tokens: stored hashed, rotated within a family, reuse revokes the family.

use chrono::{DateTime, Utc};
use hothour_domain::ports::TokenStore;
use hothour_domain::{DomainError, UserId};
use sea_orm::{ConnectionTrait, Value};

use crate::error::map_db_err_referencing;
use crate::rows::{i64_column, opt_time_column, time_column};
use crate::values::{now, time};
use crate::{SqliteStore, execute, query_one, stmt};

impl TokenStore for SqliteStore {
    async fn issue_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let write = self.begin_write().await?;
        let result = async {
            // A new family is named after its first token: insert, then name
            // the family after the id the row got.
            let values: [Value; 4] = [user.0.into(), token_hash.into(), time(expires_at), now()];
            let row = write
                .conn()
                .query_one_raw(stmt(
                    "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, created_at) \
                     VALUES ($1, 0, $2, $3, $4) RETURNING id",
                    values,
                ))
                .await
                .map_err(|e| map_db_err_referencing(e, "user"))?
                .ok_or_else(|| DomainError::storage_message("INSERT … RETURNING gave no row"))?;
            let id = i64_column(&row, "id")?;
            execute(write.conn(), "UPDATE refresh_tokens SET family_id = id WHERE id = $1", [id.into()]).await?;
            Ok(())
        }
        .await;
        write.finish(result).await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<UserId, DomainError> {
        let write = self.begin_write().await?;
        let result = async {
            let Some(row) = query_one(
                write.conn(),
                "SELECT id, user_id, family_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
                [old_hash.into()],
            )
            .await?
            else {
                return Ok(Err(DomainError::InvalidRefreshToken));
            };
            let id = i64_column(&row, "id")?;
            let user = UserId(i64_column(&row, "user_id")?);
            let family = i64_column(&row, "family_id")?;
            let expires_at = time_column(&row, "expires_at")?;
            let revoked_at = opt_time_column(&row, "revoked_at")?;
            if revoked_at.is_some() {
                // A revoked token came back: someone holds a stolen copy. End the whole family.
                execute(
                    write.conn(),
                    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
                    [family.into(), time(now)],
                )
                .await?;
                tracing::warn!(user = user.0, family, "refresh token reuse: family revoked");
                return Ok(Err(DomainError::InvalidRefreshToken));
            }
            if expires_at <= now {
                return Ok(Err(DomainError::InvalidRefreshToken));
            }
            let values: [Value; 5] = [user.0.into(), family.into(), new_hash.into(), time(new_expires_at), time(now)];
            let new_id = query_one(
                write.conn(),
                "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                values,
            )
            .await?
            .map(|row| i64_column(&row, "id"))
            .transpose()?;
            execute(
                write.conn(),
                "UPDATE refresh_tokens SET revoked_at = $2, replaced_by = $3 WHERE id = $1",
                [id.into(), time(now), new_id.into()],
            )
            .await?;
            Ok(Ok(user))
        }
        .await;
        // The family revocation must be committed even though the caller gets an error.
        write.finish(result).await?
    }

    async fn revoke_refresh_token(&self, user: UserId, token_hash: &str) -> Result<(), DomainError> {
        let write = self.begin_write().await?;
        let result = execute(
            write.conn(),
            "UPDATE refresh_tokens SET revoked_at = $3 WHERE user_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
            [user.0.into(), token_hash.into(), now()],
        )
        .await
        .map(|_| ());
        write.finish(result).await
    }

    async fn revoke_all_refresh_tokens(&self, user: UserId) -> Result<(), DomainError> {
        let write = self.begin_write().await?;
        let result = execute(
            write.conn(),
            "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            [user.0.into(), now()],
        )
        .await
        .map(|_| ());
        write.finish(result).await
    }

    async fn prune_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let write = self.begin_write().await?;
        let result = async {
            // A token that outlives the one it was replaced by still points at it.
            execute(
                write.conn(),
                "UPDATE refresh_tokens SET replaced_by = NULL \
                 WHERE replaced_by IN (SELECT id FROM refresh_tokens WHERE expires_at <= $1)",
                [time(now)],
            )
            .await?;
            execute(write.conn(), "DELETE FROM refresh_tokens WHERE expires_at <= $1", [time(now)]).await
        }
        .await;
        write.finish(result).await
    }
}
