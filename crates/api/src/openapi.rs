//! The OpenAPI document: what utoipa derives from the routes and DTOs, then
//! made exact in one pass over the JSON ([`finish`]): every operation's
//! security, the problem codes (and so the statuses) it can answer, shared
//! error responses with their headers, the enforced limits taken from the
//! constants the validators use, and `null` only where the server takes it.

mod audit;

use std::collections::BTreeMap;

use hothour_domain::account::{
    ADDRESS_MAX_CHARS, EMAIL_MAX_CHARS, FULL_NAME_MAX_CHARS, MAPS_URL_MAX_BYTES, PASSWORD_MAX_BYTES,
    PASSWORD_MIN_CHARS, PHONE_DIGITS, STUDIO_NAME_MAX_CHARS, time_zone_names,
};
use hothour_domain::auction::{DESCRIPTION_MAX_CHARS, SESSION_MINUTES_MAX, TITLE_MAX_CHARS};
use hothour_domain::event::MAX_CAPACITY;
use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    ActiveChoice, AuctionStatus, MAX_MINUTES, PricePhase, ReservationKind, ReservationStatus, TokenType, UserRole,
};
use crate::idempotency::{KEY_MAX_CHARS, KEY_PATTERN};
use crate::pagination::{CURSOR_PATTERN, MAX_LIMIT};
use crate::problem::{Problem, ProblemCode};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "HotHour API",
        description = "Descending-price (Dutch) auctions for a studio's empty slots, events with seats, and two-phase (hold → confirm) reservations. Errors are RFC 9457 problem+json with a stable `code`; every code, its status and retry advice: https://hothour.dev/errors (docs/errors.md).",
        version = "1.0.0",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(
        Problem, ProblemCode, ActiveChoice, AuctionStatus, ReservationStatus, ReservationKind, UserRole, PricePhase, TokenType,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "me", description = "The signed-in user"),
        (name = "studios", description = "Studios and their admins"),
        (name = "events", description = "Events with seats, and holds"),
        (name = "auctions", description = "Dutch auctions and grabbing"),
        (name = "reservations", description = "Holds and bookings"),
        (name = "admin", description = "Administration"),
        (name = "meta", description = "What a client needs to know about this deployment"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Public, but a bearer token, when sent, shows more (and a bad one is 401).
    Optional,
    SignedIn,
}

/// What the document says about one operation beyond its route.
pub struct Operation {
    pub id: &'static str,
    pub access: Access,
    /// Reads or writes the database (so a busy or absent one is a 503).
    pub database: bool,
    /// Takes an `Idempotency-Key`.
    pub idempotent: bool,
    /// Answers with an `ETag` and `304` to a matching `If-None-Match`.
    pub tagged: bool,
    /// The codes of its own rules; those of bodies, parameters, sign-in and
    /// the database are added from the route's shape.
    pub codes: &'static [ProblemCode],
}

const fn op(id: &'static str, access: Access, codes: &'static [ProblemCode]) -> Operation {
    Operation { id, access, database: true, idempotent: false, tagged: false, codes }
}

use Access::{Optional, Public, SignedIn};
use ProblemCode as C;

