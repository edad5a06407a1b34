//! [`ProviderError`]: why a provider could not be built or could not answer,
//! worded for the person who has to act on it. No message ever contains a
//! key: keys are [`Secret`](crate::Secret)s, and text sent back by a server
//! is redacted before it is put in an error.

use std::path::PathBuf;
use std::time::Duration;

/// A provider failure. Every variant names the provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The key variable is unset or empty; nothing was sent.
    #[error(
        "provider `{provider}`: the environment variable {var} (its API key) is not set or empty; \
         export it, or name another variable with `api_key_env` in [providers.{provider}]"
    )]
    MissingKey {
        /// Provider name.
        provider: String,
        /// The variable that was looked up.
        var: String,
    },
    /// The provider's configuration cannot work (bad URL, missing model,
    /// a key that does not belong to its kind, ...).
    #[error("provider `{provider}`: {message}")]
    Config {
        /// Provider name.
        provider: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The server answered with an error status (after retries when it was
    /// transient).
    #[error(
        "provider `{provider}`: HTTP {status}: {message}{}{}",
        request_note(request_id), attempts_note(*attempts)
    )]
    Http {
        /// Provider name.
        provider: String,
        /// HTTP status code.
        status: u16,
        /// The vendor's error message (or the start of the body).
        message: String,
        /// The vendor's request id, when sent.
        request_id: Option<String>,
        /// Attempts made.
        attempts: u32,
    },
    /// The vendor reported an error inside the stream (an SSE `error` event
    /// after the 200).
    #[error(
        "provider `{provider}`: the answer stream failed: {message}{}{}",
        request_note(request_id), attempts_note(*attempts)
    )]
    Stream {
        /// Provider name.
        provider: String,
        /// The vendor's message, with its error type.
        message: String,
        /// The vendor's request id, when sent.
        request_id: Option<String>,
        /// Attempts made.
        attempts: u32,
    },
    /// No connection could be made, or it broke before the answer ended.
    #[error("provider `{provider}`: {message}{}", attempts_note(*attempts))]
    Connection {
        /// Provider name.
        provider: String,
        /// What the network layer said, with the URL.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// No response headers (or, for `command`, no output) within the limit.
    #[error(
        "provider `{provider}`: no response within {} (first_byte_timeout){}",
        show(*after), attempts_note(*attempts)
    )]
    FirstByteTimeout {
        /// Provider name.
        provider: String,
        /// The configured limit.
        after: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The answer stalled longer than the limit between two chunks.
    #[error(
        "provider `{provider}`: the answer stalled for {} (idle_timeout){}",
        show(*after), attempts_note(*attempts)
    )]
    IdleTimeout {
        /// Provider name.
        provider: String,
        /// The configured limit.
        after: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The server sent something that is not its documented wire format,
    /// or ended the stream before the answer was complete.
    #[error("provider `{provider}`: {message}{}", attempts_note(*attempts))]
    Protocol {
        /// Provider name.
        provider: String,
        /// What was wrong.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The server asked to wait longer than `retry_max_delay`; the call
    /// fails at once rather than hang.
    #[error(
        "provider `{provider}`: HTTP {status}: {message}; the server asks to retry after {}, \
         more than retry_max_delay ({}){}",
        show(*wait), show(*cap), attempts_note(*attempts)
    )]
    RetryAfterTooLong {
        /// Provider name.
        provider: String,
        /// HTTP status code.
        status: u16,
        /// The vendor's error message.
        message: String,
        /// What `retry-after` asked for.
        wait: Duration,
        /// The configured cap.
        cap: Duration,
        /// Attempts made.
        attempts: u32,
    },
    /// The call was cancelled; the connection is closed (or the command
    /// killed).
    #[error("provider `{provider}`: cancelled")]
    Cancelled {
        /// Provider name.
        provider: String,
    },
    /// A `command` provider's program failed.
    #[error("provider `{provider}`: `{command}` {outcome}{}", tail_note(tail))]
    CommandFailed {
        /// Provider name.
        provider: String,
        /// The command line (without the prompt).
        command: String,
        /// How it ended, e.g. "exited with code 2".
        outcome: String,
        /// The end of its output, to show what went wrong.
        tail: String,
    },
    /// A `command` provider's program could not be run.
    #[error("provider `{provider}`: cannot run `{command}`: {source}")]
    Exec {
        /// Provider name.
        provider: String,
        /// The command line (without the prompt).
        command: String,
        /// What the execution layer said.
        source: agentls_exec::ExecError,
    },
    /// An agent step's turn (a conversation with tools) went to a provider
    /// that cannot call tools.
    #[error(
        "provider `{provider}` (kind `{kind}`) cannot call tools: an agent step needs a provider \
         of kind anthropic, openai, gemini or replay; set `provider` on the step, or \
         `default_provider`, to one"
    )]
    NoToolCalling {
        /// Provider name.
        provider: String,
        /// Its kind.
        kind: &'static str,
    },
    /// A cassette file cannot be read or written, or is malformed.
    #[error("cassette {}: {message}", path.display())]
    Cassette {
        /// The cassette file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A replay provider was asked for more answers than were recorded for
    /// it.
    #[error(
        "provider `{provider}`: cassette {} has no more answers recorded for `{provider}` \
         ({recorded} recorded, all served); record the run again with `agentls run --record`",
        path.display()
    )]
    ReplayExhausted {
        /// Provider name.
        provider: String,
        /// The cassette file.
        path: PathBuf,
        /// How many entries the cassette holds for this provider.
        recorded: usize,
    },
}

impl ProviderError {
    /// True for [`ProviderError::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ProviderError::Cancelled { .. })
    }
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn request_note(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" [request id {id}]"),
        None => String::new(),
    }
}

fn tail_note(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!("; its output ended with:\n{tail}")
    }
}

/// `1.5s`, `250ms`, `30s`.
pub(crate) fn show(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
