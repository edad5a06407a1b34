//! `agentls run <workflow>`: start a run and follow it to its end.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use agentls_engine::{
    Action, Engine, EngineError, FileInput, Inputs, RunId, RunRecord, RunStatus, SelectionInput,
    StartRequest,
};
use serde_json::Value;

use super::args::RunArgs;
use super::render::{self, Renderer, Target};
use super::workspace::CliWorkspace;
use super::Fail;

/// How to follow a run in the foreground.
pub struct Follow {
    pub json: bool,
    pub renderer: Arc<Renderer>,
    /// Woken when a step starts to wait on a person while its run goes on
    /// (an ACP agent's question).
    asked: Arc<Asked>,
}

impl Follow {
    pub fn new(engine: &Engine, json: bool) -> Self {
        let renderer = Arc::new(render::spawn(if json {
            Target::Stderr
        } else {
            Target::Stdout
        }));
        engine.subscribe(renderer.clone());
        let asked = Arc::new(Asked(tokio::sync::Notify::new()));
        engine.subscribe(asked.clone());
        Self {
            json,
            renderer,
            asked,
        }
    }
}

/// Signals a step that waits on a person (see [`Follow::asked`]).
struct Asked(tokio::sync::Notify);

impl agentls_engine::Subscriber for Asked {
    fn event(&self, event: &agentls_engine::Event) {
        if let agentls_engine::Event::Step {
            status: agentls_engine::StepStatus::Waiting,
            ..
        } = event
        {
            self.0.notify_one();
        }
    }
}

pub async fn run(args: RunArgs) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(args.ws.workspace.as_deref())?;
    let catalog = ws.session.workflows();
    let workflow = match catalog.get(&args.workflow) {
        Some(workflow) => workflow.clone(),
        None => {
            if let Some(problem) = catalog
                .problems
                .iter()
                .find(|p| p.name == args.workflow && p.has_errors())
            {
                return Err(Fail::usage(format!(
                    "workflow `{}` has errors:\n{}",
                    args.workflow,
                    problem.format_cli().join("\n")
                )));
            }
            let known: Vec<&str> = catalog.workflows.keys().map(String::as_str).collect();
            return Err(Fail::usage(format!(
                "no workflow named `{}`; this workspace has: {}",
                args.workflow,
                known.join(", ")
            )));
        }
    };
    let params = parse_params(&args.params)?;
    let inputs = inputs(&ws, args.file.as_deref(), args.range.as_deref())?;
    if let Some(path) = &args.record {
        let tape = agentls_provider::CassetteWriter::create(path)
            .map_err(|e| Fail::usage(format!("--record {}: {e}", path.display())))?;
        ws.session.set_recorder(Some(tape));
    }
    let engine = ws.engine()?;
    let problems = ws.session.provider_problems();
    if !problems.is_empty() {
        if args.trust {
            ws.session.trust_workspace_config().map_err(Fail::usage)?;
        } else {
            eprintln!(
                "agentls: the providers and agents of this workspace's .agentls/config.toml are not used until you approve \
                 it (--trust): {}",
                problems.join("; ")
            );
        }
    }
    let follow = Follow::new(&engine, args.json);
    let request = StartRequest {
        workflow: workflow.clone(),
        params,
        inputs,
    };
    let run = match engine.start(request.clone()) {
        Ok(run) => run,
        Err(EngineError::Untrusted(required)) => {
            if !(args.trust || ask_trust(&required)?) {
                return Err(Fail::usage(format!("{required}")));
            }
            engine.trust(&workflow)?;
            engine.start(request)?
        }
        Err(err) => return Err(err.into()),
    };
    if !args.json {
        println!("run {run} started ({})", workflow.name);
    }
    finish(&engine, &run, &follow).await
}

/// Follows a run already being driven to where it stops, answering
/// approvals on a terminal, then reports it. Returns the exit code.
pub async fn finish(engine: &Engine, run: &RunId, follow: &Follow) -> Result<u8, Fail> {
    let asks = std::io::stdin().is_terminal() && !follow.json;
    let record = loop {
        let record = tokio::select! {
            record = engine.wait(run) => record?,
            _ = interrupted() => {
                eprintln!("agentls: cancelling run {run}…");
                engine.cancel(run).await?
            }
            // A question inside the drive (the run goes on): asked on the
            // terminal too; an answer from elsewhere ends the question.
            _ = follow.asked.0.notified(), if asks => {
                let record = engine.store().run(run).map_err(EngineError::from)?;
                if record.status == RunStatus::Running {
                    follow.renderer.flush();
                    answer_in_drive(engine, run, record).await?;
                }
                continue;
            }
        };
        if record.status == RunStatus::Waiting && asks {
            follow.renderer.flush();
            match ask_approval(&record)? {
                Decision::Approve { always } => engine.approve_with(run, None, None, always)?,
                Decision::Reject(reason) => engine.reject(run, None, reason.as_deref())?,
            }
            continue;
        }
        break record;
    };
    follow.renderer.flush();
    if follow.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&run_json(engine, &record)).unwrap_or_default()
        );
    } else {
        print_next_step(&record);
    }
    Ok(exit_code(record.status))
}

