//! Logging (and, later, OpenTelemetry export).
//!
//! Owns: the tracing subscriber. Logs go to stderr and to a size-capped file
//! in the state directory, never to stdout: in `serve`, stdout is JSON-RPC's.

mod logfile;

pub use logfile::CappedFile;

use std::io::IsTerminal;
use std::path::Path;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The log file keeps at most this many bytes before it rolls over to `.1`.
pub const LOG_FILE_CAP: u64 = 10 * 1024 * 1024;

/// Installs the global subscriber: stderr plus `<state_base>/agentls.log`.
/// The level comes from `AGENTLS_LOG` (EnvFilter syntax), default `info`.
/// A log file that cannot be opened is reported on stderr and skipped.
pub fn init_logging(state_base: &Path, default_level: &str) {
    let filter =
        || EnvFilter::try_from_env("AGENTLS_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(filter());
    let file = match CappedFile::open(&state_base.join("agentls.log"), LOG_FILE_CAP) {
        Ok(file) => Some(
            fmt::layer()
                .with_ansi(false)
                .with_writer(file)
                .with_filter(filter()),
        ),
        Err(err) => {
            eprintln!("agentls: log file disabled: {err}");
            None
        }
    };
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}
