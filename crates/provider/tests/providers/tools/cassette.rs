//! Tool-use streams in cassettes: recorded turn by turn, replayed turn by
//! turn; cassettes written by hand for demos.

use std::sync::Arc;

use agentls_provider::testing::{call, sse_head, FakeServer, Step, Turn, Wire};
use agentls_provider::{
    build, Cassette, CassetteWriter, Kind, Message, ProviderConfig, Recorder, Request, ToolResult,
};
use serde_json::json;

use super::*;

/// A provider replaying `file` (relative to `dir`) under `name`.
fn replay(name: &str, dir: &Path, file: &str) -> Arc<dyn Provider> {
    let mut config = ProviderConfig::new(Kind::Replay);
    config.cassette = Some(file.into());
    build(name, &config, &|_| None, dir).unwrap()
}

/// Runs three turns (read, run, answer) against `provider`, each turn's
/// request built from the answers before: what an agent loop does.
async fn three_turns(provider: &dyn Provider) -> Vec<(Completion, Vec<Chunk>)> {
    let mut messages = task();
    let mut turns = Vec::new();
    for _ in 0..3 {
        let (result, chunks) = call(provider, Request::turn(messages.clone(), specs())).await;
        let completion = result.unwrap();
        messages.push(Message::Assistant {
            text: completion.text.clone(),
            tool_calls: completion.tool_calls.clone(),
        });
        if !completion.tool_calls.is_empty() {
            messages.push(Message::Tool {
                results: completion
                    .tool_calls
                    .iter()
                    .map(|c| ToolResult::ok(c, format!("result of {}", c.name)))
                    .collect(),
            });
        }
        turns.push((completion, chunks));
    }
    turns
}

#[tokio::test]
async fn a_recorded_three_turn_tool_conversation_replays_identically() {
    for wire in Wire::ALL {
        let script = [
            reading(&["Let me ", "look."]).signed("c2lnbmF0dXJl"),
            Turn::text(&[]).call("toolu_02", "run_command", &["{\"command\":", " \"make\"}"]),
            Turn::text(&["All ", "green."]),
        ];
        let server =
            FakeServer::start(script.iter().map(|turn| wire.response(turn)).collect()).await;
        let dir = tempfile::tempdir().unwrap();
        let tape = CassetteWriter::create(dir.path().join("agent.json")).unwrap();
        let recorder = Recorder::new(provider(wire, &server), tape.clone());

        let live = three_turns(&recorder).await;
        let replayed = three_turns(replay("p", dir.path(), "agent.json").as_ref()).await;

        assert_eq!(replayed.len(), 3);
        for (turn, ((live, live_chunks), (again, again_chunks))) in
            live.iter().zip(&replayed).enumerate()
        {
            let what = format!("{wire:?} turn {}", turn + 1);
            assert_eq!(again.text, live.text, "{what}");
            assert_eq!(again.tool_calls, live.tool_calls, "{what}");
            assert_eq!(again.usage, live.usage, "{what}");
            assert_eq!(again.stop_reason, live.stop_reason, "{what}");
            assert_eq!(again.request_id, live.request_id, "{what}");
            assert_eq!(again.model, live.model, "{what}");
            assert_eq!(again_chunks, live_chunks, "{what}");
        }
        // What the tape holds, for one turn: the call whole, its signature
        // kept (Gemini sends one), the prompt for readers.
        let saved = Cassette::load(tape.path()).unwrap();
        assert_eq!(saved.version, 2);
        assert_eq!(saved.entries.len(), 3);
        let first = &saved.entries[0];
        assert_eq!(first.chunks, ["Let me ", "look."]);
        assert_eq!(first.tool_calls.len(), 1);
        assert_eq!(
            first.tool_calls[0].input,
            json!({"path": "src/lib.rs", "start_line": 3})
        );
        assert_eq!(
            first.tool_calls[0].signature.is_some(),
            wire == Wire::Gemini,
            "{wire:?}"
        );
        assert_eq!(first.prompt.as_deref(), Some("Fix the failing test"));
    }
}

