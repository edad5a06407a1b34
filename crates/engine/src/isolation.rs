//! Where a run's steps work: the workspace itself, or a git worktree of
//! its own (docs/workflows.md, "Isolation"). Owns the run's side of it:
//! deciding at start, making the worktree before the first step (and
//! finding it again on resume), the patch it amounts to, applying or
//! discarding it, and the start-up sweep of worktrees nothing needs any
//! more. The git commands themselves are `agentls-worktree`'s.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agentls_store::{RunId, RunStatus, Worktree, WorktreeState};
use agentls_workflow::{Isolation, Workflow};
use agentls_worktree::Repo;

use crate::editor::{DiskEditor, EditRequest, Editor};
use crate::engine::{Engine, Inner};
use crate::error::EngineError;

/// The directory a run works in.
pub(crate) struct WorkingTree {
    /// Its commands' directory and its edits' root: the workspace, or the
    /// workspace's place in the run's worktree.
    pub root: PathBuf,
    /// The top of the run's worktree, when it has one.
    pub worktree: Option<PathBuf>,
    /// The workflow's `sandbox` key, for its commands.
    pub sandbox: Option<agentls_workflow::Sandbox>,
}

impl WorkingTree {
    /// The workspace itself.
    pub fn workspace(inner: &Inner) -> Self {
        WorkingTree {
            root: inner.root.clone(),
            worktree: None,
            sandbox: None,
        }
    }

    /// Who applies the run's edits: the editor for the workspace; the disk
    /// of the worktree for a worktree run (never the user's buffers).
    pub fn editor(&self, inner: &Inner) -> Arc<dyn Editor> {
        if self.worktree.is_none() {
            return inner.editor();
        }
        match DiskEditor::new(&self.root) {
            Ok(editor) => Arc::new(editor),
            Err(message) => Arc::new(crate::engine::NoEditor(message)),
        }
    }

    /// `path` (in the workspace) as the same path in this tree.
    pub fn map(&self, inner: &Inner, path: &Path) -> PathBuf {
        match path.strip_prefix(&inner.root) {
            Ok(rel) if self.worktree.is_some() => self.root.join(rel),
            _ => path.to_path_buf(),
        }
    }
}

/// Where this workspace's run worktrees live.
fn worktrees_dir(inner: &Inner) -> PathBuf {
    inner.state_dir.join("worktrees")
}

fn branch(run: &RunId) -> String {
    format!("agentls/{run}")
}

/// Whether a run of `workflow` gets a worktree: its `isolation` key, else
/// the user's `[isolation] default`.
pub(crate) fn wanted(workflow: &Workflow, default: Isolation) -> bool {
    workflow.isolation.unwrap_or(default) == Isolation::Worktree
}

/// Refuses a worktree run in a workspace that is not in a git repository.
pub(crate) fn check_repo(inner: &Inner, workflow: &str) -> Result<(), EngineError> {
    Repo::discover(&inner.root)
        .map(|_| ())
        .map_err(|err| EngineError::Isolation {
            run: format!("workflow `{workflow}`"),
            message: err.to_string(),
        })
}

/// Records that the new run `run` works in a worktree (made by its drive).
pub(crate) fn record(inner: &Inner, run: &RunId) -> Result<(), EngineError> {
    let path = worktrees_dir(inner).join(run.as_str());
    Ok(inner.store.add_worktree(run, &path, &branch(run))?)
}

/// The tree the run's steps work in: its worktree (made now if it is the
/// run's first drive) or the workspace. Runs git on the blocking pool.
pub(crate) async fn prepare(inner: &Arc<Inner>, run: &RunId) -> Result<WorkingTree, String> {
    let Some(worktree) = inner.store.worktree(run).map_err(|e| e.to_string())? else {
        return Ok(WorkingTree::workspace(inner));
    };
    let (inner, run) = (inner.clone(), run.clone());
    tokio::task::spawn_blocking(move || prepare_now(&inner, &run, worktree))
        .await
        .map_err(|err| format!("preparing the run's worktree failed: {err}"))?
}

