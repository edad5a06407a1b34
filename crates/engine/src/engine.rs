//! The [`Engine`] of one workspace: starts runs, applies a person's
//! decisions to them, and keeps track of the runs being driven right now.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use agentls_store::{
    NewRun, NewStep, OutputBuffer, RunId, RunRecord, RunStatus, StepResult, StepStatus, Store,
};
use agentls_workflow::{SourceKind, StepKind, Templates, Workflow};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::editor::{DiskEditor, Editor};
use crate::error::EngineError;
use crate::event::{Event, Subscriber};
use crate::inputs::Inputs;
use crate::models::Models;
use crate::owner::Owner;
use crate::transcripts::Transcripts;
use crate::trust::{untrusted_actions, TrustRequired};

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
    active: Mutex<HashMap<RunId, Active>>,
    editor: RwLock<Arc<dyn Editor>>,
    models: RwLock<Option<Arc<dyn Models>>>,
    /// This process's claim on the runs it drives.
    pub owner: Owner,
    /// The last run event of each drive, held until the drive has ended.
    stops: Mutex<HashMap<RunId, Event>>,
    /// What traces name the workspace by: a hash of its id (the state
    /// directory's name), never its path.
    pub workspace_hash: String,
}

struct Active {
    cancel: CancellationToken,
    done: watch::Receiver<bool>,
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
        Ok(Engine {
            inner: Arc::new(Inner {
                workspace_hash,
                root,
                state_dir: state_dir.to_path_buf(),
                store,
                options: RwLock::new(options),
                templates: Templates::new(),
                subscribers: RwLock::new(Vec::new()),
                active: Mutex::new(HashMap::new()),
                editor: RwLock::new(editor),
                models: RwLock::new(None),
                owner,
                stops: Mutex::new(HashMap::new()),
            }),
        })
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

    /// Creates a run and starts driving it in a task; returns at once.
    pub fn start(&self, request: StartRequest) -> Result<RunId, EngineError> {
        let StartRequest {
            workflow,
            params,
            inputs,
        } = request;
        let params = workflow
            .resolve_params(&params)
            .map_err(|e| EngineError::Params {
                workflow: workflow.name.clone(),
                message: e.to_string(),
            })?;
        if !self.is_trusted(&workflow)? {
            let models = self.inner.models();
            let actions = untrusted_actions(&workflow, models.as_deref());
            if !actions.is_empty() {
                return Err(TrustRequired {
                    workflow: workflow.name.clone(),
                    path: workflow
                        .source
                        .path
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    hash: workflow.source.hash.clone(),
                    actions,
                }
                .into());
            }
        }
        let new = NewRun {
            workflow_name: workflow.name.clone(),
            workflow_source: workflow.source.kind.into(),
            workflow_path: workflow.source.path.clone(),
            workflow_content: workflow.source.content.clone(),
            content_hash: workflow.source.hash.clone(),
            params: serde_json::to_value(&params).unwrap_or_default(),
            inputs: serde_json::to_value(&inputs).unwrap_or_default(),
            steps: workflow
                .steps
                .iter()
                .map(|s| NewStep::new(s.id.as_str(), kind_name(&s.kind)))
                .collect(),
            owner: Some(self.inner.owner.id.clone()),
        };
        let run = self.inner.store.create_run(&new)?;
        self.inner.emit(&Event::Run {
            run: run.clone(),
            workflow: workflow.name.clone(),
            status: RunStatus::Queued,
            error: None,
        });
        self.spawn(run.clone())?;
        Ok(run)
    }

    /// Waits until the run is no longer being driven (completed, failed,
    /// waiting, cancelled...) and returns it.
    pub async fn wait(&self, run: &RunId) -> Result<RunRecord, EngineError> {
        let done = self.inner.lock_active().get(run).map(|a| a.done.clone());
        if let Some(mut done) = done {
            let _ = done.wait_for(|d| *d).await;
        }
        Ok(self.inner.store.run(run)?)
    }

    /// Whether a task is driving the run right now.
    pub fn is_active(&self, run: &RunId) -> bool {
        self.inner.lock_active().contains_key(run)
    }

