//! The metrics agentls exports, derived from its finished spans: one place
//! measures each thing (the span), so traces and metrics always agree.
//!
//! | instrument | from |
//! |---|---|
//! | `gen_ai.client.token.usage` (`{token}`, by `gen_ai.token.type`) | model-call spans' usage |
//! | `gen_ai.client.operation.duration` (`s`) | model-call spans' duration |
//! | `gen_ai.client.operation.time_to_first_chunk` (`s`) | model-call spans' `agentls.time_to_first_chunk` |
//! | `agentls.step.duration` (`s`) | step spans |
//! | `agentls.command.duration` (`s`) | command spans |
//! | `agentls.runs` (`{run}`, by `agentls.run.status`) | run spans, when the run stops |

use std::time::SystemTime;

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// Bucket boundaries the GenAI conventions recommend for token counts.
const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// Bucket boundaries the GenAI conventions recommend for durations (s);
/// also used for steps and commands, which span the same range.
const DURATION_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// Attributes copied from a model-call span onto its metrics.
const GEN_AI_ATTRIBUTES: &[&str] = &[
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "agentls.provider",
];

pub(crate) struct Instruments {
    token_usage: Histogram<u64>,
    operation_duration: Histogram<f64>,
    time_to_first_chunk: Histogram<f64>,
    step_duration: Histogram<f64>,
    command_duration: Histogram<f64>,
    runs: Counter<u64>,
}

impl std::fmt::Debug for Instruments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instruments").finish_non_exhaustive()
    }
}

impl Instruments {
    pub fn new(meter: &Meter) -> Instruments {
        let seconds = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build()
        };
        Instruments {
            token_usage: meter
                .u64_histogram("gen_ai.client.token.usage")
                .with_unit("{token}")
                .with_description("Number of input and output tokens used")
                .with_boundaries(TOKEN_BUCKETS.to_vec())
                .build(),
            operation_duration: seconds(
                "gen_ai.client.operation.duration",
                "GenAI operation duration",
            ),
            time_to_first_chunk: seconds(
                "gen_ai.client.operation.time_to_first_chunk",
                "Time from the request to the first chunk of the streamed answer",
            ),
            step_duration: seconds(
                "agentls.step.duration",
                "Duration of one attempt of a workflow step",
            ),
            command_duration: seconds(
                "agentls.command.duration",
                "Duration of a command run by a workflow step",
            ),
            runs: meter
                .u64_counter("agentls.runs")
                .with_unit("{run}")
                .with_description("Runs that stopped, by the status they stopped in")
                .build(),
        }
    }

    /// Records what a finished span measured. Spans are told apart by the
    /// attributes only their kind carries (their names vary: `step test`).
    pub fn observe(&self, span: &SpanData) {
        let attrs = &span.attributes;
        let seconds = duration(span.start_time, span.end_time);
        if has(attrs, "gen_ai.operation.name") {
            self.model_call(attrs, seconds);
        } else if has(attrs, "agentls.step.kind") {
            let labels = pick(
                attrs,
                &["agentls.step.kind", "agentls.step.status", "error.type"],
            );
            self.step_duration.record(seconds, &labels);
        } else if has(attrs, "process.executable.name") {
            let labels = pick(attrs, &["process.executable.name", "error.type"]);
            self.command_duration.record(seconds, &labels);
        } else if has(attrs, "agentls.run.status") {
            let labels = pick(attrs, &["agentls.run.status", "agentls.workflow"]);
            self.runs.add(1, &labels);
        }
    }

    fn model_call(&self, attrs: &[KeyValue], seconds: f64) {
        let mut labels = pick(attrs, GEN_AI_ATTRIBUTES);
        for (field, token_type) in [
            ("gen_ai.usage.input_tokens", "input"),
            ("gen_ai.usage.output_tokens", "output"),
        ] {
            if let Some(tokens) = int(attrs, field) {
                labels.push(KeyValue::new("gen_ai.token.type", token_type));
                self.token_usage.record(tokens, &labels);
                labels.pop();
            }
        }
        if let Some(first) = float(attrs, "agentls.time_to_first_chunk") {
            self.time_to_first_chunk.record(first, &labels);
        }
        labels.extend(pick(attrs, &["error.type"]));
        self.operation_duration.record(seconds, &labels);
    }
}

fn duration(start: SystemTime, end: SystemTime) -> f64 {
    end.duration_since(start).unwrap_or_default().as_secs_f64()
}

fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn has(attrs: &[KeyValue], key: &str) -> bool {
    attrs.iter().any(|kv| kv.key.as_str() == key)
}

fn pick(attrs: &[KeyValue], keys: &[&str]) -> Vec<KeyValue> {
    attrs
        .iter()
        .filter(|kv| keys.contains(&kv.key.as_str()))
        .cloned()
        .collect()
}

fn int(attrs: &[KeyValue], key: &str) -> Option<u64> {
    match get(attrs, key)? {
        Value::I64(v) => u64::try_from(*v).ok(),
        Value::F64(v) if *v >= 0.0 => Some(*v as u64),
        Value::String(s) => s.as_str().parse().ok(),
        _ => None,
    }
}

fn float(attrs: &[KeyValue], key: &str) -> Option<f64> {
    match get(attrs, key)? {
        Value::F64(v) => Some(*v),
        Value::I64(v) => Some(*v as f64),
        _ => None,
    }
}
