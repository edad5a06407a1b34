//! A run that pauses is free to act on the moment anyone can see the pause:
//! an `agent.approve` sent the instant the server announces `waiting`, or
//! the instant `agent.status` shows it, is applied, never refused because
//! the run is still "being driven".

mod support;

use std::time::Instant;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

/// Approvals per run; runs × steps = 1000 approvals per test.
const STEPS: usize = 10;
const RUNS: usize = 100;

/// `STEPS` approvals in a row, nothing between them.
fn gates() -> String {
    (0..STEPS)
        .map(|i| format!("[[steps]]\nid = \"gate{i}\"\napprove = \"gate {i}\"\n\n"))
        .collect()
}

fn server(init: InitParams) -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.user_workflow("gates", &gates());
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(init.folder(&folder).build());
    (server, file_uri(&file))
}

/// Approves step `step` of `run`; fails the test with the refusal.
fn approve(server: &TestServer, run: &str, step: usize) {
    let answer = server.execute_command(
        "agent.approve",
        json!([{"runId": run, "step": format!("gate{step}")}]),
    );
    if let Err(e) = answer {
        server.fail(&format!("approving gate{step} of run {run}: {e:?}"));
    }
}

/// Asks `agent.status` for `run` until its answer satisfies `pred`.
fn poll(server: &TestServer, run: &str, pred: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + support::DEFAULT_TIMEOUT;
    loop {
        let status = server.command_ok("agent.status", json!({"runId": run}));
        if pred(&status) {
            return;
        }
        if Instant::now() > deadline {
            server.fail(&format!("run {run} never got there: {status}"));
        }
    }
}

/// Whether notification `method` with `params` announces that `run` waits
/// at step `step`.
type Announces = fn(method: &str, params: &Value, run: &str, step: usize) -> bool;

/// The run's state says it waits at the step (clients that opt in).
fn state_waits(method: &str, state: &Value, run: &str, step: usize) -> bool {
    method == "agent/state"
        && state["runId"] == run
        && state["status"] == "waiting"
        && state["steps"][step]["status"] == "waiting"
}

/// The message every client gets says it waits at the step.
fn message_waits(method: &str, params: &Value, run: &str, step: usize) -> bool {
    let message = params["message"].as_str().unwrap_or_default();
    method == "window/showMessage"
        && message.contains(run)
        && message.contains(&format!("waits for approval at step `gate{step}`"))
}

/// Approves every gate of `RUNS` runs the instant it is announced.
fn approve_on_announcement(init: InitParams, announces: Announces) {
    let (server, uri) = server(init);
    // Where the scan for the next announcement starts: every wait looks at
    // the notifications that arrived since the previous one only.
    let mut seen = 0;
    for _ in 0..RUNS {
        let run = server.start_run(json!({"workflow": "gates", "uri": uri}));
        for step in 0..STEPS {
            seen = server.wait_for(
                &format!("the announcement that run {run} waits at gate{step}"),
                support::DEFAULT_TIMEOUT,
                |r| {
                    let found = r.notifications[seen..]
                        .iter()
                        .position(|n| announces(&n.method, &n.params, &run, step));
                    found.map(|i| seen + i + 1)
                },
            );
            approve(&server, &run, step);
        }
        server.wait_message(&run, "completed");
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn approve_sent_the_instant_the_state_says_waiting_is_never_refused() {
    approve_on_announcement(InitParams::new().run_events(), state_waits);
}

#[test]
fn approve_sent_the_instant_the_message_says_waiting_is_never_refused() {
    approve_on_announcement(InitParams::new(), message_waits);
}

#[test]
fn approve_sent_the_instant_status_shows_waiting_is_never_refused() {
    let (server, uri) = server(InitParams::new());
    for _ in 0..RUNS {
        let run = server.start_run(json!({"workflow": "gates", "uri": uri}));
        for step in 0..STEPS {
            // Polls the store through `agent.status` as fast as it answers:
            // the first answer that shows the pause is acted on at once.
            poll(&server, &run, |s| s["steps"][step]["status"] == "waiting");
            approve(&server, &run, step);
        }
        poll(&server, &run, |s| s["status"] == "completed");
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
