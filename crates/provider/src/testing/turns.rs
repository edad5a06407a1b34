//! Model turns in each vendor's streaming format: what a fake server sends
//! when a test scripts an agent loop (text, then tool calls whose arguments
//! stream in pieces), byte for byte as the vendors document their streams.

use serde_json::{json, Value};

use super::{fast_config, sse_response, FakeServer, Step};
use crate::{Kind, ProviderConfig, Usage};

/// One model turn: text pieces as they stream, then tool calls.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Turn {
    /// The text, one piece per delta.
    pub text: Vec<String>,
    /// The tool calls, in order.
    pub calls: Vec<Call>,
}

/// A tool call of a scripted [`Turn`].
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The vendor's id (not sent by Gemini, which has none).
    pub id: String,
    pub name: String,
    /// The arguments' JSON text, one piece per delta (Gemini sends them
    /// whole, parsed).
    pub arguments: Vec<String>,
    /// Gemini's `thoughtSignature`, sent beside the call.
    pub signature: Option<String>,
}

impl Turn {
    /// A turn of text pieces and no tool call.
    pub fn text(pieces: &[&str]) -> Turn {
        Turn {
            text: pieces.iter().map(|p| p.to_string()).collect(),
            calls: Vec::new(),
        }
    }

    /// Adds a tool call whose arguments stream as `arguments`.
    pub fn call(mut self, id: &str, name: &str, arguments: &[&str]) -> Turn {
        self.calls.push(Call {
            id: id.to_string(),
            name: name.to_string(),
            arguments: arguments.iter().map(|a| a.to_string()).collect(),
            signature: None,
        });
        self
    }

    /// Gives the last call a `thoughtSignature` (Gemini).
    pub fn signed(mut self, signature: &str) -> Turn {
        if let Some(call) = self.calls.last_mut() {
            call.signature = Some(signature.to_string());
        }
        self
    }
}

/// A vendor's streaming format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Anthropic,
    Openai,
    Gemini,
}

impl Wire {
    /// The three.
    pub const ALL: [Wire; 3] = [Wire::Anthropic, Wire::Openai, Wire::Gemini];

    /// The provider kind that speaks it.
    pub fn kind(self) -> Kind {
        match self {
            Wire::Anthropic => Kind::Anthropic,
            Wire::Openai => Kind::Openai,
            Wire::Gemini => Kind::Gemini,
        }
    }

    /// The variable its key is read from, and the test key in it.
    pub fn key(self) -> (&'static str, &'static str) {
        match self {
            Wire::Anthropic => ("ANTHROPIC_API_KEY", "sk-ant-test-key-0001"),
            Wire::Openai => ("OPENAI_API_KEY", "sk-proj-test-key-0002"),
            Wire::Gemini => ("GEMINI_API_KEY", "AIzaSy-test-key-0003"),
        }
    }

    /// An environment holding [`Wire::key`].
    pub fn env(self) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let (var, value) = self.key();
        move |name: &str| (name == var).then(|| value.to_string())
    }

    /// A provider of this kind pointed at `server`, fast retries, reading
    /// [`Wire::key`].
    pub fn config(self, server: &FakeServer) -> ProviderConfig {
        let base = server.base_url();
        match self {
            Wire::Anthropic => fast_config(Kind::Anthropic, &base),
            Wire::Openai => {
                let mut config = fast_config(Kind::Openai, &format!("{base}/v1"));
                config.model = Some("gpt-4.1".into());
                config.api_key_env = Some("OPENAI_API_KEY".into());
                config
            }
            Wire::Gemini => fast_config(Kind::Gemini, &format!("{base}/v1beta")),
        }
    }

    /// The usage every turn of [`Wire::events`] reports, as agentls reads it.
    pub fn usage(self) -> Usage {
        match self {
            Wire::Anthropic => Usage {
                input_tokens: Some(472),
                output_tokens: Some(89),
                cached_tokens: Some(0),
            },
            Wire::Openai => Usage {
                input_tokens: Some(82),
                output_tokens: Some(18),
                cached_tokens: Some(0),
            },
            Wire::Gemini => Usage {
                input_tokens: Some(73),
                output_tokens: Some(21),
                cached_tokens: None,
            },
        }
    }

    /// The stop reason of a turn, in the vendor's words.
    pub fn stop_reason(self, turn: &Turn) -> &'static str {
        match (self, turn.calls.is_empty()) {
            (Wire::Anthropic, true) => "end_turn",
            (Wire::Anthropic, false) => "tool_use",
            (Wire::Openai, true) => "stop",
            (Wire::Openai, false) => "tool_calls",
            (Wire::Gemini, _) => "STOP",
        }
    }

    /// The whole streamed response to one request.
    pub fn response(self, turn: &Turn) -> Vec<Step> {
        let events = self.events(turn);
        let events: Vec<&str> = events.iter().map(String::as_str).collect();
        match self {
            Wire::Anthropic => sse_response(&[("request-id", "req_011CTool")], &events),
            Wire::Openai => sse_response(&[("x-request-id", "req_tool_7f3b")], &events),
            Wire::Gemini => sse_response(&[], &events),
        }
    }

    /// The server-sent events of `turn`, one string each.
    pub fn events(self, turn: &Turn) -> Vec<String> {
        match self {
            Wire::Anthropic => anthropic(turn),
            Wire::Openai => openai(turn),
            Wire::Gemini => gemini(turn),
        }
    }
}

