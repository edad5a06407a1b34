//! The three vendors' wire formats: how a [`Request`] (a prompt, or a
//! conversation with tools) becomes an HTTP request, and how each
//! server-sent event becomes text, tool calls, usage and a stop reason.
//! Pure functions and small state machines: no I/O here, so each format is
//! testable from recorded bytes.

mod anthropic;
mod gemini;
mod openai;
mod tools;

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use reqwest::header::{HeaderName, HeaderValue};
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use agentls_chat::ToolCall;

use crate::sse::Event;
use crate::{Request, Secret, Usage};

/// Which vendor format an HTTP provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vendor {
    Anthropic,
    Openai,
    Gemini,
}

/// What the request body is built from, defaults already applied.
pub(crate) struct BodyParams<'a> {
    pub model: &'a str,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// OpenAI's own API wants `max_completion_tokens`; compatible servers
    /// know `max_tokens`.
    pub openai_official: bool,
}

/// What the stream said besides text.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Summary {
    /// The tool calls, whole: only meaningful once the stream is complete.
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    pub stop_reason: Option<String>,
    pub model: Option<String>,
    /// The message or response id from the body, used when no request id
    /// header came back.
    pub message_id: Option<String>,
}

/// An event the adapter cannot accept.
#[derive(Debug, PartialEq)]
pub(crate) enum DecodeError {
    /// The vendor reported an error in the stream.
    Vendor { message: String, retryable: bool },
    /// Not the documented format.
    Malformed(String),
}

/// One stream's state machine.
pub(crate) trait Decoder: Send {
    /// Handles one event; returns the text it carries, if any.
    fn event(&mut self, event: &Event<'_>) -> Result<Option<String>, DecodeError>;
    /// The names of the tool calls the last event started, for live
    /// progress (empty for nearly every event: taking it costs nothing).
    fn take_started(&mut self) -> Vec<String>;
    /// Whether the stream's terminal event has been seen: stop reading.
    fn is_done(&self) -> bool;
    /// Whether the answer is whole, so the body may end here.
    fn is_complete(&self) -> bool {
        self.is_done()
    }
    /// What the stream should have ended with, for "ended early" errors.
    fn expected_end(&self) -> &'static str;
    /// Tool calls, usage, stop reason, model and message id gathered so far.
    fn summary(&self) -> Summary;
}

impl Vendor {
    /// The endpoint for `model` under `base_url` (no trailing slash).
    pub(crate) fn endpoint(self, base_url: &str, model: &str) -> String {
        match self {
            Vendor::Anthropic => format!("{base_url}/v1/messages"),
            Vendor::Openai => format!("{base_url}/chat/completions"),
            Vendor::Gemini => {
                let model = model.strip_prefix("models/").unwrap_or(model);
                format!("{base_url}/models/{model}:streamGenerateContent?alt=sse")
            }
        }
    }

    /// Headers that carry the key and the API version.
    pub(crate) fn auth_headers(
        self,
        key: Option<&Secret>,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let mut headers = Vec::new();
        if self == Vendor::Anthropic {
            headers.push((
                HeaderName::from_static("anthropic-version"),
                HeaderValue::from_static("2023-06-01"),
            ));
        }
        if let Some(key) = key {
            let (name, value) = match self {
                Vendor::Anthropic => ("x-api-key", key.expose().to_string()),
                Vendor::Openai => ("authorization", format!("Bearer {}", key.expose())),
                Vendor::Gemini => ("x-goog-api-key", key.expose().to_string()),
            };
            // The message must not quote the value: it is the key.
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                "the API key contains characters not allowed in an HTTP header \
                 (a stray newline or quote?)"
                    .to_string()
            })?;
            value.set_sensitive(true);
            headers.push((HeaderName::from_static(name), value));
        }
        Ok(headers)
    }

    /// The response header holding the vendor's request id.
    pub(crate) fn request_id_header(self) -> &'static str {
        match self {
            Vendor::Anthropic => "request-id",
            Vendor::Openai => "x-request-id",
            Vendor::Gemini => "x-request-id",
        }
    }

    /// The JSON body for `request`.
    pub(crate) fn body(self, params: &BodyParams<'_>, request: &Request) -> Value {
        match self {
            Vendor::Anthropic => anthropic::body(params, request),
            Vendor::Openai => openai::body(params, request),
            Vendor::Gemini => gemini::body(params, request),
        }
    }

    /// A fresh state machine for one response stream to `request` (whose
    /// messages say which call ids are taken).
    pub(crate) fn decoder(self, request: &Request) -> Box<dyn Decoder> {
        match self {
            Vendor::Anthropic => Box::<anthropic::Decoder>::default(),
            Vendor::Openai => Box::new(openai::Decoder::new(&request.messages)),
            Vendor::Gemini => Box::new(gemini::Decoder::new(&request.messages)),
        }
    }
}

