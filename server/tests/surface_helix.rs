//! Helix 25.07.1 as agentls sees it: its exact `initialize` capabilities
//! (fixtures/helix-25.07.1-initialize.json, what that release sends) and
//! what it does with the answers. It resolves a picked code action and then
//! executes the command of the action *as listed*, discards what
//! `workspace/executeCommand` returns, handles `window/showDocument`
//! without declaring it, and shows `window/showMessage` in its status line.
//! tests/helix/e2e.py runs the same scenario in the real editor.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::{file_uri, ServerOptions, TestEnv, TestServer};

const SOURCE: &str = "fn main() {\n    let greeting = \"hello\";\n}\n";

/// Edits only the run's own selection: runs without trust.
const SHOUT: &str = r#"
title = "Shout the selection"
[applies]
languages = ["rust"]
selection = true

[[steps]]
id = "shout"
edit = { selection = "{{ selection | upper }}" }
"#;

/// `initialize` as Helix 25.07.1 sends it, for one workspace folder.
fn helix_initialize(folder: &Path) -> Value {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helix-25.07.1-initialize.json");
    let mut params: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("the Helix fixture"))
            .expect("the Helix fixture is JSON");
    let uri = file_uri(folder);
    params["processId"] = json!(std::process::id());
    params["rootPath"] = json!(folder);
    params["rootUri"] = json!(uri);
    params["workspaceFolders"] = json!([{"uri": uri, "name": "ws"}]);
    params
}

struct Helix {
    server: TestServer,
    uri: String,
    folder: PathBuf,
}

fn helix() -> Helix {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/.agentls/config.toml", "[exec]\npty = false\n");
    env.workspace_workflow(&folder, "shout", SHOUT);
    let file = env.write("ws/src/main.rs", SOURCE);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(helix_initialize(&folder));
    let uri = file_uri(&file);
    server.did_open(&uri, "rust", 0, SOURCE);
    Helix {
        server,
        uri,
        folder,
    }
}

/// Line 1, `"hello"` (with its quotes), in utf-8 (Helix offers it first).
fn hello_range() -> Value {
    json!({"start": {"line": 1, "character": 19}, "end": {"line": 1, "character": 26}})
}

impl Helix {
    /// `space a` on the selection: the code actions, as Helix asks for them.
    fn code_actions(&self, range: Value) -> Vec<Value> {
        let result = self
            .server
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": self.uri}, "range": range,
                       "context": {"diagnostics": [], "triggerKind": 1}}),
            )
            .unwrap_or_else(|e| self.server.fail(&format!("codeAction failed: {e:?}")));
        result.as_array().cloned().unwrap_or_default()
    }

    /// Picking `action` in Helix 25.07.1's menu (helix-term
    /// src/commands/lsp.rs, `code_action`): an action without `edit` or
    /// `command` is resolved, the resolved edit is applied, and then the
    /// command of the action *as listed* is executed, its result dropped.
    /// Returns the command it executed.
    fn pick(&self, action: &Value) -> Option<Value> {
        if action.get("edit").is_none() || action.get("command").is_none() {
            let resolved = self
                .server
                .request("codeAction/resolve", action.clone())
                .unwrap_or_else(|e| self.server.fail(&format!("resolve failed: {e:?}")));
            assert!(resolved.get("edit").is_none(), "{resolved}");
        }
        let command = action.get("command")?.clone();
        let _discarded = self
            .server
            .request("workspace/executeCommand", command.clone())
            .unwrap_or_else(|e| self.server.fail(&format!("the command failed: {e:?}")));
        Some(command)
    }

    /// `:lsp-workspace-command <command> [args]`; the result is dropped.
    fn workspace_command(&self, command: &str, args: Option<Value>) {
        let arguments = args.map(|a| vec![a]).unwrap_or_default();
        self.server
            .request(
                "workspace/executeCommand",
                json!({"command": command, "arguments": arguments}),
            )
            .unwrap_or_else(|e| self.server.fail(&format!("{command} failed: {e:?}")));
    }

    /// The next `window/showDocument` whose file ends with `suffix`, and
    /// that file's text.
    fn shown(&self, suffix: &str) -> (Value, String) {
        let request = self.server.wait_server_request("window/showDocument", |p| {
            p["uri"].as_str().is_some_and(|u| u.ends_with(suffix))
        });
        let uri = request.params["uri"].as_str().unwrap_or_default();
        let path = uri.strip_prefix("file://").expect("a file uri");
        let text = std::fs::read_to_string(path).expect("the shown file exists");
        (request.params, text)
    }
}

