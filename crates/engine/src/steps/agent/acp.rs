//! `agent` steps with `acp = "NAME"`: an ACP agent process does the work
//! (docs/agents.md). agentls-acp speaks the protocol; this file is the
//! host side, with the engine's own parts:
//! - `fs/read_text_file`: the editor's unsaved text when the file is open,
//!   else the disk; inside the working tree only (agentls-tools' guard:
//!   no `..`, no symlink out, no `.git`);
//! - `fs/write_text_file`: the guarded edit path (`Editor::apply`), for a
//!   path the step's `allow.edit` rules (or a run-wide grant, or the
//!   person's answer to the agent's permission request) cover, else after
//!   a person's answer;
//! - `terminal/*`: the exec layer, as a `run` step's command (PTY, process
//!   group, output limit, key variables scrubbed, the run's sandbox), for a
//!   command line the step's `allow.run` rules (or a grant, or an answer)
//!   cover, else after a person's answer;
//! - `session/request_permission`: the `allow` rules, else a person's
//!   answer, asked while the agent waits (`acp_ask`); "always" is the
//!   agent's allow-always option and a grant for the rest of the run;
//! - `session/update`: the step's live output, and each of the agent's
//!   tool calls as a row in the store (`tool_calls`), as native calls are.
//!
//! The ACP session id is the step's checkpoint: a row of `agent_messages`
//! (which only the native loop reads as a conversation) holding
//! [`Checkpoint`]. When the step runs again (resume after a crash, retry)
//! the agent continues that session with `session/load` if it advertises
//! `loadSession`; otherwise the step runs again from its prompt in a new
//! session, and the live output and transcript say so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use agentls_acp::{
    AgentCommand, BoxFuture, Host, HostError, PermissionAnswer, PermissionAsk, Prompt,
    TerminalExit, TerminalOutput, TerminalRequest, Update,
};
use agentls_exec::CommandSpec;
use agentls_store::{Durability, NewToolCall, RunId, Store, ToolCallStatus};
use agentls_tools::{Allow, Tools};
use tokio::sync::mpsc;

use super::acp_ask::{Asker, Question, Reply, Slot};
use super::acp_terminal::{command_line, Terminals};
use super::act::PermissionKind;
use super::Agent;
use crate::editor::EditRequest;
use crate::engine::Inner;
use crate::steps::{output, Failure, Outcome, Produced};

pub(super) async fn execute(agent: Agent<'_>, name: &str) -> Outcome {
    let (tx, collected) = output::collector(agent.inner, &agent.record.id, agent.step.id.as_str());
    let ended = converse(&agent, name, &tx).await;
    drop(tx);
    let streamed = collected.await.map(|b| b.text()).unwrap_or_default();
    match ended {
        Ok(finished) if finished.cancelled() || agent.cancel.is_cancelled() => Outcome::Cancelled,
        Ok(finished) => Outcome::Done(Produced {
            transcript: Some(streamed),
            note: (finished.stop_reason != "end_turn")
                .then(|| format!("the agent stopped: {}", finished.stop_reason)),
            ..Produced::output(finished.text)
        }),
        Err(_) if agent.cancel.is_cancelled() => Outcome::Cancelled,
        Err((failure, error)) => Outcome::Failed {
            failure,
            error,
            produced: Produced::output(streamed),
        },
    }
}

