//! Price alerts (SPEC §14): "tell me when this auction is under 150.00".
//!
//! An alert fires once, when its auction is ACTIVE (not held) at a price at
//! or below its amount: at once if that is so when it is made, else when the
//! price steps there or a held auction reopens below it. Firing is decided
//! under the auction's lock ([`AuctionAlerts`]), which also loads the
//! auction's alerts: the decision deletes each alert it fires in the same
//! transaction that records its `price_alert` frame and its email, so any
//! number of instances running the job fire it exactly once. Alerts of an
//! auction that ended (sold, expired, cancelled) go without a word; a
//! deleted auction takes its alerts with it.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auction::{Auction, AuctionSnapshot, AuctionStatus};
use crate::domain_events::{Payload, Room};
use crate::error::DomainError;
use crate::ids::{AlertId, AuctionId, UserId};
use crate::mail::{MailKind, Notice};
use crate::money::Money;
use crate::reservation::{Parent, Reservation};
use crate::unit_of_work::{Effects, LockTarget, UnitOfWork};

/// A user's wish to hear when an auction's price reaches `below`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceAlert {
    pub id: AlertId,
    pub user_id: UserId,
    pub auction_id: AuctionId,
    pub below: Money,
    pub created_at: DateTime<Utc>,
}

/// An alert under its auction's lock, with whether its owner still wants
/// the email (they may have unsubscribed from price alerts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedAlert {
    pub alert: PriceAlert,
    pub email: bool,
}

/// A fired alert, as its `price_alert` frame and email tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceAlertSnapshot {
    pub id: AlertId,
    pub user_id: UserId,
    pub below: Money,
    /// The price it fired at.
    pub price: Money,
    /// The auction as it was then.
    pub auction: AuctionSnapshot,
}

/// Locks an auction and loads its alerts: what firing them is decided under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuctionAlerts(pub AuctionId);

impl LockTarget for AuctionAlerts {
    type Unit = AlertsUnit;
}

/// An auction, its live reservation and its alerts, under the auction's lock.
#[derive(Debug, Clone)]
pub struct AlertsUnit {
    pub auction: Auction,
    pub live: Option<Reservation>,
    pub alerts: Vec<WatchedAlert>,
    pub effects: Effects,
}

impl AlertsUnit {
    /// Fires (and deletes) every alert whose amount the price has reached,
    /// when the auction is on sale and not held; deletes every alert of an
    /// auction that ended. Answers the alerts that fired.
    pub fn fire_due(&mut self, now: DateTime<Utc>) -> Vec<AlertId> {
        let view = self.auction.view(self.live.as_ref(), now);
        match view.status {
            AuctionStatus::Sold | AuctionStatus::Expired | AuctionStatus::Cancelled => {
                self.effects.dropped_alerts.extend(self.alerts.drain(..).map(|watched| watched.alert.id));
                Vec::new()
            }
            AuctionStatus::Draft | AuctionStatus::Held => Vec::new(),
            AuctionStatus::Active => {
                let (due, waiting): (Vec<_>, Vec<_>) =
                    self.alerts.drain(..).partition(|watched| view.current_price <= watched.alert.below);
                self.alerts = waiting;
                let snapshot = self.auction.snapshot_with(&view);
                for WatchedAlert { alert, email } in &due {
                    let fired = PriceAlertSnapshot {
                        id: alert.id,
                        user_id: alert.user_id,
                        below: alert.below,
                        price: view.current_price,
                        auction: snapshot.clone(),
                    };
                    self.effects.dropped_alerts.push(alert.id);
                    self.effects.emit(&[Room::User(alert.user_id)], Payload::PriceAlert(fired.clone()));
                    if *email {
                        self.effects.mail(alert.user_id, Notice::PriceAlert { alert: fired });
                    }
                }
                due.into_iter().map(|watched| watched.alert.id).collect()
            }
        }
    }
}

