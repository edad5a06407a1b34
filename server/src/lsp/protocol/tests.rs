//! docs/protocol.md and this module say the same: every command's argument
//! fields, every result's fields (nested ones included), and the params of
//! `agent/output` and `agent/state`. A field added on one side only fails
//! here, naming the command and the field.
//!
//! The doc writes shapes as `{runId?, step, steps: [{id, status}]}`: the
//! test reads the names out of that notation; the types give theirs through
//! serde (results: a sample value with every field set; arguments: the
//! field list serde reports for an unknown field).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::*;

const DOC: &str = include_str!("../../../../docs/protocol.md");

/// Every key of `value`, nested ones included.
fn keys(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                into.insert(key.clone());
                // The configuration is documented in configuration.md.
                if key != "config" {
                    keys(value, into);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, into)),
        _ => {}
    }
}

fn result_keys(value: impl Serialize) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    keys(&serde_json::to_value(value).unwrap(), &mut found);
    found
}

/// The names in a doc shape such as `{runId?, steps: [{id, status}]}`.
fn shape_names(shape: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut word = String::new();
    for c in shape.chars().chain([',']) {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            if !word.is_empty() && matches!(c, ',' | '?' | ':' | '}' | ' ') {
                names.insert(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    names
}

/// The fields serde accepts for `T` (from its unknown-field error).
fn arg_names<T: DeserializeOwned + std::fmt::Debug>() -> BTreeSet<String> {
    let err = serde_json::from_value::<T>(json!({"\u{1}": 0})).unwrap_err();
    let text = err.to_string();
    let expected = text
        .split_once("expected one of ")
        .or_else(|| text.split_once("expected "))
        .map_or("", |(_, rest)| rest);
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The cells of the doc's table row whose first cell is `` `name` ``.
fn row(name: &str) -> Vec<&'static str> {
    let start = format!("| `{name}` |");
    let line = DOC
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("docs/protocol.md has no table row for `{name}`"));
    line.trim_matches('|').split(" | ").map(str::trim).collect()
}

/// The first code span of a cell that is a shape (`{...}` or `[{...}]`).
fn shape_in(cell: &str) -> Option<&str> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .find(|span| span.starts_with('{') || span.starts_with("[{"))
}

/// The keys of the JSON example under "### Run state".
fn run_state_doc() -> BTreeSet<String> {
    let section = DOC
        .split_once("### Run state")
        .expect("docs/protocol.md has a Run state section")
        .1;
    let json = section
        .split_once("```json")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("the Run state section has a JSON example")
        .0;
    let mut found = BTreeSet::new();
    keys(
        &serde_json::from_str(json).expect("the example is JSON"),
        &mut found,
    );
    found
}

fn assert_same(what: &str, doc: BTreeSet<String>, code: BTreeSet<String>) {
    let only_doc: Vec<_> = doc.difference(&code).collect();
    let only_code: Vec<_> = code.difference(&doc).collect();
    assert!(
        only_doc.is_empty() && only_code.is_empty(),
        "{what}: docs/protocol.md and lsp/protocol.rs differ: only in the doc {only_doc:?}, \
         only in the code {only_code:?}"
    );
}

fn check_command<C: Command>(sample: C::Result)
where
    C::Args: std::fmt::Debug,
{
    let cells = row(C::NAME);
    let args = shape_in(cells[1]).map(shape_names).unwrap_or_default();
    assert_same(
        &format!("{} arguments", C::NAME),
        args,
        arg_names::<C::Args>(),
    );
    let code = result_keys(sample);
    let doc = match shape_in(cells[2]) {
        Some(shape) => shape_names(shape),
        None => {
            assert!(
                cells[2].contains("run state"),
                "{}: the result cell shows no shape and is no run state",
                C::NAME
            );
            run_state_doc()
        }
    };
    assert_same(&format!("{} result", C::NAME), doc, code);
}

fn run_state() -> RunState {
    RunState {
        run_id: "0k3v9q2m1a7c".into(),
        workflow: "refactor".into(),
        title: Some("Refactor".into()),
        source: agentls_store::WorkflowSource::Builtin,
        status: RunStatus::Failed,
        error: Some("step failed".into()),
        actions: RunStatus::Failed.actions(),
        active: false,
        workspace: "/w".into(),
        transcript: "/t.log".into(),
        created_at: 1,
        updated_at: 2,
        finished_at: None,
        steps: vec![StepState {
            id: "rewrite".into(),
            title: None,
            kind: "prompt".into(),
            status: StepStatus::Failed,
            actions: StepStatus::Failed.actions(RunStatus::Failed),
            attempt: 1,
            exit_code: None,
            error: None,
            output_bytes: 0,
            output_truncated: false,
            started_at: None,
            finished_at: None,
            usage: Usage::default(),
        }],
        isolation: Some(IsolationState {
            worktree: "/s/worktrees/r".into(),
            branch: "agentls/r".into(),
            base: Some("abc".into()),
            state: agentls_engine::WorktreeState::Active,
        }),
    }
}

#[test]
fn every_command_in_the_doc_has_the_fields_of_its_types() {
    check_command::<Workflows>(vec![WorkflowInfo {
        name: "n".into(),
        title: None,
        description: None,
        source: "builtin",
        path: None,
        params: vec![ParamInfo {
            name: "p".into(),
            description: None,
            default: None,
            required: false,
        }],
        applies: Applies {
            code_action: true,
            languages: vec![],
            selection: false,
            diagnostics: false,
        },
    }]);
    check_command::<Run>(RunStarted { run_id: "r".into() });
    check_command::<Status>(StatusResult::One(Box::new(run_state())));
    check_command::<Runs>(vec![RunSummary {
        run_id: "r".into(),
        workflow: "w".into(),
        source: agentls_store::WorkflowSource::User,
        status: RunStatus::Completed,
        error: None,
        actions: vec![],
        workspace: "/w".into(),
        created_at: 1,
        updated_at: 1,
        finished_at: Some(1),
        steps_total: 1,
        steps_done: 1,
    }]);
    check_command::<Output>(OutputResult {
        run_id: "r".into(),
        step: None,
        status: "completed",
        truncated: false,
        text: String::new(),
    });
    check_command::<Cancel>(run_state());
    check_command::<Retry>(run_state());
    check_command::<Skip>(run_state());
    check_command::<Override>(run_state());
    check_command::<Resume>(run_state());
    check_command::<Approve>(run_state());
    check_command::<Reject>(run_state());
    check_command::<Stats>(StatsResult {
        since: None,
        workspaces: vec![WorkspaceStats {
            root: None,
            models: vec![ModelStats {
                provider: "p".into(),
                model: None,
                calls: 0,
                errors: 0,
                input_tokens: 0,
                output_tokens: 0,
                cached_tokens: 0,
                p50_ms: None,
                p95_ms: None,
            }],
        }],
    });
    check_command::<Config>(ConfigResult {
        workspace: None,
        workspace_id: "w".into(),
        config: json!({"providers": {}}),
        files: vec![ConfigFile {
            path: "/c.toml".into(),
            error: None,
        }],
    });
    check_command::<Document>(DocumentResult {
        version: 1,
        text: String::new(),
    });
    check_command::<Diff>(DiffResult {
        run_id: "r".into(),
        files: vec![],
        patch: String::new(),
        uri: None,
    });
    check_command::<Apply>(ApplyResult {
        run_id: "r".into(),
        files: vec![],
    });
    check_command::<Discard>(run_state());
}

#[test]
fn the_doc_lists_every_command_and_no_other() {
    let in_doc: BTreeSet<&str> = DOC
        .lines()
        .filter_map(|l| l.strip_prefix("| `agent."))
        .filter_map(|l| l.split_once('`'))
        .map(|(name, _)| name)
        .collect();
    let in_code: BTreeSet<&str> = COMMANDS
        .iter()
        .map(|c| c.strip_prefix("agent.").unwrap())
        .collect();
    assert_eq!(in_doc, in_code);
}

#[test]
fn run_notifications_in_the_doc_have_the_fields_of_their_types() {
    let output = OutputParams {
        run_id: "r".into(),
        step: "s".into(),
        text: "t".into(),
        seq: 0,
    };
    let cells = row(AgentOutput::METHOD);
    assert_same(
        AgentOutput::METHOD,
        shape_in(cells[1]).map(shape_names).unwrap_or_default(),
        result_keys(output),
    );
    let state = RunEvent {
        run_id: "r".into(),
        workflow: "w".into(),
        title: None,
        status: RunStatus::Waiting,
        error: None,
        actions: RunStatus::Waiting.actions(),
        steps: vec![StepEvent {
            id: "s".into(),
            title: None,
            kind: "approve".into(),
            status: StepStatus::Waiting,
            actions: StepStatus::Waiting.actions(RunStatus::Waiting),
            attempt: 1,
            exit_code: None,
            error: None,
        }],
    };
    let cells = row(AgentState::METHOD);
    assert_same(
        AgentState::METHOD,
        shape_in(cells[1]).map(shape_names).unwrap_or_default(),
        result_keys(state),
    );
}

#[test]
fn the_shape_reader_finds_nested_names_and_the_arg_reader_every_field() {
    assert_eq!(
        shape_names("{runId?, steps: [{id, exitCode}], applies: {codeAction}}"),
        ["applies", "codeAction", "exitCode", "id", "runId", "steps"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        arg_names::<DecisionArgs>(),
        ["always", "reason", "runId", "step", "uri"]
            .map(String::from)
            .into()
    );
}
