//! The schemas of the values the server limits, built from the constants its
//! validators use, so the document and the server cannot drift. A DTO field
//! names its value here: `#[schema(value_type = schema::Money)]` for the
//! shared components, `#[schema(schema_with = schema::Title::value)]` (or
//! `::or_null` for a field that may be null) for the limited values.

use hothour_domain::account::{
    ADDRESS_MAX_CHARS, EMAIL_MAX_CHARS, FULL_NAME_MAX_CHARS, MAPS_URL_MAX_BYTES, PASSWORD_MAX_BYTES,
    PASSWORD_MIN_CHARS, PHONE_DIGITS, STUDIO_NAME_MAX_CHARS, time_zone_names,
};
use hothour_domain::auction::{DESCRIPTION_MAX_CHARS, SESSION_MINUTES_MAX, TITLE_MAX_CHARS};
use hothour_domain::event::MAX_CAPACITY;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use super::MAX_MINUTES;

// --- shared components ------------------------------------------------------

/// What `Money::parse` accepts: no sign, at most ten whole digits once
/// leading zeros are dropped, at most two decimals once trailing zeros are.
pub const MONEY_PATTERN: &str = r"^0*[0-9]{1,10}(\.[0-9]{1,2}0*)?$";

/// A string component every field of its kind refers to: what it is, and an example.
fn component(description: &str, example: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).examples([example])
}

/// An amount of money: the `Money` component every money field refers to.
pub struct Money;

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        component("An amount in the deployment's currency (`GET /config`), as a decimal string: never a JSON number. Answers always carry two decimals.", "149.90")
            .pattern(Some(MONEY_PATTERN))
            .into()
    }
}

impl ToSchema for Money {}

/// An IANA time zone: the `TimeZone` component every time zone field refers to.
pub struct TimeZone;

impl PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        component("An IANA time zone name.", "Europe/Istanbul").enum_values(Some(time_zone_names())).into()
    }
}

impl ToSchema for TimeZone {}

// --- limited values -----------------------------------------------------------

/// A value the validators limit, described in place (no component of its own).
pub trait Limited {
    /// The JSON type of the value.
    const TYPE: Type;

    /// The value's schema, of the given (maybe nullable) type.
    fn build(schema_type: SchemaType) -> ObjectBuilder;

    /// For a field that is never null.
    fn value() -> Object {
        Self::build(SchemaType::Type(Self::TYPE)).build()
    }

    /// For a field that may be null (or left out, which reads as null).
    fn or_null() -> Object {
        Self::build(SchemaType::from_iter([Self::TYPE, Type::Null])).build()
    }

    /// For a field that is never null, saying what it holds (`schema_with`
    /// ignores the field's doc comment).
    fn described(said: &str) -> Object {
        Self::build(SchemaType::Type(Self::TYPE)).description(Some(said)).build()
    }
}

/// White space as Rust's `str::trim` sees it.
const SPACE: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// A character that is not white space as Rust's `str::trim` sees it.
const NOT_BLANK: &str = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

fn string(schema_type: SchemaType) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(schema_type)
}

fn int64(schema_type: SchemaType) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(schema_type).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

/// Text of at most `max` characters.
fn text(schema_type: SchemaType, max: usize) -> ObjectBuilder {
    string(schema_type).max_length(Some(max))
}

/// Text that is not blank once trimmed, of at most `max` characters.
fn not_blank(schema_type: SchemaType, max: usize) -> ObjectBuilder {
    text(schema_type, max).min_length(Some(1)).pattern(Some(NOT_BLANK))
}

/// An `example` as the derive writes it for `#[schema(example = ...)]`.
#[allow(deprecated)]
fn example(schema: ObjectBuilder, example: &str) -> ObjectBuilder {
    schema.example(Some(example.into()))
}

macro_rules! limited {
    ($(#[$meta:meta])* $name:ident: $type:ident, |$schema_type:ident| $build:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl Limited for $name {
            const TYPE: Type = Type::$type;

            fn build($schema_type: SchemaType) -> ObjectBuilder {
                $build
            }
        }
    };
}

