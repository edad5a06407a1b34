//! How the test client answers the server's requests (applyEdit,
//! configuration, showDocument, ...), as a test configured it.

use std::collections::{HashMap, VecDeque};

use serde_json::{json, Value};

/// How the harness answers server requests. Settable while the server runs.
#[derive(Debug)]
pub(super) struct Responder {
    /// `workspace/configuration` answers by `section` ("" for an item without one).
    pub(super) configuration: HashMap<String, Value>,
    pub(super) apply_edit: Value,
    /// Methods of server requests the harness never answers.
    pub(super) never_answer: Vec<String>,
    /// Answers set by tests for other server requests, by method.
    pub(super) answers: HashMap<String, Value>,
    /// Answers used once each, in order, before `answers` (a person who
    /// allows one question and denies the next).
    pub(super) answers_in_turn: HashMap<String, VecDeque<Value>>,
}

pub(super) fn answer_server_request(
    method: &str,
    params: &Value,
    responder: &mut Responder,
) -> Result<Value, ()> {
    let queued = responder
        .answers_in_turn
        .get_mut(method)
        .and_then(VecDeque::pop_front);
    if let Some(answer) = queued {
        return Ok(answer);
    }
    if let Some(answer) = responder.answers.get(method) {
        return Ok(answer.clone());
    }
    match method {
        "workspace/configuration" => {
            let items = params
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            Ok(Value::Array(
                items
                    .iter()
                    .map(|item| {
                        let section = item.get("section").and_then(Value::as_str).unwrap_or("");
                        responder
                            .configuration
                            .get(section)
                            .cloned()
                            .unwrap_or(Value::Null)
                    })
                    .collect(),
            ))
        }
        "workspace/applyEdit" => Ok(responder.apply_edit.clone()),
        "window/showDocument" => Ok(json!({ "success": true })),
        "window/workDoneProgress/create"
        | "window/showMessageRequest"
        | "client/registerCapability"
        | "client/unregisterCapability" => Ok(Value::Null),
        _ => Err(()),
    }
}
