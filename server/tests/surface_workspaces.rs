//! Two workspaces streaming at once: every notification carries its own
//! run's id and output, and each workspace's history and runs are its own.

mod support;

use std::path::Path;

use serde_json::json;
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

/// Prints 3000 lines naming the workspace.
const COUNT: &str = r#"
title = "Count"
[[steps]]
id = "count"
run = "i=0; while [ $i -lt 3000 ]; do echo \"{{ workspace.name }}-$i\"; i=$((i+1)); done"
"#;

fn folder(env: &TestEnv, name: &str) -> (std::path::PathBuf, String) {
    let folder = env.mkdir(name);
    env.write(
        &format!("{name}/.agentls/config.toml"),
        "[exec]\npty = false\n",
    );
    let file = env.write(&format!("{name}/notes.txt"), "notes\n");
    (folder, file_uri(&file))
}

fn lines_of(server: &TestServer, run: &str) -> Vec<String> {
    server.output_text(run).lines().map(str::to_owned).collect()
}

#[test]
fn runs_streaming_in_two_workspaces_stay_apart() {
    let env = TestEnv::new();
    env.user_workflow("count", COUNT);
    let (a, a_uri) = folder(&env, "alpha");
    let (b, b_uri) = folder(&env, "beta");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&a).folder(&b).build());

    let run_a = server.start_run(json!({"workflow": "count", "uri": a_uri}));
    let run_b = server.start_run(json!({"workflow": "count", "uri": b_uri}));
    server.wait_state(&run_a, "completed");
    server.wait_state(&run_b, "completed");

    for (run, name) in [(&run_a, "alpha"), (&run_b, "beta")] {
        let lines = lines_of(&server, run);
        assert_eq!(lines.len(), 3000, "{name}");
        let expected: Vec<String> = (0..3000).map(|i| format!("{name}-{i}")).collect();
        assert_eq!(lines, expected, "{name}'s run shows only its own output");
    }
    for output in server.notifications("agent/output") {
        let run = output["runId"].as_str().unwrap_or("");
        assert!(run == run_a || run == run_b, "unknown run in {output}");
    }

    let history = |uri: &str| {
        server
            .command_ok("agent.runs", json!({"uri": uri}))
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["runId"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(history(&a_uri), vec![run_a.clone()]);
    assert_eq!(history(&b_uri), vec![run_b.clone()]);
    let all = server.command_ok("agent.runs", json!({}));
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    for run in all {
        let workspace = run["workspace"].as_str().unwrap();
        let expected: &Path = if run["runId"] == run_a { &a } else { &b };
        assert_eq!(Path::new(workspace).file_name(), expected.file_name());
    }

    // A run is found only through the workspace that owns it.
    let err = server
        .execute_command("agent.status", json!([{"runId": run_b, "uri": a_uri}]))
        .expect_err("beta's run is not alpha's");
    assert!(err.message.contains("in this workspace"), "{}", err.message);
    let err = server
        .execute_command("agent.output", json!([{"runId": run_a, "uri": b_uri}]))
        .expect_err("alpha's output is not beta's");
    assert_eq!(err.code, -32602);
    let status = server.command_ok("agent.status", json!({"runId": run_b}));
    assert_eq!(status["status"], "completed");
    assert_eq!(
        Path::new(status["workspace"].as_str().unwrap()).file_name(),
        b.file_name()
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
