//! Anthropic Messages API with `stream: true`.
//!
//! Events: `message_start` (id, model, input usage), `content_block_start`
//! (a `text` block, or a `tool_use` block with the call's id and name),
//! `content_block_delta` (`text_delta` carries text, `input_json_delta` a
//! piece of a tool call's arguments as `partial_json`; thinking deltas are
//! skipped), `content_block_stop`, `message_delta` (stop reason, `tool_use`
//! when the model calls tools, and cumulative output usage),
//! `message_stop` (the end), `ping`, and `error`, which can arrive after
//! the 200. Unknown event types are ignored, as the API's versioning policy
//! asks.
//!
//! A conversation goes as `messages`: the user's text as a string, a model
//! turn as `text` and `tool_use` content blocks, tool results as
//! `tool_result` blocks in a user message. Tools go in `tools` with their
//! JSON Schema as `input_schema`.

use agentls_chat::{Message, ToolCall, ToolResult, ToolSpec};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::tools::PartialCall;
use super::{error_message, json, string_at, u64_at, BodyParams, DecodeError, Str, Summary};
use crate::sse::Event;
use crate::{Request, Usage, DEFAULT_ANTHROPIC_MAX_TOKENS};

pub(super) fn body(params: &BodyParams<'_>, request: &Request) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(params.model));
    body.insert(
        "max_tokens".into(),
        json!(params.max_tokens.unwrap_or(DEFAULT_ANTHROPIC_MAX_TOKENS)),
    );
    if let Some(system) = &request.system {
        body.insert("system".into(), json!(system));
    }
    let messages: Vec<Value> = request.conversation().iter().filter_map(message).collect();
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        body.insert(
            "tools".into(),
            request.tools.iter().map(tool).collect::<Vec<_>>().into(),
        );
    }
    if let Some(temperature) = params.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    body.insert("stream".into(), json!(true));
    Value::Object(body)
}

fn tool(spec: &ToolSpec) -> Value {
    json!({
        "name": spec.name,
        "description": spec.description,
        "input_schema": spec.parameters,
    })
}

/// One message of the conversation; `None` for a model turn with neither
/// text nor calls (the API refuses empty content).
fn message(message: &Message) -> Option<Value> {
    Some(match message {
        Message::User { text } => json!({"role": "user", "content": text}),
        Message::Assistant { text, tool_calls } => {
            let mut content = Vec::new();
            if !text.is_empty() {
                content.push(json!({"type": "text", "text": text}));
            }
            content.extend(tool_calls.iter().map(tool_use));
            if content.is_empty() {
                return None;
            }
            json!({"role": "assistant", "content": content})
        }
        Message::Tool { results } => json!({
            "role": "user",
            "content": results.iter().map(tool_result).collect::<Vec<_>>(),
        }),
    })
}

fn tool_use(call: &ToolCall) -> Value {
    // `input` must be an object: arguments that were not one go back as
    // none (the call's result says what was wrong with them).
    let input = if call.input.is_object() {
        call.input.clone()
    } else {
        json!({})
    };
    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input})
}

fn tool_result(result: &ToolResult) -> Value {
    let mut block = json!({
        "type": "tool_result",
        "tool_use_id": result.call_id,
        "content": result.content,
    });
    if result.is_error {
        block["is_error"] = json!(true);
    }
    block
}

#[derive(Default)]
pub(super) struct Decoder {
    done: bool,
    id: Option<String>,
    model: Option<String>,
    input_tokens: Option<u64>,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
    output_tokens: Option<u64>,
    stop_reason: Option<String>,
    /// Tool calls by content block index, in the order they started.
    calls: Vec<(u64, PartialCall)>,
    started: Vec<String>,
}

