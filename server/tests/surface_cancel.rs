//! Cancelling from the editor: `window/workDoneProgress/cancel` on a run's
//! progress, or `agent.cancel`, kills the step's processes and ends the
//! progress; the run is recorded cancelled.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

/// Prints its pid, then becomes a long sleep (same pid).
const SLEEPER: &str = r#"
title = "Sleep"
[[steps]]
id = "sleep"
title = "Sleep a minute"
run = "echo pid=$$; exec sleep 60"
"#;

fn server(init: InitParams) -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.user_workflow("sleeper", SLEEPER);
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(init.folder(&folder).build());
    (server, file_uri(&file))
}

/// The pid the step printed, from its live output.
fn step_pid(server: &TestServer, run: &str) -> u32 {
    let output = server.wait_notification("agent/output", "the step's pid", |p| {
        p["runId"] == run && p["text"].as_str().unwrap_or("").contains("pid=")
    });
    let text = output["text"].as_str().unwrap_or("");
    text.split("pid=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {text:?}"))
}

fn is_alive(pid: u32) -> bool {
    // A zombie is dead: it only waits to be reaped.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Polls for the process to be gone (an external fact with no event).
fn wait_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while is_alive(pid) {
        assert!(Instant::now() < deadline, "process {pid} still alive");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The token of the progress the server created for `run`.
fn created_token(server: &TestServer, run: &str) -> Value {
    let create = server.wait_server_request("window/workDoneProgress/create", |p| {
        p["token"].as_str().is_some_and(|t| t.contains(run))
    });
    let token = create.params["token"].clone();
    server.wait_notification("$/progress", "the run's begin", |p| {
        p["token"] == token && p["value"]["kind"] == "begin"
    });
    token
}

#[test]
fn cancelling_the_progress_kills_the_step_and_ends_the_progress() {
    let (server, uri) = server(InitParams::new().run_events());
    let run = server.start_run(json!({"workflow": "sleeper", "uri": uri}));
    let pid = step_pid(&server, &run);
    assert!(is_alive(pid));
    let token = created_token(&server, &run);
    let begin = server.wait_notification("$/progress", "begin", |p| p["token"] == token);
    assert_eq!(begin["value"]["cancellable"], true);
    assert_eq!(begin["value"]["title"], "agentls: Sleep");

    server.notify("window/workDoneProgress/cancel", json!({"token": token}));
    wait_gone(pid);
    let values = server.wait_progress_end(&token);
    assert_eq!(values.last().unwrap()["message"], "cancelled");
    let state = server.wait_state(&run, "cancelled");
    assert_eq!(state["steps"][0]["status"], "cancelled");
    server.wait_message(&run, "was cancelled");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn the_clients_own_work_done_token_carries_the_progress_and_cancels_the_run() {
    let (server, uri) = server(InitParams::new().run_events());
    let run = server.start_run_with_token(json!({"workflow": "sleeper", "uri": uri}), "mine-1");
    let pid = step_pid(&server, &run);
    let token = json!("mine-1");
    let begin = server.wait_notification("$/progress", "begin on the client's token", |p| {
        p["token"] == token && p["value"]["kind"] == "begin"
    });
    assert_eq!(begin["value"]["message"], "step 1/1: Sleep a minute");
    assert!(
        !server
            .server_requests()
            .iter()
            .any(|q| q.method == "window/workDoneProgress/create"),
        "no token is created when the client gave one"
    );
    server.notify("window/workDoneProgress/cancel", json!({"token": token}));
    wait_gone(pid);
    server.wait_progress_end(&token);
    server.wait_state(&run, "cancelled");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn agent_cancel_without_a_run_id_cancels_the_newest_active_run() {
    let (server, uri) = server(InitParams::new().run_events());
    let run = server.start_run(json!({"workflow": "sleeper", "uri": uri}));
    let pid = step_pid(&server, &run);
    let state = server.command_ok("agent.cancel", json!({}));
    assert_eq!(state["runId"], run);
    assert_eq!(state["status"], "cancelled");
    assert_eq!(state["active"], false);
    wait_gone(pid);
    // Nothing is left to cancel.
    let err = server
        .execute_command("agent.cancel", json!([{}]))
        .expect_err("no active run");
    assert!(
        err.message.contains("no queued or running or waiting"),
        "{}",
        err.message
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_client_without_progress_support_gets_no_progress_but_can_still_cancel() {
    let (server, uri) = server(
        InitParams::new()
            .run_events()
            .without_capability("/window/workDoneProgress"),
    );
    let run = server.start_run(json!({"workflow": "sleeper", "uri": uri}));
    let pid = step_pid(&server, &run);
    server.command_ok("agent.cancel", json!({"runId": run}));
    wait_gone(pid);
    server.wait_state(&run, "cancelled");
    assert!(server.notifications("$/progress").is_empty());
    assert!(server.server_requests().is_empty());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// A prompt step whose model is a CLI agent (a `command` provider): the
/// progress cancel closes the model stream and kills the agent's process.
#[test]
fn cancelling_a_prompt_step_closes_the_model_stream() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    support::write_file(
        &env.user_config_path(),
        "default_provider = \"agent\"\n[providers.agent]\nkind = \"command\"\ncommand = \"echo pid=$$; exec sleep 60\"\n",
    );
    env.user_workflow(
        "ask",
        "title = \"Ask\"\n[[steps]]\nid = \"ask\"\nprompt = \"Take your time.\"\n",
    );
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let run = server.start_run(json!({"workflow": "ask", "uri": file_uri(&file)}));
    let pid = step_pid(&server, &run);
    let token = created_token(&server, &run);
    server.notify("window/workDoneProgress/cancel", json!({"token": token}));
    wait_gone(pid);
    server.wait_progress_end(&token);
    let state = server.wait_state(&run, "cancelled");
    assert_eq!(state["steps"][0]["status"], "cancelled");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn shutdown_kills_running_steps_so_nothing_outlives_the_server() {
    let (server, uri) = server(InitParams::new().run_events());
    let run = server.start_run(json!({"workflow": "sleeper", "uri": uri}));
    let pid = step_pid(&server, &run);
    assert!(is_alive(pid));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    wait_gone(pid);
}
