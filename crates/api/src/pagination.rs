//! Opaque keyset cursors and bounded page sizes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use crate::json::validation_problem;
use crate::problem::Problem;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// What every cursor looks like: URL-safe base64 without padding, never empty.
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// `?limit=`: how many items a page holds. A query declares it
/// `#[param(inline)] limit: Option<PageSize>`, its schema saying the bounds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(transparent)]
pub struct PageSize(pub i64);

impl PartialSchema for PageSize {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT))
            .default(Some(DEFAULT_LIMIT.into()))
            .into()
    }
}

/// `?cursor=`: the `next_cursor` of the previous page. A query declares it
/// `#[param(inline)] cursor: Option<Cursor>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

impl PartialSchema for Cursor {
    fn schema() -> RefOr<Schema> {
        // Only what the server gives out: URL-safe base64 without padding, never empty.
        ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).pattern(Some(CURSOR_PATTERN)).into()
    }
}

impl Cursor {
    /// The (time, id) a cursor of a list ordered by time then id names.
    pub fn time(&self) -> Result<(DateTime<Utc>, i64), Problem> {
        decode_time_cursor(&self.0)
    }

    /// The id a cursor of a list ordered by id names.
    pub fn id(&self) -> Result<i64, Problem> {
        decode_id_cursor(&self.0)
    }
}

/// The page size asked for, within bounds.
pub fn limit(requested: Option<PageSize>) -> Result<u32, Problem> {
    match requested.map(|size| size.0) {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => Ok(n as u32),
        Some(_) => Err(validation_problem("limit".into(), "must be between 1 and 100".into())),
    }
}

fn bad_cursor() -> Problem {
    validation_problem("cursor".into(), "is not a cursor this API gave out".into())
}

/// A cursor after (`at`, `id`) in a list ordered by time then id.
pub fn encode_time_cursor(at: DateTime<Utc>, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("t|{}|{id}", at.to_rfc3339()))
}

pub fn decode_time_cursor(cursor: &str) -> Result<(DateTime<Utc>, i64), Problem> {
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?).map_err(|_| bad_cursor())?;
    let mut parts = text.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("t"), Some(at), Some(id)) => Ok((
            DateTime::parse_from_rfc3339(at).map_err(|_| bad_cursor())?.with_timezone(&Utc),
            id.parse().map_err(|_| bad_cursor())?,
        )),
        _ => Err(bad_cursor()),
    }
}

/// A cursor before `id` in a list ordered newest first.
pub fn encode_id_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("i|{id}"))
}

pub fn decode_id_cursor(cursor: &str) -> Result<i64, Problem> {
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?).map_err(|_| bad_cursor())?;
    text.strip_prefix("i|").and_then(|id| id.parse().ok()).ok_or_else(bad_cursor)
}

/// Fetches one more than `limit` to learn whether a next page exists; this
/// trims the extra item and returns the cursor for the next page.
pub fn split_page<T>(mut items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        let next = items.last().map(cursor_of);
        (items, next)
    } else {
        (items, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::parse_from_rfc3339("2030-03-01T09:00:00.123456Z").unwrap().with_timezone(&Utc);
        assert_eq!(decode_time_cursor(&encode_time_cursor(at, 42)).unwrap(), (at, 42));
        assert_eq!(decode_id_cursor(&encode_id_cursor(7)).unwrap(), 7);
        for garbage in ["", "!!", "aGVsbG8", &encode_id_cursor(7)] {
            assert_eq!(decode_time_cursor(garbage).unwrap_err().status, 422, "{garbage}");
        }
        assert!(decode_id_cursor(&encode_time_cursor(at, 1)).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).unwrap(), 20);
        assert_eq!(limit(Some(PageSize(100))).unwrap(), 100);
        assert!(limit(Some(PageSize(0))).is_err());
        assert!(limit(Some(PageSize(101))).is_err());
    }

    #[test]
    fn pages_know_whether_more_follow() {
        let (items, next) = split_page(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((items, next), (vec![1, 2], Some("2".to_owned())));
        let (items, next) = split_page(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((items, next), (vec![1, 2], None));
    }
}
