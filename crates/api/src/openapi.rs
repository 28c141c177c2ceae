//! The OpenAPI document: what utoipa derives from the routes and DTOs, then
//! made exact in one pass over the JSON ([`finish`]): from each route's
//! [`rules`], its security and the problem codes (and so the statuses) it can
//! answer; shared error responses with their headers, the range of instants,
//! and `null` only where the server takes it. The limits of bodies are on the
//! DTOs (`dto::schema`), those of pages and idempotency keys on their
//! parameter types (`pagination`, `idempotency`).

mod audit;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::dto::schema::{INSTANT_YEARS, instant_description};
use hothour_domain::account::Locale;

use crate::dto::{ActiveChoice, AuctionStatus, PricePhase, ReservationKind, ReservationStatus, TokenType, UserRole};
use crate::problem::{Problem, ProblemCode};
use rules::{Access, Rules};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "HotHour API",
        description = "Descending-price (Dutch) auctions for a studio's empty slots, events with seats, and two-phase (hold → confirm) reservations. Errors are RFC 9457 problem+json with a stable `code`; every code, its status and retry advice: https://hothour.dev/errors (docs/errors.md).",
        version = "1.0.0",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(
        Problem, ProblemCode, ActiveChoice, AuctionStatus, ReservationStatus, ReservationKind, UserRole, PricePhase, TokenType, Locale,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "me", description = "The signed-in user"),
        (name = "studios", description = "Studios and their admins"),
        (name = "events", description = "Events with seats, and holds"),
        (name = "auctions", description = "Dutch auctions and grabbing"),
        (name = "alerts", description = "Price alerts: be told when an auction reaches a price"),
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

/// The document as utoipa derives it from the routes and DTOs, before [`finish`].
pub fn derived() -> Value {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api/v1").configure(crate::routes::configure))
        .split_for_parts();
    serde_json::to_value(api).expect("the OpenAPI document serialises")
}

use ProblemCode as C;

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
    // A route that declares no rules fails `every_operation_declares_its_rules`
    // (and the committed document's comparison); until then it is taken as
    // signed-in, answering no codes of its own rules.
    let declared = operation.as_object_mut().and_then(|operation| operation.remove(rules::EXTENSION));
    let spec: Rules =
        declared.and_then(|rules| serde_json::from_value(rules).ok()).unwrap_or_else(|| rules::signed_in(&[]));
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
            if parameter["schema"]["format"] == "date-time" {
                merge(&mut parameter["schema"], &instant_limits());
                describe_instant_range(parameter);
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
    }
    let mut codes: Vec<ProblemCode> = spec.codes.clone();
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
    // What the route declares answers (successes, redirects); every problem comes from the rules.
    responses.retain(|status, _| status.starts_with(['2', '3']));
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

/// The problem a code is answered with, as an example.
pub fn example(code: ProblemCode) -> Value {
    let mut problem = Problem::new(code, code.meaning());
    if code == C::ValidationFailed {
        problem.detail = "the request is invalid".into();
        problem.errors = Some(BTreeMap::from([("quantity".into(), vec!["must be between 1 and 10".into()])]));
    }
    if code == C::CheckInNotOpen {
        problem.session_starts_at = "2030-03-02T18:00:00Z".parse().ok();
    }
    serde_json::to_value(problem).expect("a problem serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_declares_its_rules() {
        let derived = derived();
        let mut undeclared = Vec::new();
        for item in derived["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                if serde_json::from_value::<Rules>(operation[rules::EXTENSION].clone()).is_err() {
                    undeclared.push(operation["operationId"].as_str().expect("an operationId"));
                }
            }
        }
        assert!(
            undeclared.is_empty(),
            "routes that declare no rules (extensions((\"x-hothour\" = ...))): {undeclared:?}"
        );
        let finished = serde_json::to_string(crate::openapi_document()).unwrap();
        assert!(!finished.contains(rules::EXTENSION), "the finished document keeps no rules");
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
