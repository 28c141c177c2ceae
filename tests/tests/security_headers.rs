//! What every answer tells the browser (issue 19, item 7): nothing may frame
//! the web client, Swagger UI or the API (a grab → confirm clickjacked), only
//! this origin's scripts, styles and connections (its WebSocket included) run,
//! content types are not sniffed, no Referer leaks, and HSTS only when the
//! deployment says it is served over HTTPS. The pages themselves carry
//! nothing inline for the policy to refuse. With payments on, the policy
//! admits exactly the configured Stripe.js's origins (issue 22), and nothing
//! more (the browser tests load localstripe's under it).

use hothour_tests::app::TestApp;
use hothour_tests::on_both_stores;
use reqwest::header::HeaderMap;

/// The web client's board, one of its routes, Swagger UI, an API answer and an API problem.
const PATHS: [&str; 6] = ["/", "/auctions/1", "/docs/", "/api/v1/config", "/api/v1/auctions/999", "/health/live"];

async fn headers(app: &TestApp, path: &str) -> HeaderMap {
    let response = app.client.get(app.url(path)).send().await.expect("the server answers");
    assert!(response.status().as_u16() < 500, "{path}: {}", response.status());
    response.headers().clone()
}

fn header<'a>(headers: &'a HeaderMap, name: &str, path: &str) -> &'a str {
    headers.get(name).unwrap_or_else(|| panic!("{path} has no {name}")).to_str().unwrap()
}

/// The directives of a Content-Security-Policy, by name.
fn directives(policy: &str) -> Vec<(String, String)> {
    policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let (name, sources) = d.split_once(' ').unwrap_or((d, ""));
            (name.to_owned(), sources.to_owned())
        })
        .collect()
}

on_both_stores! {
    async fn every_answer_refuses_framing_sniffing_referers_and_foreign_code(backend) {
        let app = TestApp::spawn_on(backend).await;
        let host = app.base_url.trim_start_matches("http://").to_owned();
        for path in PATHS {
            let headers = headers(&app, path).await;
            let policy = header(&headers, "content-security-policy", path);
            let directives = directives(policy);
            let get = |name: &str| {
                directives.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_str()).unwrap_or_else(|| panic!("{path}: no {name} in {policy}"))
            };
            assert_eq!(get("default-src"), "'self'", "{path}");
            assert_eq!(get("frame-ancestors"), "'none'", "{path}");
            assert_eq!(get("object-src"), "'none'", "{path}");
            assert_eq!(get("base-uri"), "'self'", "{path}");
            assert_eq!(get("connect-src"), format!("'self' ws://{host} wss://{host}"), "{path}");
            assert!(!policy.contains("unsafe-") && !policy.contains('*'), "{path}: {policy}");
            for directive in ["script-src", "style-src"] {
                assert!(directives.iter().all(|(n, _)| n != directive), "{path}: {directive} widened: {policy}");
            }
            assert_eq!(header(&headers, "x-content-type-options", path), "nosniff");
            assert_eq!(header(&headers, "referrer-policy", path), "no-referrer");
            assert_eq!(header(&headers, "x-frame-options", path), "DENY");
            assert!(headers.get("strict-transport-security").is_none(), "{path}: HSTS without HSTS_MAX_AGE");
        }
        // Swagger UI's stylesheet draws its icons as data: images; only /docs allows them.
        assert!(header(&headers(&app, "/docs/").await, "content-security-policy", "/docs/").ends_with("; img-src 'self' data:"));
        assert!(!header(&headers(&app, "/").await, "content-security-policy", "/").contains("data:"));
    }

    async fn with_stripe_every_answer_admits_exactly_the_configured_stripe_js(backend) {
        // No Stripe is called to serve these answers; the addresses are what matters.
        let stripe = "http://127.0.0.1:9";
        let js_url = format!("{stripe}/js.stripe.com/v3/");
        let app = TestApp::spawn_on_with(backend, &[
            ("PAYMENTS", "stripe"),
            ("STRIPE_SECRET_KEY", "sk_test_hothour"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_hothour"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_hothour"),
            ("STRIPE_API_BASE", stripe),
            ("STRIPE_JS_URL", &js_url),
        ]).await;
        let host = app.base_url.trim_start_matches("http://").to_owned();
        for path in PATHS {
            let headers = headers(&app, path).await;
            let policy = header(&headers, "content-security-policy", path);
            let directives = directives(policy);
            let get = |name: &str| directives.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_str());
            assert_eq!(get("default-src"), Some("'self'"), "{path}");
            assert_eq!(get("frame-ancestors"), Some("'none'"), "{path}");
            assert_eq!(get("script-src"), Some(format!("'self' {stripe}").as_str()), "{path}");
            assert_eq!(get("frame-src"), Some(format!("'self' {stripe}").as_str()), "{path}");
            assert_eq!(get("connect-src"), Some(format!("'self' ws://{host} wss://{host} {stripe}").as_str()), "{path}");
            assert_eq!(get("style-src"), None, "{path}: {policy}");
            assert!(!policy.contains("unsafe-") && !policy.contains('*') && !policy.contains("stripe.com"), "{path}: {policy}");
        }
    }

    async fn hsts_is_sent_when_configured(backend) {
        let app = TestApp::spawn_on_with(backend, &[("HSTS_MAX_AGE", "31536000")]).await;
        for path in PATHS {
            let headers = headers(&app, path).await;
            assert_eq!(header(&headers, "strict-transport-security", path), "max-age=31536000; includeSubDomains");
        }
    }

    async fn the_web_client_and_swagger_ui_pages_carry_nothing_inline(backend) {
        let app = TestApp::spawn_on(backend).await;
        for path in ["/", "/auctions/1", "/docs/"] {
            let page = app.client.get(app.url(path)).send().await.unwrap().text().await.unwrap().to_lowercase();
            assert!(page.contains("<script"), "{path} is the page expected: {page}");
            for (at, _) in page.match_indices("<script") {
                let tag = &page[at..at + page[at..].find('>').unwrap()];
                assert!(tag.contains(" src="), "{path}: an inline script: {tag}");
                let body = &page[at + tag.len() + 1..];
                assert!(body.trim_start().starts_with("</script>"), "{path}: a script with a body");
            }
            assert!(!page.contains("<style"), "{path}: an inline style element");
            assert!(!page.contains(" style="), "{path}: an inline style attribute");
            assert!(!page.contains(" onload=") && !page.contains(" onclick="), "{path}: an inline handler");
        }
    }
}
