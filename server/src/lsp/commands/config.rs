//! `agent.config {uri?}`: the effective configuration of the session that
//! owns `uri` (no uri: the session for files outside every folder), and the
//! config files that made it. For users checking what is in force.

use std::path::Path;

use tower_lsp_server::jsonrpc::Result;

use crate::lsp::errors::internal;
use crate::lsp::protocol::{ConfigFile, ConfigResult, UriArgs};
use crate::lsp::server::State;

pub fn run(state: &State, args: UriArgs) -> Result<ConfigResult> {
    let session = match &args.uri {
        Some(uri) => state.owner(uri),
        None => state.sessions().owner(None),
    };
    let files = session
        .config_files()
        .iter()
        .map(|f| ConfigFile {
            path: f.path.clone(),
            error: f.error.as_ref().map(|e| e.message.clone()),
        })
        .collect();
    Ok(ConfigResult {
        workspace: session.root().map(Path::to_path_buf),
        workspace_id: session.id().as_str().to_owned(),
        config: serde_json::to_value(session.config()).map_err(internal)?,
        files,
    })
}