impl Decoder {
    /// Usage objects appear in `message_start` and (cumulative) in
    /// `message_delta`; later values win.
    fn take_usage(&mut self, usage: Option<&Value>) {
        let Some(usage) = usage else { return };
        let keep = |slot: &mut Option<u64>, key| {
            if let Some(n) = u64_at(usage, key) {
                *slot = Some(n);
            }
        };
        keep(&mut self.input_tokens, "input_tokens");
        keep(&mut self.cache_read, "cache_read_input_tokens");
        keep(&mut self.cache_creation, "cache_creation_input_tokens");
        keep(&mut self.output_tokens, "output_tokens");
    }
}

/// What is read of an event to handle a `content_block_delta`, the event
/// of which an answer has thousands.
#[derive(Deserialize)]
struct EventWire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    delta: Option<DeltaWire<'a>>,
}

#[derive(Deserialize)]
struct DeltaWire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
}

impl Decoder {
    /// A `content_block_delta` read into [`EventWire`]: what
    /// [`Decoder::value`] makes of it; `None` for other events.
    fn typed(
        &mut self,
        wire: EventWire<'_>,
        event: &Event<'_>,
    ) -> Option<Result<Option<String>, DecodeError>> {
        if wire.kind.as_deref().unwrap_or(event.event) != "content_block_delta" {
            return None;
        }
        let Some(delta) = wire.delta else {
            return Some(Ok(None));
        };
        // Tool arguments (and thinking) go through the `Value` code.
        if delta.kind.as_deref() != Some("text_delta") {
            return None;
        }
        Some(match delta.text {
            Some(text) => Ok(Some(text.0.into_owned())),
            None => Err(DecodeError::Malformed(
                "a text_delta without text".to_string(),
            )),
        })
    }

    /// Any event.
    fn value(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
        let data = json(event)?;
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(event.event);
        match kind {
            "message_start" => {
                let message = data.get("message").unwrap_or(&Value::Null);
                self.id = string_at(message, "id");
                self.model = string_at(message, "model");
                self.take_usage(message.get("usage"));
            }
            "content_block_start" => {
                let block = data.get("content_block").unwrap_or(&Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => return Ok(string_at(block, "text").filter(|t| !t.is_empty())),
                    Some("tool_use") => self.start_call(&data, block)?,
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = data.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        return match string_at(delta, "text") {
                            Some(text) => Ok(Some(text)),
                            None => Err(DecodeError::Malformed(
                                "a text_delta without text".to_string(),
                            )),
                        };
                    }
                    Some("input_json_delta") => self.add_arguments(&data, delta)?,
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = data
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                {
                    self.stop_reason = Some(reason.to_string());
                }
                self.take_usage(data.get("usage"));
            }
            "message_stop" => self.done = true,
            "error" => {
                let (message, retryable) =
                    error_message(&data).unwrap_or_else(|| (super::snippet(&event.data), false));
                return Err(DecodeError::Vendor { message, retryable });
            }
            // ping, content_block_stop, and event types added later.
            _ => {}
        }
        Ok(None)
    }
}

impl Decoder {
    fn start_call(&mut self, data: &Value, block: &Value) -> Result<(), DecodeError> {
        let (Some(index), Some(id), Some(name)) = (
            data.get("index").and_then(Value::as_u64),
            string_at(block, "id"),
            string_at(block, "name"),
        ) else {
            return Err(DecodeError::Malformed(format!(
                "a tool_use block without index, id or name: {}",
                super::snippet(&data.to_string())
            )));
        };
        self.started.push(name.clone());
        self.calls.push((
            index,
            PartialCall {
                id: Some(id),
                name,
                input: block.get("input").cloned(),
                ..PartialCall::default()
            },
        ));
        Ok(())
    }

    fn add_arguments(&mut self, data: &Value, delta: &Value) -> Result<(), DecodeError> {
        let index = data.get("index").and_then(Value::as_u64);
        let call = self
            .calls
            .iter_mut()
            .find(|(at, _)| Some(*at) == index)
            .map(|(_, call)| call)
            .ok_or_else(|| {
                DecodeError::Malformed(format!(
                    "an input_json_delta for content block {index:?}, which is no tool_use block"
                ))
            })?;
        match delta.get("partial_json").and_then(Value::as_str) {
            Some(piece) => {
                call.arguments.push_str(piece);
                Ok(())
            }
            None => Err(DecodeError::Malformed(
                "an input_json_delta without partial_json".to_string(),
            )),
        }
    }
}

