//! An agent step in a run isolated in a worktree: its tools read the
//! worktree (not the editor's unsaved buffer), its command runs there, its
//! edit lands there on disk, and nothing reaches the editor or the user's
//! files until `agent.apply`.

mod support;

use agentls_provider::testing::{FakeServer, Turn, Wire};
use serde_json::{json, Value};
use support::{file_uri, git, InitParams, ServerOptions, TestEnv, TestServer};

const WORKFLOW: &str = r#"
isolation = "worktree"
[[steps]]
id = "fix"
agent = "make answer() return 42"
provider = "m"
tools = ["read_file", "edit_file", "run_command"]
allow = { run = ["./bump *"], edit = ["src/**"] }
"#;

#[test]
fn an_agent_step_in_a_worktree_run_reads_runs_and_edits_there_only() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let wire = Wire::Anthropic;
    let turns = [
        Turn::default().call("call_read", "read_file", &[r#"{"path": "src/lib.rs"}"#]),
        Turn::default().call("call_run", "run_command", &[r#"{"command": "./bump ran"}"#]),
        Turn::default().call(
            "call_edit",
            "edit_file",
            &[r#"{"path": "src/lib.rs", "old_text": "{ 0 }", "new_text": "{ 42 }"}"#],
        ),
        Turn::text(&["Fixed."]),
    ];
    let vendor = runtime.block_on(FakeServer::start(
        turns.iter().map(|turn| wire.response(turn)).collect(),
    ));
    let env = TestEnv::new();
    env.write(
        "config/agentls/config.toml",
        &format!(
            "[providers.m]\nkind = \"anthropic\"\nbase_url = \"{}\"\nretry_base_delay = \"5ms\"\n",
            vendor.base_url()
        ),
    );
    env.user_workflow("fix", WORKFLOW);
    let folder = env.mkdir("ws");
    let lib = env.write("ws/src/lib.rs", "fn answer() -> u32 { 0 }\n");
    let bump = env.write("ws/bump", "#!/bin/sh\necho \"$1\" >> side-effects\n");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bump, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    git(&folder, &["init", "--quiet", "-b", "main"]);
    git(&folder, &["add", "-A"]);
    git(&folder, &["commit", "--quiet", "-m", "first"]);
    let (var, key) = wire.key();
    let server = TestServer::spawn_in(env, ServerOptions::new().env(var, key));
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let lib_uri = file_uri(&lib.canonicalize().unwrap());
    // Unsaved in the editor; the run starts from the disk.
    server.did_open(&lib_uri, "rust", 7, "fn answer() -> u32 { 41 }\n");

    let run = server.start_run(json!({"workflow": "fix"}));
    server.wait_state(&run, "completed");

    assert!(server
        .server_requests()
        .iter()
        .all(|q| q.method != "workspace/applyEdit"));
    assert_eq!(
        server.agent_document(&lib_uri).unwrap()["text"],
        "fn answer() -> u32 { 41 }\n"
    );
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        "fn answer() -> u32 { 0 }\n"
    );
    assert!(
        !folder.join("side-effects").exists(),
        "the command ran in the worktree"
    );
    // The model read the worktree's file, not the buffer.
    let requests: Vec<Value> = vendor.requests().iter().map(|r| r.json()).collect();
    let second = requests[1].to_string();
    assert!(
        second.contains("fn answer() -> u32 { 0 }") && !second.contains("{ 41 }"),
        "{second}"
    );

    let status = server.command_ok("agent.status", json!({"runId": run}));
    let tree = std::path::PathBuf::from(status["isolation"]["worktree"].as_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(tree.join("side-effects")).unwrap(),
        "ran\n"
    );
    let diff = server.command_ok("agent.diff", json!({"runId": run}));
    assert_eq!(diff["files"], json!(["side-effects", "src/lib.rs"]));
    let patch = diff["patch"].as_str().unwrap();
    assert!(
        patch.contains("-fn answer() -> u32 { 0 }\n+fn answer() -> u32 { 42 }\n"),
        "{patch}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
