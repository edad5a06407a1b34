//! `agent.retry {runId?, step?, uri?}`: runs the failed step again and
//! continues the run. Without `runId`: the newest failed run.

use agentls_engine::RunStatus;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::ProgressToken;

use super::{act_on_run, RunTarget};
use crate::lsp::protocol::{RunState, StepArgs};
use crate::lsp::server::State;
use crate::lsp::surface::Pick;

pub async fn run(state: &State, args: StepArgs, token: Option<ProgressToken>) -> Result<RunState> {
    let target = RunTarget {
        run_id: args.run_id,
        uri: args.uri,
    };
    let step = args.step;
    act_on_run(
        state,
        &target,
        Pick::Newest(&[RunStatus::Failed]),
        token,
        |engine, run| engine.retry(run, step.as_deref()),
    )
    .await
}
