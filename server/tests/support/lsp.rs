//! LSP vocabulary on top of the raw JSON-RPC client: initialize params, document
//! sync notifications and the agentls debug commands the tests compare against.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::file_uri;
use super::server::{RpcError, TestServer, DEFAULT_TIMEOUT};

/// Builds `initialize` params like an editor's: utf-16 only by default, work-done
/// progress, showDocument, applyEdit, configuration and workspace folders supported.
#[derive(Clone, Debug)]
pub struct InitParams {
    value: Value,
}

impl Default for InitParams {
    fn default() -> Self {
        Self::new()
    }
}

impl InitParams {
    pub fn new() -> Self {
        let value = json!({
            "processId": std::process::id(),
            "clientInfo": { "name": "agentls-test-harness", "version": "0" },
            "rootUri": null,
            "workspaceFolders": null,
            "capabilities": {
                "general": { "positionEncodings": ["utf-16"] },
                "window": {
                    "workDoneProgress": true,
                    "showDocument": { "support": true },
                    "showMessage": { "messageActionItem": { "additionalPropertiesSupport": false } }
                },
                "workspace": {
                    "applyEdit": true,
                    "workspaceEdit": { "documentChanges": true },
                    "configuration": true,
                    "workspaceFolders": true,
                    "didChangeConfiguration": { "dynamicRegistration": false },
                    "didChangeWatchedFiles": { "dynamicRegistration": true },
                    "executeCommand": { "dynamicRegistration": false }
                },
                "textDocument": {
                    "synchronization": { "dynamicRegistration": false, "didSave": true },
                    "publishDiagnostics": { "relatedInformation": true, "versionSupport": true },
                    "codeAction": {
                        "dataSupport": true,
                        "resolveSupport": { "properties": ["edit", "command"] },
                        "codeActionLiteralSupport": { "codeActionKind": {
                            "valueSet": ["", "quickfix", "refactor", "refactor.rewrite"] } }
                    }
                }
            }
        });
        InitParams { value }
    }

    /// Replaces `capabilities.general.positionEncodings` (an empty list removes it).
    pub fn position_encodings(mut self, encodings: &[&str]) -> Self {
        let general = &mut self.value["capabilities"]["general"];
        if encodings.is_empty() {
            general
                .as_object_mut()
                .expect("general")
                .remove("positionEncodings");
        } else {
            general["positionEncodings"] = json!(encodings);
        }
        self
    }

    /// Adds a workspace folder; the first one also becomes `rootUri`.
    pub fn folder(mut self, path: &Path) -> Self {
        let uri = file_uri(path);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("folder");
        if self.value["workspaceFolders"].is_null() {
            self.value["workspaceFolders"] = json!([]);
            self.value["rootUri"] = json!(uri);
        }
        self.value["workspaceFolders"]
            .as_array_mut()
            .expect("workspaceFolders")
            .push(json!({ "uri": uri, "name": name }));
        self
    }

    /// Opts in to `agent/output` and `agent/state` through
    /// `initializationOptions.agentls.runEvents`.
    pub fn run_events(mut self) -> Self {
        let options = &mut self.value["initializationOptions"];
        if !options.is_object() {
            *options = json!({});
        }
        if !options["agentls"].is_object() {
            options["agentls"] = json!({});
        }
        options["agentls"]["runEvents"] = json!(true);
        self
    }

    /// Removes the capability at a JSON pointer under `capabilities`
    /// (`/window/showDocument`), as a client without it would send.
    pub fn without_capability(mut self, pointer: &str) -> Self {
        let (parent, key) = pointer.rsplit_once('/').expect("a /-separated pointer");
        if let Some(obj) = self.value["capabilities"]
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
        {
            obj.remove(key);
        }
        self
    }

    /// Sets the capability at a JSON pointer under `capabilities`.
    pub fn with_capability(mut self, pointer: &str, value: Value) -> Self {
        let mut target = &mut self.value["capabilities"];
        for part in pointer.trim_start_matches('/').split('/') {
            target = &mut target[part];
        }
        *target = value;
        self
    }

    pub fn initialization_options(mut self, options: Value) -> Self {
        self.value["initializationOptions"] = options;
        self
    }

    pub fn build(self) -> Value {
        self.value
    }
}

