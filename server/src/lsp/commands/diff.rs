//! `agent.diff {runId?, uri?}`: the patch of a run isolated in a worktree
//! (without `runId`: the newest run), as text and as a file in
//! the state directory the editor can open (`uri`). Git runs on the
//! blocking pool, never on a request worker.

use tower_lsp_server::jsonrpc::Result;

use super::engine_error;
use crate::lsp::convert;
use crate::lsp::errors::internal;
use crate::lsp::protocol::{DiffResult, RunArgs};
use crate::lsp::reveal;
use crate::lsp::server::State;
use crate::lsp::surface::{self, Pick};

pub async fn run(state: &State, args: RunArgs) -> Result<DiffResult> {
    let result = diff(state, args).await?;
    if let Ok((surface, _)) = surface::find_run(state, None, Some(&result.run_id), Pick::Latest) {
        // Editors that throw results away (Helix) open the patch instead.
        let text = if result.patch.is_empty() {
            format!("agentls: run {} changed nothing\n", result.run_id)
        } else {
            result.patch.clone()
        };
        let view = reveal::View::Diff {
            run: &result.run_id,
        };
        reveal::show(&state.caps(), &surface, view, text);
    }
    Ok(result)
}

async fn diff(state: &State, args: RunArgs) -> Result<DiffResult> {
    let (surface, run) = surface::find_run(
        state,
        args.uri.as_ref(),
        args.run_id.as_deref(),
        Pick::Latest,
    )?;
    let patch = super::apply::blocking(surface.engine(), &run, |engine, run| engine.diff(run))
        .await?
        .map_err(engine_error)?;
    let path = surface
        .views_dir()
        .join(reveal::View::Diff { run: run.as_str() }.file_name());
    let written =
        std::fs::create_dir_all(surface.views_dir()).and_then(|()| std::fs::write(&path, &patch));
    let uri = match written {
        Ok(()) => convert::uri(&path),
        Err(err) => {
            tracing::warn!("cannot write {}: {err}", path.display());
            None
        }
    };
    Ok(DiffResult {
        run_id: run.to_string(),
        files: super::apply::files(&patch).map_err(internal)?,
        patch,
        uri,
    })
}
