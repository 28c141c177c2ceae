//! `ETag` and `If-None-Match` for reads a client polls: the tag is a hash of
//! the exact JSON answered, so it changes whenever anything in it does (the
//! price as time passes included) and a `304` never hides a change.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::http::header::{ETAG, IF_NONE_MATCH};
use actix_web::{HttpResponse, HttpResponseBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// `value` as JSON with its `ETag`, or `304 Not Modified` when the request's
/// `If-None-Match` names that tag (or is `*`).
pub fn tagged_json<T: Serialize>(req: &HttpRequest, value: &T) -> Result<HttpResponse, Problem> {
    let body = serde_json::to_vec(value).map_err(|e| Problem::from(hothour_domain::DomainError::storage(e)))?;
    let digest = Sha256::digest(&body);
    let tag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    let matches = req
        .headers()
        .get_all(IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == tag || candidate == "*");
    if matches {
        return Ok(HttpResponseBuilder::new(StatusCode::NOT_MODIFIED).insert_header((ETAG, tag)).finish());
    }
    Ok(HttpResponse::Ok().insert_header((ETAG, tag)).content_type("application/json").body(body))
}
