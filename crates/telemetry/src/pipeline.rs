//! [`Telemetry`]: the OTLP/HTTP pipeline of one process (a tracer provider
//! with a batch exporter, a meter provider with a periodic reader), the
//! `tracing` layer feeding it, and its bounded shutdown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider,
};
use opentelemetry_sdk::Resource;
use tracing::{Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::config::{Protocol, Settings};
use crate::http::ExportClient;
use crate::metrics::Instruments;
use crate::observer::Observer;
use crate::{TelemetryError, CONTENT_TARGET, TRACE_TARGET};

/// Retries of one export: one quick retry for a hiccup. A collector that is
/// down costs a failed export and a log line, not a pile of retries that
/// would hold the process at exit.
fn retry_policy() -> opentelemetry_otlp::RetryPolicy {
    opentelemetry_otlp::RetryPolicy::recommended()
        .with_max_retries(1)
        .with_initial_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_millis(50))
        .with_max_jitter(Duration::from_millis(10))
}

/// The running pipeline. Build it once per process with [`Telemetry::start`],
/// add [`Telemetry::layer`] to the subscriber, and call
/// [`Telemetry::shutdown`] before the process exits.
pub struct Telemetry {
    settings: Settings,
    tracer_provider: SdkTracerProvider,
    meter_provider: Option<SdkMeterProvider>,
    tracer: SdkTracer,
    shut_down: AtomicBool,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Builds the exporters and starts their background threads. Nothing
    /// is sent until spans end; an unreachable collector is not an error
    /// here (exports fail later, in the background, and are logged).
    pub fn start(settings: &Settings) -> Result<Telemetry, TelemetryError> {
        let resource = Resource::builder()
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let protocol = match settings.protocol {
            Protocol::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
            Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
        };
        let client = |signal| ExportClient::new(settings.timeout, signal);

        let meter_provider = match &settings.metrics_endpoint {
            Some(endpoint) => {
                let exporter = opentelemetry_otlp::MetricExporter::builder()
                    .with_http()
                    .with_protocol(protocol)
                    .with_endpoint(endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_http_client(client("metrics"))
                    .with_retry_policy(retry_policy())
                    .with_temporality(Temporality::Cumulative)
                    .build()
                    .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
                Some(
                    SdkMeterProvider::builder()
                        .with_resource(resource.clone())
                        .with_reader(PeriodicReader::builder(exporter).build())
                        .build(),
                )
            }
            None => None,
        };
        let instruments = meter_provider.as_ref().map(|provider| {
            use opentelemetry::metrics::MeterProvider as _;
            Instruments::new(&provider.meter_with_scope(scope()))
        });

        let batch = match &settings.traces_endpoint {
            Some(endpoint) => {
                let exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(protocol)
                    .with_endpoint(endpoint.clone())
                    .with_timeout(settings.timeout)
                    .with_http_client(client("traces"))
                    .with_retry_policy(retry_policy())
                    .build()
                    .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
                Some(
                    BatchSpanProcessor::builder(exporter)
                        .with_batch_config(batch_config())
                        .build(),
                )
            }
            None => None,
        };
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource)
            // Metrics are derived from spans: every span must be seen.
            .with_sampler(Sampler::AlwaysOn)
            .with_span_processor(Observer {
                next: batch,
                instruments,
                record_content: settings.record_content,
            })
            .build();
        let tracer = tracer_provider.tracer_with_scope(scope());
        Ok(Telemetry {
            settings: settings.clone(),
            tracer_provider,
            meter_provider,
            tracer,
            shut_down: AtomicBool::new(false),
        })
    }

    /// What this pipeline exports to.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The `tracing` layer that feeds the pipeline: agentls's spans (target
    /// `agentls::trace`) and, only when content is recorded, the
    /// `agentls::content` events. Nothing else reaches the exporter (no log
    /// line, no dependency's span).
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        let mut targets = Targets::new().with_target(TRACE_TARGET, Level::INFO);
        if self.settings.record_content {
            targets = targets.with_target(CONTENT_TARGET, Level::INFO);
        }
        tracing_opentelemetry::layer()
            .with_tracer(self.tracer.clone())
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_target(false)
            // Parents come from the span tree; nothing here reads the
            // OpenTelemetry context, so entering a span (on every poll of
            // an instrumented future) need not set it.
            .with_context_activation(false)
            .with_filter(targets)
    }

    /// Makes this pipeline's meter provider the process's global one, which
    /// [`crate::OutboxMeter`] records into.
    pub fn install_global(&self) {
        if let Some(provider) = &self.meter_provider {
            opentelemetry::global::set_meter_provider(provider.clone());
        }
    }

    /// Exports what is pending and stops the exporters, waiting at most
    /// `timeout` (an unreachable collector must not hold the process).
    /// Returns whether everything was flushed in time. Later calls do
    /// nothing and return `true`.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        if self.shut_down.swap(true, Ordering::SeqCst) {
            return true;
        }
        // The SDK's shutdowns block on their export threads; each runs on a
        // thread of its own, both at once, so the caller waits for the
        // slower one and never longer than `timeout`. (Ended spans already
        // recorded their metrics: the two are independent here.)
        let (done, finished) = std::sync::mpsc::channel();
        let mut waiting = 0;
        let tracer = self.tracer_provider.clone();
        let report = done.clone();
        waiting += spawn_shutdown(move || {
            let _ = report.send(tracer.shutdown_with_timeout(timeout).is_ok());
        });
        if let Some(meter) = self.meter_provider.clone() {
            waiting += spawn_shutdown(move || {
                let _ = done.send(meter.shutdown().is_ok());
            });
        }
        let deadline = std::time::Instant::now() + timeout;
        let mut all_ok = true;
        for _ in 0..waiting {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            all_ok &= finished.recv_timeout(left).unwrap_or(false);
        }
        all_ok && waiting > 0
    }
}

/// The span queue: smaller than the SDK's default (2048), whose slots are
/// allocated and touched up front (about 700 KiB that every `fork` of a
/// `run` step would copy page tables for); a batch leaves early when half
/// of it is full, so bursts are exported rather than dropped. The
/// `OTEL_BSP_*` variables still win.
fn batch_config() -> BatchConfig {
    let mut config = BatchConfigBuilder::default();
    if std::env::var_os("OTEL_BSP_MAX_QUEUE_SIZE").is_none() {
        config = config.with_max_queue_size(512);
    }
    if std::env::var_os("OTEL_BSP_MAX_EXPORT_BATCH_SIZE").is_none() {
        config = config.with_max_export_batch_size(256);
    }
    config.build()
}

/// Runs `shutdown` on a new thread; returns how many threads started (0 or 1).
fn spawn_shutdown(shutdown: impl FnOnce() + Send + 'static) -> usize {
    std::thread::Builder::new()
        .name("agentls-otlp-shutdown".into())
        .spawn(shutdown)
        .map(|_| 1)
        .unwrap_or(0)
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("agentls")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}
