//! The LISTEN side of the fan-out: each committing write NOTIFYs the range of
//! outbox ids it stored.

use hothour_domain::DomainError;
use hothour_infra_sql::{BoxFuture, CommitFeed, Heard};
use sea_orm::sqlx::postgres::PgListener;

/// The channel committing writes notify with `"<first id>,<last id>"`.
pub const CHANNEL: &str = "hothour_outbox";
/// The channel an instance notifies to learn that it has heard every commit
/// made before: notifications arrive in commit order.
pub const SYNC_CHANNEL: &str = "hothour_sync";

pub(crate) struct Listener {
    listener: PgListener,
}

impl Listener {
    pub(crate) async fn connect(url: &str) -> Result<Listener, DomainError> {
        let mut listener = PgListener::connect(url).await.map_err(DomainError::storage)?;
        listener.listen_all([CHANNEL, SYNC_CHANNEL]).await.map_err(DomainError::storage)?;
        Ok(Listener { listener })
    }

    async fn next(&mut self) -> Result<Heard, DomainError> {
        loop {
            match self.listener.try_recv().await.map_err(DomainError::storage)? {
                // The connection was lost and is being re-established:
                // notifications may have been missed.
                None => return Ok(Heard::Reconnected),
                Some(notification) if notification.channel() == SYNC_CHANNEL => {
                    return Ok(Heard::Synced(notification.payload().to_owned()));
                }
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
