use std::collections::BTreeMap;

use super::*;

fn ctx_with_test_step(output: &str, exit_code: i32) -> Context {
    let mut steps = BTreeMap::new();
    steps.insert(
        "test".to_owned(),
        StepState {
            output: output.to_owned(),
            exit_code: Some(exit_code),
            status: "failed".to_owned(),
            ..StepState::default()
        },
    );
    Context {
        steps,
        ..Context::default()
    }
}

#[test]
fn renders_step_output_through_tail_and_head() {
    let t = Templates::new();
    let ctx = ctx_with_test_step("l1\nl2\nl3\nl4\n", 101);
    let out = t
        .render(
            "fix",
            "prompt",
            "last: {{ steps.test.output | tail(2) }}first: {{ steps.test.output | head(1) }}",
            &ctx,
        )
        .unwrap();
    assert_eq!(out, "last: l3\nl4\nfirst: l1\n");
}

#[test]
fn code_filter_extracts_the_model_answer() {
    let t = Templates::new();
    let mut ctx = Context::default();
    ctx.steps.insert(
        "fix".to_owned(),
        StepState {
            output: "Sure:\n```rust\nlet x = 1;\n```\n".to_owned(),
            ..StepState::default()
        },
    );
    let out = t
        .render(
            "apply",
            "edit.selection",
            "{{ steps.fix.output | code }}",
            &ctx,
        )
        .unwrap();
    assert_eq!(out, "let x = 1;\n");
}

#[test]
fn trailing_newline_is_kept_for_edits() {
    let t = Templates::new();
    let out = t
        .render("w", "edit.text", "line\n", &Context::default())
        .unwrap();
    assert_eq!(out, "line\n");
}

#[test]
fn undefined_step_names_the_step_field_and_variable() {
    let t = Templates::new();
    let ctx = ctx_with_test_step("x", 1);
    let err = t
        .render("fix", "prompt", "a {{ steps.tset.output }} b", &ctx)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `fix`: template of `prompt` uses undefined variable `steps.tset.output`"
    );
}

#[test]
fn undefined_field_of_a_known_step_is_named() {
    let t = Templates::new();
    let ctx = ctx_with_test_step("x", 1);
    let err = t
        .render("fix", "run", "{{ steps.test.outptu | upper }}", &ctx)
        .unwrap_err();
    assert_eq!(
        err,
        TemplateError::Undefined {
            step: "fix".into(),
            field: "run".into(),
            variable: "steps.test.outptu".into()
        }
    );
}

#[test]
fn missing_selection_is_an_undefined_variable() {
    let t = Templates::new();
    let err = t
        .render(
            "s",
            "prompt",
            "Explain {{ selection }}",
            &Context::default(),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `s`: template of `prompt` uses undefined variable `selection`"
    );
    let with = Context {
        selection: Some("fn a()".into()),
        ..Context::default()
    };
    assert_eq!(
        t.render("s", "prompt", "Explain {{ selection }}", &with)
            .unwrap(),
        "Explain fn a()"
    );
}

#[test]
fn undefined_in_when_is_reported_as_a_condition() {
    let t = Templates::new();
    let err = t
        .eval_when("fix", "steps.nope.exit_code != 0", &Context::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `fix`: `when` condition uses undefined variable `steps.nope.exit_code`"
    );
}

#[test]
fn when_evaluates_exit_codes_and_definedness() {
    let t = Templates::new();
    let failed = ctx_with_test_step("", 1);
    let passed = ctx_with_test_step("", 0);
    let cond = "steps.test.exit_code != 0";
    assert!(t.eval_when("fix", cond, &failed).unwrap());
    assert!(!t.eval_when("fix", cond, &passed).unwrap());
    assert!(!t
        .eval_when("x", "selection is defined", &Context::default())
        .unwrap());
    assert!(t
        .eval_when(
            "x",
            "steps.test.status == 'failed' and 'l' not in steps.test.output",
            &failed
        )
        .unwrap());
}

#[test]
fn syntax_errors_name_the_step_and_line() {
    let t = Templates::new();
    let err = t
        .render("s", "prompt", "ok\n{{ a + }}", &Context::default())
        .unwrap_err();
    let TemplateError::Syntax { message, .. } = &err else {
        panic!("expected a syntax error, got {err:?}");
    };
    assert!(message.contains("template line 2"), "{message}");
    assert!(err
        .to_string()
        .starts_with("step `s`: template of `prompt` is not a valid template"));
}

#[test]
fn fail_function_stops_with_the_authors_message() {
    let t = Templates::new();
    let tmpl = "{{ workspace.test_command or fail('no test command in ' ~ workspace.root) }}";
    let mut ctx = Context::default();
    ctx.workspace.root = "/w".into();
    let err = t.render("test", "run", tmpl, &ctx).unwrap_err();
    assert_eq!(err.to_string(), "step `test`: no test command in /w");
    ctx.workspace.test_command = Some("cargo test".into());
    assert_eq!(t.render("test", "run", tmpl, &ctx).unwrap(), "cargo test");
}

#[test]
fn shell_quote_makes_output_one_shell_word() {
    let t = Templates::new();
    let ctx = ctx_with_test_step("it's; rm -rf /", 0);
    let out = t
        .render(
            "e",
            "run",
            "echo {{ steps.test.output | shell_quote }}",
            &ctx,
        )
        .unwrap();
    assert_eq!(out, r"echo 'it'\''s; rm -rf /'");
}