/// Every operation, with the codes its own rules answer.
pub const OPERATIONS: &[Operation] = &[
    op("register", Public, &[C::EmailTaken, C::RateLimited]),
    op("login", Public, &[C::InvalidCredentials, C::RateLimited]),
    op("refreshTokens", Public, &[C::InvalidRefreshToken, C::RateLimited]),
    op("logout", SignedIn, &[]),
    op("logoutAll", SignedIn, &[]),
    op("getMe", SignedIn, &[]),
    op("updateMe", SignedIn, &[]),
    op("changePassword", SignedIn, &[C::InvalidCredentials, C::RateLimited]),
    op("createStudio", SignedIn, &[C::Forbidden]),
    op("listStudios", Public, &[]),
    op("getStudio", Public, &[]),
    op("updateStudio", SignedIn, &[]),
    op("assignStudioAdmin", SignedIn, &[C::Forbidden, C::AlreadyAdministersAStudio]),
    op("createEvent", SignedIn, &[C::Forbidden, C::NotFound]),
    op("listEvents", Optional, &[C::Forbidden, C::NotFound]),
    Operation { tagged: true, ..op("getEvent", Optional, &[]) },
    op("updateEvent", SignedIn, &[C::Forbidden, C::CapacityBelowReserved]),
    op("deleteEvent", SignedIn, &[C::Forbidden, C::EventHasReservations]),
    Operation {
        idempotent: true,
        ..op(
            "holdSeats",
            SignedIn,
            &[C::BookingNotAllowed, C::InsufficientCapacity, C::HoldAlreadyExists, C::EventNotOpen, C::RateLimited],
        )
    },
    op("createAuction", SignedIn, &[C::Forbidden, C::NotFound]),
    op("listAuctions", Public, &[]),
    Operation { tagged: true, ..op("getAuction", Public, &[]) },
    op("getAuctionSchedule", Public, &[]),
    op("updateAuction", SignedIn, &[C::Forbidden, C::AuctionNotEditable]),
    op("cancelAuction", SignedIn, &[C::Forbidden, C::AuctionClosed, C::InvalidState]),
    op("triggerTurbo", SignedIn, &[C::Forbidden, C::TurboAlreadyActive, C::TurboNotAvailable]),
    Operation {
        idempotent: true,
        ..op(
            "grabAuction",
            SignedIn,
            &[
                C::BookingNotAllowed,
                C::AuctionOnHold,
                C::AuctionAlreadyBooked,
                C::AuctionNotStarted,
                C::AuctionClosed,
                C::RegrabNotAllowed,
                C::RateLimited,
            ],
        )
    },
    op("listMyReservations", SignedIn, &[]),
    op("getReservation", SignedIn, &[]),
    op("getReservationCalendar", SignedIn, &[]),
    op("confirmReservation", SignedIn, &[C::HoldExpired, C::InvalidState]),
    op("cancelReservation", SignedIn, &[C::CancellationClosed, C::InvalidState]),
    op("listStudioReservations", SignedIn, &[]),
    op("checkIn", SignedIn, &[C::InvalidState]),
    op("listAuditLog", SignedIn, &[C::Forbidden]),
    Operation { database: false, ..op("getConfig", Public, &[]) },
];

/// Error responses several operations share, under `components.responses`.
const SHARED: &[(&str, &[ProblemCode])] = &[
    ("BadRequest", &[C::MalformedJson, C::BadBody]),
    ("Unauthorized", &[C::Unauthorized, C::TokenRevoked]),
    ("PayloadTooLarge", &[C::PayloadTooLarge]),
    ("UnsupportedMediaType", &[C::UnsupportedMediaType]),
    ("ValidationFailed", &[C::ValidationFailed]),
    ("RateLimited", &[C::RateLimited]),
    ("Internal", &[C::Internal]),
    ("Unavailable", &[C::Busy, C::Unavailable]),
];

/// Fields holding an amount of money (the [`money_schema`]).
const MONEY_FIELDS: &[&str] = &[
    "start_price",
    "floor_price",
    "drop_amount",
    "current_price",
    "next_price",
    "held_price",
    "price",
    "unit_price",
    "total_price",
];

/// What `Money::parse` accepts: no sign, at most ten whole digits once
/// leading zeros are dropped, at most two decimals once trailing zeros are.
pub const MONEY_PATTERN: &str = r"^0*[0-9]{1,10}(\.[0-9]{1,2}0*)?$";

/// The years `hothour_domain::instant::accept` takes (1970 to 9999); an
/// offset may still carry an instant at either end out of range.
const INSTANT_YEARS: &str = r"^(19[7-9][0-9]|[2-9][0-9]{3})-";

/// The range of instants the server accepts, for a `date-time` it reads.
fn instant_limits() -> Value {
    json!({ "pattern": INSTANT_YEARS })
}

/// Says in `schema`'s description which instants the server accepts.
fn describe_instant_range(schema: &mut Value) {
    let range = format!("An RFC 3339 instant that {}.", hothour_domain::instant::OUT_OF_RANGE);
    schema["description"] = match schema["description"].as_str() {
        Some(said) => json!(format!("{said} {range}")),
        None => json!(range),
    };
}

/// White space as Rust's `str::trim` sees it.
const SPACE: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// A character that is not white space as Rust's `str::trim` sees it.
const NOT_BLANK: &str = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// The request as the server reads it; the text after a schema is what
/// `normalize_email` checks (white space around it is trimmed).
fn email_pattern() -> String {
    let space = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
    let part = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@]";
    let domain_end = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@.]";
    format!(r"^{space}*{part}+@{domain_end}{part}*\.{part}*{domain_end}{space}*$")
}

