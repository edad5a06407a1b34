//! The agentls extensions to LSP, as types: every `agent.*` command's
//! argument and result, and the `agent/output` and `agent/state`
//! notifications. This file is the wire format; docs/protocol.md says the
//! same in prose, and a test holds the two together (`tests` below: a
//! field added here and not there, or there and not here, fails it).
//!
//! Handlers build these types and nothing else: no JSON is written by hand
//! on the way to the editor.

use std::collections::BTreeMap;
use std::path::PathBuf;

use agentls_engine::{Action, RunStatus, StepStatus, Usage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::{Diagnostic, Range, Uri};

/// A `workspace/executeCommand` command: its name, its one object argument
/// and its result.
pub trait Command {
    const NAME: &'static str;
    type Args: DeserializeOwned + Default;
    type Result: Serialize;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $kind:ident = $name:literal, $args:ty => $result:ty;)*) => {
        $(
            $(#[$doc])*
            pub enum $kind {}
            impl Command for $kind {
                const NAME: &'static str = $name;
                type Args = $args;
                type Result = $result;
            }
        )*
        /// Every command the server executes, as listed in its capabilities.
        pub const COMMANDS: &[&str] = &[$($name),*];
    };
}

commands! {
    /// The workflows a workspace can run.
    Workflows = "agent.workflows", UriArgs => Vec<WorkflowInfo>;
    /// Starts a run; answers at once.
    Run = "agent.run", StartArgs => RunStarted;
    /// One run, or the runs not finished.
    Status = "agent.status", RunArgs => StatusResult;
    /// The run history.
    Runs = "agent.runs", RunsArgs => Vec<RunSummary>;
    /// A step's (or every step's) stored output.
    Output = "agent.output", StepArgs => OutputResult;
    /// Cancels a run.
    Cancel = "agent.cancel", RunArgs => RunState;
    /// Runs the failed step again.
    Retry = "agent.retry", StepArgs => RunState;
    /// Goes on without the failed step.
    Skip = "agent.skip", StepArgs => RunState;
    /// Gives the failed step an output by hand.
    Override = "agent.override", OverrideArgs => RunState;
    /// Continues an interrupted run.
    Resume = "agent.resume", RunArgs => RunState;
    /// Approves the waiting step.
    Approve = "agent.approve", DecisionArgs => RunState;
    /// Rejects the waiting step.
    Reject = "agent.reject", DecisionArgs => RunState;
    /// Model usage per workspace.
    Stats = "agent.stats", StatsArgs => StatsResult;
    /// The effective configuration of a session.
    Config = "agent.config", UriArgs => ConfigResult;
    /// What the server holds for an open document.
    Document = "agent.document", UriArgs => DocumentResult;
    /// The patch of a run isolated in a worktree.
    Diff = "agent.diff", RunArgs => DiffResult;
    /// Applies a completed worktree run's patch to the workspace.
    Apply = "agent.apply", RunArgs => ApplyResult;
    /// Drops a worktree run's changes and its worktree.
    Discard = "agent.discard", RunArgs => RunState;
}

// ---- arguments ------------------------------------------------------------

/// `{uri?}`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UriArgs {
    pub uri: Option<Uri>,
}

/// `agent.run`: `{workflow, uri?, range?, params?, diagnostics?}`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartArgs {
    pub workflow: Option<String>,
    pub uri: Option<Uri>,
    pub range: Option<Range>,
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
}

/// A command that names a run: `{runId?, uri?}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunArgs {
    pub run_id: Option<String>,
    pub uri: Option<Uri>,
}

/// A command that names a run and maybe a step: `{runId?, step?, uri?}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepArgs {
    pub run_id: Option<String>,
    pub step: Option<String>,
    pub uri: Option<Uri>,
}

/// `agent.override`: `{runId?, step, output, uri?}`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverrideArgs {
    pub run_id: Option<String>,
    pub step: Option<String>,
    pub output: Option<String>,
    pub uri: Option<Uri>,
}

/// `agent.approve`, `agent.reject`: `{runId?, step?, reason?, always?, uri?}`
/// (`always`: approve only).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionArgs {
    pub run_id: Option<String>,
    pub step: Option<String>,
    pub reason: Option<String>,
    pub always: Option<bool>,
    pub uri: Option<Uri>,
}

/// `agent.runs`: `{uri?, limit?}`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunsArgs {
    pub uri: Option<Uri>,
    pub limit: Option<usize>,
}

/// `agent.stats`: `{uri?, since?}`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatsArgs {
    pub uri: Option<Uri>,
    pub since: Option<String>,
}

// ---- results --------------------------------------------------------------

/// One entry of `agent.workflows`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowInfo {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `builtin`, `user` or `workspace`.
    pub source: &'static str,
    pub path: Option<PathBuf>,
    pub params: Vec<ParamInfo>,
    pub applies: Applies,
}

/// A workflow parameter.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamInfo {
    pub name: String,
    pub description: Option<String>,
    pub default: Option<String>,
    pub required: bool,
}

/// Where a workflow is offered as a code action.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applies {
    /// The workflow has an `[applies]` table.
    pub code_action: bool,
    pub languages: Vec<String>,
    pub selection: bool,
    pub diagnostics: bool,
}

