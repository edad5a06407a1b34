//! `agent.apply {runId?, uri?}`: applies a completed worktree run's patch
//! to the workspace (without `runId`: the newest run). Checked
//! first against the documents and files as they are now: a file the user
//! changed where the run did refuses the whole patch, naming it, and
//! nothing changes. Then it answers, and the edit goes on in a task:
//! documents open in the editor through `workspace/applyEdit` with their
//! versions, the rest as the server's edit steps do it; the worktree is
//! removed once the editor applied it, and a message says how it went.
//! The handler never waits on the editor (docs/architecture.md, invariant 4).

use agentls_engine::{Engine, EngineError, RunId};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::MessageType;

use super::{engine_error, RUN_REFUSED};
use crate::lsp::errors::internal;
use crate::lsp::protocol::{ApplyResult, RunArgs};
use crate::lsp::server::State;
use crate::lsp::surface::{self, Pick};

pub async fn run(state: &State, args: RunArgs) -> Result<ApplyResult> {
    let (surface, run) = surface::find_run(
        state,
        args.uri.as_ref(),
        args.run_id.as_deref(),
        Pick::Latest,
    )?;
    let patch = blocking(surface.engine(), &run, |engine, run| {
        engine.patch_to_apply(run)
    })
    .await?
    .map_err(engine_error)?;
    let files = files(&patch).map_err(internal)?;
    surface.check_patch(&patch).map_err(|message| Error {
        code: ErrorCode::ServerError(RUN_REFUSED),
        message: format!("run {run}: {message}").into(),
        data: None,
    })?;
    let (engine, task_surface, id) = (surface.engine().clone(), surface.clone(), run.clone());
    surface.spawn(async move {
        match engine.apply(&id).await {
            Ok(summary) => task_surface.tell(
                MessageType::INFO,
                format!("agentls: run {id}: {summary}; its worktree is removed"),
            ),
            Err(err) => task_surface.tell(
                MessageType::ERROR,
                format!("agentls: {err}; the run's worktree is kept"),
            ),
        }
    });
    Ok(ApplyResult {
        run_id: run.to_string(),
        files,
    })
}

/// The files a patch touches, in its order.
pub fn files(patch: &str) -> std::result::Result<Vec<String>, String> {
    if patch.trim().is_empty() {
        return Ok(Vec::new());
    }
    let parsed = agentls_edit::Patch::parse(patch).map_err(|e| e.to_string())?;
    Ok(parsed
        .files()
        .iter()
        .map(|f| f.path().to_string())
        .collect())
}

/// Runs an engine call that runs git on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    engine: &Engine,
    run: &RunId,
    call: impl FnOnce(&Engine, &RunId) -> std::result::Result<T, EngineError> + Send + 'static,
) -> Result<std::result::Result<T, EngineError>> {
    let (engine, run) = (engine.clone(), run.clone());
    tokio::task::spawn_blocking(move || call(&engine, &run))
        .await
        .map_err(|err| internal(err.to_string()))
}
