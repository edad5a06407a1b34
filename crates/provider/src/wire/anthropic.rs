//! Anthropic Messages API with `stream: true`.
//!
//! Events: `message_start` (id, model, input usage), `content_block_start`,
//! `content_block_delta` (`text_delta` carries text; thinking and tool
//! deltas are skipped), `content_block_stop`, `message_delta` (stop reason,
//! cumulative output usage), `message_stop` (the end), `ping`, and `error`,
//! which can arrive after the 200. Unknown event types are ignored, as the
//! API's versioning policy asks.

use serde::Deserialize;
use serde_json::{json, Map, Value};

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
    body.insert(
        "messages".into(),
        json!([{"role": "user", "content": request.prompt}]),
    );
    if let Some(temperature) = params.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    body.insert("stream".into(), json!(true));
    Value::Object(body)
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
        if delta.kind.as_deref() != Some("text_delta") {
            return Some(Ok(None));
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
                if block.get("type").and_then(Value::as_str) == Some("text") {
                    return Ok(string_at(block, "text").filter(|t| !t.is_empty()));
                }
            }
            "content_block_delta" => {
                let delta = data.get("delta").unwrap_or(&Value::Null);
                if delta.get("type").and_then(Value::as_str) == Some("text_delta") {
                    return match string_at(delta, "text") {
                        Some(text) => Ok(Some(text)),
                        None => Err(DecodeError::Malformed(
                            "a text_delta without text".to_string(),
                        )),
                    };
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

impl super::Decoder for Decoder {
    fn event(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError> {
        // Text deltas read typed; every other event (and a delta of an
        // unexpected shape) through the `Value` code.
        serde_json::from_str::<EventWire>(&event.data)
            .ok()
            .and_then(|wire| self.typed(wire, event))
            .unwrap_or_else(|| self.value(event))
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
}
