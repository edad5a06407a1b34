//! `agent.discard {runId?, uri?}`: drops a worktree run's changes (without
//! `runId`: the newest run): its worktree, branch and directory
//! are removed. A run being driven is refused; cancel it first.

use tower_lsp_server::jsonrpc::Result;

use super::engine_error;
use crate::lsp::protocol::{RunArgs, RunState};
use crate::lsp::server::State;
use crate::lsp::surface::{self, Pick};

pub async fn run(state: &State, args: RunArgs) -> Result<RunState> {
    let (surface, run) = surface::find_run(
        state,
        args.uri.as_ref(),
        args.run_id.as_deref(),
        Pick::Latest,
    )?;
    super::apply::blocking(surface.engine(), &run, |engine, run| engine.discard(run))
        .await?
        .map_err(engine_error)?;
    surface.run_state(&run).map_err(engine_error)
}
