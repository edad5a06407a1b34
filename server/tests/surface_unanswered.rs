//! An editor that never answers the server's requests (applyEdit, progress
//! creation, showDocument) blocks nothing: later commands answer at once,
//! and the waiting step gives up after the configured timeout.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const SOURCE: &str = "let name = \"world\";\n";

const SHOUT: &str = r#"
title = "Shout"
[[steps]]
id = "shout"
edit = { selection = "{{ selection | upper }}" }
"#;

const SLEEP: &str = r#"
[[steps]]
id = "nap"
run = "sleep 30"
"#;

fn server(config: &str) -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/.agentls/config.toml", config);
    env.user_workflow("shout", SHOUT);
    env.user_workflow("nap", SLEEP);
    let file = env.write("ws/main.js", SOURCE);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    for method in [
        "workspace/applyEdit",
        "window/workDoneProgress/create",
        "window/showDocument",
    ] {
        server.never_answer(method);
    }
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let uri = file_uri(&file);
    server.did_open(&uri, "javascript", 1, SOURCE);
    (server, uri)
}

fn world() -> serde_json::Value {
    json!({"start": {"line": 0, "character": 12}, "end": {"line": 0, "character": 17}})
}

#[test]
fn an_unanswered_request_blocks_no_later_command() {
    let (server, uri) = server("");
    let run = server.start_run(json!({"workflow": "shout", "uri": uri, "range": world()}));
    let pending = server.wait_server_request("workspace/applyEdit", |_| true);
    assert!(pending.unanswered);

    let started = Instant::now();
    let status = server.command_ok("agent.status", json!({"runId": run}));
    assert_eq!(status["status"], "running", "the edit step waits: {status}");
    server.command_ok("agent.workflows", json!({"uri": uri}));
    server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": world(), "context": {"diagnostics": []}}),
        )
        .unwrap_or_else(|e| server.fail(&format!("codeAction: {e:?}")));
    let other = server.start_run(json!({"workflow": "nap", "uri": uri}));
    let state = server.command_ok("agent.cancel", json!({"runId": other}));
    assert_eq!(state["status"], "cancelled");
    // The stuck run can be cancelled too; the answer does not wait for the
    // editor (the edit step stops once its request gives up).
    server.command_ok("agent.cancel", json!({"runId": run}));
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(8),
        "later commands were held up: {elapsed:?}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn the_waiting_step_gives_up_after_the_configured_timeout() {
    let (server, uri) = server("[stream]\nrequest_timeout_ms = 500\n");
    let run = server.start_run(json!({"workflow": "shout", "uri": uri, "range": world()}));
    let failed = server.wait_state(&run, "failed");
    let error = failed["steps"][0]["error"].as_str().unwrap_or("");
    assert!(
        error.contains("the editor did not answer `workspace/applyEdit` within 0.5 s"),
        "{error}"
    );
    server.wait_message(&run, "did not answer");
    // No progress was shown: its creation was never answered.
    assert!(server.notifications("$/progress").is_empty());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
