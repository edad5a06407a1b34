//! `agent.runs {uri?, limit?}`: the run history of the workspace owning
//! `uri` (no uri: every workspace folder), newest first, `limit` runs
//! (default 20; 0 lists every run, as `agentls runs --limit 0` does). Each
//! workspace's runs come from its own store only.
//! Clients that discard results also get the list as a document
//! (`lsp::reveal`), written in the first workspace's state directory.

use tower_lsp_server::jsonrpc::Result;

use super::engine_error;
use crate::lsp::protocol::{RunSummary, RunsArgs};
use crate::lsp::reveal::{self, View};
use crate::lsp::server::State;
use crate::lsp::surface;

const DEFAULT_LIMIT: usize = 20;

pub fn run(state: &State, args: RunsArgs) -> Result<Vec<RunSummary>> {
    let limit = match args.limit.unwrap_or(DEFAULT_LIMIT) {
        0 => usize::MAX,
        limit => limit,
    };
    let sessions = surface::sessions_for(state, args.uri.as_ref())?;
    let mut history = Vec::new();
    let mut first = None;
    for session in &sessions {
        let surface = state
            .surface(session)
            .map_err(crate::lsp::errors::internal)?;
        first.get_or_insert_with(|| surface.clone());
        let summaries = surface
            .engine()
            .store()
            .runs(limit)
            .map_err(|e| engine_error(e.into()))?;
        history.extend(
            summaries
                .iter()
                .map(|s| (s.id.clone(), surface::run_summary(s, surface.root()))),
        );
    }
    history.sort_by(|a, b| b.0.cmp(&a.0));
    history.truncate(limit);
    let result: Vec<RunSummary> = history.into_iter().map(|(_, v)| v).collect();
    if let Some(surface) = first {
        let caps = state.caps();
        reveal::show(
            &caps,
            &surface,
            View::Runs,
            reveal::runs_text(&caps, &result),
        );
    }
    Ok(result)
}
