//! Tool calling over each vendor's own streaming format: calls split across
//! many deltas, several calls in one turn, text before a call, streams cut
//! in the middle of a call's arguments, and the history of a multi-turn
//! exchange as each vendor expects it.

mod anthropic;
mod cassette;
mod gemini;
mod openai;

use std::path::Path;
use std::sync::Arc;

use agentls_provider::testing::{call, sse_head, FakeServer, Step, Turn, Wire};
use agentls_provider::{
    build, Chunk, Completion, Message, Provider, ProviderError, Request, ToolCall, ToolSpec,
};
use serde_json::{json, Value};

/// The tools every test offers, with JSON Schema details Gemini refuses.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "read_file".into(),
            description: "Read a file of the workspace.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Relative path."},
                    "start_line": {"type": ["integer", "null"]}
                },
                "required": ["path"],
                "additionalProperties": false
            }),
        },
        ToolSpec {
            name: "run_command".into(),
            description: "Run a shell command.".into(),
            parameters: json!({
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
                "additionalProperties": false
            }),
        },
    ]
}

/// The task the conversations start with.
pub fn task() -> Vec<Message> {
    vec![Message::User {
        text: "Fix the failing test".into(),
    }]
}

pub fn provider(wire: Wire, server: &FakeServer) -> Arc<dyn Provider> {
    build("p", &wire.config(server), &wire.env(), Path::new("/")).unwrap()
}

/// One turn with `messages` and the tools of [`specs`].
pub async fn turn(
    provider: &dyn Provider,
    messages: Vec<Message>,
) -> (Result<Completion, ProviderError>, Vec<Chunk>) {
    call(provider, Request::turn(messages, specs())).await
}

/// The names of the tool calls that started, in order.
pub fn started(chunks: &[Chunk]) -> Vec<String> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::ToolCall { name } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// The id agentls gives the `n`th call (from 1) of a conversation whose
/// vendor id was `id`: Gemini sends none.
pub fn id(wire: Wire, id: &str, n: usize) -> String {
    match wire {
        Wire::Gemini => format!("gemini-call-{n}"),
        _ => id.to_string(),
    }
}

pub fn read_call(wire: Wire, n: usize) -> ToolCall {
    ToolCall {
        id: id(wire, "toolu_01A09q90qw90lq917835lq9", n),
        name: "read_file".into(),
        input: json!({"path": "src/lib.rs", "start_line": 3}),
        signature: None,
    }
}

/// [`read_call`]'s arguments, in pieces cut mid-key and mid-value.
pub const READ_ARGS: &[&str] = &["{\"pa", "th\": \"sr", "c/lib.rs\", \"start_", "line\": 3}"];

/// A turn calling `read_file` with [`READ_ARGS`].
pub fn reading(text: &[&str]) -> Turn {
    Turn::text(text).call("toolu_01A09q90qw90lq917835lq9", "read_file", READ_ARGS)
}

/// The `tools` of the request body in the vendor's format.
pub fn tools_json(wire: Wire) -> Value {
    match wire {
        Wire::Anthropic => json!([
            {"name": "read_file", "description": "Read a file of the workspace.",
             "input_schema": specs()[0].parameters},
            {"name": "run_command", "description": "Run a shell command.",
             "input_schema": specs()[1].parameters},
        ]),
        Wire::Openai => json!([
            {"type": "function", "function": {"name": "read_file",
             "description": "Read a file of the workspace.", "parameters": specs()[0].parameters}},
            {"type": "function", "function": {"name": "run_command",
             "description": "Run a shell command.", "parameters": specs()[1].parameters}},
        ]),
        // The schema cut down to the fields Gemini's Schema knows.
        Wire::Gemini => json!([{"functionDeclarations": [
            {"name": "read_file", "description": "Read a file of the workspace.",
             "parameters": {"type": "object", "properties": {
                 "path": {"type": "string", "description": "Relative path."},
                 "start_line": {"type": "integer", "nullable": true}},
                 "required": ["path"]}},
            {"name": "run_command", "description": "Run a shell command.",
             "parameters": {"type": "object", "properties": {"command": {"type": "string"}},
                 "required": ["command"]}},
        ]}]),
    }
}

async fn a_call_split_across_many_deltas_comes_back_whole(wire: Wire) {
    let server = FakeServer::start(vec![wire.response(&reading(&[]))]).await;
    let provider = provider(wire, &server);

    let (result, chunks) = turn(provider.as_ref(), task()).await;

    let completion = result.unwrap();
    assert_eq!(completion.tool_calls, [read_call(wire, 1)]);
    assert_eq!(completion.text, "");
    assert_eq!(started(&chunks), ["read_file"]);
    assert_eq!(
        completion.stop_reason.as_deref(),
        Some(wire.stop_reason(&reading(&[])))
    );
    assert_eq!(completion.usage, wire.usage());
    assert_eq!(completion.attempts, 1);
    assert!(completion.first_chunk.is_some());
    let body = server.requests()[0].json();
    assert_eq!(body["tools"], tools_json(wire), "{body}");
}