fn sse(event: &str, data: Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// As the Messages API streams a turn: a text block, then one `tool_use`
/// block per call with its arguments as `input_json_delta`s (the first one
/// empty, as the API sends it).
fn anthropic(turn: &Turn) -> Vec<String> {
    let mut events = vec![sse(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929", "stop_sequence": null,
            "usage": {"input_tokens": 472, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 2},
            "content": [], "stop_reason": null}}),
    )];
    let mut index = 0;
    if !turn.text.is_empty() {
        events.push(sse(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
                   "content_block": {"type": "text", "text": ""}}),
        ));
        for piece in &turn.text {
            events.push(sse(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                       "delta": {"type": "text_delta", "text": piece}}),
            ));
        }
        events.push(sse(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ));
        index = 1;
    }
    for call in &turn.calls {
        events.push(sse(
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                   "content_block": {"type": "tool_use", "id": call.id, "name": call.name,
                                     "input": {}}}),
        ));
        for piece in std::iter::once("").chain(call.arguments.iter().map(String::as_str)) {
            events.push(sse(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                       "delta": {"type": "input_json_delta", "partial_json": piece}}),
            ));
        }
        events.push(sse(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    let stop = Wire::Anthropic.stop_reason(turn);
    events.push(sse(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
               "usage": {"output_tokens": 89}}),
    ));
    events.push(sse("message_stop", json!({"type": "message_stop"})));
    events
}

/// As Chat Completions streams a turn: the role, text deltas, then per
/// call a delta with its `index`, `id`, `type` and name, and one per
/// argument fragment; `finish_reason`, the usage chunk, `[DONE]`.
fn openai(turn: &Turn) -> Vec<String> {
    let chunk = |choices: Value, usage: Value| {
        let data = json!({
            "id": "chatcmpl-AbC123ToolTurn", "object": "chat.completion.chunk",
            "created": 1741569952, "model": "gpt-4.1-2025-04-14",
            "system_fingerprint": "fp_44709d6fcb", "choices": choices, "usage": usage,
        });
        format!("data: {data}\n\n")
    };
    let delta = |delta: Value, finish: Value| json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
    let mut events = vec![chunk(
        delta(
            json!({"role": "assistant", "content": "", "refusal": null}),
            Value::Null,
        ),
        Value::Null,
    )];
    for piece in &turn.text {
        events.push(chunk(
            delta(json!({"content": piece}), Value::Null),
            Value::Null,
        ));
    }
    for (index, call) in turn.calls.iter().enumerate() {
        events.push(chunk(
            delta(
                json!({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                                        "function": {"name": call.name, "arguments": ""}}]}),
                Value::Null,
            ),
            Value::Null,
        ));
        for piece in &call.arguments {
            events.push(chunk(
                delta(
                    json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    Value::Null,
                ),
                Value::Null,
            ));
        }
    }
    events.push(chunk(
        delta(json!({}), json!(Wire::Openai.stop_reason(turn))),
        Value::Null,
    ));
    events.push(chunk(
        json!([]),
        json!({"prompt_tokens": 82, "completion_tokens": 18, "total_tokens": 100,
               "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}}),
    ));
    events.push("data: [DONE]\n\n".to_string());
    events
}

/// As `streamGenerateContent?alt=sse` streams a turn: one response per text
/// piece; the calls, whole, in the last one with the finish reason and the
/// usage.
fn gemini(turn: &Turn) -> Vec<String> {
    let response = |parts: Vec<Value>, last: bool| {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        let usage = if last {
            candidate["finishReason"] = json!("STOP");
            json!({"promptTokenCount": 73, "candidatesTokenCount": 21, "totalTokenCount": 94})
        } else {
            json!({"promptTokenCount": 73, "totalTokenCount": 73})
        };
        let data = json!({"candidates": [candidate], "usageMetadata": usage,
                          "modelVersion": "gemini-2.5-flash",
                          "responseId": "mF9vaKqGLtW7nvgPkOSx8Qc"});
        format!("data: {data}\r\n\r\n")
    };
    let calls: Vec<Value> = turn
        .calls
        .iter()
        .map(|call| {
            let args: Value = serde_json::from_str(&call.arguments.concat())
                .expect("a Gemini call's arguments are JSON");
            let mut part = json!({"functionCall": {"name": call.name, "args": args}});
            if let Some(signature) = &call.signature {
                part["thoughtSignature"] = json!(signature);
            }
            part
        })
        .collect();
    let mut events: Vec<String> = Vec::new();
    let count = turn.text.len();
    for (i, piece) in turn.text.iter().enumerate() {
        let last = i + 1 == count && calls.is_empty();
        events.push(response(vec![json!({"text": piece})], last));
    }
    if !calls.is_empty() || events.is_empty() {
        events.push(response(calls, true));
    }
    events
}
