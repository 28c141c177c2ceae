//! The LISTEN side of the fan-out: the outbox relay NOTIFYs each range of
//! outbox ids it announces, in id order.

use hothour_domain::DomainError;
use hothour_infra_sql::{BoxFuture, CommitFeed, Heard};
use sea_orm::sqlx::postgres::PgListener;

/// The channel the relay notifies with `"<first id>,<last id>"`.
pub const CHANNEL: &str = "hothour_outbox";

pub(crate) struct Listener {
    listener: PgListener,
}

impl Listener {
    pub(crate) async fn connect(url: &str) -> Result<Listener, DomainError> {
        let mut listener = PgListener::connect(url).await.map_err(DomainError::storage)?;
        listener.listen(CHANNEL).await.map_err(DomainError::storage)?;
        Ok(Listener { listener })
    }

    async fn next(&mut self) -> Result<Heard, DomainError> {
        loop {
            match self.listener.try_recv().await.map_err(DomainError::storage)? {
                // The connection was lost and is being re-established:
                // notifications may have been missed.
                None => return Ok(Heard::Reconnected),
                Some(notification) => {
                    let parsed = notification
                        .payload()
                        .split_once(',')
                        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                    if let Some((first, last)) = parsed {
                        return Ok(Heard::Range(first, last));
                    }
                    tracing::warn!(payload = notification.payload(), "ignoring a malformed outbox notification");
                }
            }
        }
    }
}

impl CommitFeed for Listener {
    fn recv(&mut self) -> BoxFuture<'_, Result<Heard, DomainError>> {
        Box::pin(self.next())
    }
}
