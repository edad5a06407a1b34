//! Agent steps through the engine: a scripted model (the providers' wire
//! formats are tested in agentls-provider and end to end through the
//! binary), real tools on a real workspace, real commands, a real SQLite
//! file. What is shown here is the loop's bookkeeping: checkpoints,
//! permissions, budgets, retries.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentls_engine::chat::{Message, ToolCall};
use agentls_engine::{
    Engine, EngineOptions, Inputs, Models, PromptCall, PromptOutcome, RunId, RunRecord, RunStatus,
    StartRequest, StepStatus, ToolCallStatus, TurnCall, TurnOutcome,
};
use agentls_workflow::{Source, SourceKind};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A model that plays a script: its answer depends on how many turns the
/// conversation has had (so a resumed or retried conversation goes on
/// where it was) and may look at what the tools said.
type Turn = Box<dyn Fn(&[Message]) -> TurnOutcome + Send + Sync>;

struct Scripted {
    turns: Vec<Turn>,
    /// Every conversation the model was sent, in order.
    seen: Mutex<Vec<Vec<Message>>>,
}

impl Scripted {
    fn new(turns: Vec<Turn>) -> Arc<Self> {
        Arc::new(Scripted {
            turns,
            seen: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Models for Scripted {
    fn prompt(
        &self,
        _call: PromptCall,
        _output: mpsc::Sender<Vec<u8>>,
        _cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<PromptOutcome, String>> {
        Box::pin(async { Err("not a prompt model".into()) })
    }

    fn command_providers(&self, _names: &[String]) -> Vec<String> {
        Vec::new()
    }

    fn turn(
        &self,
        call: TurnCall,
        output: mpsc::Sender<Vec<u8>>,
        _cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<TurnOutcome, String>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(call.messages.clone());
            let done = call
                .messages
                .iter()
                .filter(|m| matches!(m, Message::Assistant { .. }))
                .count();
            let Some(turn) = self.turns.get(done).or(self.turns.last()) else {
                return Err("the script has no turns".into());
            };
            let answer = turn(&call.messages);
            let _ = output.send(answer.text.clone().into_bytes()).await;
            Ok(answer)
        })
    }
}

fn say(text: &str) -> Turn {
    let text = text.to_string();
    Box::new(move |_| TurnOutcome {
        text: text.clone(),
        ..TurnOutcome::default()
    })
}

fn call(name: &str, input: Value) -> Turn {
    let (name, input) = (name.to_string(), input);
    Box::new(move |messages| TurnOutcome {
        text: String::new(),
        tool_calls: vec![ToolCall {
            id: format!("call_{}", messages.len()),
            name: name.clone(),
            input: input.clone(),
            signature: None,
        }],
        ..TurnOutcome::default()
    })
}

/// The results the model was last told.
fn last_results(messages: &[Message]) -> Vec<(String, bool)> {
    match messages.last() {
        Some(Message::Tool { results }) => results
            .iter()
            .map(|r| (r.content.clone(), r.is_error))
            .collect(),
        _ => Vec::new(),
    }
}

/// `./bump WORD` appends WORD to `side-effects`: a command with a side
/// effect that `allow` rules can match (a shell redirection never matches).
fn bump_script(f: &Fixture) {
    use std::os::unix::fs::PermissionsExt;
    let path = f.root.join("bump");
    std::fs::write(&path, "#!/bin/sh\necho \"$1\" >> side-effects\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    engine: Engine,
    activities: Arc<Activities>,
}

/// What the steps said they were doing, in order.
#[derive(Default)]
struct Activities(Mutex<Vec<String>>);

impl agentls_engine::Subscriber for Activities {
    fn event(&self, event: &agentls_engine::Event) {
        if let agentls_engine::Event::Activity { text, .. } = event {
            self.0.lock().unwrap().push(text.clone());
        }
    }
}

impl Fixture {
    fn new(model: Arc<Scripted>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        let options = EngineOptions {
            retry_backoff: Duration::from_millis(10),
            pty: false,
            ..EngineOptions::default()
        };
        let engine = Engine::open(&root, &dir.path().join("state"), options).unwrap();
        engine.set_models(Some(model));
        let activities = Arc::new(Activities::default());
        engine.subscribe(activities.clone());
        Fixture {
            root: root.canonicalize().unwrap(),
            _dir: dir,
            engine,
            activities,
        }
    }

    async fn run(&self, toml: &str) -> (RunId, RunRecord) {
        let parsed = agentls_workflow::parse("wf", Source::new(SourceKind::User, None, toml));
        let workflow = parsed
            .workflow
            .unwrap_or_else(|| panic!("bad workflow: {:?}", parsed.diagnostics));
        let run = self
            .engine
            .start(StartRequest {
                workflow,
                params: BTreeMap::new(),
                inputs: Inputs::default(),
            })
            .unwrap();
        let record = self.engine.wait(&run).await.unwrap();
        (run, record)
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.join(path)).unwrap_or_default()
    }
}

const ALL_TOOLS: &str =
    r#"tools = ["read_file", "list_files", "search", "edit_file", "write_file", "run_command"]"#;

#[tokio::test]
async fn an_agent_reads_runs_and_edits_then_answers() {
    let model = Scripted::new(vec![
        call("read_file", json!({"path": "src/lib.rs"})),
        call("run_command", json!({"command": "./bump ran"})),
        Box::new(|messages| {
            // The model saw the file and the command's result.
            let told = format!("{messages:?}");
            assert!(told.contains("fn answer() -> u32 { 41 }"), "{told}");
            assert!(told.contains("exit status 0"), "{told}");
            TurnOutcome {
                tool_calls: vec![ToolCall {
                    id: "e".into(),
                    name: "edit_file".into(),
                    input: json!({"path": "src/lib.rs", "old_text": "41", "new_text": "42"}),
                    signature: None,
                }],
                ..TurnOutcome::default()
            }
        }),
        say("Fixed: answer() returns 42."),
    ]);
    let f = Fixture::new(model.clone());
    std::fs::create_dir_all(f.root.join("src")).unwrap();
    std::fs::write(f.root.join("src/lib.rs"), "fn answer() -> u32 { 41 }\n").unwrap();
    bump_script(&f);
    let (run, record) = f
        .run(&format!(
            "[[steps]]\nid = \"fix\"\nagent = \"make answer() return 42\"\n{ALL_TOOLS}\n\
             allow = {{ run = [\"./bump *\"], edit = [\"src/**\"] }}\n\
             [[steps]]\nid = \"after\"\nrun = \"echo said: {{{{ steps.fix.output | shell_quote }}}}\"\n"
        ))
        .await;
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.read("src/lib.rs"), "fn answer() -> u32 { 42 }\n");
    assert_eq!(f.read("side-effects"), "ran\n");
    // Later templates see the final answer.
    let after = f.engine.store().step_output(&run, "after").unwrap();
    assert!(
        after.contains("said: Fixed: answer() returns 42."),
        "{after}"
    );
    // Every message and every call is in the store.
    let messages = f.engine.store().agent_messages(&run, 0).unwrap();
    assert_eq!(messages.len(), 8, "task + 4 turns + 3 tool results");
    let calls = f.engine.store().tool_calls(&run, 0).unwrap();
    let names: Vec<_> = calls
        .iter()
        .map(|c| (c.name.as_str(), c.status, c.starts))
        .collect();
    assert_eq!(
        names,
        [
            ("read_file", ToolCallStatus::Completed, 1),
            ("run_command", ToolCallStatus::Completed, 1),
            ("edit_file", ToolCallStatus::Completed, 1)
        ]
    );
    // The progress says which turn it is and what runs.
    let activities = f.activities.0.lock().unwrap().clone();
    assert_eq!(
        activities,
        [
            "turn 1/25: thinking",
            "turn 1/25: reading src/lib.rs",
            "turn 2/25: thinking",
            "turn 2/25: running ./bump ran",
            "turn 3/25: thinking",
            "turn 3/25: editing src/lib.rs",
            "turn 4/25: thinking"
        ]
    );
    let summaries: Vec<_> = calls.iter().filter_map(|c| c.summary.clone()).collect();
    assert!(summaries[0].starts_with("read src/lib.rs"), "{summaries:?}");
    assert!(
        summaries[1].starts_with("run ./bump ran (exit 0"),
        "{summaries:?}"
    );
    assert!(
        summaries[2].starts_with("edit src/lib.rs +1 −1"),
        "{summaries:?}"
    );
}

#[tokio::test]
async fn a_command_outside_allow_waits_and_runs_once_approved() {
    let model = Scripted::new(vec![
        call("run_command", json!({"command": "echo x >> side-effects"})),
        say("done"),
    ]);
    let f = Fixture::new(model.clone());
    let wf = format!("[[steps]]\nid = \"a\"\nagent = \"go\"\n{ALL_TOOLS}\n");
    let (run, record) = f.run(&wf).await;
    assert_eq!(record.status, RunStatus::Waiting);
    assert_eq!(record.steps[0].status, StepStatus::Waiting);
    assert_eq!(
        record.steps[0].error.as_deref(),
        Some("run `echo x >> side-effects`"),
        "the step says exactly what waits"
    );
    assert_eq!(
        f.read("side-effects"),
        "",
        "nothing ran before the approval"
    );
    f.engine.approve(&run, None, None).unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.read("side-effects"), "x\n");
    assert_eq!(f.engine.store().step_output(&run, "a").unwrap(), "done");
}

#[tokio::test]
async fn a_rejection_reason_goes_to_the_model_which_answers_differently() {
    let model = Scripted::new(vec![
        call("run_command", json!({"command": "rm -rf build"})),
        Box::new(|messages| {
            let results = last_results(messages);
            let text = match results.as_slice() {
                [(content, true)] if content.contains("keep the build") => {
                    "I left build/ alone, as you asked."
                }
                other => panic!("the model was not told the reason: {other:?}"),
            };
            TurnOutcome {
                text: text.into(),
                ..TurnOutcome::default()
            }
        }),
    ]);
    let f = Fixture::new(model);
    std::fs::create_dir_all(f.root.join("build")).unwrap();
    let wf = format!("[[steps]]\nid = \"a\"\nagent = \"clean\"\n{ALL_TOOLS}\n");
    let (run, record) = f.run(&wf).await;
    assert_eq!(record.status, RunStatus::Waiting);
    f.engine
        .reject(&run, None, Some("keep the build, it is slow to make"))
        .unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert!(
        f.root.join("build").exists(),
        "the rejected command never ran"
    );
    assert_eq!(
        f.engine.store().step_output(&run, "a").unwrap(),
        "I left build/ alone, as you asked."
    );
    let calls = f.engine.store().tool_calls(&run, 0).unwrap();
    assert_eq!(calls[0].status, ToolCallStatus::Rejected);
    assert_eq!(calls[0].starts, 0);
}

#[tokio::test]
async fn always_allows_the_same_command_for_the_rest_of_the_run_only() {
    let model = Scripted::new(vec![
        call("run_command", json!({"command": "echo x >> side-effects"})),
        call("run_command", json!({"command": "echo x >> side-effects"})),
        call("run_command", json!({"command": "echo y >> side-effects"})),
        say("done"),
    ]);
    let f = Fixture::new(model);
    let wf = format!("[[steps]]\nid = \"a\"\nagent = \"go\"\n{ALL_TOOLS}\n");
    let (run, _) = f.run(&wf).await;
    f.engine.approve_with(&run, None, None, true).unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    // The same command line ran again without asking; another one asks.
    assert_eq!(record.status, RunStatus::Waiting, "{record:?}");
    assert_eq!(
        record.steps[0].error.as_deref(),
        Some("run `echo y >> side-effects`")
    );
    assert_eq!(f.read("side-effects"), "x\nx\n");
    // A new run asks again.
    let (other, record) = f.run(&wf).await;
    assert_ne!(other, run);
    assert_eq!(record.status, RunStatus::Waiting);
}

#[tokio::test]
async fn max_turns_stops_a_model_that_never_answers_and_retry_goes_on_from_there() {
    let model = Scripted::new(vec![call("list_files", json!({}))]);
    let f = Fixture::new(model.clone());
    let wf = "[[steps]]\nid = \"a\"\nagent = \"loop\"\nmax_turns = 3\nretries = 2\n";
    let (run, record) = f.run(wf).await;
    assert_eq!(record.status, RunStatus::Failed);
    let error = record.steps[0].error.clone().unwrap_or_default();
    assert!(error.contains("3 turns (`max_turns`)"), "{error}");
    // A limit is not retried by itself, whatever `retries` says.
    assert_eq!(model.calls(), 3);
    assert_eq!(record.steps[0].attempt, 1);
    f.engine.retry(&run, None).unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Failed);
    // The retry continued the conversation with a fresh budget: three more
    // turns, the first of which saw the three before.
    assert_eq!(model.calls(), 6);
    let seen = model.seen.lock().unwrap();
    let turns_seen = seen[3]
        .iter()
        .filter(|m| matches!(m, Message::Assistant { .. }))
        .count();
    assert_eq!(
        turns_seen, 3,
        "the retry starts from the last turn, not over"
    );
}

