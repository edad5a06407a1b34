//! Gemini `models/{model}:streamGenerateContent?alt=sse`.
//!
//! Each event's data is a whole `GenerateContentResponse`: text in
//! `candidates[0].content.parts[].text` (parts marked `thought` are skipped),
//! `finishReason` on the last one, cumulative `usageMetadata`, `modelVersion`
//! and `responseId`. There is no end sentinel: the stream ends after the
//! chunk with a `finishReason` (or a `promptFeedback.blockReason`).
//!
//! A tool call is a part `{"functionCall": {"name", "args"}}`, whole in one
//! chunk, perhaps with a `thoughtSignature` beside it that must be sent
//! back with the call ([`ToolCall::signature`]). Calls have no ids here:
//! each gets `gemini-call-N`, unique in the conversation.
//!
//! A conversation goes as `contents`: the user's text in a `user` content,
//! a model turn as a `model` content of `text` and `functionCall` parts
//! (signatures echoed), results as `functionResponse` parts
//! `{"name", "response": {"output": text}}` (`{"error": text}` for an
//! error) in a `user` content. Tools go in
//! `tools: [{"functionDeclarations": [...]}]`, each schema cut down to the
//! subset of OpenAPI Schema fields the API accepts ([`schema`]).

use agentls_chat::{Message, ToolCall, ToolResult, ToolSpec};
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
    let mut body = Map::new();
    let contents: Vec<Value> = request.conversation().iter().filter_map(content).collect();
    body.insert("contents".into(), Value::Array(contents));
    if !request.tools.is_empty() {
        let declarations: Vec<Value> = request.tools.iter().map(declaration).collect();
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
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

/// One message of the conversation; `None` for a model turn with neither
/// text nor calls (a content needs a part).
fn content(message: &Message) -> Option<Value> {
    Some(match message {
        Message::User { text } => json!({"role": "user", "parts": [{"text": text}]}),
        Message::Assistant { text, tool_calls } => {
            let mut parts = Vec::new();
            if !text.is_empty() {
                parts.push(json!({"text": text}));
            }
            parts.extend(tool_calls.iter().map(function_call));
            if parts.is_empty() {
                return None;
            }
            json!({"role": "model", "parts": parts})
        }
        Message::Tool { results } => json!({
            "role": "user",
            "parts": results.iter().map(function_response).collect::<Vec<_>>(),
        }),
    })
}

fn function_call(call: &ToolCall) -> Value {
    // `args` must be an object: arguments that were not one go back as none.
    let args = if call.input.is_object() {
        call.input.clone()
    } else {
        json!({})
    };
    let mut part = json!({"functionCall": {"name": call.name, "args": args}});
    if let Some(signature) = &call.signature {
        part["thoughtSignature"] = json!(signature);
    }
    part
}

fn function_response(result: &ToolResult) -> Value {
    // The documented keys: `output` for a result, `error` for a failure.
    let key = if result.is_error { "error" } else { "output" };
    json!({"functionResponse": {"name": result.name, "response": {key: result.content}}})
}

fn declaration(spec: &ToolSpec) -> Value {
    json!({
        "name": spec.name,
        "description": spec.description,
        "parameters": schema(&spec.parameters),
    })
}

/// The fields of the API's `Schema` object (a subset of OpenAPI 3.0's);
/// the API rejects a request whose schemas carry others, such as
/// `additionalProperties`, `$schema` or `const`.
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// A JSON Schema cut down to what Gemini's `Schema` accepts: unknown
/// fields dropped (in nested schemas too), and a `type` list with `"null"`
/// (`["string", "null"]`) turned into the type and `nullable: true`.
pub(super) fn schema(value: &Value) -> Value {
    let Value::Object(fields) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    for (key, field) in fields {
        if !SCHEMA_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let field = match (key.as_str(), field) {
            ("properties", Value::Object(properties)) => Value::Object(
                properties
                    .iter()
                    .map(|(name, property)| (name.clone(), schema(property)))
                    .collect(),
            ),
            ("items", item) => schema(item),
            ("anyOf", Value::Array(options)) => options.iter().map(schema).collect(),
            ("type", Value::Array(types)) => {
                let named: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                if named.len() < types.len() {
                    out.insert("nullable".into(), json!(true));
                }
                match named.as_slice() {
                    [one] => (*one).clone(),
                    _ => continue,
                }
            }
            (_, field) => field.clone(),
        };
        out.insert(key.clone(), field);
    }
    Value::Object(out)
}

pub(super) struct Decoder {
    finished: bool,
    id: Option<String>,
    model: Option<String>,
    usage: Usage,
    finish_reason: Option<String>,
    calls: Vec<PartialCall>,
    started: Vec<String>,
    ids: Ids,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(&[])
    }
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
#[serde(rename_all = "camelCase")]
struct PartWire<'a> {
    thought: Option<bool>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    /// Present (even `null`): the response goes through the `Value` code.
    #[serde(default, deserialize_with = "present")]
    function_call: Option<IgnoredAny>,
}

