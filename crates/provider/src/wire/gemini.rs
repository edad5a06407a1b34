//! Gemini `models/{model}:streamGenerateContent?alt=sse`.
//!
//! Each event's data is a whole `GenerateContentResponse`: text in
//! `candidates[0].content.parts[].text` (parts marked `thought` are skipped),
//! `finishReason` on the last one, cumulative `usageMetadata`, `modelVersion`
//! and `responseId`. There is no end sentinel: the stream ends after the
//! chunk with a `finishReason` (or a `promptFeedback.blockReason`).

use eventsource_stream::Event;
use serde_json::{json, Map, Value};

use super::{error_message, json, string_at, u64_at, BodyParams, DecodeError, Summary};
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

impl super::Decoder for Decoder {
    fn event(&mut self, event: &Event) -> Result<Option<String>, DecodeError> {
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