#[tokio::test]
async fn anthropic_call_split_across_many_deltas_comes_back_whole() {
    a_call_split_across_many_deltas_comes_back_whole(Wire::Anthropic).await;
}

#[tokio::test]
async fn openai_call_split_across_many_deltas_comes_back_whole() {
    a_call_split_across_many_deltas_comes_back_whole(Wire::Openai).await;
}

#[tokio::test]
async fn gemini_call_split_across_many_deltas_comes_back_whole() {
    a_call_split_across_many_deltas_comes_back_whole(Wire::Gemini).await;
}

async fn text_then_two_calls_in_one_turn(wire: Wire) {
    let script = reading(&["Let me ", "look at the test."]).call(
        "toolu_01Nv2s7yPmK4Qp3zRt8Wx6Lb",
        "run_command",
        &["{\"command\"", ": \"cargo ", "test\"}"],
    );
    let server = FakeServer::start(vec![wire.response(&script)]).await;
    let provider = provider(wire, &server);

    let (result, chunks) = turn(provider.as_ref(), task()).await;

    let completion = result.unwrap();
    assert_eq!(completion.text, "Let me look at the test.");
    let run = ToolCall {
        id: id(wire, "toolu_01Nv2s7yPmK4Qp3zRt8Wx6Lb", 2),
        name: "run_command".into(),
        input: json!({"command": "cargo test"}),
        signature: None,
    };
    assert_eq!(completion.tool_calls, [read_call(wire, 1), run]);
    // The text streams before the calls start.
    let order: Vec<&str> = chunks
        .iter()
        .map(|c| match c {
            Chunk::Text(_) => "text",
            Chunk::ToolCall { .. } => "call",
            _ => "other",
        })
        .collect();
    assert_eq!(order, ["text", "text", "call", "call"]);
    assert_eq!(started(&chunks), ["read_file", "run_command"]);
}

#[tokio::test]
async fn anthropic_text_then_two_calls_in_one_turn() {
    text_then_two_calls_in_one_turn(Wire::Anthropic).await;
}

#[tokio::test]
async fn openai_text_then_two_calls_in_one_turn() {
    text_then_two_calls_in_one_turn(Wire::Openai).await;
}

#[tokio::test]
async fn gemini_text_then_two_calls_in_one_turn() {
    text_then_two_calls_in_one_turn(Wire::Gemini).await;
}

/// The response to `script` cut inside the event that carries `lib.rs` (the
/// middle of [`READ_ARGS`]), then the connection dropped.
fn cut_in_arguments(wire: Wire, script: &Turn) -> Vec<Step> {
    let events = wire.events(script);
    let at = events
        .iter()
        .position(|e| e.contains("lib.rs"))
        .expect("an event with the arguments");
    let mut steps = vec![sse_head(&[])];
    steps.extend(events[..at].iter().map(|e| Step::Chunk(e.clone().into())));
    let event = &events[at];
    let cut = event.find("lib.rs").unwrap() + 3;
    steps.push(Step::Chunk(event.as_bytes()[..cut].to_vec()));
    steps.push(Step::Drop);
    steps
}