/// Where alerts and mail preferences are kept.
pub trait AlertStore: Send + Sync {
    /// Stores a new alert; [`DomainError::PriceAlertExists`] when the user
    /// already has one on this auction.
    fn create_price_alert(
        &self,
        user: UserId,
        auction: AuctionId,
        below: Money,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<PriceAlert, DomainError>> + Send;

    /// The user's alerts, newest first.
    fn price_alerts_of(&self, user: UserId) -> impl Future<Output = Result<Vec<PriceAlert>, DomainError>> + Send;

    /// Deletes the user's alert `id`; false when they have none by that id.
    fn delete_price_alert(&self, user: UserId, id: AlertId) -> impl Future<Output = Result<bool, DomainError>> + Send;

    /// Auctions with alerts waiting, for the job: up to `limit` of those
    /// after `after`, by id, each with the highest amount waited for.
    fn auctions_with_alerts(
        &self,
        after: AuctionId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(AuctionId, Money)>, DomainError>> + Send;

    /// The kinds of email the user asked not to get.
    fn mail_opt_outs(&self, user: UserId) -> impl Future<Output = Result<Vec<MailKind>, DomainError>> + Send;

    /// Stops (`wanted` false) or resumes email of `kind` to the user.
    fn set_mail_wanted(
        &self,
        user: UserId,
        kind: MailKind,
        wanted: bool,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
}

impl UnitOfWork for AlertsUnit {
    fn into_parts(self) -> (Vec<Parent>, Effects) {
        (vec![Parent::Auction(self.auction)], self.effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::tests::{auction, slot};
    use crate::reservation::ReservationStatus;
    use crate::reservation::tests::t;

    fn watched(id: i64, user: i64, below: &str, email: bool) -> WatchedAlert {
        let alert = PriceAlert {
            id: AlertId(id),
            user_id: UserId(user),
            auction_id: auction().id,
            below: below.parse().unwrap(),
            created_at: t(-30),
        };
        WatchedAlert { alert, email }
    }

    /// The example auction (500.00 from 12:00, 50.00 less every hour) with
    /// an alert under 450.00 (emailed) and one under 400.00 (frame only).
    fn unit() -> AlertsUnit {
        let alerts = vec![watched(1, 11, "450.00", true), watched(2, 12, "400.00", false)];
        AlertsUnit { auction: auction(), live: None, alerts, effects: Effects::default() }
    }

    #[test]
    fn an_alert_fires_once_the_price_on_sale_reaches_it() {
        let mut unit = unit();
        assert_eq!(unit.fire_due(t(-10)), [], "a draft is not on sale");
        assert_eq!(unit.fire_due(t(30)), [], "still 500.00");
        unit.live = Some(slot(ReservationStatus::Hold, "450.00", t(65)));
        assert_eq!(unit.fire_due(t(61)), [], "held at 450.00: not on sale");
        assert_eq!(unit.effects, Effects::default());

        unit.live = None;
        assert_eq!(unit.fire_due(t(61)), [AlertId(1)], "reopened at 450.00");
        assert_eq!(unit.effects.dropped_alerts, [AlertId(1)]);
        let [event] = &unit.effects.events[..] else { panic!("{:?}", unit.effects.events) };
        assert_eq!((event.room, event.kind), (Room::User(UserId(11)), crate::EventKind::PriceAlert));
        assert_eq!((event.data["below"].as_str(), event.data["price"].as_str()), (Some("450.00"), Some("450.00")));
        let [mail] = &unit.effects.mail[..] else { panic!("{:?}", unit.effects.mail) };
        assert_eq!(
            (mail.recipient.user(), mail.notice.kind(), mail.notice.cause()),
            (Some(UserId(11)), MailKind::PriceAlert, "alert:1".into())
        );
        assert_eq!(unit.alerts.len(), 1, "the other waits");
        assert_eq!(unit.fire_due(t(62)), [], "fired once");
    }

    #[test]
    fn an_alert_without_email_still_tells_the_live_room() {
        let mut unit = unit();
        // Turbo from 13:30 brings it to 400.00 or under by 14:00.
        let fired = unit.fire_due(t(119));
        assert_eq!(fired, [AlertId(1), AlertId(2)]);
        assert_eq!(unit.effects.events.len(), 2);
        assert_eq!(unit.effects.mail.len(), 1, "user 12 unsubscribed from price-alert email");
    }

    #[test]
    fn an_ended_auction_drops_its_alerts_without_a_word() {
        let mut unit = unit();
        assert_eq!(unit.fire_due(t(200)), []);
        assert_eq!(unit.effects.dropped_alerts, [AlertId(1), AlertId(2)]);
        assert!(unit.effects.events.is_empty() && unit.effects.mail.is_empty());
    }
}
