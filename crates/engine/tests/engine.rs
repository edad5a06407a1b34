//! The engine end to end: real workflows, real processes, a real SQLite file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentls_engine::{
    Action, Engine, EngineError, EngineOptions, Event, Inputs, RunId, RunStatus, StartRequest,
    StepStatus, Subscriber, Tag,
};
use agentls_workflow::{Source, SourceKind, Workflow};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    engine: Engine,
    events: Arc<Recorder>,
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Subscriber for Recorder {
    fn event(&self, event: &Event) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl Fixture {
    fn new() -> Self {
        Self::with(EngineOptions::default())
    }

    fn with(mut options: EngineOptions) -> Self {
        options.retry_backoff = Duration::from_millis(10);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        let engine = Engine::open(&root, &dir.path().join("state"), options).unwrap();
        let events = Arc::new(Recorder::default());
        engine.subscribe(events.clone());
        Fixture {
            root: root.canonicalize().unwrap(),
            _dir: dir,
            engine,
            events,
        }
    }

    fn workflow(&self, toml: &str) -> Workflow {
        workflow_from(SourceKind::User, None, toml)
    }

    async fn run(&self, toml: &str) -> (RunId, agentls_engine::RunRecord) {
        let run = self.start(self.workflow(toml)).unwrap();
        let record = self.engine.wait(&run).await.unwrap();
        (run, record)
    }

    fn start(&self, workflow: Workflow) -> Result<RunId, EngineError> {
        self.engine.start(StartRequest {
            workflow,
            params: BTreeMap::new(),
            inputs: Inputs::default(),
        })
    }

    fn output(&self, run: &RunId, step: &str) -> String {
        self.engine.store().step_output(run, step).unwrap()
    }
}

fn workflow_from(kind: SourceKind, path: Option<PathBuf>, toml: &str) -> Workflow {
    let parsed = agentls_workflow::parse("wf", Source::new(kind, path, toml));
    parsed
        .workflow
        .unwrap_or_else(|| panic!("bad workflow: {:?}", parsed.diagnostics))
}

fn statuses(record: &agentls_engine::RunRecord) -> Vec<(String, StepStatus)> {
    record
        .steps
        .iter()
        .map(|s| (s.step_id.clone(), s.status))
        .collect()
}

#[tokio::test]
async fn steps_run_in_order_and_later_templates_see_earlier_output() {
    let f = Fixture::new();
    let (run, record) = f
        .run(
            r#"
[[steps]]
id = "a"
run = "printf hello"
[[steps]]
id = "b"
run = "echo got {{ steps.a.output }} code {{ steps.a.exit_code }}"
"#,
        )
        .await;
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(f.output(&run, "b").trim(), "got hello code 0");
}

#[tokio::test]
async fn commands_see_a_terminal_under_the_pty_and_not_with_pipes() {
    let wf = "[[steps]]\nid = \"tty\"\nrun = \"test -t 1\"\n";
    let pty = Fixture::new();
    assert_eq!(pty.run(wf).await.1.status, RunStatus::Completed);
    let pipes = Fixture::with(EngineOptions {
        pty: false,
        ..EngineOptions::default()
    });
    let (_, record) = pipes.run(wf).await;
    assert_eq!(record.status, RunStatus::Failed);
    assert_eq!(record.steps[0].exit_code, Some(1));
}

#[tokio::test]
async fn plain_output_is_the_same_under_pty_and_pipes() {
    let wf = "[[steps]]\nid = \"out\"\nrun = \"printf 'one\\ntwo\\n'; seq 1 2000; echo err >&2\"\n";
    let pty = Fixture::new();
    let pipes = Fixture::with(EngineOptions {
        pty: false,
        ..EngineOptions::default()
    });
    let (a, _) = pty.run(wf).await;
    let (b, _) = pipes.run(wf).await;
    let (a, b) = (pty.output(&a, "out"), pipes.output(&b, "out"));
    assert_eq!(a, b);
    assert!(
        a.starts_with("one\ntwo\n1\n") && a.ends_with("2000\nerr\n"),
        "{a:?}"
    );
}

#[tokio::test]
async fn failed_step_pauses_the_run_and_retry_after_fixing_completes_it() {
    let f = Fixture::new();
    let flag = f.root.join("fixed");
    let wf = format!(
        "[[steps]]\nid = \"check\"\nrun = \"test -e {}\"\n[[steps]]\nid = \"after\"\nrun = \"echo after\"\n",
        flag.display()
    );
    let (run, record) = f.run(&wf).await;
    assert_eq!(record.status, RunStatus::Failed);
    assert_eq!(
        statuses(&record),
        [
            ("check".into(), StepStatus::Failed),
            ("after".into(), StepStatus::Pending)
        ]
    );
    assert!(
        record
            .error
            .as_deref()
            .unwrap()
            .contains("step `check` failed"),
        "{:?}",
        record.error
    );

    std::fs::write(&flag, "").unwrap();
    f.engine.retry(&run, None).unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(record.steps[0].attempt, 2);
    assert_eq!(f.output(&run, "after").trim(), "after");
}

#[tokio::test]
async fn skip_continues_with_the_next_step() {
    let f = Fixture::new();
    let (run, _) = f.run("[[steps]]\nid = \"bad\"\nrun = \"exit 3\"\n[[steps]]\nid = \"next\"\nrun = \"echo next {{ steps.bad.status }}\"\n").await;
    f.engine.skip(&run, Some("bad")).unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(record.steps[0].status, StepStatus::Skipped);
    assert_eq!(f.output(&run, "next").trim(), "next skipped");
}

#[tokio::test]
async fn an_override_is_what_later_templates_see() {
    let f = Fixture::new();
    let (run, _) = f.run("[[steps]]\nid = \"ask\"\nrun = \"exit 1\"\n[[steps]]\nid = \"use\"\nrun = \"echo used {{ steps.ask.output }}\"\n").await;
    f.engine.override_output(&run, "ask", "by-hand").unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(f.output(&run, "ask"), "by-hand");
    assert_eq!(f.output(&run, "use").trim(), "used by-hand");
}

#[tokio::test]
async fn an_override_over_the_output_cap_keeps_the_tail_and_says_truncated() {
    let f = Fixture::with(EngineOptions {
        max_output_bytes: 16,
        ..EngineOptions::default()
    });
    let (run, _) = f
        .run("[[steps]]\nid = \"ask\"\nrun = \"exit 1\"\n[[steps]]\nid = \"use\"\nrun = \"true\"\n")
        .await;
    let given = format!("{}END-OF-IT", "x".repeat(40));
    f.engine.override_output(&run, "ask", &given).unwrap();
    let record = f.engine.wait(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Completed);
    let step = &record.steps[0];
    assert!(step.output_truncated, "{step:?}");
    let note = step.error.as_deref().unwrap_or_default();
    assert!(
        note.contains("truncated: 49 bytes given, only the last 16 kept"),
        "{note}"
    );
    let kept = f.output(&run, "ask");
    assert!(
        kept.starts_with("[agentls: 33 earlier bytes dropped"),
        "{kept}"
    );
    assert!(kept.ends_with("xxxxxxxEND-OF-IT"), "{kept}");
}

#[tokio::test]
async fn retries_run_the_step_again_until_it_passes() {
    let f = Fixture::new();
    let counter = f.root.join("count");
    let wf = format!(
        "[[steps]]\nid = \"flaky\"\nretries = 3\nrun = \"echo x >> {c}; test $(wc -l < {c}) -ge 3\"\n",
        c = counter.display()
    );
    let (_, record) = f.run(&wf).await;
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(record.steps[0].attempt, 3);
    assert_eq!(
        std::fs::read_to_string(&counter).unwrap().lines().count(),
        3
    );
}

#[tokio::test]
async fn allow_failure_continues_and_when_sees_the_exit_code() {
    let f = Fixture::new();
    let (run, record) = f
        .run(
            r#"
[[steps]]
id = "test"
run = "exit 4"
allow_failure = true
[[steps]]
id = "fix"
when = "steps.test.exit_code != 0"
run = "echo fixing {{ steps.test.exit_code }}"
[[steps]]
id = "never"
when = "steps.test.exit_code == 0"
run = "echo never"
"#,
        )
        .await;
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(record.steps[0].exit_code, Some(4));
    assert_eq!(f.output(&run, "fix").trim(), "fixing 4");
    assert_eq!(record.steps[2].status, StepStatus::Skipped);
}

#[tokio::test]
async fn an_undefined_variable_fails_the_step_naming_step_and_variable() {
    let f = Fixture::new();
    // Valid statically; at run time this run has no selection.
    let (_, record) = f
        .run("[[steps]]\nid = \"a\"\nrun = \"echo {{ selection }}\"\n")
        .await;
    assert_eq!(record.status, RunStatus::Failed);
    let error = record.steps[0].error.clone().unwrap();
    assert!(
        error.contains("`a`") && error.contains("selection"),
        "{error}"
    );
}

#[tokio::test]
async fn approve_waits_and_continues_reject_fails() {
    let f = Fixture::new();
    let wf = "[[steps]]\nid = \"ok\"\napprove = \"go on?\"\n[[steps]]\nid = \"after\"\nrun = \"echo done\"\n";
    let (run, record) = f.run(wf).await;
    assert_eq!(record.status, RunStatus::Waiting);
    assert_eq!(record.steps[0].status, StepStatus::Waiting);
    f.engine.approve(&run, None, None).unwrap();
    assert_eq!(
        f.engine.wait(&run).await.unwrap().status,
        RunStatus::Completed
    );

    let (run, _) = f.run(wf).await;
    f.engine.reject(&run, None, Some("not now")).unwrap();
    let record = f.engine.store().run(&run).unwrap();
    assert_eq!(record.status, RunStatus::Failed);
    assert_eq!(record.steps[0].error.as_deref(), Some("rejected: not now"));
    assert_eq!(record.steps[1].status, StepStatus::Pending);
}

#[tokio::test]
async fn prompt_without_provider_fails_clearly() {
    let f = Fixture::new();
    let (_, record) = f.run("[[steps]]\nid = \"ask\"\nprompt = \"hi\"\n").await;
    assert_eq!(record.status, RunStatus::Failed);
    assert!(record.steps[0]
        .error
        .as_deref()
        .unwrap()
        .contains("no provider configured"));
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence.
    unsafe { libc_kill(pid, 0) == 0 }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

async fn wait_gone(pid: i32) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pid_alive(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "process {pid} is still alive"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_file(path: &Path) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn cancel_kills_grandchildren_and_records_cancelled() {
    let f = Fixture::new();
    let pidfile = f.root.join("pid");
    let wf = format!(
        "[[steps]]\nid = \"long\"\nrun = \"sleep 1000 & echo $! > {}; wait\"\n",
        pidfile.display()
    );
    let run = f.start(f.workflow(&wf)).unwrap();
    let pid: i32 = wait_for_file(&pidfile).await.trim().parse().unwrap();
    assert!(pid_alive(pid));
    let record = f.engine.cancel(&run).await.unwrap();
    assert_eq!(record.status, RunStatus::Cancelled);
    assert_eq!(record.steps[0].status, StepStatus::Cancelled);
    wait_gone(pid).await;
}

#[tokio::test]
async fn timeout_kills_grandchildren_and_fails_the_step() {
    let f = Fixture::new();
    let pidfile = f.root.join("pid");
    let wf = format!(
        "[[steps]]\nid = \"long\"\ntimeout = \"500ms\"\nrun = \"sleep 1000 & echo $! > {}; wait\"\n",
        pidfile.display()
    );
    let (_, record) = f.run(&wf).await;
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(record.status, RunStatus::Failed);
    assert!(record.steps[0]
        .error
        .as_deref()
        .unwrap()
        .contains("timed out"));
    wait_gone(pid).await;
}

#[tokio::test]
async fn children_do_not_inherit_provider_keys_unless_passed() {
    let f = Fixture::new();
    let wf = r#"
[[steps]]
id = "scrubbed"
run = "echo key=${SECRET_FOR_TEST:-unset}"
[[steps]]
id = "passed"
run = "echo key=${SECRET_FOR_TEST:-unset}"
env = { SECRET_FOR_TEST = "given" }
"#;
    let mut options = EngineOptions::default();
    options.secret_vars.push("SECRET_FOR_TEST".into());
    let f2 = Fixture::with(options);
    // The variable is not in this process's environment; the engine must
    // still remove it from what it does inherit, and pass it when asked.
    let (run, _) = f2.run(wf).await;
    assert_eq!(f2.output(&run, "scrubbed").trim(), "key=unset");
    assert_eq!(f2.output(&run, "passed").trim(), "key=given");
    drop(f);
}

#[tokio::test]
async fn untrusted_workspace_workflow_does_not_run_commands_until_approved() {
    let f = Fixture::new();
    let path = f.root.join(".agentls/workflows/wf.toml");
    let marker = f.root.join("ran");
    let text = format!(
        "[[steps]]\nid = \"cmd\"\nrun = \"touch {}\"\n",
        marker.display()
    );
    let wf = workflow_from(SourceKind::Workspace, Some(path.clone()), &text);
    let err = f.start(wf.clone()).unwrap_err();
    assert!(
        matches!(&err, EngineError::Untrusted(t) if t.actions[0].contains("touch")),
        "{err}"
    );
    assert!(!marker.exists());

    f.engine.trust(&wf).unwrap();
    let run = f.start(wf).unwrap();
    assert_eq!(
        f.engine.wait(&run).await.unwrap().status,
        RunStatus::Completed
    );
    assert!(marker.exists());

    let changed = workflow_from(
        SourceKind::Workspace,
        Some(path),
        &format!("{text}\n# changed\n"),
    );
    assert!(matches!(f.start(changed), Err(EngineError::Untrusted(_))));
}

#[tokio::test]
async fn events_announce_committed_transitions_in_order() {
    let f = Fixture::new();
    let (run, _) = f.run("[[steps]]\nid = \"a\"\nrun = \"echo hi\"\n").await;
    let events = f.events.0.lock().unwrap().clone();
    let statuses: Vec<String> = events
        .iter()
        .filter(|e| e.run() == &run)
        .filter_map(|e| match e {
            Event::Run { status, .. } => Some(format!("run:{status}")),
            Event::Step { status, step, .. } => Some(format!("{step}:{status}")),
            Event::Output { .. } | Event::Activity { .. } => None,
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "run:queued",
            "run:running",
            "a:running",
            "a:completed",
            "run:completed"
        ]
    );
    let output: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            Event::Output { bytes, .. } => Some(bytes.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(String::from_utf8_lossy(&output).contains("hi"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_runs_in_each_of_two_workspaces_complete_into_their_own_store() {
    let a = Fixture::new();
    let b = Fixture::new();
    let mut runs = Vec::new();
    for i in 0..20 {
        for (name, f) in [("a", &a), ("b", &b)] {
            let wf = f.workflow(&format!(
                "[[steps]]\nid = \"one\"\nrun = \"echo {name}-{i}\"\n[[steps]]\nid = \"two\"\nrun = \"test -t 1 && echo tty-{{{{ steps.one.output | trim }}}}\"\n"
            ));
            runs.push((name, i, f.start(wf).unwrap()));
        }
    }
    for (name, i, run) in runs {
        let f = if name == "a" { &a } else { &b };
        let record = f.engine.wait(&run).await.unwrap();
        assert_eq!(
            record.status,
            RunStatus::Completed,
            "{name}-{i}: {:?}",
            record.error
        );
        assert_eq!(f.output(&run, "two").trim(), format!("tty-{name}-{i}"));
        let other = if name == "a" { &b } else { &a };
        assert!(
            other.engine.store().run(&run).is_err(),
            "run {run} leaked into the other store"
        );
    }
    assert_eq!(a.engine.store().runs(100).unwrap().len(), 20);
    assert_eq!(b.engine.store().runs(100).unwrap().len(), 20);
}

/// Approves the moment it hears that a run waits, as an editor's command
/// would; records what the approval answered.
struct Approver {
    engine: std::sync::OnceLock<Engine>,
    answers: Mutex<Vec<String>>,
}

impl Subscriber for Approver {
    fn event(&self, event: &Event) {
        if let Event::Run {
            run,
            status: RunStatus::Waiting,
            ..
        } = event
        {
            let engine = self.engine.get().expect("set before the run");
            let answer = match engine.approve(run, None, None) {
                Ok(()) => "approved".to_string(),
                Err(err) => err.to_string(),
            };
            self.answers.lock().unwrap().push(answer);
        }
    }
}

#[tokio::test]
async fn a_pause_is_announced_only_once_the_run_is_free_to_act_on() {
    let f = Fixture::new();
    let approver = Arc::new(Approver {
        engine: std::sync::OnceLock::new(),
        answers: Mutex::new(Vec::new()),
    });
    approver.engine.set(f.engine.clone()).ok();
    f.engine.subscribe(approver.clone());
    let run = f
        .start(f.workflow("[[steps]]\nid = \"gate\"\napprove = \"ok?\"\n[[steps]]\nid = \"after\"\nrun = \"echo after\"\n"))
        .unwrap();
    // The first drive ends at the pause; the approval started a second one.
    let record = loop {
        let record = f.engine.wait(&run).await.unwrap();
        if !f.engine.is_active(&run) && record.status != RunStatus::Running {
            break record;
        }
    };
    assert_eq!(approver.answers.lock().unwrap().as_slice(), ["approved"]);
    assert_eq!(record.status, RunStatus::Completed);
}

/// Applies `action` to `run` the way a person would, with defaults.
fn act(engine: &Engine, run: &RunId, action: Action) -> Result<(), EngineError> {
    match action {
        Action::Retry => engine.retry(run, None),
        Action::Skip => engine.skip(run, None),
        Action::Override => engine.override_output(run, "a", "by hand"),
        Action::Approve => engine.approve(run, None, None),
        Action::Reject => engine.reject(run, None, None),
        Action::Resume => engine.resume(run),
        Action::Cancel => unreachable!("cancel accepts every run"),
    }
}

#[tokio::test]
async fn operations_are_refused_exactly_where_the_actions_table_says() {
    let f = Fixture::new();
    let waiting = "[[steps]]\nid = \"a\"\napprove = \"ok?\"\n";
    let failed = "[[steps]]\nid = \"a\"\nrun = \"exit 1\"\n[[steps]]\nid = \"b\"\nrun = \"true\"\n";
    let completed = "[[steps]]\nid = \"a\"\nrun = \"true\"\n";
    for toml in [waiting, failed, completed] {
        let (run, record) = f.run(toml).await;
        for action in Action::ALL {
            if action == Action::Cancel || record.status.actions().contains(&action) {
                continue;
            }
            match act(&f.engine, &run, action) {
                Err(EngineError::WrongState {
                    status,
                    action: refused,
                    expected,
                    ..
                }) => {
                    assert_eq!((status, refused), (record.status, action));
                    assert_eq!(expected, action.expected());
                }
                other => panic!("{action} on a {} run: {other:?}", record.status),
            }
        }
        assert_eq!(f.engine.store().run(&run).unwrap().status, record.status);
    }
    // A step the action does not apply to is refused by name.
    let (run, _) = f.run(failed).await;
    let refused = f.engine.retry(&run, Some("b")).unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!("run {run}: step `b` is pending; retry applies to a failed step")
    );
}

#[tokio::test]
async fn a_drive_tells_its_run_events_with_the_tag_of_the_operation_that_started_it() {
    let f = Fixture::new();
    let workflow = f.workflow(
        "[[steps]]\nid = \"gate\"\napprove = \"ok?\"\n[[steps]]\nid = \"b\"\nrun = \"true\"\n",
    );
    let run = f
        .engine
        .tagged(Some(Tag(1)))
        .start(StartRequest {
            workflow,
            params: BTreeMap::new(),
            inputs: Inputs::default(),
        })
        .unwrap();
    f.engine.wait(&run).await.unwrap();
    f.engine
        .tagged(Some(Tag(2)))
        .approve(&run, None, None)
        .unwrap();
    assert_eq!(
        f.engine.wait(&run).await.unwrap().status,
        RunStatus::Completed
    );
    // A change no drive makes, and an untagged drive: no tag.
    let (again, _) = f.run("[[steps]]\nid = \"gate\"\napprove = \"ok?\"\n").await;
    f.engine.reject(&again, None, None).unwrap();
    f.engine.skip(&again, None).unwrap();
    f.engine.wait(&again).await.unwrap();
    let tags: Vec<(RunId, String, Option<Tag>)> = f
        .events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::Run {
                run, status, tag, ..
            } => Some((run.clone(), status.to_string(), *tag)),
            _ => None,
        })
        .collect();
    let of = |r: &RunId| -> Vec<(String, Option<Tag>)> {
        tags.iter()
            .filter(|(id, ..)| id == r)
            .map(|(_, s, t)| (s.clone(), *t))
            .collect()
    };
    let tagged = |s: &str, t: Option<u64>| (s.to_string(), t.map(Tag));
    assert_eq!(
        of(&run),
        [
            tagged("queued", Some(1)),
            tagged("running", Some(1)),
            tagged("waiting", Some(1)),
            tagged("running", Some(2)),
            tagged("completed", Some(2)),
        ]
    );
    assert_eq!(
        of(&again),
        [
            tagged("queued", None),
            tagged("running", None),
            tagged("waiting", None),
            tagged("failed", None),
            tagged("running", None),
            tagged("completed", None),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_on_a_run_the_store_shows_paused_is_applied_not_refused_as_busy() {
    const GATES: usize = 10;
    const RUNS: usize = 10;
    let f = Fixture::new();
    let gates: String = (0..GATES)
        .map(|i| format!("[[steps]]\nid = \"g{i}\"\napprove = \"ok?\"\n"))
        .collect();
    for _ in 0..RUNS {
        let run = f.start(f.workflow(&gates)).unwrap();
        let engine = f.engine.clone();
        let polled = run.clone();
        // A client of the store: it acts at its first sight of each pause.
        let client = tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            for i in 0..GATES {
                while engine.store().run(&polled).unwrap().steps[i].status != StepStatus::Waiting {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "gate {i} never waited"
                    );
                }
                engine.approve(&polled, Some(&format!("g{i}")), None)?;
            }
            Ok::<_, EngineError>(())
        });
        if let Err(err) = client.await.unwrap() {
            panic!("run {run}: {err}");
        }
        let record = loop {
            let record = f.engine.wait(&run).await.unwrap();
            if !f.engine.is_active(&run) {
                break record;
            }
        };
        assert_eq!(record.status, RunStatus::Completed);
    }
}
