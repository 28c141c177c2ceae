//! Idempotency keys: the first answer to a keyed request is stored and replayed.

use chrono::{DateTime, Utc};
use hothour_domain::ports::{IdempotencyBegin, IdempotencyClaim, IdempotencyStore};
use hothour_domain::{DomainError, UserId};
use sea_orm::Value;

use crate::SqlStore;
use crate::rows::corrupt;

impl IdempotencyStore for SqlStore {
    async fn begin_idempotent(&self, claim: &IdempotencyClaim<'_>) -> Result<IdempotencyBegin, DomainError> {
        let IdempotencyClaim { user, key, request, request_hash, now, lease_until, expires_at } = *claim;
        let d = self.d();
        let (method, path) = request.split_once(' ').unwrap_or((request, ""));
        // Forgetting an expired key, claiming it and reading what is there
        // happen in one write, so two requests with one key cannot both start.
        let write = self.write().await?;
        let result = async {
            let conn = write.conn();
            self.exec(
                conn,
                "DELETE FROM idempotency_keys WHERE user_id = $1 AND \"key\" = $2 AND expires_at <= $3",
                [user.0.into(), key.into(), d.time(now)],
            )
            .await?;
            // The request as the key remembers it, then the instant it is claimed at.
            let request = [user.0.into(), key.into(), method.into(), path.into(), request_hash.into(), d.time(now)];
            let values: Vec<Value> = request.iter().cloned().chain([d.time(expires_at), d.time(lease_until)]).collect();
            let claimed = self
                .exec_referencing(
                    conn,
                    "user",
                    "INSERT INTO idempotency_keys \
                     (user_id, \"key\", method, path, request_hash, created_at, expires_at, lease_until) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, \"key\") DO NOTHING",
                    values,
                )
                .await?;
            if claimed == 1 {
                return Ok(IdempotencyBegin::Started);
            }
            // The same request, unanswered, whose lease lapsed (its run crashed
            // or lost its answer): it runs again. Of two retries one wins.
            let values: Vec<Value> = request.into_iter().chain([d.time(lease_until)]).collect();
            let taken_over = self
                .exec(
                    conn,
                    "UPDATE idempotency_keys SET lease_until = $7 \
                     WHERE user_id = $1 AND \"key\" = $2 AND method = $3 AND path = $4 AND request_hash = $5 \
                     AND response_status IS NULL AND (lease_until IS NULL OR lease_until <= $6)",
                    values,
                )
                .await?;
            if taken_over == 1 {
                return Ok(IdempotencyBegin::Started);
            }
            let Some(row) = self
                .one(
                    conn,
                    "SELECT method, path, request_hash, response_status, response_body FROM idempotency_keys \
                     WHERE user_id = $1 AND \"key\" = $2",
                    [user.0.into(), key.into()],
                )
                .await?
            else {
                // Abandoned between our insert and our read: the caller may simply retry.
                return Ok(IdempotencyBegin::InProgress);
            };
            let row = self.read(&row);
            if row.string("method")? != method
                || row.string("path")? != path
                || row.string("request_hash")? != request_hash
            {
                return Ok(IdempotencyBegin::Mismatch);
            }
            Ok(match row.opt_int("response_status")? {
                Some(status) => IdempotencyBegin::Replay {
                    status: u16::try_from(status).map_err(|e| corrupt("idempotency", e))?,
                    body: row.bytes("response_body")?.unwrap_or_default(),
                },
                None => IdempotencyBegin::InProgress,
            })
        }
        .await;
        self.finish(write, result).await
    }

    async fn finish_idempotent(&self, user: UserId, key: &str, status: u16, body: Vec<u8>) -> Result<(), DomainError> {
        let values: [Value; 4] = [user.0.into(), key.into(), self.d().int(i64::from(status)), body.into()];
        let write = self.write().await?;
        let result = self
            .exec(
                write.conn(),
                "UPDATE idempotency_keys SET response_status = $3, response_body = $4 \
                 WHERE user_id = $1 AND \"key\" = $2 AND response_status IS NULL",
                values,
            )
            .await
            .map(|_| ());
        self.finish(write, result).await
    }

    async fn abandon_idempotent(&self, user: UserId, key: &str, lease_until: DateTime<Utc>) -> Result<(), DomainError> {
        let write = self.write().await?;
        let result = self
            .exec(
                write.conn(),
                "DELETE FROM idempotency_keys \
                 WHERE user_id = $1 AND \"key\" = $2 AND response_status IS NULL AND lease_until = $3",
                [user.0.into(), key.into(), self.d().time(lease_until)],
            )
            .await
            .map(|_| ());
        self.finish(write, result).await
    }

    async fn prune_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let write = self.write().await?;
        let result =
            self.exec(write.conn(), "DELETE FROM idempotency_keys WHERE expires_at <= $1", [self.d().time(now)]).await;
        self.finish(write, result).await
    }
}
