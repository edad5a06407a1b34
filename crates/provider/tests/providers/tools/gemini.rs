//! Gemini: the history as `functionCall` and `functionResponse` parts, the
//! thought signature echoed, ids made up and unique in the conversation.

use agentls_provider::testing::{FakeServer, Turn, Wire};
use agentls_provider::{Message, ToolResult};
use serde_json::json;

use super::*;

#[tokio::test]
async fn gemini_second_turn_echoes_the_signature_and_answers_by_function_name() {
    let wire = Wire::Gemini;
    let first = reading(&["Let me look."]).signed("CiQB0e2Kb7sig/AAAA==");
    let second = Turn::text(&[]).call("unused", "run_command", &["{\"command\": \"make\"}"]);
    let server = FakeServer::start(vec![wire.response(&first), wire.response(&second)]).await;
    let provider = provider(wire, &server);

    let (result, _) = turn(provider.as_ref(), task()).await;
    let answer = result.unwrap();
    assert_eq!(
        answer.tool_calls,
        [ToolCall {
            signature: Some("CiQB0e2Kb7sig/AAAA==".into()),
            ..read_call(wire, 1)
        }]
    );
    let mut messages = task();
    messages.push(Message::Assistant {
        text: answer.text.clone(),
        tool_calls: answer.tool_calls.clone(),
    });
    messages.push(Message::Tool {
        results: vec![ToolResult::ok(&answer.tool_calls[0], "pub fn add() {}")],
    });
    let mut request = agentls_provider::Request::turn(messages.clone(), specs());
    request.system = Some("You are careful.".into());
    let (result, _) = agentls_provider::testing::call(provider.as_ref(), request).await;

    // The next call's id follows the one the conversation holds.
    assert_eq!(result.unwrap().tool_calls[0].id, "gemini-call-2");
    assert_eq!(
        server.requests()[1].json(),
        json!({
            "contents": [
                {"role": "user", "parts": [{"text": "Fix the failing test"}]},
                {"role": "model", "parts": [
                    {"text": "Let me look."},
                    {"functionCall": {"name": "read_file",
                                      "args": {"path": "src/lib.rs", "start_line": 3}},
                     "thoughtSignature": "CiQB0e2Kb7sig/AAAA=="},
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "read_file",
                                          "response": {"output": "pub fn add() {}"}}},
                ]},
            ],
            "tools": tools_json(wire),
            "systemInstruction": {"parts": [{"text": "You are careful."}]}
        })
    );
}

#[tokio::test]
async fn gemini_error_results_go_back_under_error() {
    let server = FakeServer::start(vec![Wire::Gemini.response(&Turn::text(&["ok"]))]).await;
    let provider = provider(Wire::Gemini, &server);
    let call = read_call(Wire::Gemini, 1);
    let mut messages = task();
    messages.push(Message::Assistant {
        text: String::new(),
        tool_calls: vec![call.clone()],
    });
    messages.push(Message::Tool {
        results: vec![ToolResult::error(&call, "path outside the workspace")],
    });

    let (result, _) = turn(provider.as_ref(), messages).await;

    result.unwrap();
    assert_eq!(
        server.requests()[0].json()["contents"][2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "read_file",
            "response": {"error": "path outside the workspace"}}}]})
    );
}