    /// Cancels a run: kills its processes, closes its model streams, and
    /// records it `cancelled`. Returns once that is committed.
    pub async fn cancel(&self, run: &RunId) -> Result<RunRecord, EngineError> {
        let active = self
            .inner
            .lock_active()
            .get(run)
            .map(|a| (a.cancel.clone(), a.done.clone()));
        if let Some((cancel, mut done)) = active {
            cancel.cancel();
            let _ = done.wait_for(|d| *d).await;
            return Ok(self.inner.store.run(run)?);
        }
        let record = self.inner.store.run(run)?;
        if record.status.is_terminal() {
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
        );
        Ok(self.inner.store.run(run)?)
    }

    /// Runs the failed step again (the failed one, or `step`, which must be
    /// the failed one) and continues the run.
    pub fn retry(&self, run: &RunId, step: Option<&str>) -> Result<(), EngineError> {
        let (record, _) =
            self.paused_step(run, step, RunStatus::Failed, StepStatus::Failed, "retry")?;
        drop(record);
        self.spawn(run.clone())
    }

    /// Skips the failed step and continues with the next one.
    pub fn skip(&self, run: &RunId, step: Option<&str>) -> Result<(), EngineError> {
        let (record, idx) =
            self.paused_step(run, step, RunStatus::Failed, StepStatus::Failed, "skip")?;
        self.inner.store.set_step_status(
            run,
            idx,
            StepStatus::Skipped,
            Some("skipped by the user"),
        )?;
        self.inner.emit_step(
            &record,
            idx,
            StepStatus::Skipped,
            None,
            Some("skipped by the user".into()),
        );
        self.spawn(run.clone())
    }

    /// Replaces the failed step's output with `output` (what later templates
    /// see), marks it completed and continues. The output is capped like a
    /// step's own (`EngineOptions::max_output_bytes`: the tail is kept after
    /// a marker line); the step is then marked truncated and its note says
    /// how much was dropped.
    pub fn override_output(
        &self,
        run: &RunId,
        step: &str,
        output: &str,
    ) -> Result<(), EngineError> {
        let (record, idx) = self.paused_step(
            run,
            Some(step),
            RunStatus::Failed,
            StepStatus::Failed,
            "override",
        )?;
        let cap = self.inner.options().max_output_bytes;
        let mut buffer = OutputBuffer::with_cap(cap);
        buffer.push(output.as_bytes());
        let mut result = StepResult::new(StepStatus::Completed, buffer.text());
        result.output_truncated = buffer.is_truncated();
        result.error = Some(if buffer.is_truncated() {
            format!(
                "output overridden by the user; truncated: {} bytes given, only the last {} kept \
                 ([store] max_output_bytes = {cap})",
                output.len(),
                buffer.len()
            )
        } else {
            "output overridden by the user".into()
        });
        self.inner.store.finish_step(run, idx, &result)?;
        self.inner.emit_step(
            &record,
            idx,
            StepStatus::Completed,
            None,
            result.error.clone(),
        );
        self.spawn(run.clone())
    }

    /// Continues an interrupted run; the step a crash cut short runs again.
    pub fn resume(&self, run: &RunId) -> Result<(), EngineError> {
        let record = self.idle_run(run)?;
        match record.status {
            RunStatus::Interrupted | RunStatus::Queued => self.spawn(run.clone()),
            RunStatus::Failed => self.retry(run, None),
            status => Err(EngineError::WrongState {
                run: run.to_string(),
                status,
                action: "resume",
                expected: "interrupted or failed",
            }),
        }
    }

