//! Recording a run into a cassette, and replaying it: the same outputs and
//! usage, offline. Also the README's demo cassette.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agentls_engine::{RunRecord, RunStatus, Usage};
use agentls_models::SessionModels;
use agentls_provider::testing::{sse_response, FakeServer};
use agentls_provider::{Cassette, CassetteWriter, Kind, ProviderConfig, ProvidersConfig};

use crate::support::*;

const WORKFLOW: &str = r#"
[[steps]]
id = "one"
prompt = "Summarise the change"
provider = "claude"
[[steps]]
id = "both"
prompt = "Review it: {{ steps.one.output }}"
provider = ["gpt", "gemini"]
pick = "all"
"#;

/// A config where every name in `names` replays `cassette`.
fn replaying(names: &[&str], cassette: &Path) -> ProvidersConfig {
    providers(
        names
            .iter()
            .map(|name| {
                let mut config = ProviderConfig::new(Kind::Replay);
                config.cassette = Some(cassette.to_path_buf());
                (*name, config)
            })
            .collect(),
    )
}

/// What a replay must reproduce: each step's output, outputs and usage
/// (latency aside: it is measured, not recorded).
fn answers(
    f: &Fixture,
    record: &RunRecord,
) -> Vec<(String, String, Option<serde_json::Value>, Usage)> {
    record
        .steps
        .iter()
        .map(|s| {
            let usage = Usage {
                latency_ms: None,
                ..s.usage.clone()
            };
            (
                s.step_id.clone(),
                f.output(&record.id, &s.step_id),
                s.outputs.clone(),
                usage,
            )
        })
        .collect()
}

#[tokio::test]
async fn replay_reproduces_a_recorded_run() {
    let claude = FakeServer::start(vec![Vendor::Anthropic.answer(&["Adds ", "a cache."])]).await;
    let gpt = FakeServer::start(vec![Vendor::Openai.answer(&["Looks ", "fine."])]).await;
    let gemini = FakeServer::start(vec![Vendor::Gemini.answer(&["Ship ", "it."])]).await;
    let tape_dir = tempfile::tempdir().expect("temp dir");
    let cassette = tape_dir.path().join("run.json");
    let tape = CassetteWriter::create(&cassette).expect("cassette");
    let config = providers(vec![
        ("claude", Vendor::Anthropic.config(&claude)),
        ("gpt", Vendor::Openai.config(&gpt)),
        ("gemini", Vendor::Gemini.config(&gemini)),
    ]);
    let recording = Fixture::with_models(|root| {
        SessionModels::new(config, root, Env::keys().lookup()).with_recorder(tape)
    });
    let (_, recorded) = recording.run(WORKFLOW).await;
    assert_eq!(recorded.status, RunStatus::Completed, "{recorded:?}");

    let replay = Fixture::new(
        replaying(&["claude", "gpt", "gemini"], &cassette),
        Env::default(),
    );
    let (_, replayed) = replay.run(WORKFLOW).await;

    assert_eq!(replayed.status, RunStatus::Completed, "{replayed:?}");
    assert_eq!(answers(&replay, &replayed), answers(&recording, &recorded));
    assert_eq!(
        recording.output(&recorded.id, "both"),
        "## gpt\n\nLooks fine.\n\n## gemini\n\nShip it.\n"
    );
    let text = std::fs::read_to_string(&cassette).expect("cassette");
    for key in ["sk-ant-test-0001", "sk-proj-test-0002", "AIza-test-0003"] {
        assert!(!text.contains(key), "a key was recorded");
    }
    let tape = Cassette::load(&cassette).expect("cassette loads");
    assert_eq!(tape.entries.len(), 3);
    assert_eq!(
        tape.entries_for("claude").next().map(|e| e.chunks.clone()),
        Some(vec!["Adds ".to_string(), "a cache.".to_string()])
    );
}

// The README's demo cassette.

/// The workflow the demo cassette answers: the built-in `demo`'s first step
/// and a prompt step explaining its output.
const DEMO_WORKFLOW: &str = r#"
[[steps]]
id = "system"
title = "Look at the machine"
run = "uname -a"
timeout = "30s"

[[steps]]
id = "explain"
title = "Ask a model what it means"
prompt = """In two sentences, explain what this output of `uname -a` says about the machine:
{{ steps.system.output | trim }}"""
"#;

/// The recorded answer, in the pieces it streamed as.
const DEMO_ANSWER: &[&str] = &[
    "That line is what `uname -a` prints",
    " to identify the system the workflow ran on:",
    " the kernel's name (Linux or Darwin, for example),",
    " this machine's host name, the kernel release and build,",
    " and the processor architecture (such as x86_64 or arm64).",
    "\n\nNothing in it needs attention:",
    " the command succeeded, so later steps can use its output.",
];

fn demo_cassette() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/cassette.json")
}

/// Records `examples/demo/cassette.json` for real: the demo workflow runs
/// through the engine against a fake Anthropic server, recorded by
/// `SessionModels::with_recorder`. Run it with
/// `cargo test -p agentls-models --test models -- --ignored record_demo_cassette`.
#[tokio::test]
#[ignore = "writes examples/demo/cassette.json; run by hand to re-record"]
async fn record_demo_cassette() {
    let pieces: Vec<String> = Vendor::Anthropic
        .pieces(DEMO_ANSWER)
        .into_iter()
        .map(|p| {
            p.replace("\"input_tokens\":25", "\"input_tokens\":71")
                .replace(
                    "\"cache_read_input_tokens\":10",
                    "\"cache_read_input_tokens\":0",
                )
                .replace("\"output_tokens\":15", "\"output_tokens\":74")
                .replace(
                    "msg_01XFDUDYJgAACzvnptvVoYEL",
                    "msg_01DemoRecordedOffline00",
                )
        })
        .collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let server = FakeServer::start(vec![sse_response(
        &[("request-id", "req_demo_offline_0001")],
        &pieces,
    )])
    .await;
    let path = demo_cassette();
    std::fs::create_dir_all(path.parent().expect("folder")).expect("examples/demo");
    let tape = CassetteWriter::create(&path).expect("cassette");
    let mut config = providers(vec![("demo", Vendor::Anthropic.config(&server))]);
    config.default_provider = Some("demo".into());
    let f = Fixture::with_models(|root| {
        SessionModels::new(config, root, Env::keys().lookup()).with_recorder(Arc::clone(&tape))
    });

    let (run, record) = f.run(DEMO_WORKFLOW).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.output(&run, "explain"), DEMO_ANSWER.concat());
    assert_eq!(tape.snapshot().entries.len(), 1);
}

#[tokio::test]
async fn demo_cassette_replays_through_the_engine() {
    let path = demo_cassette();
    let tape = Cassette::load(&path).expect("examples/demo/cassette.json loads");
    let entry = tape
        .entries_for("demo")
        .next()
        .expect("an answer for `demo`");
    let mut config = replaying(&["demo"], &path);
    config.default_provider = Some("demo".into());
    let f = Fixture::new(config, Env::default());

    let (run, record) = f.run(DEMO_WORKFLOW).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.output(&run, "explain"), entry.chunks.concat());
    assert_eq!(f.output(&run, "explain"), DEMO_ANSWER.concat());
    let usage = &step(&record, "explain").usage;
    assert_eq!(usage.output_tokens, entry.usage.output_tokens);
    assert_eq!(usage.provider.as_deref(), Some("demo"));
}
