//! `file` and `patch` edits through the editor: minimal edits against what
//! the editor holds (unsaved changes included), new files created by the
//! editor when it can, the disk when it cannot.

mod support;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const NOTES: &str = r##"
[[steps]]
id = "write"
edit = { file = "docs/notes.md", text = "# Notes\nsecond line\n" }
"##;

const PATCH: &str = r#"
[[steps]]
id = "patch"
edit = { patch = """--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,3 @@
 fn one() {}
-fn two() {}
+fn two() { one() }
 fn three() {}
""" }
"#;

struct Fixture {
    server: TestServer,
    folder: std::path::PathBuf,
}

fn fixture(init: InitParams) -> Fixture {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.user_workflow("notes", NOTES);
    env.user_workflow("patch", PATCH);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(init.folder(&folder).build());
    Fixture { server, folder }
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

#[test]
fn a_file_edit_is_one_minimal_edit_of_the_file_on_disk() {
    let f = fixture(InitParams::new().run_events());
    let notes = f
        .server
        .env()
        .write("ws/docs/notes.md", "# Notes\nfirst line\n");
    let run = f.server.start_run(json!({"workflow": "notes"}));
    let edit = f
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([{
            "textDocument": {"uri": file_uri(&notes.canonicalize().unwrap()), "version": null},
            "edits": [{"range": range(1, 0, 1, 5), "newText": "second"}],
        }])
    );
    f.server.wait_state(&run, "completed");
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_new_file_is_created_by_the_editor_when_it_can() {
    let f = fixture(InitParams::new().run_events().with_capability(
        "/workspace/workspaceEdit/resourceOperations",
        json!(["create"]),
    ));
    let run = f.server.start_run(json!({"workflow": "notes"}));
    let edit = f
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    let uri = file_uri(&f.folder.canonicalize().unwrap().join("docs/notes.md"));
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([
            {"kind": "create", "uri": uri, "options": {"overwrite": false, "ignoreIfExists": true}},
            {"textDocument": {"uri": uri, "version": null},
             "edits": [{"range": range(0, 0, 0, 0), "newText": "# Notes\nsecond line\n"}]},
        ])
    );
    f.server.wait_state(&run, "completed");
    assert!(
        !f.folder.join("docs/notes.md").exists(),
        "the editor creates it, not the server"
    );
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn without_create_support_a_new_file_is_written_on_disk() {
    let f = fixture(InitParams::new().run_events());
    let run = f.server.start_run(json!({"workflow": "notes"}));
    f.server.wait_state(&run, "completed");
    assert_eq!(
        std::fs::read_to_string(f.folder.join("docs/notes.md")).unwrap(),
        "# Notes\nsecond line\n"
    );
    assert!(f
        .server
        .server_requests()
        .iter()
        .all(|q| q.method != "workspace/applyEdit"));
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_patch_applies_to_the_editors_unsaved_text_with_its_version() {
    let f = fixture(InitParams::new().run_events());
    let lib = f
        .server
        .env()
        .write("ws/src/lib.rs", "fn one() {}\nfn two() {}\nfn three() {}\n");
    let uri = file_uri(&lib);
    // Unsaved in the editor: a comment above, which the patch's fuzz finds past.
    let unsaved = "// unsaved\nfn one() {}\nfn two() {}\nfn three() {}\n";
    f.server.did_open(&uri, "rust", 7, unsaved);
    let run = f.server.start_run(json!({"workflow": "patch", "uri": uri}));
    let edit = f
        .server
        .wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([{
            "textDocument": {"uri": uri, "version": 7},
            "edits": [{"range": range(2, 10, 2, 10), "newText": " one() "}],
        }])
    );
    f.server.wait_state(&run, "completed");
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        "fn one() {}\nfn two() {}\nfn three() {}\n",
        "the disk is the editor's business"
    );
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_editor_without_apply_edit_never_gets_its_open_buffer_overwritten() {
    let f = fixture(
        InitParams::new()
            .run_events()
            .without_capability("/workspace/applyEdit"),
    );
    let notes = f
        .server
        .env()
        .write("ws/docs/notes.md", "# Notes\nfirst line\n");
    f.server.did_open(
        &file_uri(&notes),
        "markdown",
        1,
        "# Notes\nedited, unsaved\n",
    );
    let run = f.server.start_run(json!({"workflow": "notes"}));
    let failed = f.server.wait_state(&run, "failed");
    let error = failed["steps"][0]["error"].as_str().unwrap_or("");
    assert!(error.contains("which cannot apply edits"), "{error}");
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "# Notes\nfirst line\n"
    );
    assert_eq!(f.server.shutdown_and_exit().code(), Some(0));
}