async fn converse(
    agent: &Agent<'_>,
    name: &str,
    out: &mpsc::Sender<Vec<u8>>,
) -> Result<agentls_acp::Finished, (Failure, String)> {
    let options = agent.inner.options();
    let Some(def) = options.agents.get(name) else {
        let known: Vec<&str> = options.agents.keys().map(String::as_str).collect();
        return Err((
            Failure::Invalid,
            format!(
                "no ACP agent `{name}`: the agents are {}; add `[agents.{name}] command = [...]` \
                 to the config (docs/agents.md)",
                known.join(", ")
            ),
        ));
    };
    let tools = Tools::new(&agent.tree.root).map_err(|e| (Failure::Invalid, e.to_string()))?;
    let allow = Allow::new(&agent.spec.allow.run, &agent.spec.allow.edit)
        .map_err(|e| (Failure::Invalid, format!("`allow`: {e}")))?;
    let store = &agent.inner.store;
    let first_pos = store
        .tool_calls(&agent.record.id, agent.idx)
        .map(|calls| calls.len() as u32)
        .unwrap_or(0);
    let stored = store
        .agent_messages(&agent.record.id, agent.idx)
        .map_err(|e| (Failure::Invalid, e.to_string()))?;
    let resume = stored
        .iter()
        .rev()
        .find_map(|row| serde_json::from_str::<Checkpoint>(&row.message).ok())
        .map(|c| c.acp_session);
    let next_seq = stored.last().map(|row| row.seq + 1).unwrap_or(0);
    let mut env = def.env.clone();
    // Its leftovers are found and ended after a crash of agentls, as a
    // command's are (docs/architecture.md, "Commands die with agentls").
    env.push((
        agentls_exec::PROCESS_ENV_VAR.to_string(),
        agentls_exec::process_tag().to_string(),
    ));
    let base = crate::steps::run::command_spec(
        agent.inner,
        agent.record,
        agent.tree,
        String::new(),
        Vec::new(),
        None,
    );
    let root = tools.root().to_path_buf();
    let sandbox = confine(base.sandbox.clone(), &def.write, &root, out).await?;
    if let Some(sandbox) = &sandbox {
        env.push(("TMPDIR".to_string(), sandbox.tmp().display().to_string()));
    }
    let command = AgentCommand {
        argv: def.command.clone(),
        env,
        remove_env: options
            .secret_vars
            .iter()
            .filter(|v| !def.keys.contains(v))
            .cloned()
            .collect(),
        cwd: root.clone(),
        pre_exec: sandbox
            .as_ref()
            .map(|sandbox| agentls_acp::PreExec(Arc::new(sandbox.pre_exec()))),
    };
    let host = Arc::new(StepHost {
        asker: Asker {
            inner: agent.inner.clone(),
            run: agent.record.id.clone(),
            idx: agent.idx,
            cancel: agent.cancel.clone(),
        },
        terminals: Terminals::new(agent.cancel),
        base,
        editor: agent.tree.editor(agent.inner),
        inner: agent.inner.clone(),
        run: agent.record.id.clone(),
        idx: agent.idx,
        tools,
        allow,
        out: out.clone(),
        state: Mutex::new(State {
            next_pos: first_pos,
            calls: HashMap::new(),
            last: Kind::None,
            approved: Vec::new(),
            made_up: 0,
        }),
    });
    agent.activity(format!("starting the ACP agent `{name}`"));
    let on_session = {
        let (inner, run, idx, name, out) = (
            agent.inner.clone(),
            agent.record.id.clone(),
            agent.idx,
            name.to_string(),
            out.clone(),
        );
        let asked = resume.clone();
        move |session: &str, loaded: bool| {
            let note = match (&asked, loaded) {
                (Some(old), true) => Some(format!(
                    "[continuing the agent's session {old} (session/load)]\n"
                )),
                (Some(old), false) => Some(format!(
                    "[the agent cannot continue its session {old} (it does not offer \
                     session/load): the step runs again from its prompt]\n"
                )),
                (None, _) => None,
            };
            if let Some(note) = note {
                let _ = out.try_send(note.into_bytes());
            }
            if !loaded {
                let checkpoint = serde_json::json!({ "acp_session": session }).to_string();
                let stored = inner.store.write_with(Durability::Relaxed, |tx| {
                    tx.append_agent_message(
                        &run,
                        idx,
                        next_seq,
                        0,
                        &checkpoint,
                        &agentls_store::Usage::default(),
                    )
                });
                if let Err(error) = stored {
                    tracing::warn!("the ACP session of step {idx} is not checkpointed: {error}");
                }
            }
            inner.emit(&crate::event::Event::Activity {
                run,
                index: idx,
                text: format!("{name}: working"),
            });
        }
    };
    let prompt = Prompt {
        text: agent.spec.task.clone(),
        resume,
        resources: resources(agent.record, &agent.inner.root),
    };
    let result = agentls_acp::run(
        &command,
        prompt,
        host.clone(),
        on_session,
        agent.cancel.clone(),
    )
    .await;
    // The agent has ended: its sandbox (the ruleset, its TMPDIR) goes, and
    // whatever it left running goes with it.
    drop(sandbox);
    host.terminals.end.cancel();
    host.end_line().await;
    host.close_calls();
    result.map_err(|error| {
        let failure = match error {
            agentls_acp::AcpError::Spawn { .. } => Failure::Invalid,
            _ => Failure::Model,
        };
        (failure, error.to_string())
    })
}

