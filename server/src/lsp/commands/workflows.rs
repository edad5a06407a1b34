//! `agent.workflows {uri?}`: the workflows the workspace owning `uri` (no
//! uri: the only workspace folder, else files outside folders) can run,
//! built-in, user and workspace ones after overriding.

use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::Uri;

use crate::lsp::runs;
use crate::lsp::server::State;

pub const NAME: &str = "agent.workflows";

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    uri: Option<Uri>,
}

pub fn run(state: &State, args: Args) -> Result<Value> {
    let session = match &args.uri {
        Some(uri) => state.owner(uri),
        None => match runs::session_for(state, None) {
            Ok(session) => session,
            // No single folder: what every workspace sees (built-in, user).
            Err(_) => state.sessions().owner(None),
        },
    };
    let catalog = session.workflows();
    let list: Vec<Value> = catalog
        .workflows
        .values()
        .map(crate::session::workflow_summary)
        .collect();
    Ok(Value::Array(list))
}