#[tokio::test]
async fn a_token_budget_stops_the_loop() {
    let model = Scripted::new(vec![Box::new(|messages: &[Message]| TurnOutcome {
        tool_calls: vec![ToolCall {
            id: format!("c{}", messages.len()),
            name: "list_files".into(),
            input: json!({}),
            signature: None,
        }],
        usage: agentls_engine::Usage {
            input_tokens: Some(600),
            output_tokens: Some(100),
            ..Default::default()
        },
        ..TurnOutcome::default()
    })]);
    let f = Fixture::new(model.clone());
    let (_, record) = f
        .run("[[steps]]\nid = \"a\"\nagent = \"loop\"\ntoken_budget = 2000\n")
        .await;
    assert_eq!(record.status, RunStatus::Failed);
    let error = record.steps[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("2100 tokens") && error.contains("`token_budget` of 2000"),
        "{error}"
    );
    assert_eq!(model.calls(), 3);
}

#[tokio::test]
async fn refused_paths_and_unknown_tools_are_results_the_model_sees() {
    let model = Scripted::new(vec![
        call("read_file", json!({"path": "../outside"})),
        call("write_file", json!({"path": ".git/config", "content": "x"})),
        call("run_command", json!({"command": "true"})),
        Box::new(|messages| {
            let told = format!("{messages:?}");
            assert!(told.contains("outside the workspace"), "{told}");
            assert!(told.contains(".git"), "{told}");
            assert!(
                told.contains("unknown tool") || told.contains("run_command"),
                "{told}"
            );
            TurnOutcome {
                text: "cannot".into(),
                ..TurnOutcome::default()
            }
        }),
    ]);
    let f = Fixture::new(model);
    std::fs::create_dir_all(f.root.join(".git")).unwrap();
    // Only the read-only tools (the default): write_file and run_command
    // are not this step's tools.
    let (run, record) = f.run("[[steps]]\nid = \"a\"\nagent = \"go\"\n").await;
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert!(!f.root.join(".git/config").exists());
    let calls = f.engine.store().tool_calls(&run, 0).unwrap();
    assert!(calls.iter().all(|c| c.is_error), "{calls:?}");
}

#[test]
fn a_workspace_agent_that_may_act_needs_trust_with_its_allow_rules_and_one_that_reads_does_not() {
    let parse = |toml: &str| {
        agentls_workflow::parse("wf", Source::new(SourceKind::Workspace, None, toml))
            .workflow
            .unwrap()
    };
    let reading = parse("[[steps]]\nid = \"a\"\nagent = \"look\"\n");
    assert_eq!(
        agentls_engine::untrusted_actions(&reading, None),
        Vec::<String>::new()
    );
    let acting = parse(&format!(
        "[[steps]]\nid = \"a\"\nagent = \"fix\"\n{ALL_TOOLS}\n\
         allow = {{ run = [\"cargo test*\"], edit = [\"src/**\"] }}\n"
    ));
    assert_eq!(
        agentls_engine::untrusted_actions(&acting, None),
        [
            "let a model call edit_file, write_file, run_command (asking you first unless `allow` says so; step `a`)",
            "let it run commands matching `cargo test*` without asking (step `a`)",
            "let it edit files matching `src/**` without asking (step `a`)",
        ]
    );
}