    /// Approves the waiting step and continues the run.
    pub fn approve(
        &self,
        run: &RunId,
        step: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(), EngineError> {
        let (record, idx) = self.paused_step(
            run,
            step,
            RunStatus::Waiting,
            StepStatus::Waiting,
            "approve",
        )?;
        let output = reason
            .map(|r| format!("approved: {r}"))
            .unwrap_or_else(|| "approved".into());
        self.inner
            .store
            .finish_step(run, idx, &StepResult::new(StepStatus::Completed, output))?;
        self.inner
            .emit_step(&record, idx, StepStatus::Completed, None, None);
        self.spawn(run.clone())
    }

    /// Rejects the waiting step: the step fails and the run pauses as
    /// `failed` (skip it to go on without it, or cancel the run).
    pub fn reject(
        &self,
        run: &RunId,
        step: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(), EngineError> {
        let (record, idx) =
            self.paused_step(run, step, RunStatus::Waiting, StepStatus::Waiting, "reject")?;
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
        self.inner
            .emit_run(run, &record.workflow_name, RunStatus::Failed, Some(error));
        Ok(())
    }

    /// Cancels every run this engine is driving (server shutdown, Ctrl-C).
    pub async fn cancel_all(&self) {
        let runs: Vec<RunId> = self.inner.lock_active().keys().cloned().collect();
        futures::future::join_all(runs.iter().map(|run| self.cancel(run))).await;
    }

    fn idle_run(&self, run: &RunId) -> Result<RunRecord, EngineError> {
        if self.is_active(run) {
            return Err(EngineError::Busy {
                run: run.to_string(),
            });
        }
        Ok(self.inner.store.run(run)?)
    }

    /// The run (which must be idle and `run_status`) and the index of its
    /// step `step` (default: the first step in `step_status`).
    fn paused_step(
        &self,
        run: &RunId,
        step: Option<&str>,
        run_status: RunStatus,
        step_status: StepStatus,
        action: &'static str,
    ) -> Result<(RunRecord, usize), EngineError> {
        let record = self.idle_run(run)?;
        if record.status != run_status {
            return Err(EngineError::WrongState {
                run: run.to_string(),
                status: record.status,
                action,
                expected: run_status.as_str(),
            });
        }
        let found = match step {
            Some(id) => record
                .steps
                .iter()
                .find(|s| s.step_id == id)
                .ok_or_else(|| EngineError::UnknownStep {
                    run: run.to_string(),
                    step: id.to_string(),
                })?,
            None => record
                .steps
                .iter()
                .find(|s| s.status == step_status)
                .ok_or_else(|| EngineError::WrongState {
                    run: run.to_string(),
                    status: record.status,
                    action,
                    expected: run_status.as_str(),
                })?,
        };
        if found.status != step_status {
            return Err(EngineError::WrongStep {
                run: run.to_string(),
                step: found.step_id.clone(),
                status: found.status,
                action,
                expected: step_status.as_str(),
            });
        }
        let idx = found.idx;
        Ok((record, idx))
    }

    /// Starts a task driving the run, unless one already is.
    fn spawn(&self, run: RunId) -> Result<(), EngineError> {
        let cancel = CancellationToken::new();
        let (done_tx, done_rx) = watch::channel(false);
        {
            let mut active = self.inner.lock_active();
            if active.contains_key(&run) {
                return Err(EngineError::Busy {
                    run: run.to_string(),
                });
            }
            active.insert(
                run.clone(),
                Active {
                    cancel: cancel.clone(),
                    done: done_rx,
                },
            );
        }
        let inner = self.inner.clone();
        tokio::spawn(async move {
            crate::driver::drive(&inner, &run, &cancel).await;
            inner.lock_active().remove(&run);
            // The run's last word is told only now that it is no longer
            // being driven: a subscriber that acts on "waiting" or "failed"
            // (approve, retry) must find the run free.
            let stop = inner
                .stops
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&run);
            if let Some(event) = stop {
                inner.emit(&event);
            }
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

    /// Like [`Inner::emit_run`] for the transition that ends a drive
    /// (completed, failed, waiting, cancelled): told once the run has left
    /// the active set.
    pub fn emit_stop(&self, run: &RunId, workflow: &str, status: RunStatus, error: Option<String>) {
        let event = Event::Run {
            run: run.clone(),
            workflow: workflow.to_string(),
            status,
            error,
        };
        self.stops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(run.clone(), event);
    }

    pub fn emit_run(&self, run: &RunId, workflow: &str, status: RunStatus, error: Option<String>) {
        self.emit(&Event::Run {
            run: run.clone(),
            workflow: workflow.to_string(),
            status,
            error,
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

    fn lock_active(&self) -> std::sync::MutexGuard<'_, HashMap<RunId, Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn kind_name(kind: &StepKind) -> &'static str {
    match kind {
        StepKind::Run { .. } => "run",
        StepKind::Prompt { .. } => "prompt",
        StepKind::Edit(_) => "edit",
        StepKind::Approve { .. } => "approve",
    }
}

/// Used when the workspace root cannot host a disk editor: every edit fails
/// with the reason.
struct NoEditor(String);

impl Editor for NoEditor {
    fn apply(
        &self,
        _: crate::editor::EditRequest,
    ) -> futures::future::BoxFuture<'_, Result<String, String>> {
        let message = self.0.clone();
        Box::pin(async move { Err(message) })
    }
}
