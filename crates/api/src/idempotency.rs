//! `Idempotency-Key`: a retried hold or grab replays the first answer.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::SubsecRound;
use hothour_domain::UserId;
use hothour_domain::ports::{IdempotencyBegin, IdempotencyClaim, IdempotencyStore};
use sha2::{Digest, Sha256};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema};

use crate::AppState;
use crate::json::validation_problem;
use crate::problem::{Problem, ProblemCode};

pub const HEADER: &str = "Idempotency-Key";
/// A key is 1 to this many visible ASCII characters ([`KEY_PATTERN`]).
pub const KEY_MAX_CHARS: usize = 255;
pub const KEY_PATTERN: &str = "^[!-~]+$";
const KEPT_FOR_HOURS: i64 = 24;

/// The `Idempotency-Key` header, as a route that takes one declares it:
/// `params(..., idempotency::KeyHeader)`.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct KeyHeader {
    /// Replays the first answer to a retried request
    #[param(rename = "Idempotency-Key", inline)]
    pub key: Option<Key>,
}

/// A key as [`run`] accepts it.
pub struct Key;

impl PartialSchema for Key {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(KEY_MAX_CHARS))
            .pattern(Some(KEY_PATTERN))
            .into()
    }
}

/// An answer, ready to send and to store.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Answer {
        Answer { status, body: serde_json::to_vec(value).unwrap_or_default() }
    }

    fn from_problem(problem: &Problem) -> Answer {
        Answer {
            status: StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: serde_json::to_vec(problem).unwrap_or_default(),
        }
    }

    fn into_response(self, replayed: bool, retry_after: Option<u64>) -> HttpResponse {
        let content_type = if self.status.is_success() { "application/json" } else { "application/problem+json" };
        let mut response = HttpResponse::build(self.status);
        response.content_type(content_type);
        if replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        if let Some(seconds) = retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.body(self.body)
    }
}

/// Runs `handler` at most once per key: the same key from the same caller on
/// the same method, path and body replays the first answer.
pub async fn run<F, Fut>(
    state: &AppState,
    user: UserId,
    req: &HttpRequest,
    body: &[u8],
    handler: F,
) -> Result<HttpResponse, Problem>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Answer, Problem>>,
{
    let key = match req.headers().get(HEADER) {
        None => return Ok(finish_plain(handler().await)),
        Some(value) => value
            .to_str()
            .ok()
            .filter(|k| (1..=KEY_MAX_CHARS).contains(&k.len()) && k.chars().all(|c| c.is_ascii_graphic())),
    };
    let key =
        key.ok_or_else(|| validation_problem(HEADER.into(), "must be 1 to 255 visible ASCII characters".into()))?;
    let request = format!("{} {}", req.method(), req.path());
    let hash: String = Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    // Stored with microseconds: the lease's end names this claim, so it must read back equal.
    let now = state.now().trunc_subsecs(6);
    let lease = chrono::Duration::from_std(state.config.idempotency_lease).unwrap_or(chrono::Duration::seconds(10));
    let claim = IdempotencyClaim {
        user,
        key,
        request: &request,
        request_hash: &hash,
        now,
        lease_until: now + lease,
        expires_at: now + chrono::Duration::hours(KEPT_FOR_HOURS),
    };
    match state.store.begin_idempotent(&claim).await? {
        IdempotencyBegin::Started => {}
        IdempotencyBegin::InProgress => {
            return Err(Problem::new(
                ProblemCode::IdempotencyInProgress,
                "a request with this Idempotency-Key is still running",
            ));
        }
        IdempotencyBegin::Mismatch => {
            return Err(Problem::new(
                ProblemCode::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request",
            ));
        }
        IdempotencyBegin::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(Answer { status, body }.into_response(true, None));
        }
    }
    let (answer, retry_after) = match handler().await {
        Ok(answer) => (answer, None),
        Err(problem) => (Answer::from_problem(&problem), problem.retry_after),
    };
    let outcome = if answer.status.is_server_error() || answer.status == StatusCode::TOO_MANY_REQUESTS {
        state.store.abandon_idempotent(user, key, claim.lease_until).await
    } else {
        state.store.finish_idempotent(user, key, answer.status.as_u16(), answer.body.clone()).await
    };
    if let Err(error) = outcome {
        tracing::error!(%error, "could not record an idempotent answer");
    }
    Ok(answer.into_response(false, retry_after))
}

fn finish_plain(result: Result<Answer, Problem>) -> HttpResponse {
    match result {
        Ok(answer) => answer.into_response(false, None),
        Err(problem) => actix_web::ResponseError::error_response(&problem),
    }
}