/// `check_phone`: digits (as many as `PHONE_DIGITS` allows) among spaces, `+`, `-` and parentheses.
fn phone_pattern() -> String {
    let (min, max) = (PHONE_DIGITS.start(), PHONE_DIGITS.end());
    // Trimmed, and blank means none.
    format!(r"^{SPACE}*([-+() ]*([0-9][-+() ]*){{{min},{max}}})?{SPACE}*$")
}

fn time_zone_schema() -> Value {
    let names: Vec<&str> = time_zone_names().collect();
    json!({ "type": "string", "enum": names, "description": "An IANA time zone name.", "examples": ["Europe/Istanbul"] })
}

fn money_schema() -> Value {
    json!({
        "type": "string",
        "pattern": MONEY_PATTERN,
        "description": "An amount in the deployment's currency (`GET /config`), as a decimal string: never a JSON number. Answers always carry two decimals.",
        "examples": ["149.90"],
    })
}

/// The limits the validators enforce, per schema and property, from their constants.
fn constraints() -> Vec<(&'static str, &'static str, Value)> {
    let text = |max: usize| json!({ "maxLength": max });
    let not_blank = |max: usize| json!({ "maxLength": max, "minLength": 1, "pattern": NOT_BLANK });
    let minutes = json!({ "minimum": 1, "maximum": MAX_MINUTES });
    let email = json!({ "maxLength": EMAIL_MAX_CHARS, "pattern": email_pattern() });
    let password = json!({ "minLength": PASSWORD_MIN_CHARS, "maxLength": PASSWORD_MAX_BYTES,
        "description": format!("At least {PASSWORD_MIN_CHARS} characters and at most {PASSWORD_MAX_BYTES} bytes in UTF-8.") });
    let phone = json!({ "pattern": phone_pattern(),
        "description": "Digits (7 to 15 of them), spaces, `+`, `-` and parentheses, e.g. `+90 555 123 4567`." });
    // Blank means none.
    let default_max_seats = hothour_domain::Policy::default().max_seats_per_hold;
    let url = json!({ "maxLength": MAPS_URL_MAX_BYTES, "pattern": format!(r"^{SPACE}*(https?://[\s\S]*)?$") });
    let mut list = vec![
        ("RegisterIn", "email", email.clone()),
        ("RegisterIn", "password", password.clone()),
        ("RegisterIn", "full_name", not_blank(FULL_NAME_MAX_CHARS)),
        ("RegisterIn", "phone", phone.clone()),
        ("LoginIn", "email", json!({ "maxLength": EMAIL_MAX_CHARS })),
        ("ProfilePatchIn", "full_name", not_blank(FULL_NAME_MAX_CHARS)),
        ("ProfilePatchIn", "phone", phone),
        ("PasswordIn", "new_password", password),
        ("StudioIn", "name", not_blank(STUDIO_NAME_MAX_CHARS)),
        ("StudioIn", "address", text(ADDRESS_MAX_CHARS)),
        ("StudioIn", "maps_url", url.clone()),
        ("StudioPatchIn", "name", not_blank(STUDIO_NAME_MAX_CHARS)),
        ("StudioPatchIn", "address", text(ADDRESS_MAX_CHARS)),
        ("StudioPatchIn", "maps_url", url),
        ("AdminIn", "email", json!({ "maxLength": EMAIL_MAX_CHARS })),
        ("TurboIn", "trigger_before_minutes", minutes.clone()),
        ("TurboIn", "interval_minutes", minutes.clone()),
        ("AuctionIn", "drop_interval_minutes", minutes.clone()),
        ("AuctionPatchIn", "drop_interval_minutes", minutes),
        ("EventIn", "capacity", json!({ "minimum": 0, "maximum": MAX_CAPACITY })),
        ("EventPatchIn", "capacity", json!({ "minimum": 0, "maximum": MAX_CAPACITY })),
        (
            "HoldIn",
            "quantity",
            json!({ "minimum": 1, "maximum": default_max_seats,
            "description": format!("Seats to hold, 1 by default; at most `max_seats_per_hold` of `GET /config` ({default_max_seats} unless configured).") }),
        ),
    ];
    for schema in ["AuctionIn", "AuctionPatchIn", "EventIn", "EventPatchIn"] {
        list.push((schema, "title", not_blank(TITLE_MAX_CHARS)));
        list.push((schema, "description", text(DESCRIPTION_MAX_CHARS)));
        list.push((schema, "starts_at", instant_limits()));
        list.push((schema, "ends_at", instant_limits()));
    }
    let session = json!({ "minimum": 1, "maximum": SESSION_MINUTES_MAX });
    for schema in ["AuctionIn", "AuctionPatchIn"] {
        list.push((schema, "scheduled_at", instant_limits()));
        list.push((schema, "session_minutes", session.clone()));
    }
    list
}

