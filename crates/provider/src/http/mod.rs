//! The HTTP providers (`anthropic`, `openai`, `gemini`): one request/stream
//! loop with retries, timeouts and cancellation, parameterised by the
//! vendor's wire format.
//!
//! Owns the connection: a `reqwest::Client` per provider instance (so no
//! pooled connection is shared between sessions), closed on cancellation by
//! dropping the response. Knows nothing of what the answer is for.

mod retry;
mod sse;

use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

use crate::sse::Event;
use crate::wire::{self, BodyParams, DecodeError, Summary, Vendor};
use crate::{
    Chunk, Completion, Provider, ProviderError, Request, RetryPolicy, Secret, Secrets, Timeouts,
};
use retry::Jitter;
use sse::SseError;

/// Largest error body read from a failed response.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Everything an HTTP provider needs, validated and with defaults applied.
pub(crate) struct HttpSettings {
    pub name: String,
    pub vendor: Vendor,
    pub endpoint: reqwest::Url,
    pub model: String,
    pub key: Option<Secret>,
    pub headers: HeaderMap,
    /// The key and every configured header value: redacted from every
    /// message built from what the server sent.
    pub secrets: Secrets,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub openai_official: bool,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
}

/// A provider speaking one vendor's HTTP API.
pub(crate) struct HttpProvider {
    settings: HttpSettings,
    client: reqwest::Client,
    /// Auth, version, content type and the configured extra headers.
    headers: HeaderMap,
    jitter: Jitter,
}

