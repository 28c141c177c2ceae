//! Refresh tokens: stored hashed, rotated within a family, reuse revokes the family.

use chrono::{DateTime, Utc};
use hothour_domain::ports::TokenStore;
use hothour_domain::{DomainError, UserId};
use sea_orm::{DatabaseTransaction, Value};

use crate::rows::i64_column;
use crate::{PgStore, execute, finish, query_one};

impl TokenStore for PgStore {
    async fn issue_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        // A new family is named after its first token.
        let values: [Value; 3] = [user.0.into(), token_hash.into(), expires_at.into()];
        execute(
            &self.db,
            "WITH next AS (SELECT nextval(pg_get_serial_sequence('refresh_tokens', 'id')) AS id) \
             INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) \
             SELECT id, $1, id, $2, $3 FROM next",
            values,
        )
        .await
        .map(|_| ())
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<UserId, DomainError> {
        // A token's owner never changes, so it is read before any lock.
        let owner = query_one(&self.db, "SELECT user_id FROM refresh_tokens WHERE token_hash = $1", [old_hash.into()])
            .await?
            .map(|row| i64_column(&row, "user_id"))
            .transpose()?;
        let Some(owner) = owner else {
            return Err(DomainError::InvalidRefreshToken);
        };
        let txn = self.begin().await?;
        let result = async {
            lock_user(&txn, UserId(owner)).await?;
            let Some(row) = query_one(
                &txn,
                "SELECT id, user_id, family_id, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
                [old_hash.into()],
            )
            .await?
            else {
                return Ok(Err(DomainError::InvalidRefreshToken));
            };
            let id = i64_column(&row, "id")?;
            let user = UserId(i64_column(&row, "user_id")?);
            let family = i64_column(&row, "family_id")?;
            let expires_at: DateTime<Utc> = row.try_get("", "expires_at").map_err(|e| crate::error::corrupt("token", e))?;
            let revoked_at: Option<DateTime<Utc>> =
                row.try_get("", "revoked_at").map_err(|e| crate::error::corrupt("token", e))?;
            if revoked_at.is_some() {
                // A revoked token came back: someone holds a stolen copy. End the whole family.
                execute(
                    &txn,
                    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
                    [family.into(), now.into()],
                )
                .await?;
                tracing::warn!(user = user.0, family, "refresh token reuse: family revoked");
                return Ok(Err(DomainError::InvalidRefreshToken));
            }
            if expires_at <= now {
                return Ok(Err(DomainError::InvalidRefreshToken));
            }
            let values: [Value; 4] = [user.0.into(), family.into(), new_hash.into(), new_expires_at.into()];
            let new_id = query_one(
                &txn,
                "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING id",
                values,
            )
            .await?
            .map(|row| i64_column(&row, "id"))
            .transpose()?;
            execute(
                &txn,
                "UPDATE refresh_tokens SET revoked_at = $2, replaced_by = $3 WHERE id = $1",
                [id.into(), now.into(), new_id.into()],
            )
            .await?;
            Ok(Ok(user))
        }
        .await;
        // The family revocation must be committed even though the caller gets an error.
        finish(txn, result).await?
    }

    async fn revoke_refresh_token(&self, user: UserId, token_hash: &str) -> Result<(), DomainError> {
        execute(
            &self.db,
            "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
            [user.0.into(), token_hash.into()],
        )
        .await
        .map(|_| ())
    }

    async fn revoke_all_refresh_tokens(&self, user: UserId) -> Result<(), DomainError> {
        let txn = self.begin().await?;
        let result = async {
            lock_user(&txn, user).await?;
            execute(
                &txn,
                "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
                [user.0.into()],
            )
            .await
        }
        .await;
        finish(txn, result).await.map(|_| ())
    }

    async fn prune_refresh_tokens(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let txn = self.begin().await?;
        let result = async {
            // A token that outlives the one it was replaced by still points at it.
            execute(
                &txn,
                "UPDATE refresh_tokens SET replaced_by = NULL \
                 WHERE replaced_by IN (SELECT id FROM refresh_tokens WHERE expires_at <= $1)",
                [now.into()],
            )
            .await?;
            execute(&txn, "DELETE FROM refresh_tokens WHERE expires_at <= $1", [now.into()]).await
        }
        .await;
        finish(txn, result).await
    }
}

/// Locks the user's row, which serializes a refresh with "sign out
/// everywhere" and a password change: under READ COMMITTED an `UPDATE` of
/// every token does not see a token that a concurrent refresh inserts, so
/// without it a refresh in flight could issue a token that survives.
/// A password change takes the same lock with its `UPDATE users`.
/// `NO KEY UPDATE` leaves inserts that refer to the user unblocked.
async fn lock_user(txn: &DatabaseTransaction, user: UserId) -> Result<(), DomainError> {
    query_one(txn, "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", [user.0.into()]).await.map(|_| ())
}
