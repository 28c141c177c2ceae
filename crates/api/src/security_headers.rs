//! Headers that tell browsers how to treat every answer: the web client,
//! Swagger UI and the API alike. Nothing may frame them (clickjacking a grab
//! → confirm), scripts, styles and connections come from this origin only
//! (the live socket included) — and, with payments on, from exactly the
//! origins the configured Stripe.js needs ([`Sources`], derived from the
//! configuration) — content types are not sniffed, no URL leaks in a
//! Referer, and HSTS when the deployment says it is served over HTTPS.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppState;
use crate::payments::PaymentsConfig;

/// The policy without `connect-src`, which names the request's own host.
const POLICY: &str =
    "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/// Swagger UI's stylesheet draws its icons as `data:` SVG images (images
/// only: no script runs from them); the web client needs none.
const DOCS_IMAGES: &str = "img-src 'self' data:";

/// Origins beyond this one that the browser may load scripts from, frame and
/// connect to: what the configured payment provider's script needs, and
/// nothing when payments are off.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sources {
    pub scripts: Vec<String>,
    pub frames: Vec<String>,
    pub connects: Vec<String>,
}

impl Sources {
    /// Stripe.js runs from `STRIPE_JS_URL`'s origin, draws its card fields in
    /// frames from there, and calls `STRIPE_API_BASE` (tokens) and its own
    /// origin; Stripe's own Stripe.js also opens 3-D Secure pages in frames
    /// from [`hothour_infra_stripe::AUTHENTICATION_FRAMES`].
    pub fn for_payments(payments: &PaymentsConfig) -> Sources {
        let PaymentsConfig::Stripe(stripe) = payments else {
            return Sources::default();
        };
        // Both URLs were checked when the configuration was read.
        let (Some(js), Some(api)) = (origin(&stripe.js_url), origin(&stripe.api_base)) else {
            return Sources::default();
        };
        let mut frames = vec![js.clone()];
        if origin(hothour_infra_stripe::DEFAULT_JS_URL).as_ref() == Some(&js) {
            frames.extend(origin(hothour_infra_stripe::AUTHENTICATION_FRAMES));
        }
        let mut connects = vec![api];
        if !connects.contains(&js) {
            connects.push(js.clone());
        }
        Sources { scripts: vec![js], frames, connects }
    }
}

