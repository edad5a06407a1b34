//! `agent.reject {runId?, step?, reason?, uri?}`: rejects the waiting step;
//! the run pauses as failed (skip the step to go on, or cancel). Without
//! `runId`: the newest waiting run.

use agentls_engine::RunStatus;
use tower_lsp_server::jsonrpc::Result;

use super::{act_on_run, RunTarget};
use crate::lsp::protocol::{DecisionArgs, RunState};
use crate::lsp::server::State;
use crate::lsp::surface::Pick;

pub async fn run(state: &State, args: DecisionArgs) -> Result<RunState> {
    let target = RunTarget {
        run_id: args.run_id,
        uri: args.uri,
    };
    let (step, reason) = (args.step, args.reason);
    act_on_run(
        state,
        &target,
        Pick::Newest(&[RunStatus::Waiting]),
        None,
        |engine, run| engine.reject(run, step.as_deref(), reason.as_deref()),
    )
    .await
}
