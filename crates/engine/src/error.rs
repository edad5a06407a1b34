//! Errors a caller of the engine can act on.

use agentls_store::{Action, RunStatus, StepStatus, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot create the state directory {path}: {source}")]
    StateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Untrusted(#[from] crate::TrustRequired),
    #[error("workflow `{workflow}`: {message}")]
    Params { workflow: String, message: String },
    /// The run's status does not accept the action (docs/architecture.md,
    /// "Actions"); `expected` lists the statuses that do.
    #[error("run {run} is {status}; {action} needs a run that is {expected}")]
    WrongState {
        run: String,
        status: RunStatus,
        action: Action,
        expected: String,
    },
    #[error("run {run} is being driven right now; cancel it first or wait for it")]
    Busy { run: String },
    #[error("run {run} has no step `{step}`")]
    UnknownStep { run: String, step: String },
    #[error("run {run}: step `{step}` is {status}; {action} applies to a {expected} step")]
    WrongStep {
        run: String,
        step: String,
        status: StepStatus,
        action: Action,
        expected: StepStatus,
    },
    /// Worktree isolation cannot do what was asked (no git repository,
    /// no worktree, a run not completed...); `run`: "run X" or "workflow Y".
    #[error("{run}: {message}")]
    Isolation { run: String, message: String },
    /// An answer to an agent's question that was answered already (by the
    /// editor, the CLI or another process) and not yet taken up.
    #[error("run {run}: step `{step}` has its answer already; it goes on")]
    Answered { run: String, step: String },
    #[error("run {run}: its workflow snapshot no longer parses: {message}")]
    Snapshot { run: String, message: String },
}
