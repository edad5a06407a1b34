//! A client that never opts in to run events (Helix, a plain LSP client)
//! still gets everything: the edit through `workspace/applyEdit`, the end
//! of the run through `window/showMessage` naming what to run next, and the
//! transcript through `window/showDocument` when it can show documents.

mod support;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const SOURCE: &str = "let answer = 0;\n";

const ANSWER: &str = r#"
title = "Answer"
[[steps]]
id = "say"
run = "echo the answer is 42"

[[steps]]
id = "apply"
edit = { selection = "{{ steps.say.output | trim | replace('the answer is ', '') }}" }
"#;

const BROKEN: &str = r#"
title = "Broken"
[[steps]]
id = "build"
run = "echo compiling; exit 3"
"#;

fn server(init: InitParams) -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.user_workflow("answer", ANSWER);
    env.user_workflow("broken", BROKEN);
    let file = env.write("ws/main.js", SOURCE);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(init.folder(&folder).build());
    let uri = file_uri(&file);
    server.did_open(&uri, "javascript", 1, SOURCE);
    (server, uri)
}

fn zero() -> Value {
    json!({"start": {"line": 0, "character": 13}, "end": {"line": 0, "character": 14}})
}

#[test]
fn a_plain_client_gets_the_edit_the_message_and_the_transcript() {
    let (server, uri) = server(InitParams::new());
    let run = server.start_run(json!({"workflow": "answer", "uri": uri, "range": zero()}));
    let edit = server.wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"][0]["edits"][0],
        json!({"range": zero(), "newText": "42"})
    );
    let told = server.wait_message(&run, "completed");
    assert_eq!(told["type"], 3, "info: {told}");
    let shown = server.wait_server_request("window/showDocument", |_| true);
    let shown_uri = shown.params["uri"].as_str().unwrap_or("");
    assert!(
        shown_uri.ends_with(&format!("/transcripts/{run}.log")),
        "{shown_uri}"
    );
    let transcript = std::fs::read_to_string(shown_uri.trim_start_matches("file://"))
        .expect("the transcript exists");
    assert!(transcript.contains("the answer is 42"), "{transcript}");

    assert!(server.notifications("agent/output").is_empty());
    assert!(server.notifications("agent/state").is_empty());
    // Progress is standard LSP: it is shown too.
    let create = server.wait_server_request("window/workDoneProgress/create", |_| true);
    let values = server.wait_progress_end(&create.params["token"]);
    assert_eq!(values.first().unwrap()["kind"], "begin");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_failure_is_told_with_the_command_to_run_next() {
    let (server, uri) = server(InitParams::new());
    let run = server.start_run(json!({"workflow": "broken", "uri": uri}));
    let told = server.wait_message(&run, "failed");
    assert_eq!(told["type"], 1, "error: {told}");
    let message = told["message"].as_str().unwrap();
    assert!(message.contains("command exited with code 3"), "{message}");
    assert!(message.contains("`agent.retry`"), "{message}");
    // Helix cannot pass arguments: the newest failed run is the default.
    let retried = server.command_ok("agent.retry", json!({}));
    assert_eq!(retried["runId"], run);
    server.wait_for("the retry to fail again", support::DEFAULT_TIMEOUT, |r| {
        let told = r
            .notifications("window/showMessage")
            .iter()
            .filter(|m| m["message"].as_str().unwrap_or("").contains(&run))
            .count();
        (told >= 2).then_some(())
    });
    let status = server.command_ok("agent.status", json!({"runId": run}));
    assert_eq!(status["steps"][0]["attempt"], 2);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn without_show_document_support_no_document_is_shown() {
    let (server, uri) = server(InitParams::new().without_capability("/window/showDocument"));
    let run = server.start_run(json!({"workflow": "answer", "uri": uri, "range": zero()}));
    server.wait_message(&run, "completed");
    server.wait_server_request("workspace/applyEdit", |_| true);
    // The message is pushed after the run's last event: anything the server
    // would show is requested by then.
    server.ping();
    assert!(
        !server
            .server_requests()
            .iter()
            .any(|q| q.method == "window/showDocument"),
        "{:?}",
        server.server_requests()
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
