//! The run model as the store keeps it: what the engine hands in to create
//! runs and record step results, and what it reads back. Plain data; the
//! store knows nothing of what a step kind or a provider means.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use agentls_workflow::SourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{RunId, RunStatus, StepStatus, UnknownName};

/// Where a workflow file came from (decides whether it needs trust).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowSource {
    /// Embedded in agentls.
    Builtin,
    /// The user's config directory.
    User,
    /// The workspace's `.agentls/workflows/`.
    Workspace,
}

impl WorkflowSource {
    /// The lowercase name used in the database and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowSource::Builtin => "builtin",
            WorkflowSource::User => "user",
            WorkflowSource::Workspace => "workspace",
        }
    }
}

/// A parsed workflow's source, as the store records it.
impl From<SourceKind> for WorkflowSource {
    fn from(kind: SourceKind) -> Self {
        match kind {
            SourceKind::Builtin => WorkflowSource::Builtin,
            SourceKind::User => WorkflowSource::User,
            SourceKind::Workspace => WorkflowSource::Workspace,
        }
    }
}

/// A recorded source, to parse a run's workflow snapshot again.
impl From<WorkflowSource> for SourceKind {
    fn from(source: WorkflowSource) -> Self {
        match source {
            WorkflowSource::Builtin => SourceKind::Builtin,
            WorkflowSource::User => SourceKind::User,
            WorkflowSource::Workspace => SourceKind::Workspace,
        }
    }
}

impl fmt::Display for WorkflowSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkflowSource {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            WorkflowSource::Builtin,
            WorkflowSource::User,
            WorkflowSource::Workspace,
        ]
        .into_iter()
        .find(|source| source.as_str() == s)
        .ok_or_else(|| UnknownName {
            what: "workflow source",
            text: s.to_owned(),
        })
    }
}

/// A step of a new run: its id and kind as the workflow names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep {
    /// The step's `id` in the workflow (unique within the run).
    pub id: String,
    /// The step kind (`run`, `prompt`, `edit`, `approve`, ...), kept as text.
    pub kind: String,
}

impl NewStep {
    /// A step with this id and kind.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> NewStep {
        NewStep {
            id: id.into(),
            kind: kind.into(),
        }
    }
}

/// Everything needed to create a run. The workflow text is snapshotted so
/// that resume and retry use exactly what the run started with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The workflow's name.
    pub workflow_name: String,
    /// Where the workflow came from.
    pub workflow_source: WorkflowSource,
    /// The workflow file, if it has one (built-ins have none).
    pub workflow_path: Option<PathBuf>,
    /// The workflow's TOML text at the time the run was created.
    pub workflow_content: String,
    /// The content hash (as the trust table records it).
    pub content_hash: String,
    /// The run's parameters.
    pub params: Value,
    /// Context the run started from: selection, file, diagnostics.
    pub inputs: Value,
    /// The steps in order.
    pub steps: Vec<NewStep>,
    /// The process that will drive the run (see [`crate::WriteTx::set_owner`]).
    pub owner: Option<String>,
}

/// Token usage and provider details of a step (all optional: `run` steps have none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: Option<u64>,
    /// Completion tokens.
    pub output_tokens: Option<u64>,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: Option<u64>,
    /// The provider name from the configuration.
    pub provider: Option<String>,
    /// The model that answered.
    pub model: Option<String>,
    /// Wall time of the provider call.
    pub latency_ms: Option<u64>,
}

/// The result of one step attempt, written by `finish_step`/`commit_step`.
#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    /// The step's new status (must be a legal move from its current one).
    pub status: StepStatus,
    /// The command's exit code, for `run` steps.
    pub exit_code: Option<i32>,
    /// The (capped) output text.
    pub output: String,
    /// Whether the output was capped (see `OutputBuffer`).
    pub output_truncated: bool,
    /// Structured outputs, e.g. one answer per provider.
    pub outputs: Option<Value>,
    /// Why the step failed, in words a user can act on.
    pub error: Option<String>,
    /// Token usage and provider details.
    pub usage: Usage,
    /// Every model call the attempt made (recorded for `Store::model_stats`).
    pub model_calls: Vec<ModelCall>,
}

