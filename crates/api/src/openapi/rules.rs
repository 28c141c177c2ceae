//! What the document says about an operation beyond its route, declared on
//! the route itself:
//!
//! ```text
//! #[utoipa::path(..., extensions(("x-hothour" = json!(rules::signed_in(&[C::EmailTaken])))))]
//! ```
//!
//! [`super::finish`] reads it back, removes it, and writes from it the
//! operation's security, problem responses and headers.

use serde::{Deserialize, Serialize};

use crate::problem::ProblemCode;

/// The extension a route's [`Rules`] travel in (never in the finished document).
pub const EXTENSION: &str = "x-hothour";

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    Public,
    /// Public, but a bearer token, when sent, shows more (and a bad one is 401).
    Optional,
    SignedIn,
}

/// One operation's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub access: Access,
    /// Reads or writes the database (so a busy or absent one is a 503).
    pub database: bool,
    /// Takes an `Idempotency-Key`.
    pub idempotent: bool,
    /// Answers with an `ETag` and `304` to a matching `If-None-Match`.
    pub tagged: bool,
    /// The codes of its own rules; those of bodies, parameters, sign-in and
    /// the database are added from the route's shape.
    pub codes: Vec<ProblemCode>,
}

fn rules(access: Access, codes: &[ProblemCode]) -> Rules {
    Rules { access, database: true, idempotent: false, tagged: false, codes: codes.to_vec() }
}

/// Anyone may call it.
pub fn public(codes: &[ProblemCode]) -> Rules {
    rules(Access::Public, codes)
}

/// Anyone may call it; a signed-in caller may see more.
pub fn optional(codes: &[ProblemCode]) -> Rules {
    rules(Access::Optional, codes)
}

/// Only a signed-in caller may call it. Also what a route that declares no
/// rules is taken for (a test fails on such a route).
pub fn signed_in(codes: &[ProblemCode]) -> Rules {
    rules(Access::SignedIn, codes)
}

impl Rules {
    pub fn idempotent(self) -> Rules {
        Rules { idempotent: true, ..self }
    }

    pub fn tagged(self) -> Rules {
        Rules { tagged: true, ..self }
    }

    pub fn without_database(self) -> Rules {
        Rules { database: false, ..self }
    }
}