/// Schemas the server sends: every property is always present (maybe null).
fn is_answer(schema: &str) -> bool {
    schema.ends_with("Out") || schema.ends_with("Page")
}

/// The finished document, as served and committed.
pub fn finish(mut doc: Value) -> Value {
    doc["servers"] =
        // First the server the document was fetched from (Swagger UI's "Try it out" calls it, on
        // whatever host and port it runs; the CSP allows no other), then the local default.
        json!([
            { "url": "/", "description": "The server this document was fetched from" },
            { "url": "http://127.0.0.1:8080", "description": "A local server on BIND's default address" },
        ]);
    let schemas = doc["components"]["schemas"].as_object_mut().expect("schemas");
    schemas.insert("Money".into(), money_schema());
    schemas.insert("TimeZone".into(), time_zone_schema());
    for (name, schema) in schemas.iter_mut() {
        finish_schema(name, schema);
    }
    audit::add_schemas(schemas);
    for (schema, property, limits) in constraints() {
        let target = &mut doc["components"]["schemas"][schema]["properties"][property];
        assert!(target.is_object(), "no property {schema}.{property} to constrain");
        merge(non_null_part(target), &limits);
        if limits.get("pattern") == Some(&json!(INSTANT_YEARS)) {
            describe_instant_range(target);
        }
    }
    let responses: Map<String, Value> =
        SHARED.iter().map(|(name, codes)| ((*name).to_owned(), problem_response(codes, false))).collect();
    doc["components"]["responses"] = Value::Object(responses);
    doc["components"]["headers"] = json!({
        "Retry-After": { "description": "Seconds to wait before retrying.", "required": true,
            "schema": { "type": "integer", "minimum": 0 } },
        "Idempotent-Replayed": { "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
            "required": false, "schema": { "type": "string", "enum": ["true"] } },
        "ETag": { "description": "A strong tag of this exact representation; send it back in `If-None-Match` to be answered `304` while it is still current.",
            "required": true, "schema": { "type": "string" } },
    });
    // An empty body reads as `{}` (see `json::parse`), so a body whose fields are all optional may be left out.
    let all_optional: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .iter()
        .filter(|(_, schema)| schema.get("properties").is_some() && schema.get("required").is_none())
        .map(|(name, _)| format!("#/components/schemas/{name}"))
        .collect();
    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, item) in paths.iter_mut() {
        for (method, operation) in item.as_object_mut().expect("path item").iter_mut() {
            finish_operation(path, method, operation);
            if let Some(body) = operation.get_mut("requestBody") {
                let reference = body["content"]["application/json"]["schema"]["$ref"].as_str().unwrap_or("");
                if all_optional.iter().any(|r| r == reference) {
                    body["required"] = json!(false);
                }
            }
        }
    }
    doc
}

fn merge(target: &mut Value, extra: &Value) {
    for (key, value) in extra.as_object().expect("an object") {
        target[key] = value.clone();
    }
}

/// The part of a (maybe nullable) property schema that describes its values.
fn non_null_part(schema: &mut Value) -> &mut Value {
    if schema.get("oneOf").is_some() {
        let index = schema["oneOf"].as_array().unwrap().iter().position(|s| s["type"] != "null").unwrap();
        return &mut schema["oneOf"][index];
    }
    schema
}

/// `["string", "null"]` → `"string"`; `oneOf [X, null]` → `X`.
fn without_null(schema: &mut Value) {
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = if types.len() == 1 { types[0].clone() } else { Value::Array(types) };
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let options: Vec<Value> = options.iter().filter(|s| s["type"] != "null").cloned().collect();
        if options.len() == 1 {
            *schema = options[0].clone();
        }
    }
}

