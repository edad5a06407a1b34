//! Failures through the engine: rate limits, errors mid-answer, cancel,
//! missing keys.

use std::time::Duration;

use agentls_engine::{Event, RunStatus, StepStatus};
use agentls_provider::testing::{json_response, FakeServer, Observed, Step};

use crate::support::*;

#[tokio::test]
async fn rate_limited_429_waits_retry_after_and_answers_once() {
    let limited = json_response(
        429,
        &[("retry-after", "1"), ("request-id", "req_429")],
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
    );
    let server = FakeServer::start(vec![limited, Vendor::Anthropic.answer(&["Hello", "!"])]).await;
    let f = Fixture::new(
        providers(vec![("claude", Vendor::Anthropic.config(&server))]),
        Env::keys(),
    );

    let (run, record) = f.run(&ask(&["claude"], "first")).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.output(&run, "ask"), "Hello!");
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].responded_at.expect("429 was sent");
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert_eq!(
        f.events.live(&run, "ask"),
        "[provider `claude`: HTTP 429: rate_limit_error: Number of request tokens has exceeded \
         your per-minute rate limit [request id req_429]; retrying in 1s (attempt 2)]\nHello!"
    );
    // One attempt of the step: the provider retried, not the engine.
    assert_eq!(step(&record, "ask").attempt, 1);
}

#[tokio::test]
async fn error_after_text_fails_the_step_and_retry_answers_without_duplicates() {
    let deltas = ["Hello", " there", "!"];
    let mut broken = Vendor::Anthropic.partial(&deltas, 1);
    broken.push(Step::Chunk(
        b"event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n".to_vec(),
    ));
    broken.push(Step::End);
    let server = FakeServer::start(vec![broken, Vendor::Anthropic.answer(&deltas)]).await;
    let f = Fixture::new(
        providers(vec![("claude", Vendor::Anthropic.config(&server))]),
        Env::keys(),
    );

    let (run, record) = f.run(&ask(&["claude"], "first")).await;

    assert_eq!(record.status, RunStatus::Failed, "{record:?}");
    let failed = step(&record, "ask");
    assert_eq!(failed.status, StepStatus::Failed);
    let error = failed.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("provider `claude`: the answer stream failed: overloaded_error: Overloaded"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1, "text had streamed: no retry");
    assert_eq!(
        f.output(&run, "ask"),
        "Hello",
        "what streamed before the error is kept with it"
    );

    f.engine.retry(&run, None).expect("retry");
    let record = f.engine.wait(&run).await.expect("record");

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.output(&run, "ask"), "Hello there!");
    assert_eq!(step(&record, "ask").attempt, 2);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn cancel_mid_stream_closes_the_connection_and_cancels_the_step() {
    let mut steps = Vendor::Openai.partial(&["Hello", " world"], 2);
    steps.push(Step::AwaitClose);
    let mut server = FakeServer::start(vec![steps]).await;
    let f = Fixture::new(
        providers(vec![("gpt", Vendor::Openai.config(&server))]),
        Env::keys(),
    );
    let run = f.start(&ask(&["gpt"], "first"));
    f.events
        .wait_for("the answer to start streaming", |events| {
            events.iter().any(|e| {
                matches!(e, Event::Output { run: r, bytes, .. } if *r == run && bytes.starts_with(b"Hello"))
            })
        })
        .await;

    let record = f.engine.cancel(&run).await.expect("cancel");

    assert_eq!(record.status, RunStatus::Cancelled);
    assert_eq!(step(&record, "ask").status, StepStatus::Cancelled);
    server.wait_for(Observed::ClientClosed(0)).await;
}

#[tokio::test]
async fn missing_key_fails_only_the_steps_using_that_provider() {
    let claude = FakeServer::start(vec![
        Vendor::Anthropic.answer(&["first"]),
        Vendor::Anthropic.answer(&["third"]),
    ])
    .await;
    let gpt = FakeServer::start(vec![Vendor::Openai.answer(&["never"])]).await;
    let f = Fixture::new(
        providers(vec![
            ("claude", Vendor::Anthropic.config(&claude)),
            ("gpt", Vendor::Openai.config(&gpt)),
        ]),
        Env::default().with("ANTHROPIC_API_KEY", "sk-ant-test-0001"),
    );

    let (run, record) = f
        .run(
            r#"
[[steps]]
id = "a"
prompt = "one"
provider = "claude"
[[steps]]
id = "b"
prompt = "two"
provider = "gpt"
allow_failure = true
[[steps]]
id = "c"
prompt = "three"
provider = "claude"
"#,
        )
        .await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.output(&run, "a"), "first");
    assert_eq!(f.output(&run, "c"), "third");
    let error = step(&record, "b").error.clone().unwrap_or_default();
    assert_eq!(
        error,
        "provider `gpt`: the environment variable OPENAI_API_KEY (its API key) is not set or \
         empty; export it, or name another variable with `api_key_env` in [providers.gpt]"
    );
    assert!(gpt.requests().is_empty(), "nothing was sent without a key");
}

#[tokio::test]
async fn an_unknown_provider_fails_the_step_naming_the_known_ones() {
    let f = Fixture::new(providers(vec![]), Env::keys());

    let (_, record) = f.run(&ask(&["nope"], "first")).await;

    assert_eq!(record.status, RunStatus::Failed);
    let error = step(&record, "ask").error.clone().unwrap_or_default();
    assert!(
        error.starts_with("no provider named `nope` (known: claude, gemini, gpt)"),
        "{error}"
    );
}
