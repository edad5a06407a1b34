use std::path::Path;

use agentls_provider::{build, Kind, ProviderError, Request, Usage};

use crate::support::*;

/// A Chat Completions stream with `stream_options.include_usage`, as the
/// API reference documents the chunk objects.
pub const HELLO_STREAM: &[&str] = &[
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21,\"prompt_tokens_details\":{\"cached_tokens\":4,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n",
    "data: [DONE]\n\n",
];

pub fn hello_response() -> Vec<Step> {
    sse_response(&[("x-request-id", "req_7f3b2a")], HELLO_STREAM)
}

#[tokio::test]
async fn openai_streams_text_and_final_usage_until_done() {
    let server = FakeServer::start(vec![hello_response()]).await;
    let mut config = fast_config(Kind::Openai, &format!("{}/v1", server.base_url()));
    config.api_key_env = Some("OPENAI_API_KEY".into());
    config.model = Some("gpt-4.1".into());
    config.max_tokens = Some(100);
    let env = env_with("OPENAI_API_KEY", "sk-proj-test-0002");
    let provider = build("gpt", &config, &env, Path::new("/")).unwrap();

    let mut request = Request::new("Say hello");
    request.system = Some("Be brief.".into());
    let (result, chunks) = call(provider.as_ref(), request).await;
    let completion = result.unwrap();

    assert_eq!(texts(&chunks), ["Hello", " there"]);
    assert_eq!(completion.text, "Hello there");
    assert_eq!(
        completion.usage,
        Usage {
            input_tokens: Some(9),
            output_tokens: Some(12),
            cached_tokens: Some(4),
        }
    );
    assert_eq!(completion.stop_reason.as_deref(), Some("stop"));
    assert_eq!(completion.request_id.as_deref(), Some("req_7f3b2a"));
    assert_eq!(completion.model.as_deref(), Some("gpt-4.1-2025-04-14"));

    let seen = &server.requests()[0];
    assert_eq!(seen.target, "/v1/chat/completions");
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer sk-proj-test-0002")
    );
    assert_eq!(
        seen.json(),
        serde_json::json!({
            "model": "gpt-4.1",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Say hello"}
            ],
            "max_tokens": 100,
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[tokio::test]
async fn openai_compatible_server_without_key_gets_no_authorization() {
    let server = FakeServer::start(vec![hello_response()]).await;
    let mut config = fast_config(Kind::Openai, &format!("{}/v1/", server.base_url()));
    config.model = Some("llama3.2".into());
    let provider = build("ollama", &config, &|_| None, Path::new("/")).unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    assert_eq!(result.unwrap().text, "Hello there");
    let seen = &server.requests()[0];
    assert_eq!(seen.target, "/v1/chat/completions");
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.json()["model"], "llama3.2");
}

#[tokio::test]
async fn openai_error_object_mid_stream_fails_with_its_message() {
    let pieces = [
        HELLO_STREAM[1],
        "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
    ];
    let server = FakeServer::start(vec![sse_response(&[], &pieces)]).await;
    let mut config = fast_config(Kind::Openai, &format!("{}/v1", server.base_url()));
    config.model = Some("gpt-4.1".into());
    let provider = build("gpt", &config, &|_| None, Path::new("/")).unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    assert_eq!(texts(&chunks), ["Hello"]);
    let err = result.unwrap_err();
    assert!(matches!(err, ProviderError::Stream { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("server_error: The server had an error while processing your request."),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn openai_stream_cut_before_done_is_an_error() {
    let server = FakeServer::start(vec![sse_response(&[], &HELLO_STREAM[..2])]).await;
    let mut config = fast_config(Kind::Openai, &format!("{}/v1", server.base_url()));
    config.model = Some("gpt-4.1".into());
    let provider = build("gpt", &config, &|_| None, Path::new("/")).unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    let err = result.unwrap_err();
    assert!(matches!(err, ProviderError::Protocol { .. }), "{err:?}");
    assert!(
        err.to_string().contains("ended before data: [DONE]"),
        "{err}"
    );
}