fn finish_schema(name: &str, schema: &mut Value) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        if let Some(parts) = schema.get_mut("allOf").and_then(Value::as_array_mut) {
            for part in parts {
                finish_schema(name, part);
            }
        }
        return;
    };
    for (field, property) in properties.iter_mut() {
        if field == "timezone" {
            let nullable = property["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null"));
            let zone = json!({ "$ref": "#/components/schemas/TimeZone" });
            *property = if nullable { json!({ "oneOf": [zone, { "type": "null" }] }) } else { zone };
        }
        if MONEY_FIELDS.contains(&field.as_str()) {
            let nullable = property["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null"));
            let money = json!({ "$ref": "#/components/schemas/Money" });
            *property = if nullable { json!({ "oneOf": [money, { "type": "null" }] }) } else { money };
        }
    }
    if is_answer(name) {
        let all: Vec<Value> = properties.keys().map(|k| Value::String(k.clone())).collect();
        schema["required"] = Value::Array(all);
    }
}

fn finish_operation(path: &str, method: &str, operation: &mut Value) {
    let id = operation["operationId"].as_str().expect("an operationId").to_owned();
    let spec = OPERATIONS.iter().find(|o| o.id == id).unwrap_or_else(|| panic!("{id} is not in OPERATIONS"));
    if operation.get("description").is_none() {
        operation["description"] = operation["summary"].clone();
    }
    operation["security"] = match spec.access {
        Access::Public => json!([{}]),
        Access::Optional => json!([{}, { "bearer": [] }]),
        Access::SignedIn => json!([{ "bearer": [] }]),
    };
    let mut has_parameters = false;
    if let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
        for parameter in parameters.iter_mut() {
            if parameter["in"] != "path" {
                has_parameters = true;
            }
            without_null(&mut parameter["schema"]);
            if parameter["name"] == "limit" {
                merge(&mut parameter["schema"], &json!({ "minimum": 1, "maximum": MAX_LIMIT, "default": 20 }));
            }
            if parameter["schema"]["format"] == "date-time" {
                merge(&mut parameter["schema"], &instant_limits());
                describe_instant_range(parameter);
            }
            if parameter["name"] == "cursor" {
                // Only what `next_cursor` gives out: URL-safe base64 without padding, never empty.
                merge(&mut parameter["schema"], &json!({ "minLength": 1, "pattern": CURSOR_PATTERN }));
            }
            if parameter["name"] == crate::idempotency::HEADER {
                merge(
                    &mut parameter["schema"],
                    &json!({ "minLength": 1, "maxLength": KEY_MAX_CHARS, "pattern": KEY_PATTERN }),
                );
            }
        }
    }
    let has_body = operation.get("requestBody").is_some();
    if has_body {
        let body = &mut operation["requestBody"];
        let schema = &mut body["content"]["application/json"]["schema"];
        let optional = schema.get("oneOf").is_some();
        without_null(schema);
        body["required"] = json!(!optional);
        if let Some(example) = request_example(&id) {
            body["content"]["application/json"]["example"] = example;
        }
    }
    let mut codes: Vec<ProblemCode> = spec.codes.to_vec();
    if spec.access != Access::Public {
        codes.extend([C::Unauthorized, C::TokenRevoked]);
        // `limits::throttle_signed_in_writes`
        if method != "get" {
            codes.push(C::RateLimited);
        }
    }
    if has_body {
        codes.extend([C::MalformedJson, C::BadBody, C::PayloadTooLarge, C::UnsupportedMediaType]);
    }
    if has_body || has_parameters {
        codes.push(C::ValidationFailed);
    }
    if spec.idempotent {
        codes.extend([C::IdempotencyInProgress, C::IdempotencyKeyReused]);
    }
    if path.contains('{') {
        codes.push(C::NotFound);
    }
    if spec.database {
        codes.extend([C::Busy, C::Unavailable]);
    }
    codes.push(C::Internal);
    codes.sort();
    codes.dedup();
    let mut by_status: BTreeMap<u16, Vec<ProblemCode>> = BTreeMap::new();
    for code in codes {
        by_status.entry(code.status()).or_default().push(code);
    }
    if spec.tagged {
        let parameters = operation["parameters"].as_array_mut().expect("a tagged operation has parameters");
        parameters.push(json!({
            "name": "If-None-Match", "in": "header", "required": false,
            "description": "The `ETag` of a representation the client holds: `304` while it is still the current one.",
            "schema": { "type": "string" },
        }));
    }
    let responses = operation["responses"].as_object_mut().expect("responses");
    responses.retain(|status, _| status.starts_with('2'));
    for (status, response) in responses.iter_mut() {
        assert!(response.get("description").is_some_and(|d| d != ""), "{id} {status} has no description");
        if spec.idempotent {
            response["headers"] =
                json!({ "Idempotent-Replayed": { "$ref": "#/components/headers/Idempotent-Replayed" } });
        }
        if spec.tagged {
            response["headers"] = json!({ "ETag": { "$ref": "#/components/headers/ETag" } });
        }
    }
    if spec.tagged {
        responses.insert(
            "304".into(),
            json!({
                "description": "Not modified: the `If-None-Match` tag is the current one.",
                "headers": { "ETag": { "$ref": "#/components/headers/ETag" } },
            }),
        );
    }
    for (status, codes) in by_status {
        let shared = SHARED.iter().find(|(_, shared)| *shared == codes.as_slice());
        let response = match shared {
            Some((name, _)) => {
                json!({ "$ref": format!("#/components/responses/{name}") })
            }
            _ => problem_response(&codes, spec.idempotent),
        };
        responses.insert(status.to_string(), response);
    }
}