limited!(
    /// A card or payment method id from Stripe.js, as `payments::payment_method` checks it.
    PaymentMethod: String, |t| string(t).max_length(Some(crate::payments::PAYMENT_METHOD_MAX_BYTES))
        .pattern(Some(crate::payments::PAYMENT_METHOD_PATTERN))
);
limited!(
    /// An auction's or an event's title.
    Title: String, |t| not_blank(t, TITLE_MAX_CHARS)
);
limited!(
    /// An auction's or an event's description.
    Description: String, |t| text(t, DESCRIPTION_MAX_CHARS)
);
limited!(
    /// A user's full name.
    FullName: String, |t| not_blank(t, FULL_NAME_MAX_CHARS)
);
limited!(
    /// A studio's name.
    StudioName: String, |t| not_blank(t, STUDIO_NAME_MAX_CHARS)
);
limited!(
    /// A studio's address.
    Address: String, |t| text(t, ADDRESS_MAX_CHARS)
);
limited!(
    /// A link to a map; blank means none.
    MapsUrl: String, |t| text(t, MAPS_URL_MAX_BYTES).pattern(Some(format!(r"^{SPACE}*(https?://[\s\S]*)?$")))
);
limited!(
    /// A new account's email, as `normalize_email` checks it (white space around it is trimmed).
    Email: String, |t| example(text(t, EMAIL_MAX_CHARS).pattern(Some(email_pattern())), "ada@example.com")
);
limited!(
    /// The email of an existing account, looked up as it is.
    KnownEmail: String, |t| text(t, EMAIL_MAX_CHARS)
);
limited!(
    /// A new password.
    Password: String, |t| string(t)
        .min_length(Some(PASSWORD_MIN_CHARS))
        .max_length(Some(PASSWORD_MAX_BYTES))
        .description(Some(format!("At least {PASSWORD_MIN_CHARS} characters and at most {PASSWORD_MAX_BYTES} bytes in UTF-8.")))
);
limited!(
    /// A phone number, as `check_phone` reads it; trimmed, and blank means none.
    Phone: String, |t| string(t)
        .pattern(Some(phone_pattern()))
        .description(Some("Digits (7 to 15 of them), spaces, `+`, `-` and parentheses, e.g. `+90 555 123 4567`."))
);
limited!(
    /// Whole minutes, as `dto::minutes` reads them.
    Minutes: Integer, |t| int64(t).minimum(Some(1)).maximum(Some(MAX_MINUTES))
);
limited!(
    /// A session's length in minutes.
    SessionMinutes: Integer, |t| int64(t).minimum(Some(1)).maximum(Some(SESSION_MINUTES_MAX)).description(Some(format!(
        "How long the session lasts from `scheduled_at`, 1 to {SESSION_MINUTES_MAX} minutes ({} when a new auction leaves it out).",
        hothour_domain::auction::SESSION_MINUTES_DEFAULT
    )))
);
limited!(
    /// The seats of an event.
    Capacity: Integer, |t| int64(t).minimum(Some(0)).maximum(Some(MAX_CAPACITY))
);
limited!(
    /// The seats one hold takes.
    Seats: Integer, |t| {
        let default_max_seats = hothour_domain::Policy::default().max_seats_per_hold;
        int64(t).minimum(Some(1)).maximum(Some(default_max_seats)).description(Some(format!(
            "Seats to hold, 1 by default; at most `max_seats_per_hold` of `GET /config` ({default_max_seats} unless configured)."
        )))
    }
);
/// An instant the server reads.
pub struct Instant;

impl Limited for Instant {
    const TYPE: Type = Type::String;

    fn build(schema_type: SchemaType) -> ObjectBuilder {
        instant(schema_type, None)
    }

    fn described(said: &str) -> Object {
        instant(SchemaType::Type(Self::TYPE), Some(said)).build()
    }
}

/// The years `hothour_domain::instant::accept` takes (1970 to 9999); an
/// offset may still carry an instant at either end out of range.
pub const INSTANT_YEARS: &str = r"^(19[7-9][0-9]|[2-9][0-9]{3})-";

/// Which instants the server accepts, said after what the field is.
pub fn instant_description(said: Option<&str>) -> String {
    let range = format!("An RFC 3339 instant that {}.", hothour_domain::instant::OUT_OF_RANGE);
    match said {
        Some(said) => format!("{said} {range}"),
        None => range,
    }
}

/// An instant the server reads, described after `said` (what the field is).
fn instant(schema_type: SchemaType, said: Option<&str>) -> ObjectBuilder {
    string(schema_type)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .pattern(Some(INSTANT_YEARS))
        .description(Some(instant_description(said)))
}

/// The request as the server reads it; the text after a schema is what
/// `normalize_email` checks (white space around it is trimmed).
fn email_pattern() -> String {
    let part = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@]";
    let domain_end = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@.]";
    format!(r"^{SPACE}*{part}+@{domain_end}{part}*\.{part}*{domain_end}{SPACE}*$")
}

/// `check_phone`: digits (as many as `PHONE_DIGITS` allows) among spaces, `+`, `-` and parentheses.
fn phone_pattern() -> String {
    let (min, max) = (PHONE_DIGITS.start(), PHONE_DIGITS.end());
    // Trimmed, and blank means none.
    format!(r"^{SPACE}*([-+() ]*([0-9][-+() ]*){{{min},{max}}})?{SPACE}*$")
}
