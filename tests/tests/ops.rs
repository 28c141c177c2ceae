//! Operations: metrics, readiness that follows the database, the demo seed.

use hothour_tests::app::{Backend, TestApp};
use hothour_tests::on_both_stores;
use reqwest::StatusCode;
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use serde_json::json;

/// The label sets of the request-duration metric.
fn request_series(metrics: &str) -> Vec<String> {
    let mut series: Vec<String> = metrics
        .lines()
        .filter_map(|line| line.strip_prefix("hothour_http_request_duration_seconds_count"))
        .map(|rest| rest.rsplit_once(' ').map_or(rest, |(labels, _)| labels).to_owned())
        .collect();
    series.sort();
    series
}

async fn text(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

on_both_stores! {
    async fn metrics_count_requests_by_route_and_holds_by_outcome(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        let (_, admin) = app.studio_with_admin(&platform, "owner@example.test").await;
        let starts = app.now() + chrono::Duration::days(1);
        let (status, event) = app
            .post(
                "/events",
                Some(&admin.token),
                json!({"title": "Yoga", "capacity": 1, "price": "10.00", "starts_at": starts,
                       "ends_at": starts + chrono::Duration::hours(1)}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        let path = format!("/events/{}/holds", event["id"]);
        let (a, b) = (app.register("a@example.test").await, app.register("b@example.test").await);
        assert_eq!(app.post(&path, Some(&a.token), json!({})).await.0, StatusCode::CREATED);
        assert_eq!(app.post(&path, Some(&b.token), json!({})).await.0, StatusCode::CONFLICT);

        let (status, body) = text(&app, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(r#"hothour_holds_total{outcome="created"} 1"#), "{body}");
        assert!(body.contains(r#"hothour_holds_total{outcome="insufficient_capacity"} 1"#), "{body}");
        assert!(
            body.contains(r#"route="/api/v1/events/{id}/holds",status="201""#),
            "latency is labelled by route pattern, not raw path: {body}"
        );
        assert!(body.contains("hothour_ws_connections 0"), "{body}");
    }

    async fn invented_methods_and_paths_add_no_metric_series(backend) {
        let app = TestApp::spawn_on(backend).await;
        let send = |method: &str, path: String| {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method token");
            app.client.request(method, app.url(&path)).send()
        };
        let paths = |n: usize| {
            [
                format!("/api/v1/events/{n}"),
                format!("/api/v1/no-such-route-{n}"),
                format!("/no-such-page-{n}"),
                format!("/api/v1/events/{n}/holds/{n}"),
            ]
        };
        // One request of each shape first: their series are the fixed ones.
        for path in paths(0) {
            send("GET", path.clone()).await.expect("an answer");
            send("INVENTED", path).await.expect("an answer");
        }
        text(&app, "/metrics").await;
        let before = request_series(&text(&app, "/metrics").await.1);
        for n in 1..=50 {
            let method = format!("X{}{n}", ["PURGE", "BREW", "LOCKX", "Q"][n % 4]);
            for path in paths(n) {
                send(&method, path).await.expect("an answer");
            }
        }
        let after = request_series(&text(&app, "/metrics").await.1);
        assert_eq!(after, before, "200 requests with 50 invented methods and 200 invented paths grew /metrics");
        assert!(after.iter().any(|s| s.contains(r#"method="OTHER""#)), "{after:?}");
        assert!(after.iter().all(|s| !s.contains("INVENTED") && !s.contains("no-such")), "{after:?}");
    }

    async fn seed_demo_creates_auctions_at_three_stages_and_refuses_to_run_twice(backend) {
        let app = TestApp::spawn_on(backend).await;
        let store = app.store.clone();
        let config = hothour_api::Config::from_lookup(|name| match name {
            "BCRYPT_COST" => Some("4".into()),
            _ => None,
        })
        .unwrap();
        let state = hothour_api::AppState::new(store, config).await.unwrap();
        let demo = hothour_api::commands::seed_demo(&state).await.unwrap();
        assert!(hothour_api::commands::seed_demo(&state).await.is_err(), "a second seed is refused");

        let mut stages = Vec::new();
        for (id, stage) in &demo.auctions {
            let (status, auction) = app.get(&format!("/auctions/{id}"), None).await;
            assert_eq!(status, StatusCode::OK);
            stages.push((
                *stage,
                auction["status"].as_str().unwrap().to_owned(),
                auction["turbo_active"].as_bool().unwrap(),
            ));
        }
        assert_eq!(
            stages,
            vec![
                ("mid-drop", "ACTIVE".to_owned(), false),
                ("in turbo", "ACTIVE".to_owned(), true),
                ("upcoming", "DRAFT".to_owned(), false),
            ]
        );
        let (status, event) = app.get(&format!("/events/{}", demo.event_id), None).await;
        assert_eq!((status, event["available"].as_i64()), (StatusCode::OK, Some(20)));
        let (status, tokens) =
            app.post("/auth/login", None, json!({"email": demo.user_email, "password": demo.password})).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let customer = hothour_tests::app::session(&tokens);
        let (status, _) =
            app.post(&format!("/auctions/{}/grab", demo.auctions[0].0), Some(&customer.token), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "the demo customer can grab");
    }
}

// PostgreSQL only: it takes the database away with ALTER DATABASE and pg_terminate_backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_the_database_is_unreachable_and_recovers() {
    let app = TestApp::spawn_on(Backend::Postgres).await;
    assert_eq!(text(&app, "/health/ready").await.0, StatusCode::OK);

    let name = app.db_url.rsplit('/').next().unwrap().to_owned();
    let admin_url = app.db_url.replace(&format!("/{name}"), "/postgres");
    let mut options = ConnectOptions::new(admin_url);
    options.sqlx_logging(false);
    let admin = Database::connect(options).await.unwrap();
    admin.execute_unprepared(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false")).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    let (status, body) = text(&app, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("database_unavailable"));
    assert_eq!(text(&app, "/health/live").await.0, StatusCode::OK, "liveness does not depend on the database");

    admin.execute_unprepared(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true")).await.unwrap();
    assert_eq!(text(&app, "/health/ready").await.0, StatusCode::OK, "recovers without a restart");
}
