//! The edit guard: a document that changed between a run's start and its
//! edit is rebased when that is trivially safe, and otherwise left alone,
//! with the user told and the answer kept for `agent.output`.

mod support;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const SOURCE: &str = "fn main() {\n    let greeting = \"hello\";\n}\n";

/// Produces an answer, waits for approval, then replaces the selection.
const ANSWER_THEN_APPLY: &str = r#"
title = "Answer, hold, apply"
[[steps]]
id = "answer"
run = "printf 'GOODBYE'"

[[steps]]
id = "hold"
approve = "Apply the answer?"

[[steps]]
id = "apply"
edit = { selection = "{{ steps.answer.output }}" }
"#;

struct Fixture {
    server: TestServer,
    uri: String,
}

fn fixture() -> Fixture {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.user_workflow("answer", ANSWER_THEN_APPLY);
    let file = env.write("ws/src/main.rs", SOURCE);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let uri = file_uri(&file);
    server.did_open(&uri, "rust", 1, SOURCE);
    Fixture { server, uri }
}

/// `hello` without its quotes, on line 1.
fn hello() -> Value {
    json!({"start": {"line": 1, "character": 20}, "end": {"line": 1, "character": 25}})
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

/// Starts the run on `hello` and waits until it holds at the approval.
fn start_and_hold(f: &Fixture) -> String {
    let run = f
        .server
        .start_run(json!({"workflow": "answer", "uri": f.uri, "range": hello()}));
    f.server.wait_state(&run, "waiting");
    run
}

fn approve(f: &Fixture, run: &str) {
    f.server.command_ok("agent.approve", json!({"runId": run}));
}

fn apply_edits(server: &TestServer) -> Vec<Value> {
    server
        .server_requests()
        .into_iter()
        .filter(|q| q.method == "workspace/applyEdit")
        .map(|q| q.params)
        .collect()
}

#[test]
fn a_change_touching_the_selection_applies_nothing_tells_the_user_and_keeps_the_answer() {
    let f = fixture();
    let run = start_and_hold(&f);
    // The user edits the selected word itself while the run waits.
    f.server.did_change(
        &f.uri,
        2,
        json!([{"range": range(1, 20, 1, 25), "text": "howdy"}]),
    );
    approve(&f, &run);

    let failed = f.server.wait_state(&run, "failed");
    let apply = &failed["steps"][2];
    assert_eq!(apply["status"], "failed");
    let error = apply["error"].as_str().unwrap_or("");
    assert!(
        error.contains("src/main.rs changed since the run read it (version 1, now 2)"),
        "{error}"
    );
    assert!(error.contains("nothing changed"), "{error}");
    let told = f.server.wait_message(&run, "changed since the run read it");
    assert_eq!(told["type"], 1, "told as an error: {told}");
    assert!(
        apply_edits(&f.server).is_empty(),
        "no edit may be sent: {:?}",
        apply_edits(&f.server)
    );

    let output = f
        .server
        .command_ok("agent.output", json!({"runId": run, "step": "answer"}));
    assert_eq!(output["text"], "GOODBYE");
    let status = f.server.command_ok("agent.status", json!({"runId": run}));
    assert_eq!(status["status"], "failed");
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_change_before_the_selection_is_rebased_onto_the_new_text() {
    let f = fixture();
    let run = start_and_hold(&f);
    // Two lines inserted above: the selection moves down by two.
    f.server.did_change(
        &f.uri,
        2,
        json!([{"range": range(0, 0, 0, 0), "text": "// one\n// two\n"}]),
    );
    approve(&f, &run);
    let edit = f
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([{
            "textDocument": {"uri": f.uri, "version": 2},
            "edits": [{"range": range(3, 20, 3, 25), "newText": "GOODBYE"}],
        }])
    );
    f.server.wait_state(&run, "completed");
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_change_after_the_selection_keeps_it_in_place() {
    let f = fixture();
    let run = start_and_hold(&f);
    f.server.did_change(
        &f.uri,
        2,
        json!([{"range": range(2, 1, 2, 1), "text": "\n// trailing"}]),
    );
    approve(&f, &run);
    let edit = f
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"][0]["edits"][0],
        json!({"range": hello(), "newText": "GOODBYE"})
    );
    assert_eq!(
        edit.params["edit"]["documentChanges"][0]["textDocument"]["version"],
        2
    );
    f.server.wait_state(&run, "completed");
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_edit_the_editor_refuses_fails_the_step_with_its_reason() {
    let f = fixture();
    f.server.set_apply_edit_response(
        json!({"applied": false, "failureReason": "document is read-only"}),
    );
    let run = start_and_hold(&f);
    approve(&f, &run);
    let failed = f.server.wait_state(&run, "failed");
    let error = failed["steps"][2]["error"].as_str().unwrap_or("");
    assert!(
        error.contains("the editor refused the edit: document is read-only"),
        "{error}"
    );
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}
