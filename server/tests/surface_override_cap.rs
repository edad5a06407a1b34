//! `agent.override` stores at most `[store] max_output_bytes`, like a step's
//! own output, and its answer says the output was truncated.

mod support;

use serde_json::json;
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const CAP: usize = 64 * 1024;

const FRAGILE: &str = r#"
[[steps]]
id = "fetch"
run = "exit 1"

[[steps]]
id = "use"
run = "true"
"#;

#[test]
fn override_over_the_output_cap_answers_truncated_and_keeps_the_tail() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write(
        "ws/.agentls/config.toml",
        &format!("[exec]\npty = false\n[store]\nmax_output_bytes = {CAP}\n"),
    );
    env.user_workflow("fragile", FRAGILE);
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let uri = file_uri(&file);

    let run = server.start_run(json!({"workflow": "fragile", "uri": uri}));
    server.wait_state(&run, "failed");
    let given = format!("{}THE-END", "o".repeat(3 * CAP));
    let state = server.command_ok(
        "agent.override",
        json!({"runId": run, "step": "fetch", "output": given}),
    );
    let step = &state["steps"][0];
    assert_eq!(step["outputTruncated"], true, "{step}");
    let note = step["error"].as_str().unwrap_or_default();
    assert!(
        note.contains(&format!(
            "truncated: {} bytes given, only the last {CAP} kept",
            given.len()
        )),
        "{note}"
    );

    server.wait_state(&run, "completed");
    let stored = server.command_ok("agent.output", json!({"runId": run, "step": "fetch"}));
    assert_eq!(stored["truncated"], true, "{}", stored["truncated"]);
    let text = stored["text"].as_str().unwrap();
    assert!(text.ends_with("oooTHE-END"), "the tail is kept");
    assert!(text.len() < CAP + 100, "{} bytes stored", text.len());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
