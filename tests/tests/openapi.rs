//! The committed OpenAPI document matches the one generated from the code.
//! Regenerate it with `just openapi`.

#[test]
fn committed_openapi_matches_the_code() {
    let generated = hothour_api::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).expect("openapi/openapi.json is committed");
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date: run `just openapi` and commit the result"
    );
}

#[test]
fn every_operation_has_an_id_and_documented_errors() {
    let document: serde_json::Value = serde_json::from_str(&hothour_api::openapi_json()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut ids = std::collections::HashSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            let responses = operation["responses"].as_object().unwrap();
            // Some routes answer a redirect; `304` alone (added to every tagged read) is not an answer.
            let answers = |code: &String| code.starts_with('2') || (code.starts_with('3') && code != "304");
            assert!(responses.keys().any(answers), "{id} has no success or redirect response");
            let secured = operation["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if secured {
                assert!(responses.contains_key("401"), "{id} is secured but documents no 401");
            }
        }
    }
    assert!(ids.len() >= 34, "only {} operations", ids.len());
}
