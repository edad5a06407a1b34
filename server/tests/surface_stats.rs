//! `agent.stats`: model usage per provider and model, from the workspace's
//! own store, through JSON-RPC.

mod support;

use serde_json::json;
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const CASSETTE: &str = r#"{"version": 1, "entries": [
  {"provider": "tape", "model": "claude-sonnet-4-5", "prompt": "hi", "chunks": ["Hel", "lo"],
   "usage": {"input_tokens": 12, "output_tokens": 5, "cached_tokens": 0},
   "stop_reason": "end_turn", "request_id": "req_1"},
  {"provider": "tape", "model": "claude-sonnet-4-5", "prompt": "hi", "chunks": ["Again"],
   "usage": {"input_tokens": 8, "output_tokens": 3, "cached_tokens": 0},
   "stop_reason": "end_turn", "request_id": "req_2"}
]}"#;

#[test]
fn agent_stats_counts_the_workspaces_model_calls_and_tokens() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/tape.json", CASSETTE);
    env.write(
        "ws/.agentls/config.toml",
        "default_provider = \"tape\"\n[providers.tape]\nkind = \"replay\"\ncassette = \"tape.json\"\n",
    );
    env.user_workflow("ask", "[[steps]]\nid = \"ask\"\nprompt = \"hi\"\n");
    let file = file_uri(&env.write("ws/notes.txt", "notes\n"));
    let other = env.mkdir("other");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(
        InitParams::new()
            .run_events()
            .folder(&folder)
            .folder(&other)
            .build(),
    );
    for _ in 0..2 {
        let run = server.start_run(json!({"workflow": "ask", "uri": file}));
        server.wait_state(&run, "completed");
    }
    let stats = server
        .execute_command("agent.stats", json!([{"uri": file}]))
        .expect("agent.stats answers");
    let models = &stats["workspaces"][0]["models"];
    assert_eq!(models.as_array().map(Vec::len), Some(1), "{stats:#}");
    assert_eq!(models[0]["provider"], "tape");
    assert_eq!(models[0]["calls"], 2);
    assert_eq!(models[0]["inputTokens"], 20);
    assert_eq!(models[0]["outputTokens"], 8);
    assert_eq!(models[0]["errors"], 0);

    // The other folder has its own (empty) store.
    let other_uri = file_uri(&other.join("x.txt"));
    let empty = server
        .execute_command("agent.stats", json!([{"uri": other_uri}]))
        .unwrap();
    assert_eq!(empty["workspaces"][0]["models"], json!([]), "{empty:#}");
    server.shutdown_and_exit();
}
