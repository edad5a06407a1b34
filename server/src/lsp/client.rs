//! What the editor said it can do at `initialize`, reduced to the questions
//! the editor surface asks: does it want run events, can it show progress,
//! documents, edits, code action literals? Does it show what a command
//! returns, and how does its user run a command?
//!
//! Clients that know nothing of agentls (Helix, plain LSP clients) get
//! everything through standard requests; the answers here only decide which.
//! Where a client is known to do more or less than it declares, its
//! `clientInfo` decides: Helix (every release up to 25.07.1 and its master
//! at the time of writing) handles `window/showDocument` without declaring
//! it, and discards what `workspace/executeCommand` returns.

use serde_json::Value;
use tower_lsp_server::ls_types::InitializeParams;

/// Which editor this is, where that changes what the server sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientKind {
    /// Anything that does what it declares.
    #[default]
    Generic,
    /// Helix (`clientInfo.name` `helix`): runs commands from
    /// `:lsp-workspace-command`, shows `showMessage` in its status line.
    Helix,
}

/// The client's abilities that change what the server sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCaps {
    pub kind: ClientKind,
    /// Opted in to `agent/output` and `agent/state`
    /// (`initializationOptions.agentls.runEvents` or
    /// `capabilities.experimental.agentls.runEvents`).
    pub run_events: bool,
    /// `window.workDoneProgress`: may be asked to create progress tokens.
    pub work_done_progress: bool,
    /// `window.showDocument.support`, or a client known to handle it
    /// without saying so (Helix).
    pub show_document: bool,
    /// `agent.status`, `agent.runs` and `agent.output` also show their
    /// answer to the user (as a document, else as a message): the client
    /// discards command results (Helix), or asked for it with the editor
    /// key `showResults` (which also turns it off).
    pub show_results: bool,
    /// `workspace.applyEdit`.
    pub apply_edit: bool,
    /// `workspace.workspaceEdit.documentChanges`: versioned edits.
    pub document_changes: bool,
    /// `workspace.workspaceEdit.resourceOperations` contains `create`.
    pub create_files: bool,
    /// `textDocument.codeAction.codeActionLiteralSupport`: code actions may
    /// be `CodeAction` literals (else only `Command`s).
    pub code_action_literals: bool,
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
        let kind = match &params.client_info {
            Some(info) if info.name.eq_ignore_ascii_case("helix") => ClientKind::Helix,
            _ => ClientKind::Generic,
        };
        let helix = kind == ClientKind::Helix;
        let show_results = params
            .initialization_options
            .as_ref()
            .and_then(|o| editor_flag(o, SHOW_RESULTS))
            .unwrap_or(helix);
        Self {
            kind,
            run_events: experimental_opt_in || init_opt_in,
            work_done_progress: window.and_then(|w| w.work_done_progress) == Some(true),
            show_document: helix
                || window
                    .and_then(|w| w.show_document.as_ref())
                    .is_some_and(|s| s.support),
            show_results,
            apply_edit: workspace.and_then(|w| w.apply_edit) == Some(true),
            document_changes: edit.and_then(|e| e.document_changes) == Some(true),
            create_files: edit
                .and_then(|e| e.resource_operations.as_ref())
                .is_some_and(|ops| {
                    ops.contains(&tower_lsp_server::ls_types::ResourceOperationKind::Create)
                }),
            code_action_literals: code_action
                .is_some_and(|c| c.code_action_literal_support.is_some()),
        }
    }
}

impl ClientCaps {
    /// How the user runs `command` in this editor, for messages: Helix users
    /// pick it in `:lsp-workspace-command` (with the key docs/editors.md
    /// suggests, where there is one).
    pub fn command_hint(&self, command: &str) -> String {
        match self.kind {
            ClientKind::Generic => format!("`{command}`"),
            ClientKind::Helix => match helix_key(command) {
                Some(key) => format!("`:lsp-workspace-command {command}` ({key})"),
                None => format!("`:lsp-workspace-command {command}`"),
            },
        }
    }
}

/// The key bindings of editors/helix/config.toml.
fn helix_key(command: &str) -> Option<&'static str> {
    Some(match command {
        "agent.output" => "space A o",
        "agent.runs" => "space A l",
        "agent.status" => "space A i",
        "agent.cancel" => "space A c",
        "agent.retry" => "space A r",
        "agent.skip" => "space A s",
        "agent.approve" => "space A y",
        "agent.reject" => "space A n",
        _ => return None,
    })
}

/// The editor key that shows command results to the user.
const SHOW_RESULTS: &str = "showResults";

/// An editor-only boolean in initializationOptions, nested under `agentls`
/// or bare.
fn editor_flag(options: &Value, key: &str) -> Option<bool> {
    options
        .get("agentls")
        .and_then(|a| a.get(key))
        .or_else(|| options.get(key))
        .and_then(Value::as_bool)
}

fn run_events_in(value: Option<&Value>) -> bool {
    value
        .and_then(|v| v.get("runEvents"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Removes the editor-only keys (`runEvents`, `showResults`) from
/// initializationOptions or settings before they are read as configuration,
/// which rejects unknown keys. Accepts both the `{"agentls": {...}}` and the
/// bare form.
pub fn strip_editor_keys(value: &mut Value) {
    for key in ["runEvents", SHOW_RESULTS] {
        if let Some(inner) = value.get_mut("agentls").and_then(Value::as_object_mut) {
            inner.remove(key);
        }
        if let Some(map) = value.as_object_mut() {
            map.remove(key);
        }
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
    fn helix_shows_documents_and_results_without_declaring_it() {
        let helix = caps(json!({"capabilities": {},
            "clientInfo": {"name": "helix", "version": "25.07.1 (ac948410)"}}));
        assert_eq!(helix.kind, ClientKind::Helix);
        assert!(helix.show_document && helix.show_results);
        assert_eq!(
            helix.command_hint("agent.output"),
            "`:lsp-workspace-command agent.output` (space A o)"
        );
        let opted_out = caps(json!({"capabilities": {},
            "clientInfo": {"name": "helix"},
            "initializationOptions": {"agentls": {"showResults": false}}}));
        assert!(!opted_out.show_results);
        let other = caps(json!({"capabilities": {}, "clientInfo": {"name": "Visual Studio Code"}}));
        assert!(!other.show_document && !other.show_results);
        assert_eq!(other.command_hint("agent.output"), "`agent.output`");
        let opted_in =
            caps(json!({"capabilities": {}, "initializationOptions": {"showResults": true}}));
        assert!(opted_in.show_results);
    }

    #[test]
    fn editor_keys_are_stripped_before_config_parsing() {
        let mut v =
            json!({"agentls": {"runEvents": true, "showResults": true, "exec": {"cols": 3}}});
        strip_editor_keys(&mut v);
        assert_eq!(v, json!({"agentls": {"exec": {"cols": 3}}}));
        let mut bare = json!({"runEvents": true});
        strip_editor_keys(&mut bare);
        assert_eq!(bare, json!({}));
    }
}
