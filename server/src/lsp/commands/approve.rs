//! `agent.approve {runId?, step?, reason?, uri?}`: approves the waiting
//! step and continues the run. Without `runId`: the newest waiting run.

use agentls_engine::RunStatus;
use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{ProgressToken, Uri};

use super::{act_on_run, RunTarget};
use crate::lsp::runs::Pick;
use crate::lsp::server::State;

pub const NAME: &str = "agent.approve";

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Args {
    run_id: Option<String>,
    step: Option<String>,
    reason: Option<String>,
    uri: Option<Uri>,
}

pub async fn run(state: &State, args: Args, token: Option<ProgressToken>) -> Result<Value> {
    let target = RunTarget {
        run_id: args.run_id,
        uri: args.uri,
    };
    let (step, reason) = (args.step, args.reason);
    act_on_run(
        state,
        &target,
        Pick::Newest(&[RunStatus::Waiting]),
        token,
        |engine, run| engine.approve(run, step.as_deref(), reason.as_deref()),
    )
    .await
}