/// Asks the terminal about a step that waits inside its drive, until the
/// question is answered (here or elsewhere) or the run stops.
async fn answer_in_drive(engine: &Engine, run: &RunId, record: RunRecord) -> Result<(), Fail> {
    let waiting = |r: &RunRecord| {
        r.steps
            .iter()
            .any(|s| s.status == agentls_engine::StepStatus::Waiting)
    };
    if !waiting(&record) {
        return Ok(());
    }
    let asked = tokio::task::spawn_blocking(move || ask_approval(&record));
    let decision = tokio::select! {
        decision = asked => decision.map_err(|e| Fail::usage(e.to_string()))??,
        _ = engine.wait(run) => return Ok(()),
    };
    let answered = match decision {
        Decision::Approve { always } => engine.approve_with(run, None, None, always),
        Decision::Reject(reason) => engine.reject(run, None, reason.as_deref()),
    };
    match answered {
        // Answered from the editor or another shell meanwhile.
        Err(EngineError::Answered { .. }) => Ok(()),
        done => Ok(done?),
    }
}

pub fn exit_code(status: RunStatus) -> u8 {
    match status {
        RunStatus::Completed => 0,
        RunStatus::Waiting => 3,
        _ => 1,
    }
}

/// What the run accepts now (docs/architecture.md, "Actions"), as the
/// commands that do it.
fn print_next_step(record: &RunRecord) {
    let id = &record.id;
    // A decision names the failed or waiting step; otherwise the run.
    let step = record
        .steps
        .iter()
        .find(|s| !s.status.actions(record.status).is_empty());
    let (actions, step) = match step {
        Some(s) => (s.status.actions(record.status), s.step_id.as_str()),
        None => (record.status.actions(), "?"),
    };
    let Some(next) = next_commands(&actions, id, step) else {
        return;
    };
    match record.status {
        RunStatus::Failed => {
            eprintln!("agentls: run {id} paused at step `{step}`. Next: {next}")
        }
        RunStatus::Waiting => eprintln!("agentls: run {id} waits for approval: {next}"),
        RunStatus::Interrupted => eprintln!("agentls: run {id} was interrupted: {next}"),
        _ => {}
    }
}

/// The shell commands that apply `actions` to `run` (`step`: the step they
/// name), as one phrase: "`a`", "`a` or `b`", "`a`, `b`, or `c`". `None`
/// when no action has a command (cancel: Ctrl-C stops the run followed).
pub fn next_commands(actions: &[Action], run: &RunId, step: &str) -> Option<String> {
    let commands: Vec<String> = actions
        .iter()
        .filter_map(|action| {
            let name = action.as_str();
            match action {
                Action::Cancel => None,
                Action::Override => Some(format!(
                    "`agentls {name} {run} --step {step} --output-file FILE`"
                )),
                _ => Some(format!("`agentls {name} {run}`")),
            }
        })
        .collect();
    match commands.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [a, b] => Some(format!("{a} or {b}")),
        [rest @ .., last] => Some(format!("{}, or {last}", rest.join(", "))),
    }
}

/// The run with every step's output, for `--json`.
pub fn run_json(engine: &Engine, record: &RunRecord) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Some(steps) = value.get_mut("steps").and_then(Value::as_array_mut) {
        for (step, rec) in steps.iter_mut().zip(&record.steps) {
            let output = engine
                .store()
                .step_output_at(&record.id, rec.idx)
                .unwrap_or_default();
            step["output"] = Value::String(output);
        }
    }
    if let Some(object) = value.as_object_mut() {
        object.remove("workflow_content");
        object.insert(
            "transcript".into(),
            Value::String(engine.transcript_path(&record.id).display().to_string()),
        );
        if let Ok(Some(w)) = engine.worktree(&record.id) {
            object.insert(
                "isolation".into(),
                serde_json::json!({
                    "worktree": w.path,
                    "branch": w.branch,
                    "base": w.base,
                    "state": w.state,
                }),
            );
        }
    }
    value
}

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

fn parse_params(given: &[String]) -> Result<BTreeMap<String, String>, Fail> {
    given
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| Fail::usage(format!("--param {p:?}: expected NAME=VALUE")))
        })
        .collect()
}

