//! Text document sync. Each handler applies its change before its first
//! `.await` (docs/architecture.md, invariant 5): the transport polls handlers
//! concurrently, and only the synchronous prefix runs in arrival order.

use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::config;
use super::convert;
use super::errors::echo;
use super::server::State;
use super::workflows;
use crate::session::OpenDocument;

pub async fn did_open(client: &Client, state: &State, params: DidOpenTextDocumentParams) {
    let item = params.text_document;
    let path = convert::path(&item.uri);
    let special = {
        let owner = state.owner(&item.uri);
        let doc = agentls_text::Document::new(&item.text, item.version, item.language_id);
        owner.documents().insert(
            item.uri.as_str().to_string(),
            OpenDocument {
                path: path.clone(),
                doc,
            },
        );
        special_file(state, &owner, path.as_deref())
    };
    if let (Some(special), Some(path)) = (special, path) {
        check(
            client,
            state,
            item.uri,
            &path,
            special,
            item.text,
            Some(item.version),
        )
        .await;
    }
}

pub async fn did_change(client: &Client, state: &State, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let version = params.text_document.version;
    let encoding = state.encoding();
    let checked = {
        let owner = state.owner(&uri);
        let mut docs = owner.documents();
        let Some(open) = docs.get_mut(uri.as_str()) else {
            tracing::warn!(
                "didChange for a document that is not open: {}",
                echo(uri.as_str())
            );
            return;
        };
        // Versions only grow (LSP 3.17): an older one is a change the
        // server already has, or a confused client. Applying it would put
        // older text over newer.
        if version < open.doc.version() {
            tracing::warn!(
                "didChange for {} with version {version}, older than the version {} held; \
                 the change is ignored",
                echo(uri.as_str()),
                open.doc.version()
            );
            return;
        }
        let changes: Vec<_> = params
            .content_changes
            .into_iter()
            .map(convert::change)
            .collect();
        open.doc.apply_changes(&changes, version, encoding);
        let path = open.path.clone();
        let special = special_file(state, &owner, path.as_deref());
        special
            .zip(path)
            .map(|(special, path)| (special, path, open.doc.text()))
    };
    if let Some((special, path, text)) = checked {
        check(client, state, uri, &path, special, text, Some(version)).await;
    }
}

pub async fn did_save(client: &Client, state: &State, params: DidSaveTextDocumentParams) {
    let uri = params.text_document.uri;
    let Some(path) = convert::path(&uri) else {
        return;
    };
    config::reload_file(client, state, &path, None).await;
    if let Some(kind) = workflows::kind_of(state, &path) {
        if let Ok(text) = agentls_files::read_to_string(&path, agentls_files::Limit::WORKFLOW) {
            workflows::check(client, state, uri, &path, kind, text, None).await;
        }
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

/// What a document is to agentls beyond text.
#[derive(Clone, Copy)]
enum Special {
    Config,
    Workflow(agentls_workflow::SourceKind),
}

fn special_file(
    state: &State,
    owner: &crate::session::Session,
    path: Option<&std::path::Path>,
) -> Option<Special> {
    if owner.is_config_file_path(path) {
        return Some(Special::Config);
    }
    workflows::kind_of(state, path?).map(Special::Workflow)
}

async fn check(
    client: &Client,
    state: &State,
    uri: Uri,
    path: &std::path::Path,
    special: Special,
    text: String,
    version: Option<i32>,
) {
    match special {
        Special::Config => config::check_buffer(client, state, path, text).await,
        Special::Workflow(kind) => {
            workflows::check(client, state, uri, path, kind, text, version).await
        }
    }
}
