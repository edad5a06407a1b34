//! `agent.document {uri}`: the text and version the server holds for an
//! open document. For checking that editor and server agree.

use tower_lsp_server::jsonrpc::{Error, Result};

use crate::lsp::errors::echo;
use crate::lsp::protocol::{DocumentResult, UriArgs};
use crate::lsp::server::State;

pub fn run(state: &State, args: UriArgs) -> Result<DocumentResult> {
    let uri = args
        .uri
        .ok_or_else(|| Error::invalid_params("`agent.document` needs `uri`"))?;
    let owner = state.owner(&uri);
    let docs = owner.documents();
    let open = docs.get(uri.as_str()).ok_or_else(|| {
        Error::invalid_params(format!("document is not open: {}", echo(uri.as_str())))
    })?;
    Ok(DocumentResult {
        version: open.doc.version(),
        text: open.doc.text(),
    })
}