async fn a_stream_cut_in_the_arguments_is_retried_and_the_partial_call_never_returned(wire: Wire) {
    let script = reading(&["Let me ", "look."]);
    let server = FakeServer::start(vec![
        cut_in_arguments(wire, &script),
        wire.response(&script),
    ])
    .await;
    let provider = provider(wire, &server);

    let (result, chunks) = turn(provider.as_ref(), task()).await;

    let completion = result.unwrap();
    assert_eq!(completion.attempts, 2);
    assert_eq!(server.requests().len(), 2);
    // Only the whole call of the second attempt, and its text once.
    assert_eq!(completion.tool_calls, [read_call(wire, 1)]);
    assert_eq!(completion.text, "Let me look.");
    // The first attempt's text had streamed: the notice says the answer
    // starts over.
    let retry = chunks
        .iter()
        .position(|c| matches!(c, Chunk::Retrying { attempt: 2, .. }))
        .expect("a retry notice");
    let texts = |chunks: &[Chunk]| -> String {
        chunks
            .iter()
            .filter_map(|c| match c {
                Chunk::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(texts(&chunks[..retry]), "Let me look.");
    assert_eq!(texts(&chunks[retry..]), "Let me look.");
}

#[tokio::test]
async fn anthropic_stream_cut_in_the_arguments_is_retried_and_the_partial_call_never_returned() {
    a_stream_cut_in_the_arguments_is_retried_and_the_partial_call_never_returned(Wire::Anthropic)
        .await;
}

#[tokio::test]
async fn openai_stream_cut_in_the_arguments_is_retried_and_the_partial_call_never_returned() {
    a_stream_cut_in_the_arguments_is_retried_and_the_partial_call_never_returned(Wire::Openai)
        .await;
}

#[tokio::test]
async fn gemini_stream_cut_in_the_arguments_is_retried_and_the_partial_call_never_returned() {
    a_stream_cut_in_the_arguments_is_retried_and_the_partial_call_never_returned(Wire::Gemini)
        .await;
}

#[tokio::test]
async fn a_stream_cut_in_the_arguments_with_no_retry_left_fails_without_a_call() {
    for wire in Wire::ALL {
        let script = reading(&[]);
        let server = FakeServer::start(vec![cut_in_arguments(wire, &script)]).await;
        let mut config = wire.config(&server);
        config.retries = Some(0);
        let provider = build("p", &config, &wire.env(), Path::new("/")).unwrap();

        let (result, _) = turn(provider.as_ref(), task()).await;

        let err = result.unwrap_err();
        assert!(
            matches!(err, ProviderError::Connection { attempts: 1, .. }),
            "{wire:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_stream_that_ends_cleanly_in_the_arguments_is_retried_too() {
    // The body ends properly (last chunk sent) but the answer does not:
    // no message_stop / finish_reason.
    for wire in [Wire::Anthropic, Wire::Openai] {
        let script = reading(&[]);
        let events = wire.events(&script);
        let at = events.iter().position(|e| e.contains("lib.rs")).unwrap();
        let mut cut = vec![sse_head(&[])];
        cut.extend(events[..=at].iter().map(|e| Step::Chunk(e.clone().into())));
        cut.push(Step::End);
        let server = FakeServer::start(vec![cut, wire.response(&script)]).await;
        let provider = provider(wire, &server);

        let (result, chunks) = turn(provider.as_ref(), task()).await;

        let completion = result.unwrap();
        assert_eq!(completion.tool_calls, [read_call(wire, 1)], "{wire:?}");
        assert_eq!(completion.attempts, 2, "{wire:?}");
        let Some(Chunk::Retrying { reason, .. }) =
            chunks.iter().find(|c| matches!(c, Chunk::Retrying { .. }))
        else {
            panic!("{wire:?}: no retry notice in {chunks:?}");
        };
        assert!(reason.contains("ended before"), "{reason}");
    }
}

#[tokio::test]
async fn a_call_without_arguments_has_an_empty_object_as_input() {
    for wire in [Wire::Anthropic, Wire::Openai] {
        let script = Turn::text(&[]).call("toolu_01Empty", "list_files", &[]);
        let server = FakeServer::start(vec![wire.response(&script)]).await;
        let provider = provider(wire, &server);

        let (result, _) = turn(provider.as_ref(), task()).await;

        let calls = result.unwrap().tool_calls;
        assert_eq!(calls.len(), 1, "{wire:?}");
        assert_eq!(calls[0].input, json!({}), "{wire:?}");
    }
}

#[tokio::test]
async fn whole_arguments_that_are_not_a_json_object_come_back_as_the_raw_text() {
    for wire in [Wire::Anthropic, Wire::Openai] {
        let script = Turn::text(&[])
            .call("toolu_01Bad", "read_file", &["{\"path\": ", "src/lib.rs}"])
            .call("toolu_01List", "read_file", &["[\"src/lib.rs\"]"]);
        let server = FakeServer::start(vec![wire.response(&script)]).await;
        let provider = provider(wire, &server);

        let (result, _) = turn(provider.as_ref(), task()).await;

        let calls = result.unwrap().tool_calls;
        let inputs: Vec<&Value> = calls.iter().map(|c| &c.input).collect();
        assert_eq!(
            inputs,
            [&json!("{\"path\": src/lib.rs}"), &json!("[\"src/lib.rs\"]")],
            "{wire:?}"
        );
    }
}

#[tokio::test]
async fn a_prompt_request_sends_no_tools_and_is_still_not_retried_after_text() {
    for wire in Wire::ALL {
        let script = Turn::text(&["Hello ", "there"]);
        let events = wire.events(&script);
        let mut cut = vec![sse_head(&[])];
        // Up to and including the first text piece, then a dropped
        // connection.
        let at = events.iter().position(|e| e.contains("Hello")).unwrap();
        cut.extend(events[..=at].iter().map(|e| Step::Chunk(e.clone().into())));
        cut.push(Step::Drop);
        let server = FakeServer::start(vec![cut, wire.response(&script)]).await;
        let provider = provider(wire, &server);

        let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

        assert!(result.is_err(), "{wire:?}");
        assert_eq!(server.requests().len(), 1, "{wire:?}");
        assert!(server.requests()[0].json().get("tools").is_none());
    }
}
