//! The HTTP contract (issue 10): the OpenAPI document is served at its URL and
//! equals the committed one, it states what the server does (asserted here as
//! invariants), `GET /api/v1/config` tells a client the deployment's numbers,
//! a wrong method on a known path is 405 with `Allow`, and the error catalogue
//! is generated from the same codes.

use hothour_tests::app::TestApp;
use hothour_tests::on_both_stores;
use serde_json::Value;

fn committed(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path} is committed: {e}"))
}

fn document() -> Value {
    serde_json::from_str(&hothour_api::openapi_json()).unwrap()
}

on_both_stores! {
    async fn the_served_document_is_the_committed_one_and_swagger_ui_loads_it(backend) {
        let app = TestApp::spawn_on(backend).await;
        let response = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let served: Value = response.json().await.unwrap();
        let committed: Value = serde_json::from_str(&committed("openapi/openapi.json")).unwrap();
        assert!(served == committed, "the served document differs from openapi/openapi.json");
        let ui = app.client.get(app.url("/docs/")).send().await.unwrap();
        assert_eq!(ui.status(), 200);
        let config = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap();
        assert_eq!(config.status(), 200);
        assert!(config.text().await.unwrap().contains("/api/v1/openapi.json"), "Swagger UI loads the served URL");
    }

    async fn config_tells_the_currency_the_rules_and_the_server_time(backend) {
        let app = TestApp::spawn_on_with(backend, &[("CURRENCY", "EUR"), ("MAX_SEATS_PER_HOLD", "4")]).await;
        let at = chrono::DateTime::parse_from_rfc3339("2031-05-06T07:08:09Z").unwrap().with_timezone(&chrono::Utc);
        app.clock.set(at);
        let (status, body) = app.get("/config", None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["currency"], "EUR");
        assert_eq!(body["max_seats_per_hold"], 4);
        assert_eq!(body["hold_ttl_seconds"], 300);
        assert_eq!(body["cancellation_cutoff_seconds"], 7200);
        let server_time = chrono::DateTime::parse_from_rfc3339(body["server_time"].as_str().unwrap()).unwrap();
        assert_eq!(server_time, at);
        let default = TestApp::spawn_on(backend).await;
        assert_eq!(default.get("/config", None).await.1["currency"], "TRY");
    }

    async fn a_wrong_method_on_a_known_path_is_405_with_allow(backend) {
        let app = TestApp::spawn_on(backend).await;
        for (method, path, allow) in [
            (reqwest::Method::DELETE, "/api/v1/auctions", "GET, POST"),
            (reqwest::Method::PUT, "/api/v1/events/7", "DELETE, GET, PATCH"),
            (reqwest::Method::GET, "/api/v1/auctions/7/grab", "POST"),
            (reqwest::Method::PUT, "/api/v1/auctions/batch", "POST"),
            (reqwest::Method::GET, "/api/v1/auctions/batch", "POST"),
            (reqwest::Method::POST, "/api/v1/openapi.json", "GET"),
        ] {
            let response = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            let mut allowed: Vec<String> =
                response.headers()["allow"].to_str().unwrap().split(", ").map(str::to_owned).collect();
            allowed.sort();
            assert_eq!(allowed.join(", "), allow, "{method} {path}");
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "method_not_allowed");
            assert_eq!(body["type"], "https://hothour.dev/errors#method_not_allowed");
        }
        let (status, body) = app.get("/no-such-thing", None).await;
        assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("route_not_found")));
    }

    async fn a_body_that_is_not_an_object_is_refused(backend) {
        let app = TestApp::spawn_on(backend).await;
        let user = app.register("ada@example.com").await;
        let (status, body) =
            app.call(reqwest::Method::PATCH, "/me", Some(&user.token), Some(serde_json::json!([null, null]))).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"]["body"][0], "must be a JSON object");
        let (status, body) = app.get("/me", Some(&user.token)).await;
        assert_eq!((status.as_u16(), &body["full_name"]), (200, &serde_json::json!("Test Person")), "{body}");
    }

    async fn limits_hold_as_the_document_states_them(backend) {
        let app = TestApp::spawn_on(backend).await;
        // maxLength counts the email as sent, white space around it included.
        let padded = format!("{}a@example.com", " ".repeat(250));
        let register = |email: String, phone: &str| {
            serde_json::json!({ "email": email, "password": "long enough", "full_name": "Ada", "phone": phone })
        };
        let (status, body) = app.post("/auth/register", None, register(padded, "")).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["errors"]["email"].is_array(), "{body}");
        // A blank phone is no phone, as the pattern allows.
        let (status, body) = app.post("/auth/register", None, register(" b@example.com ".into(), "  ")).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["user"]["phone"], Value::Null);
    }

    async fn closed_sets_are_checked_exactly_as_the_document_enumerates_them(backend) {
        let app = TestApp::spawn_on(backend).await;
        let (status, body) = app.get("/auctions?status=ACTIVE", None).await;
        assert_eq!(status, 200, "{body}");
        for query in ["/auctions?status=active", "/auctions?status=ACITVE", "/events?is_active=yes"] {
            let (status, body) = app.get(query, None).await;
            assert_eq!(status, 422, "{query}: {body}");
            assert_eq!(body["code"], "validation_failed");
        }
    }
}

