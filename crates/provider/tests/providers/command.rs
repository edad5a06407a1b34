//! The `command` provider against small shell scripts.

use std::path::Path;
use std::time::Duration;

use agentls_provider::{
    build, CancellationToken, Chunk, ConfigDuration, Kind, PromptVia, ProviderConfig,
    ProviderError, Request, Usage,
};
use tokio::sync::mpsc;

use crate::support::*;

/// A workspace holding `agent.sh`, an agent that answers in two pieces and
/// echoes what it was asked.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent.sh"),
        "#!/bin/sh\n\
         prompt=$(cat)\n\
         printf 'Thinking about: %s\\n' \"$prompt\"\n\
         sleep 0.05\n\
         printf 'Answer: 42 \\342\\234\\223\\n'\n",
    )
    .unwrap();
    dir
}

fn command(line: &str) -> ProviderConfig {
    let mut config = ProviderConfig::new(Kind::Command);
    config.command = Some(line.to_string());
    config
}

#[tokio::test]
async fn command_gets_the_prompt_on_stdin_and_streams_its_output() {
    let dir = workspace();
    let provider = build("agent", &command("sh ./agent.sh"), &|_| None, dir.path()).unwrap();

    let mut request = Request::new("the meaning of life");
    request.system = Some("You are terse.".into());
    let (result, chunks) = call(provider.as_ref(), request).await;

    let completion = result.unwrap();
    assert_eq!(
        completion.text,
        "Thinking about: You are terse.\n\nthe meaning of life\nAnswer: 42 \u{2713}\n"
    );
    assert_eq!(texts(&chunks).concat(), completion.text);
    assert!(
        texts(&chunks).len() >= 2,
        "output arrived as it was written: {chunks:?}"
    );
    assert_eq!(completion.usage, Usage::default());
}

#[tokio::test]
async fn command_gets_the_prompt_as_one_quoted_argument() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = command("printf '[%s]'");
    config.prompt_via = Some(PromptVia::Arg);
    let provider = build("agent", &config, &|_| None, dir.path()).unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("it's $HOME; `x`")).await;

    assert_eq!(result.unwrap().text, "[it's $HOME; `x`]");
}

#[tokio::test]
async fn command_failure_reports_exit_code_and_output_tail() {
    let dir = tempfile::tempdir().unwrap();
    let config = command("echo 'Error: not logged in' >&2; exit 3");
    let provider = build("agent", &config, &|_| None, dir.path()).unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    let err = result.unwrap_err();
    assert!(
        matches!(err, ProviderError::CommandFailed { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("exited with code 3"), "{text}");
    assert!(text.contains("Error: not logged in"), "{text}");
}

#[tokio::test]
async fn command_idle_timeout_kills_a_silent_agent() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = command("printf started; sleep 30");
    config.idle_timeout = Some(ConfigDuration::millis(200));
    let provider = build("agent", &config, &|_| None, dir.path()).unwrap();

    let started = std::time::Instant::now();
    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    assert_eq!(texts(&chunks), ["started"]);
    assert!(
        matches!(result, Err(ProviderError::IdleTimeout { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn command_cancellation_kills_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let provider = build(
        "agent",
        &command("printf go; sleep 30"),
        &|_| None,
        dir.path(),
    )
    .unwrap();

    let (tx, mut rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    let started = std::time::Instant::now();
    let call = tokio::spawn({
        let cancel = cancel.clone();
        async move { provider.stream(Request::new("hi"), tx, cancel).await }
    });
    assert_eq!(rx.recv().await, Some(Chunk::Text("go".into())));
    cancel.cancel();

    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn command_in_a_missing_workspace_is_a_clear_error() {
    let root = Path::new("/nonexistent/agentls-workspace");
    let provider = build("agent", &command("true"), &|_| None, root).unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    let err = result.unwrap_err();
    assert!(matches!(err, ProviderError::Exec { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/nonexistent/agentls-workspace"),
        "{err}"
    );
}

#[tokio::test]
async fn a_turn_with_tools_is_refused_naming_the_provider_and_runs_nothing() {
    let dir = workspace();
    // The agent would leave a mark if it ran.
    let provider = build(
        "agent",
        &command("touch ran && sh ./agent.sh"),
        &|_| None,
        dir.path(),
    )
    .unwrap();
    let spec = agentls_provider::ToolSpec {
        name: "read_file".into(),
        description: "Read a file.".into(),
        parameters: serde_json::json!({"type": "object"}),
    };
    let messages = vec![agentls_provider::Message::User {
        text: "Fix it".into(),
    }];

    let (result, chunks) = call(provider.as_ref(), Request::turn(messages, vec![spec])).await;

    let err = result.unwrap_err();
    assert!(
        matches!(&err, ProviderError::NoToolCalling { provider, kind: "command" } if provider == "agent"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("provider `agent` (kind `command`) cannot call tools"),
        "{err}"
    );
    assert!(chunks.is_empty());
    assert!(!dir.path().join("ran").exists());
}
