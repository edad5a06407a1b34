//! Shared fixtures for the store's integration tests.

#![allow(dead_code)] // each test binary uses a different part

use agentls_store::{NewRun, NewStep, RunId, Store, WorkflowSource};
use serde_json::json;

/// A workflow run with the given step ids (kinds: `run`).
pub fn new_run(steps: &[&str]) -> NewRun {
    NewRun {
        workflow_name: "fix-tests".into(),
        workflow_source: WorkflowSource::Workspace,
        workflow_path: Some(".agentls/workflows/fix-tests.toml".into()),
        workflow_content: "[[steps]]\nid = \"test\"\nrun = \"cargo test\"\n".into(),
        content_hash: "sha256:abc".into(),
        params: json!({ "crate": "store" }),
        inputs: json!({ "file": "src/lib.rs", "selection": null }),
        steps: steps.iter().map(|id| NewStep::new(*id, "run")).collect(),
        owner: None,
    }
}

/// Creates a run with steps `test`, `fix`, `apply`.
pub fn three_step_run(store: &Store) -> RunId {
    store
        .create_run(&new_run(&["test", "fix", "apply"]))
        .expect("create run")
}