fn inputs(
    ws: &CliWorkspace,
    file: Option<&std::path::Path>,
    range: Option<&str>,
) -> Result<Inputs, Fail> {
    let Some(file) = file else {
        return Ok(Inputs::default());
    };
    let path = if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(file)
    };
    let path = path
        .canonicalize()
        .map_err(|e| Fail::usage(format!("--file {}: {e}", file.display())))?;
    let limit = agentls_files::Limit::DOCUMENT.named("--file");
    let text =
        agentls_files::read_to_string(&path, limit).map_err(|e| Fail::usage(e.to_string()))?;
    let language = language_of(&path);
    let selection = match range {
        None => None,
        Some(range) => Some(selection(&text, range)?),
    };
    if !path.starts_with(&ws.root) {
        tracing::warn!(
            "--file {} is outside the workspace {}",
            path.display(),
            ws.root.display()
        );
    }
    Ok(Inputs {
        file: Some(FileInput {
            path,
            text,
            language,
            version: None,
            uri: None,
        }),
        selection,
        diagnostics: Vec::new(),
    })
}

/// `L:C-L:C`, 1-based, columns in characters, end exclusive.
fn selection(text: &str, range: &str) -> Result<SelectionInput, Fail> {
    let bad = || {
        Fail::usage(format!(
            "--range {range:?}: expected LINE:COL-LINE:COL, 1-based"
        ))
    };
    let (start, end) = range.split_once('-').ok_or_else(bad)?;
    let point = |p: &str| -> Result<(usize, usize), Fail> {
        let (l, c) = p.split_once(':').ok_or_else(bad)?;
        let (l, c): (usize, usize) = (
            l.trim().parse().map_err(|_| bad())?,
            c.trim().parse().map_err(|_| bad())?,
        );
        if l == 0 || c == 0 {
            return Err(bad());
        }
        Ok((l - 1, c - 1))
    };
    let ((sl, sc), (el, ec)) = (point(start)?, point(end)?);
    if (el, ec) < (sl, sc) {
        return Err(bad());
    }
    let doc = agentls_text::Document::new(text, 0, "");
    let enc = agentls_text::PositionEncoding::Utf32;
    let at = |l: usize, c: usize| agentls_text::Position::new(l as u32, c as u32);
    let slice = doc.slice(agentls_text::Range::new(at(sl, sc), at(el, ec)), enc);
    Ok(SelectionInput {
        start_line: sl,
        start_col: sc,
        end_line: el,
        end_col: ec,
        text: slice,
    })
}

pub fn language_of(path: &std::path::Path) -> String {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "rs" => "rust",
        "py" => "python",
        "js" | "mjs" | "cjs" => "javascript",
        "ts" | "mts" | "cts" => "typescript",
        "tsx" => "typescriptreact",
        "jsx" => "javascriptreact",
        "go" => "go",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" => "cpp",
        "java" => "java",
        "rb" => "ruby",
        "lua" => "lua",
        "md" => "markdown",
        "toml" => "toml",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "sh" | "bash" => "shellscript",
        other => other,
    }
    .to_string()
}

fn ask_trust(required: &agentls_engine::TrustRequired) -> Result<bool, Fail> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprintln!(
        "Workflow `{}` comes from this workspace ({}). It would:",
        required.workflow, required.path
    );
    for action in &required.actions {
        eprintln!("  - {action}");
    }
    Ok(ask("Trust this exact file content and run it? [y/N] ")?.eq_ignore_ascii_case("y"))
}

enum Decision {
    Approve { always: bool },
    Reject(Option<String>),
}

fn ask_approval(record: &RunRecord) -> Result<Decision, Fail> {
    let step = record
        .steps
        .iter()
        .find(|s| s.status == agentls_engine::StepStatus::Waiting);
    let name = step.map(|s| s.step_id.as_str()).unwrap_or("?");
    let agent = step.is_some_and(|s| s.kind == "agent");
    let question = if agent {
        // The step's note is what the agent wants to do: the command line,
        // or the edit's diff.
        let wants = step
            .and_then(|s| s.error.as_deref())
            .unwrap_or("make a tool call");
        format!(
            "Step `{name}` wants to {wants}\nAllow? [y = once, a = always in this run, N, \
             or a reason to refuse] "
        )
    } else {
        format!("Step `{name}` waits for approval. Approve? [y/N, or a reason to reject] ")
    };
    let answer = ask(&question)?;
    Ok(match answer.as_str() {
        "y" | "Y" | "yes" => Decision::Approve { always: false },
        "a" | "A" | "always" if agent => Decision::Approve { always: true },
        "" | "n" | "N" | "no" => Decision::Reject(None),
        reason => Decision::Reject(Some(reason.to_string())),
    })
}

fn ask(question: &str) -> Result<String, Fail> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Fail::usage(e.to_string()))?;
    Ok(line.trim().to_string())
}