/// A problem+json response answering `codes` (all of one status), each described and exemplified.
fn problem_response(codes: &[ProblemCode], replayable: bool) -> Value {
    let status = codes[0].status();
    let described: Vec<String> = codes.iter().map(|c| format!("`{c}`: {}", c.meaning())).collect();
    let mut examples = Map::new();
    for code in codes {
        examples.insert(code.as_str().to_owned(), json!({ "summary": code.meaning(), "value": example(*code) }));
    }
    let enumerated: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    let mut response = json!({
        "description": described.join("\n\n"),
        "content": { "application/problem+json": {
            "schema": { "allOf": [
                { "$ref": "#/components/schemas/Problem" },
                { "type": "object", "required": ["code"], "properties": { "code": { "type": "string", "enum": enumerated } } },
            ] },
            "examples": examples,
        } },
    });
    let mut headers = Map::new();
    if status == 429 || status == 503 {
        headers.insert("Retry-After".into(), json!({ "$ref": "#/components/headers/Retry-After" }));
    }
    if replayable && status < 500 && status != 429 {
        headers.insert("Idempotent-Replayed".into(), json!({ "$ref": "#/components/headers/Idempotent-Replayed" }));
    }
    if !headers.is_empty() {
        response["headers"] = Value::Object(headers);
    }
    response
}

/// Request examples for the main operations.
fn request_example(operation: &str) -> Option<Value> {
    Some(match operation {
        "register" => {
            json!({ "email": "ada@example.com", "password": "correct horse battery", "full_name": "Ada Lovelace", "phone": "+90 555 123 4567" })
        }
        "login" => json!({ "email": "ada@example.com", "password": "correct horse battery" }),
        "createAuction" => json!({
            "title": "Reformer pilates, 19:00", "description": "", "start_price": "500.00", "floor_price": "100.00",
            "drop_amount": "50.00", "drop_interval_minutes": 10, "starts_at": "2030-03-01T15:00:00Z",
            "ends_at": "2030-03-01T18:00:00Z", "scheduled_at": "2030-03-01T19:00:00Z",
            "turbo": { "trigger_before_minutes": 30, "drop_amount": "20.00", "interval_minutes": 2 },
        }),
        "createEvent" => json!({
            "title": "Sound bath", "description": "", "capacity": 12, "price": "150.00",
            "starts_at": "2030-03-02T18:00:00Z", "ends_at": "2030-03-02T19:30:00Z", "is_active": true,
        }),
        "holdSeats" => json!({ "quantity": 2 }),
        "grabAuction" => json!({ "confirm": false }),
        "checkIn" => json!({ "booking_code": "7KQ2M9XD" }),
        _ => return None,
    })
}

/// The problem a code is answered with, as an example.
pub fn example(code: ProblemCode) -> Value {
    let mut problem = Problem::new(code, code.meaning());
    if code == C::ValidationFailed {
        problem.detail = "the request is invalid".into();
        problem.errors = Some(BTreeMap::from([("quantity".into(), vec!["must be between 1 and 10".into()])]));
    }
    serde_json::to_value(problem).expect("a problem serialises")
}
