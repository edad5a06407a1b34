//! Lifecycle over stdio: how the server starts, what it advertises, how it exits.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{InitParams, ServerOptions, TestServer};

/// The spec's bound for `exit` to end the process.
const EXIT_BOUND: Duration = Duration::from_secs(1);

fn exit_code_and_elapsed(server: &TestServer) -> (Option<i32>, Duration) {
    let start = Instant::now();
    server.notify("exit", Value::Null);
    let status = server
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| server.fail("server did not exit within 5 s of `exit`"));
    (status.code(), start.elapsed())
}

#[test]
fn exit_after_shutdown_exits_zero_within_a_second() {
    let server = TestServer::spawn(ServerOptions::new());
    server.initialize_default();
    let shutdown = server.request("shutdown", Value::Null);
    assert_eq!(shutdown, Ok(Value::Null), "shutdown answers null");
    // Stdin stays open: the server must act on `exit`, not wait for end of input.
    let (code, elapsed) = exit_code_and_elapsed(&server);
    assert_eq!(code, Some(0), "exit code after shutdown + exit");
    assert!(elapsed <= EXIT_BOUND, "exit took {elapsed:?}");
}

#[test]
fn exit_without_shutdown_exits_one_within_a_second() {
    let server = TestServer::spawn(ServerOptions::new());
    server.initialize_default();
    let (code, elapsed) = exit_code_and_elapsed(&server);
    assert_eq!(code, Some(1), "exit code after exit without shutdown");
    assert!(elapsed <= EXIT_BOUND, "exit took {elapsed:?}");
}

#[test]
fn exit_after_shutdown_with_open_documents_exits_zero_within_a_second() {
    let server = TestServer::spawn(ServerOptions::new());
    server.initialize_default();
    let dir = server.env().mkdir("ws");
    let uri = support::file_uri(&dir.join("a.rs"));
    server.did_open(&uri, "rust", 1, "fn main() {}\n");
    server.ping();
    assert_eq!(server.request("shutdown", Value::Null), Ok(Value::Null));
    let (code, elapsed) = exit_code_and_elapsed(&server);
    assert_eq!(code, Some(0));
    assert!(elapsed <= EXIT_BOUND, "exit took {elapsed:?}");
}

fn negotiated_encoding(encodings: &[&str]) -> Value {
    let server = TestServer::spawn(ServerOptions::new());
    let result = server.initialize(InitParams::new().position_encodings(encodings).build());
    let encoding = result["capabilities"]["positionEncoding"].clone();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    encoding
}

#[test]
fn utf8_is_negotiated_when_the_client_offers_it() {
    assert_eq!(negotiated_encoding(&["utf-8", "utf-16"]), json!("utf-8"));
    // Offered in second place still wins: byte offsets are the server's native unit.
    assert_eq!(negotiated_encoding(&["utf-16", "utf-8"]), json!("utf-8"));
}

#[test]
fn utf16_is_used_when_the_client_does_not_offer_utf8() {
    assert_eq!(negotiated_encoding(&["utf-16"]), json!("utf-16"));
    assert_eq!(negotiated_encoding(&["utf-32", "utf-16"]), json!("utf-16"));
    assert_eq!(
        negotiated_encoding(&[]),
        json!("utf-16"),
        "no positionEncodings at all"
    );
}

#[test]
fn initialize_advertises_the_documented_capabilities() {
    let server = TestServer::spawn(ServerOptions::new());
    let result = server.initialize_default();
    let caps = &result["capabilities"];

    let sync = &caps["textDocumentSync"];
    assert_eq!(sync["openClose"], json!(true), "textDocumentSync: {sync}");
    assert_eq!(sync["change"], json!(2), "incremental sync: {sync}");
    assert!(
        sync["save"].is_object() || sync["save"] == json!(true),
        "textDocumentSync.save: {sync}"
    );

    let commands = caps["executeCommandProvider"]["commands"]
        .as_array()
        .unwrap_or_else(|| panic!("executeCommandProvider.commands: {caps}"));
    assert!(
        commands.contains(&json!("agent.config")),
        "commands: {commands:?}"
    );

    assert_eq!(
        caps["codeActionProvider"]["resolveProvider"],
        json!(true),
        "codeActionProvider: {}",
        caps["codeActionProvider"]
    );

    let folders = &caps["workspace"]["workspaceFolders"];
    assert_eq!(
        folders["supported"],
        json!(true),
        "workspaceFolders: {folders}"
    );
    assert_eq!(
        folders["changeNotifications"],
        json!(true),
        "workspaceFolders: {folders}"
    );

    assert_eq!(result["serverInfo"]["name"], json!("agentls"));
    assert_eq!(
        result["serverInfo"]["version"],
        json!(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn serve_subcommand_and_stdio_flag_speak_lsp() {
    for args in [&["serve"][..], &["serve", "--stdio"][..]] {
        let mut opts = ServerOptions::new();
        for a in args {
            opts = opts.arg(a);
        }
        let server = TestServer::spawn(opts);
        let result = server.initialize_default();
        assert_eq!(
            result["serverInfo"]["name"],
            json!("agentls"),
            "args {args:?}"
        );
        server.ping();
        assert_eq!(server.shutdown_and_exit().code(), Some(0), "args {args:?}");
    }
}
