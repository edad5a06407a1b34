//! Bad input on the wire gets a clear JSON-RPC error (or is ignored, for
//! notifications) and changes nothing: the next request is answered normally.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{encode_raw_frame, ServerOptions, TestServer};

const PARSE_ERROR: i64 = -32700;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
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
