//! The built-in workflows render as documented, with no model and no files.

use agentls_workflow::{load_all, Context, StepKind, StepState, TemplateError, Templates};

fn run_command(kind: StepKind) -> String {
    match kind {
        StepKind::Run { command, .. } => command,
        other => panic!("expected a run step, got {other:?}"),
    }
}

#[test]
fn test_workflow_runs_the_detected_command() {
    let catalog = load_all(None, None);
    let wf = catalog.get("test").unwrap();
    let t = Templates::new();
    let mut ctx = Context::default();
    ctx.workspace.test_command = Some("cargo test".into());
    assert_eq!(
        run_command(t.render_kind(&wf.steps[0], &ctx).unwrap()),
        "cargo test"
    );
}

#[test]
fn test_workflow_without_a_command_fails_with_a_clear_message() {
    let catalog = load_all(None, None);
    let wf = catalog.get("test").unwrap();
    let mut ctx = Context::default();
    ctx.workspace.root = "/src/app".into();
    let err = Templates::new()
        .render_kind(&wf.steps[0], &ctx)
        .unwrap_err();
    let TemplateError::Failed { message, .. } = &err else {
        panic!("expected the workflow's own failure, got {err:?}");
    };
    assert!(
        message.starts_with("no test command detected in /src/app: "),
        "{message}"
    );
    assert!(message.contains(".agentls/workflows/test.toml"));
}

#[test]
fn demo_feeds_output_forward_and_skips_by_condition() {
    let catalog = load_all(None, None);
    let wf = catalog.get("demo").unwrap();
    let t = Templates::new();
    let mut ctx = Context::default();
    let ids: Vec<&str> = wf.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["system", "echo", "only_if_failed", "done"]);
    assert!(wf
        .steps
        .iter()
        .all(|s| matches!(s.kind, StepKind::Run { .. })));

    assert_eq!(
        run_command(t.render_kind(&wf.steps[0], &ctx).unwrap()),
        "uname -a"
    );
    ctx.steps.insert(
        "system".into(),
        StepState {
            output: "Linux box 6.1.0 #1 SMP x86_64 GNU/Linux\r\n".into(),
            exit_code: Some(0),
            status: "completed".into(),
            ..StepState::default()
        },
    );
    let echo = run_command(t.render_kind(&wf.steps[1], &ctx).unwrap());
    assert!(
        echo.ends_with("'0' 'Linux box 6.1.0 #1 SMP x86_64 GNU/Linux'"),
        "{echo}"
    );

    let when = wf.steps[2].when.as_deref().unwrap();
    assert!(!t.eval_when("only_if_failed", when, &ctx).unwrap());
    ctx.steps.insert(
        "only_if_failed".into(),
        StepState {
            status: "skipped".into(),
            ..StepState::default()
        },
    );
    let done = run_command(t.render_kind(&wf.steps[3], &ctx).unwrap());
    assert_eq!(done, "echo 'demo finished: the previous step was skipped'");
}