fn prepare_now(inner: &Inner, run: &RunId, worktree: Worktree) -> Result<WorkingTree, String> {
    let repo = Repo::discover(&inner.root).map_err(|e| e.to_string())?;
    let root = match worktree.state {
        WorktreeState::Pending => {
            // A half-made worktree of a drive that died goes first (its
            // branch is reset by the `worktree add` below).
            if worktree.path.exists() {
                repo.remove(&worktree.path, &worktree.branch)
                    .map_err(|e| e.to_string())?;
            }
            let message = format!("agentls: the working tree at the start of run {run}");
            let created = repo
                .create(&worktree.path, &worktree.branch, &message)
                .map_err(|e| format!("cannot create the run's worktree: {e}"))?;
            inner
                .store
                .worktree_created(run, &created.base)
                .map_err(|e| e.to_string())?;
            note_in_transcript(inner, run, &worktree, &created.base);
            created.root
        }
        WorktreeState::Active if worktree.path.is_dir() => repo.root_in(&worktree.path),
        WorktreeState::Active => {
            return Err(format!(
                "its worktree {} is gone; discard the run (`agentls discard {run}`)",
                worktree.path.display()
            ))
        }
        state => {
            return Err(format!(
                "its worktree was {}; the run cannot go on",
                state.as_str()
            ))
        }
    };
    Ok(WorkingTree {
        root,
        worktree: Some(worktree.path),
        sandbox: None,
    })
}

/// Says in the run's transcript where it works (before its first step).
fn note_in_transcript(inner: &Inner, run: &RunId, worktree: &Worktree, base: &str) {
    append_transcript(
        inner,
        run,
        &format!(
            "## isolation: worktree {} (branch {}, from {base})\n",
            worktree.path.display(),
            worktree.branch
        ),
    );
}

/// Says in the run's transcript how this drive's commands are sandboxed
/// (the settings may change between drives), when it has steps that
/// run commands (`run`, `agent`).
pub(crate) fn note_sandbox(
    inner: &Inner,
    record: &agentls_store::RunRecord,
    workflow: &Workflow,
    tree: &WorkingTree,
) {
    let commands = workflow.steps.iter().any(|s| {
        matches!(
            s.kind,
            agentls_workflow::StepKind::Run { .. } | agentls_workflow::StepKind::Agent(_)
        )
    });
    if !commands {
        return;
    }
    let policy = crate::steps::sandbox_policy(
        tree.sandbox.as_ref(),
        record.workflow_source,
        &inner.options().sandbox,
        tree.worktree.as_deref(),
    );
    let line = match policy {
        None => "## sandbox: none (commands run unconfined)\n".to_string(),
        Some(p) => {
            // The worktree is granted whole; the workspace is its root.
            let top = tree.worktree.as_deref().unwrap_or(&tree.root);
            let mut writable = vec![top.display().to_string(), "TMPDIR".into()];
            writable.extend(
                p.write
                    .iter()
                    .filter(|w| w.as_path() != top)
                    .map(|w| w.display().to_string()),
            );
            let network = match p.network {
                agentls_exec::Network::Allowed => "allowed".to_string(),
                agentls_exec::Network::Denied => "none".to_string(),
                agentls_exec::Network::Ports(ports) => format!("TCP ports {ports:?}"),
            };
            format!(
                "## sandbox: writes to {}; network {network}{}\n",
                writable.join(", "),
                if p.required { "; required" } else { "" }
            )
        }
    };
    append_transcript(inner, &record.id, &line);
}

fn append_transcript(inner: &Inner, run: &RunId, text: &str) {
    use std::io::Write;
    let path = inner.transcript_path(run);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{text}"));
    if let Err(err) = written {
        tracing::warn!("cannot write transcript {}: {err}", path.display());
    }
}

