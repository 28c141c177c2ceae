//! The service answers its health checks over real HTTP.

use hothour_tests::app::TestApp;
use hothour_tests::on_both_stores;

on_both_stores! {
    async fn live_and_ready_answer_ok(backend) {
        let app = TestApp::spawn_on(backend).await;
        let live = app.client.get(app.url("/health/live")).send().await.unwrap();
        assert_eq!(live.status(), 200);
        let ready = app.client.get(app.url("/health/ready")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        let body: serde_json::Value = ready.json().await.unwrap();
        assert_eq!(body["status"], "ready");
    }

    async fn unknown_routes_are_problem_json_404(backend) {
        let app = TestApp::spawn_on(backend).await;
        let response = app.client.get(app.url("/nope")).send().await.unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "route_not_found");
        assert_eq!(body["status"], 404);
    }
}
