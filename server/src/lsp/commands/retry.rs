//! `agent.retry {runId?, step?, uri?}`: runs the failed step again and
//! continues the run. Without `runId`: the newest failed run.

use agentls_engine::RunStatus;
use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{ProgressToken, Uri};

use super::{act_on_run, RunTarget};
use crate::lsp::runs::Pick;
use crate::lsp::server::State;

pub const NAME: &str = "agent.retry";

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Args {
    run_id: Option<String>,
    step: Option<String>,
    uri: Option<Uri>,
}

pub async fn run(state: &State, args: Args, token: Option<ProgressToken>) -> Result<Value> {
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