/// Looks up a dotted config key (`exec.cols`) in an effective-config JSON object,
/// nested (`{"exec":{"cols":..}}`) or flat (`{"exec.cols":..}`).
pub fn config_key<'a>(config: &'a Value, dotted: &str) -> Option<&'a Value> {
    let pointer = format!("/{}", dotted.replace('.', "/"));
    config.pointer(&pointer).or_else(|| config.get(dotted))
}

/// Whether an `agent.config` `files` list names `path`. Entries may be a path, a
/// `file://` uri, or an object with a `path` or `uri` field (plus e.g. an error).
pub fn files_contain(files: &Value, path: &Path) -> bool {
    let uri = file_uri(path);
    let names = |s: &str| Path::new(s) == path || s == uri;
    files.as_array().is_some_and(|fs| {
        fs.iter().any(|f| match f {
            Value::String(s) => names(s),
            Value::Object(o) => ["path", "uri"]
                .iter()
                .any(|k| o.get(*k).and_then(Value::as_str).is_some_and(names)),
            _ => false,
        })
    })
}

impl TestServer {
    /// Sends `initialize`, requires success, then sends `initialized`. Returns the result.
    pub fn initialize(&self, params: Value) -> Value {
        let result = self
            .request("initialize", params)
            .unwrap_or_else(|e| self.fail(&format!("initialize failed: {e:?}")));
        self.notify("initialized", json!({}));
        result
    }

    pub fn initialize_default(&self) -> Value {
        self.initialize(InitParams::new().build())
    }

    /// `workspace/executeCommand` with the given arguments.
    pub fn execute_command(&self, command: &str, arguments: Value) -> Result<Value, RpcError> {
        self.request(
            "workspace/executeCommand",
            json!({ "command": command, "arguments": arguments }),
        )
    }

    /// `agent.config` for `uri` (or with no uri); fails the test on an error.
    pub fn agent_config(&self, uri: Option<&str>) -> Value {
        let arg = match uri {
            Some(uri) => json!({ "uri": uri }),
            None => json!({}),
        };
        self.execute_command("agent.config", json!([arg]))
            .unwrap_or_else(|e| self.fail(&format!("agent.config {uri:?} failed: {e:?}")))
    }

    /// One effective config value for the session owning `uri`.
    pub fn config_value(&self, uri: &str, dotted: &str) -> Value {
        let result = self.agent_config(Some(uri));
        config_key(&result["config"], dotted)
            .cloned()
            .unwrap_or_else(|| {
                self.fail(&format!(
                    "agent.config for {uri} has no `{dotted}`: {result}"
                ))
            })
    }

    /// `agent.document`: `{version, text}` the server holds for `uri`.
    pub fn agent_document(&self, uri: &str) -> Result<Value, RpcError> {
        self.execute_command("agent.document", json!([{ "uri": uri }]))
    }

    /// A request that must succeed: proves the server still answers normally.
    pub fn ping(&self) {
        if let Err(e) = self.execute_command("agent.config", json!([{}])) {
            self.fail(&format!("ping (agent.config) failed: {e:?}"));
        }
    }

    pub fn did_open(&self, uri: &str, language_id: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": {
                "uri": uri, "languageId": language_id, "version": version, "text": text } }),
        );
    }

    /// `didChange` with the given `contentChanges` array.
    pub fn did_change(&self, uri: &str, version: i64, content_changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version },
                    "contentChanges": content_changes }),
        );
    }

    pub fn did_close(&self, uri: &str) {
        self.notify(
            "textDocument/didClose",
            json!({ "textDocument": { "uri": uri } }),
        );
    }

    /// Waits for a notification `method` whose params satisfy `pred`; returns them.
    pub fn wait_notification(
        &self,
        method: &str,
        description: &str,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> Value {
        self.wait_notification_timeout(method, description, DEFAULT_TIMEOUT, &mut pred)
    }

    pub fn wait_notification_timeout(
        &self,
        method: &str,
        description: &str,
        timeout: Duration,
        pred: &mut dyn FnMut(&Value) -> bool,
    ) -> Value {
        self.wait_for(&format!("{method}: {description}"), timeout, |r| {
            r.notifications
                .iter()
                .find(|n| n.method == method && pred(&n.params))
                .map(|n| n.params.clone())
        })
    }
}
