//! Running an agent's tool calls with the engine's own parts: the built-in
//! tools of agentls-tools over the run's working tree, the editor for
//! unsaved text and for edits (`workspace/applyEdit` with the version it
//! holds, else the disk), and the exec layer for commands (PTY, timeout,
//! process-group kill, key variables scrubbed, the run's sandbox).

use std::time::{Duration, Instant};

use agentls_chat::{ToolCall, ToolSpec};
use agentls_exec::Termination;
use agentls_tools::{Allow, Invocation, Outcome, ToolError, ToolName, Tools};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Agent, Done};
use crate::editor::EditRequest;
use crate::steps::Failure;

/// The longest a command of an agent may run when it does not say.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The longest it may ask for.
const MAX_COMMAND_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Output of a command kept in memory; the model gets a capped part of it.
const COMMAND_OUTPUT_KEPT: usize = 1024 * 1024;

/// What a call that needs permission would do.
pub(crate) struct Permission {
    pub kind: PermissionKind,
    /// What an "always" approval covers: the exact command line, or the
    /// file's path relative to the working tree.
    pub subject: String,
    /// The exact action, for the person asked: the command line, or the
    /// edit as a diff.
    pub description: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PermissionKind {
    Run,
    Edit,
}

impl PermissionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionKind::Run => "run",
            PermissionKind::Edit => "edit",
        }
    }
}

/// The tools of one agent step.
pub(crate) struct Toolbox<'a> {
    agent: &'a Agent<'a>,
    tools: Tools,
    enabled: Vec<ToolName>,
    allow: Allow,
}

/// How the start of `call` is committed: a call that acts outside the store
/// (a command, an edit) waits for the disk, so even a power loss cannot
/// make agentls start it again unknowingly; a read need not.
pub(crate) fn start_durability(call: &ToolCall) -> agentls_store::Durability {
    match call.name.parse::<ToolName>() {
        Ok(tool) if tool.is_read_only() => agentls_store::Durability::Relaxed,
        _ => agentls_store::Durability::Durable,
    }
}

/// The text of `rel` an agent sees and edits: the editor's when the file is
/// open there (unsaved changes included), else the disk's; `None`: no such
/// file. The native tools and an ACP agent's `fs/*` requests both read so.
pub(crate) async fn current_text(
    editor: &dyn crate::editor::Editor,
    tools: &Tools,
    rel: &str,
) -> Result<Option<String>, ToolError> {
    if let Some(text) = editor.document(rel).await {
        return Ok(Some(text));
    }
    tools.current_text(rel)
}

/// The live view's line for a stored call that ended as `why` says
/// (`run cargo build: rejected (not today)`).
pub(crate) fn summary_of(name: &str, input: &str, why: String) -> String {
    let call = ToolCall {
        id: String::new(),
        name: name.to_string(),
        input: serde_json::from_str(input).unwrap_or_default(),
        signature: None,
    };
    match agentls_tools::parse(&call) {
        Ok(invocation) => agentls_tools::summary(&invocation, &Outcome::Failed(why)),
        Err(_) => format!("{name}: {why}"),
    }
}

/// Whether the call runs a command (started at most twice across crashes).
pub(crate) fn is_command(call: &ToolCall) -> bool {
    call.name == ToolName::RunCommand.as_str()
}

impl<'a> Toolbox<'a> {
    pub fn new(agent: &'a Agent<'a>) -> Result<Self, (Failure, String)> {
        let enabled = agent
            .spec
            .tools
            .iter()
            .filter_map(|name| name.parse().ok())
            .collect();
        let allow = Allow::new(&agent.spec.allow.run, &agent.spec.allow.edit)
            .map_err(|e| (Failure::Invalid, format!("`allow`: {e}")))?;
        let tools = Tools::new(&agent.tree.root).map_err(|e| (Failure::Invalid, e.to_string()))?;
        Ok(Toolbox {
            agent,
            tools,
            enabled,
            allow,
        })
    }

