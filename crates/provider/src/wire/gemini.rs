//! Gemini `models/{model}:streamGenerateContent?alt=sse`.
//!
//! Each event's data is a whole `GenerateContentResponse`: text in
//! `candidates[0].content.parts[].text` (parts marked `thought` are skipped),
//! `finishReason` on the last one, cumulative `usageMetadata`, `modelVersion`
//! and `responseId`. There is no end sentinel: the stream ends after the
//! chunk with a `finishReason` (or a `promptFeedback.blockReason`).

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    error_message, json, keep, present, string_at, u64_at, BodyParams, DecodeError, First, Str,
    Summary,
};
use crate::sse::Event;
use crate::{Request, Usage};

pub(super) fn body(params: &BodyParams<'_>, request: &Request) -> Value {
    let mut body = Map::new();
    body.insert(
        "contents".into(),
        json!([{"role": "user", "parts": [{"text": request.prompt}]}]),
    );
    if let Some(system) = &request.system {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    let mut generation = Map::new();
    if let Some(max) = params.max_tokens {
        generation.insert("maxOutputTokens".into(), json!(max));
    }
    if let Some(temperature) = params.temperature {
        generation.insert("temperature".into(), json!(temperature));
    }
    if !generation.is_empty() {
        body.insert("generationConfig".into(), Value::Object(generation));
    }
    Value::Object(body)
}

#[derive(Default)]
pub(super) struct Decoder {
    finished: bool,
    id: Option<String>,
    model: Option<String>,
    usage: Usage,
    finish_reason: Option<String>,
}

/// A `GenerateContentResponse`, as much of it as is read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseWire<'a> {
    #[serde(default, deserialize_with = "present")]
    error: Option<IgnoredAny>,
    #[serde(borrow)]
    response_id: Option<Str<'a>>,
    #[serde(borrow)]
    model_version: Option<Str<'a>>,
    // Present but `null`, the `Value` code clears the usage: leave that to it.
    #[serde(default, deserialize_with = "present")]
    usage_metadata: Option<MetadataWire>,
    #[serde(borrow)]
    prompt_feedback: Option<FeedbackWire<'a>>,
    #[serde(borrow)]
    candidates: Option<First<CandidateWire<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetadataWire {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedbackWire<'a> {
    #[serde(borrow)]
    block_reason: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CandidateWire<'a> {
    #[serde(borrow)]
    finish_reason: Option<Str<'a>>,
    #[serde(borrow)]
    content: Option<ContentWire<'a>>,
}

#[derive(Deserialize)]
struct ContentWire<'a> {
    #[serde(borrow)]
    parts: Option<Vec<PartWire<'a>>>,
}

#[derive(Deserialize)]
struct PartWire<'a> {
    thought: Option<bool>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
}

