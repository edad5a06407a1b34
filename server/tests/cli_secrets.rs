//! A run with a provider key set: the key reaches the vendor (the fake
//! server on 127.0.0.1 sees it) and nowhere else: not the state directory
//! (SQLite, transcripts, the log file), not the CLI's output or logs at
//! trace level, not a child's environment.

mod support;

use std::path::Path;

use agentls_provider::testing::{sse_response, FakeServer};
use support::TestEnv;

const KEY: &str = "sk-ant-api03-SECRET-4242-do-not-leak";

const STREAM: &[&str] = &[
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"fine\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
];

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn the_key_reaches_the_vendor_and_nothing_else() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(FakeServer::start(vec![sse_response(
        &[("request-id", "req_1")],
        STREAM,
    )]));
    let env = TestEnv::new();
    env.write(
        "config/agentls/config.toml",
        &format!(
            "[providers.claude]\nkind = \"anthropic\"\nbase_url = \"{}\"\n",
            server.base_url()
        ),
    );
    env.write(
        "config/agentls/workflows/leak.toml",
        "[[steps]]\nid = \"env\"\nrun = \"env\"\n[[steps]]\nid = \"ask\"\nprompt = \"say fine\"\n",
    );
    let out = env
        .command()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("AGENTLS_LOG", "trace")
        .args(["run", "leak", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let run: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(run["steps"][1]["output"], "fine");
    let seen = server.requests();
    assert_eq!(
        seen[0].header("x-api-key"),
        Some(KEY),
        "the vendor got the key"
    );

    assert!(!stdout.contains(KEY), "stdout leaks the key");
    assert!(!stderr.contains(KEY), "stderr leaks the key");
    // Trace lines go to the log file (stderr carries warnings only).
    let log = std::fs::read_to_string(env.state_dir().join("agentls.log")).unwrap();
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "{log}");
    assert!(!log.contains(KEY), "trace logs leak the key");
    assert!(
        run["steps"][0]["output"]
            .as_str()
            .unwrap()
            .contains("PATH="),
        "the env step ran"
    );
    assert!(
        !run["steps"][0]["output"]
            .as_str()
            .unwrap()
            .contains("ANTHROPIC_API_KEY"),
        "a child saw the key"
    );
    let leaks = files_containing(&env.state_dir(), KEY.as_bytes());
    assert!(leaks.is_empty(), "the key is in {leaks:?}");
    assert!(
        env.state_dir().join("agentls.log").exists(),
        "the log file was checked"
    );
}
