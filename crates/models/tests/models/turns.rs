//! An agent step's turns through `SessionModels::turn`: the conversation and
//! the tools go to the vendor in its own format, the text streams into the
//! live output, the tool calls come back whole, the call is logged.

use std::sync::Arc;

use agentls_engine::chat::{Message, ToolCall, ToolResult, ToolSpec};
use agentls_engine::{CallLog, Models, TurnCall, TurnOutcome};
use agentls_models::SessionModels;
use agentls_provider::testing::{sse_head, FakeServer, Observed, Step, Turn, Wire};
use agentls_provider::{CassetteWriter, Kind, ProviderConfig, ProvidersConfig};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::support::providers;

fn specs() -> Vec<ToolSpec> {
    vec![ToolSpec {
        name: "read_file".into(),
        description: "Read a file of the workspace.".into(),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}},
                           "required": ["path"], "additionalProperties": false}),
    }]
}

fn call(provider: Option<&str>, messages: Vec<Message>) -> TurnCall {
    TurnCall {
        step: "fix".into(),
        provider: provider.map(str::to_string),
        system: Some("You fix tests.".into()),
        messages,
        tools: specs(),
        calls: CallLog::default(),
    }
}

fn task() -> Vec<Message> {
    vec![Message::User {
        text: "Make the test pass".into(),
    }]
}

/// Runs one turn, collecting the live output.
async fn turn(models: &SessionModels, call: TurnCall) -> (Result<TurnOutcome, String>, String) {
    let (tx, mut rx) = mpsc::channel(64);
    let collect = async move {
        let mut live = Vec::new();
        while let Some(bytes) = rx.recv().await {
            live.extend(bytes);
        }
        String::from_utf8(live).expect("UTF-8")
    };
    let (result, live) = tokio::join!(models.turn(call, tx, CancellationToken::new()), collect);
    (result, live)
}

/// `SessionModels` with one provider `p` of `wire`'s kind, the default.
fn models(wire: Wire, server: &FakeServer) -> SessionModels {
    let mut config = providers(vec![("p", wire.config(server))]);
    config.default_provider = Some("p".into());
    SessionModels::new(config, "/", wire.env())
}

fn reading() -> Turn {
    Turn::text(&["Let me ", "read it."]).call(
        "toolu_01Read",
        "read_file",
        &["{\"path\":", " \"src/lib.rs\"}"],
    )
}

async fn a_turn_streams_its_text_and_returns_its_calls(wire: Wire) {
    let server = FakeServer::start(vec![
        wire.response(&reading()),
        wire.response(&Turn::text(&["Fixed."])),
    ])
    .await;
    let models = models(wire, &server);
    let first = call(None, task());
    let log = first.calls.clone();

    let (result, live) = turn(&models, first).await;

    let outcome = result.unwrap();
    assert_eq!(outcome.text, "Let me read it.");
    assert_eq!(live, "Let me read it.");
    let id = match wire {
        Wire::Gemini => "gemini-call-1",
        _ => "toolu_01Read",
    };
    assert_eq!(
        outcome.tool_calls,
        [ToolCall {
            id: id.into(),
            name: "read_file".into(),
            input: json!({"path": "src/lib.rs"}),
            signature: None,
        }]
    );
    assert_eq!(
        outcome.stop_reason.as_deref(),
        Some(wire.stop_reason(&reading()))
    );
    let expected = wire.usage();
    assert_eq!(
        (
            outcome.usage.input_tokens,
            outcome.usage.output_tokens,
            outcome.usage.provider.as_deref()
        ),
        (expected.input_tokens, expected.output_tokens, Some("p"))
    );
    assert!(outcome.usage.latency_ms.is_some());
    let logged = log.take();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].provider, "p");
    assert_eq!(logged[0].output_tokens, expected.output_tokens);
    assert_eq!(logged[0].error_type, None);

    // The next turn carries the history; the system text goes too.
    let mut messages = task();
    messages.push(Message::Assistant {
        text: outcome.text.clone(),
        tool_calls: outcome.tool_calls.clone(),
    });
    messages.push(Message::Tool {
        results: vec![ToolResult::ok(&outcome.tool_calls[0], "pub fn add() {}")],
    });
    let (result, _) = turn(&models, call(Some("p"), messages)).await;
    assert_eq!(result.unwrap().text, "Fixed.");
    let body = server.requests()[1].json();
    let history = match wire {
        Wire::Anthropic => &body["messages"][2]["content"][0]["tool_use_id"],
        Wire::Openai => &body["messages"][3]["tool_call_id"],
        Wire::Gemini => &body["contents"][2]["parts"][0]["functionResponse"]["name"],
    };
    let answered = match wire {
        Wire::Gemini => "read_file",
        _ => id,
    };
    assert_eq!(history, answered, "{body}");
    assert!(body.to_string().contains("You fix tests."), "{body}");
}

#[tokio::test]
async fn anthropic_turn_streams_its_text_and_returns_its_calls() {
    a_turn_streams_its_text_and_returns_its_calls(Wire::Anthropic).await;
}

#[tokio::test]
async fn openai_turn_streams_its_text_and_returns_its_calls() {
    a_turn_streams_its_text_and_returns_its_calls(Wire::Openai).await;
}

