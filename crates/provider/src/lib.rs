//! agentls-provider: the model providers of agentls behind one streaming
//! interface.
//!
//! What it owns: the [`Provider`] trait ([`Request`] in, a prompt or an
//! agent step's conversation with tools; [`Chunk`]s as they arrive; a
//! [`Completion`] with the tool calls, usage, stop reason and request id at
//! the end; cancellation that closes the connection); the adapters
//! (`anthropic`, `openai` and OpenAI-compatible servers, `gemini`, `command`
//! for CLI agents, `replay` for cassettes); retries, backoff and timeouts;
//! [`ProviderConfig`] with the built-in providers and defaults; [`build`];
//! cassettes and the [`Recorder`]; [`Secret`] for API keys.
//!
//! Architecture invariant: this crate knows nothing of LSP, workflows,
//! steps or SQLite. It is handed a configuration, a way to read environment
//! variables and a workspace root; what an answer is for is the engine's
//! business. It holds no global state: every provider instance (its HTTP
//! client, its replay position) belongs to the session that built it.
//!
//! Secrets: keys live in [`Secret`] (Debug/Display print `***`), go into one
//! request header, and are redacted from any server text put into an error,
//! together with every configured header value ([`Secrets`]: what a provider
//! must never repeat).
//! Command providers run with provider keys scrubbed from their environment.
//!
//! User documentation: `docs/providers.md`.

mod build;
mod cassette;
mod command;
mod config;
mod duration;
mod error;
mod http;
mod interface;
mod secret;
mod sse;
#[cfg(feature = "testing")]
pub mod testing;
mod wire;

pub use agentls_chat::{Message, ToolCall, ToolResult, ToolSpec};
pub use build::build;
pub use cassette::{
    Cassette, CassetteCall, CassetteEntry, CassetteWriter, Recorder, CASSETTE_VERSION,
};
pub use config::{
    builtin_providers, Kind, PromptVia, ProviderConfig, ProvidersConfig, RetryPolicy, Timeouts,
    DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_ANTHROPIC_MAX_TOKENS, DEFAULT_ANTHROPIC_MODEL,
    DEFAULT_GEMINI_BASE_URL, DEFAULT_GEMINI_MODEL, DEFAULT_OPENAI_BASE_URL, DEFAULT_OPENAI_MODEL,
    DEFAULT_PROVIDER,
};
pub use duration::ConfigDuration;
pub use error::ProviderError;
pub use interface::{Chunk, Completion, Provider, Request, Usage};
pub use secret::{Secret, Secrets};
pub use tokio_util::sync::CancellationToken;
