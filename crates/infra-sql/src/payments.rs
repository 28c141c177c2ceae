//! What the payment flows keep beside reservations: provider events applied
//! once, and the payments the refund and reconciliation jobs look after.

use chrono::{DateTime, Utc};
use hothour_domain::payments::IntentId;
use hothour_domain::ports::PaymentRecords;
use hothour_domain::{DomainError, ReservationId};

use crate::SqlStore;

impl PaymentRecords for SqlStore {
    async fn provider_event_seen(&self, provider: &str, id: &str) -> Result<bool, DomainError> {
        let sql = "SELECT 1 AS seen FROM payment_events WHERE provider = $1 AND event_id = $2";
        Ok(self.one(&self.db, sql, [provider.into(), id.into()]).await?.is_some())
    }

    async fn record_provider_event(&self, provider: &str, id: &str, at: DateTime<Utc>) -> Result<(), DomainError> {
        let write = self.write().await?;
        let sql = "INSERT INTO payment_events (provider, event_id, received_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (provider, event_id) DO NOTHING";
        let result = self.exec(write.conn(), sql, [provider.into(), id.into(), self.d().time(at)]).await;
        self.finish(write, result.map(drop)).await
    }

    async fn refunds_due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<ReservationId>, DomainError> {
        let sql = "SELECT id FROM reservations WHERE payment_status = 'refund_pending' \
                   AND (next_refund_at IS NULL OR next_refund_at <= $1) ORDER BY id LIMIT $2";
        let rows = self.all(&self.db, sql, [self.d().time(now), i64::from(limit).into()]).await?;
        rows.iter().map(|row| self.read(row).i64("id").map(ReservationId)).collect()
    }

    async fn payments_awaiting_provider(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(ReservationId, IntentId)>, DomainError> {
        let sql = "SELECT id, payment_intent FROM reservations \
                   WHERE payment_status IN ('requires_payment', 'processing') AND payment_intent IS NOT NULL \
                   AND updated_at < $1 ORDER BY id LIMIT $2";
        let rows = self.all(&self.db, sql, [self.d().time(before), i64::from(limit).into()]).await?;
        rows.iter()
            .map(|row| {
                let read = self.read(row);
                Ok((ReservationId(read.i64("id")?), IntentId(read.string("payment_intent")?)))
            })
            .collect()
    }
}
