//! Price ticks: while an auction room has subscribers, a `price_update` at
//! each step boundary, computed from the schedule's `next_change_at` — the
//! database is read only when the auction's state changed.

use std::sync::Arc;

use hothour_domain::{AuctionId, AuctionStatus, Clock};
use tokio::sync::Notify;

use crate::AppState;
use crate::live::plain_frame;

pub fn spawn(state: Arc<AppState>, id: AuctionId, changed: Arc<Notify>) {
    tokio::spawn(async move {
        let room = format!("auction:{}", id.0);
        while !state.hub.ticker_should_stop(&room) {
            // Register interest before reading, so a change in between is not missed.
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let Ok((record, view)) = state.services.get_auction(id).await else {
                state.hub.ticker_gave_up(&room);
                return;
            };
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
                    let now = state.clock.now();
                    let data = record.auction.to_json(record.live.as_ref(), now);
                    state.hub.broadcast(&room, None, Arc::from(plain_frame("price_update", Some(&room), now, data)));
                }
                _ = &mut notified => {}
            }
        }
    });
}
