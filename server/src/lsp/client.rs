//! What the editor said it can do at `initialize`, reduced to the questions
//! the editor surface asks: does it want run events, can it show progress,
//! documents, edits, lazily resolved code actions?
//!
//! Clients that know nothing of agentls (Helix, plain LSP clients) get
//! everything through standard requests; the answers here only decide which.

use serde_json::Value;
use tower_lsp_server::ls_types::InitializeParams;

/// The client's abilities that change what the server sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCaps {
    /// Opted in to `agent/output` and `agent/state`
    /// (`initializationOptions.agentls.runEvents` or
    /// `capabilities.experimental.agentls.runEvents`).
    pub run_events: bool,
    /// `window.workDoneProgress`: may be asked to create progress tokens.
    pub work_done_progress: bool,
    /// `window.showDocument.support`.
    pub show_document: bool,
    /// `workspace.applyEdit`.
    pub apply_edit: bool,
    /// `workspace.workspaceEdit.documentChanges`: versioned edits.
    pub document_changes: bool,
    /// `workspace.workspaceEdit.resourceOperations` contains `create`.
    pub create_files: bool,
    /// `textDocument.codeAction.codeActionLiteralSupport`: code actions may
    /// be `CodeAction` literals (else only `Command`s).
    pub code_action_literals: bool,
    /// `textDocument.codeAction.resolveSupport.properties` has `command`:
    /// the command may be filled in by `codeAction/resolve`.
    pub resolve_command: bool,
}

impl ClientCaps {
    /// Reads the capabilities and the opt-in from `initialize`.
    pub fn from_initialize(params: &InitializeParams) -> Self {
        let caps = &params.capabilities;
        let window = caps.window.as_ref();
        let workspace = caps.workspace.as_ref();
        let edit = workspace.and_then(|w| w.workspace_edit.as_ref());
        let code_action = caps
            .text_document
            .as_ref()
            .and_then(|t| t.code_action.as_ref());
        let experimental_opt_in = caps
            .experimental
            .as_ref()
            .is_some_and(|e| run_events_in(e.get("agentls")));
        let init_opt_in = params
            .initialization_options
            .as_ref()
            .is_some_and(|o| run_events_in(o.get("agentls")) || run_events_in(Some(o)));
        Self {
            run_events: experimental_opt_in || init_opt_in,
            work_done_progress: window.and_then(|w| w.work_done_progress) == Some(true),
            show_document: window
                .and_then(|w| w.show_document.as_ref())
                .is_some_and(|s| s.support),
            apply_edit: workspace.and_then(|w| w.apply_edit) == Some(true),
            document_changes: edit.and_then(|e| e.document_changes) == Some(true),
            create_files: edit
                .and_then(|e| e.resource_operations.as_ref())
                .is_some_and(|ops| {
                    ops.contains(&tower_lsp_server::ls_types::ResourceOperationKind::Create)
                }),
            code_action_literals: code_action
                .is_some_and(|c| c.code_action_literal_support.is_some()),
            resolve_command: code_action
                .and_then(|c| c.resolve_support.as_ref())
                .is_some_and(|r| r.properties.iter().any(|p| p == "command")),
        }
    }
}

fn run_events_in(value: Option<&Value>) -> bool {
    value
        .and_then(|v| v.get("runEvents"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Removes the editor-only keys (`runEvents`) from initializationOptions or
/// settings before they are read as configuration, which rejects unknown
/// keys. Accepts both the `{"agentls": {...}}` and the bare form.
pub fn strip_editor_keys(value: &mut Value) {
    if let Some(inner) = value.get_mut("agentls").and_then(Value::as_object_mut) {
        inner.remove("runEvents");
    }
    if let Some(map) = value.as_object_mut() {
        map.remove("runEvents");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caps(value: Value) -> ClientCaps {
        let params: InitializeParams = serde_json::from_value(value).unwrap();
        ClientCaps::from_initialize(&params)
    }

    #[test]
    fn run_events_opt_in_from_either_place() {
        assert!(
            caps(json!({"capabilities": {},
            "initializationOptions": {"agentls": {"runEvents": true}}}))
            .run_events
        );
        assert!(
            caps(json!({"capabilities": {"experimental": {"agentls": {"runEvents": true}}}}))
                .run_events
        );
        assert!(!caps(json!({"capabilities": {}})).run_events);
    }

    #[test]
    fn editor_keys_are_stripped_before_config_parsing() {
        let mut v = json!({"agentls": {"runEvents": true, "exec": {"cols": 3}}});
        strip_editor_keys(&mut v);
        assert_eq!(v, json!({"agentls": {"exec": {"cols": 3}}}));
        let mut bare = json!({"runEvents": true});
        strip_editor_keys(&mut bare);
        assert_eq!(bare, json!({}));
    }
}
