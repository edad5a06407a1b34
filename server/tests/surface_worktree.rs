//! Worktree runs in the editor: the run never touches the user's buffer or
//! file; `agent.diff` shows its patch, `agent.apply` sends it through
//! `workspace/applyEdit` with the open document's version, and refuses,
//! naming the file, when the buffer changed where the run did.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::{file_uri, git, InitParams, ServerOptions, TestEnv, TestServer};

const NOTES: &str = "alpha\nbeta\ngamma\ndelta\n";

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

#[test]
fn apply_goes_through_apply_edit_with_the_documents_version_and_refuses_overlaps() {
    let env = TestEnv::new();
    let ws = env.mkdir("ws");
    git(&ws, &["init", "--quiet", "-b", "main"]);
    let notes = env.write("ws/notes.txt", NOTES);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "--quiet", "-m", "first"]);
    env.user_workflow(
        "upper-beta",
        "isolation = \"worktree\"\n[[steps]]\nid = \"a\"\nrun = \"sed -i 's/^beta$/BETA/' notes.txt\"\n",
    );
    env.user_workflow(
        "upper-delta",
        "isolation = \"worktree\"\n[[steps]]\nid = \"a\"\nrun = \"sed -i 's/^delta$/DELTA/' notes.txt\"\n",
    );
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&ws).build());
    let uri = file_uri(&notes.canonicalize().unwrap());
    server.did_open(&uri, "plaintext", 3, NOTES);

    let first = server.start_run(json!({"workflow": "upper-beta"}));
    server.wait_state(&first, "completed");
    let second = server.start_run(json!({"workflow": "upper-delta"}));
    server.wait_state(&second, "completed");
    // Nothing reached the editor or the disk while they ran.
    assert!(server
        .server_requests()
        .iter()
        .all(|q| q.method != "workspace/applyEdit"));
    assert_eq!(server.agent_document(&uri).unwrap()["text"], NOTES);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), NOTES);

    let status = server.command_ok("agent.status", json!({"runId": first}));
    assert_eq!(status["isolation"]["state"], "active");
    assert_eq!(status["isolation"]["branch"], format!("agentls/{first}"));
    let worktree = status["isolation"]["worktree"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(Path::new(&worktree).join("notes.txt").exists());

    let diff = server.command_ok("agent.diff", json!({"runId": first}));
    assert_eq!(diff["files"], json!(["notes.txt"]));
    let patch = diff["patch"].as_str().unwrap();
    assert!(patch.contains("-beta\n+BETA\n"), "{patch}");
    let shown = diff["uri"]
        .as_str()
        .unwrap()
        .strip_prefix("file://")
        .unwrap();
    assert_eq!(std::fs::read_to_string(shown).unwrap(), patch);

    let applied = server.command_ok("agent.apply", json!({"runId": first}));
    assert_eq!(applied, json!({"runId": first, "files": ["notes.txt"]}));
    let edit = server.wait_server_request("workspace/applyEdit", |_| true);
    assert_eq!(
        edit.params["edit"]["documentChanges"],
        json!([{
            "textDocument": {"uri": uri, "version": 3},
            "edits": [{"range": range(1, 0, 1, 4), "newText": "BETA"}],
        }])
    );
    server.wait_message(&first, "its worktree is removed");
    assert!(!Path::new(&worktree).exists());
    let status = server.command_ok("agent.status", json!({"runId": first}));
    assert_eq!(status["isolation"]["state"], "applied");

    // The editor applies it (version 4), then the user changes `delta`,
    // the line the second run changed.
    server.did_change(&uri, 4, json!([{"text": "alpha\nBETA\ngamma\ndelta\n"}]));
    server.did_change(
        &uri,
        5,
        json!([{"text": "alpha\nBETA\ngamma\ndelta, edited\n"}]),
    );
    let refused = server
        .execute_command("agent.apply", json!([{"runId": second}]))
        .unwrap_err();
    assert_eq!(refused.code, -32001, "{refused:?}");
    assert!(refused.message.contains("notes.txt"), "{refused:?}");
    assert_eq!(
        server
            .server_requests()
            .iter()
            .filter(|q| q.method == "workspace/applyEdit")
            .count(),
        1,
        "nothing was sent for the refused run"
    );
    let discarded = server.command_ok("agent.discard", json!({"runId": second}));
    assert_eq!(discarded["isolation"]["state"], "discarded");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_edit_the_editor_refuses_keeps_the_worktree_and_says_why() {
    let env = TestEnv::new();
    let ws = env.mkdir("ws");
    git(&ws, &["init", "--quiet", "-b", "main"]);
    let notes = env.write("ws/notes.txt", NOTES);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "--quiet", "-m", "first"]);
    env.user_workflow(
        "upper-beta",
        "isolation = \"worktree\"\n[[steps]]\nid = \"a\"\nrun = \"sed -i 's/^beta$/BETA/' notes.txt\"\n",
    );
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&ws).build());
    server.set_apply_edit_response(json!({"applied": false, "failureReason": "document is busy"}));
    let uri = file_uri(&notes.canonicalize().unwrap());
    server.did_open(&uri, "plaintext", 1, NOTES);
    let run = server.start_run(json!({"workflow": "upper-beta"}));
    server.wait_state(&run, "completed");

    // Without `runId`: the newest completed run.
    let applied = server.command_ok("agent.apply", json!({}));
    assert_eq!(applied["runId"], run);
    server.wait_server_request("workspace/applyEdit", |_| true);
    let message = server.wait_message(&run, "the run's worktree is kept");
    assert!(
        message["message"]
            .as_str()
            .unwrap()
            .contains("document is busy"),
        "{message}"
    );
    let status = server.command_ok("agent.status", json!({"runId": run}));
    assert_eq!(status["isolation"]["state"], "active");
    assert!(Path::new(status["isolation"]["worktree"].as_str().unwrap()).is_dir());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
