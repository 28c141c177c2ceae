//! The mail outbox (SPEC §14): messages written by decisions in their own
//! transaction (once per cause, recipient and kind), claimed by senders with
//! a lease, and settled as sent, retried later, or dead.

use chrono::{DateTime, Utc};
use hothour_domain::mail::{Mail, MailFailure, MailOutbox, QueuedMail};
use hothour_domain::{DomainError, UserId};
use sea_orm::{ConnectionTrait, Value};

use crate::SqlStore;
use crate::dialect::{LockMode, RowLock};
use crate::sql::placeholders;

impl SqlStore {
    /// Records a decision's messages, due at once; one already recorded for
    /// the same cause, recipient and kind is left as it is.
    pub(crate) async fn write_mail(
        &self,
        conn: &impl ConnectionTrait,
        mail: &[Mail],
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if mail.is_empty() {
            return Ok(());
        }
        let d = self.d();
        let mut values = Vec::with_capacity(mail.len() * 6);
        for message in mail {
            let payload = serde_json::to_value(&message.notice).map_err(DomainError::storage)?;
            values.extend([
                message.notice.kind().as_str().into(),
                message.notice.cause().into(),
                message.recipient.0.into(),
                d.json(&payload),
                d.time(now),
                d.time(now),
            ]);
        }
        let sql = format!(
            "INSERT INTO mail_outbox (kind, cause, recipient_id, payload, next_attempt_at, created_at) VALUES {} \
             ON CONFLICT (cause, recipient_id, kind) DO NOTHING",
            placeholders(mail.len(), 6)
        );
        self.exec_referencing(conn, "user", &sql, values).await?;
        Ok(())
    }
}

impl MailOutbox for SqlStore {
    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedMail>, DomainError> {
        let d = self.d();
        // PostgreSQL: rows another sender is claiming are skipped, not waited
        // for. SQLite: the write turn makes the claim the only writer.
        let sql = format!(
            "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
                          ORDER BY next_attempt_at, id LIMIT $3 {}) \
             AND status = 'pending' AND next_attempt_at <= $1 \
             RETURNING id, recipient_id, kind, cause, payload, attempts, created_at, next_attempt_at",
            d.lock_clause(RowLock::Update(LockMode::Skip))
        );
        let write = self.write().await?;
        let result = async {
            let values = [d.time(now), d.time(lease_until), i64::from(limit).into()];
            let rows = self.all(write.conn(), &sql, values).await?;
            let mut claimed = rows
                .iter()
                .map(|row| {
                    let row = self.read(row);
                    Ok(QueuedMail {
                        id: row.i64("id")?,
                        recipient: UserId(row.i64("recipient_id")?),
                        kind: row.string("kind")?,
                        cause: row.string("cause")?,
                        payload: row.json("payload")?,
                        attempts: row.count("attempts")?,
                        created_at: row.time("created_at")?,
                        lease_until: row.time("next_attempt_at")?,
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()?;
            // RETURNING keeps no order.
            claimed.sort_by_key(|mail| mail.id);
            Ok(claimed)
        }
        .await;
        self.finish(write, result).await
    }

    async fn mail_sent(&self, id: i64, at: DateTime<Utc>) -> Result<(), DomainError> {
        let write = self.write().await?;
        let sql = "UPDATE mail_outbox SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1";
        let result = self.exec(write.conn(), sql, [id.into(), self.d().time(at)]).await;
        self.finish(write, result.map(drop)).await
    }

    async fn mail_failed(
        &self,
        id: i64,
        lease_until: DateTime<Utc>,
        failure: MailFailure,
        error: &str,
    ) -> Result<(), DomainError> {
        let d = self.d();
        let (status, next): (&str, Value) = match failure {
            MailFailure::RetryAt(at) => ("pending", d.time(at)),
            MailFailure::Dead => ("dead", d.time(lease_until)),
        };
        // Errors quote what the server said; a line is plenty.
        let error: String = error.chars().take(1000).collect();
        let write = self.write().await?;
        let sql = "UPDATE mail_outbox SET status = $3, next_attempt_at = $4, last_error = $5 \
                   WHERE id = $1 AND status = 'pending' AND next_attempt_at = $2";
        let values = [id.into(), d.time(lease_until), status.into(), next, error.into()];
        let result = self.exec(write.conn(), sql, values).await;
        self.finish(write, result.map(drop)).await
    }
}
