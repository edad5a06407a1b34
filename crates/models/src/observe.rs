//! What one provider call tells observers: its `tracing` span with the
//! OpenTelemetry GenAI attributes, its record for usage statistics, and,
//! only where a telemetry layer asked for content, the prompt and answer
//! with secrets redacted.
//!
//! Only `tracing` is used here: the server's telemetry layer turns these
//! spans into OTLP traces and metrics. With no layer listening, the span is
//! disabled and nothing below formats a value.

use std::time::{Duration, Instant};

use agentls_engine::ModelCall;
use agentls_provider::{
    Completion, Kind, Message, ProviderConfig, ProviderError, Request, Secrets, ToolCall,
};
use serde_json::{json, Value};
use tracing::field::Empty;

use crate::redact::redact;
use crate::ModelsError;

/// Target of the model-call spans (and of every engine span).
pub(crate) const TRACE_TARGET: &str = "agentls::trace";

/// What the call is, known before it starts.
pub(crate) struct CallInfo {
    /// The configured provider name (`claude`, `local`).
    pub name: String,
    /// The vendor, as `gen_ai.provider.name` spells it.
    pub vendor: &'static str,
    /// The model asked for, after defaults.
    pub request_model: Option<String>,
}

impl CallInfo {
    pub fn new(name: &str, config: Option<&ProviderConfig>) -> CallInfo {
        CallInfo {
            name: name.to_string(),
            vendor: config.map(|c| vendor(c.kind)).unwrap_or("_OTHER"),
            request_model: config.and_then(|c| c.effective_model().map(str::to_string)),
        }
    }

    /// The span of the call: a child of the step's span.
    pub fn span(&self) -> tracing::Span {
        tracing::info_span!(
            target: TRACE_TARGET,
            "gen_ai.chat",
            otel.name = %ChatName(self.request_model.as_deref()),
            otel.kind = "client",
            otel.status_code = Empty,
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = self.vendor,
            gen_ai.request.model = self.request_model.as_deref(),
            agentls.provider = %self.name,
            gen_ai.response.model = Empty,
            gen_ai.response.id = Empty,
            gen_ai.response.finish_reasons = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            agentls.usage.cached_tokens = Empty,
            agentls.time_to_first_chunk = Empty,
            agentls.attempts = Empty,
            error.type = Empty,
        )
    }
}

/// The span name the conventions ask for: `chat {gen_ai.request.model}`.
struct ChatName<'a>(Option<&'a str>);

impl std::fmt::Display for ChatName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(model) => write!(f, "chat {model}"),
            None => f.write_str("chat"),
        }
    }
}

/// `gen_ai.provider.name` of a provider kind: the semantic conventions'
/// value for the three vendors, the kind's own name otherwise.
fn vendor(kind: Kind) -> &'static str {
    match kind {
        Kind::Anthropic => "anthropic",
        Kind::Openai => "openai",
        Kind::Gemini => "gcp.gemini",
        Kind::Command => "command",
        Kind::Replay => "replay",
    }
}

/// Records how the call ended on its span and returns its record for the
/// store.
/// Streams `request` from `provider` (or fails with why it could not be
/// built) and records the call in `log`, closing the current span's call
/// with its usage, latency or error class.
pub(crate) async fn stream_logged(
    provider: Result<std::sync::Arc<dyn agentls_provider::Provider>, ModelsError>,
    request: agentls_provider::Request,
    chunks: tokio::sync::mpsc::Sender<agentls_provider::Chunk>,
    cancel: tokio_util::sync::CancellationToken,
    info: &CallInfo,
    log: &agentls_engine::CallLog,
) -> Result<Completion, ModelsError> {
    let started = Instant::now();
    let result = match provider {
        Ok(provider) => provider
            .stream(request, chunks, cancel)
            .await
            .map_err(ModelsError::from),
        Err(err) => Err(err),
    };
    log.record(finish(&tracing::Span::current(), info, started, &result));
    result
}

