//! The `agent.*` commands: one object argument with defaults, JSON results,
//! and JSON-RPC errors that say what was wrong.

mod support;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

/// Holds for approval between two commands.
const HOLD: &str = r#"
title = "Hold"
[[steps]]
id = "before"
run = "echo before"

[[steps]]
id = "hold"
approve = "Go on?"

[[steps]]
id = "after"
run = "echo after"
"#;

/// Fails, then uses the failed step's output.
const FLAKY: &str = r#"
title = "Flaky"
[params]
greeting = "hello"

[[steps]]
id = "fetch"
run = "exit 1"

[[steps]]
id = "use"
run = "echo {{ params.greeting }} {{ steps.fetch.output | trim }}"
"#;

const SLEEP: &str = r#"
[[steps]]
id = "nap"
run = "echo napping; sleep 30"
"#;

/// A workspace workflow that runs a command: needs the user's trust.
const UNTRUSTED: &str = r#"
title = "From the repository"
[[steps]]
id = "build"
run = "echo built"
"#;

fn server(init: InitParams) -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/.agentls/config.toml", "[exec]\npty = false\n");
    env.user_workflow("hold", HOLD);
    env.user_workflow("flaky", FLAKY);
    env.user_workflow("nap", SLEEP);
    env.workspace_workflow(&folder, "repo", UNTRUSTED);
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(init.folder(&folder).build());
    (server, file_uri(&file))
}

fn error(server: &TestServer, command: &str, args: Value) -> support::RpcError {
    server
        .execute_command(command, json!([args]))
        .expect_err("the command must fail")
}

