//! A run with a provider key set: the key reaches the vendor (the fake
//! server on 127.0.0.1 sees it) and nowhere else: not the state directory
//! (SQLite, transcripts, the log file), not the CLI's output or logs at
//! trace level, not a child's environment.

mod support;

use std::path::Path;

use agentls_provider::testing::{
    echo_json_response, sse_head, sse_response, FakeServer, Step, ECHO_HEADERS,
};
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

/// A configured header value is a secret like a key: a vendor that echoes
/// the request's headers in an error (a 500 that is retried, a 400, an error
/// event in the middle of the stream) gets it into no output, no step or run
/// error, no state file (the SQLite store, the transcripts, the log file).
#[test]
fn a_header_value_echoed_in_errors_reaches_nothing_but_the_vendor() {
    const TOKEN: &str = "hdr-SECRET-proxy-token-5150";
    let body = format!(
        r#"{{"type":"error","error":{{"type":"KIND","message":"you sent {ECHO_HEADERS}"}}}}"#
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(FakeServer::start(vec![
        echo_json_response(500, &body.replace("KIND", "api_error")),
        echo_json_response(400, &body.replace("KIND", "invalid_request_error")),
        vec![
            sse_head(&[]),
            Step::Chunk(STREAM[0].as_bytes().to_vec()),
            Step::EchoChunk(format!(
                "event: error\ndata: {}\n\n",
                body.replace("KIND", "invalid_request_error")
            )),
            Step::End,
        ],
    ]));
    let env = TestEnv::new();
    env.write(
        "config/agentls/config.toml",
        &format!(
            "[providers.claude]\nkind = \"anthropic\"\nbase_url = \"{}\"\nretries = 1\n\
             retry_base_delay = \"10ms\"\nheaders = {{ x-proxy-token = \"{TOKEN}\" }}\n",
            server.base_url()
        ),
    );
    env.write(
        "config/agentls/workflows/ask.toml",
        "[[steps]]\nid = \"ask\"\nprompt = \"say fine\"\n",
    );
    let mut shown = String::new();
    let mut errors = Vec::new();
    for _ in 0..2 {
        let out = env
            .command()
            .env("ANTHROPIC_API_KEY", KEY)
            .env("AGENTLS_LOG", "trace")
            .args(["run", "ask", "--json"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        let run: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        errors.push(run["steps"][0]["error"].as_str().unwrap_or("").to_string());
        let id = run["id"].as_str().unwrap();
        for args in [vec!["show", id], vec!["show", id, "--json"]] {
            let show = env.command().args(&args).output().unwrap();
            shown.push_str(&String::from_utf8_lossy(&show.stdout));
            shown.push_str(&String::from_utf8_lossy(&show.stderr));
        }
        shown.push_str(&stdout);
        shown.push_str(&stderr);
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 3, "a retry, a failure, a stream");
    assert!(seen
        .iter()
        .all(|request| request.header("x-proxy-token") == Some(TOKEN)));
    for error in &errors {
        // The echo reached the step's error, with the value masked.
        assert!(error.contains("you sent"), "{errors:?}");
        assert!(error.contains("x-proxy-token: ***"), "{errors:?}");
    }
    assert!(errors[0].contains("HTTP 400"), "{errors:?}");
    assert!(
        shown.contains("retrying") || shown.contains("attempt 2"),
        "the retry notice was shown:\n{shown}"
    );
    for secret in [TOKEN, KEY] {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        let leaks = files_containing(&env.state_dir(), secret.as_bytes());
        assert!(leaks.is_empty(), "{secret} is in {leaks:?}");
    }
    assert!(
        env.state_dir().join("agentls.log").exists(),
        "the log file was checked"
    );
}