impl super::Decoder for Decoder {
    fn event(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
        // Text deltas read typed; every other event (and a delta of an
        // unexpected shape) through the `Value` code.
        serde_json::from_str::<EventWire>(&event.data)
            .ok()
            .and_then(|wire| self.typed(wire, event))
            .unwrap_or_else(|| self.value(event))
    }

    fn take_started(&mut self) -> Vec<String> {
        std::mem::take(&mut self.started)
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn expected_end(&self) -> &'static str {
        "message_stop"
    }

    fn summary(&self) -> Summary {
        let cached = self.cache_read;
        let input = self
            .input_tokens
            .map(|n| n + self.cache_read.unwrap_or(0) + self.cache_creation.unwrap_or(0));
        Summary {
            // Every tool_use block has the id the API gave it.
            tool_calls: self
                .calls
                .iter()
                .map(|(_, call)| call.finish(String::new))
                .collect(),
            usage: Usage {
                input_tokens: input,
                output_tokens: self.output_tokens,
                cached_tokens: cached,
            },
            stop_reason: self.stop_reason.clone(),
            model: self.model.clone(),
            message_id: self.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELTA: &str =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#;

    #[test]
    fn a_text_delta_is_read_typed() {
        let wire: EventWire = serde_json::from_str(DELTA).unwrap();
        let event = Event {
            event: "content_block_delta",
            data: DELTA.into(),
        };
        let typed = Decoder::default().typed(wire, &event);
        assert_eq!(typed, Some(Ok(Some("Hello".to_string()))));
    }

    #[test]
    fn typed_decoding_agrees_with_the_value_code() {
        let events = [
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":25,"cache_read_input_tokens":10,"output_tokens":1}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}"#,
            ),
            ("ping", r#"{"type":"ping"}"#),
            ("content_block_delta", DELTA),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"\"q\"\n\u00e9"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"delta":{"type":"text_delta","text":"no type, the event name says it"}}"#,
            ),
            (
                "message",
                r#"{"delta":{"type":"text_delta","text":"neither"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":null}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"{"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"hm"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":"odd"}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":5,"delta":{"type":"text_delta","text":"t"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":null}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":7}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","delta":{"type":"text_delta"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read_file","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\":"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"a.rs\"}"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta"}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","name":"no_id"}}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            ),
            (
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
            ("content_block_delta", "not json"),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ];
        super::super::assert_typed_agrees_with_value(Decoder::value, &events);
    }

    #[test]
    fn tool_use_blocks_become_calls_with_their_arguments_joined() {
        use super::super::Decoder as _;
        let mut decoder = Decoder::default();
        let events = [
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Look."}}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"read_file","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"list_files","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":".rs\"}"}}"#,
        ];
        let mut started = Vec::new();
        for data in events {
            let event = Event {
                event: "message",
                data: data.into(),
            };
            decoder.event(&event).unwrap();
            started.extend(decoder.take_started());
        }
        assert_eq!(started, ["read_file", "list_files"]);
        let calls = decoder.summary().tool_calls;
        let calls: Vec<(&str, &str, &Value)> = calls
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), &c.input))
            .collect();
        assert_eq!(
            calls,
            [
                ("toolu_a", "read_file", &json!({"path": "a.rs"})),
                ("toolu_b", "list_files", &json!({}))
            ]
        );
    }

    #[test]
    fn arguments_for_a_block_that_is_no_tool_use_are_malformed() {
        use super::super::Decoder as _;
        let event = Event {
            event: "content_block_delta",
            data: r#"{"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#.into(),
        };
        assert!(matches!(
            Decoder::default().event(&event),
            Err(DecodeError::Malformed(m)) if m.contains("content block Some(4)")
        ));
    }
}