#[test]
fn the_error_catalogue_is_generated_from_the_codes() {
    let generated = hothour_api::problem::catalogue();
    assert!(
        committed("docs/errors.md") == generated,
        "docs/errors.md is out of date: run `just errors` and commit the result"
    );
    for code in hothour_api::problem::ProblemCode::ALL {
        assert!(generated.contains(&format!("\n## {code}\n")), "{code} has no entry");
    }
}

/// The schemas a `$ref` names, resolved one level.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            document.pointer(pointer).unwrap_or_else(|| panic!("{reference} does not resolve"))
        }
        None => schema,
    }
}

fn is_enumerated(document: &Value, schema: &Value) -> bool {
    let schema = resolve(document, schema);
    schema.get("enum").is_some()
        || ["oneOf", "allOf", "anyOf"].iter().any(|k| {
            schema
                .get(k)
                .and_then(Value::as_array)
                .is_some_and(|parts| parts.iter().any(|p| is_enumerated(document, p)))
        })
}

#[test]
fn the_document_states_what_the_server_does() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["servers"].as_array().is_some_and(|s| !s.is_empty()), "servers are declared");
    let codes: Vec<&str> = hothour_api::problem::ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
    let enumerated: Vec<&str> = document["components"]["schemas"]["ProblemCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(enumerated, codes, "ProblemCode lists every code");
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(operation["security"].as_array().is_some_and(|s| !s.is_empty()), "{id} declares no security");
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let text = parameter["schema"].to_string();
                assert!(!text.contains("\"null\""), "{id}: parameter {} is nullable", parameter["name"]);
            }
            if let Some(body) = operation.get("requestBody") {
                let text = body.to_string();
                assert!(!text.contains("\"null\""), "{id}: the request body accepts null");
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                let response = resolve(&document, response);
                assert!(
                    response["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
                if status == "429" || status == "503" {
                    assert!(response["headers"].get("Retry-After").is_some(), "{id} {status} declares no Retry-After");
                }
                if status.starts_with(['4', '5']) {
                    let content = &response["content"]["application/problem+json"];
                    assert!(content["schema"].is_object(), "{id} {status} is not problem+json");
                    let examples = content["examples"].as_object().unwrap();
                    let listed = content["schema"]["allOf"][1]["properties"]["code"]["enum"].as_array().unwrap();
                    assert_eq!(examples.len(), listed.len(), "{id} {status}: one example per code");
                    for code in listed {
                        let code = code.as_str().unwrap();
                        assert!(codes.contains(&code), "{id} {status}: {code} is not a ProblemCode");
                        let spec = hothour_api::problem::ProblemCode::ALL.iter().find(|c| c.as_str() == code).unwrap();
                        assert_eq!(spec.status().to_string(), *status, "{id}: {code} under the wrong status");
                    }
                }
            }
        }
    }
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if ["status", "kind", "role", "phase", "code", "token_type"].contains(&field.as_str()) && name != "Problem"
            {
                assert!(is_enumerated(&document, property), "{name}.{field} is not enumerated");
            }
            if field.ends_with("price") || field.ends_with("amount") {
                assert!(property.to_string().contains("#/components/schemas/Money"), "{name}.{field} is not Money");
            }
        }
    }
    let code = &document["components"]["schemas"]["Problem"]["properties"]["code"];
    assert!(is_enumerated(&document, code), "Problem.code is not enumerated");
}
