//! Price alerts and mail preferences (SPEC §14): what `POST
//! /auctions/{id}/alerts`, `GET /me/alerts`, the `price_alert` frame and
//! `/me/mail-preferences` take and answer.

use chrono::{DateTime, Utc};
use hothour_domain::Money;
use hothour_domain::alerts::{PriceAlert, PriceAlertSnapshot};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AuctionOut, StudioSummary, schema};

/// "Tell me when this auction's price is at or below this."
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceAlertIn {
    #[schema(value_type = schema::Money)]
    pub below: Money,
}

/// A price alert, with its auction as it stands now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceAlertOut {
    pub id: i64,
    pub auction_id: i64,
    #[schema(value_type = schema::Money)]
    pub below: Money,
    pub created_at: DateTime<Utc>,
    /// It fired already (the price was there when it was made): it is gone,
    /// and a `price_alert` frame and email are on their way.
    pub fired: bool,
    pub auction: AuctionOut,
}

impl PriceAlertOut {
    pub fn of(alert: &PriceAlert, fired: bool, auction: AuctionOut) -> PriceAlertOut {
        PriceAlertOut {
            id: alert.id.0,
            auction_id: alert.auction_id.0,
            below: alert.below,
            created_at: alert.created_at,
            fired,
            auction,
        }
    }
}

/// A fired alert, as the `price_alert` frame carries it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FiredAlertOut {
    /// The alert's id (it is gone now).
    pub id: i64,
    #[schema(value_type = schema::Money)]
    pub below: Money,
    /// The price when it fired.
    #[schema(value_type = schema::Money)]
    pub price: Money,
    /// The auction then.
    pub auction: AuctionOut,
}

impl FiredAlertOut {
    pub fn of(alert: &PriceAlertSnapshot, studio: StudioSummary) -> FiredAlertOut {
        FiredAlertOut {
            id: alert.id.0,
            below: alert.below,
            price: alert.price,
            auction: AuctionOut::of(&alert.auction, studio),
        }
    }
}

/// Which optional email the user gets.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailPreferencesOut {
    /// A reminder before each booked session.
    pub booking_reminder: bool,
    /// An email when a price alert fires (the live notice comes regardless).
    pub price_alert: bool,
}

/// Changes to [`MailPreferencesOut`]; a field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailPreferencesPatch {
    #[serde(default)]
    pub booking_reminder: Option<bool>,
    #[serde(default)]
    pub price_alert: Option<bool>,
}

/// The kinds of email a link can unsubscribe from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptionalMail {
    BookingReminder,
    PriceAlert,
}

/// What an unsubscribe link stopped.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnsubscribedOut {
    pub kind: OptionalMail,
}
