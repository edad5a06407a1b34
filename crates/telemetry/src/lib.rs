//! agentls-telemetry: OpenTelemetry export for agentls.
//!
//! What it owns: resolving where telemetry goes ([`Settings`] from the
//! `[telemetry]` config section and the standard `OTEL_*` variables), the
//! OTLP/HTTP pipeline ([`Telemetry`]: traces and metrics, `http/protobuf` or
//! `http/json`), the `tracing` layer that turns agentls's spans into
//! OpenTelemetry spans, the metrics derived from those spans (the GenAI
//! semantic conventions' `gen_ai.client.token.usage` and
//! `gen_ai.client.operation.duration`, time to first chunk, step duration,
//! runs by status), the outbox counters ([`OutboxMeter`]), and flushing on
//! shutdown.
//!
//! Architecture invariants: the crates that do the work (engine, models)
//! never depend on this one nor on OpenTelemetry; they open `tracing` spans
//! with target `agentls::trace` (and `agentls::content` for opted-in prompt
//! text), and this crate is the only place that knows OTLP. Nothing here
//! knows LSP, config files or the store. When [`Settings::resolve`] says
//! telemetry is off, nothing is built: no thread, no layer, no cost. An
//! unreachable collector never blocks the caller: spans and metrics are
//! exported from background threads, and its errors are logged at most once
//! a minute.
//!
//! The span and attribute names are listed for users in
//! docs/observability.md.

mod config;
mod http;
mod metrics;
mod observer;
mod outbox_meter;
mod pipeline;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{
    Protocol, Settings, TelemetryConfig, DEFAULT_EXPORT_TIMEOUT, DEFAULT_SERVICE_NAME,
};
pub use outbox_meter::{OutboxMeter, OutboxTotals};
pub use pipeline::Telemetry;

/// The `tracing` target of agentls's spans (runs, steps, commands, model
/// calls). Only spans with this target are exported.
pub const TRACE_TARGET: &str = "agentls::trace";

/// The `tracing` target of the events carrying prompt and answer text,
/// enabled only when content recording is on.
pub const CONTENT_TARGET: &str = "agentls::content";

/// Why telemetry could not be set up. The run goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A setting is wrong; the message names it and says what to use.
    #[error("telemetry: {0}")]
    Config(String),
    /// The exporter could not be built.
    #[error("telemetry: cannot set up the OTLP exporter: {0}")]
    Exporter(String),
}