/// Removes the worktrees nothing needs: those of applied or discarded
/// runs, of runs that are gone, and directories a crash left half-made.
/// Called when an engine opens; failures are logged, never fatal.
pub(crate) fn sweep(inner: &Inner) {
    let dir = worktrees_dir(inner);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let recorded = match inner.store.worktrees() {
        Ok(recorded) => recorded,
        Err(err) => {
            tracing::warn!("cannot read the run worktrees to sweep: {err}");
            return;
        }
    };
    let keep = |name: &str| {
        recorded
            .iter()
            .any(|w| w.run.as_str() == name && !w.state.is_finished())
    };
    let stale: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| !keep(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    let finished_branches: Vec<&Worktree> =
        recorded.iter().filter(|w| w.state.is_finished()).collect();
    // Git is asked only when a directory is left over: every open of an
    // engine (each CLI command) passes here, and a workspace keeps its
    // finished runs' rows for good. A finished run's branch whose directory
    // is already gone (a crash between the two removals) is removed the
    // next time there is a directory to sweep.
    if stale.is_empty() {
        return;
    }
    let repo = match Repo::discover(&inner.root) {
        Ok(repo) => repo,
        Err(err) => {
            tracing::warn!("cannot sweep the run worktrees: {err}");
            return;
        }
    };
    let branches = repo.branches("agentls/").unwrap_or_default();
    for path in &stale {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let branch = format!("agentls/{name}");
        match repo.remove(path, &branch) {
            Ok(()) => tracing::info!("removed the stale run worktree {}", path.display()),
            Err(err) => tracing::warn!("cannot remove {}: {err}", path.display()),
        }
    }
    for w in finished_branches {
        if branches.contains(&w.branch) {
            if let Err(err) = repo.remove(&w.path, &w.branch) {
                tracing::warn!("cannot remove {}: {err}", w.path.display());
            }
        }
    }
    let _ = repo.prune();
}

impl Engine {
    /// The run's worktree, `None` when it is not isolated in one.
    pub fn worktree(&self, run: &RunId) -> Result<Option<Worktree>, EngineError> {
        Ok(self.inner.store.worktree(run)?)
    }

    /// The patch of a worktree run: its worktree against the commit it
    /// started from, paths relative to the workspace. Blocks on git.
    pub fn diff(&self, run: &RunId) -> Result<String, EngineError> {
        let (repo, worktree, base) = self.active_worktree(run)?;
        repo.diff(&worktree.path, &base)
            .map_err(|err| isolation_error(run, err.to_string()))
    }

    /// Applies the patch of a completed worktree run to the workspace
    /// through the engine's editor (all or nothing; a file the user changed
    /// where the run did is named in the error), then removes the worktree.
    /// Returns what was applied.
    pub async fn apply(&self, run: &RunId) -> Result<String, EngineError> {
        let patch = self.patch_to_apply(run)?;
        self.apply_patch(run, patch).await
    }

    /// [`Engine::apply`] of `patch`, the run's patch from
    /// [`Engine::patch_to_apply`].
    pub async fn apply_patch(&self, run: &RunId, patch: String) -> Result<String, EngineError> {
        if patch.is_empty() {
            self.applied(run)?;
            return Ok("the run changed nothing; its worktree is removed".into());
        }
        let summary = self
            .inner
            .editor()
            .apply(EditRequest::Patch { patch })
            .await
            .map_err(|message| isolation_error(run, message))?;
        self.applied(run)?;
        Ok(summary)
    }

    /// The patch `apply` would apply: the run must be a completed worktree
    /// run whose worktree is still there.
    pub fn patch_to_apply(&self, run: &RunId) -> Result<String, EngineError> {
        let record = self.inner.store.run(run)?;
        if record.status != RunStatus::Completed {
            return Err(isolation_error(
                run,
                format!(
                    "it is {}; only a completed run's patch is applied (`agentls diff {run}` \
                     shows it)",
                    record.status
                ),
            ));
        }
        self.diff(run)
    }

    /// Records that the run's patch was applied and removes its worktree.
    pub fn applied(&self, run: &RunId) -> Result<(), EngineError> {
        self.finish(run, WorktreeState::Applied)
    }

    /// Drops a worktree run's changes: its worktree, branch and directory
    /// are removed. A run being driven is refused (cancel it first).
    pub fn discard(&self, run: &RunId) -> Result<(), EngineError> {
        self.idle_run(run)?;
        let worktree = self.recorded_worktree(run)?;
        if worktree.state.is_finished() {
            return Err(isolation_error(
                run,
                format!("its worktree was {} already", worktree.state.as_str()),
            ));
        }
        self.finish(run, WorktreeState::Discarded)
    }

    /// Commits `state` first: a crash after it leaves a worktree the next
    /// start sweeps.
    fn finish(&self, run: &RunId, state: WorktreeState) -> Result<(), EngineError> {
        let worktree = self.recorded_worktree(run)?;
        self.inner.store.set_worktree_state(run, state)?;
        let repo = Repo::discover(&self.inner.root)
            .map_err(|err| isolation_error(run, err.to_string()))?;
        repo.remove(&worktree.path, &worktree.branch)
            .map_err(|err| isolation_error(run, err.to_string()))
    }

    fn recorded_worktree(&self, run: &RunId) -> Result<Worktree, EngineError> {
        self.inner
            .store
            .worktree(run)?
            .ok_or_else(|| isolation_error(run, "it did not run in a worktree".into()))
    }

    fn active_worktree(&self, run: &RunId) -> Result<(Repo, Worktree, String), EngineError> {
        let worktree = self.recorded_worktree(run)?;
        let base = match (&worktree.state, &worktree.base) {
            (WorktreeState::Active, Some(base)) => base.clone(),
            (WorktreeState::Pending, _) | (WorktreeState::Active, None) => {
                return Err(isolation_error(run, "its worktree is not made yet".into()))
            }
            (state, _) => {
                return Err(isolation_error(
                    run,
                    format!("its worktree was {}", state.as_str()),
                ))
            }
        };
        let repo = Repo::discover(&self.inner.root)
            .map_err(|err| isolation_error(run, err.to_string()))?;
        Ok((repo, worktree, base))
    }
}

fn isolation_error(run: &RunId, message: String) -> EngineError {
    EngineError::Isolation {
        run: format!("run {run}"),
        message,
    }
}
