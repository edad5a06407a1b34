//! Telling the editor about configuration: diagnostics on broken config
//! files, messages for bad editor settings. Everything goes through the
//! server's outbox (docs/architecture.md, invariant 6): nothing here waits on the editor.

use std::path::Path;

use serde_json::Value;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::convert;
use super::server::State;
use super::sink::{publish_diagnostics, show_message};
use crate::config::{parse_editor_settings, ConfigError, ConfigFile};

/// Publishes the diagnostics of each config file (an empty list clears old
/// ones) and shows a message for each broken one.
pub async fn publish(_client: &Client, state: &State, files: &[ConfigFile], tell: Tell) {
    for file in files {
        let Some(uri) = convert::uri(&file.path) else {
            continue;
        };
        let diagnostics = match &file.error {
            None => Vec::new(),
            Some(err) => {
                let range = err
                    .span
                    .clone()
                    .map(|span| convert::span_range(&file.text, span, state.encoding()))
                    .unwrap_or_default();
                vec![Diagnostic {
                    range,
                    severity: Some(DiagnosticSeverity::ERROR),
                    source: Some("agentls".into()),
                    message: err.message.clone(),
                    ..Diagnostic::default()
                }]
            }
        };
        if let (Some(err), Tell::Message) = (&file.error, tell) {
            let line = err.span.clone().map(|s| {
                file.text[..s.start.min(file.text.len())]
                    .matches('\n')
                    .count()
                    + 1
            });
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            state.notify(show_message(
                MessageType::ERROR,
                format!(
                    "agentls: {}{at}: {} (the last good configuration stays in use)",
                    file.path.display(),
                    err.message
                ),
            ));
        }
        state.notify(publish_diagnostics(uri, diagnostics, None));
    }
}

/// Whether a broken file is also told with `window/showMessage`, or only
/// with diagnostics (while the user is typing in it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tell {
    Message,
    DiagnosticsOnly,
}

/// Checks an unsaved config buffer: diagnostics only, nothing applied until
/// it is saved.
pub async fn check_buffer(client: &Client, state: &State, path: &Path, text: String) {
    let mut file = ConfigFile::new(path.to_path_buf());
    file.set_text(text);
    publish(client, state, &[file], Tell::DiagnosticsOnly).await;
}

/// Re-reads a config file wherever it is used (`text`: an unsaved buffer).
pub async fn reload_file(client: &Client, state: &State, path: &Path, text: Option<String>) {
    let sessions: Vec<_> = state.sessions().all().cloned().collect();
    let mut reported = false;
    for session in sessions.iter().filter(|s| s.is_config_file(path)) {
        let report = session.reload_config_file(path, text.clone());
        if report.changed {
            tracing::info!(
                "configuration of {} changed",
                session
                    .root()
                    .map(|r| r.display().to_string())
                    .unwrap_or_else(|| "files outside folders".into())
            );
        }
        // The user file is shared by every session: tell the editor once.
        if !reported {
            let files: Vec<_> = report
                .files
                .into_iter()
                .filter(|f| f.path == path)
                .collect();
            publish(client, state, &files, Tell::Message).await;
            reported = true;
        }
    }
}

pub async fn did_change_configuration(client: &Client, state: &State, mut settings: Value) {
    // Editors often send the same object as initializationOptions.
    super::client::strip_editor_keys(&mut settings);
    match parse_editor_settings("settings", &settings) {
        Ok(settings) => {
            state.set_settings(settings);
        }
        Err(err) => report_editor_error(client, state, &err).await,
    }
}

pub async fn report_editor_error(_client: &Client, state: &State, err: &ConfigError) {
    tracing::warn!("bad editor settings: {err}");
    state.notify(show_message(
        MessageType::ERROR,
        format!("agentls: {err} (the last good configuration stays in use)"),
    ));
}
