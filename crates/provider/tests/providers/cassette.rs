//! Record a run's streams into a cassette, then replay them offline.

use std::path::Path;
use std::sync::Arc;

use agentls_provider::{
    build, Cassette, CassetteWriter, Kind, ProviderConfig, ProviderError, Recorder, Request,
};

use crate::support::*;
use crate::{anthropic, openai};

#[tokio::test]
async fn record_then_replay_gives_equal_text_chunks_and_usage() {
    let claude_server = FakeServer::start(vec![
        anthropic::hello_response(),
        anthropic::hello_response(),
    ])
    .await;
    let gpt_server = FakeServer::start(vec![openai::hello_response()]).await;
    let dir = tempfile::tempdir().unwrap();
    let tape = CassetteWriter::create(dir.path().join("run.cassette.json")).unwrap();

    let claude = build(
        "claude",
        &fast_config(Kind::Anthropic, &claude_server.base_url()),
        &env_with("ANTHROPIC_API_KEY", "sk-ant-test-key-0001"),
        dir.path(),
    )
    .unwrap();
    let mut gpt_config = fast_config(Kind::Openai, &format!("{}/v1", gpt_server.base_url()));
    gpt_config.model = Some("gpt-4.1".into());
    let gpt = build("gpt", &gpt_config, &|_| None, dir.path()).unwrap();
    let claude = Recorder::new(claude, tape.clone());
    let gpt = Recorder::new(gpt, tape.clone());

    let mut live = Vec::new();
    for (provider, prompt) in [
        (&claude as &dyn agentls_provider::Provider, "first"),
        (&gpt, "second"),
        (&claude, "third"),
    ] {
        let (result, chunks) = call(provider, Request::new(prompt)).await;
        live.push((provider.name().to_string(), result.unwrap(), texts(&chunks)));
    }

    // The file on disk holds every stream, in order, with its chunking.
    let saved = Cassette::load(tape.path()).unwrap();
    assert_eq!(saved, tape.snapshot());
    let names: Vec<&str> = saved.entries.iter().map(|e| e.provider.as_str()).collect();
    assert_eq!(names, ["claude", "gpt", "claude"]);
    assert_eq!(saved.entries[1].chunks, ["Hello", " there"]);
    assert_eq!(saved.entries[2].prompt.as_deref(), Some("third"));

    // Replay: each provider name serves its own entries in order.
    let replay = |name: &str| {
        let mut config = ProviderConfig::new(Kind::Replay);
        config.cassette = Some("run.cassette.json".into());
        build(name, &config, &|_| None, dir.path()).unwrap()
    };
    let claude_replay = replay("claude");
    let gpt_replay = replay("gpt");
    for (name, recorded, recorded_chunks) in &live {
        let provider = if name == "claude" {
            &claude_replay
        } else {
            &gpt_replay
        };
        let (result, chunks) = call(provider.as_ref(), Request::new("ignored")).await;
        let replayed = result.unwrap();
        assert_eq!(&texts(&chunks), recorded_chunks);
        assert_eq!(replayed.text, recorded.text);
        assert_eq!(replayed.usage, recorded.usage);
        assert_eq!(replayed.stop_reason, recorded.stop_reason);
        assert_eq!(replayed.request_id, recorded.request_id);
        assert_eq!(replayed.model, recorded.model);
    }

    let (result, _) = call(gpt_replay.as_ref(), Request::new("one more")).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err, ProviderError::ReplayExhausted { recorded: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn failed_calls_are_not_recorded() {
    let server = FakeServer::start(vec![json_response(
        400,
        &[],
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#,
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let tape = CassetteWriter::create(dir.path().join("c.json")).unwrap();
    let inner = build(
        "claude",
        &fast_config(Kind::Anthropic, &server.base_url()),
        &env_with("ANTHROPIC_API_KEY", "sk-ant-test-key-0001"),
        dir.path(),
    )
    .unwrap();
    let recorder = Recorder::new(inner, Arc::clone(&tape));

    let (result, _) = call(&recorder, Request::new("hi")).await;

    assert!(result.is_err());
    assert!(Cassette::load(tape.path()).unwrap().entries.is_empty());
}

#[test]
fn replay_without_answers_for_its_name_fails_at_build() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("demo.json"),
        r#"{"version": 1, "entries": [{"provider": "claude", "chunks": ["hi"]}]}"#,
    )
    .unwrap();
    let mut config = ProviderConfig::new(Kind::Replay);
    config.cassette = Some("demo.json".into());
    let err = build("gpt", &config, &|_| None, dir.path()).err().unwrap();
    let text = err.to_string();
    assert!(
        text.contains("no answers recorded for provider `gpt`"),
        "{text}"
    );
    assert!(text.contains("answers for claude"), "{text}");

    config.cassette = Some(Path::new("missing.json").into());
    let err = build("claude", &config, &|_| None, dir.path())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("missing.json: cannot read"),
        "{err}"
    );
}

#[test]
fn a_cassette_that_is_a_fifo_dev_zero_or_too_big_fails_at_build_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo.json"))
        .status()
        .unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.json")).unwrap();
    std::fs::File::create(dir.path().join("big.json"))
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    for (file, reason) in [
        ("fifo.json", "not a regular file (a FIFO)"),
        ("zero.json", "not a regular file (a character device)"),
        ("big.json", "larger than the 64 MiB limit"),
    ] {
        let mut config = ProviderConfig::new(Kind::Replay);
        config.cassette = Some(file.into());
        let err = build("claude", &config, &|_| None, dir.path())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "cassette {}: cannot read: {reason}",
                dir.path().join(file).display()
            )
        );
    }
}
