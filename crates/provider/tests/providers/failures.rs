//! Retries, timeouts and cancellation, against the fake server.

use std::path::Path;
use std::time::{Duration, Instant};

use agentls_provider::{
    build, CancellationToken, Chunk, ConfigDuration, Kind, ProviderError, Request,
};
use tokio::sync::mpsc;

use crate::support::*;
use crate::{anthropic, gemini, openai};

fn claude(server: &FakeServer) -> agentls_provider::ProviderConfig {
    fast_config(Kind::Anthropic, &server.base_url())
}

const ENV: (&str, &str) = ("ANTHROPIC_API_KEY", "sk-ant-test-key-0001");

#[tokio::test]
async fn rate_limited_429_waits_retry_after_then_succeeds() {
    let limited = json_response(
        429,
        &[("retry-after", "1"), ("request-id", "req_429")],
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
    );
    let server = FakeServer::start(vec![limited, anthropic::hello_response()]).await;
    let provider = build(
        "claude",
        &claude(&server),
        &env_with(ENV.0, ENV.1),
        Path::new("/"),
    )
    .unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    let completion = result.unwrap();
    assert_eq!(completion.text, "Hello!");
    assert_eq!(completion.attempts, 2);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].responded_at.unwrap();
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    // Backoff is 5 ms here: a wait far beyond the asked second would mean
    // the two were added.
    assert!(
        waited < Duration::from_millis(1900),
        "retried after {waited:?}"
    );
    assert_eq!(
        chunks[0],
        Chunk::Retrying {
            attempt: 2,
            delay: Duration::from_secs(1),
            reason: "provider `claude`: HTTP 429: rate_limit_error: Number of request tokens \
                     has exceeded your per-minute rate limit [request id req_429]"
                .to_string(),
        }
    );
}