pub(crate) fn finish(
    span: &tracing::Span,
    info: &CallInfo,
    started: Instant,
    result: &Result<Completion, ModelsError>,
) -> ModelCall {
    let latency = started.elapsed();
    match result {
        Ok(completion) => {
            let usage = &completion.usage;
            if !span.is_disabled() {
                if let Some(model) = &completion.model {
                    span.record("gen_ai.response.model", model.as_str());
                }
                if let Some(id) = &completion.request_id {
                    span.record("gen_ai.response.id", id.as_str());
                }
                if let Some(reason) = &completion.stop_reason {
                    span.record("gen_ai.response.finish_reasons", reason.as_str());
                }
                // Integers as i64: the OpenTelemetry layer writes u64 as text.
                if let Some(tokens) = usage.input_tokens {
                    span.record("gen_ai.usage.input_tokens", int(tokens));
                }
                if let Some(tokens) = usage.output_tokens {
                    span.record("gen_ai.usage.output_tokens", int(tokens));
                }
                if let Some(tokens) = usage.cached_tokens {
                    span.record("agentls.usage.cached_tokens", int(tokens));
                }
                if let Some(first) = completion.first_chunk {
                    span.record("agentls.time_to_first_chunk", first.as_secs_f64());
                }
                span.record("agentls.attempts", i64::from(completion.attempts));
            }
            ModelCall {
                provider: info.name.clone(),
                model: completion.model.clone().or(info.request_model.clone()),
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cached_tokens: usage.cached_tokens,
                latency_ms: millis(completion.latency),
                first_chunk_ms: completion.first_chunk.map(millis),
                error_type: None,
            }
        }
        Err(err) => {
            let class = error_type(err);
            span.record("otel.status_code", "error");
            span.record("error.type", class.as_str());
            if let ModelsError::Provider(err) = err {
                if let Some(attempts) = attempts(err) {
                    span.record("agentls.attempts", i64::from(attempts));
                }
            }
            ModelCall {
                provider: info.name.clone(),
                model: info.request_model.clone(),
                latency_ms: millis(latency),
                error_type: Some(class),
                ..ModelCall::default()
            }
        }
    }
}

/// Emits the prompt and the answer as a span event, only when a telemetry
/// layer opted in to content (`[telemetry] record_content`); otherwise the
/// event is disabled and nothing is formatted. Every one of `secrets`,
/// and anything shaped like a well-known key, is redacted first.
pub(crate) fn content(
    prompt: &str,
    result: &Result<Completion, ModelsError>,
    secrets: impl Fn() -> Secrets,
) {
    tracing::event!(
        target: "agentls::content",
        tracing::Level::INFO,
        "gen_ai.input.messages" = %input_messages(prompt, &secrets()),
        "gen_ai.output.messages" = %output_messages(result, &secrets()),
        "gen_ai.client.inference.operation.details"
    );
}

/// Whether a telemetry layer opted in to content: only then is there a
/// reason to keep a copy of a turn's conversation.
pub(crate) fn content_enabled() -> bool {
    tracing::enabled!(target: "agentls::content", tracing::Level::INFO)
}

/// [`content`] for an agent step's turn: the whole conversation in, the
/// text and tool calls out, in the GenAI conventions' message format
/// (`tool_call` and `tool_call_response` parts). Tool arguments and results
/// are content too, and are redacted the same way.
pub(crate) fn turn_content(
    request: &Request,
    result: &Result<Completion, ModelsError>,
    secrets: impl Fn() -> Secrets,
) {
    tracing::event!(
        target: "agentls::content",
        tracing::Level::INFO,
        "gen_ai.input.messages" = %conversation(&request.messages, &secrets()),
        "gen_ai.output.messages" = %turn_output(result, &secrets()),
        "gen_ai.client.inference.operation.details"
    );
}

fn conversation(messages: &[Message], secrets: &Secrets) -> String {
    let text = |text: &str| json!({"type": "text", "content": redact(text, secrets)});
    let messages: Vec<Value> = messages
        .iter()
        .map(|message| match message {
            Message::User { text: said } => json!({"role": "user", "parts": [text(said)]}),
            Message::Assistant {
                text: said,
                tool_calls,
            } => json!({"role": "assistant", "parts": assistant_parts(said, tool_calls, secrets)}),
            Message::Tool { results } => json!({
                "role": "tool",
                "parts": results.iter().map(|result| json!({
                    "type": "tool_call_response",
                    "id": result.call_id,
                    "response": redact(&result.content, secrets),
                })).collect::<Vec<_>>(),
            }),
        })
        .collect();
    Value::Array(messages).to_string()
}

fn assistant_parts(text: &str, calls: &[ToolCall], secrets: &Secrets) -> Vec<Value> {
    let mut parts = Vec::new();
    if !text.is_empty() {
        parts.push(json!({"type": "text", "content": redact(text, secrets)}));
    }
    parts.extend(calls.iter().map(|call| {
        json!({
            "type": "tool_call",
            "id": call.id,
            "name": call.name,
            "arguments": redact(&call.input.to_string(), secrets),
        })
    }));
    parts
}

fn turn_output(result: &Result<Completion, ModelsError>, secrets: &Secrets) -> String {
    let Ok(completion) = result else {
        return "[]".into();
    };
    json!([{
        "role": "assistant",
        "parts": assistant_parts(&completion.text, &completion.tool_calls, secrets),
        "finish_reason": completion.stop_reason,
    }])
    .to_string()
}

