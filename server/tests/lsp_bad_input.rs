//! Bad input on the wire gets a clear JSON-RPC error (or is ignored, for
//! notifications) and changes nothing: the next request is answered normally.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{encode_raw_frame, InitParams, ServerOptions, TestEnv, TestServer};

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;
const SERVER_NOT_INITIALIZED: i64 = -32002;

fn initialized_server() -> TestServer {
    let server = TestServer::spawn(ServerOptions::new());
    server.initialize_default();
    server
}

fn orphan_responses(server: &TestServer) -> Vec<Value> {
    server.with_recorded(|r| r.orphan_responses.clone())
}

#[test]
fn invalid_json_gets_parse_error_with_null_id_and_server_keeps_serving() {
    let server = initialized_server();
    server.send_raw(&encode_raw_frame(
        b"{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": ",
    ));
    let error = server.wait_for(
        "a -32700 response with id null",
        Duration::from_secs(10),
        |r| r.orphan_responses.first().cloned(),
    );
    assert_eq!(error["id"], Value::Null, "parse error response: {error}");
    assert_eq!(
        error["error"]["code"],
        json!(PARSE_ERROR),
        "parse error response: {error}"
    );
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn frame_with_non_numeric_content_length_is_rejected_and_next_request_answered() {
    let server = initialized_server();
    server.send_raw(b"Content-Length: abc\r\n\r\n");
    server.ping();
    for response in orphan_responses(&server) {
        assert_eq!(
            response["error"]["code"],
            json!(PARSE_ERROR),
            "unexpected response: {response}"
        );
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn unknown_request_method_gets_method_not_found_and_server_keeps_serving() {
    let server = initialized_server();
    let err = server
        .request("agentls/noSuchMethod", json!({}))
        .expect_err("an unknown method must be an error");
    assert_eq!(err.code, METHOD_NOT_FOUND, "{err:?}");
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn wrong_params_for_a_known_method_get_invalid_params_and_server_keeps_serving() {
    let server = initialized_server();
    let err = server
        .request("textDocument/codeAction", json!({ "x": 1 }))
        .expect_err("codeAction with garbage params must be an error");
    assert_eq!(err.code, INVALID_PARAMS, "{err:?}");
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn request_before_initialize_gets_server_not_initialized_then_initialize_works() {
    let server = TestServer::spawn(ServerOptions::new());
    let err = server
        .execute_command("agent.config", json!([{}]))
        .expect_err("a request before initialize must be an error");
    assert_eq!(err.code, SERVER_NOT_INITIALIZED, "{err:?}");
    server.initialize_default();
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn notifications_with_bad_params_or_unknown_methods_are_ignored() {
    let server = initialized_server();
    server.notify("textDocument/didOpen", json!({ "x": 1 }));
    server.notify("textDocument/didChange", json!("not an object"));
    server.notify("workspace/didChangeWorkspaceFolders", json!({ "event": 3 }));
    server.notify("agentls/noSuchNotification", json!({}));
    server.notify("$/noSuchNotification", json!({}));
    server.ping();
    // A notification never gets a response, not even an error one.
    assert_eq!(orphan_responses(&server), Vec::<Value>::new());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn unknown_execute_command_is_an_error_and_server_keeps_serving() {
    let server = initialized_server();
    let err = server
        .execute_command("agent.noSuchCommand", json!([{}]))
        .expect_err("an unknown command must be an error");
    assert!(
        !err.message.is_empty(),
        "the error should say what is wrong: {err:?}"
    );
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn every_bad_input_in_a_row_leaves_the_session_intact() {
    // All of the above against one server, so state damage from one case would
    // show in the next: the document opened first must survive untouched.
    let server = initialized_server();
    let dir = server.env().mkdir("ws");
    let uri = support::file_uri(&dir.join("keep.txt"));
    server.did_open(&uri, "plaintext", 3, "keep me\n");

    server.send_raw(&encode_raw_frame(b"{oops"));
    server.send_raw(b"Content-Length: abc\r\n\r\n");
    let _ = server.request("agentls/noSuchMethod", json!({}));
    let _ = server.request("textDocument/codeAction", json!({ "x": 1 }));
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri } }),
    );

    let doc = server
        .agent_document(&uri)
        .unwrap_or_else(|e| server.fail(&format!("agent.document failed: {e:?}")));
    assert_eq!(doc["version"], json!(3), "{doc}");
    assert_eq!(doc["text"], json!("keep me\n"), "{doc}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// Waits for the `n`th response with id null (0-based) and returns it.
fn nth_orphan(server: &TestServer, n: usize, what: &str) -> Value {
    server.wait_for(what, Duration::from_secs(30), |r| {
        r.orphan_responses.get(n).cloned()
    })
}

#[test]
fn after_garbage_a_lying_length_a_70_mib_frame_and_an_endless_header_every_request_is_answered() {
    let server = initialized_server();

    // Garbage that is no frame at all, with blank lines and braces in it.
    server.send_raw(b"\x00\xffnot a header\r\n\r\n{{{ \"Content-Type\": x }}}\r\n");
    server.ping();

    // A length larger than the body: the server takes the next 100 bytes as
    // the body, swallowing the start of the request after it, then re-syncs
    // on the next header (docs/protocol.md, "Bad input").
    server.send_raw(b"Content-Length: 102\r\n\r\n{}");
    let swallowed = encode_raw_frame(
        br#"{"jsonrpc":"2.0","id":"swallowed","method":"workspace/executeCommand","params":{"command":"agent.config","arguments":[{}]}}"#,
    );
    assert!(swallowed.len() > 100, "the request must reach past the lie");
    server.send_raw(&swallowed);
    server.ping();

    // A frame over the 64 MiB limit (an editor opening a big file): answered
    // at once, its body skipped by counting.
    let big = 70 * 1024 * 1024;
    let mut frame = format!("Content-Length: {big}\r\n\r\n").into_bytes();
    frame.resize(frame.len() + big, b'x');
    server.send_raw(&frame);
    drop(frame);
    server.ping();

    // A header block without an end: answered once it passes 8 KiB, while
    // the block goes on.
    let answered = server.with_recorded(|r| r.orphan_responses.len());
    let mut junk = b"Content-Length: 5\r\nX-Junk: ".to_vec();
    junk.resize(1 << 20, b'a');
    server.send_raw(&junk);
    let error = nth_orphan(&server, answered, "the -32700 for an endless header block");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("header block longer than 8192 bytes")),
        "{error}"
    );
    for _ in 0..8 {
        server.send_raw(&vec![b'a'; 1 << 20]);
    }
    server.ping();

    // Only -32700s with id null: the swallowed request got no answer.
    let orphans = orphan_responses(&server);
    for response in &orphans {
        assert_eq!(response["id"], Value::Null, "{response}");
        assert_eq!(response["error"]["code"], json!(PARSE_ERROR), "{response}");
    }
    let messages: Vec<&str> = orphans
        .iter()
        .filter_map(|r| r["error"]["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("exceeds the limit")),
        "{messages:?}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn requests_whose_id_is_an_object_array_or_boolean_get_invalid_request_with_id_null() {
    let server = initialized_server();
    for (n, id) in ["{\"a\":1}", "[1]", "true"].iter().enumerate() {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"shutdown"}}"#);
        server.send_raw(&encode_raw_frame(body.as_bytes()));
        let answer = nth_orphan(&server, n, "the -32600 for a bad id");
        assert_eq!(answer["id"], Value::Null, "{answer}");
        assert_eq!(answer["error"]["code"], json!(INVALID_REQUEST), "{answer}");
    }
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_unknown_dollar_request_gets_method_not_found() {
    let server = initialized_server();
    let err = server
        .request("$/noSuchRequest", json!({}))
        .expect_err("a $/ request the server does not know must be answered");
    assert_eq!(err.code, METHOD_NOT_FOUND, "{err:?}");
    server.ping();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_four_megabyte_value_is_echoed_truncated_in_every_error() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&folder).build());
    let huge = "0".repeat(4 << 20);
    let cases = [
        ("agent.cancel", json!([{ "runId": huge }])),
        ("agent.retry", json!([{ "runId": huge }])),
        ("agent.run", json!([{ "workflow": huge }])),
        (
            "agent.run",
            json!([{ "workflow": "explain", "params": { huge.as_str(): [1] } }]),
        ),
        (
            "agent.document",
            json!([{ "uri": format!("file:///{huge}") }]),
        ),
        ("agent.config", json!([{ huge.as_str(): 1 }])),
        (huge.as_str(), json!([{}])),
    ];
    for (command, arguments) in cases {
        let err = server
            .execute_command(command, arguments)
            .expect_err("the command must fail");
        let start: String = err.message.chars().take(300).collect();
        assert_eq!(err.code, INVALID_PARAMS, "{start}");
        assert!(
            err.message.len() < 2048 && err.message.contains("bytes"),
            "{} bytes: {start}",
            err.message.len(),
        );
    }
    // Errors tower-lsp-server builds itself quote the params too.
    let err = server
        .request("textDocument/codeAction", json!({ "textDocument": huge }))
        .expect_err("a string is no TextDocumentIdentifier");
    assert_eq!(err.code, INVALID_PARAMS);
    assert!(err.message.len() < 2048, "{} bytes", err.message.len());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_store_that_cannot_be_opened_is_an_internal_error() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    // The state directory is a file: no store can be opened under it.
    env.write("state", "not a directory");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&folder).build());
    for command in ["agent.cancel", "agent.stats"] {
        let err = server
            .execute_command(command, json!([{}]))
            .expect_err("the command must fail");
        assert_eq!(err.code, INTERNAL_ERROR, "{command}: {err:?}");
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