/// The agent's process in the run's sandbox, with its own paths (its
/// login, sessions) and its network (docs/agents.md, "Sandbox"); `None`
/// when it runs unconfined (said in the live output where a sandbox was
/// wanted), an error when the sandbox is required and cannot be had.
async fn confine(
    run_policy: Option<agentls_exec::SandboxPolicy>,
    write: &[String],
    root: &Path,
    out: &mpsc::Sender<Vec<u8>>,
) -> Result<Option<agentls_exec::ProcessSandbox>, (Failure, String)> {
    let Some((policy, missing)) = crate::steps::agent_sandbox_policy(run_policy, write) else {
        return Ok(None);
    };
    for path in missing {
        let note = format!(
            "[sandbox: {} does not exist, and the agent cannot create it in its sandbox; \
             run the agent once outside agentls (docs/agents.md, \"Sandbox\")]\n",
            path.display()
        );
        let _ = out.send(note.into_bytes()).await;
    }
    match agentls_exec::ProcessSandbox::prepare(&policy, root) {
        Ok(Ok(sandbox)) => Ok(Some(sandbox)),
        Ok(Err(reason)) => {
            let note = format!("[the agent runs unconfined: {reason}]\n");
            let _ = out.send(note.into_bytes()).await;
            Ok(None)
        }
        Err(error) => Err((Failure::Invalid, error.to_string())),
    }
}

/// The run's current file and selection, as the prompt's context.
fn resources(record: &agentls_store::RunRecord, root: &Path) -> Vec<agentls_acp::Resource> {
    let Ok(inputs) = serde_json::from_value::<crate::inputs::Inputs>(record.inputs.clone()) else {
        return Vec::new();
    };
    let Some(file) = inputs.file else {
        return Vec::new();
    };
    let uri = file
        .uri
        .clone()
        .unwrap_or_else(|| format!("file://{}", file.path.display()));
    let name = file
        .path
        .strip_prefix(root)
        .unwrap_or(&file.path)
        .display()
        .to_string();
    let mut resources = vec![agentls_acp::Resource {
        uri: uri.clone(),
        name: name.clone(),
        text: file.text,
    }];
    if let Some(selection) = inputs.selection.filter(|s| !s.text.is_empty()) {
        let (start, end) = (selection.start_line + 1, selection.end_line + 1);
        resources.push(agentls_acp::Resource {
            uri: format!("{uri}#L{start}-L{end}"),
            name: format!("{name}:{start}-{end} (selection)"),
            text: selection.text,
        });
    }
    resources
}

/// The step's checkpoint in `agent_messages`.
#[derive(serde::Deserialize)]
struct Checkpoint {
    acp_session: String,
}

/// What the live output printed last, to start a new line between kinds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    Message,
    Thought,
    Line,
}

struct State {
    /// The store position of the next tool call of the step.
    next_pos: u32,
    /// The agent's tool call id → its position and title.
    calls: HashMap<String, (u32, String)>,
    last: Kind,
    /// What a person allowed once in answer to a permission request: the
    /// write or terminal that carries it out is not asked again.
    approved: Vec<(PermissionKind, String)>,
    /// Numbers the tool call ids agentls makes up for a bare write or
    /// terminal it asks a person about.
    made_up: u32,
}

