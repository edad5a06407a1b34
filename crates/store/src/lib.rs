//! agentls-store: the durable checkpoint store of agentls, and the run model
//! (ids, statuses, records) the engine re-exports.
//!
//! Owns: one SQLite database per workspace (the caller picks the path, e.g.
//! `<state-dir>/agentls.db`), its schema and migrations, the legal status
//! transitions of runs and steps, and the per-step output cap.
//!
//! Architecture invariant: this crate knows nothing of LSP, PTYs, providers
//! or workflow syntax. Step kinds and provider names are opaque text here.
//! Every write is a committed transaction when the call returns, so callers
//! may announce a transition as soon as the store accepted it.

mod agent;
mod calls;
mod error;
mod health;
mod id;
mod model;
mod output;
mod schema;
mod sql;
mod status;
mod store;
mod worktrees;
mod write;

pub use agent::{AgentMessage, NewToolCall, ToolCallRecord, ToolCallStatus};
pub use calls::ModelStats;
pub use error::StoreError;
pub use health::Health;
pub use id::RunId;
pub use model::{
    ModelCall, NewRun, NewStep, RunRecord, RunSummary, StepRecord, StepResult, Usage,
    WorkflowSource,
};
pub use output::{OutputBuffer, DEFAULT_OUTPUT_CAP};
pub use schema::SCHEMA_VERSION;
pub use status::{Action, RunStatus, StepStatus, UnknownName};
pub use store::{Durability, Store};
pub use worktrees::{Worktree, WorktreeState};
pub use write::WriteTx;
