//! `agent.resume {runId?, uri?}`: continues a run that a crash or a restart
//! interrupted (a failed run is retried). Without `runId`: the newest
//! interrupted run.

use agentls_engine::RunStatus;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::ProgressToken;

use super::{act_on_run, RunTarget};
use crate::lsp::protocol::{RunArgs, RunState};
use crate::lsp::server::State;
use crate::lsp::surface::Pick;

pub async fn run(state: &State, args: RunArgs, token: Option<ProgressToken>) -> Result<RunState> {
    let target = RunTarget {
        run_id: args.run_id,
        uri: args.uri,
    };
    act_on_run(
        state,
        &target,
        Pick::Newest(&[RunStatus::Interrupted]),
        token,
        |engine, run| engine.resume(run),
    )
    .await
}
