//! Price ticks: while an auction room has subscribers, a `price_update` at
//! each step boundary, computed from the schedule's `next_change_at` — the
//! database is read only when the auction's state changed. A failed read is
//! retried with back-off; only an auction that is gone stops its ticker.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytestring::ByteString;
use chrono::{DateTime, Utc};
use hothour_domain::ports::AuctionRecord;
use hothour_domain::{AuctionId, AuctionStatus, Clock, DomainError, Visibility};
use tokio::sync::Notify;

use crate::AppState;
use crate::dto::{AuctionOut, StudioSummary};
use crate::live::fanout::backoff;
use crate::live::protocol::{PriceUpdate, ServerFrame};

pub fn spawn(state: Arc<AppState>, id: AuctionId, changed: Arc<Notify>) {
    // What subscribers last saw: no later than now, as the first subscriber's
    // snapshot is taken after this; then each tick. Read here, not in the task:
    // a step passing before the task first runs must still be announced. A step
    // that passed while the ticker read (or retried) is announced at once
    // instead of waiting for the next one.
    let mut seen_at = state.clock.now();
    tokio::spawn(async move {
        let room = format!("auction:{}", id.0);
        let mut failures = 0;
        while !state.hub.ticker_should_stop(&room) {
            // Register interest before reading, so a change in between is not missed.
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let read = async {
                let (record, view) = state.services.get_auction(id).await?;
                let studio = state.studio_summary(record.auction.studio_id).await?;
                Ok::<_, DomainError>((record, view, studio))
            };
            let (record, view, studio) = match read.await {
                Ok(found) => {
                    failures = 0;
                    found
                }
                Err(DomainError::NotFound(_)) => {
                    state.hub.ticker_gave_up(&room);
                    return;
                }
                // The database is down or busy for a moment: try again later
                // (on the wall clock: it is the database that must recover).
                Err(error) => {
                    failures += 1;
                    state.hub.ticker_read_failures.fetch_add(1, Ordering::Relaxed);
                    let wait = backoff(failures);
                    tracing::warn!(%error, auction = id.0, retry_in_ms = wait.as_millis() as u64, "price ticker cannot read its auction");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            let now = state.clock.now();
            let seen = record.auction.view(record.live.as_ref(), seen_at);
            if seen.current_price != view.current_price || seen.status != view.status {
                announce(&state, &room, &record, &studio, now);
            }
            seen_at = now;
            let next = match view.status {
                AuctionStatus::Active | AuctionStatus::Held | AuctionStatus::Draft => view.next_change_at,
                _ => None,
            };
            let Some(at) = next else {
                notified.await;
                continue;
            };
            tokio::select! {
                _ = state.clock.sleep_until(at) => {
                    let at = state.clock.now();
                    announce(&state, &room, &record, &studio, at);
                    seen_at = at;
                }
                _ = &mut notified => {}
            }
        }
    });
}

/// Sends the room a `price_update` of the auction as it stands at `at`.
fn announce(state: &AppState, room: &str, record: &AuctionRecord, studio: &StudioSummary, at: DateTime<Utc>) {
    let data = AuctionOut::new(&record.auction, &record.auction.view(record.live.as_ref(), at), studio.clone());
    let frame = ServerFrame::PriceUpdate(PriceUpdate { room: room.to_owned(), at, data });
    state.hub.broadcast(room, None, ByteString::from(frame.to_text()), Visibility::Everyone, None);
}
