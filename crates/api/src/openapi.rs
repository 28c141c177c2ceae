//! The OpenAPI document: what utoipa derives from the routes and DTOs, then
//! made exact in one pass over the JSON ([`finish`]): every operation's
//! security, the problem codes (and so the statuses) it can answer, shared
//! error responses with their headers, the limits of query parameters and
//! headers, and `null` only where the server takes it. The limits of bodies
//! are on the DTOs (`dto::schema`).

mod audit;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::schema::{INSTANT_YEARS, instant_description};
use crate::dto::{ActiveChoice, AuctionStatus, PricePhase, ReservationKind, ReservationStatus, TokenType, UserRole};
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
        (name = "payments", description = "The payment provider's notifications"),
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
                C::PaymentRequired,
                C::RateLimited,
            ],
        )
    },
    op("listMyReservations", SignedIn, &[]),
    op("getReservation", SignedIn, &[]),
    op("getReservationCalendar", SignedIn, &[]),
    op(
        "confirmReservation",
        SignedIn,
        &[C::HoldExpired, C::InvalidState, C::PaymentRequired, C::PaymentProcessing, C::PaymentProviderUnavailable],
    ),
    op(
        "payReservation",
        SignedIn,
        &[
            C::PaymentsDisabled,
            C::HoldExpired,
            C::InvalidState,
            C::PaymentDeclined,
            C::PaymentRequired,
            C::PaymentProviderUnavailable,
        ],
    ),
    op("stripeWebhook", Public, &[C::BadRequest, C::RouteNotFound]),
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

/// The range of instants the server accepts, for a `date-time` it reads.
fn instant_limits() -> Value {
    json!({ "pattern": INSTANT_YEARS })
}

/// Says in `schema`'s description which instants the server accepts.
fn describe_instant_range(schema: &mut Value) {
    schema["description"] = json!(instant_description(schema["description"].as_str()));
}

/// The schemas only the server sends: those its routes answer with (in a
/// success), and what they hold, but no request carries. Every property of
/// one is always present (maybe null).
fn answers(doc: &Value) -> BTreeSet<String> {
    let mut answered = Vec::new();
    let mut requested = Vec::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("path item").values() {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if status.starts_with('2') {
                    references(response, &mut answered);
                }
            }
            references(&operation["requestBody"], &mut requested);
            references(&operation["parameters"], &mut requested);
        }
    }
    let schemas = &doc["components"]["schemas"];
    let requested = reachable(schemas, requested);
    reachable(schemas, answered).difference(&requested).cloned().collect()
}

/// The names of the schemas `value` refers to.
fn references(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match value.as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
                    Some(name) if key == "$ref" => names.push(name.to_owned()),
                    _ => references(value, names),
                }
            }
        }
        Value::Array(values) => values.iter().for_each(|value| references(value, names)),
        _ => {}
    }
}

/// The schemas `names` refer to, and those they refer to, and so on.
fn reachable(schemas: &Value, mut names: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    while let Some(name) = names.pop() {
        if seen.insert(name.clone()) {
            references(&schemas[&name], &mut names);
        }
    }
    seen
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
    let answers = answers(&doc);
    let schemas = doc["components"]["schemas"].as_object_mut().expect("schemas");
    for (name, schema) in schemas.iter_mut() {
        if answers.contains(name) {
            require_every_property(schema);
        }
    }
    audit::add_schemas(schemas);
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

/// Marks every property of an answer (and of the parts it flattens) as always sent.
fn require_every_property(schema: &mut Value) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        if let Some(parts) = schema.get_mut("allOf").and_then(Value::as_array_mut) {
            parts.iter_mut().for_each(require_every_property);
        }
        return;
    };
    let all: Vec<Value> = properties.keys().map(|k| Value::String(k.clone())).collect();
    schema["required"] = Value::Array(all);
}

fn finish_operation(path: &str, method: &str, operation: &mut Value) {
    let id = operation["operationId"].as_str().expect("an operationId").to_owned();
    // An operation missing here fails `every_operation_is_described` (and the
    // committed document's comparison); until then it is taken as signed-in,
    // answering no codes of its own rules.
    let unknown = op("", SignedIn, &[]);
    let spec = OPERATIONS.iter().find(|o| o.id == id).unwrap_or(&unknown);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_described_once() {
        let doc = crate::openapi_document();
        let mut routed: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|operation| operation["operationId"].as_str().expect("an operationId"))
            .collect();
        let mut described: Vec<&str> = OPERATIONS.iter().map(|o| o.id).collect();
        routed.sort_unstable();
        described.sort_unstable();
        let missing: Vec<&&str> = routed.iter().filter(|id| !described.contains(id)).collect();
        assert!(missing.is_empty(), "routes with no entry in OPERATIONS: {missing:?}");
        let stale: Vec<&&str> = described.iter().filter(|id| !routed.contains(id)).collect();
        assert!(stale.is_empty(), "entries of OPERATIONS with no route: {stale:?}");
        let before = described.len();
        described.dedup();
        assert_eq!(before, described.len(), "an operation is described twice in OPERATIONS");
    }

    /// What the finishing pass takes for answers: a new answer type needs no mark.
    #[test]
    fn every_property_of_what_a_success_answers_is_always_sent() {
        let doc = crate::openapi_document();
        let mut answered = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('2') {
                        references(response, &mut answered);
                    }
                }
            }
        }
        let schemas = &doc["components"]["schemas"];
        let answered = reachable(schemas, answered);
        assert!(answered.contains("AuctionOut") && answered.contains("SignInOut"), "{answered:?}");
        for name in answered {
            let schema = &schemas[&name];
            let parts = schema["allOf"].as_array().map_or(vec![schema], |parts| parts.iter().collect());
            for part in parts {
                let Some(properties) = part["properties"].as_object() else { continue };
                let required = part["required"].as_array().cloned().unwrap_or_default();
                for property in properties.keys() {
                    assert!(required.contains(&json!(property)), "{name}.{property} is answered but not required");
                }
            }
        }
    }
}
