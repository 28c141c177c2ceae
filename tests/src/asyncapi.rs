//! The live protocol's contract, checked on every frame the tests receive:
//! each must be one of the server messages of the committed AsyncAPI
//! document (`openapi/asyncapi.json`) and match its payload schema.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

/// The committed AsyncAPI document.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/asyncapi.json");
        let text = std::fs::read_to_string(path).expect("openapi/asyncapi.json is committed");
        serde_json::from_str(&text).expect("openapi/asyncapi.json is JSON")
    })
}

/// A validator for each server message, by its `type`.
fn server_frames() -> &'static HashMap<String, jsonschema::Validator> {
    static FRAMES: OnceLock<HashMap<String, jsonschema::Validator>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let components = &document()["components"];
        let messages = components["messages"].as_object().expect("components.messages");
        messages
            .values()
            .filter_map(|message| {
                let payload = &message["payload"];
                let kind = payload["properties"]["type"]["const"].as_str()?;
                // The payload's references point into the document's components.
                let mut schema = payload.clone();
                schema["components"] = json!({ "schemas": components["schemas"] });
                let validator = jsonschema::draft7::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .unwrap_or_else(|error| panic!("the `{kind}` payload is not a valid schema: {error}"));
                Some((kind.to_owned(), validator))
            })
            .collect()
    })
}

/// Every way `frame` breaks the AsyncAPI document (none when it conforms).
pub fn frame_violations(frame: &Value) -> Vec<String> {
    let Some(kind) = frame["type"].as_str() else {
        return vec!["a frame has a string `type`".to_owned()];
    };
    let Some(validator) = server_frames().get(kind) else {
        return vec![format!("`{kind}` is not a server message of the document")];
    };
    validator.iter_errors(frame).map(|error| format!("{} (at {})", error, error.instance_path())).collect()
}

/// Panics unless `frame` is a server message the AsyncAPI document describes.
#[track_caller]
pub fn assert_conforms(frame: &Value) {
    let violations = frame_violations(frame);
    assert!(violations.is_empty(), "a frame breaks openapi/asyncapi.json: {frame}\n  {}", violations.join("\n  "));
}

/// A text frame from the server, parsed and checked against the document.
#[track_caller]
pub fn parse_frame(text: &str) -> Value {
    let frame = serde_json::from_str(text).unwrap_or_else(|error| panic!("a frame that is not JSON ({error}): {text}"));
    assert_conforms(&frame);
    frame
}
