//! `agent.workflows {uri?}`: the workflows the workspace owning `uri` (no
//! uri: the only workspace folder, else files outside folders) can run,
//! built-in, user and workspace ones after overriding.

use tower_lsp_server::jsonrpc::Result;

use crate::lsp::protocol::{UriArgs, WorkflowInfo};
use crate::lsp::server::State;
use crate::lsp::surface;

pub fn run(state: &State, args: UriArgs) -> Result<Vec<WorkflowInfo>> {
    let session = match &args.uri {
        Some(uri) => state.owner(uri),
        None => match surface::session_for(state, None) {
            Ok(session) => session,
            // No single folder: what every workspace sees (built-in, user).
            Err(_) => state.sessions().owner(None),
        },
    };
    let catalog = session.workflows();
    Ok(catalog
        .workflows
        .values()
        .map(crate::session::workflow_info)
        .collect())
}
