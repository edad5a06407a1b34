//! `agent.status {runId?, uri?}`: one run with its steps, or, without
//! `runId`, every run of the workspace(s) that is not finished (running,
//! waiting, paused at a failure, interrupted), oldest first. Clients that
//! discard results also get it as a document (`lsp::reveal`).

use tower_lsp_server::jsonrpc::Result;

use super::engine_error;
use crate::lsp::protocol::{RunArgs, StatusResult};
use crate::lsp::reveal::{self, View};
use crate::lsp::server::State;
use crate::lsp::surface::{self, Pick};

pub fn run(state: &State, args: RunArgs) -> Result<StatusResult> {
    let caps = state.caps();
    if let Some(id) = args.run_id.as_deref() {
        let (surface, run) = surface::find_run(state, args.uri.as_ref(), Some(id), Pick::Latest)?;
        let result = StatusResult::One(Box::new(surface.run_state(&run).map_err(engine_error)?));
        reveal::show(
            &caps,
            &surface,
            View::Status,
            reveal::status_text(&caps, &result),
        );
        return Ok(result);
    }
    let sessions = surface::sessions_for(state, args.uri.as_ref())?;
    let mut active = Vec::new();
    let mut first = None;
    for session in &sessions {
        let surface = state
            .surface(session)
            .map_err(crate::lsp::errors::internal)?;
        first.get_or_insert_with(|| surface.clone());
        let unfinished = surface
            .engine()
            .store()
            .unfinished_runs()
            .map_err(|e| engine_error(e.into()))?;
        for summary in unfinished {
            active.push((
                summary.id.clone(),
                surface.run_state(&summary.id).map_err(engine_error)?,
            ));
        }
    }
    active.sort_by(|a, b| a.0.cmp(&b.0));
    let result = StatusResult::Unfinished(active.into_iter().map(|(_, v)| v).collect());
    if let Some(surface) = first {
        reveal::show(
            &caps,
            &surface,
            View::Status,
            reveal::status_text(&caps, &result),
        );
    }
    Ok(result)
}