#[test]
fn render_kind_checks_rendered_edit_paths() {
    use crate::model::{EditSpec, Step, StepId, StepKind};
    let t = Templates::new();
    let step = Step {
        id: StepId::new("w").unwrap(),
        title: None,
        when: None,
        timeout: None,
        retries: 0,
        allow_failure: false,
        kind: StepKind::Edit(EditSpec::File {
            path: "{{ params.path }}".into(),
            text: "x".into(),
        }),
        range: Default::default(),
    };
    let mut ctx = Context::default();
    ctx.params.insert("path".into(), "../outside".into());
    let err = t.render_kind(&step, &ctx).unwrap_err();
    assert!(matches!(err, TemplateError::EditPath { .. }), "{err:?}");
    ctx.params.insert("path".into(), "notes.md".into());
    assert_eq!(
        t.render_kind(&step, &ctx).unwrap(),
        StepKind::Edit(EditSpec::File {
            path: "notes.md".into(),
            text: "x".into()
        })
    );
}

#[test]
fn closing_braces_in_when_are_an_error_not_a_panic() {
    let t = Templates::new();
    let ctx = ctx_with_test_step("a}}b", 0);
    let err = t
        .eval_when("s", "{{ steps.test.exit_code }}", &ctx)
        .unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { .. }), "{err:?}");
    assert!(t.eval_when("s", "'}}' in steps.test.output", &ctx).unwrap());
}

#[test]
fn undefined_field_of_a_loop_variable_is_named_from_the_source() {
    let t = Templates::new();
    let ctx = Context {
        diagnostics: vec![DiagnosticContext {
            message: "mismatched types".into(),
            ..DiagnosticContext::default()
        }],
        ..Context::default()
    };
    let err = t
        .render(
            "fix",
            "prompt",
            "{% for d in diagnostics %}{{ d.mesage }}{% endfor %}",
            &ctx,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `fix`: template of `prompt` uses undefined variable `d.mesage`"
    );
}

#[test]
fn templates_and_workflows_can_be_shared_across_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Templates>();
    assert_send_sync::<crate::Workflow>();
    assert_send_sync::<crate::Catalog>();
}

const NESTED_RANGES: &str =
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";

#[test]
fn nested_ranges_of_ten_to_the_fifth_run_out_of_fuel() {
    let t = Templates::new();
    let started = std::time::Instant::now();
    let err = t
        .render("loop", "prompt", NESTED_RANGES, &Context::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `loop`: template of `prompt` ran out of fuel: it took more than \
         10,000,000 template instructions (nested loops?)"
    );
    eprintln!("fuel ran out after {:?}", started.elapsed());
}

#[test]
fn output_past_the_cap_fails_and_names_the_step() {
    let t = Templates::new();
    // Two strings of 40 MB: each one fine, together past 64 MiB.
    let big = "{{ 'x' * 40000000 }}{{ 'y' * 40000000 }}";
    let err = t
        .render("huge", "edit.text", big, &Context::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `huge`: template of `edit.text` renders more than the 64 MiB limit"
    );
    let fits = t
        .render(
            "ok",
            "edit.text",
            "{{ 'x' * 40000000 }}",
            &Context::default(),
        )
        .unwrap();
    assert_eq!(fits.len(), 40_000_000);
}

#[test]
fn a_stopped_render_gives_up_at_its_next_output() {
    let t = Templates::new();
    let stop = AtomicBool::new(true);
    let step = crate::parse(
        "w",
        crate::Source::new(
            crate::SourceKind::Workspace,
            None,
            "[[steps]]\nid = \"p\"\nrun = \"{% for i in range(10) %}x{% endfor %}\"\n",
        ),
    )
    .workflow
    .unwrap()
    .steps
    .remove(0);
    let err = t
        .render_kind_until(&step, &Context::default(), &stop)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `p`: rendering template of `run` was stopped"
    );
    // Mid-render: the flag is seen by the output, which fails the next write.
    let root = Value::from_serialize(Context::default());
    let err = t
        .render_value(
            "p",
            "run",
            "{% for i in range(10) %}x{% endfor %}",
            &root,
            &stop,
        )
        .unwrap_err();
    assert!(matches!(err, TemplateError::Stopped { .. }), "{err}");
}

#[test]
fn statements_that_load_other_templates_are_found_outside_raw_and_comments() {
    assert_eq!(
        loading_statement("a {% include 'x' %}"),
        Some((2, "include"))
    );
    assert_eq!(
        loading_statement("{%- extends 'base' %}"),
        Some((0, "extends"))
    );
    assert_eq!(
        loading_statement("{% import 'm' as m %}{% from 'm' import f %}"),
        Some((0, "import"))
    );
    assert_eq!(
        loading_statement("{% block b %}{% endblock %}"),
        Some((0, "block"))
    );
    for fine in [
        "{% for i in x %}{{ i }}{% endfor %}",
        "{% raw %}{% include 'x' %}{% endraw %}",
        "{# {% include 'x' %} #}",
        "{% set included = 1 %}{{ included }}",
        "{ not a tag } {{ '{' }}",
    ] {
        assert_eq!(loading_statement(fine), None, "{fine}");
    }
}