/// A temperature as the user wrote it: `0.7f32` widened directly would be
/// sent as `0.699999988079071`.
pub(crate) fn temperature(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// Parses an event's JSON payload.
fn json(event: &Event<'_>) -> Result<Value, DecodeError> {
    serde_json::from_str(&event.data).map_err(|err| {
        DecodeError::Malformed(format!(
            "event `{}` does not carry JSON ({err}): {}",
            event.event,
            snippet(&event.data)
        ))
    })
}

/// The message of a vendor error object. All three vendors nest it as
/// `{"error": {"message": ..., "type" | "status": ...}}` (Anthropic adds
/// `"type": "error"` at the top; Gemini may wrap it in an array).
pub(crate) fn error_message(body: &Value) -> Option<(String, bool)> {
    let body = match body {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let error = body.get("error")?;
    if let Some(text) = error.as_str() {
        return Some((text.to_string(), false));
    }
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("(no message)");
    let kind = error
        .get("type")
        .or_else(|| error.get("status"))
        .and_then(Value::as_str);
    let retryable = kind.is_some_and(is_transient_error_type);
    let text = match kind {
        Some(kind) => format!("{kind}: {message}"),
        None => message.to_string(),
    };
    Some((text, retryable))
}

/// Error types the vendors document as transient.
fn is_transient_error_type(kind: &str) -> bool {
    matches!(
        kind,
        "overloaded_error"
            | "api_error"
            | "rate_limit_error"
            | "server_error"
            | "UNAVAILABLE"
            | "RESOURCE_EXHAUSTED"
            | "INTERNAL"
    )
}

/// The start of a body, for messages: at most 300 characters.
pub(crate) fn snippet(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

// ---- typed, borrowed decoding ---------------------------------------------
//
// Each decoder reads the events it sees thousands of times per answer (the
// text deltas) into the structs of its module, borrowing strings from the
// event, and everything else (errors, odd shapes, rare events) through
// `serde_json::Value` as before. A typed parse either succeeds on a shape
// where it reads exactly what the `Value` code reads, or fails and the
// event goes down the `Value` path: the fields are `Option`s of the JSON
// types the `Value` code accepts, so a field of another type (which the
// `Value` code would skip) fails the typed parse instead of changing the
// result. An `error` key, whatever its value, sends the event to the `Value`
// path too ([`present`]).

/// A JSON string, borrowed from the event unless it has escapes.
#[derive(Debug, PartialEq)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(text.to_string())))
            }
            fn visit_string<E>(self, text: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The first element of a JSON array; the others are skipped unread.
#[derive(Debug)]
pub(crate) struct First<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstVisitor<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }
        deserializer.deserialize_seq(FirstVisitor(PhantomData))
    }
}

/// For `#[serde(default, deserialize_with = "present")]`: `Some` whenever
/// the key is there, `null` included (plain `Option` reads `null` as
/// absent).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Sets `slot` to `value` when it differs: the value repeats in every
/// event, so it is copied once, not per event.
fn keep(slot: &mut Option<String>, value: Option<Str<'_>>) {
    if let Some(value) = value {
        if slot.as_deref() != Some(&*value) {
            *slot = Some(value.0.into_owned());
        }
    }
}

fn u64_at(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

fn string_at(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Feeds `events` (type, data) to a decoder through [`Decoder::event`] and to
/// another through `value` alone (the `Value` code), and checks that every
/// result, the summary and completeness agree after each event.
#[cfg(test)]
fn assert_typed_agrees_with_value<D: Decoder + Default>(
    value: fn(&mut D, &Event<'_>) -> Result<Option<String>, DecodeError>,
    events: &[(&str, &str)],
) {
    let mut fast = D::default();
    let mut slow = D::default();
    for (kind, data) in events {
        let event = Event {
            event: kind,
            data: Cow::Borrowed(data),
        };
        assert_eq!(
            fast.event(&event),
            value(&mut slow, &event),
            "{kind}: {data}"
        );
        assert_eq!(fast.summary(), slow.summary(), "{kind}: {data}");
        assert_eq!(fast.is_complete(), slow.is_complete(), "{kind}: {data}");
        assert_eq!(fast.is_done(), slow.is_done(), "{kind}: {data}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_messages_of_each_vendor() {
        let anthropic = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        assert_eq!(
            error_message(&anthropic),
            Some(("overloaded_error: Overloaded".to_string(), true))
        );
        let openai = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
        assert_eq!(
            error_message(&openai),
            Some((
                "invalid_request_error: Incorrect API key provided".to_string(),
                false
            ))
        );
        let gemini = json!([{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}]);
        assert_eq!(
            error_message(&gemini),
            Some(("UNAVAILABLE: The model is overloaded.".to_string(), true))
        );
        assert_eq!(error_message(&json!({"ok": true})), None);
    }

    #[test]
    fn typed_helpers_borrow_skip_and_see_null() {
        #[derive(Deserialize)]
        struct Probe<'a> {
            #[serde(borrow)]
            text: Str<'a>,
            #[serde(borrow)]
            first: First<Str<'a>>,
            #[serde(default, deserialize_with = "present")]
            error: Option<IgnoredAny>,
        }
        let probe: Probe = serde_json::from_str(
            r#"{"text": "plain", "first": ["a\"b", {"skipped": [1, 2]}, 3], "error": null}"#,
        )
        .unwrap();
        assert!(matches!(probe.text.0, Cow::Borrowed("plain")));
        assert_eq!(probe.first.0.unwrap().0, "a\"b");
        assert!(probe.error.is_some());
        let absent: Probe = serde_json::from_str(r#"{"text": "", "first": []}"#).unwrap();
        assert!(absent.first.0.is_none() && absent.error.is_none());
        assert!(serde_json::from_str::<Probe>(r#"{"text": 1, "first": []}"#).is_err());
    }

    #[test]
    fn temperature_keeps_its_decimal_form() {
        assert_eq!(json!(temperature(0.7)).to_string(), "0.7");
        assert_eq!(json!(temperature(1.0)).to_string(), "1.0");
    }

    #[test]
    fn gemini_endpoint_accepts_a_models_prefix() {
        assert_eq!(
            Vendor::Gemini.endpoint("http://h/v1beta", "models/gemini-2.5-flash"),
            "http://h/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn auth_header_errors_do_not_quote_the_key() {
        let key = Secret::new("sk-bad\nkey-value");
        let err = Vendor::Openai.auth_headers(Some(&key)).unwrap_err();
        assert!(!err.contains("key-value"), "{err}");
    }
}
