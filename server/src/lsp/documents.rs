//! Text document sync. Each handler applies its change before its first
//! `.await` (DESIGN invariant 5): tower-lsp-server polls handlers
//! concurrently, and only the synchronous prefix runs in arrival order.

use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::config;
use super::convert;
use super::server::State;
use crate::session::OpenDocument;

pub async fn did_open(client: &Client, state: &State, params: DidOpenTextDocumentParams) {
    let item = params.text_document;
    let path = convert::path(&item.uri);
    let text = {
        let owner = state.owner(&item.uri);
        let doc = agentls_text::Document::new(&item.text, item.version, item.language_id);
        owner.documents().insert(
            item.uri.as_str().to_string(),
            OpenDocument {
                path: path.clone(),
                doc,
            },
        );
        owner
            .is_config_file_path(path.as_deref())
            .then_some(item.text)
    };
    if let (Some(path), Some(text)) = (path, text) {
        config::check_buffer(client, state, &path, text).await;
    }
}

pub async fn did_change(client: &Client, state: &State, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let encoding = state.encoding();
    let config_text = {
        let owner = state.owner(&uri);
        let mut docs = owner.documents();
        let Some(open) = docs.get_mut(uri.as_str()) else {
            tracing::warn!(
                "didChange for a document that is not open: {}",
                uri.as_str()
            );
            return;
        };
        let changes: Vec<_> = params
            .content_changes
            .into_iter()
            .map(convert::change)
            .collect();
        open.doc
            .apply_changes(&changes, params.text_document.version, encoding);
        let is_config = owner.is_config_file_path(open.path.as_deref());
        is_config.then(|| (open.path.clone(), open.doc.text()))
    };
    if let Some((Some(path), text)) = config_text {
        config::check_buffer(client, state, &path, text).await;
    }
}

pub async fn did_save(client: &Client, state: &State, params: DidSaveTextDocumentParams) {
    if let Some(path) = convert::path(&params.text_document.uri) {
        config::reload_file(client, state, &path, None).await;
    }
}

pub async fn did_close(client: &Client, state: &State, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    let closed = state.owner(&uri).documents().remove(uri.as_str());
    if let Some(path) = closed.and_then(|c| c.path) {
        // What the buffer showed may not be what was saved: go back to disk.
        config::reload_file(client, state, &path, None).await;
    }
}
