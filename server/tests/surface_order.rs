//! The order of what a run sends: all of a drive's progress (its reports
//! and its `end`) before the `window/showMessage` that says how it ended,
//! for every kind of client.

mod support;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

/// Four steps: the first waits for the test to see the progress begin (a
/// created token is accepted asynchronously), then each report follows the
/// last within a few milliseconds, so the rate holds the latest one back
/// when the run ends.
const STEPS: &str = r#"
title = "Four steps"
[[steps]]
id = "one"
run = "while [ ! -e go ]; do sleep 0.01; done"
[[steps]]
id = "two"
run = "true"
[[steps]]
id = "three"
run = "true"
[[steps]]
id = "four"
run = "true"
"#;

/// One report a second: the last report is always held when the run ends,
/// which is where the "completed" message used to overtake it.
const CONFIG: &str = "[exec]\npty = false\n[stream]\nprogress_per_second = 1\n";

fn server(init: InitParams) -> (TestServer, String, std::path::PathBuf) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/.agentls/config.toml", CONFIG);
    env.user_workflow("four", STEPS);
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(init.folder(&folder).build());
    (server, file_uri(&file), folder)
}

/// Every `$/progress` of `token` and every showMessage naming `run`, as
/// labels in arrival order.
fn sequence(server: &TestServer, token: &Value, run: &str) -> Vec<String> {
    server.with_recorded(|r| {
        r.notifications
            .iter()
            .filter_map(|n| match n.method.as_str() {
                "$/progress" if n.params["token"] == *token => {
                    let value = &n.params["value"];
                    Some(format!(
                        "{} {}",
                        value["kind"].as_str().unwrap_or("?"),
                        value["message"].as_str().unwrap_or("")
                    ))
                }
                "window/showMessage"
                    if n.params["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(run)) =>
                {
                    Some(format!("message {}", n.params["message"]))
                }
                _ => None,
            })
            .collect()
    })
}

fn assert_message_last(seq: &[String]) {
    let (last, progress) = seq.split_last().expect("something was sent");
    assert!(last.starts_with("message "), "{seq:#?}");
    assert!(last.contains("completed"), "{seq:#?}");
    assert!(
        progress.last().is_some_and(|p| p.starts_with("end ")),
        "the progress ends right before the message: {seq:#?}"
    );
    let reports: Vec<&String> = progress
        .iter()
        .filter(|p| p.starts_with("report "))
        .collect();
    assert!(
        reports.last().is_some_and(|r| r.contains("step 4/4")),
        "the latest report (step 4/4) reaches the editor, before the end: {seq:#?}"
    );
}

fn check_order(init: InitParams, client_token: bool) {
    let (server, uri, folder) = server(init);
    let args = json!({"workflow": "four", "uri": uri});
    let (run, token) = if client_token {
        let run = server.start_run_with_token(args, "editor-token");
        (run, json!("editor-token"))
    } else {
        let run = server.start_run(args);
        let created = server.wait_server_request("window/workDoneProgress/create", |_| true);
        (run, created.params["token"].clone())
    };
    server.wait_for("the progress begin", support::DEFAULT_TIMEOUT, |r| {
        support::progress_of(&r.notifications("$/progress"), &token)
            .iter()
            .any(|v| v["kind"] == "begin")
            .then_some(())
    });
    std::fs::write(folder.join("go"), "").expect("letting the run go on");
    server.wait_message(&run, "completed");
    server.wait_progress_end(&token);
    assert_message_last(&sequence(&server, &token, &run));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn completed_message_follows_the_progress_with_a_created_token() {
    check_order(InitParams::new(), false);
}

#[test]
fn completed_message_follows_the_progress_with_the_editors_token() {
    check_order(InitParams::new(), true);
}

#[test]
fn completed_message_follows_the_progress_for_run_event_clients() {
    check_order(InitParams::new().run_events(), false);
}
