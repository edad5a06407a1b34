//! Anthropic: the history of a tool-use exchange as `tool_use` and
//! `tool_result` content blocks.

use agentls_provider::testing::{FakeServer, Turn, Wire};
use agentls_provider::{Message, ToolResult};
use serde_json::json;

use super::*;

#[tokio::test]
async fn anthropic_second_turn_carries_the_history_as_content_blocks() {
    let wire = Wire::Anthropic;
    let first = reading(&["Let me look."]).call(
        "toolu_01Nv2s7yPmK4Qp3zRt8Wx6Lb",
        "run_command",
        &["{\"command\": \"cargo test\"}"],
    );
    let server = FakeServer::start(vec![
        wire.response(&first),
        wire.response(&Turn::text(&["Fixed."])),
    ])
    .await;
    let provider = provider(wire, &server);

    let (result, _) = turn(provider.as_ref(), task()).await;
    let answer = result.unwrap();
    let mut messages = task();
    messages.push(Message::Assistant {
        text: answer.text.clone(),
        tool_calls: answer.tool_calls.clone(),
    });
    messages.push(Message::Tool {
        results: vec![
            ToolResult::ok(&answer.tool_calls[0], "pub fn add() {}"),
            ToolResult::error(&answer.tool_calls[1], "exit 101: 1 test failed"),
        ],
    });
    let mut request = agentls_provider::Request::turn(messages, specs());
    request.system = Some("You are careful.".into());
    let (result, _) = agentls_provider::testing::call(provider.as_ref(), request).await;

    let second = result.unwrap();
    assert_eq!(second.text, "Fixed.");
    assert!(second.tool_calls.is_empty());
    assert_eq!(second.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(
        server.requests()[1].json(),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 8192,
            "system": "You are careful.",
            "messages": [
                {"role": "user", "content": "Fix the failing test"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9",
                     "name": "read_file", "input": {"path": "src/lib.rs", "start_line": 3}},
                    {"type": "tool_use", "id": "toolu_01Nv2s7yPmK4Qp3zRt8Wx6Lb",
                     "name": "run_command", "input": {"command": "cargo test"}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                     "content": "pub fn add() {}"},
                    {"type": "tool_result", "tool_use_id": "toolu_01Nv2s7yPmK4Qp3zRt8Wx6Lb",
                     "content": "exit 101: 1 test failed", "is_error": true},
                ]},
            ],
            "tools": tools_json(wire),
            "stream": true
        })
    );
}
