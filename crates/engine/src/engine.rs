//! The [`Engine`] of one workspace: opens its store, starts runs and
//! applies a person's decisions to them (those that set a run going are in
//! `tagged`), and drives each run in a task (the set of runs being driven
//! is `active`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use agentls_store::{
    Action, RunId, RunRecord, RunStatus, StepRecord, StepResult, StepStatus, Store, ToolCallStatus,
};
use agentls_workflow::{SourceKind, StepKind, Templates, Workflow};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::active::Active;
use crate::editor::{DiskEditor, Editor};
use crate::error::EngineError;
use crate::event::{Event, Subscriber};
use crate::inputs::Inputs;
use crate::models::Models;
use crate::owner::Owner;
use crate::steps::SandboxSettings;
use crate::tagged::{Tag, Tagged};
use crate::transcripts::Transcripts;

/// How runs execute; the server fills it from the session's configuration.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Run commands in a pseudo-terminal (falls back to pipes when none opens).
    pub pty: bool,
    pub term: String,
    pub cols: u16,
    pub rows: u16,
    /// Output kept per step; past it the tail is kept with a marker.
    pub max_output_bytes: usize,
    /// Wait before the first automatic retry; doubles each time, capped at 30 s.
    pub retry_backoff: Duration,
    /// Environment variables children never inherit (provider keys).
    pub secret_vars: Vec<String>,
    /// Which workflows' commands run sandboxed, and what happens where no
    /// sandbox can be had.
    pub sandbox: SandboxSettings,
    /// Where runs of workflows without an `isolation` key work
    /// (`[isolation] default`).
    pub isolation: agentls_workflow::Isolation,
    /// The ACP agents `acp = "NAME"` steps can start: the built-ins and the
    /// config's `[agents.NAME]` (docs/agents.md).
    pub agents: BTreeMap<String, AcpAgent>,
}

/// How to start an ACP agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcpAgent {
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Variables set for it.
    pub env: Vec<(String, String)>,
    /// Provider key variables it may inherit (its own vendor's); every
    /// other one in `secret_vars` is removed from its environment.
    pub keys: Vec<String>,
    /// Paths it may write in the run's sandbox besides the working tree
    /// and its `TMPDIR` (`~` is the home directory).
    pub write: Vec<String>,
}