#[test]
fn a_picked_code_action_runs_its_workflow_and_edits_the_selection() {
    let h = helix();
    let actions = h.code_actions(hello_range());
    let shout = actions
        .iter()
        .find(|a| a["title"] == "agentls: Shout the selection")
        .unwrap_or_else(|| panic!("not offered: {actions:#?}"));
    let command = h
        .pick(shout)
        .expect("Helix 25.07.1 runs the listed action's command: it must have one");
    assert_eq!(command["command"], "agent.run");
    let edit = h
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([{
            "textDocument": {"uri": h.uri, "version": 0},
            "edits": [{"range": hello_range(), "newText": "\"HELLO\""}],
        }])
    );
    let messages = h
        .server
        .wait_notification("window/showMessage", "the completed message", |p| {
            p["message"]
                .as_str()
                .is_some_and(|m| m.contains("completed"))
        });
    assert_eq!(
        messages["message"]
            .as_str()
            .unwrap()
            .split_once("; ")
            .map(|(_, hint)| hint),
        Some("`:lsp-workspace-command agent.output` (space A o) shows its output."),
        "the message names Helix's command picker and the suggested key"
    );
    assert_eq!(h.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn command_only_workflows_are_not_in_helixs_code_action_menu() {
    let h = helix();
    let cursor = json!({"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}});
    let titles: Vec<Value> = h
        .code_actions(cursor)
        .iter()
        .map(|a| a["title"].clone())
        .collect();
    assert_eq!(titles, Vec::<Value>::new(), "nothing applies at a cursor");
    assert_eq!(h.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn runs_status_and_output_open_as_documents_in_helix() {
    let h = helix();
    h.workspace_command("agent.run", Some(json!({"workflow": "demo", "uri": h.uri})));
    let done = h
        .server
        .wait_notification("window/showMessage", "demo completed", |p| {
            p["message"]
                .as_str()
                .is_some_and(|m| m.contains("`demo` completed"))
        });
    let run = done["message"]
        .as_str()
        .and_then(|m| m.split("(run ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .expect("the message names the run")
        .to_owned();

    // The transcript opens though Helix does not declare showDocument.
    let (params, transcript) = h.shown(&format!("transcripts/{run}.log"));
    assert_eq!(params["takeFocus"], true);
    assert!(transcript.contains("## step `system`"), "{transcript}");

    h.workspace_command("agent.runs", None);
    let (_, runs) = h.shown("views/runs.txt");
    assert!(runs.contains(&run) && runs.contains("completed"), "{runs}");
    assert!(
        runs.contains(":lsp-workspace-command agent.output"),
        "{runs}"
    );

    h.workspace_command("agent.status", Some(json!({"runId": run})));
    let (_, status) = h.shown("views/status.txt");
    assert!(
        status.contains(&format!("run {run}: demo (completed)")),
        "{status}"
    );

    h.workspace_command("agent.output", None);
    let (_, output) = h.shown(&format!("views/output-{run}.txt"));
    assert!(output.contains("## step `system` (completed)"), "{output}");

    // Nothing is written inside the workspace.
    assert!(!h.folder.join("views").exists());
    assert_eq!(h.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_clean_helix_session_writes_nothing_helix_would_log_as_an_error() {
    // The harness runs the server with AGENTLS_LOG=debug: even so, stderr
    // (which Helix logs line by line at error level) stays empty.
    let h = helix();
    let actions = h.code_actions(hello_range());
    let shout = actions
        .iter()
        .find(|a| a["title"] == "agentls: Shout the selection")
        .expect("offered");
    h.pick(shout);
    h.server
        .wait_notification("window/showMessage", "completed", |p| {
            p["message"]
                .as_str()
                .is_some_and(|m| m.contains("completed"))
        });
    assert_eq!(h.server.shutdown_and_exit().code(), Some(0));
    let stderr = h.server.stderr_tail(1 << 16);
    assert_eq!(stderr, "", "stderr of a clean session");
    let log = std::fs::read_to_string(h.server.env().state_dir().join("agentls.log"))
        .expect("the log file");
    assert!(
        log.contains("serving LSP on stdio"),
        "the file keeps the rest"
    );
}

#[test]
fn other_clients_can_ask_for_results_shown_as_messages() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    let init = support::InitParams::new()
        .without_capability("/window/showDocument")
        .initialization_options(json!({"agentls": {"showResults": true}}))
        .folder(&folder);
    server.initialize(init.build());
    server.command_ok("agent.runs", json!({}));
    let shown = server.wait_notification("window/showMessage", "the runs", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("agentls: runs, newest first"))
    });
    assert!(
        shown["message"].as_str().unwrap().contains("No runs yet."),
        "{shown}"
    );
    // `showResults` is the editor's key, not configuration: no complaint.
    assert!(
        server
            .notifications("window/showMessage")
            .iter()
            .all(|m| !m["message"].as_str().unwrap_or("").contains("showResults")),
        "{:?}",
        server.notifications("window/showMessage")
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_worktree_runs_diff_opens_as_a_document_in_helix() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    support::git(&folder, &["init", "--quiet", "-b", "main"]);
    env.write("ws/notes.txt", "alpha\nbeta\n");
    support::git(&folder, &["add", "-A"]);
    support::git(&folder, &["commit", "--quiet", "-m", "first"]);
    env.user_workflow(
        "upper",
        "isolation = \"worktree\"\n[[steps]]\nid = \"a\"\nrun = \"sed -i 's/^beta$/BETA/' notes.txt\"\n",
    );
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(helix_initialize(&folder));
    let h = Helix {
        server,
        uri: file_uri(&folder.join("notes.txt")),
        folder,
    };
    h.workspace_command("agent.run", Some(json!({"workflow": "upper"})));
    h.server
        .wait_notification("window/showMessage", "upper completed", |p| {
            p["message"]
                .as_str()
                .is_some_and(|m| m.contains("`upper` completed"))
        });
    // `:lsp-workspace-command agent.diff`: the result is dropped, the
    // patch opens.
    h.workspace_command("agent.diff", None);
    let (params, patch) = h.shown(".diff");
    assert_eq!(params["takeFocus"], true);
    assert!(patch.contains("-beta\n+BETA\n"), "{patch}");
    assert_eq!(
        std::fs::read_to_string(h.folder.join("notes.txt")).unwrap(),
        "alpha\nbeta\n"
    );
    assert_eq!(h.server.shutdown_and_exit().code(), Some(0));
}
