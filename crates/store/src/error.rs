//! The store's error type: every failure names the run, step or file it is
//! about, so the engine can show it to a user as is.

use std::path::PathBuf;

use crate::{RunId, RunStatus, StepStatus};

/// Everything that can go wrong in the checkpoint store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or configured.
    #[error("cannot open the run store {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A schema migration failed; the database is left at the previous version.
    #[error("cannot upgrade the run store to schema version {version}: {source}")]
    Migrate {
        /// The version that failed to apply.
        version: u32,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer agentls; it is left untouched.
    #[error(
        "the run store has schema version {found} but this agentls understands at most \
         {supported}; upgrade agentls or point it at another state directory"
    )]
    SchemaTooNew {
        /// The version found in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// No run matches the id or prefix.
    #[error("no run matches `{0}`; `agentls runs` lists the runs of this workspace")]
    UnknownRun(String),
    /// Several runs share the prefix.
    #[error("run id prefix `{prefix}` is ambiguous: it matches {}; type more characters", candidates.join(", "))]
    AmbiguousRun {
        /// What the user typed.
        prefix: String,
        /// Some of the matching ids (at most ten).
        candidates: Vec<String>,
    },
    /// The text is not a run id (nor a prefix of one).
    #[error(
        "`{0}` is not a run id: run ids are up to 12 characters of 0-9 and a-z \
         (without i, l, o, u)"
    )]
    InvalidRunId(String),
    /// The run has no step at that position or with that id.
    #[error("run {run} has no step {step}")]
    UnknownStep {
        /// The run.
        run: RunId,
        /// The step index or id that was asked for.
        step: String,
    },
    /// Two steps of a new run share an id.
    #[error("cannot create the run: step id `{0}` appears twice")]
    DuplicateStep(String),
    /// The run's status may not change this way.
    #[error("run {run} cannot go from {from} to {to}")]
    IllegalRunTransition {
        /// The run.
        run: RunId,
        /// Its current status.
        from: RunStatus,
        /// The refused status.
        to: RunStatus,
    },
    /// The step's status may not change this way.
    #[error("run {run}, step `{step}`: cannot go from {from} to {to}")]
    IllegalStepTransition {
        /// The run.
        run: RunId,
        /// The step id.
        step: String,
        /// Its current status.
        from: StepStatus,
        /// The refused status.
        to: StepStatus,
    },
    /// A row that this build cannot read or that is not where it must be
    /// (an agent step's tool call).
    #[error("run store: {0}")]
    Corrupt(String),
    /// A JSON value could not be written or read back.
    #[error("run store JSON column: {0}")]
    Json(#[from] serde_json::Error),
    /// Any other SQLite failure (disk full, I/O error, corrupt file, ...).
    #[error("run store: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
