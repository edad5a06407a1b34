//! Code actions: workflows are offered where their `[applies]` fits (and
//! only workflows with an `[applies]` table), carry their `agent.run`
//! command at once, and running one applies its edit through
//! `workspace/applyEdit`.

mod support;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const SOURCE: &str = "fn main() {\n    let greeting = \"hello\";\n}\n";

/// A workspace workflow whose edit needs no model (and no trust: it only
/// edits the run's own selection).
const SHOUT: &str = r#"
title = "Shout the selection"
[applies]
languages = ["rust"]
selection = true

[[steps]]
id = "shout"
edit = { selection = "{{ selection | upper }}" }
"#;

/// An empty `[applies]`: offered everywhere, selection or not.
const EVERYWHERE: &str = r#"
title = "Count the lines"
[applies]

[[steps]]
id = "count"
run = "wc -l"
"#;

struct Fixture {
    server: TestServer,
    uri: String,
}

fn fixture(init: InitParams) -> Fixture {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.workspace_workflow(&folder, "shout", SHOUT);
    env.workspace_workflow(&folder, "count", EVERYWHERE);
    let file = env.write("ws/src/main.rs", SOURCE);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(init.folder(&folder).build());
    let uri = file_uri(&file);
    server.did_open(&uri, "rust", 1, SOURCE);
    Fixture { server, uri }
}

/// Line 1, `"hello"` (with its quotes).
fn hello_range() -> Value {
    json!({"start": {"line": 1, "character": 19}, "end": {"line": 1, "character": 26}})
}

fn code_actions(server: &TestServer, uri: &str, range: Value, context: Value) -> Vec<Value> {
    let result = server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": context}),
        )
        .unwrap_or_else(|e| server.fail(&format!("codeAction failed: {e:?}")));
    result.as_array().cloned().unwrap_or_default()
}

fn titles(actions: &[Value]) -> Vec<String> {
    actions
        .iter()
        .map(|a| a["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn find<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no action {title:?} in {:?}", titles(actions)))
}

