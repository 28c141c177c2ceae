//! Strict JSON request bodies: unknown fields, wrong types, malformed JSON
//! and text holding U+0000 are 4xx problems naming the offending field, never
//! a 500. This is the one place every body passes through, so no handler has
//! to check its text for NUL characters (which PostgreSQL cannot store).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::problem::{Problem, ProblemCode};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body parsed strictly. An empty body reads as `{}` so that
/// bodies whose fields are all optional may be left out.
#[derive(Debug)]
pub struct StrictJson<T>(pub T);

pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// Parses `bytes` as `T`, naming the field a failure happened at.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    if let Some(field) = field_with_nul(bytes) {
        return Err(validation_problem(field, NUL_MESSAGE.into()));
    }
    // Every body is an object; serde would also take a struct's fields from an array.
    let is_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !is_object && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(validation_problem("body".into(), "must be a JSON object".into()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if inner.is_syntax() || inner.is_eof() {
            return Problem::new(ProblemCode::MalformedJson, format!("the body is not valid JSON: {inner}"));
        }
        let path = error.path().to_string();
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        // The path already ends at an unknown field's name.
        let field = if path == "." { "body".to_owned() } else { path };
        validation_problem(field, message)
    })?;
    deserializer.end().map_err(|e| Problem::new(ProblemCode::MalformedJson, format!("trailing data: {e}")))?;
    Ok(value)
}

/// The field (as `serde_path_to_error` names it) of the first string in the
/// body that holds U+0000. JSON can only carry one escaped, so bodies without
/// a `\u0000` escape are never parsed twice.
fn field_with_nul(bytes: &[u8]) -> Option<String> {
    let escaped_nul = bytes.windows(6).any(|w| w.starts_with(b"\\u") && w[2..].iter().all(|b| *b == b'0'));
    if !escaped_nul {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    nul_path(&value, "")
}

fn nul_path(value: &Value, path: &str) -> Option<String> {
    let named = |path: &str| if path.is_empty() { "body".to_owned() } else { path.to_owned() };
    match value {
        Value::String(text) => text.contains('\0').then(|| named(path)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| nul_path(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(named(path));
            }
            nul_path(item, &if path.is_empty() { key.clone() } else { format!("{path}.{key}") })
        }),
        _ => None,
    }
}

/// An instant given in a query string, as the domain accepts instants:
/// truncated to microseconds, years 1970 to 9999.
pub fn query_instant(field: &str, at: Option<DateTime<Utc>>) -> Result<Option<DateTime<Utc>>, Problem> {
    at.map(|at| {
        hothour_domain::instant::accept(at)
            .ok_or_else(|| validation_problem(field.to_owned(), hothour_domain::instant::OUT_OF_RANGE.to_owned()))
    })
    .transpose()
}

pub fn validation_problem(field: String, message: String) -> Problem {
    let mut problem = Problem::new(ProblemCode::ValidationFailed, "the request is invalid");
    problem.errors = Some(BTreeMap::from([(field, vec![message])]));
    problem
}

/// Parses a request body that must be JSON (when there is one at all).
pub fn parse_request<T: DeserializeOwned>(req: &HttpRequest, bytes: &[u8]) -> Result<T, Problem> {
    let has_body = !bytes.iter().all(u8::is_ascii_whitespace);
    let is_json = req.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        mime == "application/json" || mime.ends_with("+json")
    });
    if has_body && !is_json {
        return Err(Problem::new(ProblemCode::UnsupportedMediaType, "send the body as application/json"));
    }
    parse(bytes)
}

impl<T: DeserializeOwned + 'static> FromRequest for StrictJson<T> {
    type Error = Problem;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Problem>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(ProblemCode::PayloadTooLarge, "the body is larger than 64 KiB")
                } else {
                    Problem::new(ProblemCode::BadBody, e.to_string())
                }
            })?;
            parse_request(&req, &bytes).map(StrictJson)
        })
    }
}

/// Path and query extraction errors as problems: a non-numeric id is simply not found.
pub fn configure_extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, _| Problem::new(ProblemCode::NotFound, "no such resource").into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            let message = error.to_string();
            let message = message.trim_start_matches("Query deserialize error: ").to_owned();
            let field = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .unwrap_or("query")
                .to_owned();
            validation_problem(field, message).into()
        }));
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        quantity: Option<i64>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        amount: i64,
    }

    fn field_of(problem: Problem) -> String {
        problem.errors.unwrap().into_keys().next().unwrap()
    }

    #[test]
    fn unknown_fields_are_named() {
        let problem = parse::<Body>(br#"{"quantiy": 2}"#).unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(field_of(problem), "quantiy");
        let nested = parse::<Body>(br#"{"inner": {"amount": 1, "x": 2}}"#).unwrap_err();
        assert_eq!(field_of(nested), "inner.x");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let problem = parse::<Body>(br#"{"quantity": "two"}"#).unwrap_err();
        assert_eq!((problem.status, field_of(problem)), (422, "quantity".to_owned()));
    }

    #[test]
    fn nul_characters_are_refused_naming_the_field() {
        let problem = parse::<Body>(br#"{"inner": {"amount": 1}, "quantity": 1, "x": "a\u0000b"}"#).unwrap_err();
        assert_eq!((problem.status, field_of(problem)), (422, "x".to_owned()));
        let nested = parse::<serde_json::Value>(br#"{"a": [{"b": "\u0000"}]}"#).unwrap_err();
        assert_eq!(field_of(nested), "a[0].b");
        assert!(parse::<serde_json::Value>(br#"{"a": "\\u0000"}"#).is_ok(), "an escaped backslash is no NUL");
    }

    #[test]
    fn malformed_json_is_400_and_empty_is_empty_object() {
        assert_eq!(parse::<Body>(b"{").unwrap_err().code, "malformed_json");
        assert_eq!(parse::<Body>(b"{} x").unwrap_err().code, "malformed_json");
        assert!(parse::<Body>(b"").unwrap().quantity.is_none());
        assert_eq!(parse::<Body>(b"[]").unwrap_err().status, 422);
        let array = parse::<Body>(b"[null, null]").unwrap_err();
        assert_eq!((array.status, field_of(array)), (422, "body".to_owned()));
    }
}
