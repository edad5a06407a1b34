//! The one streaming interface every provider implements: a [`Request`] in,
//! [`Chunk`]s as they arrive, a [`Completion`] at the end.

use std::borrow::Cow;
use std::time::Duration;

use agentls_chat::{Message, ToolCall, ToolSpec};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::ProviderError;

/// What to ask a model. Fields left `None` take the provider's configured
/// values.
///
/// A prompt step asks with `prompt` alone. An agent step's turn sends the
/// whole conversation in `messages` (which then replaces `prompt`) and the
/// tools the model may call in `tools`: a request with tools is a *tool
/// turn*, retried by the HTTP providers until its answer is whole (see
/// [`Provider::stream`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// The user prompt; ignored when `messages` is not empty.
    pub prompt: String,
    /// The conversation so far, the task first; when empty, the request is
    /// the one user message `prompt`.
    pub messages: Vec<Message>,
    /// The tools the model may call.
    pub tools: Vec<ToolSpec>,
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

    /// One turn of an agent step: the conversation and the tools offered.
    pub fn turn(messages: Vec<Message>, tools: Vec<ToolSpec>) -> Self {
        Request {
            messages,
            tools,
            ..Request::default()
        }
    }

    /// Whether the model may call tools in this request.
    pub fn is_tool_turn(&self) -> bool {
        !self.tools.is_empty()
    }

    /// The messages to send: `messages`, or the one user message `prompt`.
    pub fn conversation(&self) -> Cow<'_, [Message]> {
        if self.messages.is_empty() {
            Cow::Owned(vec![Message::User {
                text: self.prompt.clone(),
            }])
        } else {
            Cow::Borrowed(&self.messages)
        }
    }

    /// The last thing the user said (the task, or a later instruction):
    /// what a cassette keeps for its readers.
    pub fn last_user_text(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find_map(|message| match message {
                Message::User { text } => Some(text.as_str()),
                _ => None,
            })
            .unwrap_or(&self.prompt)
    }
}

/// Something a provider reports while it streams.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk {
    /// A piece of the answer, in order. Concatenated, the pieces equal
    /// [`Completion::text`].
    Text(String),
    /// The model started a tool call (its arguments follow). Only for live
    /// progress: the call itself is in [`Completion::tool_calls`] once the
    /// answer is whole, and a call whose stream broke is never returned.
    ToolCall {
        /// The tool's name, as the model wrote it.
        name: String,
    },
    /// A transient failure: the call is retried after `delay`. In a prompt
    /// request only before any text; in a tool turn also after text, which
    /// the new attempt then replaces (the text already sent is void:
    /// [`Completion::text`] holds the successful attempt's alone).
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
    /// The tools the model asked to call, in order, each with its whole
    /// arguments; empty when it answered in text only.
    pub tool_calls: Vec<ToolCall>,
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
    /// From the call to the first text chunk (or tool call) of the
    /// successful attempt.
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
    /// command). In a prompt request, a failure after text has streamed is
    /// not retried: the error carries the vendor's message. In a tool turn
    /// ([`Request::is_tool_turn`]) nothing is acted on until the answer is
    /// whole, so a transient failure is retried wherever the stream broke,
    /// in the middle of a tool call's arguments included; a partial tool
    /// call is never returned.
    fn stream(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<Completion, ProviderError>>;
}