impl HttpProvider {
    pub(crate) fn new(settings: HttpSettings) -> Result<Self, ProviderError> {
        let config_error = |message: String| ProviderError::Config {
            provider: settings.name.clone(),
            message,
        };
        let mut client = reqwest::Client::builder()
            // A redirect would carry the key header (x-api-key is not one
            // reqwest strips) to wherever the server points: never follow.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(connect) = settings.timeouts.connect {
            client = client.connect_timeout(connect);
        }
        let client = client
            .build()
            .map_err(|err| config_error(format!("cannot set up HTTP: {err}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        for (name, value) in settings
            .vendor
            .auth_headers(settings.key.as_ref())
            .map_err(config_error)?
        {
            headers.insert(name, value);
        }
        // Configured headers go last so they can override the defaults.
        for (name, value) in &settings.headers {
            headers.insert(name.clone(), value.clone());
        }
        Ok(HttpProvider {
            settings,
            client,
            headers,
            jitter: Jitter::from_clock(),
        })
    }

    async fn run(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> Result<Completion, ProviderError> {
        let s = &self.settings;
        let started = Instant::now();
        let body = s.vendor.body(
            &BodyParams {
                model: &s.model,
                max_tokens: request.max_tokens.or(s.max_tokens),
                temperature: request.temperature.or(s.temperature).map(wire::temperature),
                openai_official: s.openai_official,
            },
            &request,
        );
        let cancelled = || ProviderError::Cancelled {
            provider: s.name.clone(),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut progress = Progress::default();
            let result = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(cancelled()),
                result = self.attempt(&body, &request, &chunks, &mut progress, started) => result,
            };
            let failure = match result {
                Ok((summary, request_id)) => {
                    return Ok(Completion {
                        text: progress.text,
                        tool_calls: summary.tool_calls,
                        usage: summary.usage,
                        stop_reason: summary.stop_reason,
                        request_id: request_id.or(summary.message_id),
                        model: summary.model.or_else(|| Some(s.model.clone())),
                        attempts: attempt,
                        first_chunk: progress.first_chunk,
                        latency: started.elapsed(),
                    })
                }
                Err(failure) => failure,
            };
            // Once a prompt's text reached the caller a retry would repeat
            // it: fail. A tool turn is acted on only when whole, so it is
            // retried wherever it broke (docs/providers.md, "Tool calls").
            let streamed = !progress.text.is_empty() && !request.is_tool_turn();
            if streamed || !failure.retryable || attempt > s.retry.retries {
                return Err(self.error(failure, attempt));
            }
            let delay = match retry::delay(&s.retry, attempt, failure.retry_after, &self.jitter) {
                Ok(delay) => delay,
                Err(asked) => return Err(self.too_long(failure, asked, attempt)),
            };
            let reason = self.error(failure, attempt).to_string();
            tracing::warn!(provider = %s.name, attempt, ?delay, %reason, "retrying model request");
            let notice = Chunk::Retrying {
                attempt: attempt + 1,
                delay,
                reason,
            };
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(cancelled()),
                _ = async {
                    let _ = chunks.send(notice).await;
                    tokio::time::sleep(delay).await;
                } => {}
            }
        }
    }

    /// One request and its stream. Text goes to `chunks` and `progress`;
    /// the name of each tool call, as it starts, to `chunks`.
    async fn attempt(
        &self,
        body: &Value,
        request: &Request,
        chunks: &mpsc::Sender<Chunk>,
        progress: &mut Progress,
        started: Instant,
    ) -> Result<(Summary, Option<String>), Failure> {
        let s = &self.settings;
        let send = self
            .client
            .post(s.endpoint.clone())
            .headers(self.headers.clone())
            .json(body)
            .send();
        let sent = match s.timeouts.first_byte {
            Some(limit) => tokio::time::timeout(limit, send)
                .await
                .map_err(|_| Failure::retryable(FailureKind::FirstByte))?,
            None => send.await,
        };
        let response =
            sent.map_err(|err| Failure::retryable(FailureKind::Connection(describe(&err))))?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get(s.vendor.request_id_header())
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if !response.status().is_success() {
            let retry_after = retry::retry_after(response.headers(), SystemTime::now());
            // Redacted before a snippet is cut from it: a cut through a
            // secret would leave its first characters unmasked.
            let text = s
                .secrets
                .redact(&read_error_body(response, s.timeouts.idle).await);
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|body| wire::error_message(&body))
                .map(|(message, _)| message)
                .unwrap_or_else(|| wire::snippet(&text));
            return Err(Failure {
                kind: FailureKind::Status {
                    status,
                    message,
                    request_id,
                },
                retryable: retry::is_retryable_status(status),
                retry_after,
            });
        }

        let mut decoder = s.vendor.decoder(request);
        let mut events = sse::Events::new(response.bytes_stream(), s.timeouts.idle);
        'body: while events.read().await.map_err(sse_failure)? {
            while let Some(event) = events.next() {
                let mut decoded = decoder.event(&event);
                if decoded.is_err() && s.secrets.occurs_in(&event.data) {
                    // The message may quote a snippet of the event: cut it
                    // from redacted data, never through the middle of a
                    // secret.
                    let clean = Event {
                        event: event.event,
                        data: s.secrets.redact(&event.data).into(),
                    };
                    if let Err(err) = decoder.event(&clean) {
                        decoded = Err(err);
                    }
                }
                match decoded {
                    Ok(Some(text)) => {
                        if progress.first_chunk.is_none() {
                            progress.first_chunk = Some(started.elapsed());
                        }
                        progress.text.push_str(&text);
                        // A dropped receiver must not stop the answer: the
                        // completion still carries the whole text.
                        // `try_send` first: unlike `send`, it takes none of
                        // tokio's cooperative budget, which the thousands
                        // of chunks of an answer would use up every 128
                        // sends, each time making this task yield to the
                        // scheduler (and wake another thread).
                        if let Err(TrySendError::Full(chunk)) = chunks.try_send(Chunk::Text(text)) {
                            let _ = chunks.send(chunk).await;
                        }
                    }
                    Ok(None) => {}
                    Err(DecodeError::Vendor { message, retryable }) => {
                        return Err(Failure {
                            kind: FailureKind::Stream {
                                message,
                                request_id,
                            },
                            retryable,
                            retry_after: None,
                        })
                    }
                    Err(DecodeError::Malformed(message)) => {
                        return Err(Failure::fatal(FailureKind::Protocol(message)))
                    }
                }
                for name in decoder.take_started() {
                    if progress.first_chunk.is_none() {
                        progress.first_chunk = Some(started.elapsed());
                    }
                    let _ = chunks.send(Chunk::ToolCall { name }).await;
                }
                if decoder.is_done() {
                    break 'body;
                }
            }
        }
        if !decoder.is_complete() {
            return Err(Failure::retryable(FailureKind::Protocol(format!(
                "the answer stream ended before {}",
                decoder.expected_end()
            ))));
        }
        Ok((decoder.summary(), request_id))
    }

    fn error(&self, failure: Failure, attempts: u32) -> ProviderError {
        let s = &self.settings;
        let provider = s.name.clone();
        let clean = |text: String| s.secrets.redact(&text);
        match failure.kind {
            FailureKind::Status {
                status,
                message,
                request_id,
            } => ProviderError::Http {
                provider,
                status,
                message: clean(message),
                request_id,
                attempts,
            },
            FailureKind::Stream {
                message,
                request_id,
            } => ProviderError::Stream {
                provider,
                message: clean(message),
                request_id,
                attempts,
            },
            FailureKind::Connection(message) => ProviderError::Connection {
                provider,
                message: clean(message),
                attempts,
            },
            FailureKind::FirstByte => ProviderError::FirstByteTimeout {
                provider,
                after: s.timeouts.first_byte.unwrap_or_default(),
                attempts,
            },
            FailureKind::Idle => ProviderError::IdleTimeout {
                provider,
                after: s.timeouts.idle.unwrap_or_default(),
                attempts,
            },
            FailureKind::Protocol(message) => ProviderError::Protocol {
                provider,
                message: clean(message),
                attempts,
            },
        }
    }

    fn too_long(&self, failure: Failure, asked: Duration, attempts: u32) -> ProviderError {
        let (status, message) = match failure.kind {
            FailureKind::Status {
                status, message, ..
            } => (status, message),
            _ => (0, String::new()),
        };
        let message = self.settings.secrets.redact(&message);
        ProviderError::RetryAfterTooLong {
            provider: self.settings.name.clone(),
            status,
            message,
            wait: asked,
            cap: self.settings.retry.max_delay,
            attempts,
        }
    }
}