#[tokio::test]
async fn a_turn_retried_after_text_is_recorded_once() {
    let wire = Wire::Openai;
    let script = reading(&["Let me ", "look."]);
    let events = wire.events(&script);
    let at = events.iter().position(|e| e.contains("lib.rs")).unwrap();
    let mut cut = vec![sse_head(&[])];
    cut.extend(events[..at].iter().map(|e| Step::Chunk(e.clone().into())));
    cut.push(Step::Drop);
    let server = FakeServer::start(vec![cut, wire.response(&script)]).await;
    let dir = tempfile::tempdir().unwrap();
    let tape = CassetteWriter::create(dir.path().join("agent.json")).unwrap();
    let recorder = Recorder::new(provider(wire, &server), tape.clone());

    let (result, _) = turn(&recorder, task()).await;

    assert_eq!(result.unwrap().attempts, 2);
    let saved = Cassette::load(tape.path()).unwrap();
    assert_eq!(saved.entries.len(), 1);
    assert_eq!(saved.entries[0].chunks, ["Let me ", "look."]);
    assert_eq!(saved.entries[0].tool_calls.len(), 1);
}

#[tokio::test]
async fn a_hand_written_cassette_streams_text_by_words_and_names_its_calls() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("demo.json"),
        r#"{
          "version": 2,
          "entries": [
            {"provider": "demo", "text": "I will read  the file.\n",
             "tool_calls": [{"name": "read_file", "input": {"path": "src/lib.rs"}},
                            {"name": "list_files"}]},
            {"provider": "other", "chunks": ["x"]},
            {"provider": "demo", "text": "Done."}
          ]
        }"#,
    )
    .unwrap();
    let demo = replay("demo", dir.path(), "demo.json");

    let (first, chunks) = turn(demo.as_ref(), task()).await;
    let first = first.unwrap();
    assert_eq!(first.text, "I will read  the file.\n");
    let texts = agentls_provider::testing::texts(&chunks);
    assert_eq!(texts, ["I ", "will ", "read  ", "the ", "file.\n"]);
    assert_eq!(started(&chunks), ["read_file", "list_files"]);
    let calls: Vec<(&str, &str, &Value)> = first
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), &c.input))
        .collect();
    assert_eq!(
        calls,
        [
            ("replay-1-1", "read_file", &json!({"path": "src/lib.rs"})),
            ("replay-1-2", "list_files", &json!({}))
        ]
    );
    let (second, _) = turn(demo.as_ref(), task()).await;
    let second = second.unwrap();
    assert_eq!(second.text, "Done.");
    assert!(second.tool_calls.is_empty());
}

#[tokio::test]
async fn an_entry_with_tool_calls_cannot_answer_a_prompt_step() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("demo.json"),
        r#"{"version": 2, "entries": [{"provider": "demo", "tool_calls": [{"name": "read_file"}]}]}"#,
    )
    .unwrap();
    let demo = replay("demo", dir.path(), "demo.json");

    let (result, chunks) = call(demo.as_ref(), Request::new("Explain")).await;

    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("entry 1 (answer 1 for `demo`) calls tools, but the step offers none"),
        "{err}"
    );
    assert!(chunks.is_empty());
}

#[test]
fn version_1_cassettes_still_load_and_bad_entries_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let old = write(
        "v1.json",
        r#"{"version": 1, "entries": [{"provider": "claude", "chunks": ["hi"], "stop_reason": "end_turn"}]}"#,
    );
    let cassette = Cassette::load(&old).unwrap();
    assert_eq!(cassette.entries[0].chunks, ["hi"]);
    assert!(cassette.entries[0].tool_calls.is_empty());

    let both = write(
        "both.json",
        r#"{"version": 2, "entries": [{"provider": "a"}, {"provider": "b", "chunks": ["x"], "text": "x"}]}"#,
    );
    let err = Cassette::load(&both).unwrap_err().to_string();
    assert!(
        err.ends_with("entry 2 (provider `b`) has both `chunks` and `text`; give one"),
        "{err}"
    );

    let future = write("v3.json", r#"{"version": 3, "entries": []}"#);
    let err = Cassette::load(&future).unwrap_err().to_string();
    assert!(
        err.ends_with("format version 3 is not supported (this agentls reads versions 1 to 2)"),
        "{err}"
    );
}