impl ResponseWire<'_> {
    /// Whether the typed code reads all of this response that matters.
    fn is_plain(&self) -> bool {
        let calls = self
            .candidates
            .as_ref()
            .and_then(|c| c.0.as_ref())
            .and_then(|candidate| candidate.content.as_ref())
            .and_then(|content| content.parts.as_ref())
            .is_some_and(|parts| parts.iter().any(|p| p.function_call.is_some()));
        self.error.is_none() && !calls
    }
}

impl Decoder {
    pub(super) fn new(conversation: &[Message]) -> Decoder {
        Decoder {
            finished: false,
            id: None,
            model: None,
            usage: Usage::default(),
            finish_reason: None,
            calls: Vec::new(),
            started: Vec::new(),
            ids: Ids::new("gemini-call", conversation),
        }
    }

    /// A `functionCall` part.
    fn call(&mut self, part: &Value, call: &Value) -> Result<(), DecodeError> {
        let Some(name) = string_at(call, "name") else {
            return Err(DecodeError::Malformed(format!(
                "a functionCall without a name: {}",
                super::snippet(&call.to_string())
            )));
        };
        self.started.push(name.clone());
        self.calls.push(PartialCall {
            name,
            input: Some(call.get("args").cloned().unwrap_or(Value::Null)),
            signature: string_at(part, "thoughtSignature"),
            ..PartialCall::default()
        });
        Ok(())
    }

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
        for part in parts.into_iter().flatten() {
            if let Some(call) = part.get("functionCall").filter(|c| !c.is_null()) {
                self.call(part, call)?;
            }
        }
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
            Ok(response) if response.is_plain() => Ok(self.typed(response)),
            _ => self.value(event),
        }
    }

    fn take_started(&mut self) -> Vec<String> {
        std::mem::take(&mut self.started)
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
            tool_calls: self.ids.finish(self.calls.iter()),
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
            r#"{"candidates":[{"content":{"parts":[{"text":"Look."},{"functionCall":{"name":"read_file","args":{"path":"a.rs"}},"thoughtSignature":"c2ln"},{"functionCall":{"name":"list_files"}}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":null,"text":"x"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]}"#,
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

    #[test]
    fn function_calls_get_ids_after_those_of_the_conversation() {
        use super::super::Decoder as _;
        let earlier = ToolCall {
            id: "gemini-call-1".into(),
            name: "list_files".into(),
            input: json!({}),
            signature: None,
        };
        let conversation = [Message::Assistant {
            text: String::new(),
            tool_calls: vec![earlier],
        }];
        let mut decoder = Decoder::new(&conversation);
        let event = Event {
            event: "message",
            data: r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"read_file","args":{"path":"a.rs"}},"thoughtSignature":"c2ln"},{"functionCall":{"name":"read_file","args":{"path":"b.rs"}}}]},"finishReason":"STOP"}]}"#.into(),
        };
        decoder.event(&event).unwrap();
        assert_eq!(decoder.take_started(), ["read_file", "read_file"]);
        assert!(decoder.take_started().is_empty());
        let calls = decoder.summary().tool_calls;
        let calls: Vec<(&str, &Value, Option<&str>)> = calls
            .iter()
            .map(|c| (c.id.as_str(), &c.input, c.signature.as_deref()))
            .collect();
        assert_eq!(
            calls,
            [
                ("gemini-call-2", &json!({"path": "a.rs"}), Some("c2ln")),
                ("gemini-call-3", &json!({"path": "b.rs"}), None)
            ]
        );
    }

    #[test]
    fn schemas_keep_only_what_gemini_accepts() {
        let schema = super::schema(&json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "path": {"type": "string", "description": "Where.", "const": "x"},
                "lines": {"type": "array", "items": {"type": ["integer", "null"], "examples": [1]}},
                "mode": {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null", "$comment": "c"}]},
                "any": {"type": ["string", "integer"]}
            },
            "required": ["path"]
        }));
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Where."},
                    "lines": {"type": "array", "items": {"type": "integer", "nullable": true}},
                    "mode": {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]},
                    "any": {}
                },
                "required": ["path"]
            })
        );
    }
}
