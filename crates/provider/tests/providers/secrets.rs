//! Keys: a missing one stops the call before any request; a present one
//! never shows in Debug output or error messages.

use std::path::Path;

use agentls_provider::{build, Kind, ProviderConfig, ProviderError, Request};

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