/// What the policy says of a permission request.
enum Verdict {
    Allowed,
    /// Never, whoever answers: a path outside the workspace or into `.git`.
    Refused(String),
    /// A person decides. `grant`: what "always" allows for the rest of the
    /// run; `approves`: what an approval lets the agent's write or
    /// terminal do without asking again; `description`: the exact action.
    Ask {
        grant: Option<(PermissionKind, String)>,
        approves: Vec<(PermissionKind, String)>,
        description: String,
    },
}

struct StepHost {
    asker: Asker,
    inner: Arc<Inner>,
    run: RunId,
    idx: usize,
    tools: Tools,
    allow: Allow,
    out: mpsc::Sender<Vec<u8>>,
    state: Mutex<State>,
    terminals: Terminals,
    /// A command of this run as the exec layer takes it (working tree,
    /// scrubbed keys, terminal settings, sandbox); each terminal sets its
    /// command line, directory and variables.
    base: CommandSpec,
    /// The editor of the run's working tree: the language client's for the
    /// workspace, the disk for a run's own worktree.
    editor: Arc<dyn crate::editor::Editor>,
}

impl StepHost {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// `path` (absolute, as ACP sends it) relative to the working tree;
    /// refused when outside.
    fn relative(&self, path: &Path) -> Result<String, HostError> {
        let root = self.tools.root();
        let rel = path
            .strip_prefix(root)
            .ok()
            .or_else(|| path.is_relative().then_some(path))
            .ok_or_else(|| {
                HostError::Refused(format!(
                    "{} is outside the workspace ({})",
                    path.display(),
                    root.display()
                ))
            })?;
        let rel = rel.to_string_lossy();
        let located = self
            .tools
            .locate(&rel)
            .map_err(|e| HostError::Refused(e.to_string()))?;
        Ok(located.rel)
    }

    /// Whether an `allow` rule or an earlier "always" covers it (the one
    /// check native tools use too); a store that cannot say means no.
    fn unasked(&self, kind: PermissionKind, subject: &str) -> bool {
        super::policy::runs_unasked(self.store(), &self.run, &self.allow, kind, subject)
            .unwrap_or(false)
    }

    /// A line of the live output, on a line of its own.
    async fn line(&self, text: String) {
        let lead = {
            let mut state = self.state();
            let lead = matches!(state.last, Kind::Message | Kind::Thought);
            state.last = Kind::Line;
            lead
        };
        let text = if lead {
            format!("\n{text}\n")
        } else {
            format!("{text}\n")
        };
        let _ = self.out.send(text.into_bytes()).await;
    }

    async fn end_line(&self) {
        let open = matches!(self.state().last, Kind::Message | Kind::Thought);
        if open {
            let _ = self.out.send(b"\n".to_vec()).await;
        }
    }

    async fn chunk(&self, kind: Kind, text: String) {
        let prefix = {
            let mut state = self.state();
            let switched = state.last != kind;
            let was_open = matches!(state.last, Kind::Message | Kind::Thought);
            state.last = kind;
            match (switched, kind) {
                (true, Kind::Thought) if was_open => "\n[thinking] ",
                (true, Kind::Thought) => "[thinking] ",
                (true, _) if was_open => "\n",
                _ => "",
            }
        };
        let _ = self.out.send(format!("{prefix}{text}").into_bytes()).await;
    }