#[tokio::test]
async fn retry_after_beyond_the_cap_fails_at_once() {
    let limited = json_response(
        429,
        &[("retry-after", "120")],
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
    );
    let server = FakeServer::start(vec![limited]).await;
    let provider = build(
        "claude",
        &claude(&server),
        &env_with(ENV.0, ENV.1),
        Path::new("/"),
    )
    .unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    let err = result.unwrap_err();
    assert!(
        matches!(err, ProviderError::RetryAfterTooLong { status: 429, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("retry after 120s"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn server_error_500_then_success() {
    let failed = json_response(
        500,
        &[],
        r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
    );
    let server = FakeServer::start(vec![failed, openai::hello_response()]).await;
    let mut config = fast_config(Kind::Openai, &format!("{}/v1", server.base_url()));
    config.model = Some("gpt-4.1".into());
    let provider = build("gpt", &config, &|_| None, Path::new("/")).unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    let completion = result.unwrap();
    assert_eq!(completion.text, "Hello there");
    assert_eq!(completion.attempts, 2);
    assert_eq!(server.requests().len(), 2);
    assert!(matches!(chunks[0], Chunk::Retrying { attempt: 2, .. }));
}

#[tokio::test]
async fn overloaded_529_exhausts_retries_with_the_vendor_message() {
    let overloaded = || {
        json_response(
            529,
            &[],
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
    };
    let server = FakeServer::start(vec![overloaded(), overloaded(), overloaded()]).await;
    let mut config = claude(&server);
    config.retries = Some(2);
    let provider = build("claude", &config, &env_with(ENV.0, ENV.1), Path::new("/")).unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Http {
                status: 529,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("HTTP 529: overloaded_error: Overloaded (after 3 attempts)"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 3);
    assert_eq!(chunks.len(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let bad = json_response(
        400,
        &[],
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be at most 64000"}}"#,
    );
    let server = FakeServer::start(vec![bad]).await;
    let provider = build(
        "claude",
        &claude(&server),
        &env_with(ENV.0, ENV.1),
        Path::new("/"),
    )
    .unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    let err = result.unwrap_err().to_string();
    assert_eq!(
        err,
        "provider `claude`: HTTP 400: invalid_request_error: max_tokens: must be at most 64000"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn connection_closed_before_the_first_byte_is_retried() {
    let server = FakeServer::start(vec![vec![Step::Drop], gemini::hello_response()]).await;
    let config = fast_config(Kind::Gemini, &format!("{}/v1beta", server.base_url()));
    let env = env_with("GEMINI_API_KEY", "AIzaSy-test-key-0003");
    let provider = build("gemini", &config, &env, Path::new("/")).unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    let completion = result.unwrap();
    assert_eq!(completion.text, "Hello from Gemini");
    assert_eq!(completion.attempts, 2);
    assert_eq!(server.requests().len(), 2);
    assert!(
        matches!(chunks[0], Chunk::Retrying { attempt: 2, .. }),
        "{chunks:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_retried_until_the_server_listens() {
    // A port nobody listens on (yet).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = fast_config(Kind::Anthropic, &format!("http://{addr}"));
    // Long enough for the test to start listening once told of the retry.
    config.retry_base_delay = Some(ConfigDuration::millis(1500));
    let provider = build("claude", &config, &env_with(ENV.0, ENV.1), Path::new("/")).unwrap();

    let (tx, mut rx) = mpsc::channel(64);
    let call = tokio::spawn(async move {
        provider
            .stream(Request::new("hi"), tx, CancellationToken::new())
            .await
    });
    let first = rx.recv().await.unwrap();
    let Chunk::Retrying {
        attempt: 2, reason, ..
    } = first
    else {
        panic!("expected a retry notice, got {first:?}");
    };
    assert!(reason.to_lowercase().contains("connect"), "{reason}");
    let server = FakeServer::start_on(addr, vec![anthropic::hello_response()]).await;

    let completion = call.await.unwrap().unwrap();
    assert_eq!(completion.text, "Hello!");
    assert_eq!(completion.attempts, 2);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn first_byte_timeout_fires_when_no_response_comes() {
    let server = FakeServer::start(vec![vec![Step::Hang]]).await;
    let mut config = claude(&server);
    config.first_byte_timeout = Some(ConfigDuration::millis(200));
    config.retries = Some(0);
    let provider = build("claude", &config, &env_with(ENV.0, ENV.1), Path::new("/")).unwrap();

    let started = Instant::now();
    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    let err = result.unwrap_err();
    assert!(
        matches!(err, ProviderError::FirstByteTimeout { after, attempts: 1, .. } if after == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn idle_timeout_fires_when_the_stream_stalls_after_text() {
    let mut steps = vec![sse_head(&[])];
    for piece in &anthropic::HELLO_STREAM[..4] {
        steps.push(Step::Chunk(piece.as_bytes().to_vec()));
    }
    steps.push(Step::Hang);
    let server = FakeServer::start(vec![steps]).await;
    let mut config = claude(&server);
    config.idle_timeout = Some(ConfigDuration::millis(200));
    config.retries = Some(3);
    let provider = build("claude", &config, &env_with(ENV.0, ENV.1), Path::new("/")).unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    assert_eq!(texts(&chunks), ["Hello"]);
    let err = result.unwrap_err();
    assert!(
        matches!(err, ProviderError::IdleTimeout { after, .. } if after == Duration::from_millis(200)),
        "{err:?}"
    );
    // Text had streamed: not retried.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn cancellation_closes_the_connection() {
    let mut steps = vec![sse_head(&[])];
    for piece in &anthropic::HELLO_STREAM[..4] {
        steps.push(Step::Chunk(piece.as_bytes().to_vec()));
    }
    steps.push(Step::AwaitClose);
    let mut server = FakeServer::start(vec![steps]).await;
    let provider = build(
        "claude",
        &claude(&server),
        &env_with(ENV.0, ENV.1),
        Path::new("/"),
    )
    .unwrap();

    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let call = tokio::spawn({
        let cancel = cancel.clone();
        async move { provider.stream(Request::new("hi"), tx, cancel).await }
    });
    assert_eq!(rx.recv().await, Some(Chunk::Text("Hello".into())));
    cancel.cancel();

    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    server.wait_for(Observed::ClientClosed(0)).await;
}

#[tokio::test]
async fn cancellation_during_backoff_stops_at_once() {
    let limited = json_response(
        429,
        &[("retry-after", "5")],
        r#"{"error":{"message":"wait"}}"#,
    );
    let server = FakeServer::start(vec![limited]).await;
    let mut config = claude(&server);
    config.retry_max_delay = Some(ConfigDuration::secs(30));
    let provider = build("claude", &config, &env_with(ENV.0, ENV.1), Path::new("/")).unwrap();

    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let call = tokio::spawn({
        let cancel = cancel.clone();
        async move { provider.stream(Request::new("hi"), tx, cancel).await }
    });
    assert!(matches!(rx.recv().await, Some(Chunk::Retrying { .. })));
    cancel.cancel();

    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.requests().len(), 1);
}
