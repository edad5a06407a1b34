//! Diagnostics on workflow files (`.agentls/workflows/*.toml`, the user's
//! `~/.config/agentls/workflows/*.toml`) as they are edited and saved.

use std::path::Path;

use agentls_workflow::{Severity, Source, SourceKind};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::convert;
use super::server::State;

/// Which kind of workflow file `path` is, if it is one.
pub fn kind_of(state: &State, path: &Path) -> Option<SourceKind> {
    let owner = state.sessions().owner(Some(path));
    let user = agentls_workflow::default_user_dir();
    agentls_workflow::classify_path(path, owner.root(), user.as_deref())
}

/// Validates `text` as the workflow file at `path` and publishes the result
/// (an empty list when it is fine).
pub async fn check(
    client: &Client,
    state: &State,
    uri: Uri,
    path: &Path,
    kind: SourceKind,
    text: String,
    version: Option<i32>,
) {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parsed = agentls_workflow::parse(
        &name,
        Source::new(kind, Some(path.to_path_buf()), text.clone()),
    );
    let encoding = state.encoding();
    let diagnostics = parsed
        .diagnostics
        .iter()
        .map(|d| Diagnostic {
            range: convert::span_range(&text, d.range.offsets.clone(), encoding),
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(format!("{:?}", d.code))),
            source: Some("agentls".into()),
            message: d.message.clone(),
            ..Diagnostic::default()
        })
        .collect();
    client.publish_diagnostics(uri, diagnostics, version).await;
}
