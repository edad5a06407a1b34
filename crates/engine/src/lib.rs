//! The run state machine of agentls.
//!
//! Owns: starting runs, driving their steps (run, prompt, edit, approve),
//! retries with backoff, timeouts, `allow_failure`, pausing on failure,
//! approvals, cancellation, and the operations a person applies to a run
//! (retry, skip, override, resume, approve, reject, cancel).
//!
//! Architecture invariants: the engine knows nothing of LSP or terminals; it
//! emits typed [`Event`]s to [`Subscriber`]s (the LSP bridge, the CLI
//! renderer, telemetry). A step transition is committed to the store before
//! any subscriber hears of it. One [`Engine`] serves one workspace; engines
//! of different workspaces share nothing.
//!
//! Observability: the engine opens `tracing` spans (target `agentls::trace`)
//! for each run it drives (`agentls.run`), each step attempt
//! (`agentls.step`) and each command (`agentls.command`), with the fields
//! docs/observability.md lists. It never depends on OpenTelemetry: the
//! server's telemetry layer turns the spans into traces and metrics, and
//! when none is installed the spans are disabled and cost nothing.

mod active;
mod context;
mod driver;
mod editor;
mod engine;
mod error;
mod event;
mod inputs;
mod isolation;
mod models;
mod owner;
mod steps;
mod tagged;
mod transcripts;
mod trust;

pub use agentls_chat as chat;
pub use agentls_store::{
    Action, AgentMessage, RunId, RunRecord, RunStatus, RunSummary, StepRecord, StepStatus, Store,
    ToolCallRecord, ToolCallStatus, Usage, Worktree, WorktreeState,
};
pub use editor::{DiskEditor, EditRequest, Editor};
pub use engine::{AcpAgent, Engine, EngineOptions, StartRequest};
pub use error::EngineError;
pub use event::{Event, Subscriber};
pub use inputs::{FileInput, Inputs, SelectionInput};
pub use models::{CallLog, ModelCall, Models, PromptCall, PromptOutcome, TurnCall, TurnOutcome};
pub use owner::live_owners;
pub use steps::SandboxSettings;
pub use tagged::{Tag, Tagged};
pub use transcripts::Transcripts;
pub use trust::{untrusted_actions, TrustRequired};
