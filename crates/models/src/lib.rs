//! agentls-models: the bridge between the engine's `prompt` and `agent`
//! steps and the model providers.
//!
//! What it owns: [`SessionModels`], one session's providers (built lazily
//! from a [`ProvidersConfig`](agentls_provider::ProvidersConfig), cached by
//! name, optionally recorded into a cassette), which implements
//! [`agentls_engine::Models`]: resolving provider names, streaming an answer
//! into the step's live output, fan-out over several providers with `pick`,
//! an agent step's turns (the conversation and tools out, text and tool
//! calls back), usage accounting. Also [`untrusted_config_problems`], the trust rule for
//! a workspace's own provider configuration.
//!
//! Architecture invariants: this crate knows nothing of LSP, of config files
//! and their layering (the server hands it a merged `ProvidersConfig` and a
//! way to read the environment), or of the store (the engine keeps what
//! [`agentls_engine::PromptOutcome`] returns). It holds no global state: a
//! `SessionModels` belongs to one workspace session, and so does every
//! provider (HTTP client, replay position) it builds.
//!
//! Observability: each provider call is a `tracing` span (`gen_ai.chat`,
//! target `agentls::trace`) with the OpenTelemetry GenAI attributes, and a
//! [`agentls_engine::ModelCall`] in the step's call log (for usage
//! statistics). Prompt and answer text go out only as an `agentls::content`
//! event, which only a telemetry layer that opted in enables, with the
//! session's keys and credential-shaped text redacted. See
//! docs/observability.md.
//!
//! Fan-out rules (documented for users in docs/workflows.md):
//! - the providers run concurrently and every answer is kept in
//!   `outputs.<name>`; `pick` only chooses what `output` is: `first` the
//!   first answer to finish successfully, `all` every answer under a
//!   `## name` heading, in the step's order;
//! - the step completes when at least one provider answers; each provider
//!   that failed is named, with its error, in the step's note (its `error`
//!   field) and in the live output, and has no entry in `outputs`. When
//!   every provider fails, the step fails with all their errors;
//! - usage sums the token counts; `provider` and `model` list the providers
//!   that answered, joined by `,`; latency is the wall time of the fan-out.

mod error;
mod live;
mod observe;
mod prompt;
mod redact;
mod session;
mod trust;
mod turn;

pub use error::ModelsError;
pub use session::SessionModels;
pub use trust::untrusted_config_problems;