#[test]
fn every_command_of_the_table_is_advertised() {
    let env = TestEnv::new();
    let server = TestServer::spawn_in(env, ServerOptions::new());
    let result = server.initialize_default();
    let commands = &result["capabilities"]["executeCommandProvider"]["commands"];
    for name in [
        "agent.workflows",
        "agent.run",
        "agent.status",
        "agent.runs",
        "agent.output",
        "agent.cancel",
        "agent.retry",
        "agent.skip",
        "agent.override",
        "agent.resume",
        "agent.approve",
        "agent.reject",
    ] {
        assert!(
            commands.as_array().unwrap().contains(&json!(name)),
            "{name} missing from {commands}"
        );
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_selection_in_a_rust_file_offers_the_builtin_and_workspace_workflows() {
    let f = fixture(InitParams::new());
    let actions = code_actions(&f.server, &f.uri, hello_range(), json!({"diagnostics": []}));
    let titles = titles(&actions);
    for expected in [
        "agentls: Explain this code",
        "agentls: Refactor with an instruction",
        "agentls: Write tests for this function",
        "agentls: Shout the selection",
    ] {
        assert!(
            titles.iter().any(|t| t == expected),
            "{expected} not in {titles:?}"
        );
    }
    assert!(
        !titles.iter().any(|t| t == "agentls: Fix this diagnostic"),
        "no diagnostics, no quick fix: {titles:?}"
    );
    let shout = find(&actions, "agentls: Shout the selection");
    assert_eq!(shout["kind"], "refactor.rewrite");
    assert_eq!(
        shout["command"],
        json!({"title": "agentls: Shout the selection", "command": "agent.run",
               "arguments": [{"workflow": "shout", "uri": f.uri, "range": hello_range()}]}),
        "the command comes with the action"
    );

    // An empty range has no selection: selection workflows are not offered.
    let cursor = json!({"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}});
    let at_cursor = titles_of(&f, cursor, json!({"diagnostics": []}));
    assert!(
        !at_cursor
            .iter()
            .any(|t| t == "agentls: Shout the selection"),
        "{at_cursor:?}"
    );
    assert!(
        at_cursor.iter().any(|t| t == "agentls: Count the lines"),
        "an empty [applies] offers it everywhere: {at_cursor:?}"
    );
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn workflows_without_applies_are_not_code_actions() {
    let f = fixture(InitParams::new());
    let cursor = json!({"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}});
    for range in [cursor, hello_range()] {
        let offered = titles_of(&f, range, json!({"diagnostics": []}));
        for command_only in [
            "agentls: Run the tests",
            "agentls: Run the tests and fix failures",
            "agentls: Write a commit message for the staged changes",
            "agentls: Demo: commands, templates and conditions (no model needed)",
        ] {
            assert!(
                !offered.iter().any(|t| t == command_only),
                "{command_only} offered: {offered:?}"
            );
        }
    }
    // Still commands: agent.workflows lists them, marked as such.
    let list = f
        .server
        .command_ok("agent.workflows", json!({"uri": f.uri}));
    let test = list
        .as_array()
        .and_then(|l| l.iter().find(|w| w["name"] == "test"))
        .cloned()
        .unwrap_or_else(|| panic!("no test in {list}"));
    assert_eq!(test["applies"]["codeAction"], false);
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

fn titles_of(f: &Fixture, range: Value, context: Value) -> Vec<String> {
    titles(&code_actions(&f.server, &f.uri, range, context))
}

#[test]
fn diagnostics_in_the_range_offer_a_quickfix_carrying_them() {
    let f = fixture(InitParams::new());
    let diagnostic = json!({
        "range": hello_range(), "severity": 2, "source": "rustc",
        "code": "unused_variables", "message": "unused variable: `greeting`"
    });
    let actions = code_actions(
        &f.server,
        &f.uri,
        hello_range(),
        json!({"diagnostics": [diagnostic.clone()]}),
    );
    let fix = find(&actions, "agentls: Fix this diagnostic");
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"], json!([diagnostic.clone()]));
    assert_eq!(
        titles(&actions)[0],
        "agentls: Fix this diagnostic",
        "quick fixes come first"
    );
    let resolved = f
        .server
        .request("codeAction/resolve", fix.clone())
        .unwrap_or_else(|e| f.server.fail(&format!("resolve failed: {e:?}")));
    assert_eq!(resolved["command"]["command"], "agent.run");
    assert_eq!(
        resolved["command"]["arguments"][0],
        json!({"workflow": "fix-diagnostic", "uri": f.uri, "range": hello_range(),
               "diagnostics": [diagnostic]})
    );

    // `only: ["quickfix"]` leaves the refactors out.
    let only = titles_of(
        &f,
        hello_range(),
        json!({"diagnostics": [], "only": ["quickfix"]}),
    );
    assert!(only.is_empty(), "{only:?}");
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn resolving_an_action_returns_it_with_its_command() {
    let f = fixture(InitParams::new());
    let actions = code_actions(&f.server, &f.uri, hello_range(), json!({"diagnostics": []}));
    let action = find(&actions, "agentls: Shout the selection");
    let resolved = f
        .server
        .request("codeAction/resolve", action.clone())
        .unwrap_or_else(|e| f.server.fail(&format!("resolve failed: {e:?}")));
    assert_eq!(&resolved, action);
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn resolving_and_executing_an_action_applies_its_edit_through_the_editor() {
    let f = fixture(InitParams::new().run_events());
    let actions = code_actions(&f.server, &f.uri, hello_range(), json!({"diagnostics": []}));
    let action = find(&actions, "agentls: Shout the selection");
    let resolved = f
        .server
        .request("codeAction/resolve", action.clone())
        .unwrap_or_else(|e| f.server.fail(&format!("resolve failed: {e:?}")));
    let command = &resolved["command"];
    assert_eq!(command["command"], "agent.run");
    assert_eq!(
        command["arguments"][0],
        json!({"workflow": "shout", "uri": f.uri, "range": hello_range()})
    );

    let run = f.server.start_run(command["arguments"][0].clone());
    let edit = f
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([{
            "textDocument": {"uri": f.uri, "version": 1},
            "edits": [{"range": hello_range(), "newText": "\"HELLO\""}],
        }])
    );
    let done = f.server.wait_state(&run, "completed");
    assert_eq!(done["steps"][0]["status"], "completed");
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn clients_without_lazy_resolve_get_the_command_at_once() {
    let f =
        fixture(InitParams::new().without_capability("/textDocument/codeAction/resolveSupport"));
    let actions = code_actions(&f.server, &f.uri, hello_range(), json!({"diagnostics": []}));
    let shout = find(&actions, "agentls: Shout the selection");
    assert_eq!(shout["command"]["command"], "agent.run");
    assert_eq!(shout["command"]["arguments"][0]["workflow"], "shout");

    let plain = fixture(
        InitParams::new().without_capability("/textDocument/codeAction/codeActionLiteralSupport"),
    );
    let commands = code_actions(
        &plain.server,
        &plain.uri,
        hello_range(),
        json!({"diagnostics": []}),
    );
    let shout = find(&commands, "agentls: Shout the selection");
    assert_eq!(shout["command"], "agent.run", "a bare Command: {shout}");
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
    assert_eq!(plain.server.shutdown_and_exit().code(), Some(0));
}

/// The built-in `refactor` with a replayed model answer: the code action
/// runs the model step, streams its answer, and applies the code block.
#[test]
fn the_builtin_refactor_applies_a_replayed_model_answer_through_the_editor() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    let cassette = env.write(
        "cassette.json",
        &json!({"version": 1, "entries": [{
            "provider": "fake",
            "model": "fake-model",
            "chunks": ["Here it is:\n```rust\n", "\"HEL", "LO\"\n```\n"],
            "usage": {"input_tokens": 10, "output_tokens": 5, "cached_tokens": 0},
            "stop_reason": "end_turn"
        }]})
        .to_string(),
    );
    support::write_file(
        &env.user_config_path(),
        &format!(
            "default_provider = \"fake\"\n[providers.fake]\nkind = \"replay\"\ncassette = \"{}\"\n",
            cassette.display()
        ),
    );
    let file = env.write("ws/src/main.rs", SOURCE);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let uri = file_uri(&file);
    server.did_open(&uri, "rust", 1, SOURCE);

    let actions = code_actions(&server, &uri, hello_range(), json!({"diagnostics": []}));
    let action = find(&actions, "agentls: Refactor with an instruction");
    let resolved = server
        .request("codeAction/resolve", action.clone())
        .unwrap_or_else(|e| server.fail(&format!("resolve failed: {e:?}")));
    let run = server.start_run(resolved["command"]["arguments"][0].clone());
    let edit = server.wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"][0]["edits"],
        json!([{"range": hello_range(), "newText": "\"HELLO\""}])
    );
    let done = server.wait_state(&run, "completed");
    assert_eq!(done["steps"][0]["status"], "completed");
    assert_eq!(
        server.output_text(&run),
        "Here it is:\n```rust\n\"HELLO\"\n```\n",
        "the model's answer streams as agent/output"
    );
    let status = server.command_ok("agent.status", json!({"runId": run}));
    assert_eq!(status["steps"][0]["usage"]["provider"], "fake");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
