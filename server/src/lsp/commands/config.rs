//! `agent.config {uri?}`: the effective configuration of the session that
//! owns `uri` (no uri: the session for files outside every folder), and the
//! config files that made it. For users checking what is in force.

use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::Uri;

use crate::lsp::server::State;

pub const NAME: &str = "agent.config";

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    uri: Option<Uri>,
}

pub fn run(state: &State, args: Args) -> Result<Value> {
    let session = match &args.uri {
        Some(uri) => state.owner(uri),
        None => state.sessions().owner(None),
    };
    let files: Vec<Value> = session
        .config_files()
        .iter()
        .map(|f| json!({"path": f.path, "error": f.error.as_ref().map(|e| e.message.clone())}))
        .collect();
    Ok(json!({
        "workspace": session.root(),
        "workspaceId": session.id().as_str(),
        "config": session.config(),
        "files": files,
    }))
}
