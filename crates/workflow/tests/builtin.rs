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

fn prompt_of(kind: StepKind) -> String {
    match kind {
        StepKind::Prompt { prompt, .. } => prompt,
        other => panic!("expected a prompt step, got {other:?}"),
    }
}

fn editor_context() -> Context {
    let mut ctx = Context {
        selection: Some("fn add(a: i32, b: i32) -> i32 { a + b }".into()),
        file: Some(agentls_workflow::FileContext {
            path: "src/lib.rs".into(),
            text: "fn add(a: i32, b: i32) -> i32 { a + b }\n".into(),
            language: "rust".into(),
        }),
        ..Context::default()
    };
    ctx.workspace.root = "/src/app".into();
    ctx
}

#[test]
fn model_builtins_are_offered_where_they_apply() {
    let catalog = load_all(None, None);
    for name in ["explain", "refactor", "write-tests"] {
        let applies = &catalog.get(name).unwrap().applies;
        assert!(applies.code_action && applies.selection, "{name}");
    }
    let fix = &catalog.get("fix-diagnostic").unwrap().applies;
    assert!(fix.code_action && fix.diagnostics);
}

#[test]
fn builtins_without_applies_are_commands_not_code_actions() {
    let catalog = load_all(None, None);
    for name in ["fix-tests", "commit-message", "test", "demo"] {
        let applies = &catalog.get(name).unwrap().applies;
        assert!(!applies.code_action, "{name}");
        assert!(!applies.selection && !applies.diagnostics, "{name}");
    }
}

#[test]
fn explain_and_refactor_put_the_selection_in_the_prompt_and_replace_it_with_the_code() {
    let catalog = load_all(None, None);
    let t = Templates::new();
    let mut ctx = editor_context();
    let explain = prompt_of(
        t.render_kind(&catalog.get("explain").unwrap().steps[0], &ctx)
            .unwrap(),
    );
    assert!(explain.contains("File: src/lib.rs"), "{explain}");
    assert!(explain.contains("fn add(a: i32, b: i32)"), "{explain}");

    let refactor = catalog.get("refactor").unwrap();
    ctx.params
        .insert("instruction".into(), "use a macro".into());
    let prompt = prompt_of(t.render_kind(&refactor.steps[0], &ctx).unwrap());
    assert!(prompt.contains("Instruction: use a macro"), "{prompt}");
    ctx.steps.insert(
        "rewrite".into(),
        StepState {
            output: "Here:\n```rust\nfn add() {}\n```\n".into(),
            status: "completed".into(),
            ..StepState::default()
        },
    );
    let edit = t.render_kind(&refactor.steps[1], &ctx).unwrap();
    assert_eq!(
        edit,
        StepKind::Edit(agentls_workflow::EditSpec::Selection {
            text: "fn add() {}".into()
        }),
        "a selection inside a line gets no newline"
    );
    ctx.selection = Some("fn add(a: i32, b: i32) -> i32 { a + b }\n".into());
    let edit = t.render_kind(&refactor.steps[1], &ctx).unwrap();
    assert_eq!(
        edit,
        StepKind::Edit(agentls_workflow::EditSpec::Selection {
            text: "fn add() {}\n".into()
        }),
        "a selection of whole lines keeps its final newline"
    );
}

#[test]
fn refactor_without_a_selection_fails_with_what_to_do() {
    let catalog = load_all(None, None);
    let mut ctx = editor_context();
    ctx.selection = None;
    ctx.params.insert("instruction".into(), "anything".into());
    let err = Templates::new()
        .render_kind(&catalog.get("refactor").unwrap().steps[0], &ctx)
        .unwrap_err();
    assert!(
        err.to_string().contains("select the code to rewrite"),
        "{err}"
    );
}

#[test]
fn fix_diagnostic_lists_the_diagnostics_and_applies_a_patch() {
    let catalog = load_all(None, None);
    let wf = catalog.get("fix-diagnostic").unwrap();
    let mut ctx = editor_context();
    ctx.diagnostics.push(agentls_workflow::DiagnosticContext {
        message: "mismatched types".into(),
        severity: "error".into(),
        line: 1,
        column: 34,
        source: Some("rustc".into()),
        code: Some("E0308".into()),
    });
    let StepKind::Agent(spec) = Templates::new().render_kind(&wf.steps[0], &ctx).unwrap() else {
        panic!("fix-diagnostic is an agent step");
    };
    assert!(
        spec.task
            .contains("- line 1, column 34: error (rustc E0308): mismatched types"),
        "{}",
        spec.task
    );
    // It reads and edits; it never runs a command.
    assert_eq!(
        spec.tools,
        ["read_file", "list_files", "search", "edit_file"]
    );
    assert_eq!(wf.steps.len(), 1);
}

#[test]
fn write_tests_inserts_the_tests_after_the_function() {
    let catalog = load_all(None, None);
    let wf = catalog.get("write-tests").unwrap();
    let mut ctx = editor_context();
    ctx.steps.insert(
        "tests".into(),
        StepState {
            output: "```rust\n#[test]\nfn adds() {}\n```".into(),
            status: "completed".into(),
            ..StepState::default()
        },
    );
    let edit = Templates::new().render_kind(&wf.steps[1], &ctx).unwrap();
    assert_eq!(
        edit,
        StepKind::Edit(agentls_workflow::EditSpec::Selection {
            text: "fn add(a: i32, b: i32) -> i32 { a + b }\n\n#[test]\nfn adds() {}".into()
        })
    );
}

#[test]
fn fix_tests_only_asks_the_model_when_the_tests_fail() {
    let catalog = load_all(None, None);
    let wf = catalog.get("fix-tests").unwrap();
    let t = Templates::new();
    let mut ctx = editor_context();
    ctx.workspace.test_command = Some("cargo test".into());
    assert_eq!(
        run_command(t.render_kind(&wf.steps[0], &ctx).unwrap()),
        "cargo test"
    );
    for (exit_code, runs) in [(0, false), (101, true)] {
        ctx.steps.insert(
            "test".into(),
            StepState {
                exit_code: Some(exit_code),
                status: "completed".into(),
                ..StepState::default()
            },
        );
        for step in &wf.steps[1..] {
            let when = step.when.as_deref().unwrap();
            assert_eq!(t.eval_when(step.id.as_str(), when, &ctx).unwrap(), runs);
        }
    }
    // The agent may run every test command agentls detects without asking,
    // and nothing else.
    let StepKind::Agent(spec) = &wf.steps[1].kind else {
        panic!("fix-tests fixes with an agent step");
    };
    assert!(spec.tools.iter().any(|t| t == "run_command"));
    for detected in [
        "cargo test",
        "python3 -m pytest",
        "go test ./...",
        "make test",
        "npm test",
        "pnpm test",
        "yarn test",
        "bun test",
    ] {
        let allow = agentls_tools::Allow::new(&spec.allow.run, &spec.allow.edit).unwrap();
        assert!(allow.allows_run(detected), "`{detected}` would ask");
        assert!(!allow.allows_run(&format!("{detected}; rm -rf ~")));
    }
}

#[test]
fn commit_message_reads_the_staged_diff_and_says_when_nothing_is_staged() {
    let catalog = load_all(None, None);
    let wf = catalog.get("commit-message").unwrap();
    let command = run_command(
        Templates::new()
            .render_kind(&wf.steps[0], &Context::default())
            .unwrap(),
    );
    assert!(command.contains("git diff --staged --quiet"), "{command}");
    assert!(command.contains("nothing is staged"), "{command}");
    assert!(matches!(wf.steps[1].kind, StepKind::Prompt { .. }));
}
