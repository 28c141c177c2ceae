//! The JSON shapes of the API (SPEC §8) and their OpenAPI schemas.
//! Request bodies are strict: an unknown field is refused.

use chrono::{DateTime, Utc};
use hothour_domain::account::{Studio, User};
use hothour_domain::ports::{AuditRecord, EventRecord, SessionSummary};
use hothour_domain::{
    Auction, AuctionSnapshot, AuctionView, EventSnapshot, Money, PriceStep, Reservation, ReservationSnapshot,
    ValidationErrors,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

pub mod schema;

use self::schema::Limited;
use crate::json::validation_problem;
use crate::problem::Problem;

/// Tells a field left out (`None`) from one set to null (`Some(None)`).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The longest interval in minutes (a year).
pub const MAX_MINUTES: i64 = 525_600;

/// Whole minutes as a duration; out-of-range values are a field error.
pub fn minutes(value: i64, field: &str, errors: &mut ValidationErrors) -> chrono::Duration {
    match chrono::Duration::try_minutes(value).filter(|_| (1..=MAX_MINUTES).contains(&value)) {
        Some(duration) => duration,
        None => {
            errors.add(field, "must be between 1 and 525600 minutes");
            chrono::Duration::minutes(1)
        }
    }
}

// --- closed sets ------------------------------------------------------------

/// Parses a query parameter as one of a closed set, naming it when it is not.
pub fn parse_choice<T: serde::de::DeserializeOwned + Choices>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<T>, Problem> {
    value
        .map(|v| {
            serde_json::from_value(serde_json::Value::String(v.to_owned())).map_err(|_| {
                let choices = serde_json::to_value(T::choices()).unwrap_or_default();
                validation_problem(field.to_owned(), format!("must be one of {choices}"))
            })
        })
        .transpose()
}

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident, $case:tt, [$($variant:ident),*]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = $case)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),*];
        }

        impl Choices for $name {
            fn choices() -> &'static [Self] {
                $name::ALL
            }
        }
    };
}

pub trait Choices: Sized + Serialize + 'static {
    fn choices() -> &'static [Self];
}

closed_set!(
    /// How to send the access token.
    TokenType, "PascalCase", [Bearer]
);
closed_set!(
    /// Which events to list by `is_active`.
    ActiveChoice, "snake_case", [True, False, All]
);

pub use hothour_domain::reservation::PaymentStatus;
/// The domain's closed sets, which describe themselves in the contract.
pub use hothour_domain::{AuctionStatus, Phase as PricePhase, ReservationKind, ReservationStatus, Role as UserRole};

impl Choices for AuctionStatus {
    fn choices() -> &'static [Self] {
        &AuctionStatus::ALL
    }
}

impl Choices for ReservationStatus {
    fn choices() -> &'static [Self] {
        &ReservationStatus::ALL
    }
}

// --- accounts ---------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub role: UserRole,
    pub studio_id: Option<i64>,
}

