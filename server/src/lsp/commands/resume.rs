//! `agent.resume {runId?, uri?}`: continues a run that a crash or a restart
//! interrupted (a failed run is retried). Without `runId`: the newest
//! interrupted run.

use agentls_engine::RunStatus;
use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{ProgressToken, Uri};

use super::{act_on_run, RunTarget};
use crate::lsp::runs::Pick;
use crate::lsp::server::State;

pub const NAME: &str = "agent.resume";

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Args {
    run_id: Option<String>,
    uri: Option<Uri>,
}

pub async fn run(state: &State, args: Args, token: Option<ProgressToken>) -> Result<Value> {
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
