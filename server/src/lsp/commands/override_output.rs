//! `agent.override {runId?, step, output, uri?}`: replaces the failed
//! step's output with `output` (what later steps' templates see), marks it
//! completed and continues. Without `runId`: the newest failed run.

use agentls_engine::RunStatus;
use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{ProgressToken, Uri};

use super::{act_on_run, RunTarget};
use crate::lsp::runs::Pick;
use crate::lsp::server::State;

pub const NAME: &str = "agent.override";

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Args {
    run_id: Option<String>,
    step: Option<String>,
    output: Option<String>,
    uri: Option<Uri>,
}

pub async fn run(state: &State, args: Args, token: Option<ProgressToken>) -> Result<Value> {
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
