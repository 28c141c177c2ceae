//! Idempotency keys: the first answer to a keyed request is stored and replayed.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{IdempotencyBegin, IdempotencyClaim, IdempotencyStore};
use hothour_domain::{DomainError, UserId};
use sea_orm::Value;

use crate::{PgStore, execute, query_one};

impl IdempotencyStore for PgStore {
    async fn begin_idempotent(&self, claim: &IdempotencyClaim<'_>) -> Result<IdempotencyBegin, DomainError> {
        let IdempotencyClaim { user, key, request, request_hash, now, lease_until, expires_at } = *claim;
        // An expired key is forgotten first, so it can be claimed again.
        execute(
            &self.db,
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND expires_at <= $3",
            [user.0.into(), key.into(), now.into()],
        )
        .await?;
        let (method, path) = request.split_once(' ').unwrap_or((request, ""));
        let values: [Value; 8] = [
            user.0.into(),
            key.into(),
            method.into(),
            path.into(),
            request_hash.into(),
            now.into(),
            expires_at.into(),
            lease_until.into(),
        ];
        let claimed = execute(
            &self.db,
            "INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, created_at, expires_at, lease_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, key) DO NOTHING",
            values,
        )
        .await?;
        if claimed == 1 {
            return Ok(IdempotencyBegin::Started);
        }
        // The same request, unanswered, whose lease lapsed (its run crashed or
        // lost its answer): it runs again. Of two retries the row lock lets one win.
        let values: [Value; 7] = [
            user.0.into(),
            key.into(),
            method.into(),
            path.into(),
            request_hash.into(),
            now.into(),
            lease_until.into(),
        ];
        let taken_over = execute(
            &self.db,
            "UPDATE idempotency_keys SET lease_until = $7 \
             WHERE user_id = $1 AND key = $2 AND method = $3 AND path = $4 AND request_hash = $5 \
             AND response_status IS NULL AND (lease_until IS NULL OR lease_until <= $6)",
            values,
        )
        .await?;
        if taken_over == 1 {
            return Ok(IdempotencyBegin::Started);
        }
        let Some(row) = query_one(
            &self.db,
            "SELECT method, path, request_hash, response_status, response_body FROM idempotency_keys \
             WHERE user_id = $1 AND key = $2",
            [user.0.into(), key.into()],
        )
        .await?
        else {
            // Abandoned between our insert and our read: the caller may simply retry.
            return Ok(IdempotencyBegin::InProgress);
        };
        let get = |column: &str| row.try_get::<String>("", column).map_err(|e| crate::error::corrupt("idempotency", e));
        if get("method")? != method || get("path")? != path || get("request_hash")? != request_hash {
            return Ok(IdempotencyBegin::Mismatch);
        }
        let status: Option<i32> =
            row.try_get("", "response_status").map_err(|e| crate::error::corrupt("idempotency", e))?;
        let body: Option<Vec<u8>> =
            row.try_get("", "response_body").map_err(|e| crate::error::corrupt("idempotency", e))?;
        Ok(match status {
            Some(status) => IdempotencyBegin::Replay { status: status as u16, body: body.unwrap_or_default() },
            None => IdempotencyBegin::InProgress,
        })
    }

    async fn finish_idempotent(&self, user: UserId, key: &str, status: u16, body: Vec<u8>) -> Result<(), DomainError> {
        let values: [Value; 4] = [user.0.into(), key.into(), i32::from(status).into(), body.into()];
        execute(
            &self.db,
            "UPDATE idempotency_keys SET response_status = $3, response_body = $4 \
             WHERE user_id = $1 AND key = $2 AND response_status IS NULL",
            values,
        )
        .await
        .map(|_| ())
    }

    async fn abandon_idempotent(&self, user: UserId, key: &str, lease_until: DateTime<Utc>) -> Result<(), DomainError> {
        execute(
            &self.db,
            "DELETE FROM idempotency_keys \
             WHERE user_id = $1 AND key = $2 AND response_status IS NULL AND lease_until = $3",
            [user.0.into(), key.into(), lease_until.into()],
        )
        .await
        .map(|_| ())
    }

    async fn prune_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        execute(&self.db, "DELETE FROM idempotency_keys WHERE expires_at <= $1", [now.into()]).await
    }
}
