//! Idempotency keys: the first answer to a keyed request is stored and replayed.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{IdempotencyBegin, IdempotencyClaim, IdempotencyStore};
use hothour_domain::{DomainError, UserId};
use sea_orm::{ConnectionTrait, QueryResult, TryGetable, Value};

use crate::error::{corrupt, map_db_err_referencing};
use crate::values::time;
use crate::{SqliteStore, execute, query_one, stmt};

fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, DomainError> {
    row.try_get("", column).map_err(|e| corrupt("idempotency", e))
}

impl IdempotencyStore for SqliteStore {
    async fn begin_idempotent(&self, claim: &IdempotencyClaim<'_>) -> Result<IdempotencyBegin, DomainError> {
        let IdempotencyClaim { user, key, request, request_hash, now, lease_until, expires_at } = *claim;
        let (method, path) = request.split_once(' ').unwrap_or((request, ""));
        // Forgetting an expired key, claiming it and reading what is there
        // happen in one write, so two requests with one key cannot both start.
        let write = self.begin_write().await?;
        let result = async {
            execute(
                write.conn(),
                "DELETE FROM idempotency_keys WHERE user_id = $1 AND \"key\" = $2 AND expires_at <= $3",
                [user.0.into(), key.into(), time(now)],
            )
            .await?;
            let values: [Value; 8] = [
                user.0.into(),
                key.into(),
                method.into(),
                path.into(),
                request_hash.into(),
                time(now),
                time(expires_at),
                time(lease_until),
            ];
            let claimed = write
                .conn()
                .execute_raw(stmt(
                    "INSERT INTO idempotency_keys \
                     (user_id, \"key\", method, path, request_hash, created_at, expires_at, lease_until) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, \"key\") DO NOTHING",
                    values,
                ))
                .await
                .map_err(|e| map_db_err_referencing(e, "user"))?
                .rows_affected();
            if claimed == 1 {
                return Ok(IdempotencyBegin::Started);
            }
            // The same request, unanswered, whose lease lapsed (its run crashed
            // or lost its answer): it runs again.
            let values: [Value; 7] = [
                user.0.into(),
                key.into(),
                method.into(),
                path.into(),
                request_hash.into(),
                time(now),
                time(lease_until),
            ];
            let taken_over = execute(
                write.conn(),
                "UPDATE idempotency_keys SET lease_until = $7 \
                 WHERE user_id = $1 AND \"key\" = $2 AND method = $3 AND path = $4 AND request_hash = $5 \
                 AND response_status IS NULL AND (lease_until IS NULL OR lease_until <= $6)",
                values,
            )
            .await?;
            if taken_over == 1 {
                return Ok(IdempotencyBegin::Started);
            }
            let Some(row) = query_one(
                write.conn(),
                "SELECT method, path, request_hash, response_status, response_body FROM idempotency_keys \
                 WHERE user_id = $1 AND \"key\" = $2",
                [user.0.into(), key.into()],
            )
            .await?
            else {
                return Ok(IdempotencyBegin::InProgress);
            };
            if get::<String>(&row, "method")? != method
                || get::<String>(&row, "path")? != path
                || get::<String>(&row, "request_hash")? != request_hash
            {
                return Ok(IdempotencyBegin::Mismatch);
            }
            let status: Option<i64> = get(&row, "response_status")?;
            let body: Option<Vec<u8>> = get(&row, "response_body")?;
            Ok(match status {
                Some(status) => IdempotencyBegin::Replay {
                    status: u16::try_from(status).map_err(|e| corrupt("idempotency", e))?,
                    body: body.unwrap_or_default(),
                },
                None => IdempotencyBegin::InProgress,
            })
        }
        .await;
        write.finish(result).await
    }

    async fn finish_idempotent(&self, user: UserId, key: &str, status: u16, body: Vec<u8>) -> Result<(), DomainError> {
        let values: [Value; 4] = [user.0.into(), key.into(), i64::from(status).into(), body.into()];
        let write = self.begin_write().await?;
        let result = execute(
            write.conn(),
            "UPDATE idempotency_keys SET response_status = $3, response_body = $4 \
             WHERE user_id = $1 AND \"key\" = $2 AND response_status IS NULL",
            values,
        )
        .await
        .map(|_| ());
        write.finish(result).await
    }

    async fn abandon_idempotent(&self, user: UserId, key: &str, lease_until: DateTime<Utc>) -> Result<(), DomainError> {
        let write = self.begin_write().await?;
        let result = execute(
            write.conn(),
            "DELETE FROM idempotency_keys \
             WHERE user_id = $1 AND \"key\" = $2 AND response_status IS NULL AND lease_until = $3",
            [user.0.into(), key.into(), time(lease_until)],
        )
        .await
        .map(|_| ());
        write.finish(result).await
    }

    async fn prune_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let write = self.begin_write().await?;
        let result = execute(write.conn(), "DELETE FROM idempotency_keys WHERE expires_at <= $1", [time(now)]).await;
        write.finish(result).await
    }
}