#[test]
fn agent_workflows_lists_every_source_with_params() {
    let (server, uri) = server(InitParams::new());
    let list = server.command_ok("agent.workflows", json!({"uri": uri}));
    let by_name = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {list}"))
    };
    assert_eq!(by_name("explain")["source"], "builtin");
    assert_eq!(by_name("hold")["source"], "user");
    assert_eq!(by_name("repo")["source"], "workspace");
    assert_eq!(by_name("repo")["title"], "From the repository");
    assert_eq!(
        by_name("flaky")["params"],
        json!([{"name": "greeting", "description": null, "default": "hello", "required": false}])
    );
    assert_eq!(by_name("refactor")["applies"]["selection"], true);
    // No argument at all: the only folder.
    assert_eq!(server.command_ok("agent.workflows", Value::Null), list);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn bad_arguments_get_errors_that_say_what_was_wrong() {
    let (server, uri) = server(InitParams::new());
    let e = error(&server, "agent.run", json!({}));
    assert_eq!(e.code, -32602);
    assert!(
        e.message.contains("needs `workflow`: one of") && e.message.contains("explain"),
        "{}",
        e.message
    );
    let e = error(
        &server,
        "agent.run",
        json!({"workflow": "nope", "uri": uri}),
    );
    assert!(
        e.message
            .starts_with("no workflow `nope`; this workspace has: "),
        "{}",
        e.message
    );
    let e = error(
        &server,
        "agent.run",
        json!({"workflow": "flaky", "uri": uri, "params": {"colour": "red"}}),
    );
    assert_eq!(e.code, -32602);
    assert!(
        e.message
            .contains("has no parameter `colour` (it declares: greeting)"),
        "{}",
        e.message
    );
    let e = error(
        &server,
        "agent.run",
        json!({"workflow": "flaky", "params": {"greeting": [1]}}),
    );
    assert!(
        e.message.contains("parameter `greeting` must be a string"),
        "{}",
        e.message
    );
    let e = error(
        &server,
        "agent.run",
        json!({"workflow": "flaky", "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}}),
    );
    assert!(e.message.contains("`range` needs `uri`"), "{}", e.message);
    let e = error(
        &server,
        "agent.run",
        json!({"workflow": "flaky", "colour": 1}),
    );
    assert!(
        e.message.contains("unknown field `colour`"),
        "{}",
        e.message
    );
    let e = error(&server, "agent.status", json!({"runId": "zzzzzzzzzzzz"}));
    assert_eq!(
        e.message,
        "no run `zzzzzzzzzzzz` in any open workspace folder"
    );
    let e = error(&server, "agent.status", json!({"runId": "not an id!"}));
    assert_eq!(e.code, -32602);
    let e = error(&server, "agent.override", json!({"output": "x"}));
    assert!(e.message.contains("needs `step`"), "{}", e.message);
    let e = error(&server, "agent.retry", json!({}));
    assert_eq!(
        e.message,
        "no failed run in any open workspace folder; pass `runId`"
    );
    let outside = file_uri(&server.env().write("elsewhere/x.txt", "x"));
    let e = error(
        &server,
        "agent.run",
        json!({"workflow": "flaky", "uri": outside}),
    );
    assert!(
        e.message.contains("is outside every workspace folder"),
        "{}",
        e.message
    );
    // Still answering normally.
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn approve_reject_skip_and_status_drive_a_waiting_run() {
    let (server, uri) = server(InitParams::new().run_events());
    let run = server.start_run(json!({"workflow": "hold", "uri": uri}));
    server.wait_state(&run, "waiting");
    server.wait_message(&run, "waits for approval at step `hold`: Go on?");

    let active = server.command_ok("agent.status", json!({}));
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["runId"], run);
    assert_eq!(active[0]["steps"][1]["status"], "waiting");

    let rejected = server.command_ok("agent.reject", json!({"reason": "not now"}));
    assert_eq!(rejected["status"], "failed");
    assert_eq!(rejected["steps"][1]["error"], "rejected: not now");
    let e = error(&server, "agent.approve", json!({"runId": run}));
    assert_eq!(e.code, -32001, "{e:?}");
    assert!(
        e.message
            .contains("is failed; approve needs a run that is waiting"),
        "{}",
        e.message
    );

    server.command_ok("agent.skip", json!({"runId": run, "step": "hold"}));
    let done = server.wait_state(&run, "completed");
    assert_eq!(done["steps"][1]["status"], "skipped");
    assert_eq!(done["steps"][2]["status"], "completed");

    let output = server.command_ok("agent.output", json!({"runId": run}));
    let text = output["text"].as_str().unwrap();
    assert!(
        text.contains("## step `before` (completed)\nbefore\n"),
        "{text}"
    );
    assert!(
        text.contains("## step `after` (completed)\nafter\n"),
        "{text}"
    );
    assert!(server
        .command_ok("agent.status", json!({}))
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn override_gives_a_failed_step_the_output_it_should_have_had() {
    let (server, uri) = server(InitParams::new().run_events());
    let run =
        server.start_run(json!({"workflow": "flaky", "uri": uri, "params": {"greeting": "hi"}}));
    server.wait_state(&run, "failed");
    let state = server.command_ok(
        "agent.override",
        json!({"runId": &run[..8], "step": "fetch", "output": "there"}),
    );
    assert_eq!(state["runId"], run, "a unique prefix names the run");
    server.wait_state(&run, "completed");
    let used = server.command_ok("agent.output", json!({"runId": run, "step": "use"}));
    assert_eq!(used["text"], "hi there\n");
    let e = error(
        &server,
        "agent.output",
        json!({"runId": run, "step": "nope"}),
    );
    assert!(
        e.message
            .contains("has no step `nope`; its steps are: fetch, use"),
        "{}",
        e.message
    );

    let history = server.command_ok("agent.runs", json!({"uri": uri, "limit": 1}));
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["runId"], run);
    assert_eq!(history[0]["stepsDone"], 2);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_untrusted_workspace_workflow_is_refused_and_the_user_asked() {
    let (server, uri) = server(InitParams::new().run_events());
    server.answer_with(
        "window/showMessageRequest",
        json!({"title": "Trust and run"}),
    );
    let e = error(
        &server,
        "agent.run",
        json!({"workflow": "repo", "uri": uri}),
    );
    assert_eq!(e.code, -32001);
    let trust = &e.data.as_ref().expect("data")["trustRequired"];
    assert_eq!(trust["workflow"], "repo");
    assert_eq!(trust["actions"], json!(["run `echo built` (step `build`)"]));
    let asked = server.wait_server_request("window/showMessageRequest", |_| true);
    let message = asked.params["message"].as_str().unwrap();
    assert!(message.contains("run `echo built`"), "{message}");
    // The user trusted it: the run starts.
    let runs = server.wait_for("the trusted run", support::DEFAULT_TIMEOUT, |r| {
        r.notifications("agent/state")
            .into_iter()
            .find(|s| s["workflow"] == "repo" && s["status"] == "completed")
    });
    assert_eq!(runs["steps"][0]["status"], "completed");
    // Trusted once, it runs directly from now on.
    let again = server.start_run(json!({"workflow": "repo", "uri": uri}));
    server.wait_state(&again, "completed");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_run_interrupted_by_a_crash_is_resumed_by_agent_resume() {
    let (server, uri) = server(InitParams::new().run_events());
    let run = server.start_run(json!({"workflow": "nap", "uri": uri}));
    server.wait_notification("agent/output", "napping", |p| p["runId"] == run);
    let folder = server.env().root().join("ws");
    let server = server.crash_and_respawn(ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let status = server.command_ok("agent.status", json!({"runId": run}));
    assert_eq!(status["status"], "interrupted");
    let resumed = server.command_ok("agent.resume", json!({}));
    assert_eq!(resumed["runId"], run);
    server.wait_notification("agent/output", "napping again", |p| p["runId"] == run);
    let cancelled = server.command_ok("agent.cancel", json!({"runId": run}));
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["steps"][0]["attempt"], 2);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// Steps run below the server's priority, so on a busy machine the editor's
/// requests are answered first.
#[test]
fn commands_run_at_a_lower_priority_than_the_server() {
    let (server, uri) = server(InitParams::new().run_events());
    server
        .env()
        .user_workflow("nice", "[[steps]]\nid = \"nice\"\nrun = \"nice\"\n");
    let run = server.start_run(json!({"workflow": "nice", "uri": uri}));
    server.wait_state(&run, "completed");
    let output = server.command_ok("agent.output", json!({"runId": run, "step": "nice"}));
    let ours = std::process::Command::new("nice")
        .output()
        .expect("running nice");
    let ours: i32 = String::from_utf8_lossy(&ours.stdout)
        .trim()
        .parse()
        .unwrap();
    let theirs: i32 = output["text"].as_str().unwrap().trim().parse().unwrap();
    assert_eq!(theirs, (ours + 5).min(19));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
