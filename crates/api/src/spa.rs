//! The web client: the SPA built into `web/dist` (committed, and rebuilt
//! reproducibly by `scripts/check-web.sh`), embedded in the binary so a fresh
//! clone's `cargo run` serves it without Node.js.
//!
//! Only the SPA's own routes fall back to `index.html`; every other unknown
//! path (under `/api` above all) stays a problem+json 404.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../../web/dist"]
struct Bundle;

/// The first segment of each client route, as `web/src/router.ts` declares them.
const CLIENT_ROUTES: [&str; 13] = [
    "auctions",
    "events",
    "me",
    "signin",
    "register",
    "privacy",
    "studio",
    "admin",
    "verify",
    "forgot",
    "reset",
    "invitations",
    "unsubscribe",
];

/// Vite names the files under `assets/` by their content hash: they never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The application's fallback: a bundle file, the SPA for a client route, or a 404.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return crate::routes::not_found(req.clone()).await;
    }
    let path = req.path().trim_start_matches('/');
    if path.is_empty() || CLIENT_ROUTES.contains(&path.split('/').next().unwrap_or_default()) {
        return index(&req);
    }
    match Bundle::get(path) {
        Some(file) if path != "index.html" => {
            let cache = if path.starts_with("assets/") { IMMUTABLE } else { "no-cache" };
            HttpResponse::Ok()
                .content_type(file.metadata.mimetype())
                .insert_header((header::CACHE_CONTROL, cache))
                .body(file.data.into_owned())
        }
        _ => crate::routes::not_found(req.clone()).await,
    }
}

/// `index.html` names the current asset hashes, so browsers revalidate it on
/// every visit; the ETag keeps that to a 304 while the bundle is unchanged.
fn index(req: &HttpRequest) -> HttpResponse {
    let Some(file) = Bundle::get("index.html") else {
        return HttpResponse::NotFound().body("the web client was not built into this binary");
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let unchanged = req.headers().get(header::IF_NONE_MATCH).is_some_and(|tag| tag == etag.as_str());
    let mut response = HttpResponse::build(if unchanged { StatusCode::NOT_MODIFIED } else { StatusCode::OK });
    response
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((header::ETAG, etag))
        .content_type("text/html; charset=utf-8");
    if unchanged { response.finish() } else { response.body(file.data.into_owned()) }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