    pub fn specs(&self) -> Vec<ToolSpec> {
        agentls_tools::specs(&self.enabled)
    }

    pub fn allow(&self) -> &Allow {
        &self.allow
    }

    /// What permission the call needs; `None`: none (it reads, or it
    /// cannot work as asked and answers with an error without acting).
    pub async fn permission(&self, call: &ToolCall) -> Option<Permission> {
        match agentls_tools::parse_enabled(call, &self.enabled).ok()? {
            Invocation::RunCommand { command, .. } => Some(Permission {
                kind: PermissionKind::Run,
                description: format!("run `{command}`"),
                subject: command,
            }),
            Invocation::EditFile {
                path,
                old_text,
                new_text,
            } => {
                let current = self.current(&path).await.ok()??;
                let plan = self
                    .tools
                    .plan_edit(&path, &old_text, &new_text, &current)
                    .ok()?;
                Some(Permission {
                    kind: PermissionKind::Edit,
                    description: format!("edit {}:\n{}", plan.path, plan.diff),
                    subject: plan.path,
                })
            }
            Invocation::WriteFile { path, content } => {
                let current = self.current(&path).await.ok()?;
                let plan = self
                    .tools
                    .plan_write(&path, &content, current.as_deref())
                    .ok()?;
                Some(Permission {
                    kind: PermissionKind::Edit,
                    description: format!("write {}:\n{}", plan.path, plan.diff),
                    subject: plan.path,
                })
            }
            Invocation::ReadFile { .. }
            | Invocation::ListFiles { .. }
            | Invocation::Search { .. } => None,
        }
    }

    /// What the call is doing, for the progress (`running cargo test`).
    pub fn activity(&self, call: &ToolCall) -> String {
        match agentls_tools::parse_enabled(call, &self.enabled) {
            Ok(invocation) => agentls_tools::activity(&invocation),
            Err(_) => format!("calling {}", call.name),
        }
    }

    /// Runs the call. `None`: cancelled meanwhile. `again`: the call was
    /// in flight when agentls stopped; an edit that had been applied then
    /// is recognised (its `old_text` gone, its `new_text` there) rather
    /// than reported as not found.
    pub async fn run(
        &self,
        call: &ToolCall,
        again: bool,
        cancel: &CancellationToken,
    ) -> Option<Done> {
        let invocation = match agentls_tools::parse_enabled(call, &self.enabled) {
            Ok(invocation) => invocation,
            Err(error) => {
                return Some(Done {
                    summary: format!("{}: {}", call.name, error.short()),
                    content: error.to_string(),
                    is_error: true,
                })
            }
        };
        let done = match &invocation {
            Invocation::RunCommand { command, timeout } => {
                return self.command(&invocation, command, *timeout, cancel).await
            }
            Invocation::ReadFile { .. }
            | Invocation::ListFiles { .. }
            | Invocation::Search { .. } => {
                let open = match &invocation {
                    Invocation::ReadFile { path, .. } => self.open_text(path).await,
                    _ => None,
                };
                // `look` answers every read-only tool.
                self.tools
                    .look(&invocation, open.as_deref())
                    .unwrap_or_else(|| Err(ToolError::Arguments(call.name.clone())))
                    .map(|done| (done.outcome, done.content))
            }
            Invocation::EditFile {
                path,
                old_text,
                new_text,
            } => match self.current(path).await {
                Ok(Some(current)) => match self.tools.plan_edit(path, old_text, new_text, &current)
                {
                    Ok(plan) => self.apply(plan).await,
                    Err(ToolError::OldTextNotFound { path, .. })
                        if again && !new_text.is_empty() && current.contains(new_text.as_str()) =>
                    {
                        let text = format!(
                            "Edited {path} (the edit had been applied before agentls restarted; \
                             it was not applied twice)."
                        );
                        Ok((
                            Outcome::Changed {
                                added: 0,
                                removed: 0,
                            },
                            text,
                        ))
                    }
                    Err(error) => Err(error),
                },
                Ok(None) => Err(ToolError::NotFound { path: path.clone() }),
                Err(error) => Err(error),
            },
            Invocation::WriteFile { path, content } => match self.current(path).await {
                Ok(current) => match self.tools.plan_write(path, content, current.as_deref()) {
                    Ok(plan) => self.apply(plan).await,
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            },
        };
        Some(match done {
            Ok((outcome, content)) => Done {
                summary: agentls_tools::summary(&invocation, &outcome),
                content,
                is_error: false,
            },
            Err(error) => Done {
                summary: agentls_tools::summary(&invocation, &Outcome::Failed(error.short())),
                content: error.to_string(),
                is_error: true,
            },
        })
    }
}

impl Toolbox<'_> {
    /// The editor's unsaved text of `path` when it is open there.
    async fn open_text(&self, path: &str) -> Option<String> {
        let located = self.tools.locate(path).ok()?;
        self.agent
            .tree
            .editor(self.agent.inner)
            .document(&located.rel)
            .await
    }

