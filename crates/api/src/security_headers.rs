//! Headers that tell browsers how to treat every answer: the web client,
//! Swagger UI and the API alike. Nothing may frame them (clickjacking a grab
//! → confirm), scripts, styles and connections come from this origin only
//! (the live socket included), content types are not sniffed, no URL leaks
//! in a Referer, and HSTS when the deployment says it is served over HTTPS.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppState;

/// The policy without `connect-src`, which names the request's own host.
const POLICY: &str =
    "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/// Swagger UI's stylesheet draws its icons as `data:` SVG images (images
/// only: no script runs from them); the web client needs none.
const DOCS_IMAGES: &str = "img-src 'self' data:";

/// The Content-Security-Policy for an answer to `path` requested of `host`:
/// the WebSocket at `ws(s)://host` is this origin's too.
pub fn content_security_policy(host: Option<&str>, path: &str) -> String {
    let connect = match host.filter(|host| is_plain_host(host)) {
        Some(host) => format!("connect-src 'self' ws://{host} wss://{host}"),
        None => "connect-src 'self'".to_owned(),
    };
    if path == "/docs" || path.starts_with("/docs/") {
        format!("{POLICY}; {connect}; {DOCS_IMAGES}")
    } else {
        format!("{POLICY}; {connect}")
    }
}

/// A host name or address with an optional port, and nothing that could
/// end a CSP source or add a directive.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
    let path = req.path().to_owned();
    let hsts_max_age = req.app_data::<web::Data<AppState>>().and_then(|state| state.config.web.hsts_max_age);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let policy = content_security_policy(host.as_deref(), &path);
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Some(max_age) = hsts_max_age {
        let value = HeaderValue::from_str(&format!("max-age={max_age}; includeSubDomains")).expect("digits");
        headers.insert(HeaderName::from_static("strict-transport-security"), value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_socket_of_the_host_asked_for_and_nothing_else() {
        let policy = content_security_policy(Some("hothour.example:8443"), "/auctions/1");
        assert!(policy.ends_with("; connect-src 'self' ws://hothour.example:8443 wss://hothour.example:8443"));
        assert!(policy.contains("frame-ancestors 'none'") && policy.starts_with("default-src 'self';"));
        assert!(!policy.contains("unsafe"), "nothing inline, no eval: {policy}");
        for hostile in ["evil.example; script-src *", "a b", "x'", "", "h\u{e9}te"] {
            assert!(content_security_policy(Some(hostile), "/").ends_with("; connect-src 'self'"), "{hostile}");
        }
        assert!(content_security_policy(Some("[::1]:8080"), "/").contains("ws://[::1]:8080"));
        assert!(!content_security_policy(None, "/").contains("data:"));
        assert!(!content_security_policy(None, "/docsx").contains("data:"));
        assert!(content_security_policy(None, "/docs/").ends_with("; img-src 'self' data:"));
    }
}
