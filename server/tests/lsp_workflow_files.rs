//! Workflow files get diagnostics in the editor as they are edited, at exact
//! positions, and clear when fixed.

mod support;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

fn diagnostics_for(server: &TestServer, uri: &str, version: i64, want_empty: bool) -> Vec<Value> {
    let params = server.wait_notification(
        "textDocument/publishDiagnostics",
        &format!("diagnostics for {uri} at version {version}"),
        |p| {
            p["uri"] == json!(uri)
                && p["version"] == json!(version)
                && p["diagnostics"]
                    .as_array()
                    .is_some_and(|d| d.is_empty() == want_empty)
        },
    );
    params["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_workflow_file_gets_exact_diagnostics_while_edited_and_clears_when_fixed() {
    let env = TestEnv::new();
    let folder = env.mkdir("proj");
    let broken = "[[steps]]\nid = \"a\"\nrun = \"x\"\n\n[[steps]]\nid = \"a\"\nrun = \"y\"\n";
    let path = env.write("proj/.agentls/workflows/fix.toml", broken);
    let uri = file_uri(&path);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&folder).build());
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "toml", "version": 1, "text": broken}}),
    );
    let diagnostics = diagnostics_for(&server, &uri, 1, false);
    let duplicate = diagnostics
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("duplicate"))
        })
        .unwrap_or_else(|| panic!("no duplicate-id diagnostic: {diagnostics:#?}"));
    assert_eq!(
        duplicate["range"]["start"],
        json!({"line": 5, "character": 5})
    );
    assert_eq!(duplicate["severity"], json!(1));

    // Fix the id in the buffer (unsaved): the diagnostics clear.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 5, "character": 6}, "end": {"line": 5, "character": 7}}, "text": "b"}]
        }),
    );
    diagnostics_for(&server, &uri, 2, true);

    // A bad template gets its own diagnostic.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{"range": {"start": {"line": 6, "character": 7}, "end": {"line": 6, "character": 8}}, "text": "{{ steps.nope.output }}"}]
        }),
    );
    let diagnostics = diagnostics_for(&server, &uri, 3, false);
    assert!(
        diagnostics
            .iter()
            .any(|d| d["range"]["start"]["line"] == json!(6)),
        "{diagnostics:#?}"
    );
    server.shutdown_and_exit();
}
