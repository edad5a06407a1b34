//! The one streaming interface every provider implements: a [`Request`] in,
//! [`Chunk`]s as they arrive, a [`Completion`] at the end.

use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::ProviderError;

/// What to ask a model. Fields left `None` take the provider's configured
/// values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// The user prompt.
    pub prompt: String,
    /// System instructions, sent the way each vendor expects them.
    pub system: Option<String>,
    /// Upper bound on answer tokens.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
}

impl Request {
    /// A request with only a prompt.
    pub fn new(prompt: impl Into<String>) -> Self {
        Request {
            prompt: prompt.into(),
            ..Request::default()
        }
    }
}

/// Something a provider reports while it streams.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk {
    /// A piece of the answer, in order. Concatenated, the pieces equal
    /// [`Completion::text`].
    Text(String),
    /// A transient failure before any text: the call is retried after
    /// `delay`. Never sent once text has streamed.
    Retrying {
        /// The attempt about to start (2 for the first retry).
        attempt: u32,
        /// How long the provider waits first.
        delay: Duration,
        /// What failed, for the person watching.
        reason: String,
    },
}

/// Token counts as the vendor reported them. `None`: not reported (a CLI
/// agent, a server that omits usage).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    pub input_tokens: Option<u64>,
    /// Answer tokens (thinking included where the vendor bills it so).
    pub output_tokens: Option<u64>,
    /// The part of `input_tokens` read from the vendor's prompt cache.
    pub cached_tokens: Option<u64>,
}

/// A finished answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The whole answer.
    pub text: String,
    /// Token usage.
    pub usage: Usage,
    /// Why the model stopped, in the vendor's words (`end_turn`, `stop`,
    /// `STOP`, `max_tokens`, ...).
    pub stop_reason: Option<String>,
    /// The vendor's request id (for support tickets), or its message id when
    /// no request id header came back.
    pub request_id: Option<String>,
    /// The model that answered, as the vendor named it.
    pub model: Option<String>,
    /// Attempts made, 1 when the first one succeeded.
    pub attempts: u32,
    /// From the call to the first text chunk of the successful attempt.
    pub first_chunk: Option<Duration>,
    /// From the call to the end of the answer, retries included.
    pub latency: Duration,
}

/// A model provider. One instance belongs to one session; nothing it holds
/// (connections, replay positions, keys) is shared with another.
pub trait Provider: Send + Sync {
    /// The configured name (`claude`, `local`, ...).
    fn name(&self) -> &str;

    /// Streams one answer: [`Chunk::Text`] pieces go to `chunks` as they
    /// arrive (a dropped receiver does not stop the call), then the
    /// [`Completion`] is returned.
    ///
    /// Cancelling `cancel` ends the call at once with
    /// [`ProviderError::Cancelled`], closing the connection (or killing the
    /// command). A failure after text has streamed is not retried: the
    /// error carries the vendor's message.
    fn stream(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<Completion, ProviderError>>;
}