#[tokio::test]
async fn gemini_turn_streams_its_text_and_returns_its_calls() {
    a_turn_streams_its_text_and_returns_its_calls(Wire::Gemini).await;
}

#[tokio::test]
async fn a_turn_cut_after_text_starts_over_and_says_so() {
    let wire = Wire::Anthropic;
    let events = wire.events(&reading());
    let at = events.iter().position(|e| e.contains("lib.rs")).unwrap();
    let mut cut = vec![sse_head(&[])];
    cut.extend(events[..at].iter().map(|e| Step::Chunk(e.clone().into())));
    cut.push(Step::Drop);
    let server = FakeServer::start(vec![cut, wire.response(&reading())]).await;
    let models = models(wire, &server);

    let (result, live) = turn(&models, call(None, task())).await;

    let outcome = result.unwrap();
    assert_eq!(outcome.text, "Let me read it.");
    assert_eq!(outcome.tool_calls.len(), 1);
    let (before, after) = live.split_once("; the answer starts over]\n").expect(&live);
    assert!(
        before.starts_with("Let me read it.\n[provider `p`: "),
        "{live}"
    );
    assert_eq!(after, "Let me read it.");
}

#[tokio::test]
async fn a_command_provider_cannot_take_a_turn() {
    let mut agent = ProviderConfig::new(Kind::Command);
    agent.command = Some("claude -p".into());
    let models = SessionModels::new(providers(vec![("agent", agent)]), "/", |_| None);
    let call = call(Some("agent"), task());
    let log = call.calls.clone();

    let (result, live) = turn(&models, call).await;

    let err = result.unwrap_err();
    assert!(
        err.starts_with("provider `agent` (kind `command`) cannot call tools"),
        "{err}"
    );
    assert_eq!(live, "");
    assert_eq!(log.take()[0].error_type.as_deref(), Some("no_tool_calling"));
}

#[tokio::test]
async fn cancelling_a_turn_closes_the_connection() {
    let wire = Wire::Openai;
    let events = wire.events(&reading());
    let mut server = FakeServer::start(vec![vec![
        sse_head(&[]),
        Step::Chunk(events[0].clone().into()),
        Step::AwaitClose,
    ]])
    .await;
    let models = models(wire, &server);
    let cancel = CancellationToken::new();
    let (tx, _rx) = mpsc::channel(64);
    let asked = models.turn(call(None, task()), tx, cancel.clone());
    let stop = async {
        server.wait_for(Observed::Request(0)).await;
        cancel.cancel();
        server.wait_for(Observed::ClientClosed(0)).await;
    };

    let (result, ()) = tokio::join!(asked, stop);

    let err = result.unwrap_err();
    assert!(err.contains("cancelled"), "{err}");
}

/// Three turns (read, run, answer) as an agent loop drives them.
async fn three_turns(models: &SessionModels) -> Vec<TurnOutcome> {
    let mut messages = task();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let (result, _) = turn(models, call(None, messages.clone())).await;
        let outcome = result.unwrap();
        messages.push(Message::Assistant {
            text: outcome.text.clone(),
            tool_calls: outcome.tool_calls.clone(),
        });
        if !outcome.tool_calls.is_empty() {
            messages.push(Message::Tool {
                results: outcome
                    .tool_calls
                    .iter()
                    .map(|c| ToolResult::ok(c, "done"))
                    .collect(),
            });
        }
        outcomes.push(outcome);
    }
    outcomes
}

#[tokio::test]
async fn a_recorded_agent_conversation_replays_the_same_turn_outcomes() {
    let wire = Wire::Gemini;
    let script = [
        reading().signed("c2lnbmF0dXJl"),
        Turn::text(&[]).call("unused", "run_command", &["{\"command\": \"cargo test\"}"]),
        Turn::text(&["All ", "green."]),
    ];
    let server = FakeServer::start(script.iter().map(|t| wire.response(t)).collect()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let tape = CassetteWriter::create(dir.path().join("agent.json")).expect("cassette");
    let recording = models(wire, &server).with_recorder(Arc::clone(&tape));
    let recorded = three_turns(&recording).await;

    let mut replay = ProviderConfig::new(Kind::Replay);
    replay.cassette = Some("agent.json".into());
    let config = ProvidersConfig {
        default_provider: Some("p".into()),
        providers: [("p".to_string(), replay)].into(),
    };
    let replaying = SessionModels::new(config, dir.path(), |_| None);
    let replayed = three_turns(&replaying).await;

    let comparable = |outcomes: &[TurnOutcome]| -> Vec<_> {
        outcomes
            .iter()
            .map(|o| {
                let mut usage = o.usage.clone();
                usage.latency_ms = None;
                (
                    o.text.clone(),
                    o.tool_calls.clone(),
                    usage,
                    o.stop_reason.clone(),
                )
            })
            .collect()
    };
    assert_eq!(comparable(&replayed), comparable(&recorded));
    assert_eq!(
        recorded[0].tool_calls[0].signature.as_deref(),
        Some("c2lnbmF0dXJl")
    );
    assert_eq!(recorded[1].tool_calls[0].id, "gemini-call-2");
    assert_eq!(recorded[2].text, "All green.");
}