/// `agent.run`: the new run's id.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStarted {
    pub run_id: String,
}

/// `agent.status`: one run, or the runs not finished.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum StatusResult {
    One(Box<RunState>),
    Unfinished(Vec<RunState>),
}

/// A run as command results describe it (docs/protocol.md, "Run state").
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub run_id: String,
    pub workflow: String,
    pub title: Option<String>,
    /// `builtin`, `user` or `workspace`.
    pub source: agentls_store::WorkflowSource,
    pub status: RunStatus,
    pub error: Option<String>,
    /// What the run accepts now (docs/architecture.md, "Actions").
    pub actions: Vec<Action>,
    /// A task is driving the run right now.
    pub active: bool,
    pub workspace: PathBuf,
    pub transcript: PathBuf,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub steps: Vec<StepState>,
    /// The run's worktree; absent for a run in the workspace itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<IsolationState>,
}

/// The worktree a run is isolated in (docs/workflows.md, "Isolation").
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IsolationState {
    /// The worktree's directory.
    pub worktree: PathBuf,
    /// `agentls/<runId>`.
    pub branch: String,
    /// The commit it started from (HEAD plus the user's uncommitted
    /// changes); `null` until the worktree is made.
    pub base: Option<String>,
    /// `pending`, `active`, `applied` or `discarded`.
    pub state: agentls_engine::WorktreeState,
}

/// `agent.diff`: a worktree run's patch, also written to a file the editor
/// can open (`uri`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffResult {
    pub run_id: String,
    /// The files the patch touches, relative to the workspace.
    pub files: Vec<String>,
    /// The patch, as `git diff` writes it; empty when the run changed nothing.
    pub patch: String,
    /// A `file://` URI of the patch written to the state directory.
    pub uri: Option<Uri>,
}

/// `agent.apply`: the patch applies to the workspace as it is now; the
/// edit goes on in a task (`workspace/applyEdit` for the editor).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyResult {
    pub run_id: String,
    /// The files the patch touches, relative to the workspace.
    pub files: Vec<String>,
}

/// A step of a [`RunState`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepState {
    pub id: String,
    pub title: Option<String>,
    pub kind: String,
    pub status: StepStatus,
    /// What may name this step now (docs/architecture.md, "Actions").
    pub actions: Vec<Action>,
    pub attempt: u32,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub output_bytes: u64,
    pub output_truncated: bool,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub usage: Usage,
}

/// One entry of `agent.runs`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub run_id: String,
    pub workflow: String,
    pub source: agentls_store::WorkflowSource,
    pub status: RunStatus,
    pub error: Option<String>,
    /// What the run accepts now (docs/architecture.md, "Actions").
    pub actions: Vec<Action>,
    pub workspace: PathBuf,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub steps_total: usize,
    pub steps_done: usize,
}

/// `agent.output`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputResult {
    pub run_id: String,
    /// The step asked for; `null` for every step.
    pub step: Option<String>,
    /// The step's status, or the run's for every step.
    pub status: &'static str,
    pub truncated: bool,
    pub text: String,
}

/// `agent.stats`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsResult {
    pub since: Option<String>,
    pub workspaces: Vec<WorkspaceStats>,
}

/// One workspace's model usage.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceStats {
    pub root: Option<String>,
    pub models: Vec<ModelStats>,
}

/// One (provider, model) row of `agent.stats`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelStats {
    pub provider: String,
    pub model: Option<String>,
    pub calls: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
}

/// `agent.config`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigResult {
    pub workspace: Option<PathBuf>,
    pub workspace_id: String,
    /// The effective configuration (docs/configuration.md).
    pub config: Value,
    pub files: Vec<ConfigFile>,
}

/// A configuration file the session read, and what was wrong with it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFile {
    pub path: PathBuf,
    pub error: Option<String>,
}

/// `agent.document`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentResult {
    pub version: i32,
    pub text: String,
}

// ---- notifications --------------------------------------------------------

/// `agent/output`: live output of a run's step (opt-in clients only).
pub enum AgentOutput {}

impl Notification for AgentOutput {
    type Params = OutputParams;
    const METHOD: &'static str = "agent/output";
}

/// `agent/output` params.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputParams {
    pub run_id: String,
    pub step: String,
    pub text: String,
    /// Counts the run's output notifications from 0, without gaps.
    pub seq: u64,
}

/// `agent/state`: a run's status and steps (opt-in clients only).
pub enum AgentState {}

impl Notification for AgentState {
    type Params = RunEvent;
    const METHOD: &'static str = "agent/state";
}

/// `agent/state` params: what changes while a run goes on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    pub run_id: String,
    pub workflow: String,
    pub title: Option<String>,
    pub status: RunStatus,
    pub error: Option<String>,
    pub actions: Vec<Action>,
    pub steps: Vec<StepEvent>,
}

/// A step of a [`RunEvent`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepEvent {
    pub id: String,
    pub title: Option<String>,
    pub kind: String,
    pub status: StepStatus,
    pub actions: Vec<Action>,
    pub attempt: u32,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests;
