use std::path::Path;

use agentls_provider::{build, Kind, Request, Usage};

use crate::support::*;

/// `streamGenerateContent?alt=sse` as the Gemini API sends it: one
/// `GenerateContentResponse` per event, CRLF line ends, cumulative usage.
pub const HELLO_STREAM: &[&str] = &[
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hello\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"totalTokenCount\": 8,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 8}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"mF9vaKqGLtW7nvgPkOSx8Qc\"}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"**thinking**\", \"thought\": true}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"totalTokenCount\": 8},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"mF9vaKqGLtW7nvgPkOSx8Qc\"}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" from\"}, {\"text\": \" Gemini\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": 3,\"totalTokenCount\": 16,\"cachedContentTokenCount\": 2,\"thoughtsTokenCount\": 5},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"mF9vaKqGLtW7nvgPkOSx8Qc\"}\r\n\r\n",
];

pub fn hello_response() -> Vec<Step> {
    sse_response(&[], HELLO_STREAM)
}

#[tokio::test]
async fn gemini_streams_parts_and_usage_metadata() {
    let server = FakeServer::start(vec![hello_response()]).await;
    let mut config = fast_config(Kind::Gemini, &format!("{}/v1beta", server.base_url()));
    config.max_tokens = Some(256);
    let env = env_with("GEMINI_API_KEY", "AIzaSy-test-key-0003");
    let provider = build("gemini", &config, &env, Path::new("/")).unwrap();

    let mut request = Request::new("Say hello");
    request.system = Some("Be brief.".into());
    let (result, chunks) = call(provider.as_ref(), request).await;
    let completion = result.unwrap();

    assert_eq!(texts(&chunks), ["Hello", " from Gemini"]);
    assert_eq!(completion.text, "Hello from Gemini");
    assert_eq!(
        completion.usage,
        Usage {
            input_tokens: Some(8),
            output_tokens: Some(8),
            cached_tokens: Some(2),
        }
    );
    assert_eq!(completion.stop_reason.as_deref(), Some("STOP"));
    assert_eq!(
        completion.request_id.as_deref(),
        Some("mF9vaKqGLtW7nvgPkOSx8Qc")
    );
    assert_eq!(completion.model.as_deref(), Some("gemini-2.5-flash"));

    let seen = &server.requests()[0];
    assert_eq!(
        seen.target,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(seen.header("x-goog-api-key"), Some("AIzaSy-test-key-0003"));
    assert_eq!(
        seen.json(),
        serde_json::json!({
            "contents": [{"role": "user", "parts": [{"text": "Say hello"}]}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"maxOutputTokens": 256}
        })
    );
}