/// One model call of a step attempt: one provider asked once (its own
/// retries included), whether it answered or failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCall {
    /// The provider name from the configuration.
    pub provider: String,
    /// The model that answered, else the model asked for (if known).
    pub model: Option<String>,
    /// Prompt tokens, as the vendor reported them.
    pub input_tokens: Option<u64>,
    /// Completion tokens.
    pub output_tokens: Option<u64>,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: Option<u64>,
    /// Wall time of the call, retries included.
    pub latency_ms: u64,
    /// From the call to the first piece of the answer.
    pub first_chunk_ms: Option<u64>,
    /// Why the call failed (a short class such as `http_429` or `timeout`);
    /// `None` when it answered.
    pub error_type: Option<String>,
}

impl StepResult {
    /// A result with this status and output and nothing else.
    pub fn new(status: StepStatus, output: impl Into<String>) -> StepResult {
        StepResult {
            status,
            exit_code: None,
            output: output.into(),
            output_truncated: false,
            outputs: None,
            error: None,
            usage: Usage::default(),
            model_calls: Vec::new(),
        }
    }
}

/// A step as stored. The output text is left out (it can be megabytes):
/// read it with `Store::step_output`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// Position in the run, from 0.
    pub idx: usize,
    /// The step's id in the workflow.
    pub step_id: String,
    /// The step kind.
    pub kind: String,
    /// Current status.
    pub status: StepStatus,
    /// How many times the step has been started.
    pub attempt: u32,
    /// Exit code of the last attempt's command.
    pub exit_code: Option<i32>,
    /// Size of the stored output text in bytes.
    pub output_len: u64,
    /// Whether the output was capped.
    pub output_truncated: bool,
    /// Structured outputs of the last attempt.
    pub outputs: Option<Value>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// When the last attempt started (unix ms).
    pub started_at: Option<i64>,
    /// When the last attempt finished (unix ms).
    pub finished_at: Option<i64>,
    /// Token usage and provider details of the last attempt.
    pub usage: Usage,
}

/// A run with all its steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// The run id.
    pub id: RunId,
    /// The workflow's name.
    pub workflow_name: String,
    /// Where the workflow came from.
    pub workflow_source: WorkflowSource,
    /// The workflow file, if any.
    pub workflow_path: Option<PathBuf>,
    /// The workflow's TOML text as the run started with it.
    pub workflow_content: String,
    /// The content hash.
    pub content_hash: String,
    /// The run's parameters.
    pub params: Value,
    /// The context the run started from.
    pub inputs: Value,
    /// Current status.
    pub status: RunStatus,
    /// Why the run failed or was cancelled, if it says.
    pub error: Option<String>,
    /// Creation time (unix ms).
    pub created_at: i64,
    /// Last change (unix ms).
    pub updated_at: i64,
    /// When the run reached a terminal status (unix ms).
    pub finished_at: Option<i64>,
    /// The steps in order.
    pub steps: Vec<StepRecord>,
}

impl RunRecord {
    /// The step with this workflow id.
    pub fn step(&self, step_id: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|step| step.step_id == step_id)
    }
}

/// One line of the run history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The run id.
    pub id: RunId,
    /// The workflow's name.
    pub workflow_name: String,
    /// Where the workflow came from.
    pub workflow_source: WorkflowSource,
    /// Current status.
    pub status: RunStatus,
    /// Why the run failed or was cancelled, if it says.
    pub error: Option<String>,
    /// Creation time (unix ms).
    pub created_at: i64,
    /// Last change (unix ms).
    pub updated_at: i64,
    /// When the run reached a terminal status (unix ms).
    pub finished_at: Option<i64>,
    /// Number of steps.
    pub steps_total: usize,
    /// Steps completed or skipped.
    pub steps_done: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_sources_convert_both_ways_and_keep_their_names() {
        for kind in [SourceKind::Builtin, SourceKind::User, SourceKind::Workspace] {
            let source = WorkflowSource::from(kind);
            assert_eq!(source.as_str(), kind.as_str());
            assert_eq!(SourceKind::from(source), kind);
        }
    }
}
