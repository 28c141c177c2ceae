//! The web client is served by the binary: the SPA at `/` and at its client
//! routes, its hashed assets cached for good, and the service's own paths untouched.

use hothour_tests::app::TestApp;
use hothour_tests::on_both_stores;
use reqwest::StatusCode;

async fn page(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.headers().clone(), response.text().await.unwrap())
}

/// The first script the page loads: `/assets/index-<hash>.js`.
fn script_of(html: &str) -> &str {
    let start = html.find("src=\"/assets/").expect("index.html loads a hashed script") + "src=\"".len();
    let end = start + html[start..].find('"').unwrap();
    &html[start..end]
}

on_both_stores! {
    async fn the_board_and_a_deep_link_serve_the_page_uncached(backend) {
        let app = TestApp::spawn_on(backend).await;
        for path in ["/", "/auctions/1", "/events/7", "/me", "/studio/auctions/new", "/studio/events/3/edit", "/admin", "/admin/studios/2", "/privacy"] {
            let (status, headers, body) = page(&app, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
            assert_eq!(headers["cache-control"], "no-cache", "{path}");
            assert!(body.contains("<div id=\"app\">"), "{path}: {body}");
        }
        let (_, headers, _) = page(&app, "/").await;
        let revalidated = app
            .client
            .get(app.url("/"))
            .header("If-None-Match", headers["etag"].clone())
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    }

    async fn hashed_assets_are_cached_immutably(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (_, _, html) = page(&app, "/").await;
        let (status, headers, body) = page(&app, script_of(&html)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
        assert!(headers["content-type"].to_str().unwrap().contains("javascript"));
        assert!(!body.is_empty());
    }

    async fn service_paths_keep_their_own_answers(backend) {
        let app = TestApp::spawn_on(backend).await;
        for path in ["/api/v1/nope", "/api", "/assets/index-gone.js", "/nope", "/health/nope"] {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(response.headers()["content-type"], "application/problem+json", "{path}");
        }
        let (status, _, _) = page(&app, "/health/live").await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, body) = page(&app, "/docs/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("swagger"), "{body}");
        let posted = app.client.post(app.url("/auctions/1")).send().await.unwrap();
        assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    }
}
