//! Keys: a missing one stops the call before any request; a present one
//! never shows in Debug output or error messages.

use std::path::Path;

use agentls_provider::{build, Chunk, Kind, ProviderConfig, ProviderError, Request};

use crate::support::*;

const KEY: &str = "sk-ant-api03-SECRET-VALUE-do-not-print";

#[tokio::test]
async fn missing_key_names_the_variable_and_sends_nothing() {
    let server = FakeServer::start(vec![]).await;
    for (kind, var) in [
        (Kind::Anthropic, "ANTHROPIC_API_KEY"),
        (Kind::Gemini, "GEMINI_API_KEY"),
    ] {
        let config = fast_config(kind, &server.base_url());
        let err = match build("p", &config, &|_| None, Path::new("/")) {
            Ok(_) => panic!("{kind}: built without a key"),
            Err(err) => err,
        };
        assert!(
            matches!(&err, ProviderError::MissingKey { var: v, .. } if v == var),
            "{err:?}"
        );
        assert!(err.to_string().contains(var), "{err}");
    }
    // OpenAI's own API: the default variable; a configured one is named too.
    let mut config = ProviderConfig::new(Kind::Openai);
    let err = build("gpt", &config, &|_| None, Path::new("/"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
    config.api_key_env = Some("MY_GATEWAY_KEY".into());
    config.base_url = Some(server.base_url());
    let err = build("gw", &config, &|_| Some(String::new()), Path::new("/"))
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("MY_GATEWAY_KEY (its API key) is not set or empty"),
        "an empty variable counts as unset: {err}"
    );
    assert!(server.requests().is_empty(), "the server saw a request");
}

#[tokio::test]
async fn key_is_sent_but_never_shown_in_debug_or_errors() {
    // A proxy that echoes the key back in its error message.
    let echo = json_response(
        401,
        &[],
        &format!(
            r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}}}}"#
        ),
    );
    let server = FakeServer::start(vec![echo]).await;
    let mut config = fast_config(Kind::Anthropic, &server.base_url());
    config
        .headers
        .insert("x-proxy-token".into(), "proxy-SECRET-token".into());
    let env = env_with("ANTHROPIC_API_KEY", KEY);
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    let seen = &server.requests()[0];
    assert_eq!(seen.header("x-api-key"), Some(KEY));
    assert_eq!(seen.header("x-proxy-token"), Some("proxy-SECRET-token"));
    let err = result.unwrap_err();
    for shown in [err.to_string(), format!("{err:?}"), format!("{config:?}")] {
        assert!(!shown.contains(KEY), "key leaked: {shown}");
        assert!(
            !shown.contains("proxy-SECRET-token"),
            "header leaked: {shown}"
        );
    }
    assert!(
        err.to_string()
            .contains("HTTP 401: authentication_error: invalid x-api-key ***"),
        "{err}"
    );
    let secret = agentls_provider::Secret::new(KEY);
    assert_eq!(format!("{secret:?} {secret}"), "*** ***");
}

/// Configured header values are secrets like the key: a server that echoes
/// the request's headers (in an error body, a retried error, or an error
/// event in the middle of the stream) gets none of them into a message.
#[tokio::test]
async fn header_values_are_redacted_from_every_error_like_the_key() {
    const TOKEN: &str = "proxy-SECRET-token-77";
    const BEARER: &str = "gw-SECRET-bearer-88";
    let echo_body = format!(
        r#"{{"type":"error","error":{{"type":"{{kind}}","message":"you sent {ECHO_HEADERS}"}}}}"#
    );
    let error_event = format!(
        "event: error\ndata: {}\n\n",
        echo_body.replace("{kind}", "invalid_request_error")
    );
    let server = FakeServer::start(vec![
        // A transient failure first: its message is the retry notice.
        echo_json_response(500, &echo_body.replace("{kind}", "api_error")),
        echo_json_response(400, &echo_body.replace("{kind}", "invalid_request_error")),
        vec![sse_head(&[]), Step::EchoChunk(error_event), Step::End],
    ])
    .await;
    let mut config = fast_config(Kind::Anthropic, &server.base_url());
    config.retries = Some(1);
    config.headers.insert("x-proxy-token".into(), TOKEN.into());
    config
        .headers
        .insert("x-gateway-auth".into(), format!("Bearer {BEARER}"));
    let env = env_with("ANTHROPIC_API_KEY", KEY);
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();

    let (status_error, chunks) = call(provider.as_ref(), Request::new("hi")).await;
    let (stream_error, _) = call(provider.as_ref(), Request::new("hi")).await;

    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].header("x-proxy-token"), Some(TOKEN));
    let retry_reasons: Vec<String> = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Retrying { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(retry_reasons.len(), 1, "{chunks:?}");
    let status_error = status_error.unwrap_err().to_string();
    let stream_error = stream_error.unwrap_err().to_string();
    for shown in [&retry_reasons[0], &status_error, &stream_error] {
        assert!(shown.contains("you sent"), "the echo is not shown: {shown}");
        assert!(shown.contains("x-proxy-token: ***"), "{shown}");
        for secret in [TOKEN, BEARER, KEY] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
    assert!(status_error.contains("HTTP 400"), "{status_error}");
}

/// A message quotes at most 300 characters of what the server sent; a
/// header value straddling that cut must not leave its first characters
/// behind (in an error body or in an error event of the stream).
#[tokio::test]
async fn a_snippet_never_cuts_through_a_header_value() {
    const TOKEN: &str = "proxy-SECRET-token-77";
    // Not JSON, so the message is a snippet; the cut falls inside TOKEN.
    let text = format!("{} {TOKEN} and more", "x".repeat(290));
    let server = FakeServer::start(vec![
        json_response(400, &[], &text),
        vec![
            sse_head(&[]),
            Step::Chunk(format!("event: error\ndata: {text}\n\n").into_bytes()),
            Step::End,
        ],
    ])
    .await;
    let mut config = fast_config(Kind::Anthropic, &server.base_url());
    config.retries = Some(0);
    config.headers.insert("x-proxy-token".into(), TOKEN.into());
    let env = env_with("ANTHROPIC_API_KEY", KEY);
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();
    for _ in 0..2 {
        let (result, _) = call(provider.as_ref(), Request::new("hi")).await;
        let shown = result.unwrap_err().to_string();
        assert!(shown.contains("xxxxx"), "the snippet is shown: {shown}");
        assert!(!shown.contains("proxy-SEC"), "a piece leaked: {shown}");
    }
    assert_eq!(server.requests().len(), 2);
}