    /// Records a tool call the agent starts; `false` when it had reported
    /// it already (a second `tool_call` for the same id only renames it).
    fn record_call(&self, id: &str, title: &str, kind: &str) -> bool {
        let pos = {
            let mut state = self.state();
            if let Some(known) = state.calls.get_mut(id) {
                known.1 = title.to_string();
                return false;
            }
            let pos = state.next_pos;
            state.next_pos += 1;
            state.calls.insert(id.to_string(), (pos, title.to_string()));
            pos
        };
        let input = serde_json::json!({ "title": title }).to_string();
        let new = NewToolCall {
            seq: 0,
            pos,
            call_id: id,
            name: kind,
            input: &input,
            ask: None,
        };
        let (run, idx) = (&self.run, self.idx);
        let stored = self.store().write_with(Durability::Relaxed, |tx| {
            tx.add_tool_call(run, idx, &new, ToolCallStatus::Approved)?;
            tx.start_tool_call(run, idx, (0, pos))
        });
        if let Err(error) = stored {
            tracing::warn!("agent tool call {id} not recorded: {error}");
        }
        true
    }

    /// The tool calls the agent never reported ended (a permission it was
    /// given and did not follow with an update): recorded as ended with
    /// the step, so none stays `running`.
    fn close_calls(&self) {
        let open: Vec<String> = match self.store().tool_calls(&self.run, self.idx) {
            Ok(calls) => calls
                .into_iter()
                .filter(|call| call.status == ToolCallStatus::Running)
                .map(|call| call.call_id)
                .collect(),
            Err(_) => return,
        };
        for id in open {
            self.finish_call(&id, "ended with the step");
        }
    }

    fn finish_call(&self, id: &str, status: &str) -> Option<String> {
        let (pos, title) = self.state().calls.get(id).cloned()?;
        let failed = status == "failed";
        let summary = format!("{title}: {status}");
        let (run, idx) = (&self.run, self.idx);
        let stored = self.store().write_with(Durability::Relaxed, |tx| {
            tx.finish_tool_call(
                run,
                idx,
                (0, pos),
                ToolCallStatus::Completed,
                status,
                failed,
                &summary,
            )
        });
        if let Err(error) = stored {
            tracing::warn!("agent tool call {id} not recorded: {error}");
        }
        Some(summary)
    }

    /// What the `allow` rules (and the run's grants) say of a permission
    /// request.
    fn decide(&self, ask: &PermissionAsk) -> Verdict {
        let kind = ask.kind.as_deref().unwrap_or("other");
        match kind {
            // Reading never asks (as for the built-in tools).
            "read" | "search" | "think" => Verdict::Allowed,
            "execute" => {
                let command = command_of(ask);
                if self.unasked(PermissionKind::Run, &command) {
                    return Verdict::Allowed;
                }
                Verdict::Ask {
                    grant: Some((PermissionKind::Run, command.clone())),
                    approves: vec![(PermissionKind::Run, command.clone())],
                    description: format!("run `{command}`"),
                }
            }
            "edit" | "delete" | "move" => {
                let mut files = Vec::new();
                for path in &ask.locations {
                    match self.relative(path) {
                        Ok(rel) => files.push(rel),
                        Err(error) => return Verdict::Refused(error.to_string()),
                    }
                }
                let uncovered: Vec<&String> = files
                    .iter()
                    .filter(|rel| !self.unasked(PermissionKind::Edit, rel))
                    .collect();
                if !files.is_empty() && uncovered.is_empty() {
                    return Verdict::Allowed;
                }
                let description = if files.is_empty() {
                    format!("{} ({kind})", ask.title)
                } else {
                    let names: Vec<&str> = uncovered.iter().map(|rel| rel.as_str()).collect();
                    format!("{kind} {}", names.join(", "))
                };
                Verdict::Ask {
                    grant: match uncovered[..] {
                        [one] => Some((PermissionKind::Edit, one.clone())),
                        _ => None,
                    },
                    approves: files
                        .iter()
                        .map(|rel| (PermissionKind::Edit, rel.clone()))
                        .collect(),
                    description,
                }
            }
            other => Verdict::Ask {
                grant: None,
                approves: Vec::new(),
                description: format!("{} ({other})", ask.title),
            },
        }
    }

