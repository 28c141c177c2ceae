//! The JSON shapes of the API (SPEC §8) and their OpenAPI schemas.
//! Request bodies are strict: an unknown field is refused.

use chrono::{DateTime, Utc};
use hothour_domain::account::{Locale, Studio, StudioPatch, User};
use hothour_domain::ports::{AuditRecord, EventRecord, SessionSummary};
use hothour_domain::reservation::CheckIn;
use hothour_domain::{
    Auction, AuctionInput, AuctionPatch, AuctionSnapshot, AuctionView, DomainError, EventInput, EventPatch,
    EventSnapshot, Money, PriceScheduleInput, PriceStep, Reservation, ReservationSnapshot, ReservationTarget,
    TurboConfig, ValidationErrors,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

pub mod schema;
pub mod stats;

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

/// An answer type and its one mapping from the domain: each field is declared
/// with what it is read from, in `of`'s arguments (the domain value first).
/// A field of the domain value that the answer should carry is then one line.
macro_rules! answer {
    (
        $(#[$($meta:tt)*])*
        pub struct $name:ident of($source:ident: &$from:ty $(, $arg:ident: $arg_ty:ty)*) {
            $($(#[$($field_meta:tt)*])* $field:ident: $ty:ty = $value:expr,)*
        }
    ) => {
        $(#[$($meta)*])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            $($(#[$($field_meta)*])* pub $field: $ty,)*
        }

        impl $name {
            /// The one mapping from the domain's value to this answer: REST
            /// answers, live frames and snapshots all go through it.
            pub fn of($source: &$from $(, $arg: $arg_ty)*) -> $name {
                $name { $($field: $value,)* }
            }
        }
    };
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

pub use hothour_domain::reservation::{PaymentStatus, PaymentSummary};
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

answer! {
    pub struct UserOut of(user: &User) {
        id: i64 = user.id.0,
        email: String = user.email.clone(),
        full_name: String = user.full_name.clone(),
        phone: Option<String> = user.phone.clone(),
        role: UserRole = user.role,
        studio_id: Option<i64> = user.studio_id.map(|s| s.0),
        /// The language email is written to them in.
        locale: Locale = user.locale,
        /// Whether they proved they read the mail sent to their address (a
        /// verification link, a password reset or an invitation).
        email_verified: bool = user.email_verified_at.is_some(),
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
    /// The language to write to them in; without it, the first of `tr` and
    /// `en` the request's `Accept-Language` names, else `en`.
    #[serde(default)]
    pub locale: Option<Locale>,
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
    /// The language email is written in.
    #[serde(default)]
    pub locale: Option<Locale>,
}

/// Deleting one's account, confirmed by its password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountIn {
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    pub current_password: String,
    #[schema(schema_with = schema::Password::value)]
    pub new_password: String,
}

// --- studios ----------------------------------------------------------------

answer! {
    pub struct StudioOut of(studio: &Studio) {
        id: i64 = studio.id.0,
        name: String = studio.name.clone(),
        address: String = studio.address.clone(),
        // IANA time zone, for display.
        #[schema(value_type = schema::TimeZone)]
        timezone: String = studio.timezone.clone(),
        maps_url: Option<String> = studio.maps_url.clone(),
    }
}

answer! {
    /// The studio an auction, event or reservation belongs to, carried with it so
    /// a client needs no extra request to say where and on which clock.
    #[derive(PartialEq, Eq)]
    pub struct StudioSummary of(studio: &Studio) {
        id: i64 = studio.id.0,
        name: String = studio.name.clone(),
        address: String = studio.address.clone(),
        // The IANA time zone to show the session's times on.
        #[schema(value_type = schema::TimeZone)]
        #[schema(example = "Europe/Istanbul")]
        timezone: String = studio.timezone.clone(),
        /// A map of the studio's address, if the studio gave one.
        maps_url: Option<String> = studio.maps_url.clone(),
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

impl StudioPatchIn {
    /// The change, as the domain takes it.
    pub fn into_patch(self) -> StudioPatch {
        let StudioPatchIn { name, address, timezone, maps_url } = self;
        StudioPatch { name, address, timezone, maps_url }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminIn {
    #[schema(schema_with = admin_email)]
    pub email: String,
    /// The language the invitation is written in; the inviter's own without it.
    #[serde(default)]
    pub locale: Option<Locale>,
}

answer! {
    /// One of a studio's admins.
    pub struct StudioAdminOut of(user: &User) {
        id: i64 = user.id.0,
        email: String = user.email.clone(),
        full_name: String = user.full_name.clone(),
    }
}

/// The `email` of [`AdminIn`].
fn admin_email() -> Object {
    schema::KnownEmail::described(
        "The address to invite: whoever reads its mailbox and signs in with it (registering first if need be) \
         accepts and becomes this studio's admin.",
    )
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

impl TurboIn {
    /// The domain's turbo; minutes out of range are added to `errors`.
    fn config(self, errors: &mut ValidationErrors) -> TurboConfig {
        TurboConfig {
            trigger_before: minutes(self.trigger_before_minutes, "turbo.trigger_before_minutes", errors),
            drop_amount: self.drop_amount,
            interval: minutes(self.interval_minutes, "turbo.interval_minutes", errors),
        }
    }
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

impl AuctionIn {
    /// The auction to list, as the domain takes it.
    pub fn into_input(self) -> Result<AuctionInput, DomainError> {
        let mut errors = ValidationErrors::new();
        let drop_interval = minutes(self.drop_interval_minutes, "drop_interval_minutes", &mut errors);
        let turbo = self.turbo.map(|turbo| turbo.config(&mut errors));
        let schedule = PriceScheduleInput {
            start_price: self.start_price,
            floor_price: self.floor_price,
            drop_amount: self.drop_amount,
            drop_interval,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            turbo,
        };
        let input = AuctionInput {
            title: self.title,
            description: self.description,
            schedule,
            scheduled_at: self.scheduled_at,
            session_minutes: self.session_minutes,
        };
        Ok(errors.into_result(input)?)
    }
}

/// An auction to list and repeat weekly: the fields of `AuctionIn`, and `repeat`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuctionSeriesIn {
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
    pub repeat: RepeatIn,
}

impl AuctionSeriesIn {
    /// The first auction, as `POST /auctions` takes it, and how it repeats.
    pub fn split(self) -> (AuctionIn, RepeatIn) {
        let AuctionSeriesIn {
            studio_id,
            title,
            description,
            start_price,
            floor_price,
            drop_amount,
            drop_interval_minutes,
            starts_at,
            ends_at,
            scheduled_at,
            session_minutes,
            turbo,
            repeat,
        } = self;
        let first = AuctionIn {
            studio_id,
            title,
            description,
            start_price,
            floor_price,
            drop_amount,
            drop_interval_minutes,
            starts_at,
            ends_at,
            scheduled_at,
            session_minutes,
            turbo,
        };
        (first, repeat)
    }
}

/// How an auction repeats: a copy every week, each at the same wall-clock
/// times in the studio's time zone (across a change of daylight saving time
/// too), while its session falls on or before `until`. At most 52 auctions in
/// all, the first included; a time the clocks skip that day moves an hour later.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepeatIn {
    pub every: RepeatEvery,
    /// The last day (in the studio's time zone) a copy's session may fall on.
    #[schema(example = "2030-06-30")]
    pub until: chrono::NaiveDate,
}

closed_set!(
    /// How often an auction repeats.
    RepeatEvery, "snake_case", [Week]
);

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

impl AuctionPatchIn {
    /// The change, as the domain takes it.
    pub fn into_patch(self) -> Result<AuctionPatch, DomainError> {
        let mut errors = ValidationErrors::new();
        let drop_interval = self.drop_interval_minutes.map(|m| minutes(m, "drop_interval_minutes", &mut errors));
        let turbo = self.turbo.map(|turbo| turbo.map(|t| t.config(&mut errors)));
        let patch = AuctionPatch {
            title: self.title,
            description: self.description,
            start_price: self.start_price,
            floor_price: self.floor_price,
            drop_amount: self.drop_amount,
            drop_interval,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            scheduled_at: self.scheduled_at,
            session_minutes: self.session_minutes,
            turbo,
        };
        Ok(errors.into_result(patch)?)
    }
}

answer! {
    pub struct AuctionOut of(a: &AuctionSnapshot, studio: StudioSummary) {
        id: i64 = a.id.0,
        studio_id: i64 = a.studio_id.0,
        /// Where the session takes place, and on which clock to show its times.
        studio: StudioSummary = studio,
        title: String = a.title.clone(),
        description: String = a.description.clone(),
        #[schema(value_type = schema::Money)]
        start_price: Money = a.start_price,
        #[schema(value_type = schema::Money)]
        floor_price: Money = a.floor_price,
        #[schema(value_type = schema::Money)]
        drop_amount: Money = a.drop_amount,
        drop_interval_minutes: i64 = a.drop_interval_minutes,
        starts_at: DateTime<Utc> = a.starts_at,
        ends_at: DateTime<Utc> = a.ends_at,
        scheduled_at: DateTime<Utc> = a.scheduled_at,
        /// How long the session lasts: it ends at `scheduled_at` plus this many minutes.
        session_minutes: i64 = a.session_minutes,
        turbo: Option<TurboIn> = a.turbo.map(|t| TurboIn {
            trigger_before_minutes: t.trigger_before_minutes,
            drop_amount: t.drop_amount,
            interval_minutes: t.interval_minutes,
        }),
        status: AuctionStatus = a.status,
        #[schema(value_type = schema::Money)]
        current_price: Money = a.current_price,
        #[schema(value_type = Option<schema::Money>)]
        next_price: Option<Money> = a.next_price,
        next_change_at: Option<DateTime<Utc>> = a.next_change_at,
        turbo_active: bool = a.turbo_active,
        turbo_started_at: Option<DateTime<Utc>> = a.turbo_started_at,
        // The price the holder locked, while HELD.
        #[schema(value_type = Option<schema::Money>)]
        held_price: Option<Money> = a.held_price,
    }
}

impl AuctionOut {
    /// The auction with its view (as computed now, or kept by the read model).
    pub fn new(auction: &Auction, view: &AuctionView, studio: StudioSummary) -> AuctionOut {
        AuctionOut::of(&auction.snapshot_with(view), studio)
    }
}

answer! {
    pub struct PriceStepOut of(step: &PriceStep) {
        at: DateTime<Utc> = step.at,
        #[schema(value_type = schema::Money)]
        price: Money = step.price,
        phase: PricePhase = step.phase,
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

impl EventIn {
    /// The event to create, as the domain takes it.
    pub fn into_input(self) -> EventInput {
        let EventIn { studio_id: _, title, description, capacity, price, starts_at, ends_at, is_active } = self;
        EventInput { title, description, capacity, price, starts_at, ends_at, is_active }
    }
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

impl EventPatchIn {
    /// The change, as the domain takes it.
    pub fn into_patch(self) -> EventPatch {
        let EventPatchIn { title, description, capacity, price, starts_at, ends_at, is_active } = self;
        EventPatch { title, description, capacity, price, starts_at, ends_at, is_active }
    }
}

answer! {
    pub struct EventOut of(e: &EventSnapshot, studio: StudioSummary) {
        id: i64 = e.id.0,
        studio_id: i64 = e.studio_id.0,
        /// Where the event takes place, and on which clock to show its times.
        studio: StudioSummary = studio,
        title: String = e.title.clone(),
        description: String = e.description.clone(),
        capacity: u32 = e.capacity,
        #[schema(value_type = schema::Money)]
        price: Money = e.price,
        starts_at: DateTime<Utc> = e.starts_at,
        ends_at: DateTime<Utc> = e.ends_at,
        is_active: bool = e.is_active,
        /// When the studio cancelled it (it is then inactive for good); null otherwise.
        cancelled_at: Option<DateTime<Utc>> = e.cancelled_at,
        available: u32 = e.available,
        held_seats: u32 = e.held_seats,
        held_count: u32 = e.held_count,
        confirmed_seats: u32 = e.confirmed_seats,
        confirmed_count: u32 = e.confirmed_count,
    }
}

impl EventOut {
    pub fn new(record: &EventRecord, studio: StudioSummary) -> Self {
        EventOut::of(&record.event.snapshot(record.availability), studio)
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitlistIn {
    /// Seats to wait for (more than are available now).
    #[schema(schema_with = schema::Seats::value)]
    pub quantity: i64,
}

/// Where the caller stands in an event's waiting list.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingPlaceOut {
    pub event_id: i64,
    /// 1 for the first in line.
    #[schema(minimum = 1)]
    pub place: u32,
    /// Seats waited for.
    #[schema(minimum = 1)]
    pub quantity: u32,
    /// When the caller joined.
    pub since: DateTime<Utc>,
}

impl From<hothour_domain::waitlist::WaitingPlace> for WaitingPlaceOut {
    fn from(place: hothour_domain::waitlist::WaitingPlace) -> WaitingPlaceOut {
        WaitingPlaceOut { event_id: place.event_id.0, place: place.place, quantity: place.quantity, since: place.since }
    }
}

// --- reservations -----------------------------------------------------------

answer! {
    pub struct ReservationOut of(r: &ReservationSnapshot, target: ReservationTargetOut) {
        id: i64 = r.id.0,
        kind: ReservationKind = r.kind,
        auction_id: Option<i64> = r.auction_id.map(|id| id.0),
        event_id: Option<i64> = r.event_id.map(|id| id.0),
        user_id: i64 = r.user_id.0,
        status: ReservationStatus = r.status,
        quantity: u32 = r.quantity,
        #[schema(value_type = schema::Money)]
        unit_price: Money = r.unit_price,
        #[schema(value_type = schema::Money)]
        total_price: Money = r.total_price,
        expires_at: DateTime<Utc> = r.expires_at,
        booking_code: Option<String> = r.booking_code.as_ref().map(|c| c.as_str().to_owned()),
        created_at: DateTime<Utc> = r.created_at,
        confirmed_at: Option<DateTime<Utc>> = r.confirmed_at,
        /// When it was checked in at the studio's door (null until then).
        checked_in_at: Option<DateTime<Utc>> = r.checked_in_at,
        /// What it is for, as a ticket shows it.
        target: ReservationTargetOut = target,
        payment: PaymentOut = PaymentOut::of(&r.payment),
    }
}

answer! {
    /// A reservation's payment (`none` where payments are off, or before checkout).
    pub struct PaymentOut of(p: &PaymentSummary) {
        status: PaymentStatus = p.status,
        /// What was paid.
        #[schema(value_type = schema::Money)]
        amount: Money = p.amount,
        #[schema(value_type = schema::Money)]
        refunded_amount: Money = p.refunded_amount,
    }
}

impl ReservationOut {
    /// The reservation as it stands at `now` (a lapsed hold shows EXPIRED).
    pub fn new(reservation: &Reservation, now: DateTime<Utc>, target: ReservationTargetOut) -> ReservationOut {
        ReservationOut::of(&reservation.snapshot(now), target)
    }
}

answer! {
    /// The session a reservation is for: what, when and where.
    pub struct ReservationTargetOut of(session: &SessionSummary, studio: StudioSummary) {
        kind: ReservationKind = session.target.kind(),
        /// The auction's or the event's id.
        id: i64 = match session.target {
            ReservationTarget::Auction(id) => id.0,
            ReservationTarget::Event(id) => id.0,
        },
        title: String = session.title.clone(),
        /// When the session starts (an auction's `scheduled_at`).
        starts_at: DateTime<Utc> = session.starts_at,
        /// When it ends (an auction's `scheduled_at` plus its `session_minutes`).
        ends_at: DateTime<Utc> = session.ends_at,
        studio: StudioSummary = studio,
    }
}

/// A booking at the studio's door (SPEC §6): checked in by this request, or
/// already before it. A used code is answered the same way (200), with
/// `already_checked_in: true` and the time it was first used, so a shared
/// screenshot of a ticket is caught.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckInOut {
    /// `false` when this request checked the booking in; `true` when its
    /// code had been used before (nothing changed: show it as used, at `checked_in_at`).
    pub already_checked_in: bool,
    /// When the booking was checked in (the first time).
    pub checked_in_at: DateTime<Utc>,
    /// The holder's full name, so the door can see it admits them.
    pub full_name: String,
    /// Seats the booking admits (1 for an auction's slot).
    pub quantity: u32,
    /// What the session is.
    pub title: String,
    /// When the session starts (an auction's `scheduled_at`).
    pub starts_at: DateTime<Utc>,
    /// When the session ends.
    pub ends_at: DateTime<Utc>,
    /// The studio's time zone, to show the times on the studio's clock.
    #[schema(value_type = schema::TimeZone)]
    pub timezone: String,
    /// The booking itself.
    pub reservation: ReservationOut,
}

impl CheckInOut {
    pub fn new(check_in: &CheckIn, full_name: String, reservation: ReservationOut) -> CheckInOut {
        let booking = &check_in.reservation;
        CheckInOut {
            already_checked_in: check_in.already_checked_in,
            checked_in_at: check_in.checked_in_at,
            full_name,
            quantity: booking.quantity,
            title: reservation.target.title.clone(),
            starts_at: reservation.target.starts_at,
            ends_at: reservation.target.ends_at,
            timezone: reservation.target.studio.timezone.clone(),
            reservation,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInIn {
    #[schema(example = "7KQ2M9XD")]
    pub booking_code: String,
}

// --- the door ---------------------------------------------------------------

pub mod alerts;
pub mod door;
pub mod mailbox;

pub use alerts::{
    FiredAlertOut, MailPreferencesOut, MailPreferencesPatch, OptionalMail, PriceAlertIn, PriceAlertOut, UnsubscribedOut,
};
pub use door::{DoorSessionOut, RosterEntryOut, RosterOut, SessionStatus, StudioDayOut};
pub use mailbox::{EmailTokenIn, InvitationOut, InvitationPage, PasswordResetConfirmIn, PasswordResetIn};

// --- audit ------------------------------------------------------------------

answer! {
    pub struct AuditOut of(r: &AuditRecord) {
        id: i64 = r.id,
        actor_id: Option<i64> = r.actor_id.map(|u| u.0),
        studio_id: Option<i64> = r.studio_id.map(|s| s.0),
        #[schema(example = "auction.cancel")]
        action: String = r.action.clone(),
        #[schema(example = "auction:42")]
        target: String = r.target.clone(),
        #[schema(value_type = Object)]
        details: serde_json::Value = r.details.clone(),
        created_at: DateTime<Utc> = r.created_at,
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
page!(StudioAdminPage, StudioAdminOut);

/// Every auction one request created, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuctionList {
    pub items: Vec<AuctionOut>,
}

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
    /// Bookings can be checked in from this many seconds before their session starts until it ends.
    #[schema(example = 7200)]
    pub check_in_opens_before_seconds: u64,
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