/// The origin (`scheme://host[:port]`) of an http(s) URL, lower-cased, if it
/// has one that can stand in a policy as it is.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if !is_plain_host(authority) || authority.starts_with(':') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// The Content-Security-Policy for an answer to `path` requested of `host`:
/// the WebSocket at `ws(s)://host` is this origin's too; `sources` adds the
/// payment provider's.
pub fn content_security_policy(host: Option<&str>, path: &str, sources: &Sources) -> String {
    let mut connect = match host.filter(|host| is_plain_host(host)) {
        Some(host) => format!("connect-src 'self' ws://{host} wss://{host}"),
        None => "connect-src 'self'".to_owned(),
    };
    for source in &sources.connects {
        connect.push(' ');
        connect.push_str(source);
    }
    let mut policy = format!("{POLICY}; {connect}");
    for (directive, origins) in [("script-src", &sources.scripts), ("frame-src", &sources.frames)] {
        if !origins.is_empty() {
            policy.push_str(&format!("; {directive} 'self' {}", origins.join(" ")));
        }
    }
    if path == "/docs" || path.starts_with("/docs/") {
        policy.push_str("; ");
        policy.push_str(DOCS_IMAGES);
    }
    policy
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
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let sources = state.as_ref().map(|state| &state.csp_sources);
    let policy = content_security_policy(host.as_deref(), &path, sources.unwrap_or(&Sources::default()));
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Some(max_age) = state.and_then(|state| state.config.web.hsts_max_age) {
        let value = HeaderValue::from_str(&format!("max-age={max_age}; includeSubDomains")).expect("digits");
        headers.insert(HeaderName::from_static("strict-transport-security"), value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn none() -> Sources {
        Sources::default()
    }

    #[test]
    fn the_policy_names_the_socket_of_the_host_asked_for_and_nothing_else() {
        let policy = content_security_policy(Some("hothour.example:8443"), "/auctions/1", &none());
        assert!(policy.ends_with("; connect-src 'self' ws://hothour.example:8443 wss://hothour.example:8443"));
        assert!(policy.contains("frame-ancestors 'none'") && policy.starts_with("default-src 'self';"));
        assert!(!policy.contains("unsafe"), "nothing inline, no eval: {policy}");
        for hostile in ["evil.example; script-src *", "a b", "x'", "", "h\u{e9}te"] {
            assert!(
                content_security_policy(Some(hostile), "/", &none()).ends_with("; connect-src 'self'"),
                "{hostile}"
            );
        }
        assert!(content_security_policy(Some("[::1]:8080"), "/", &none()).contains("ws://[::1]:8080"));
        assert!(!content_security_policy(None, "/", &none()).contains("data:"));
        assert!(!content_security_policy(None, "/docsx", &none()).contains("data:"));
        assert!(content_security_policy(None, "/docs/", &none()).ends_with("; img-src 'self' data:"));
    }

    /// The configuration as `hothour` reads it from these variables.
    fn config(variables: &[(&str, &str)]) -> Config {
        let variables: Vec<(String, String)> =
            variables.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
        Config::from_lookup(|name| variables.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()))
            .expect("a valid configuration")
    }

    fn stripe(extra: &[(&'static str, &'static str)]) -> Config {
        let mut variables = vec![
            ("PAYMENTS", "stripe"),
            ("STRIPE_SECRET_KEY", "sk_test_x"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
        ];
        variables.extend_from_slice(extra);
        config(&variables)
    }

    fn policy_for(config: &Config) -> String {
        content_security_policy(Some("hothour.example"), "/auctions/1", &Sources::for_payments(&config.payments))
    }

    #[test]
    fn with_payments_off_the_policy_admits_nothing_beyond_this_origin() {
        let off = config(&[]);
        assert_eq!(Sources::for_payments(&off.payments), Sources::default());
        assert_eq!(
            policy_for(&off),
            "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; \
             form-action 'self'; connect-src 'self' ws://hothour.example wss://hothour.example"
        );
        // Stripe's addresses have defaults, but they are not admitted while payments are off.
        let named = config(&[("STRIPE_JS_URL", "https://js.stripe.com/v3/")]);
        assert!(!policy_for(&named).contains("stripe"));
    }

    #[test]
    fn with_stripe_the_policy_admits_exactly_what_stripe_js_needs() {
        let real = stripe(&[]);
        assert_eq!(
            Sources::for_payments(&real.payments),
            Sources {
                scripts: vec!["https://js.stripe.com".into()],
                frames: vec!["https://js.stripe.com".into(), "https://hooks.stripe.com".into()],
                connects: vec!["https://api.stripe.com".into(), "https://js.stripe.com".into()],
            }
        );
        assert_eq!(
            policy_for(&real),
            "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; \
             form-action 'self'; connect-src 'self' ws://hothour.example wss://hothour.example \
             https://api.stripe.com https://js.stripe.com; script-src 'self' https://js.stripe.com; \
             frame-src 'self' https://js.stripe.com https://hooks.stripe.com"
        );
    }

    #[test]
    fn with_a_local_stripe_the_policy_admits_its_origin_and_no_stripe_com() {
        let local = stripe(&[
            ("STRIPE_API_BASE", "http://127.0.0.1:8420"),
            ("STRIPE_JS_URL", "http://127.0.0.1:8420/js.stripe.com/v3/"),
        ]);
        let origin = "http://127.0.0.1:8420".to_owned();
        assert_eq!(
            Sources::for_payments(&local.payments),
            Sources { scripts: vec![origin.clone()], frames: vec![origin.clone()], connects: vec![origin] }
        );
        let policy = policy_for(&local);
        assert!(!policy.contains("stripe.com"), "{policy}");
        assert!(policy.contains("; script-src 'self' http://127.0.0.1:8420;"), "{policy}");
        assert!(policy.ends_with("; frame-src 'self' http://127.0.0.1:8420"), "{policy}");
        // Apart and on other hosts, each is admitted where it is needed.
        let apart = stripe(&[
            ("STRIPE_API_BASE", "https://API.payments.example:9443/base"),
            ("STRIPE_JS_URL", "https://js.payments.example/v3/"),
        ]);
        assert_eq!(
            Sources::for_payments(&apart.payments),
            Sources {
                scripts: vec!["https://js.payments.example".into()],
                frames: vec!["https://js.payments.example".into()],
                connects: vec!["https://api.payments.example:9443".into(), "https://js.payments.example".into()],
            }
        );
    }

    #[test]
    fn an_address_that_cannot_stand_in_the_policy_is_refused_at_start() {
        assert_eq!(origin("https://js.stripe.com/v3/").as_deref(), Some("https://js.stripe.com"));
        assert_eq!(origin("HTTP://[::1]:8080?x").as_deref(), Some("http://[::1]:8080"));
        for bad in [
            "https://evil.example; script-src *",
            "https://user@js.example/",
            "https:///v3/",
            "https://:443/",
            "ftp://js.example/",
            "js.example",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
        for name in ["STRIPE_JS_URL", "STRIPE_API_BASE"] {
            let variables = [
                ("PAYMENTS", "stripe"),
                ("STRIPE_SECRET_KEY", "sk_test_x"),
                ("STRIPE_PUBLISHABLE_KEY", "pk_test_x"),
                ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
                (name, "https://evil.example; script-src *"),
            ];
            let refused =
                Config::from_lookup(|n| variables.iter().find(|(v, _)| *v == n).map(|(_, v)| (*v).to_owned()));
            assert!(matches!(refused, Err(crate::config::ConfigError::Invalid { name: n, .. }) if n == name), "{name}");
        }
    }
}
