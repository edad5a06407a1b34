//! Runs through the editor surface: writing workflows where a session finds
//! them, starting runs with `agent.run`, and waiting for what the server
//! tells the editor about them (`agent/state`, `$/progress`,
//! `window/showMessage`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use super::server::{ServerRequest, TestServer, DEFAULT_TIMEOUT};
use super::{write_file, TestEnv};

impl TestEnv {
    /// Writes a user workflow (`$XDG_CONFIG_HOME/agentls/workflows/NAME.toml`):
    /// trusted, so it may run commands.
    pub fn user_workflow(&self, name: &str, toml: &str) -> PathBuf {
        let path = self
            .xdg_config_home()
            .join("agentls/workflows")
            .join(format!("{name}.toml"));
        write_file(&path, toml);
        path
    }

    /// Writes a workspace workflow (`FOLDER/.agentls/workflows/NAME.toml`):
    /// untrusted until approved.
    pub fn workspace_workflow(&self, folder: &Path, name: &str, toml: &str) -> PathBuf {
        let path = folder
            .join(".agentls/workflows")
            .join(format!("{name}.toml"));
        write_file(&path, toml);
        path
    }
}

/// The `$/progress` notifications for one token, in order, as
/// `(kind, value)`.
pub fn progress_of(notifications: &[Value], token: &Value) -> Vec<Value> {
    notifications
        .iter()
        .filter(|p| p["token"] == *token)
        .map(|p| p["value"].clone())
        .collect()
}

impl TestServer {
    /// `agent.run` with `args`; fails the test unless it answers a run id.
    pub fn start_run(&self, args: Value) -> String {
        let result = self
            .execute_command("agent.run", json!([args]))
            .unwrap_or_else(|e| self.fail(&format!("agent.run {args} failed: {e:?}")));
        result["runId"]
            .as_str()
            .unwrap_or_else(|| self.fail(&format!("agent.run answered without runId: {result}")))
            .to_owned()
    }

    /// `agent.run` with a client `workDoneToken`.
    pub fn start_run_with_token(&self, args: Value, token: &str) -> String {
        let result = self
            .request(
                "workspace/executeCommand",
                json!({ "command": "agent.run", "arguments": [args], "workDoneToken": token }),
            )
            .unwrap_or_else(|e| self.fail(&format!("agent.run {args} failed: {e:?}")));
        result["runId"]
            .as_str()
            .unwrap_or_else(|| self.fail(&format!("agent.run answered without runId: {result}")))
            .to_owned()
    }

    /// A command that must succeed.
    pub fn command_ok(&self, command: &str, args: Value) -> Value {
        self.execute_command(command, json!([args]))
            .unwrap_or_else(|e| self.fail(&format!("{command} {args} failed: {e:?}")))
    }

    /// Waits for an `agent/state` of `run` with this status (opt-in clients).
    pub fn wait_state(&self, run: &str, status: &str) -> Value {
        self.wait_state_within(run, status, DEFAULT_TIMEOUT)
    }

    pub fn wait_state_within(&self, run: &str, status: &str, timeout: Duration) -> Value {
        self.wait_notification_timeout(
            "agent/state",
            &format!("run {run} {status}"),
            timeout,
            &mut |p| p["runId"] == run && p["status"] == status,
        )
    }

    /// Waits for a `window/showMessage` that names `run` and contains `text`.
    pub fn wait_message(&self, run: &str, text: &str) -> Value {
        self.wait_notification(
            "window/showMessage",
            &format!("{text} for run {run}"),
            |p| {
                let message = p["message"].as_str().unwrap_or("");
                message.contains(run) && message.contains(text)
            },
        )
    }

    /// Waits for the server request `method` whose params satisfy `pred`.
    pub fn wait_server_request(
        &self,
        method: &str,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> ServerRequest {
        self.wait_for(&format!("server request {method}"), DEFAULT_TIMEOUT, |r| {
            r.server_requests
                .iter()
                .find(|q| q.method == method && pred(&q.params))
                .cloned()
        })
    }

    /// Waits for the `end` of the progress with `token`; returns every
    /// value of that progress, begin to end.
    pub fn wait_progress_end(&self, token: &Value) -> Vec<Value> {
        self.wait_for(
            &format!("$/progress end for {token}"),
            DEFAULT_TIMEOUT,
            |r| {
                let values = progress_of(&r.notifications("$/progress"), token);
                values.iter().any(|v| v["kind"] == "end").then_some(values)
            },
        )
    }

    /// The text of every `agent/output` of `run`, joined in `seq` order;
    /// fails if a `seq` is missing or repeated.
    pub fn output_text(&self, run: &str) -> String {
        let mut outputs: Vec<Value> = self
            .notifications("agent/output")
            .into_iter()
            .filter(|p| p["runId"] == run)
            .collect();
        outputs.sort_by_key(|p| p["seq"].as_u64());
        for (i, p) in outputs.iter().enumerate() {
            assert_eq!(
                p["seq"].as_u64(),
                Some(i as u64),
                "agent/output seq gap: {p}"
            );
        }
        outputs
            .iter()
            .map(|p| p["text"].as_str().unwrap_or(""))
            .collect()
    }
}
