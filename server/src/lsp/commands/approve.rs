//! `agent.approve {runId?, step?, reason?, always?, uri?}`: approves the
//! waiting step (an agent step: its waiting tool call; `always`: the same
//! action for the rest of the run) and continues the run. Without `runId`:
//! the newest waiting run.

use agentls_engine::RunStatus;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::ProgressToken;

use super::{act_on_run, RunTarget};
use crate::lsp::protocol::{DecisionArgs, RunState};
use crate::lsp::server::State;
use crate::lsp::surface::Pick;

pub async fn run(
    state: &State,
    args: DecisionArgs,
    token: Option<ProgressToken>,
) -> Result<RunState> {
    let target = RunTarget {
        run_id: args.run_id,
        uri: args.uri,
    };
    let (step, reason, always) = (args.step, args.reason, args.always.unwrap_or(false));
    act_on_run(
        state,
        &target,
        Pick::Newest(&[RunStatus::Waiting]),
        token,
        |engine, run| engine.approve_with(run, step.as_deref(), reason.as_deref(), always),
    )
    .await
}
