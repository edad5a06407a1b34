//! The HTTP client the OTLP exporters post with: the workspace's reqwest
//! (rustls, no second HTTP stack), driven on the SDK's export threads, and
//! the one place export failures are reported, at most once a minute.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

/// At most one failure report per signal in this long.
pub(crate) const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Responses larger than this are not read (a collector answers a few bytes).
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// One signal's HTTP client: an async reqwest client on a single-threaded
/// runtime of its own, which the SDK's export thread (a plain thread, one
/// export at a time) drives itself with `block_on`. No request crosses to
/// another thread, and none touches the threads that drive runs.
///
/// Built by the first export, on the export thread, not when the pipeline
/// starts: the memory it takes (about a megabyte: TLS roots, the runtime)
/// would otherwise make every `fork` of a `run` step slower, and a CLI run
/// exports only when it ends.
#[derive(Debug)]
pub(crate) struct ExportClient {
    lane: Lane,
    errors: ErrorLog,
}

#[derive(Debug)]
struct Lane {
    timeout: Duration,
    built: OnceLock<Result<Built, String>>,
}

#[derive(Debug)]
struct Built {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Drop for Lane {
    fn drop(&mut self) {
        if let Some(Ok(built)) = self.built.take() {
            // A plain drop blocks, which panics inside an async context.
            built.runtime.shutdown_background();
        }
    }
}

impl Lane {
    /// The client, built for the scheme of the first URL it is used with
    /// (an exporter posts to one URL).
    fn get(&self, url: &str) -> Result<&Built, &str> {
        self.built
            .get_or_init(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the export runtime: {e}"))?;
                let client = reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout.min(Duration::from_secs(5)))
                    // A plain-HTTP collector (the usual local one) needs no
                    // TLS roots: loading them is most of building a client.
                    .tls_built_in_root_certs(url.starts_with("https:"))
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
                Ok(Built { runtime, client })
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

impl ExportClient {
    /// The client of `signal` (`traces`, `metrics`): requests give up after
    /// `timeout`, failures are reported under the signal's name.
    pub fn new(timeout: Duration, signal: &'static str) -> ExportClient {
        ExportClient {
            lane: Lane {
                timeout,
                built: OnceLock::new(),
            },
            errors: ErrorLog::new(signal, ERROR_LOG_INTERVAL),
        }
    }
}

#[async_trait]
impl HttpClient for ExportClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let built = match self.lane.get(&url) {
            Ok(built) => built,
            Err(err) => {
                self.errors.failed(&url, err);
                return Err(err.to_string().into());
            }
        };
        let request = built
            .client
            .request(parts.method, &url)
            .headers(parts.headers)
            .body(body);
        let sent = built.runtime.block_on(async move {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = if response.content_length().unwrap_or(0) > MAX_RESPONSE {
                Bytes::new()
            } else {
                response.bytes().await?
            };
            Ok::<_, reqwest::Error>((status, headers, body))
        });
        let (status, headers, body) = match sent {
            Ok(answer) => answer,
            Err(err) => {
                self.errors.failed(&url, &describe(&err));
                return Err(Box::new(err));
            }
        };
        if status.is_success() {
            self.errors.succeeded(&url);
        } else {
            self.errors
                .failed(&url, &format!("the collector answered {status}"));
        }
        let mut answer = Response::builder().status(status);
        if let Some(map) = answer.headers_mut() {
            *map = headers;
        }
        Ok(answer.body(body)?)
    }
}

/// What went wrong, in the words of the deepest cause ("Connection refused
/// (os error 111)", "operation timed out"): the top-level message repeats
/// the URL the log line already names.
fn describe(err: &reqwest::Error) -> String {
    let mut deepest = None;
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        deepest = Some(cause.to_string());
        source = cause.source();
    }
    match deepest {
        Some(cause) if err.is_timeout() => format!("timed out ({cause})"),
        Some(cause) => cause,
        None => err.to_string(),
    }
}

/// Reports export failures without flooding the log: the first failure at
/// once, then at most one line per interval with how many were held back,
/// and one line when exporting works again.
#[derive(Debug)]
pub(crate) struct ErrorLog {
    signal: &'static str,
    interval: Duration,
    state: Mutex<LogState>,
}

#[derive(Debug, Default)]
struct LogState {
    last_report: Option<Instant>,
    held_back: u64,
    failing: bool,
}

impl ErrorLog {
    pub fn new(signal: &'static str, interval: Duration) -> ErrorLog {
        ErrorLog {
            signal,
            interval,
            state: Mutex::new(LogState::default()),
        }
    }

    /// Records a failure; returns whether it was logged.
    pub fn failed(&self, url: &str, why: &str) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.failing = true;
        let due = state
            .last_report
            .is_none_or(|at| at.elapsed() >= self.interval);
        if !due {
            state.held_back += 1;
            return false;
        }
        let held = std::mem::take(&mut state.held_back);
        state.last_report = Some(Instant::now());
        drop(state);
        let more = if held > 0 {
            format!(" ({held} more failures since the last report)")
        } else {
            String::new()
        };
        tracing::warn!(
            "telemetry: exporting {} to {url} failed: {why}{more}; runs are not affected, \
             the next failure is reported in {}s at the earliest",
            self.signal,
            self.interval.as_secs()
        );
        true
    }

    /// Records a success (logging once that exporting works again).
    pub fn succeeded(&self, url: &str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if std::mem::take(&mut state.failing) {
            state.held_back = 0;
            drop(state);
            tracing::info!("telemetry: exporting {} to {url} works again", self.signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_reported_once_per_interval() {
        let log = ErrorLog::new("traces", Duration::from_secs(3600));
        assert!(log.failed("http://127.0.0.1:1/v1/traces", "refused"));
        for _ in 0..100 {
            assert!(!log.failed("http://127.0.0.1:1/v1/traces", "refused"));
        }
        assert_eq!(log.state.lock().unwrap().held_back, 100);
        log.succeeded("http://127.0.0.1:1/v1/traces");
        assert_eq!(log.state.lock().unwrap().held_back, 0);
    }

    #[test]
    fn a_due_failure_is_reported_again() {
        let log = ErrorLog::new("metrics", Duration::ZERO);
        assert!(log.failed("u", "refused"));
        assert!(log.failed("u", "refused"));
    }
}
