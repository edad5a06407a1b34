//! Parse and validate never panic: arbitrary text, and valid workflow files
//! with random edits (the shapes an editor sees while someone types).

use agentls_workflow::{parse_with, Context, Source, SourceKind, Templates, BUILTIN_FILES};
use proptest::prelude::*;

const SAMPLE: &str = r#"title = "Run tests and fix failures"
[applies]
languages = ["rust", "python"]
selection = true

[params.lang]
description = "language"
default = "rust"

[[steps]]
id = "test"
run = "cargo test --quiet"
env = { RUST_LOG = "{{ params.lang }}" }
allow_failure = true
timeout = "10m"

[[steps]]
id = "fix"
when = "steps.test.exit_code != 0"
prompt = """Tests failed:
{{ steps.test.output | tail(200) }}
{% for d in diagnostics %}{{ d.message }}{% endfor %}
Reply with a unified diff."""
provider = ["claude", "gpt"]
pick = "all"
retries = 2

[[steps]]
id = "ok"
approve = "Apply {{ steps.fix.output | code | head(3) }}?"

[[steps]]
id = "apply"
edit = { patch = "{{ steps.fix.output }}" }

[[steps]]
id = "notes"
edit = { file = "docs/é.md", text = '''{{ selection }}''' }
"#;

/// Every diagnostic must sit inside the text, on character boundaries.
fn check_no_panic(text: &str) {
    let templates = Templates::new();
    let parsed = parse_with(
        "fuzz",
        Source::new(SourceKind::Workspace, None, text),
        &templates,
    );
    for d in &parsed.diagnostics {
        let r = &d.range.offsets;
        assert!(r.start <= r.end && r.end <= text.len(), "{d:?}");
        assert!(
            text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
            "{d:?}"
        );
        assert!(!d.message.is_empty());
    }
    assert_eq!(parsed.workflow.is_some(), !parsed.has_errors());
    // Rendering whatever survived must not panic either.
    if let Some(w) = parsed.workflow {
        for step in &w.steps {
            let _ = templates.render_kind(step, &Context::default());
            if let Some(when) = &step.when {
                let _ = templates.eval_when(step.id.as_str(), when, &Context::default());
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut s = text.to_owned();
    let floor = |s: &str, i: usize| {
        let mut i = i % (s.len() + 1);
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    for m in mutations {
        match m {
            Mutation::Delete(at, len) => {
                let a = floor(&s, *at);
                let b = floor(&s, a + len);
                s.replace_range(a..b.max(a), "");
            }
            Mutation::Insert(at, piece) => {
                let a = floor(&s, *at);
                s.insert_str(a, piece);
            }
            Mutation::Duplicate(at, len) => {
                let a = floor(&s, *at);
                let b = floor(&s, a + len).max(a);
                let piece = s[a..b].to_owned();
                s.insert_str(b, &piece);
            }
        }
    }
    s
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let piece = prop_oneof![
        Just("\"".to_owned()),
        Just("'''".to_owned()),
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        Just("{%".to_owned()),
        Just("[[steps]]\n".to_owned()),
        Just("\n".to_owned()),
        Just("=".to_owned()),
        Just("steps.".to_owned()),
        Just("é".to_owned()),
        Just("\\".to_owned()),
        "[ -~]{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..20).prop_map(|(a, l)| Mutation::Delete(a, l)),
        (any::<usize>(), piece).prop_map(|(a, p)| Mutation::Insert(a, p)),
        (any::<usize>(), 0usize..80).prop_map(|(a, l)| Mutation::Duplicate(a, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        check_no_panic(&text);
    }

    #[test]
    fn toml_shaped_text_never_panics(text in "([a-z_]{1,6} = (\"[ -~]{0,12}\"|[0-9]{1,3}|true|\\[\\]|\\{\\})\n|\\[\\[steps\\]\\]\n|\\[[a-z]{1,6}\\]\n){0,12}") {
        check_no_panic(&text);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        base in prop_oneof![Just(SAMPLE), Just(BUILTIN_FILES[0].1), Just(BUILTIN_FILES[1].1)],
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        check_no_panic(&apply(base, &mutations));
    }

    #[test]
    fn arbitrary_templates_never_panic(template in "\\PC{0,80}", expr in "\\PC{0,40}") {
        let t = Templates::new();
        let _ = t.render("s", "prompt", &template, &Context::default());
        let _ = t.eval_when("s", &expr, &Context::default());
    }
}

#[test]
fn the_sample_is_valid() {
    let parsed = parse_with(
        "sample",
        Source::new(SourceKind::Workspace, None, SAMPLE),
        &Templates::new(),
    );
    assert_eq!(parsed.diagnostics, vec![]);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("a = {}", "[".repeat(100_000));
    check_no_panic(&deep);
    let deep_tables = format!("a = {}", "{ b = ".repeat(50_000));
    check_no_panic(&deep_tables);
    let deep_template = format!(
        "[[steps]]\nid = \"a\"\nwhen = \"{0}\"\nrun = \"{{{{ {0} }}}}\"\n",
        "(".repeat(20_000)
    );
    check_no_panic(&deep_template);
}

#[test]
fn huge_files_are_refused() {
    let big = format!("title = \"{}\"\n", "x".repeat(2 * 1024 * 1024));
    let parsed = parse_with(
        "big",
        Source::new(SourceKind::Workspace, None, big),
        &Templates::new(),
    );
    assert!(parsed.diagnostics[0].message.contains("limited to"));
}