impl AcpAgent {
    /// The built-in agents (`claude-code`, `codex`, `gemini`).
    pub fn builtins() -> BTreeMap<String, AcpAgent> {
        agentls_acp::BUILTINS
            .iter()
            .map(|b| {
                let agent = AcpAgent {
                    command: b.command.iter().map(|s| s.to_string()).collect(),
                    env: Vec::new(),
                    keys: b.keys.iter().map(|s| s.to_string()).collect(),
                    write: b.write.iter().map(|s| s.to_string()).collect(),
                };
                (b.name.to_string(), agent)
            })
            .collect()
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            pty: true,
            term: "xterm-256color".into(),
            cols: 120,
            rows: 40,
            max_output_bytes: 8 * 1024 * 1024,
            retry_backoff: Duration::from_secs(1),
            secret_vars: agentls_exec::DEFAULT_SECRET_VARS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            sandbox: SandboxSettings::default(),
            agents: AcpAgent::builtins(),
            isolation: agentls_workflow::Isolation::None,
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct StartRequest {
    pub workflow: Workflow,
    pub params: BTreeMap<String, String>,
    pub inputs: Inputs,
}

/// The engine of one workspace. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub root: PathBuf,
    pub state_dir: PathBuf,
    pub store: Store,
    pub options: RwLock<EngineOptions>,
    pub templates: Templates,
    subscribers: RwLock<Vec<Arc<dyn Subscriber>>>,
    active: Active,
    editor: RwLock<Arc<dyn Editor>>,
    models: RwLock<Option<Arc<dyn Models>>>,
    /// This process's claim on the runs it drives.
    pub owner: Owner,
    /// Woken when this process records a person's answer to a question an
    /// agent step asks inside its drive (see [`Engine::answer_in_drive`]).
    pub answered: tokio::sync::Notify,
    /// What traces name the workspace by: a hash of its id (the state
    /// directory's name), never its path.
    pub workspace_hash: String,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the workspace's store in `state_dir` (created if missing). Runs
    /// found `running` there were interrupted by a crash and become
    /// `interrupted`.
    pub fn open(
        root: &Path,
        state_dir: &Path,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        std::fs::create_dir_all(Transcripts::in_state_dir(state_dir).dir()).map_err(|source| {
            EngineError::StateDir {
                path: state_dir.to_path_buf(),
                source,
            }
        })?;
        let store = Store::open(&state_dir.join("agentls.db"))?;
        let owners = state_dir.join("owners");
        let owner = Owner::acquire(&owners).map_err(|source| EngineError::StateDir {
            path: owners.clone(),
            source,
        })?;
        let mut dead_owners = Vec::new();
        let recovered = store.recover_orphaned(|_, o| {
            let orphaned = Owner::is_orphaned(&owners, o);
            if let (true, Some(o)) = (orphaned, o) {
                dead_owners.push(o.to_string());
            }
            orphaned
        })?;
        // Before anything resumes: a step's processes that outlived the
        // agentls that ran it must not race its next attempt.
        dead_owners.sort();
        dead_owners.dedup();
        for dead in &dead_owners {
            Owner::end_leftovers(dead);
        }
        if !recovered.is_empty() {
            tracing::warn!(
                "{} run(s) were interrupted by a crash and can be resumed",
                recovered.len()
            );
        }
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let editor: Arc<dyn Editor> = match DiskEditor::new(&root) {
            Ok(editor) => Arc::new(editor),
            Err(message) => Arc::new(NoEditor(message)),
        };
        let workspace_id = state_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut workspace_hash = agentls_workflow::sha256_hex(&workspace_id);
        workspace_hash.truncate(16);
        let engine = Engine {
            inner: Arc::new(Inner {
                workspace_hash,
                root,
                state_dir: state_dir.to_path_buf(),
                store,
                options: RwLock::new(options),
                templates: Templates::new(),
                subscribers: RwLock::new(Vec::new()),
                active: Active::default(),
                editor: RwLock::new(editor),
                models: RwLock::new(None),
                owner,
                answered: tokio::sync::Notify::new(),
            }),
        };
        crate::isolation::sweep(&engine.inner);
        Ok(engine)
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The transcript file of a run (plain text, every step's output).
    pub fn transcript_path(&self, run: &RunId) -> PathBuf {
        self.inner.transcript_path(run)
    }

    /// Where this workspace's run transcripts are.
    pub fn transcripts(&self) -> Transcripts {
        Transcripts::in_state_dir(&self.inner.state_dir)
    }

    pub fn set_options(&self, options: EngineOptions) {
        *self
            .inner
            .options
            .write()
            .unwrap_or_else(|e| e.into_inner()) = options;
    }

    pub fn subscribe(&self, subscriber: Arc<dyn Subscriber>) {
        self.inner
            .subscribers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(subscriber);
    }

    pub fn set_editor(&self, editor: Arc<dyn Editor>) {
        *self.inner.editor.write().unwrap_or_else(|e| e.into_inner()) = editor;
    }

    pub fn set_models(&self, models: Option<Arc<dyn Models>>) {
        *self.inner.models.write().unwrap_or_else(|e| e.into_inner()) = models;
    }

    /// Whether the user approved this exact workflow content.
    pub fn is_trusted(&self, workflow: &Workflow) -> Result<bool, EngineError> {
        Ok(workflow.source.kind != SourceKind::Workspace
            || self.inner.store.is_trusted(&workflow.source.hash)?)
    }

    /// Remembers the user's approval of this exact workflow content.
    pub fn trust(&self, workflow: &Workflow) -> Result<(), EngineError> {
        let path = workflow.source.path.clone().unwrap_or_default();
        Ok(self.inner.store.trust(&workflow.source.hash, &path)?)
    }

    /// The engine with `tag` on the drive its next operation starts (see
    /// [`Tag`]); `None` is the engine itself.
    pub fn tagged(&self, tag: Option<Tag>) -> Tagged<'_> {
        Tagged::new(self, tag)
    }

    /// Creates a run and starts driving it in a task; returns at once.
    pub fn start(&self, request: StartRequest) -> Result<RunId, EngineError> {
        self.tagged(None).start(request)
    }

    /// Runs the failed step again and continues the run (see
    /// [`Tagged::retry`]).
    pub fn retry(&self, run: &RunId, step: Option<&str>) -> Result<(), EngineError> {
        self.tagged(None).retry(run, step)
    }

    /// Skips the failed step and continues (see [`Tagged::skip`]).
    pub fn skip(&self, run: &RunId, step: Option<&str>) -> Result<(), EngineError> {
        self.tagged(None).skip(run, step)
    }

    /// Gives the failed step an output and continues (see
    /// [`Tagged::override_output`]).
    pub fn override_output(
        &self,
        run: &RunId,
        step: &str,
        output: &str,
    ) -> Result<(), EngineError> {
        self.tagged(None).override_output(run, step, output)
    }

    /// Continues an interrupted or failed run (see [`Tagged::resume`]).
    pub fn resume(&self, run: &RunId) -> Result<(), EngineError> {
        self.tagged(None).resume(run)
    }

    /// Approves the waiting step and continues (see [`Tagged::approve`]).
    pub fn approve(
        &self,
        run: &RunId,
        step: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(), EngineError> {
        self.tagged(None).approve(run, step, reason)
    }

    /// [`Tagged::approve_with`]: `always` allows the same action for the
    /// rest of the run (agent steps).
    pub fn approve_with(
        &self,
        run: &RunId,
        step: Option<&str>,
        reason: Option<&str>,
        always: bool,
    ) -> Result<(), EngineError> {
        self.tagged(None).approve_with(run, step, reason, always)
    }

    /// Waits until the run is no longer being driven (completed, failed,
    /// waiting, cancelled...) and returns it.
    pub async fn wait(&self, run: &RunId) -> Result<RunRecord, EngineError> {
        let done = self.inner.active.done(run);
        if let Some(mut done) = done {
            let _ = done.wait_for(|d| *d).await;
        }
        Ok(self.inner.store.run(run)?)
    }

    /// Whether a task is driving the run right now (a drive whose last
    /// transition is committed is not).
    pub fn is_active(&self, run: &RunId) -> bool {
        self.inner.active.is_driven(run)
    }

    /// Cancels a run: kills its processes, closes its model streams, and
    /// records it `cancelled`. Returns once that is committed.
    pub async fn cancel(&self, run: &RunId) -> Result<RunRecord, EngineError> {
        // A drive may pause (waiting) rather than see the cancel in time:
        // then the paused run is cancelled below like any idle one.
        loop {
            let Some((cancel, mut done)) = self.inner.active.driving(run) else {
                break;
            };
            cancel.cancel();
            let _ = done.wait_for(|d| *d).await;
        }
        let record = self.inner.store.run(run)?;
        if !Action::Cancel.applies_to_run(record.status) {
            // Cancelling a finished run changes nothing.
            return Ok(record);
        }
        let waiting: Vec<usize> = record
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Waiting)
            .map(|s| s.idx)
            .collect();
        self.inner.store.write(|tx| {
            for idx in &waiting {
                tx.set_step_status(run, *idx, StepStatus::Cancelled, Some("cancelled"))?;
            }
            tx.set_run_status(run, RunStatus::Cancelled, Some("cancelled by the user"))
        })?;
        self.inner.emit_run(
            run,
            &record.workflow_name,
            RunStatus::Cancelled,
            Some("cancelled by the user".into()),
            None,
        );
        Ok(self.inner.store.run(run)?)
    }

    /// Rejects the waiting step: the step fails and the run pauses as
    /// `failed` (skip it to go on without it, or cancel the run).
    pub fn reject(
        &self,
        run: &RunId,
        step: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(), EngineError> {
        let answer = crate::steps::Answer::Reject { reason };
        if self.answer_in_drive(run, step, answer)? {
            return Ok(());
        }
        let (record, idx) = self.paused_step(run, step, Action::Reject)?;
        if record.steps[idx].kind == "agent" {
            // The model hears the reason as the call's result and goes on.
            return self.tagged(None).answer_agent(
                run,
                idx,
                crate::steps::Answer::Reject { reason },
            );
        }
        let error = format!(
            "rejected{}",
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
        let mut result = StepResult::new(StepStatus::Failed, "");
        result.error = Some(error.clone());
        self.inner
            .store
            .commit_step(run, idx, &result, Some((RunStatus::Failed, Some(&error))))?;
        self.inner
            .emit_step(&record, idx, StepStatus::Failed, None, Some(error.clone()));
        self.inner.emit_run(
            run,
            &record.workflow_name,
            RunStatus::Failed,
            Some(error),
            None,
        );
        Ok(())
    }

    /// Cancels every run this engine is driving (server shutdown, Ctrl-C).
    pub async fn cancel_all(&self) {
        let runs = self.inner.active.runs();
        futures::future::join_all(runs.iter().map(|run| self.cancel(run))).await;
    }

    /// Records a person's answer to the question an agent step asks inside
    /// its drive (an ACP agent's permission request: the run stays
    /// `running`, the step is `waiting` on a tool call). The step watches
    /// the store, so any agentls process may answer; this one wakes it at
    /// once. `false` when no step of the run waits that way.
    pub(crate) fn answer_in_drive(
        &self,
        run: &RunId,
        step: Option<&str>,
        answer: crate::steps::Answer<'_>,
    ) -> Result<bool, EngineError> {
        let record = self.inner.store.run(run)?;
        if record.status != RunStatus::Running {
            return Ok(false);
        }
        let Some(waiting) = record
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Waiting && step.is_none_or(|id| s.step_id == id))
        else {
            return Ok(false);
        };
        let open = self
            .inner
            .store
            .tool_calls(run, waiting.idx)?
            .iter()
            .any(|call| call.status == ToolCallStatus::Waiting);
        if !open {
            return Err(EngineError::Answered {
                run: run.to_string(),
                step: waiting.step_id.clone(),
            });
        }
        let said = crate::steps::answer(&self.inner.store, run, waiting.idx, answer)?;
        tracing::info!("run {run}: {said}");
        self.inner.answered.notify_waiters();
        Ok(true)
    }

    pub(crate) fn idle_run(&self, run: &RunId) -> Result<RunRecord, EngineError> {
        self.inner.active.check_free(run)?;
        Ok(self.inner.store.run(run)?)
    }

    /// The run (which must be idle and accept `action`) and the index of
    /// its step `step` (default: the first step that accepts `action`).
    pub(crate) fn paused_step(
        &self,
        run: &RunId,
        step: Option<&str>,
        action: Action,
    ) -> Result<(RunRecord, usize), EngineError> {
        let record = self.idle_run(run)?;
        check_run(&record, action)?;
        let accepts = |s: &StepRecord| action.applies_to_step(record.status, s.status);
        let found =
            match step {
                Some(id) => record
                    .steps
                    .iter()
                    .find(|s| s.step_id == id)
                    .ok_or_else(|| EngineError::UnknownStep {
                        run: run.to_string(),
                        step: id.to_string(),
                    })?,
                None => record.steps.iter().find(|s| accepts(s)).ok_or_else(|| {
                    EngineError::WrongState {
                        run: run.to_string(),
                        status: record.status,
                        action,
                        expected: action.expected(),
                    }
                })?,
            };
        if !accepts(found) {
            return Err(EngineError::WrongStep {
                run: run.to_string(),
                step: found.step_id.clone(),
                status: found.status,
                action,
                // Every action that names a step names one in one status.
                expected: action.step_status().unwrap_or(found.status),
            });
        }
        let idx = found.idx;
        Ok((record, idx))
    }

    /// Starts a task driving the run, unless one already is.
    pub(crate) fn spawn(&self, run: RunId, tag: Option<Tag>) -> Result<(), EngineError> {
        let cancel = CancellationToken::new();
        let (done_tx, done_rx) = watch::channel(false);
        let drive = self.inner.active.begin(&run, cancel.clone(), done_rx)?;
        let inner = self.inner.clone();
        tokio::spawn(async move {
            crate::driver::drive(&inner, &run, &cancel, tag).await;
            // Normally [`Inner::let_go`] released the run already; not when
            // the store failed under the drive.
            inner.active.release(&run, drive);
            let _ = done_tx.send(true);
        });
        Ok(())
    }
}

impl Inner {
    pub fn emit(&self, event: &Event) {
        let subscribers = self
            .subscribers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for subscriber in subscribers {
            subscriber.event(event);
        }
    }

    /// Makes the transition that ends a drive in `status` (completed,
    /// failed, waiting, cancelled): `last` commits and announces it, then
    /// the run is free (see [`Active::let_go`]).
    pub fn let_go(
        &self,
        run: &RunId,
        status: RunStatus,
        last: impl FnOnce() -> Result<(), EngineError>,
    ) -> Result<RunStatus, EngineError> {
        self.active.let_go(run, last).map(|()| status)
    }

    /// Tells of a run's new status; `tag`: the drive's (see [`Tag`]).
    pub fn emit_run(
        &self,
        run: &RunId,
        workflow: &str,
        status: RunStatus,
        error: Option<String>,
        tag: Option<Tag>,
    ) {
        self.emit(&Event::Run {
            run: run.clone(),
            workflow: workflow.to_string(),
            status,
            error,
            tag,
        });
    }

    pub fn emit_step(
        &self,
        record: &RunRecord,
        idx: usize,
        status: StepStatus,
        exit_code: Option<i32>,
        error: Option<String>,
    ) {
        let step = &record.steps[idx];
        self.emit(&Event::Step {
            run: record.id.clone(),
            index: idx,
            total: record.steps.len(),
            step: step.step_id.clone(),
            title: None,
            status,
            attempt: step.attempt,
            exit_code,
            error,
        });
    }

    pub fn options(&self) -> EngineOptions {
        self.options
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn editor(&self) -> Arc<dyn Editor> {
        self.editor
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn models(&self) -> Option<Arc<dyn Models>> {
        self.models
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn transcript_path(&self, run: &RunId) -> PathBuf {
        Transcripts::in_state_dir(&self.state_dir).path(run)
    }
}

/// Refuses `action` unless the run's status accepts it.
pub(crate) fn check_run(record: &RunRecord, action: Action) -> Result<(), EngineError> {
    if action.applies_to_run(record.status) {
        return Ok(());
    }
    Err(EngineError::WrongState {
        run: record.id.to_string(),
        status: record.status,
        action,
        expected: action.expected(),
    })
}

pub(crate) fn kind_name(kind: &StepKind) -> &'static str {
    match kind {
        StepKind::Run { .. } => "run",
        StepKind::Prompt { .. } => "prompt",
        StepKind::Edit(_) => "edit",
        StepKind::Approve { .. } => "approve",
        StepKind::Agent(_) => "agent",
    }
}

/// Used when the workspace root cannot host a disk editor: every edit fails
/// with the reason.
pub(crate) struct NoEditor(pub String);

impl Editor for NoEditor {
    fn apply(
        &self,
        _: crate::editor::EditRequest,
    ) -> futures::future::BoxFuture<'_, Result<String, String>> {
        let message = self.0.clone();
        Box::pin(async move { Err(message) })
    }
}
