//! The `command` kind through the engine: a CLI agent reading the prompt
//! on stdin, and the trust rule for workflows that would use one.

use std::collections::BTreeMap;

use agentls_engine::{EngineError, Inputs, RunStatus, StartRequest};
use agentls_provider::{Kind, ProviderConfig};
use agentls_workflow::SourceKind;

use crate::support::*;

/// A fake CLI agent: reads the whole prompt from stdin, answers with where
/// it ran and what it read.
const AGENT: &str = r#"#!/bin/sh
prompt=$(cat)
echo "cwd: $(pwd)"
printf 'you asked: %s\n' "$prompt"
"#;

fn agent_fixture() -> (tempfile::TempDir, Fixture) {
    let bin = tempfile::tempdir().expect("temp dir");
    let script = bin.path().join("agent.sh");
    std::fs::write(&script, AGENT).expect("script");
    let mut agent = ProviderConfig::new(Kind::Command);
    agent.command = Some(format!("sh {}", script.display()));
    let f = Fixture::new(providers(vec![("agent", agent)]), Env::default());
    (bin, f)
}

#[tokio::test]
async fn command_provider_answers_from_a_cli_agent_reading_stdin() {
    let (_bin, f) = agent_fixture();

    let (run, record) = f.run(&ask(&["agent"], "first")).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    let expected = format!("cwd: {}\nyou asked: Explain the build\n", f.root.display());
    assert_eq!(f.output(&run, "ask"), expected);
    assert_eq!(f.events.live(&run, "ask"), expected);
    let usage = &step(&record, "ask").usage;
    assert_eq!(usage.provider.as_deref(), Some("agent"));
    assert_eq!(usage.input_tokens, None, "a CLI agent reports no tokens");
}

#[tokio::test]
async fn untrusted_workspace_workflow_may_not_use_a_command_provider() {
    let (_bin, f) = agent_fixture();
    let workflow = workflow(SourceKind::Workspace, &ask(&["agent"], "first"));

    let start = |workflow| {
        f.engine.start(StartRequest {
            workflow,
            params: BTreeMap::new(),
            inputs: Inputs::default(),
        })
    };
    let err = start(workflow.clone()).expect_err("needs trust");

    assert!(
        matches!(&err, EngineError::Untrusted(t)
            if t.actions == ["run the command provider `agent` (step `ask`)"]),
        "{err}"
    );
    f.engine.trust(&workflow).expect("trust");
    let run = start(workflow).expect("trusted now");
    let record = f.engine.wait(&run).await.expect("record");
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
}
