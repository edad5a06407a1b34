//! The `workDoneToken` of a command that sets a run going again (approve,
//! retry, skip...) shows that drive's progress; a command the run refuses
//! leaves its token unused, and no later drive takes it.

mod support;

use serde_json::{json, Value};
use support::{file_uri, progress_of, InitParams, ServerOptions, TestEnv, TestServer};

const HOLD: &str = r#"
[[steps]]
id = "hold"
approve = "Go on?"

[[steps]]
id = "after"
run = "echo after"
"#;

fn server() -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/.agentls/config.toml", "[exec]\npty = false\n");
    env.user_workflow("hold", HOLD);
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    (server, file_uri(&file))
}

/// `command` with `args` and a client `workDoneToken`.
fn with_token(
    server: &TestServer,
    command: &str,
    args: Value,
    token: &str,
) -> Result<Value, support::RpcError> {
    server.request(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [args], "workDoneToken": token}),
    )
}

#[test]
fn the_token_of_an_approval_shows_the_drive_it_starts() {
    let (server, uri) = server();
    let run = server.start_run_with_token(json!({"workflow": "hold", "uri": uri}), "start");
    server.wait_state(&run, "waiting");
    let started = server.wait_progress_end(&json!("start"));
    assert_eq!(started.last().unwrap()["message"], "waiting for approval");

    with_token(&server, "agent.approve", json!({"runId": run}), "approve")
        .unwrap_or_else(|e| server.fail(&format!("approve: {e:?}")));
    let approved = server.wait_progress_end(&json!("approve"));
    assert_eq!(approved[0]["kind"], "begin", "{approved:?}");
    assert_eq!(approved.last().unwrap()["message"], "completed");
    server.wait_state(&run, "completed");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_refused_command_leaves_its_token_to_no_drive() {
    let (server, uri) = server();
    let run = server.start_run(json!({"workflow": "hold", "uri": uri}));
    server.wait_state(&run, "waiting");
    // The run waits: retry does not apply, and its token shows nothing.
    let refused = with_token(&server, "agent.retry", json!({"runId": run}), "refused");
    assert_eq!(refused.expect_err("retry of a waiting run").code, -32001);

    server.command_ok("agent.approve", json!({"runId": run}));
    server.wait_state(&run, "completed");
    let created: Vec<Value> =
        server.wait_for("two created progresses", support::DEFAULT_TIMEOUT, |r| {
            let created: Vec<Value> = r
                .server_requests
                .iter()
                .filter(|q| q.method == "window/workDoneProgress/create")
                .map(|q| q.params["token"].clone())
                .collect();
            (created.len() == 2).then_some(created)
        });
    // The approval's drive shows a progress of the server's own.
    let ended = server.wait_progress_end(&created[1]);
    assert_eq!(ended.last().unwrap()["message"], "completed");
    let progress = server.notifications("$/progress");
    assert!(
        progress_of(&progress, &json!("refused")).is_empty(),
        "{progress:?}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
