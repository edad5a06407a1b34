//! OpenAI Chat Completions with `stream: true` and
//! `stream_options.include_usage`, also spoken by Ollama, llama.cpp and
//! vLLM.
//!
//! Each event's data is a `chat.completion.chunk`: text in
//! `choices[0].delta.content`, `finish_reason` on the last choice chunk, then
//! (with include_usage) one chunk with empty `choices` and the `usage`, then
//! the literal `[DONE]`. An `{"error": ...}` object can arrive mid-stream.
//!
//! Tool calls stream in `choices[0].delta.tool_calls`: the first piece of a
//! call has its `index`, `id`, `type` and `function.name`, the following
//! ones the same `index` and a fragment of `function.arguments` (a JSON
//! text); `finish_reason` is `tool_calls`. Compatible servers differ, and
//! all of these are read: the whole call in one delta, no `type`, no `id`
//! (one is made up, `call-N`, unique in the conversation), no `index` (a
//! piece with a new `id` or a `name` starts a call, others continue the
//! last), `arguments` as a JSON object rather than text, and
//! `finish_reason: stop` after tool calls.
//!
//! A conversation goes as `messages`: a model turn is an `assistant`
//! message with `tool_calls` (arguments as a JSON text), each result a
//! `tool` message with its `tool_call_id` (an error's text starts with
//! `Error: `, the format having no error flag). Tools go in `tools` as
//! `{"type": "function", "function": {name, description, parameters}}`.

use agentls_chat::{Message, ToolCall, ToolSpec};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::tools::{Ids, PartialCall};
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
    for message in request.conversation().iter() {
        push_message(&mut messages, message);
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(params.model));
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        body.insert(
            "tools".into(),
            request.tools.iter().map(tool).collect::<Vec<_>>().into(),
        );
    }
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

fn tool(spec: &ToolSpec) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters,
        },
    })
}

fn push_message(messages: &mut Vec<Value>, message: &Message) {
    match message {
        Message::User { text } => messages.push(json!({"role": "user", "content": text})),
        Message::Assistant { text, tool_calls } if tool_calls.is_empty() => {
            messages.push(json!({"role": "assistant", "content": text}));
        }
        Message::Assistant { text, tool_calls } => {
            // With tool calls and no text, `content` is null.
            let content = if text.is_empty() {
                Value::Null
            } else {
                json!(text)
            };
            messages.push(json!({
                "role": "assistant",
                "content": content,
                "tool_calls": tool_calls.iter().map(tool_call).collect::<Vec<_>>(),
            }));
        }
        Message::Tool { results } => {
            messages.extend(results.iter().map(|result| {
                let content = if result.is_error {
                    format!("Error: {}", result.content)
                } else {
                    result.content.clone()
                };
                json!({"role": "tool", "tool_call_id": result.call_id, "content": content})
            }));
        }
    }
}

fn tool_call(call: &ToolCall) -> Value {
    // Arguments that were not JSON go back as the model wrote them.
    let arguments = match &call.input {
        Value::String(raw) => raw.clone(),
        input => input.to_string(),
    };
    json!({
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    })
}

pub(super) struct Decoder {
    done: bool,
    id: Option<String>,
    model: Option<String>,
    usage: Usage,
    finish_reason: Option<String>,
    /// Tool calls with their `index` (`None` when the server sent none),
    /// in the order they started.
    calls: Vec<(Option<u64>, PartialCall)>,
    started: Vec<String>,
    ids: Ids,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(&[])
    }
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
    /// Present (even `null`): the chunk goes through the `Value` code.
    #[serde(default, deserialize_with = "present")]
    tool_calls: Option<IgnoredAny>,
}

impl ChunkWire<'_> {
    /// Whether the typed code reads all of this chunk that matters.
    fn is_plain(&self) -> bool {
        let tool_calls = self
            .choices
            .as_ref()
            .and_then(|c| c.0.as_ref())
            .and_then(|choice| choice.delta.as_ref())
            .is_some_and(|delta| delta.tool_calls.is_some());
        self.error.is_none() && !tool_calls
    }
}

impl Decoder {
    pub(super) fn new(conversation: &[Message]) -> Decoder {
        Decoder {
            done: false,
            id: None,
            model: None,
            usage: Usage::default(),
            finish_reason: None,
            calls: Vec::new(),
            started: Vec::new(),
            ids: Ids::new("call", conversation),
        }
    }

    /// One piece of `delta.tool_calls`.
    fn tool_piece(&mut self, piece: &Value) -> Result<(), DecodeError> {
        let index = piece.get("index").and_then(Value::as_u64);
        let id = string_at(piece, "id").filter(|id| !id.is_empty());
        let function = piece.get("function").unwrap_or(&Value::Null);
        let name = string_at(function, "name").filter(|name| !name.is_empty());
        let arguments = match function.get("arguments") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(object @ Value::Object(_)) => object.to_string(),
            Some(other) => {
                return Err(DecodeError::Malformed(format!(
                    "tool call arguments that are neither text nor an object: {}",
                    super::snippet(&other.to_string())
                )))
            }
        };
        let position = match index {
            Some(index) => self.calls.iter().position(|(at, _)| *at == Some(index)),
            None => match &id {
                Some(id) => self
                    .calls
                    .iter()
                    .position(|(_, call)| call.id.as_ref() == Some(id)),
                None if name.is_some() => None,
                None => self.calls.len().checked_sub(1),
            },
        };
        let call = match position {
            Some(position) => &mut self.calls[position].1,
            None => {
                self.calls.push((index, PartialCall::default()));
                &mut self.calls.last_mut().expect("just pushed").1
            }
        };
        if call.id.is_none() {
            call.id = id;
        }
        if let Some(name) = name {
            if call.name.is_empty() {
                self.started.push(name.clone());
                call.name = name;
            }
        }
        call.arguments.push_str(&arguments);
        Ok(())
    }

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
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(pieces) = delta.get("tool_calls").and_then(Value::as_array) {
            for piece in pieces {
                self.tool_piece(piece)?;
            }
        }
        Ok(string_at(delta, "content").filter(|t| !t.is_empty()))
    }
}

impl super::Decoder for Decoder {
    fn event(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
        if event.data.trim() == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        match serde_json::from_str::<ChunkWire>(&event.data) {
            Ok(chunk) if chunk.is_plain() => Ok(self.typed(chunk)),
            _ => self.value(event),
        }
    }

    fn take_started(&mut self) -> Vec<String> {
        std::mem::take(&mut self.started)
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
            tool_calls: self.ids.finish(self.calls.iter().map(|(_, call)| call)),
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
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"read_file","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\": \"a.rs\"}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"content":"t","tool_calls":null}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"list_files","arguments":{"glob":"*.rs"}}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":2,"function":{"arguments":7}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":"odd"}}]}"#,
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