    /// The text an edit of `path` starts from: the editor's when the file
    /// is open, else the disk's; `None`: no such file.
    async fn current(&self, path: &str) -> Result<Option<String>, ToolError> {
        let rel = self.tools.check_write(path)?;
        let editor = self.agent.tree.editor(self.agent.inner);
        current_text(editor.as_ref(), &self.tools, &rel).await
    }

    /// Applies a planned edit through the editor (or the disk).
    async fn apply(&self, plan: agentls_tools::Planned) -> Result<(Outcome, String), ToolError> {
        let request = EditRequest::File {
            path: plan.path.clone(),
            text: plan.after.clone(),
        };
        match self
            .agent
            .tree
            .editor(self.agent.inner)
            .apply(request)
            .await
        {
            Ok(_) => Ok((
                Outcome::Changed {
                    added: plan.added,
                    removed: plan.removed,
                },
                plan.result_text(),
            )),
            Err(message) => Err(ToolError::Io {
                op: "edit",
                path: plan.path,
                message,
            }),
        }
    }

    /// Runs a command in the run's working tree with the step's sandbox.
    async fn command(
        &self,
        invocation: &Invocation,
        command: &str,
        timeout: Option<Duration>,
        cancel: &CancellationToken,
    ) -> Option<Done> {
        let agent = self.agent;
        let limit = timeout
            .unwrap_or(DEFAULT_COMMAND_TIMEOUT)
            .min(MAX_COMMAND_TIMEOUT);
        let spec = crate::steps::run::command_spec(
            agent.inner,
            agent.record,
            agent.tree,
            command.to_string(),
            Vec::new(),
            Some(limit),
        );
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let collect = tokio::spawn(async move {
            let mut buffer = agentls_store::OutputBuffer::with_cap(COMMAND_OUTPUT_KEPT);
            while let Some(bytes) = rx.recv().await {
                buffer.push(&bytes);
            }
            buffer.into_text()
        });
        let started = Instant::now();
        let outcome = agentls_exec::run(spec, tx, cancel.clone()).await;
        let elapsed = started.elapsed();
        let text = agentls_exec::strip_ansi(collect.await.unwrap_or_default().as_bytes());
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                let why = format!("cannot start: {error}");
                return Some(Done {
                    summary: agentls_tools::summary(invocation, &Outcome::Failed(why.clone())),
                    content: why,
                    is_error: true,
                });
            }
        };
        let termination = outcome.termination;
        if termination == Termination::Cancelled {
            return None;
        }
        Some(Done {
            summary: agentls_tools::summary(
                invocation,
                &Outcome::Ran {
                    termination,
                    duration: elapsed,
                },
            ),
            content: agentls_tools::format_command_result(
                termination,
                elapsed,
                &text,
                agentls_tools::COMMAND_OUTPUT_CAP,
            ),
            is_error: termination != Termination::Exited(0),
        })
    }
}
