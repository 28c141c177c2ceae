//! Query parameters as the document states them and the server takes them
//! (issue 19, item 11): what the document allows is accepted, what the server
//! refuses the document refuses too (an empty cursor, an instant before 1970).

use hothour_tests::app::TestApp;
use hothour_tests::on_both_stores;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn document() -> Value {
    serde_json::from_str(&hothour_api::openapi_json()).unwrap()
}

/// Every (operation, parameter schema) of query parameter `name`.
fn query_parameters(document: &Value, name: &str) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "query" && parameter["name"] == name {
                    found.push((operation["operationId"].as_str().unwrap().to_owned(), parameter["schema"].clone()));
                }
            }
        }
    }
    found
}

fn accepts(schema: &Value, value: &str) -> bool {
    jsonschema::draft202012::options().should_validate_formats(true).build(schema).unwrap().is_valid(&json!(value))
}

on_both_stores! {
    async fn the_document_refuses_the_cursors_the_server_refuses_and_takes_those_it_gives_out(backend) {
        let app = TestApp::spawn_on(backend).await;
        let platform = app.platform_admin().await;
        for name in ["One", "Two", "Three"] {
            let body = json!({ "name": name, "address": "", "timezone": "UTC" });
            assert_eq!(app.post("/studios", Some(&platform.token), body).await.0, StatusCode::CREATED);
        }
        let document = document();
        let cursors = query_parameters(&document, "cursor");
        assert_eq!(cursors.len(), 8, "every list takes a cursor: {cursors:?}");
        let (status, page) = app.get("/studios?limit=1", None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let given = page["next_cursor"].as_str().expect("a next page").to_owned();
        let (status, audit) = app.get("/audit-log?limit=1", Some(&platform.token)).await;
        assert_eq!(status, StatusCode::OK, "{audit}");
        let given_by_audit = audit["next_cursor"].as_str().expect("a next page").to_owned();
        for (operation, schema) in &cursors {
            assert!(!accepts(schema, ""), "{operation}: the document allows an empty cursor");
            assert!(accepts(schema, &given) && accepts(schema, &given_by_audit), "{operation} refuses a given cursor");
        }
        for path in ["/studios?cursor=", "/auctions?cursor=", "/events?cursor=", "/audit-log?cursor="] {
            let (status, body) = app.get(path, Some(&platform.token)).await;
            assert_eq!((status, &body["code"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("validation_failed")), "{path}");
        }
        let (status, page) = app.get(&format!("/studios?limit=1&cursor={given}"), None).await;
        assert_eq!((status, page["items"][0]["name"].as_str()), (StatusCode::OK, Some("Two")), "{page}");
    }

    async fn the_document_refuses_the_instants_the_server_refuses(backend) {
        let app = TestApp::spawn_on(backend).await;
        let document = document();
        let instants: Vec<_> = ["starts_after", "starts_before"]
            .into_iter()
            .flat_map(|name| query_parameters(&document, name).into_iter().map(move |found| (name, found)))
            .collect();
        assert_eq!(instants.len(), 2, "{instants:?}");
        for (name, (operation, schema)) in instants {
            for (at, taken) in [
                ("1969-12-31T23:59:59Z", false),
                ("0001-01-01T00:00:00Z", false),
                ("1970-01-01T00:00:00Z", true),
                ("2030-06-01T12:00:00.123456Z", true),
                ("9999-12-31T23:59:59Z", true),
            ] {
                assert_eq!(accepts(&schema, at), taken, "{operation} {name}={at} in the document");
                let (status, body) = app.get(&format!("/events?{name}={at}"), None).await;
                let expected = if taken { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
                assert_eq!(status, expected, "{name}={at}: {body}");
            }
        }
    }
}
