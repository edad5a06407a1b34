//! OpenAI Chat Completions with `stream: true` and
//! `stream_options.include_usage`, also spoken by Ollama, llama.cpp and
//! vLLM.
//!
//! Each event's data is a `chat.completion.chunk`: text in
//! `choices[0].delta.content`, `finish_reason` on the last choice chunk, then
//! (with include_usage) one chunk with empty `choices` and the `usage`, then
//! the literal `[DONE]`. An `{"error": ...}` object can arrive mid-stream.

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

/// A `chat.completion.chunk`, as much of it as is read.
#[derive(Deserialize)]
struct ChunkWire<'a> {
    #[serde(default, deserialize_with = "present")]
    error: Option<IgnoredAny>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    model: Option<Str<'a>>,
    usage: Option<UsageWire>,
    #[serde(borrow)]
    choices: Option<First<ChoiceWire<'a>>>,
}

#[derive(Deserialize)]
struct UsageWire {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<DetailsWire>,
}

#[derive(Deserialize)]
struct DetailsWire {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ChoiceWire<'a> {
    #[serde(borrow)]
    finish_reason: Option<Str<'a>>,
    #[serde(borrow)]
    delta: Option<DeltaWire<'a>>,
}

#[derive(Deserialize)]
struct DeltaWire<'a> {
    #[serde(borrow)]
    content: Option<Str<'a>>,
}

impl Decoder {
    /// A chunk read into [`ChunkWire`]: the same steps as [`Decoder::value`].
    fn typed(&mut self, chunk: ChunkWire<'_>) -> Option<String> {
        if self.id.is_none() {
            self.id = chunk.id.map(|id| id.0.into_owned());
        }
        keep(&mut self.model, chunk.model);
        if let Some(usage) = chunk.usage {
            self.usage = Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
                cached_tokens: usage.prompt_tokens_details.and_then(|d| d.cached_tokens),
            };
        }
        let choice = chunk.choices?.0?;
        if let Some(reason) = choice.finish_reason {
            self.finish_reason = Some(reason.0.into_owned());
        }
        choice
            .delta?
            .content
            .filter(|t| !t.is_empty())
            .map(|t| t.0.into_owned())
    }

    /// Any chunk, errors included.
    fn value(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
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
}

impl super::Decoder for Decoder {
    fn event(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
        if event.data.trim() == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        match serde_json::from_str::<ChunkWire>(&event.data) {
            Ok(chunk) if chunk.error.is_none() => Ok(self.typed(chunk)),
            _ => self.value(event),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const DELTA: &str = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":" tok1"},"logprobs":null,"finish_reason":null}],"usage":null}"#;

    #[test]
    fn a_text_delta_is_read_typed() {
        let chunk: ChunkWire = serde_json::from_str(DELTA).unwrap();
        assert!(chunk.error.is_none());
        let text = chunk
            .choices
            .unwrap()
            .0
            .unwrap()
            .delta
            .unwrap()
            .content
            .unwrap();
        assert!(matches!(text.0, std::borrow::Cow::Borrowed(" tok1")));
    }

    #[test]
    fn typed_decoding_agrees_with_the_value_code() {
        let events: Vec<(&str, &str)> = [
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
            DELTA,
            r#"{"id":"c1","model":"gpt-4.1","choices":[{"delta":{"content":"He said \"hi\"\n\u00e9"}}]}"#,
            r#"{"id":"c2","model":"gpt-4.1-mini","choices":[{"delta":{"content":"x"}},{"delta":{"content":"second"}}]}"#,
            r#"{"choices":null}"#,
            r#"{"choices":[]}"#,
            r#"{"choices":[null]}"#,
            r#"{"choices":[{"delta":null,"finish_reason":7}]}"#,
            r#"{"choices":{"0":{"delta":{"content":"y"}}}}"#,
            r#"{"id":5,"model":null,"choices":[{"delta":{"content":5}}]}"#,
            r#"{"model":"a","model":"b"}"#,
            r#"{"usage":{"prompt_tokens":-1,"completion_tokens":2.5}}"#,
            r#"{"usage":"n/a"}"#,
            r#"{"usage":{"prompt_tokens_details":null}}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":4}}}"#,
            r#"{"error":null}"#,
            r#"{"error":"plain"}"#,
            r#"{"error":{"message":"boom","type":"server_error"},"choices":[{"delta":{"content":"z"}}]}"#,
            r#"[{"error":{"message":"m"}}]"#,
            r#"[]"#,
            r#""text""#,
            "not json",
        ]
        .into_iter()
        .map(|data| ("message", data))
        .collect();
        super::super::assert_typed_agrees_with_value(Decoder::value, &events);
    }
}
