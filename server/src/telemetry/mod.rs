//! Logging and OpenTelemetry export.
//!
//! Owns: the process's tracing subscriber. Logs go to a size-capped file in
//! the state directory and, from warnings up, to stderr; never to stdout:
//! in `serve`, stdout is JSON-RPC's. Editors read the server's stderr as
//! errors (Helix logs every line of it at error level), so routine lines
//! stay in the file. When the `OTEL_*` variables or the user's
//! `[telemetry]` config name a collector, agentls's spans (runs, steps,
//! commands, model calls) and the metrics derived from them are exported
//! with OTLP/HTTP as well (see docs/observability.md); the returned
//! [`TelemetryGuard`] flushes them before the process exits.
//!
//! Must never know: LSP. The run spans come from the engine and the models
//! crate; this module only decides where they go.

mod logfile;
pub mod stats;

pub use agentls_telemetry::{OutboxMeter, OutboxTotals};
pub use logfile::CappedFile;

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use agentls_telemetry::{Settings, Telemetry, TelemetryConfig, CONTENT_TARGET, TRACE_TARGET};
use tracing_subscriber::filter::{FilterExt, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::config::ConfigFile;

/// The log file keeps at most this many bytes before it rolls over to `.1`.
pub const LOG_FILE_CAP: u64 = 10 * 1024 * 1024;

/// The most stderr carries: editors show or log every stderr line as an
/// error, so info and below go to the log file only.
pub const STDERR_MAX_LEVEL: LevelFilter = LevelFilter::WARN;

/// How long the process waits at exit for telemetry to reach the collector.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// Flushes the exported telemetry when dropped (or when
/// [`TelemetryGuard::shutdown`] is called, e.g. before `process::exit`).
/// Without export, it does nothing.
#[must_use = "dropping the guard stops the telemetry export at once"]
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    telemetry: Option<Telemetry>,
}

impl TelemetryGuard {
    /// Whether spans and metrics are being exported.
    pub fn is_exporting(&self) -> bool {
        self.telemetry.is_some()
    }

    /// Exports what is pending and stops, waiting at most [`FLUSH_TIMEOUT`].
    /// Later calls do nothing.
    pub fn shutdown(&mut self) {
        if let Some(telemetry) = self.telemetry.take() {
            if !telemetry.shutdown(FLUSH_TIMEOUT) {
                tracing::warn!(
                    "telemetry: not everything reached the collector within {}s",
                    FLUSH_TIMEOUT.as_secs()
                );
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Installs the global subscriber: `<state_base>/agentls.log`, stderr for
/// warnings and errors, and OTLP export when configured. The log level
/// comes from `AGENTLS_LOG` (EnvFilter syntax), default `default_level`;
/// stderr never carries more than warnings, whatever it says. A log file that cannot be
/// opened is reported on stderr and skipped; a telemetry setting that
/// cannot work is logged and export stays off.
/// The ACP SDK warns about every error it answers an agent with (a path
/// outside the workspace, an unknown method): what the step's live output
/// already says. Those go to the log file only; its errors still reach
/// stderr.
fn quiet_acp_sdk() -> tracing_subscriber::filter::FilterFn {
    tracing_subscriber::filter::filter_fn(|meta| {
        !meta.target().starts_with("agent_client_protocol")
            || *meta.level() <= tracing::Level::ERROR
    })
}

pub fn init_logging(state_base: &Path, default_level: &str) -> TelemetryGuard {
    let (telemetry, problem) =
        match Settings::resolve(&user_telemetry_config(), |var| std::env::var(var).ok()) {
            Ok(Some(settings)) => match Telemetry::start(&settings) {
                Ok(telemetry) => (Some(telemetry), None),
                Err(err) => (None, Some(err.to_string())),
            },
            Ok(None) => (None, None),
            Err(err) => (None, Some(err.to_string())),
        };
    // `AGENTLS_LOG`, with `targets` set to `level`.
    let filter = |targets: &[&str], level: &str| {
        let base = EnvFilter::try_from_env("AGENTLS_LOG")
            .unwrap_or_else(|_| EnvFilter::new(default_level));
        targets
            .iter()
            .filter_map(|target| format!("{target}={level}").parse().ok())
            .fold(base, EnvFilter::add_directive)
    };
    // Spans and content are for the exporter, never for the log: the log
    // stays as it was, and prompt text never reaches a log file.
    let logged = || filter(&[TRACE_TARGET, CONTENT_TARGET], "off");
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(logged().and(STDERR_MAX_LEVEL).and(quiet_acp_sdk()));
    let file = match CappedFile::open(&state_base.join("agentls.log"), LOG_FILE_CAP) {
        Ok(file) => Some(
            fmt::layer()
                .with_ansi(false)
                .with_writer(file)
                .with_filter(logged()),
        ),
        Err(err) => {
            eprintln!("agentls: log file disabled: {err}");
            None
        }
    };
    let otel = telemetry.as_ref().map(|t| t.layer());
    // What any layer may want, as one global filter: a callsite none wants
    // is never enabled, so its fields are never computed. Without it, the
    // per-layer filters leave every callsite "sometimes" enabled and the
    // ACP SDK formats its handler chain for a `trace!` at every message
    // (docs/benchmarks.md, "An ACP agent step's cost per session/update").
    let exported: &[&str] = match telemetry {
        Some(_) => &[TRACE_TARGET, CONTENT_TARGET],
        None => &[],
    };
    let wanted = filter(exported, "info");
    let installed = tracing_subscriber::registry()
        .with(wanted)
        .with(stderr)
        .with(file)
        .with(otel)
        .try_init()
        .is_ok();
    if let Some(problem) = problem {
        tracing::warn!("{problem}; telemetry is not exported");
    }
    let telemetry = telemetry.filter(|_| installed);
    if let Some(telemetry) = &telemetry {
        telemetry.install_global();
        let settings = telemetry.settings();
        tracing::debug!(
            "telemetry: exporting {} to {} as {} (content {})",
            settings.protocol.as_str(),
            settings
                .traces_endpoint
                .as_deref()
                .or(settings.metrics_endpoint.as_deref())
                .unwrap_or_default(),
            settings.service_name,
            if settings.record_content {
                "recorded, secrets redacted"
            } else {
                "not recorded"
            }
        );
    }
    TelemetryGuard { telemetry }
}

/// The `[telemetry]` section of the user's own config file. Workspace
/// config files are not read for it: a cloned repository must not be able
/// to send the user's traces (or, with content on, prompts) elsewhere. A
/// broken file leaves telemetry to the environment variables.
fn user_telemetry_config() -> TelemetryConfig {
    let mut file = ConfigFile::new(crate::state::user_config_file());
    file.reload();
    file.good
        .as_ref()
        .and_then(|value| value.get("telemetry"))
        .and_then(|section| serde_json::from_value(section.clone()).ok())
        .unwrap_or_default()
}

/// The outbox's counters as the telemetry meter takes them.
pub fn outbox_totals(stats: &agentls_stream::Stats) -> OutboxTotals {
    OutboxTotals {
        sent: stats.sent,
        coalesced: stats.coalesced,
        dropped: stats.dropped,
    }
}