impl Decoder {
    /// A response read into [`ResponseWire`]: the same steps as
    /// [`Decoder::value`].
    fn typed(&mut self, response: ResponseWire<'_>) -> Option<String> {
        keep(&mut self.id, response.response_id);
        keep(&mut self.model, response.model_version);
        if let Some(meta) = response.usage_metadata {
            let output = match (meta.candidates_token_count, meta.thoughts_token_count) {
                (None, None) => None,
                (answer, thoughts) => Some(answer.unwrap_or(0) + thoughts.unwrap_or(0)),
            };
            self.usage = Usage {
                input_tokens: meta.prompt_token_count,
                output_tokens: output,
                cached_tokens: meta.cached_content_token_count,
            };
        }
        if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
            self.finish_reason = Some(format!("blocked: {}", &*reason));
            self.finished = true;
        }
        let candidate = response.candidates?.0?;
        if let Some(reason) = candidate.finish_reason {
            self.finish_reason = Some(reason.0.into_owned());
            self.finished = true;
        }
        let text: String = candidate
            .content
            .and_then(|c| c.parts)
            .into_iter()
            .flatten()
            .filter(|part| part.thought != Some(true))
            .filter_map(|part| part.text)
            .map(|text| text.0)
            .collect();
        (!text.is_empty()).then_some(text)
    }

    /// Any response, errors included.
    fn value(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
        let data = json(event)?;
        if let Some((message, retryable)) = error_message(&data) {
            return Err(DecodeError::Vendor { message, retryable });
        }
        if let Some(id) = string_at(&data, "responseId") {
            self.id = Some(id);
        }
        if let Some(model) = string_at(&data, "modelVersion") {
            self.model = Some(model);
        }
        if let Some(meta) = data.get("usageMetadata") {
            let output = match (
                u64_at(meta, "candidatesTokenCount"),
                u64_at(meta, "thoughtsTokenCount"),
            ) {
                (None, None) => None,
                (answer, thoughts) => Some(answer.unwrap_or(0) + thoughts.unwrap_or(0)),
            };
            self.usage = Usage {
                input_tokens: u64_at(meta, "promptTokenCount"),
                output_tokens: output,
                cached_tokens: u64_at(meta, "cachedContentTokenCount"),
            };
        }
        if let Some(reason) = data
            .get("promptFeedback")
            .and_then(|f| f.get("blockReason"))
            .and_then(Value::as_str)
        {
            self.finish_reason = Some(format!("blocked: {reason}"));
            self.finished = true;
        }
        let Some(candidate) = data
            .get("candidates")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return Ok(None);
        };
        if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
            self.finished = true;
        }
        let parts = candidate
            .get("content")
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array);
        let text: String = parts
            .into_iter()
            .flatten()
            .filter(|part| part.get("thought").and_then(Value::as_bool) != Some(true))
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect();
        Ok((!text.is_empty()).then_some(text))
    }
}

impl super::Decoder for Decoder {
    fn event(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
        match serde_json::from_str::<ResponseWire>(&event.data) {
            Ok(response) if response.error.is_none() => Ok(self.typed(response)),
            _ => self.value(event),
        }
    }

    /// Gemini has no end event: "done" means a finish reason was seen; the
    /// caller reads on until the body ends.
    fn is_done(&self) -> bool {
        false
    }

    fn is_complete(&self) -> bool {
        self.finished
    }

    fn expected_end(&self) -> &'static str {
        "a chunk with finishReason"
    }

    fn summary(&self) -> Summary {
        Summary {
            usage: self.usage,
            stop_reason: self.finish_reason.clone(),
            model: self.model.clone(),
            message_id: self.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: &str = r#"{"candidates":[{"content":{"parts":[{"text":"Hel"},{"text":"lo"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10},"modelVersion":"gemini-2.5-flash","responseId":"r1"}"#;

    #[test]
    fn a_text_chunk_is_read_typed() {
        let wire: ResponseWire = serde_json::from_str(CHUNK).unwrap();
        assert!(wire.error.is_none());
        assert_eq!(Decoder::default().typed(wire), Some("Hello".to_string()));
    }

    #[test]
    fn typed_decoding_agrees_with_the_value_code() {
        let events: Vec<(&str, &str)> = [
            CHUNK,
            r#"{"candidates":[{"content":{"parts":[{"text":"thinking","thought":true},{"text":"\"a\"\n\u00e9"},{"thought":false,"text":"b"},{"inlineData":{}}]}}],"responseId":"r1"}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"x","thought":"yes"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":5}]}}]}"#,
            r#"{"candidates":[{"content":null}],"usageMetadata":{"promptTokenCount":8,"thoughtsTokenCount":3,"cachedContentTokenCount":2}}"#,
            r#"{"candidates":[],"modelVersion":"gemini-2.5-pro"}"#,
            r#"{"candidates":null}"#,
            r#"{"candidates":[null]}"#,
            r#"{"candidates":[{"content":{"parts":null}}]}"#,
            r#"{"usageMetadata":null}"#,
            r#"{"usageMetadata":{"promptTokenCount":"8"}}"#,
            r#"{"promptFeedback":null}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"end"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4}}"#,
            r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
            r#"{"error":null}"#,
            r#"[{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}]"#,
            r#"{"error":{"message":"bad","status":"INVALID_ARGUMENT"}}"#,
            "not json",
        ]
        .into_iter()
        .map(|data| ("message", data))
        .collect();
        super::super::assert_typed_agrees_with_value(Decoder::value, &events);
    }
}
