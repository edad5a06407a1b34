//! Each class of broken workflow file, with its diagnostics at exact
//! `line:col` (1-based, as `agentls check` prints them).

use agentls_workflow::{format_cli, parse, EditSpec, Parsed, Pick, Source, SourceKind, StepKind};
use expect_test::{expect, Expect};
use std::time::Duration;

fn parse_text(text: &str) -> Parsed {
    parse("wf", Source::new(SourceKind::Workspace, None, text))
}

fn check(text: &str, expected: Expect) {
    let parsed = parse_text(text);
    let lines: Vec<String> = parsed
        .diagnostics
        .iter()
        .map(|d| format_cli("wf.toml", text, d))
        .collect();
    expected.assert_eq(&lines.join("\n"));
    assert_eq!(
        parsed.workflow.is_some(),
        !parsed.has_errors(),
        "a workflow is returned exactly when there are no errors"
    );
}

const DOCUMENTED_EXAMPLE: &str = r#"title = "Run tests and fix failures"
[applies]
languages = ["rust", "python"]

[[steps]]
id = "test"
run = "cargo test --quiet"
allow_failure = true
timeout = "10m"

[[steps]]
id = "fix"
when = "steps.test.exit_code != 0"
prompt = """Tests failed:
{{ steps.test.output | tail(200) }}
Reply with a unified diff."""
provider = "claude"

[[steps]]
id = "apply"
when = "steps.test.exit_code != 0"
edit = { patch = "{{ steps.fix.output }}" }
"#;

#[test]
fn design_example_parses_without_diagnostics() {
    let parsed = parse_text(DOCUMENTED_EXAMPLE);
    assert_eq!(parsed.diagnostics, vec![]);
    let w = parsed.workflow.unwrap();
    assert_eq!(w.name, "wf");
    assert_eq!(w.title.as_deref(), Some("Run tests and fix failures"));
    assert_eq!(w.applies.languages, ["rust", "python"]);
    assert!(w.applies.code_action, "an `[applies]` table offers it");
    let ids: Vec<&str> = w.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["test", "fix", "apply"]);
    assert_eq!(w.steps[0].timeout, Some(Duration::from_secs(600)));
    assert!(w.steps[0].allow_failure);
    assert_eq!(w.steps[0].range.start.line, 4);
    match &w.steps[1].kind {
        StepKind::Prompt {
            providers,
            pick,
            prompt,
        } => {
            assert_eq!(providers, &["claude"]);
            assert_eq!(*pick, Pick::First);
            assert!(prompt.starts_with("Tests failed:\n"));
        }
        other => panic!("expected a prompt step, got {other:?}"),
    }
    assert_eq!(
        w.steps[2].kind,
        StepKind::Edit(EditSpec::Patch {
            patch: "{{ steps.fix.output }}".into()
        })
    );
    assert_eq!(w.source.hash.len(), 64);
}