    /// Asks a person (see `acp_ask`); the question's row is the agent's
    /// tool call when it reported one under `call_id`. Returns the row's
    /// call id with the answer.
    async fn ask_person(
        &self,
        call_id: Option<&str>,
        kind: &str,
        title: &str,
        grant: Option<(PermissionKind, String)>,
        description: String,
    ) -> (String, Reply) {
        let (slot, call_id) = {
            let mut state = self.state();
            match call_id.and_then(|id| state.calls.get(id).map(|(pos, _)| (*pos, id))) {
                Some((pos, id)) => (Slot::Reported(pos), id.to_string()),
                None => {
                    let id = match call_id {
                        Some(id) => id.to_string(),
                        None => {
                            state.made_up += 1;
                            format!("agentls-ask-{}", state.made_up)
                        }
                    };
                    let pos = state.next_pos;
                    state.next_pos += 1;
                    state.calls.insert(id.clone(), (pos, title.to_string()));
                    (Slot::New(pos), id)
                }
            }
        };
        self.line(format!(
            "⏸ waiting for approval: {description} (agentls approve {run} / agentls reject {run})",
            run = self.run
        ))
        .await;
        let question = Question {
            call_id: call_id.clone(),
            kind: kind.to_string(),
            title: title.to_string(),
            grant,
            description,
        };
        let reply = self.asker.ask(slot, &question).await;
        match &reply {
            Reply::Allow { always: true } => {
                self.line(format!("▸ approved for the rest of the run: {title}"))
                    .await
            }
            Reply::Allow { always: false } => self.line(format!("▸ approved: {title}")).await,
            Reply::Reject { reason } => self.line(format!("⛔ rejected: {title} ({reason})")).await,
            Reply::Cancelled => {}
        }
        (call_id, reply)
    }

    /// Whether a person allowed `subject` once in answer to the agent's
    /// permission request (and uses the approval up).
    fn take_approved(&self, kind: PermissionKind, subject: &str) -> bool {
        let mut state = self.state();
        let found = state
            .approved
            .iter()
            .position(|(k, s)| *k == kind && s == subject);
        found.map(|at| state.approved.remove(at)).is_some()
    }

    /// What a person asked about a write sees: the diff from the file's
    /// current text (the editor's buffer, else the disk).
    async fn write_description(&self, rel: &str, content: &str) -> String {
        let current = super::act::current_text(self.editor.as_ref(), &self.tools, rel)
            .await
            .ok()
            .flatten();
        match self.tools.plan_write(rel, content, current.as_deref()) {
            Ok(plan) => format!("write {rel}:\n{}", plan.diff),
            Err(_) => format!("write {rel}"),
        }
    }

    /// For a write or terminal of the agent: its `allow` rule, a grant or
    /// an earlier approval, else a person's answer (`content`: the text a
    /// write puts in file `subject`). `Ok(Some(id))`: the tool call row
    /// made for the question, to finish; `Err`: why not.
    async fn permit(
        &self,
        kind: PermissionKind,
        subject: &str,
        content: Option<&str>,
    ) -> Result<Option<String>, String> {
        if self.unasked(kind, subject) || self.take_approved(kind, subject) {
            return Ok(None);
        }
        let (name, title, description) = match kind {
            PermissionKind::Edit => (
                "edit",
                format!("Write {subject}"),
                self.write_description(subject, content.unwrap_or_default())
                    .await,
            ),
            PermissionKind::Run => (
                "execute",
                format!("Run {subject}"),
                format!("run `{subject}`"),
            ),
        };
        let grant = Some((kind, subject.to_string()));
        match self
            .ask_person(None, name, &title, grant, description)
            .await
        {
            (id, Reply::Allow { .. }) => Ok(Some(id)),
            (_, Reply::Reject { reason }) => Err(reason),
            (_, Reply::Cancelled) => Err("the step was cancelled".into()),
        }
    }
}

