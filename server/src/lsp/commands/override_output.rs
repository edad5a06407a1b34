//! `agent.override {runId?, step, output, uri?}`: replaces the failed
//! step's output with `output` (what later steps' templates see), marks it
//! completed and continues. Without `runId`: the newest failed run.

use agentls_engine::RunStatus;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::ProgressToken;

use super::{act_on_run, RunTarget};
use crate::lsp::protocol::{OverrideArgs, RunState};
use crate::lsp::server::State;
use crate::lsp::surface::Pick;

pub async fn run(
    state: &State,
    args: OverrideArgs,
    token: Option<ProgressToken>,
) -> Result<RunState> {
    let step = args.step.ok_or_else(|| {
        Error::invalid_params("`agent.override` needs `step`: the failed step's id")
    })?;
    let output = args.output.ok_or_else(|| {
        Error::invalid_params(
            "`agent.override` needs `output`: the text the step should have produced",
        )
    })?;
    let target = RunTarget {
        run_id: args.run_id,
        uri: args.uri,
    };
    act_on_run(
        state,
        &target,
        Pick::Newest(&[RunStatus::Failed]),
        token,
        |engine, run| engine.override_output(run, &step, &output),
    )
    .await
}
