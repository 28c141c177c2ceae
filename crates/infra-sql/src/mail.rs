//! The mail outbox (SPEC §14): messages written by decisions in their own
//! transaction (once per cause, recipient and kind), claimed by senders with
//! a lease, and settled as sent, retried later, or dead.

use chrono::{DateTime, Utc};
use hothour_domain::account::Locale;
use hothour_domain::mail::{Mail, MailFailure, MailOutbox, QueuedMail, Recipient, SECRET_FIELD};
use hothour_domain::{DomainError, UserId};
use sea_orm::{ConnectionTrait, DbBackend, Value};

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
        let mut values = Vec::with_capacity(mail.len() * 8);
        for message in mail {
            let payload = serde_json::to_value(&message.notice).map_err(DomainError::storage)?;
            let (user, email, locale) = match &message.recipient {
                Recipient::User(user) => (Some(user.0), None, None),
                Recipient::Address { email, locale } => (None, Some(email.clone()), Some(locale.as_str().to_owned())),
            };
            values.extend([
                message.notice.kind().as_str().into(),
                message.notice.cause().into(),
                user.into(),
                email.into(),
                locale.into(),
                d.json(&payload),
                d.time(now),
                d.time(now),
            ]);
        }
        // Either unique index (to a user, to an address) may be the one a
        // message recorded again meets.
        let sql = format!(
            "INSERT INTO mail_outbox (kind, cause, recipient_id, recipient_email, recipient_locale, payload, \
             next_attempt_at, created_at) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(mail.len(), 8)
        );
        self.exec_referencing(conn, "user", &sql, values).await?;
        Ok(())
    }
}

impl SqlStore {
    /// The outbox row's payload without the emailed token it may carry
    /// ([`SECRET_FIELD`]): set once its message is sent or given up on. The
    /// store keeps only hashes of such tokens, so the raw one lives in the
    /// outbox just until the message that carries it has left; after that
    /// a copy of the database (a backup, a replica) opens no account.
    fn payload_without_secret(&self) -> String {
        match self.d().backend() {
            DbBackend::Postgres => format!("payload - '{SECRET_FIELD}'"),
            _ => format!("json_remove(payload, '$.{SECRET_FIELD}')"),
        }
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
             RETURNING id, recipient_id, recipient_email, recipient_locale, kind, cause, payload, attempts, \
             created_at, next_attempt_at",
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
                    let recipient = match row.opt_i64("recipient_id")? {
                        Some(user) => Recipient::User(UserId(user)),
                        None => {
                            let locale = row.string("recipient_locale")?;
                            Recipient::Address {
                                email: row.string("recipient_email")?,
                                locale: Locale::parse(&locale).unwrap_or_default(),
                            }
                        }
                    };
                    Ok(QueuedMail {
                        id: row.i64("id")?,
                        recipient,
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
        let sql = format!(
            "UPDATE mail_outbox SET status = 'sent', sent_at = $2, last_error = NULL, payload = {} WHERE id = $1",
            self.payload_without_secret()
        );
        let result = self.exec(write.conn(), &sql, [id.into(), self.d().time(at)]).await;
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
        // A dead letter keeps no secret either.
        let payload = if status == "dead" { self.payload_without_secret() } else { "payload".to_owned() };
        let sql = format!(
            "UPDATE mail_outbox SET status = $3, next_attempt_at = $4, last_error = $5, payload = {payload} \
             WHERE id = $1 AND status = 'pending' AND next_attempt_at = $2"
        );
        let values = [id.into(), d.time(lease_until), status.into(), next, error.into()];
        let result = self.exec(write.conn(), &sql, values).await;
        self.finish(write, result.map(drop)).await
    }
}