/// The command line of an `execute` request: its raw input's `command`
/// (a string, or an array joined), else its title.
fn command_of(ask: &PermissionAsk) -> String {
    let raw = ask
        .raw_input
        .as_ref()
        .and_then(|input| input.get("command"));
    match raw {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(words)) => words
            .iter()
            .map(|w| {
                w.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| w.to_string())
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => ask.title.clone(),
    }
}

fn lines(text: String, line: Option<u32>, limit: Option<u32>) -> String {
    if line.is_none() && limit.is_none() {
        return text;
    }
    let skip = line.map(|l| l.saturating_sub(1) as usize).unwrap_or(0);
    let take = limit.map(|l| l as usize).unwrap_or(usize::MAX);
    text.split_inclusive('\n').skip(skip).take(take).collect()
}

impl Host for StepHost {
    fn read_text_file(
        self: Arc<Self>,
        path: PathBuf,
        line: Option<u32>,
        limit: Option<u32>,
    ) -> BoxFuture<Result<String, HostError>> {
        let this = self;
        Box::pin(async move {
            let rel = this.relative(&path)?;
            let text = super::act::current_text(this.editor.as_ref(), &this.tools, &rel)
                .await
                .map_err(|e| HostError::Failed(e.to_string()))?
                .ok_or_else(|| HostError::Failed(format!("{rel}: no such file")))?;
            this.line(format!("▸ read {rel}")).await;
            Ok(lines(text, line, limit))
        })
    }

    fn write_text_file(
        self: Arc<Self>,
        path: PathBuf,
        content: String,
    ) -> BoxFuture<Result<(), HostError>> {
        let this = self;
        Box::pin(async move {
            let rel = this.relative(&path)?;
            let rel = this
                .tools
                .check_write(&rel)
                .map_err(|e| HostError::Refused(e.to_string()))?;
            let asked = this
                .permit(PermissionKind::Edit, &rel, Some(&content))
                .await
                .map_err(|why| HostError::Refused(format!("writing {rel} was refused: {why}")))?;
            let request = EditRequest::File {
                path: rel.clone(),
                text: content,
            };
            let written = this.editor.apply(request).await;
            if let Some(id) = asked {
                let status = if written.is_ok() {
                    "completed"
                } else {
                    "failed"
                };
                this.finish_call(&id, status);
            }
            match written {
                Ok(_) => {
                    this.line(format!("▸ wrote {rel}")).await;
                    Ok(())
                }
                Err(message) => Err(HostError::Failed(format!("{rel}: {message}"))),
            }
        })
    }

    fn create_terminal(
        self: Arc<Self>,
        request: TerminalRequest,
    ) -> BoxFuture<Result<String, HostError>> {
        let this = self;
        Box::pin(async move {
            let line = command_line(&request.command, &request.args);
            let asked = this
                .permit(PermissionKind::Run, &line, None)
                .await
                .map_err(|why| {
                    HostError::Refused(format!("running `{line}` was refused: {why}"))
                })?;
            if let Some(id) = asked {
                // The row stands for the question; the terminal's own
                // output and exit are the agent's to read.
                this.finish_call(&id, "completed");
            }
            let mut spec = this.base.clone();
            if let Some(cwd) = &request.cwd {
                let rel = this.relative(cwd)?;
                spec.cwd = this.tools.root().join(rel);
            }
            spec.command = line.clone();
            // A variable the agent sets wins over the scrubbing, as a
            // step's `env` does.
            spec.remove_env
                .retain(|name| !request.env.iter().any(|(k, _)| k == name));
            spec.env.extend(request.env);
            this.line(format!("▸ terminal `{line}`")).await;
            let done = {
                let (out, line) = (this.out.clone(), line.clone());
                move |exit: &TerminalExit| {
                    let how = match (&exit.exit_code, &exit.signal) {
                        (Some(code), _) => format!("exit {code}"),
                        (None, Some(signal)) => format!("killed by {signal}"),
                        _ => "ended".into(),
                    };
                    let _ = out.try_send(format!("▸ terminal `{line}`: {how}\n").into_bytes());
                }
            };
            Ok(this.terminals.start(spec, request.output_byte_limit, done))
        })
    }