impl Provider for HttpProvider {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn stream(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<Completion, ProviderError>> {
        Box::pin(self.run(request, chunks, cancel))
    }
}

fn sse_failure(err: SseError) -> Failure {
    match err {
        SseError::Idle => Failure::retryable(FailureKind::Idle),
        SseError::Transport(message) => Failure::retryable(FailureKind::Connection(format!(
            "the connection broke during the answer: {message}"
        ))),
    }
}

/// What one attempt delivered so far.
#[derive(Default)]
struct Progress {
    text: String,
    first_chunk: Option<Duration>,
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    kind: FailureKind,
    retryable: bool,
    retry_after: Option<Duration>,
}

enum FailureKind {
    Status {
        status: u16,
        message: String,
        request_id: Option<String>,
    },
    Stream {
        message: String,
        request_id: Option<String>,
    },
    Connection(String),
    FirstByte,
    Idle,
    Protocol(String),
}

impl Failure {
    fn retryable(kind: FailureKind) -> Self {
        Failure {
            kind,
            retryable: true,
            retry_after: None,
        }
    }

    fn fatal(kind: FailureKind) -> Self {
        Failure {
            kind,
            retryable: false,
            retry_after: None,
        }
    }
}

/// A reqwest error with its causes ("error sending request for url (...):
/// ... Connection refused"), which its Display alone omits.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Reads at most [`ERROR_BODY_LIMIT`] bytes of an error response, giving up
/// (with what it has) when the body stalls.
async fn read_error_body(response: reqwest::Response, idle: Option<Duration>) -> String {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    loop {
        let next = match idle {
            Some(limit) => match tokio::time::timeout(limit, stream.next()).await {
                Ok(next) => next,
                Err(_) => break,
            },
            None => stream.next().await,
        };
        match next {
            Some(Ok(bytes)) => {
                body.extend_from_slice(&bytes);
                if body.len() >= ERROR_BODY_LIMIT {
                    body.truncate(ERROR_BODY_LIMIT);
                    break;
                }
            }
            Some(Err(_)) | None => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Parses configured extra headers.
pub(crate) fn parse_headers(
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid HTTP header name"))?;
        // Values may be credentials: never quote them.
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            format!("the value of header `{name}` is not a valid HTTP header value")
        })?;
        value.set_sensitive(true);
        map.insert(header, value);
    }
    Ok(map)
}