impl From<&User> for UserOut {
    fn from(user: &User) -> Self {
        UserOut {
            id: user.id.0,
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            phone: user.phone.clone(),
            role: user.role,
            studio_id: user.studio_id.map(|s| s.0),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokensOut {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserOut,
}

/// The tokens of a sign-in (login or register), with the client's device token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignInOut {
    #[serde(flatten)]
    pub tokens: TokensOut,
    /// Shows that this client has signed in to this account before. Keep it
    /// (it outlives signing out) and send it as `device_token` with later
    /// logins to this account: such a login is limited by this device's own
    /// budget only, so guesses from elsewhere never lock this client out
    /// (every attempt with it counts against it). It names the user and is
    /// signed by the server; it is no access token. Each sign-in answers a
    /// fresh one; a token for another account, or an expired one (after a
    /// year), is ignored.
    pub device_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterIn {
    #[schema(schema_with = schema::Email::value)]
    pub email: String,
    /// At least 8 characters.
    #[schema(schema_with = schema::Password::value)]
    pub password: String,
    #[schema(schema_with = schema::FullName::value)]
    pub full_name: String,
    #[serde(default)]
    #[schema(schema_with = schema::Phone::or_null)]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    #[schema(schema_with = schema::KnownEmail::value)]
    pub email: String,
    pub password: String,
    /// The `device_token` an earlier sign-in to this account answered on
    /// this client, if any (see `SignInOut`).
    #[serde(default)]
    pub device_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshIn {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchIn {
    #[serde(default)]
    #[schema(schema_with = schema::FullName::or_null)]
    pub full_name: Option<String>,
    /// Null clears the phone number.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schema::Phone::or_null)]
    pub phone: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    pub current_password: String,
    #[schema(schema_with = schema::Password::value)]
    pub new_password: String,
}

// --- studios ----------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudioOut {
    pub id: i64,
    pub name: String,
    pub address: String,
    // IANA time zone, for display.
    #[schema(value_type = schema::TimeZone)]
    pub timezone: String,
    pub maps_url: Option<String>,
}

impl From<&Studio> for StudioOut {
    fn from(studio: &Studio) -> Self {
        StudioOut {
            id: studio.id.0,
            name: studio.name.clone(),
            address: studio.address.clone(),
            timezone: studio.timezone.clone(),
            maps_url: studio.maps_url.clone(),
        }
    }
}

/// The studio an auction, event or reservation belongs to, carried with it so
/// a client needs no extra request to say where and on which clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StudioSummary {
    pub id: i64,
    pub name: String,
    pub address: String,
    // The IANA time zone to show the session's times on.
    #[schema(value_type = schema::TimeZone)]
    #[schema(example = "Europe/Istanbul")]
    pub timezone: String,
    /// A map of the studio's address, if the studio gave one.
    pub maps_url: Option<String>,
}

impl From<&Studio> for StudioSummary {
    fn from(studio: &Studio) -> Self {
        StudioSummary {
            id: studio.id.0,
            name: studio.name.clone(),
            address: studio.address.clone(),
            timezone: studio.timezone.clone(),
            maps_url: studio.maps_url.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StudioIn {
    #[schema(schema_with = schema::StudioName::value)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = schema::Address::value)]
    pub address: String,
    #[serde(default = "default_timezone")]
    #[schema(value_type = schema::TimeZone)]
    pub timezone: String,
    #[serde(default)]
    #[schema(schema_with = schema::MapsUrl::or_null)]
    pub maps_url: Option<String>,
}

fn default_timezone() -> String {
    "UTC".into()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StudioPatchIn {
    #[serde(default)]
    #[schema(schema_with = schema::StudioName::or_null)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::Address::or_null)]
    pub address: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<schema::TimeZone>)]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = schema::MapsUrl::or_null)]
    pub maps_url: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminIn {
    #[schema(schema_with = admin_email)]
    pub email: String,
}

/// The `email` of [`AdminIn`].
fn admin_email() -> Object {
    schema::KnownEmail::described("The email of an existing user, who becomes this studio's admin.")
}

// --- auctions ---------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TurboIn {
    #[schema(schema_with = turbo_lead)]
    pub trigger_before_minutes: i64,
    #[schema(value_type = schema::Money)]
    pub drop_amount: Money,
    #[schema(schema_with = schema::Minutes::value)]
    pub interval_minutes: i64,
}

/// The `trigger_before_minutes` of [`TurboIn`].
fn turbo_lead() -> Object {
    schema::Minutes::described("Turbo starts this many minutes before `ends_at`.")
}

/// The `scheduled_at` of [`AuctionIn`].
fn session_time() -> Object {
    schema::Instant::described("When the session itself takes place.")
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuctionIn {
    /// Required for platform admins; a studio admin's own studio by default.
    #[serde(default)]
    pub studio_id: Option<i64>,
    #[schema(schema_with = schema::Title::value)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = schema::Description::value)]
    pub description: String,
    #[schema(value_type = schema::Money)]
    pub start_price: Money,
    #[schema(value_type = schema::Money)]
    pub floor_price: Money,
    #[schema(value_type = schema::Money)]
    pub drop_amount: Money,
    #[schema(schema_with = schema::Minutes::value)]
    pub drop_interval_minutes: i64,
    #[schema(schema_with = schema::Instant::value)]
    pub starts_at: DateTime<Utc>,
    #[schema(schema_with = schema::Instant::value)]
    pub ends_at: DateTime<Utc>,
    #[schema(schema_with = session_time)]
    pub scheduled_at: DateTime<Utc>,
    /// How long the session lasts from `scheduled_at`, 1 to 1440 minutes (default 60).
    #[serde(default = "default_session_minutes")]
    #[schema(schema_with = schema::SessionMinutes::value)]
    pub session_minutes: i64,
    #[serde(default)]
    pub turbo: Option<TurboIn>,
}

fn default_session_minutes() -> i64 {
    hothour_domain::auction::SESSION_MINUTES_DEFAULT
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuctionPatchIn {
    #[serde(default)]
    #[schema(schema_with = schema::Title::or_null)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::Description::or_null)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<schema::Money>)]
    pub start_price: Option<Money>,
    #[serde(default)]
    #[schema(value_type = Option<schema::Money>)]
    pub floor_price: Option<Money>,
    #[serde(default)]
    #[schema(value_type = Option<schema::Money>)]
    pub drop_amount: Option<Money>,
    #[serde(default)]
    #[schema(schema_with = schema::Minutes::or_null)]
    pub drop_interval_minutes: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = schema::Instant::or_null)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(schema_with = schema::Instant::or_null)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(schema_with = schema::Instant::or_null)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// How long the session lasts from `scheduled_at`, 1 to 1440 minutes.
    #[serde(default)]
    #[schema(schema_with = schema::SessionMinutes::or_null)]
    pub session_minutes: Option<i64>,
    /// Null removes turbo.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<TurboIn>)]
    pub turbo: Option<Option<TurboIn>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuctionOut {
    pub id: i64,
    pub studio_id: i64,
    /// Where the session takes place, and on which clock to show its times.
    pub studio: StudioSummary,
    pub title: String,
    pub description: String,
    #[schema(value_type = schema::Money)]
    pub start_price: Money,
    #[schema(value_type = schema::Money)]
    pub floor_price: Money,
    #[schema(value_type = schema::Money)]
    pub drop_amount: Money,
    pub drop_interval_minutes: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub scheduled_at: DateTime<Utc>,
    /// How long the session lasts: it ends at `scheduled_at` plus this many minutes.
    pub session_minutes: i64,
    pub turbo: Option<TurboIn>,
    pub status: AuctionStatus,
    #[schema(value_type = schema::Money)]
    pub current_price: Money,
    #[schema(value_type = Option<schema::Money>)]
    pub next_price: Option<Money>,
    pub next_change_at: Option<DateTime<Utc>>,
    pub turbo_active: bool,
    pub turbo_started_at: Option<DateTime<Utc>>,
    // The price the holder locked, while HELD.
    #[schema(value_type = Option<schema::Money>)]
    pub held_price: Option<Money>,
}

impl AuctionOut {
    /// The auction with its view (as computed now, or kept by the read model).
    pub fn new(auction: &Auction, view: &AuctionView, studio: StudioSummary) -> AuctionOut {
        AuctionOut::of(&auction.snapshot_with(view), studio)
    }

    /// The one mapping from the domain's auction to the answer: REST answers,
    /// live frames (from the outbox) and snapshots all go through it.
    pub fn of(a: &AuctionSnapshot, studio: StudioSummary) -> AuctionOut {
        AuctionOut {
            id: a.id.0,
            studio_id: a.studio_id.0,
            studio,
            title: a.title.clone(),
            description: a.description.clone(),
            start_price: a.start_price,
            floor_price: a.floor_price,
            drop_amount: a.drop_amount,
            drop_interval_minutes: a.drop_interval_minutes,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            scheduled_at: a.scheduled_at,
            session_minutes: a.session_minutes,
            turbo: a.turbo.map(|t| TurboIn {
                trigger_before_minutes: t.trigger_before_minutes,
                drop_amount: t.drop_amount,
                interval_minutes: t.interval_minutes,
            }),
            status: a.status,
            current_price: a.current_price,
            next_price: a.next_price,
            next_change_at: a.next_change_at,
            turbo_active: a.turbo_active,
            turbo_started_at: a.turbo_started_at,
            held_price: a.held_price,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceStepOut {
    pub at: DateTime<Utc>,
    #[schema(value_type = schema::Money)]
    pub price: Money,
    pub phase: PricePhase,
}

impl From<&PriceStep> for PriceStepOut {
    fn from(step: &PriceStep) -> Self {
        let phase = match step.phase {
            hothour_domain::Phase::Normal => PricePhase::Normal,
            hothour_domain::Phase::Turbo => PricePhase::Turbo,
        };
        PriceStepOut { at: step.at, price: step.price, phase }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GrabIn {
    /// Grab and confirm in one step.
    #[serde(default)]
    pub confirm: bool,
}

// --- events -----------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    #[serde(default)]
    pub studio_id: Option<i64>,
    #[schema(schema_with = schema::Title::value)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = schema::Description::value)]
    pub description: String,
    #[schema(schema_with = schema::Capacity::value)]
    pub capacity: i64,
    #[schema(value_type = schema::Money)]
    pub price: Money,
    #[schema(schema_with = schema::Instant::value)]
    pub starts_at: DateTime<Utc>,
    #[schema(schema_with = schema::Instant::value)]
    pub ends_at: DateTime<Utc>,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventPatchIn {
    #[serde(default)]
    #[schema(schema_with = schema::Title::or_null)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::Description::or_null)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::Capacity::or_null)]
    pub capacity: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<schema::Money>)]
    pub price: Option<Money>,
    #[serde(default)]
    #[schema(schema_with = schema::Instant::or_null)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(schema_with = schema::Instant::or_null)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    pub studio_id: i64,
    /// Where the event takes place, and on which clock to show its times.
    pub studio: StudioSummary,
    pub title: String,
    pub description: String,
    pub capacity: u32,
    #[schema(value_type = schema::Money)]
    pub price: Money,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub is_active: bool,
    pub available: u32,
    pub held_seats: u32,
    pub held_count: u32,
    pub confirmed_seats: u32,
    pub confirmed_count: u32,
}

impl EventOut {
    pub fn new(record: &EventRecord, studio: StudioSummary) -> Self {
        EventOut::of(&record.event.snapshot(record.availability), studio)
    }

    /// The one mapping from the domain's event to the answer (REST, live frames, snapshots).
    pub fn of(e: &EventSnapshot, studio: StudioSummary) -> Self {
        EventOut {
            id: e.id.0,
            studio_id: e.studio_id.0,
            studio,
            title: e.title.clone(),
            description: e.description.clone(),
            capacity: e.capacity,
            price: e.price,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            is_active: e.is_active,
            available: e.available,
            held_seats: e.held_seats,
            held_count: e.held_count,
            confirmed_seats: e.confirmed_seats,
            confirmed_count: e.confirmed_count,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldIn {
    /// Seats to hold, 1 by default.
    #[serde(default = "one")]
    #[schema(schema_with = schema::Seats::value)]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

// --- reservations -----------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReservationOut {
    pub id: i64,
    pub kind: ReservationKind,
    pub auction_id: Option<i64>,
    pub event_id: Option<i64>,
    pub user_id: i64,
    pub status: ReservationStatus,
    pub quantity: u32,
    #[schema(value_type = schema::Money)]
    pub unit_price: Money,
    #[schema(value_type = schema::Money)]
    pub total_price: Money,
    pub expires_at: DateTime<Utc>,
    pub booking_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// What it is for, as a ticket shows it.
    pub target: ReservationTargetOut,
    pub payment: PaymentOut,
}

/// A reservation's payment (`none` where payments are off, or before checkout).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentOut {
    pub status: PaymentStatus,
    /// What was paid.
    #[schema(value_type = schema::Money)]
    pub amount: Money,
    #[schema(value_type = schema::Money)]
    pub refunded_amount: Money,
}

/// The session a reservation is for: what, when and where.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReservationTargetOut {
    pub kind: ReservationKind,
    /// The auction's or the event's id.
    pub id: i64,
    pub title: String,
    /// When the session starts (an auction's `scheduled_at`).
    pub starts_at: DateTime<Utc>,
    /// When it ends (an auction's `scheduled_at` plus its `session_minutes`).
    pub ends_at: DateTime<Utc>,
    pub studio: StudioSummary,
}

impl ReservationTargetOut {
    pub fn new(session: &SessionSummary, studio: StudioSummary) -> ReservationTargetOut {
        let (kind, id) = match session.target {
            hothour_domain::ReservationTarget::Auction(id) => (ReservationKind::Auction, id.0),
            hothour_domain::ReservationTarget::Event(id) => (ReservationKind::Event, id.0),
        };
        ReservationTargetOut {
            kind,
            id,
            title: session.title.clone(),
            starts_at: session.starts_at,
            ends_at: session.ends_at,
            studio,
        }
    }
}

impl ReservationOut {
    /// The reservation as it stands at `now` (a lapsed hold shows EXPIRED).
    pub fn new(reservation: &Reservation, now: DateTime<Utc>, target: ReservationTargetOut) -> ReservationOut {
        ReservationOut::of(&reservation.snapshot(now), target)
    }

    /// The one mapping from the domain's reservation to the answer (REST, live frames).
    pub fn of(r: &ReservationSnapshot, target: ReservationTargetOut) -> Self {
        ReservationOut {
            id: r.id.0,
            kind: r.kind,
            auction_id: r.auction_id.map(|id| id.0),
            event_id: r.event_id.map(|id| id.0),
            user_id: r.user_id.0,
            status: r.status,
            quantity: r.quantity,
            unit_price: r.unit_price,
            total_price: r.total_price,
            expires_at: r.expires_at,
            booking_code: r.booking_code.as_ref().map(|c| c.as_str().to_owned()),
            created_at: r.created_at,
            confirmed_at: r.confirmed_at,
            target,
            payment: PaymentOut {
                status: r.payment.status,
                amount: r.payment.amount,
                refunded_amount: r.payment.refunded_amount,
            },
        }
    }
}

/// A booking checked in: the reservation, and whose it is, so door staff
/// can see they admit its holder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckInOut {
    #[serde(flatten)]
    pub reservation: ReservationOut,
    /// The full name of the user who holds the booking.
    pub full_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInIn {
    #[schema(example = "7KQ2M9XD")]
    pub booking_code: String,
}

// --- audit ------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub studio_id: Option<i64>,
    #[schema(example = "auction.cancel")]
    pub action: String,
    #[schema(example = "auction:42")]
    pub target: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<&AuditRecord> for AuditOut {
    fn from(r: &AuditRecord) -> Self {
        AuditOut {
            id: r.id,
            actor_id: r.actor_id.map(|u| u.0),
            studio_id: r.studio_id.map(|s| s.0),
            action: r.action.clone(),
            target: r.target.clone(),
            details: r.details.clone(),
            created_at: r.created_at,
        }
    }
}

// --- pages ------------------------------------------------------------------

macro_rules! page {
    ($name:ident, $item:ty) => {
        /// One page of a list; pass `next_cursor` as `?cursor=` for the next.
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub next_cursor: Option<String>,
        }
    };
}

page!(AuctionPage, AuctionOut);
page!(EventPage, EventOut);
page!(ReservationPage, ReservationOut);
page!(StudioPage, StudioOut);
page!(AuditPage, AuditOut);

// --- deployment -------------------------------------------------------------

/// What a client needs to know about this deployment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfigOut {
    /// The ISO 4217 code of every amount.
    #[schema(example = "TRY", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Seconds a hold lasts before it must be confirmed.
    #[schema(example = 300)]
    pub hold_ttl_seconds: u64,
    /// The most seats one hold may take.
    #[schema(example = 10)]
    pub max_seats_per_hold: u32,
    /// Owners can no longer cancel a booking this many seconds before the session.
    #[schema(example = 7200)]
    pub cancellation_cutoff_seconds: u64,
    /// The server's clock now, to run countdowns against.
    pub server_time: DateTime<Utc>,
    pub payments: PaymentsConfigOut,
}

/// How this deployment takes payments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentsConfigOut {
    /// `none`: holds are confirmed with no payment (pay at the studio); `stripe`: by card first.
    #[schema(example = "stripe")]
    pub provider: String,
    /// Stripe's publishable key, with `stripe`.
    pub publishable_key: Option<String>,
    /// Where to load Stripe.js from, with `stripe`.
    pub js_url: Option<String>,
}
