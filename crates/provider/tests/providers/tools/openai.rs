//! OpenAI Chat Completions: the history as an assistant message with
//! `tool_calls` and `tool` messages; the shapes OpenAI-compatible servers
//! stream tool calls in.

use agentls_provider::testing::{sse_response, FakeServer, Turn, Wire};
use agentls_provider::{Message, ToolCall, ToolResult};
use serde_json::json;

use super::*;

#[tokio::test]
async fn openai_second_turn_carries_the_history_as_tool_calls_and_tool_messages() {
    let wire = Wire::Openai;
    let server = FakeServer::start(vec![
        wire.response(&reading(&[])),
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
        results: vec![ToolResult::error(&answer.tool_calls[0], "no such file")],
    });
    messages.push(Message::User {
        text: "Look in tests/ instead.".into(),
    });
    let mut request = agentls_provider::Request::turn(messages, specs());
    request.system = Some("You are careful.".into());
    let (result, _) = agentls_provider::testing::call(provider.as_ref(), request).await;

    assert_eq!(result.unwrap().text, "Fixed.");
    assert_eq!(
        server.requests()[1].json(),
        json!({
            "model": "gpt-4.1",
            "messages": [
                {"role": "system", "content": "You are careful."},
                {"role": "user", "content": "Fix the failing test"},
                // No text: content is null.
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "toolu_01A09q90qw90lq917835lq9", "type": "function",
                     "function": {"name": "read_file",
                                  "arguments": "{\"path\":\"src/lib.rs\",\"start_line\":3}"}},
                ]},
                {"role": "tool", "tool_call_id": "toolu_01A09q90qw90lq917835lq9",
                 "content": "Error: no such file"},
                {"role": "user", "content": "Look in tests/ instead."},
            ],
            "tools": tools_json(wire),
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[tokio::test]
async fn arguments_that_were_not_json_go_back_as_the_model_wrote_them() {
    let server = FakeServer::start(vec![Wire::Openai.response(&Turn::text(&["ok"]))]).await;
    let provider = provider(Wire::Openai, &server);
    let call = ToolCall {
        id: "call_1".into(),
        name: "read_file".into(),
        input: json!("{\"path\": src}"),
        signature: None,
    };
    let mut messages = task();
    messages.push(Message::Assistant {
        text: "Reading.".into(),
        tool_calls: vec![call.clone()],
    });
    messages.push(Message::Tool {
        results: vec![ToolResult::error(&call, "arguments are not JSON")],
    });

    let (result, _) = turn(provider.as_ref(), messages).await;

    result.unwrap();
    let body = server.requests()[0].json();
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": "Reading.", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "read_file", "arguments": "{\"path\": src}"}}]})
    );
}

/// A chunk as an OpenAI-compatible server sends it, with `delta`.
fn compatible(delta: serde_json::Value, finish: serde_json::Value) -> String {
    let data = json!({"id": "chatcmpl-local", "object": "chat.completion.chunk",
                      "created": 1741569952, "model": "llama3.2",
                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {data}\n\n")
}

#[tokio::test]
async fn a_whole_call_in_one_delta_with_finish_reason_stop_is_read() {
    // As Ollama streams: the whole call at once, and `stop`.
    let events = [
        compatible(
            json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "call_x7b2", "index": 0, "type": "function",
                 "function": {"name": "read_file",
                              "arguments": "{\"path\":\"src/lib.rs\",\"start_line\":3}"}}]}),
            json!(null),
        ),
        compatible(json!({"role": "assistant", "content": ""}), json!("stop")),
        "data: [DONE]\n\n".to_string(),
    ];
    let events: Vec<&str> = events.iter().map(String::as_str).collect();
    let server = FakeServer::start(vec![sse_response(&[], &events)]).await;
    let provider = provider(Wire::Openai, &server);

    let (result, chunks) = turn(provider.as_ref(), task()).await;

    let completion = result.unwrap();
    assert_eq!(
        completion.tool_calls,
        [ToolCall {
            id: "call_x7b2".into(),
            ..read_call(Wire::Openai, 1)
        }]
    );
    assert_eq!(completion.stop_reason.as_deref(), Some("stop"));
    assert_eq!(started(&chunks), ["read_file"]);
}

#[tokio::test]
async fn calls_without_index_type_or_id_get_ids_unique_in_the_conversation() {
    // Whole calls without `index`, `type` or `id`; arguments as an object;
    // the body ends after the finish reason, without `[DONE]`.
    let events = [
        compatible(
            json!({"tool_calls": [
                {"function": {"name": "read_file", "arguments": {"path": "a.rs"}}},
                {"function": {"name": "read_file", "arguments": "{\"path\": \"b.rs\"}"}}]}),
            json!(null),
        ),
        compatible(json!({}), json!("tool_calls")),
    ];
    let events: Vec<&str> = events.iter().map(String::as_str).collect();
    let server = FakeServer::start(vec![sse_response(&[], &events)]).await;
    let provider = provider(Wire::Openai, &server);
    // The conversation already holds `call-1` and `call-3`.
    let earlier = |id: &str| ToolCall {
        id: id.into(),
        name: "list_files".into(),
        input: json!({}),
        signature: None,
    };
    let mut messages = task();
    messages.push(Message::Assistant {
        text: String::new(),
        tool_calls: vec![earlier("call-1"), earlier("call-3")],
    });
    messages.push(Message::Tool {
        results: vec![
            ToolResult::ok(&earlier("call-1"), "a.rs"),
            ToolResult::ok(&earlier("call-3"), "b.rs"),
        ],
    });

    let (result, _) = turn(provider.as_ref(), messages).await;

    let calls = result.unwrap().tool_calls;
    let summary: Vec<(&str, &serde_json::Value)> =
        calls.iter().map(|c| (c.id.as_str(), &c.input)).collect();
    assert_eq!(
        summary,
        [
            ("call-4", &json!({"path": "a.rs"})),
            ("call-5", &json!({"path": "b.rs"}))
        ]
    );
}

#[tokio::test]
async fn pieces_without_index_continue_the_last_call() {
    // Fragments after the first piece carry neither index nor id.
    let events = [
        compatible(
            json!({"tool_calls": [{"id": "call_9", "type": "function",
                                   "function": {"name": "run_command", "arguments": ""}}]}),
            json!(null),
        ),
        compatible(
            json!({"tool_calls": [{"function": {"arguments": "{\"command\": "}}]}),
            json!(null),
        ),
        compatible(
            json!({"tool_calls": [{"function": {"arguments": "\"make\"}"}}]}),
            json!(null),
        ),
        compatible(json!({}), json!("tool_calls")),
        "data: [DONE]\n\n".to_string(),
    ];
    let events: Vec<&str> = events.iter().map(String::as_str).collect();
    let server = FakeServer::start(vec![sse_response(&[], &events)]).await;
    let provider = provider(Wire::Openai, &server);

    let (result, _) = turn(provider.as_ref(), task()).await;

    let calls = result.unwrap().tool_calls;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "call_9");
    assert_eq!(calls[0].input, json!({"command": "make"}));
}
