//! OpenAI Chat Completions with `stream: true` and
//! `stream_options.include_usage`, also spoken by Ollama, llama.cpp and
//! vLLM.
//!
//! Each event's data is a `chat.completion.chunk`: text in
//! `choices[0].delta.content`, `finish_reason` on the last choice chunk, then
//! (with include_usage) one chunk with empty `choices` and the `usage`, then
//! the literal `[DONE]`. An `{"error": ...}` object can arrive mid-stream.

use eventsource_stream::Event;
use serde_json::{json, Map, Value};

use super::{error_message, json, string_at, u64_at, BodyParams, DecodeError, Summary};
use crate::{Request, Usage};

pub(super) fn body(params: &BodyParams<'_>, request: &Request) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": request.prompt}));
    let mut body = Map::new();
    body.insert("model".into(), json!(params.model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(max) = params.max_tokens {
        let key = if params.openai_official {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(key.into(), json!(max));
    }
    if let Some(temperature) = params.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
    Value::Object(body)
}

#[derive(Default)]
pub(super) struct Decoder {
    done: bool,
    id: Option<String>,
    model: Option<String>,
    usage: Usage,
    finish_reason: Option<String>,
}

impl super::Decoder for Decoder {
    fn event(&mut self, event: &Event) -> Result<Option<String>, DecodeError> {
        if event.data.trim() == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let data = json(event)?;
        if let Some((message, retryable)) = error_message(&data) {
            return Err(DecodeError::Vendor { message, retryable });
        }
        if self.id.is_none() {
            self.id = string_at(&data, "id");
        }
        if let Some(model) = string_at(&data, "model") {
            self.model = Some(model);
        }
        if let Some(usage) = data.get("usage").filter(|u| u.is_object()) {
            self.usage = Usage {
                input_tokens: u64_at(usage, "prompt_tokens"),
                output_tokens: u64_at(usage, "completion_tokens"),
                cached_tokens: usage
                    .get("prompt_tokens_details")
                    .and_then(|d| u64_at(d, "cached_tokens")),
            };
        }
        let Some(choice) = data
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return Ok(None);
        };
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        Ok(choice
            .get("delta")
            .and_then(|d| string_at(d, "content"))
            .filter(|t| !t.is_empty()))
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// Some compatible servers end the body without `[DONE]`; an answer
    /// with a finish reason is whole all the same.
    fn is_complete(&self) -> bool {
        self.done || self.finish_reason.is_some()
    }

    fn expected_end(&self) -> &'static str {
        "data: [DONE]"
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