#[test]
fn toml_syntax_errors_are_reported_alone() {
    check(
        "title = \"x\nunknown_key = 1\n",
        expect![[r#"wf.toml:1:11: error: invalid basic string, expected `"`"#]],
    );
    check(
        "[[steps]]\nid = \"a\"\nid = \"b\"\nrun = \"x\"\n",
        expect![[r#"wf.toml:3:1: error: duplicate key"#]],
    );
    check(
        "[[steps]\n",
        expect!["wf.toml:1:9: error: unclosed array table, expected `]`"],
    );
}

#[test]
fn unknown_keys_point_at_the_key_with_a_suggestion() {
    check(
        r#"titel = "x"
[applies]
languages = ["rust"]
selecton = true

[params.lang]
descripton = "the language"

[[steps]]
id = "a"
run = "echo"
retires = 2
edit_mode = 1
"#,
        expect![[r#"
            wf.toml:1:1: error: unknown key `titel` in a workflow; did you mean `title`?
            wf.toml:4:1: error: unknown key `selecton` in `[applies]`; did you mean `selection`?
            wf.toml:7:1: error: unknown key `descripton` in parameter `lang`; did you mean `description`?
            wf.toml:12:1: error: unknown key `retires` in a step; did you mean `retries`?
            wf.toml:13:1: error: unknown key `edit_mode` in a step; known keys: id, title, when, timeout, retries, allow_failure, run, env, prompt, provider, pick, edit, approve, agent, tools, allow, max_turns, token_budget, acp"#]],
    );
}

#[test]
fn a_step_needs_exactly_one_kind() {
    check(
        r#"[[steps]]
id = "nothing"
title = "does nothing"

[[steps]]
id = "both"
run = "make"
prompt = "hi"
"#,
        expect![[r#"
            wf.toml:1:1: error: step `nothing` does nothing: give it exactly one of `run`, `prompt`, `edit`, `approve` or `agent`
            wf.toml:8:1: error: step `both` has both `run` and `prompt`; a step does one thing: split it into two steps"#]],
    );
}

#[test]
fn ids_must_exist_be_unique_and_be_identifiers() {
    check(
        r#"[[steps]]
run = "a"

[[steps]]
id = "build"
run = "b"

[[steps]]
id = "build"
run = "c"

[[steps]]
id = "run-tests"
run = "d"
"#,
        expect![[r#"
            wf.toml:1:1: error: step has no `id`: add e.g. `id = "test"` so later steps can use its output
            wf.toml:9:6: error: duplicate step id `build` (first used on line 5)
            wf.toml:13:6: error: invalid step id `run-tests`: use letters, digits and `_`, starting with a letter or `_` (at most 64), so templates can write `steps.<id>.output`"#]],
    );
}

#[test]
fn references_to_unknown_later_or_own_steps_are_errors() {
    check(
        r#"[[steps]]
id = "test"
run = "cargo test"

[[steps]]
id = "fix"
when = "steps.tset.exit_code != 0"
prompt = """Failed:
{{ steps.test.output | tail(50) }}
{{ steps.apply.output }} {{ steps.fix.output }}"""

[[steps]]
id = "apply"
edit = { patch = "{{ steps.fix.outptu }}" }
"#,
        expect![[r#"
            wf.toml:7:9: error: step `fix` refers to unknown step `tset` in `when`; did you mean `test`?
            wf.toml:10:4: error: step `fix` refers to step `apply` in `prompt`, which runs later: it has no output yet
            wf.toml:10:29: error: step `fix` refers to its own output in `prompt`; a step's output exists only after it ran
            wf.toml:14:22: error: step `apply`: `steps.fix` has no field `outptu` in `edit.patch`; did you mean `output`?"#]],
    );
}

#[test]
fn unknown_variables_and_parameters_are_errors() {
    check(
        r#"[params]
lang = "rust"

[[steps]]
id = "a"
prompt = "{{ selction }} {{ params.lang }} {{ params.langauge }} {{ file.pth }} {{ workspace.root }}"
"#,
        expect![[r#"
            wf.toml:6:14: error: step `a` uses unknown variable `selction` in `prompt`; did you mean `selection`?
            wf.toml:6:47: error: step `a` uses unknown parameter `langauge` in `prompt`; declare it under `[params]`
            wf.toml:6:69: error: step `a`: `file` has no field `pth` in `prompt`; did you mean `path`?"#]],
    );
}

#[test]
fn template_syntax_errors_point_inside_the_string() {
    check(
        r#"[[steps]]
id = "a"
prompt = """
line one
{{ steps.x.output | }}
"""

[[steps]]
id = "b"
when = "selection is"
run = "echo {% if %}"
"#,
        expect![[r#"
            wf.toml:5:21: error: invalid template in `prompt`: syntax error: unexpected end of variable block, expected identifier
            wf.toml:10:19: error: invalid condition in `when`: syntax error: unexpected end of input, expected identifier
            wf.toml:11:19: error: invalid template in `run`: syntax error: unexpected end of block"#]],
    );
}

#[test]
fn escaped_strings_fall_back_to_the_whole_value() {
    check(
        "[[steps]]\nid = \"a\"\nrun = \"echo \\\"x\\\" {{ steps.nope.output }}\"\n",
        expect!["wf.toml:3:7: error: step `a` refers to unknown step `nope` in `run`"],
    );
}

#[test]
fn durations_and_retries_are_checked() {
    check(
        r#"[[steps]]
id = "a"
run = "x"
timeout = "10"

[[steps]]
id = "b"
run = "x"
timeout = 30
retries = 11

[[steps]]
id = "c"
run = "x"
timeout = "2d"
retries = -1

[[steps]]
id = "d"
run = "x"
timeout = "1h30m"
retries = 3
"#,
        expect![[r#"
            wf.toml:4:11: error: invalid duration `10`: write a number and a unit, e.g. "500ms", "30s", "10m", "1h30m"
            wf.toml:9:11: error: `timeout` needs a unit: write "30s" or "30m"
            wf.toml:10:11: error: `retries` must be between 0 and 10, found 11
            wf.toml:15:11: error: unknown unit `d` in duration `2d`: use ms, s, m or h
            wf.toml:16:11: error: `retries` must be between 0 and 10, found -1"#]],
    );
}

#[test]
fn edit_paths_must_stay_in_the_workspace() {
    check(
        r#"[[steps]]
id = "a"
edit = { file = "/etc/passwd", text = "x" }

[[steps]]
id = "b"
edit = { file = "docs/../../x", text = "x" }

[[steps]]
id = "c"
edit = { file = ".git/config", text = "x" }

[[steps]]
id = "d"
edit = { file = "docs/{{ params.name }}.md", text = "x" }

[params.name]
required = true
"#,
        expect![[r#"
            wf.toml:3:17: error: edit path `/etc/passwd` is absolute; give a path relative to the workspace root
            wf.toml:7:17: error: edit path `docs/../../x` contains `..`; edits stay inside the workspace
            wf.toml:11:17: error: edit path `.git/config` is inside `.git/`; edits never touch the repository's metadata"#]],
    );
}

#[test]
fn edit_forms_are_checked() {
    check(
        r#"[[steps]]
id = "a"
edit = { file = "notes.md" }

[[steps]]
id = "b"
edit = { selection = "x", patch = "y" }

[[steps]]
id = "c"
edit = { selection = "x", text = "y" }

[[steps]]
id = "d"
edit = "{{ x }}"

[[steps]]
id = "e"
edit = {}
"#,
        expect![[r#"
            wf.toml:3:8: error: `edit` with `file` needs `text`, the file's new content
            wf.toml:7:27: error: `edit` has both `selection` and `patch`; use one edit per step
            wf.toml:11:27: error: `text` goes with `file`; with `selection` the value of `selection` is the new content
            wf.toml:15:8: error: `edit` must be a table, e.g. `edit = { patch = "{{ steps.fix.output }}" }`, found a string
            wf.toml:19:8: error: `edit` needs one of `selection`, `file` (with `text`) or `patch`"#]],
    );
}

#[test]
fn prompt_options_are_checked() {
    check(
        r#"[[steps]]
id = "a"
prompt = "hi"
provider = ["claude", "gpt", ""]
pick = "alll"

[[steps]]
id = "b"
prompt = "hi"
provider = 3
"#,
        expect![[r#"
            wf.toml:4:30: error: empty provider name
            wf.toml:5:8: error: `pick` must be "first" or "all", found "alll"; did you mean "all"?
            wf.toml:10:12: error: `provider` must be a provider name or an array of names, e.g. ["claude", "gpt"]"#]],
    );
}

#[test]
fn wrong_types_name_the_expected_type() {
    check(
        r#"title = 3
applies = "rust"

[[steps]]
id = 4
run = "x"

[[steps]]
id = "b"
run = ["x"]
allow_failure = "yes"
"#,
        expect![[r#"
            wf.toml:1:9: error: `title` must be a string, found an integer
            wf.toml:2:11: error: `applies` must be a table, e.g. `[applies]` with `languages = ["rust"]`, found a string
            wf.toml:5:6: error: `id` must be a string, found an integer
            wf.toml:10:7: error: `run` must be a string, found an array
            wf.toml:11:17: error: `allow_failure` must be `true` or `false`, found a string"#]],
    );
}

#[test]
fn kind_specific_keys_elsewhere_are_warnings() {
    check(
        r#"[[steps]]
id = "a"
prompt = "hi"
env = { A = "1" }

[[steps]]
id = "b"
run = "x"
pick = "all"

[[steps]]
id = "c"
approve = "Apply?"
retries = 2
"#,
        expect![[r#"
            wf.toml:4:1: warning: `env` applies only to `run` steps; it is ignored on a `prompt` step
            wf.toml:9:1: warning: `pick` applies only to `prompt` steps; it is ignored on a `run` step
            wf.toml:14:1: warning: `retries` has no effect on an `approve` step: a rejection is not retried"#]],
    );
    let parsed = parse_text("[[steps]]\nid = \"b\"\nrun = \"x\"\npick = \"all\"\n");
    assert!(parsed.workflow.is_some(), "warnings do not prevent loading");
}

#[test]
fn approve_steps_take_a_message_or_true() {
    check(
        r#"[[steps]]
id = "a"
approve = true

[[steps]]
id = "b"
approve = false

[[steps]]
id = "c"
approve = 1
"#,
        expect![[r#"
            wf.toml:7:11: error: `approve = false` makes a step that does nothing: remove the step, or give it a `when`
            wf.toml:11:11: error: `approve` must be a message string or `true`"#]],
    );
}

#[test]
fn a_workflow_needs_steps() {
    check(
        "title = \"x\"\n",
        expect!["wf.toml:1:1: error: a workflow needs at least one step: add a `[[steps]]` table"],
    );
    check(
        "steps = []\n",
        expect!["wf.toml:1:1: error: a workflow needs at least one step"],
    );
    check("steps = 3\n", expect!["wf.toml:1:9: error: `steps` must be an array of tables: write each step as a `[[steps]]` table"]);
}

#[test]
fn params_are_checked_and_kept_in_file_order() {
    check(
        r#"[params]
zeta = "z"
alpha = { description = "first", required = true }
"bad name" = "x"
both = { default = "d", required = true }
num = 3

[[steps]]
id = "a"
run = "echo {{ params.zeta }} {{ params.alpha }}"
"#,
        expect![[r#"
            wf.toml:4:1: error: invalid parameter name `bad name`: use letters, digits and `_`, so templates can write `params.NAME`
            wf.toml:5:25: warning: parameter `both` has a default, so `required` has no effect
            wf.toml:6:7: error: `num` must be a table, e.g. `[params.NAME]` or `NAME = "default"`, found an integer"#]],
    );
    let parsed = parse_text(
        "[params]\nzeta = \"z\"\nalpha = { required = true }\n[[steps]]\nid = \"a\"\nrun = \"x\"\n",
    );
    let names: Vec<_> = parsed
        .workflow
        .unwrap()
        .params
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["zeta", "alpha"]);
}

#[test]
fn crlf_and_non_ascii_keep_exact_positions() {
    let text = "# é\r\n[[steps]]\r\nid = \"a\"\r\nrun = \"echo é {{ steps.b.output }}\"\r\n";
    check(
        text,
        expect!["wf.toml:4:18: error: step `a` refers to unknown step `b` in `run`"],
    );
}

#[test]
fn invalid_workflow_names_are_reported() {
    let parsed = parse(
        "my workflow",
        Source::new(
            SourceKind::User,
            None,
            "[[steps]]\nid = \"a\"\nrun = \"x\"\n",
        ),
    );
    assert!(parsed.workflow.is_none());
    assert!(parsed.diagnostics[0]
        .message
        .contains("workflow name `my workflow`"));
}

#[test]
fn braces_in_a_condition_are_refused_with_a_hint() {
    check(
        "[[steps]]\nid = \"a\"\nrun = \"x\"\n\n[[steps]]\nid = \"b\"\nwhen = \"{{ steps.a.exit_code != 0 }}\"\nrun = \"y\"\n\n[[steps]]\nid = \"c\"\nwhen = \"'}}' in steps.a.output\"\nrun = \"z\"\n",
        expect!["wf.toml:7:35: error: invalid condition in `when`: `}}` cannot appear in a condition: `when` is a bare expression such as `steps.test.exit_code != 0`, without `{{ }}` (to close two dicts, write `} }`)"],
    );
}

#[test]
fn an_empty_applies_table_offers_a_code_action_and_none_offers_none() {
    let step = "[[steps]]\nid = \"a\"\nrun = \"true\"\n";
    let without = parse_text(step).workflow.unwrap();
    assert!(!without.applies.code_action);
    let empty = parse_text(&format!("[applies]\n{step}")).workflow.unwrap();
    assert!(empty.applies.code_action);
    assert!(empty.applies.languages.is_empty() && !empty.applies.selection);
}

#[test]
fn sandbox_key_declares_network_writes_and_requirement() {
    use agentls_workflow::{Sandbox, SandboxNetwork};
    let parse_sandbox = |decl: &str| {
        let text = format!("{decl}\n[[steps]]\nid = \"a\"\nrun = \"true\"\n");
        let parsed = parse_text(&text);
        assert_eq!(parsed.diagnostics, vec![], "{decl}");
        parsed.workflow.unwrap().sandbox
    };
    assert_eq!(parse_sandbox(""), None);
    assert_eq!(
        parse_sandbox(r#"sandbox = { network = false, write = ["~/.cache/cargo", "/opt/x"] }"#),
        Some(Sandbox {
            network: Some(SandboxNetwork::Denied),
            write: vec!["~/.cache/cargo".into(), "/opt/x".into()],
            required: false,
        })
    );
    assert_eq!(
        parse_sandbox("sandbox = { network = [8080, 5432], required = true }"),
        Some(Sandbox {
            network: Some(SandboxNetwork::Ports(vec![8080, 5432])),
            write: vec![],
            required: true,
        })
    );
    assert_eq!(
        parse_sandbox("[sandbox]\nnetwork = true"),
        Some(Sandbox {
            network: Some(SandboxNetwork::Allowed),
            ..Sandbox::default()
        })
    );
}

#[test]
fn sandbox_key_refuses_unknown_keys_bad_ports_and_relative_paths() {
    check(
        r#"sandbox = { netwrok = false, write = ["cache", 3], network = [0, 70000] }
[[steps]]
id = "a"
run = "true"
"#,
        expect![[r#"
            wf.toml:1:13: error: unknown key `netwrok` in `sandbox`; did you mean `network`?
            wf.toml:1:39: error: `write` path `cache` must be absolute or start with `~/`; the workspace is always writable
            wf.toml:1:48: error: `write[...]` must be a string, found an integer
            wf.toml:1:63: error: port 0 is not between 1 and 65535"#]],
    );
    check(
        "sandbox = \"off\"\n[[steps]]\nid = \"a\"\nrun = \"true\"\n",
        expect![[
            r#"wf.toml:1:11: error: `sandbox` must be a table, e.g. `sandbox = { network = false, write = ["~/.cache/cargo"] }`, found a string"#
        ]],
    );
    check(
        "sandbox = { network = \"none\" }\n[[steps]]\nid = \"a\"\nrun = \"true\"\n",
        expect![[
            r#"wf.toml:1:23: error: `network` must be `true`, `false` or a list of TCP ports such as [8080], found a string"#
        ]],
    );
}

#[test]
fn the_design_agent_step_parses_with_its_keys() {
    let text = r#"
[[steps]]
id = "test"
run = "cargo test"
allow_failure = true

[[steps]]
id = "fix"
agent = """Make the failing tests pass.
{{ steps.test.output | tail(200) }}"""
provider = "claude"
tools = ["read_file", "list_files", "search", "edit_file", "write_file", "run_command"]
allow = { run = ["cargo test*", "npm test"], edit = ["src/**", "tests/**"] }
max_turns = 25
token_budget = 200000
"#;
    let parsed = parse_text(text);
    assert_eq!(parsed.diagnostics, vec![]);
    let w = parsed.workflow.unwrap();
    let StepKind::Agent(spec) = &w.steps[1].kind else {
        panic!("not an agent step: {:?}", w.steps[1].kind);
    };
    assert!(spec.task.starts_with("Make the failing tests pass."));
    assert_eq!(spec.provider.as_deref(), Some("claude"));
    assert_eq!(spec.tools.len(), 6);
    assert_eq!(spec.allow.run, ["cargo test*", "npm test"]);
    assert_eq!(spec.allow.edit, ["src/**", "tests/**"]);
    assert_eq!(spec.max_turns, 25);
    assert_eq!(spec.token_budget, Some(200000));
    assert_eq!(w.steps[1].kind.name(), "agent");
}

#[test]
fn an_agent_step_defaults_to_the_read_only_tools_and_25_turns() {
    let parsed = parse_text("[[steps]]\nid = \"a\"\nagent = \"look around\"\n");
    let w = parsed.workflow.unwrap();
    let StepKind::Agent(spec) = &w.steps[0].kind else {
        panic!("not an agent step");
    };
    assert_eq!(spec.tools, ["read_file", "list_files", "search"]);
    assert_eq!(spec.max_turns, 25);
    assert_eq!(spec.token_budget, None);
    assert!(spec.allow.run.is_empty() && spec.allow.edit.is_empty());
    assert_eq!(spec.provider, None);
}

#[test]
fn agent_keys_are_checked() {
    check(
        r#"[[steps]]
id = "a"
agent = "go"
tools = ["read_file", "rm_rf", "serch"]
allow = { run = ["x"], exec = ["y"] }
max_turns = 0
token_budget = -5

[[steps]]
id = "b"
run = "true"
max_turns = 3
"#,
        expect![[r#"
            wf.toml:4:23: error: unknown tool "rm_rf" (the tools: read_file, list_files, search, edit_file, write_file, run_command)
            wf.toml:4:32: error: unknown tool "serch"; did you mean "search"? (the tools: read_file, list_files, search, edit_file, write_file, run_command)
            wf.toml:5:24: error: unknown key `exec` in `allow`; known keys: run, edit
            wf.toml:6:13: error: `max_turns` must be between 1 and 500, found 0
            wf.toml:7:16: error: `token_budget` must be a positive number of tokens, found -5
            wf.toml:12:1: warning: `max_turns` applies only to `agent` steps; it is ignored on a `run` step"#]],
    );
}

#[test]
fn an_acp_agent_step_names_its_agent_and_keeps_allow() {
    let parsed = parse_text(
        r#"
[[steps]]
id = "fix"
agent = "make the tests pass"
acp = "claude-code"
allow = { run = ["cargo test*"], edit = ["src/**"] }
"#,
    );
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let workflow = parsed.workflow.unwrap();
    let StepKind::Agent(spec) = &workflow.steps[0].kind else {
        panic!("an agent step");
    };
    assert_eq!(spec.acp.as_deref(), Some("claude-code"));
    assert_eq!(spec.provider, None);
    assert_eq!(spec.allow.run, ["cargo test*"]);
    assert_eq!(spec.allow.edit, ["src/**"]);
}

#[test]
fn acp_excludes_provider_and_the_native_loop_keys_are_warned_about() {
    check(
        r#"
[[steps]]
id = "fix"
agent = "task"
acp = "codex"
provider = "claude"

[[steps]]
id = "other"
agent = "task"
acp = ""

[[steps]]
id = "third"
agent = "task"
acp = "gemini"
tools = ["read_file"]
max_turns = 3
token_budget = 1000
"#,
        expect![[r#"
            wf.toml:6:12: error: an agent step has either `provider` (agentls's own tool loop) or `acp` (an ACP agent), not both
            wf.toml:11:7: error: empty agent name
            wf.toml:17:1: warning: `tools` does not apply to an ACP agent (`acp`): it brings its own tools and turns; `allow` applies to its permission requests
            wf.toml:18:1: warning: `max_turns` does not apply to an ACP agent (`acp`): it brings its own tools and turns; `allow` applies to its permission requests
            wf.toml:19:1: warning: `token_budget` does not apply to an ACP agent (`acp`): it brings its own tools and turns; `allow` applies to its permission requests"#]],
    );
}

#[test]
fn isolation_key_is_none_or_worktree() {
    use agentls_workflow::Isolation;
    let isolation = |decl: &str| {
        let text = format!("{decl}\n[[steps]]\nid = \"a\"\nrun = \"true\"\n");
        let parsed = parse_text(&text);
        assert_eq!(parsed.diagnostics, vec![], "{decl}");
        parsed.workflow.unwrap().isolation
    };
    assert_eq!(isolation(""), None);
    assert_eq!(isolation(r#"isolation = "none""#), Some(Isolation::None));
    assert_eq!(
        isolation(r#"isolation = "worktree""#),
        Some(Isolation::Worktree)
    );
    check(
        "isolation = \"docker\"\n[[steps]]\nid = \"a\"\nrun = \"true\"\n",
        expect![[r#"wf.toml:1:13: error: `isolation` is "none" or "worktree", not "docker""#]],
    );
}
