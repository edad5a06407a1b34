use std::path::Path;
use std::time::Duration;

use agentls_provider::{build, Chunk, Kind, ProviderError, Request, Usage};

use crate::support::*;

/// The stream of the Messages API documentation ("Basic streaming
/// request"), with cache usage added to `message_start`.
pub const HELLO_STREAM: &[&str] = &[
    "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {\"id\": \"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\", \"type\": \"message\", \"role\": \"assistant\", \"content\": [], \"model\": \"claude-sonnet-4-5-20250929\", \"stop_reason\": null, \"stop_sequence\": null, \"usage\": {\"input_tokens\": 25, \"cache_creation_input_tokens\": 0, \"cache_read_input_tokens\": 10, \"output_tokens\": 1}}}\n\n",
    "event: content_block_start\ndata: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\"type\": \"text\", \"text\": \"\"}}\n\n",
    "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"Hello\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"!\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\": \"content_block_stop\", \"index\": 0}\n\n",
    "event: message_delta\ndata: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"end_turn\", \"stop_sequence\":null}, \"usage\": {\"output_tokens\": 15}}\n\n",
    "event: message_stop\ndata: {\"type\": \"message_stop\"}\n\n",
];

pub const REQUEST_ID: &str = "req_018EeWyXxfu5pfWkrYcMdjWG";

pub fn hello_response() -> Vec<Step> {
    sse_response(&[("request-id", REQUEST_ID)], HELLO_STREAM)
}

#[tokio::test]
async fn anthropic_streams_text_usage_stop_reason_and_request_id() {
    let server = FakeServer::start(vec![hello_response()]).await;
    let mut config = fast_config(Kind::Anthropic, &server.base_url());
    config.model = Some("claude-sonnet-4-5".into());
    config.temperature = Some(0.5);
    let env = env_with("ANTHROPIC_API_KEY", "sk-ant-test-key-0001");
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();

    let mut request = Request::new("Say hello");
    request.system = Some("Be brief.".into());
    let (result, chunks) = call(provider.as_ref(), request).await;
    let completion = result.unwrap();

    assert_eq!(texts(&chunks), ["Hello", "!"]);
    assert_eq!(completion.text, "Hello!");
    assert_eq!(
        completion.usage,
        Usage {
            input_tokens: Some(35),
            output_tokens: Some(15),
            cached_tokens: Some(10),
        }
    );
    assert_eq!(completion.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(completion.request_id.as_deref(), Some(REQUEST_ID));
    assert_eq!(
        completion.model.as_deref(),
        Some("claude-sonnet-4-5-20250929")
    );
    assert_eq!(completion.attempts, 1);
    assert!(completion.first_chunk.is_some());

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some("sk-ant-test-key-0001"));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        serde_json::json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 8192,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "Say hello"}],
            "temperature": 0.5,
            "stream": true
        })
    );
}

#[tokio::test]
async fn anthropic_error_event_after_text_fails_with_the_vendor_message() {
    let mut pieces = HELLO_STREAM[..4].to_vec();
    pieces.push(
        "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n",
    );
    let server = FakeServer::start(vec![sse_response(&[("request-id", "req_err")], &pieces)]).await;
    let mut config = fast_config(Kind::Anthropic, &server.base_url());
    config.retries = Some(3);
    let env = env_with("ANTHROPIC_API_KEY", "sk-ant-test-key-0001");
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    assert_eq!(texts(&chunks), ["Hello"]);
    let err = result.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Stream { attempts: 1, request_id: Some(id), .. } if id == "req_err"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("overloaded_error: Overloaded"),
        "{err}"
    );
    // Text had streamed: no retry, even though overloaded is transient.
    assert_eq!(server.requests().len(), 1);
    assert!(!chunks.iter().any(|c| matches!(c, Chunk::Retrying { .. })));
}

#[tokio::test]
async fn anthropic_error_event_before_any_text_is_retried() {
    let overloaded = sse_response(
        &[],
        &[
            HELLO_STREAM[0],
            "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n",
        ],
    );
    let server = FakeServer::start(vec![overloaded, hello_response()]).await;
    let config = fast_config(Kind::Anthropic, &server.base_url());
    let env = env_with("ANTHROPIC_API_KEY", "sk-ant-test-key-0001");
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();

    let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;

    let completion = result.unwrap();
    assert_eq!(completion.text, "Hello!");
    assert_eq!(completion.attempts, 2);
    assert_eq!(server.requests().len(), 2);
    assert!(
        matches!(chunks[0], Chunk::Retrying { attempt: 2, .. }),
        "{chunks:?}"
    );
}

#[tokio::test]
async fn anthropic_stream_split_inside_utf8_characters_decodes_at_every_boundary() {
    let text = "h\u{e9}llo \u{1F600} \u{4e16}";
    let event = format!(
        "event: content_block_delta\ndata: {{\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {{\"type\": \"text_delta\", \"text\": \"{text}\"}}}}\n\n"
    );
    // Every cut strictly inside a multi-byte character of the event.
    let cuts: Vec<usize> = event
        .char_indices()
        .filter(|(_, c)| c.len_utf8() > 1)
        .flat_map(|(at, c)| (1..c.len_utf8()).map(move |k| at + k))
        .collect();
    assert_eq!(cuts.len(), 1 + 3 + 2);

    let scripts = cuts
        .iter()
        .map(|&cut| {
            let bytes = event.as_bytes();
            let mut steps = vec![sse_head(&[])];
            for piece in &HELLO_STREAM[..2] {
                steps.push(Step::Chunk(piece.as_bytes().to_vec()));
            }
            // The pause makes the two halves arrive in separate reads.
            steps.push(Step::Chunk(bytes[..cut].to_vec()));
            steps.push(Step::Pause(Duration::from_millis(20)));
            steps.push(Step::Chunk(bytes[cut..].to_vec()));
            for piece in &HELLO_STREAM[5..] {
                steps.push(Step::Chunk(piece.as_bytes().to_vec()));
            }
            steps.push(Step::End);
            steps
        })
        .collect();
    let server = FakeServer::start(scripts).await;
    let config = fast_config(Kind::Anthropic, &server.base_url());
    let env = env_with("ANTHROPIC_API_KEY", "sk-ant-test-key-0001");
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();

    for cut in cuts {
        let (result, chunks) = call(provider.as_ref(), Request::new("hi")).await;
        assert_eq!(result.unwrap().text, text, "cut at byte {cut}");
        assert_eq!(texts(&chunks), [text], "cut at byte {cut}");
    }
}

#[tokio::test]
async fn anthropic_stream_sent_one_byte_per_http_chunk_decodes() {
    let mut steps = vec![sse_head(&[])];
    for piece in HELLO_STREAM {
        let piece = piece.replace("Hello", "H\u{e9}llo \u{1F600}");
        steps.extend(piece.bytes().map(|b| Step::Chunk(vec![b])));
    }
    steps.push(Step::End);
    let server = FakeServer::start(vec![steps]).await;
    let config = fast_config(Kind::Anthropic, &server.base_url());
    let env = env_with("ANTHROPIC_API_KEY", "sk-ant-test-key-0001");
    let provider = build("claude", &config, &env, Path::new("/")).unwrap();

    let (result, _) = call(provider.as_ref(), Request::new("hi")).await;

    assert_eq!(result.unwrap().text, "H\u{e9}llo \u{1F600}!");
}