    fn terminal_output(
        self: Arc<Self>,
        id: String,
    ) -> BoxFuture<Result<TerminalOutput, HostError>> {
        Box::pin(async move { self.terminals.output(&id) })
    }

    fn wait_for_terminal_exit(
        self: Arc<Self>,
        id: String,
    ) -> BoxFuture<Result<TerminalExit, HostError>> {
        Box::pin(async move { self.terminals.wait(&id).await })
    }

    fn kill_terminal(self: Arc<Self>, id: String) -> BoxFuture<Result<(), HostError>> {
        Box::pin(async move { self.terminals.kill(&id) })
    }

    fn release_terminal(self: Arc<Self>, id: String) -> BoxFuture<Result<(), HostError>> {
        Box::pin(async move { self.terminals.release(&id) })
    }

    fn permission(self: Arc<Self>, ask: PermissionAsk) -> BoxFuture<PermissionAnswer> {
        let this = self;
        Box::pin(async move {
            let (grant, approves, description) = match this.decide(&ask) {
                Verdict::Allowed => {
                    this.line(format!("▸ allowed: {}", ask.title)).await;
                    return PermissionAnswer::Allow { always: false };
                }
                Verdict::Refused(why) => {
                    this.line(format!("⛔ refused: {} ({why})", ask.title))
                        .await;
                    return PermissionAnswer::Reject;
                }
                Verdict::Ask {
                    grant,
                    approves,
                    description,
                } => (grant, approves, description),
            };
            let kind = ask.kind.as_deref().unwrap_or("other");
            let id = Some(ask.tool_call_id.as_str()).filter(|id| !id.is_empty());
            let (_, reply) = this
                .ask_person(id, kind, &ask.title, grant, description)
                .await;
            match reply {
                Reply::Allow { always } => {
                    this.state().approved.extend(approves);
                    PermissionAnswer::Allow { always }
                }
                Reply::Reject { .. } => PermissionAnswer::Reject,
                Reply::Cancelled => PermissionAnswer::Cancelled,
            }
        })
    }

    fn update(self: Arc<Self>, update: Update) -> BoxFuture<()> {
        let this = self;
        Box::pin(async move {
            match update {
                Update::Message(text) => this.chunk(Kind::Message, text).await,
                Update::Thought(text) => this.chunk(Kind::Thought, text).await,
                Update::ToolCall {
                    id,
                    title,
                    kind,
                    status,
                } => {
                    let renamed = this.state().calls.get(&id).map(|known| known.1 != title);
                    if this.record_call(&id, &title, &kind) || renamed == Some(true) {
                        this.line(format!("▸ {title}")).await;
                    }
                    if matches!(status.as_str(), "completed" | "failed") {
                        if let Some(summary) = this.finish_call(&id, &status) {
                            this.line(format!("▸ {summary}")).await;
                        }
                    }
                }
                Update::ToolCallUpdate { id, title, status } => {
                    if let Some(title) = title {
                        if let Some(entry) = this.state().calls.get_mut(&id) {
                            entry.1 = title;
                        }
                    }
                    if let Some(status) =
                        status.filter(|s| matches!(s.as_str(), "completed" | "failed"))
                    {
                        if let Some(summary) = this.finish_call(&id, &status) {
                            this.line(format!("▸ {summary}")).await;
                        }
                    }
                }
                Update::Plan(entries) => {
                    let mut text = String::from("plan:");
                    for (entry, status) in entries {
                        text.push_str(&format!("\n  [{status}] {entry}"));
                    }
                    this.line(text).await;
                }
            }
        })
    }

    fn dropped(&self, what: String) {
        tracing::warn!(target: "agentls::acp", "dropped from the agent: {what}");
        let _ = self
            .out
            .try_send(format!("\n[dropped from the agent: {what}]\n").into_bytes());
    }
}