fn input_messages(prompt: &str, secrets: &Secrets) -> String {
    serde_json::json!([{
        "role": "user",
        "parts": [{"type": "text", "content": redact(prompt, secrets)}],
    }])
    .to_string()
}

fn output_messages(result: &Result<Completion, ModelsError>, secrets: &Secrets) -> String {
    let Ok(completion) = result else {
        return "[]".into();
    };
    serde_json::json!([{
        "role": "assistant",
        "parts": [{"type": "text", "content": redact(&completion.text, secrets)}],
        "finish_reason": completion.stop_reason,
    }])
    .to_string()
}

/// A low-cardinality class of a failed call, for `error.type`: the HTTP
/// status for error answers, else what kind of failure it was.
pub(crate) fn error_type(err: &ModelsError) -> String {
    let err = match err {
        ModelsError::Provider(err) => err,
        ModelsError::UnknownProvider { .. } => return "unknown_provider".into(),
        _ => return "_OTHER".into(),
    };
    let class = match err {
        // The conventions' choice for HTTP errors: the status code.
        ProviderError::Http { status, .. } | ProviderError::RetryAfterTooLong { status, .. } => {
            return status.to_string();
        }
        ProviderError::MissingKey { .. } => "missing_key",
        ProviderError::Config { .. } => "config",
        ProviderError::Stream { .. } => "stream_error",
        ProviderError::Connection { .. } => "connection",
        ProviderError::FirstByteTimeout { .. } | ProviderError::IdleTimeout { .. } => "timeout",
        ProviderError::Protocol { .. } => "protocol",
        ProviderError::Cancelled { .. } => "cancelled",
        ProviderError::CommandFailed { .. } | ProviderError::Exec { .. } => "command_failed",
        ProviderError::NoToolCalling { .. } => "no_tool_calling",
        ProviderError::Cassette { .. } | ProviderError::ReplayExhausted { .. } => "replay",
        _ => "_OTHER",
    };
    class.into()
}

fn attempts(err: &ProviderError) -> Option<u32> {
    match err {
        ProviderError::Http { attempts, .. }
        | ProviderError::Stream { attempts, .. }
        | ProviderError::Connection { attempts, .. }
        | ProviderError::FirstByteTimeout { attempts, .. }
        | ProviderError::IdleTimeout { attempts, .. }
        | ProviderError::Protocol { attempts, .. }
        | ProviderError::RetryAfterTooLong { attempts, .. } => Some(*attempts),
        _ => None,
    }
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use agentls_provider::{Secret, ToolResult, Usage};

    use super::*;

    #[test]
    fn a_turn_is_recorded_in_the_conventions_message_format_with_secrets_redacted() {
        let secrets: Secrets = [Secret::new("hunter2-very-secret")].into_iter().collect();
        let call = ToolCall {
            id: "toolu_1".into(),
            name: "run_command".into(),
            input: json!({"command": "curl -H hunter2-very-secret x"}),
            signature: None,
        };
        let messages = vec![
            Message::User {
                text: "Fix it".into(),
            },
            Message::Assistant {
                text: "Running.".into(),
                tool_calls: vec![call.clone()],
            },
            Message::Tool {
                results: vec![ToolResult::error(&call, "said hunter2-very-secret")],
            },
        ];
        let input: Value = serde_json::from_str(&conversation(&messages, &secrets)).unwrap();
        assert_eq!(
            input,
            json!([
                {"role": "user", "parts": [{"type": "text", "content": "Fix it"}]},
                {"role": "assistant", "parts": [
                    {"type": "text", "content": "Running."},
                    {"type": "tool_call", "id": "toolu_1", "name": "run_command",
                     "arguments": "{\"command\":\"curl -H *** x\"}"}]},
                {"role": "tool", "parts": [
                    {"type": "tool_call_response", "id": "toolu_1", "response": "said ***"}]}
            ])
        );
        let completion = Completion {
            text: String::new(),
            tool_calls: vec![call],
            usage: Usage::default(),
            stop_reason: Some("tool_use".into()),
            request_id: None,
            model: None,
            attempts: 1,
            first_chunk: None,
            latency: Duration::ZERO,
        };
        let output: Value = serde_json::from_str(&turn_output(&Ok(completion), &secrets)).unwrap();
        assert_eq!(
            output,
            json!([{"role": "assistant", "finish_reason": "tool_use", "parts": [
                {"type": "tool_call", "id": "toolu_1", "name": "run_command",
                 "arguments": "{\"command\":\"curl -H *** x\"}"}]}])
        );
    }
}
