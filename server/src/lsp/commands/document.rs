//! `agent.document {uri}`: the text and version the server holds for an
//! open document. For checking that editor and server agree.

use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::Uri;

use crate::lsp::errors::echo;
use crate::lsp::server::State;

pub const NAME: &str = "agent.document";

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    uri: Option<Uri>,
}

pub fn run(state: &State, args: Args) -> Result<Value> {
    let uri = args
        .uri
        .ok_or_else(|| Error::invalid_params("`agent.document` needs `uri`"))?;
    let owner = state.owner(&uri);
    let docs = owner.documents();
    let open = docs.get(uri.as_str()).ok_or_else(|| {
        Error::invalid_params(format!("document is not open: {}", echo(uri.as_str())))
    })?;
    Ok(json!({"version": open.doc.version(), "text": open.doc.text()}))
}
