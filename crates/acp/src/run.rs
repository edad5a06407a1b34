//! One prompt turn with an agent: spawn, `initialize`, `session/new` (or
//! `session/load`), `session/prompt` until its stop reason, then the
//! process group ends.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema::{
    CancelNotification, ClientCapabilities, ContentBlock, FileSystemCapabilities, Implementation,
    InitializeRequest, LoadSessionRequest, NewSessionRequest, PermissionOptionKind, PromptRequest,
    ReadTextFileRequest, ReadTextFileResponse, RequestPermissionOutcome, RequestPermissionRequest,
    RequestPermissionResponse, SelectedPermissionOutcome, SessionNotification, SessionUpdate,
    StopReason, TextContent, WriteTextFileRequest, WriteTextFileResponse,
};
use agent_client_protocol::v1::schema::{
    CreateTerminalRequest, CreateTerminalResponse, KillTerminalRequest, KillTerminalResponse,
    ReleaseTerminalRequest, ReleaseTerminalResponse, TerminalExitStatus, TerminalOutputRequest,
    TerminalOutputResponse, WaitForTerminalExitRequest, WaitForTerminalExitResponse,
};
use agent_client_protocol::v1::schema::{
    EmbeddedResource, EmbeddedResourceResource, ResourceLink, TextResourceContents,
};
use agent_client_protocol::{Client, Lines};
use tokio_util::sync::CancellationToken;

use crate::host::{
    Host, HostError, PermissionAnswer, PermissionAsk, TerminalExit, TerminalRequest, Update,
};
use crate::process::{kill_group, AgentCommand, Spawned};
use crate::session::{lock, Answer, Known};
use crate::transport;

/// How long a cancelled agent has to end its turn before its process
/// group is killed; also how long an agent has to exit after its turn.
pub const GRACE: Duration = Duration::from_secs(2);

/// What to send.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub text: String,
    /// A session to continue (`session/load`) when the agent can; else a
    /// new session is opened and the prompt sent again from the start.
    pub resume: Option<String>,
    /// Context sent with the text (the current file, the selection):
    /// embedded when the agent takes embedded context, else as links.
    pub resources: Vec<Resource>,
}

/// A text the prompt carries as context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub uri: String,
    /// What a link to it is called (`src/lib.rs`).
    pub name: String,
    pub text: String,
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub session_id: String,
    /// `end_turn`, `max_tokens`, `max_turn_requests`, `refusal`,
    /// `cancelled`.
    pub stop_reason: String,
    /// The agent's message chunks joined.
    pub text: String,
    /// The session was continued with `session/load`.
    pub loaded: bool,
}

impl Finished {
    pub fn cancelled(&self) -> bool {
        self.stop_reason == "cancelled"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AcpError {
    #[error("cannot start the agent `{program}`: {error}")]
    Spawn {
        program: String,
        error: std::io::Error,
    },
    #[error("the agent {status}{}", stderr_tail(.stderr))]
    Died { status: String, stderr: Vec<String> },
    #[error("the agent broke the protocol: {message}{}", stderr_tail(.stderr))]
    Protocol {
        message: String,
        stderr: Vec<String>,
    },
    #[error("the agent did not end its turn within {GRACE:?} of `session/cancel`; its processes were killed")]
    CancelIgnored,
}

fn stderr_tail(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("; its last stderr lines:\n{}", lines.join("\n"))
    }
}

/// Runs one prompt turn. `cancel`: sends `session/cancel`, waits [`GRACE`]
/// for the agent to end its turn, then kills its process group.
pub async fn run(
    command: &AgentCommand,
    prompt: Prompt,
    host: Arc<dyn Host>,
    on_session: impl FnOnce(&str, bool) + Send,
    cancel: CancellationToken,
) -> Result<Finished, AcpError> {
    let program = command.argv.first().cloned().unwrap_or_default();
    let Spawned { mut child, stderr } = command
        .spawn()
        .map_err(|error| AcpError::Spawn { program, error })?;
    let pid = child.id();
    // However this future ends, dropped included (a step timeout), the
    // agent's whole group goes: `kill_on_drop` reaches the agent alone,
    // not what it started.
    let _group = GroupGuard(pid);
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        kill_group(pid, libc::SIGKILL);
        return Err(AcpError::Protocol {
            message: "no pipes to the agent".into(),
            stderr: Vec::new(),
        });
    };
    let transport = Lines::new(
        transport::outgoing(stdin),
        transport::incoming(stdout, host.clone()),
    );
    let answer = Arc::new(Mutex::new(Answer::default()));
    let known = Arc::new(Mutex::new(Known::default()));
    // While `session/load` replays the old conversation, its updates are
    // not this turn's answer.
    let replaying = Arc::new(AtomicBool::new(false));
    let cancel_ignored = Arc::new(AtomicBool::new(false));
    let cwd = command.cwd.clone();

    let connection = {
        let (h_update, h_read, h_write, h_perm) =
            (host.clone(), host.clone(), host.clone(), host.clone());
        let (h_create, h_output, h_wait, h_kill, h_release) = (
            host.clone(),
            host.clone(),
            host.clone(),
            host.clone(),
            host.clone(),
        );
        let (answer, replaying_n, replaying) = (answer.clone(), replaying.clone(), replaying);
        let (known_n, known_p) = (known.clone(), known);
        let (cancel, cancel_ignored) = (cancel.clone(), cancel_ignored.clone());
        Client
            .v1()
            .name("agentls")
            .on_receive_notification(
                async move |notification: SessionNotification, _cx| {
                    lock(&known_n).learn(&notification.update);
                    let Some(update) = plain_update(notification.update) else {
                        return Ok(());
                    };
                    if replaying_n.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    lock(&answer).take(&update);
                    h_update.clone().update(update).await;
                    Ok(())
                },
                agent_client_protocol::on_receive_notification!(),
            )
            .on_receive_request(
                async move |request: ReadTextFileRequest, responder, _cx| match h_read
                    .clone()
                    .read_text_file(request.path, request.line, request.limit)
                    .await
                {
                    Ok(text) => responder.respond(ReadTextFileResponse::new(text)),
                    Err(error) => responder.respond_with_error(rpc_error(error)),
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: WriteTextFileRequest, responder, _cx| match h_write
                    .clone()
                    .write_text_file(request.path, request.content)
                    .await
                {
                    Ok(()) => responder.respond(WriteTextFileResponse::new()),
                    Err(error) => responder.respond_with_error(rpc_error(error)),
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: RequestPermissionRequest, responder, cx| {
                    // A person may take minutes to answer: the message loop
                    // goes on meanwhile (updates, cancel, other requests).
                    let ask = lock(&known_p).complete(permission_ask(&request));
                    let answer = h_perm.clone().permission(ask);
                    cx.spawn(async move {
                        let answer = answer.await;
                        responder.respond(RequestPermissionResponse::new(outcome(&request, answer)))
                    })
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: CreateTerminalRequest, responder, _cx| {
                    let request = TerminalRequest {
                        command: request.command,
                        args: request.args,
                        env: request.env.into_iter().map(|v| (v.name, v.value)).collect(),
                        cwd: request.cwd,
                        output_byte_limit: request.output_byte_limit,
                    };
                    match h_create.clone().create_terminal(request).await {
                        Ok(id) => responder.respond(CreateTerminalResponse::new(id)),
                        Err(error) => responder.respond_with_error(rpc_error(error)),
                    }
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: TerminalOutputRequest, responder, _cx| {
                    let id = request.terminal_id.to_string();
                    match h_output.clone().terminal_output(id).await {
                        Ok(output) => responder.respond(
                            TerminalOutputResponse::new(output.output, output.truncated)
                                .exit_status(output.exit.map(exit_status)),
                        ),
                        Err(error) => responder.respond_with_error(rpc_error(error)),
                    }
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: WaitForTerminalExitRequest, responder, cx| {
                    // Waiting must not hold the message loop.
                    let wait = h_wait
                        .clone()
                        .wait_for_terminal_exit(request.terminal_id.to_string());
                    cx.spawn(async move {
                        match wait.await {
                            Ok(exit) => responder
                                .respond(WaitForTerminalExitResponse::new(exit_status(exit))),
                            Err(error) => responder.respond_with_error(rpc_error(error)),
                        }
                    })
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: KillTerminalRequest, responder, _cx| {
                    let id = request.terminal_id.to_string();
                    match h_kill.clone().kill_terminal(id).await {
                        Ok(()) => responder.respond(KillTerminalResponse::new()),
                        Err(error) => responder.respond_with_error(rpc_error(error)),
                    }
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: ReleaseTerminalRequest, responder, _cx| {
                    let id = request.terminal_id.to_string();
                    match h_release.clone().release_terminal(id).await {
                        Ok(()) => responder.respond(ReleaseTerminalResponse::new()),
                        Err(error) => responder.respond_with_error(rpc_error(error)),
                    }
                },
                agent_client_protocol::on_receive_request!(),
            )
            .connect_with(transport, async move |cx| {
                let capabilities = ClientCapabilities::new()
                    .fs(FileSystemCapabilities::new()
                        .read_text_file(true)
                        .write_text_file(true))
                    .terminal(true);
                let init = cx
                    .send_request(
                        InitializeRequest::new(ProtocolVersion::V1)
                            .client_capabilities(capabilities)
                            .client_info(Implementation::new("agentls", env!("CARGO_PKG_VERSION"))),
                    )
                    .block_task()
                    .await?;
                let (session_id, loaded) = match prompt.resume {
                    Some(id) if init.agent_capabilities.load_session => {
                        replaying.store(true, Ordering::Relaxed);
                        let loaded = cx
                            .send_request(LoadSessionRequest::new(id.clone(), cwd.clone()))
                            .block_task()
                            .await;
                        replaying.store(false, Ordering::Relaxed);
                        loaded?;
                        (id, true)
                    }
                    _ => {
                        let created = cx
                            .send_request(NewSessionRequest::new(cwd.clone()))
                            .block_task()
                            .await?;
                        (created.session_id.to_string(), false)
                    }
                };
                on_session(&session_id, loaded);
                let embed = init.agent_capabilities.prompt_capabilities.embedded_context;
                let mut blocks = vec![ContentBlock::Text(TextContent::new(prompt.text))];
                for resource in prompt.resources {
                    blocks.push(if embed {
                        ContentBlock::Resource(EmbeddedResource::new(
                            EmbeddedResourceResource::TextResourceContents(
                                TextResourceContents::new(resource.text, resource.uri),
                            ),
                        ))
                    } else {
                        ContentBlock::ResourceLink(ResourceLink::new(resource.name, resource.uri))
                    });
                }
                let turn = cx
                    .send_request(PromptRequest::new(session_id.clone(), blocks))
                    .block_task();
                tokio::pin!(turn);
                let response = tokio::select! {
                    response = &mut turn => response?,
                    _ = cancel.cancelled() => {
                        cx.send_notification(CancelNotification::new(session_id.clone()))?;
                        match tokio::time::timeout(GRACE, &mut turn).await {
                            Ok(response) => response?,
                            Err(_) => {
                                cancel_ignored.store(true, Ordering::Relaxed);
                                return Err(agent_client_protocol::Error::request_cancelled());
                            }
                        }
                    }
                };
                Ok((session_id, stop_reason(response.stop_reason), loaded))
            })
    };

    let tail = |stderr: &Arc<Mutex<std::collections::VecDeque<String>>>| -> Vec<String> {
        stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    };
    let ended = tokio::select! {
        ended = connection => Ok(ended),
        status = child.wait() => Err(status),
    };
    let result = match ended {
        Ok(Ok((session_id, stop_reason, loaded))) => {
            let text = std::mem::take(&mut *lock(&answer)).into_text();
            Ok(Finished {
                session_id,
                stop_reason,
                text,
                loaded,
            })
        }
        Ok(Err(_)) if cancel_ignored.load(Ordering::Relaxed) => Err(AcpError::CancelIgnored),
        Ok(Err(error)) => {
            // The connection failed: if the process died, say how.
            match tokio::time::timeout(Duration::from_millis(200), child.wait()).await {
                Ok(Ok(status)) => Err(AcpError::Died {
                    status: describe(status),
                    stderr: tail(&stderr),
                }),
                _ => Err(AcpError::Protocol {
                    message: error.to_string(),
                    stderr: tail(&stderr),
                }),
            }
        }
        Err(status) => {
            // Its stderr may still be arriving.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(AcpError::Died {
                status: status
                    .map(describe)
                    .unwrap_or_else(|e| format!("could not be waited for: {e}")),
                stderr: tail(&stderr),
            })
        }
    };
    // The turn is over: the agent and everything it started go.
    kill_group(pid, libc::SIGTERM);
    if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
        kill_group(pid, libc::SIGKILL);
        let _ = child.wait().await;
    }
    result
}

struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0, libc::SIGKILL);
    }
}

fn exit_status(exit: TerminalExit) -> TerminalExitStatus {
    TerminalExitStatus::new()
        .exit_code(exit.exit_code)
        .signal(exit.signal)
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code} during its turn"),
        (None, Some(signal)) => format!("was killed by signal {signal} during its turn"),
        _ => format!("ended during its turn ({status})"),
    }
}

fn rpc_error(error: HostError) -> agent_client_protocol::Error {
    match error {
        HostError::Refused(message) => {
            agent_client_protocol::Error::invalid_params().data(serde_json::Value::String(message))
        }
        HostError::Failed(message) => {
            agent_client_protocol::Error::internal_error().data(serde_json::Value::String(message))
        }
    }
}

/// A wire enum's name as the protocol spells it (`end_turn`, `execute`).
pub(crate) fn wire_name(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "unknown".into(),
    }
}

fn stop_reason(reason: StopReason) -> String {
    wire_name(reason)
}

fn text_of(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        other => format!("[{}]", wire_kind(other)),
    }
}

fn wire_kind(block: &ContentBlock) -> String {
    match serde_json::to_value(block) {
        Ok(value) => value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("content")
            .to_string(),
        Err(_) => "content".into(),
    }
}

fn plain_update(update: SessionUpdate) -> Option<Update> {
    Some(match update {
        SessionUpdate::AgentMessageChunk(chunk) => Update::Message(text_of(&chunk.content)),
        SessionUpdate::AgentThoughtChunk(chunk) => Update::Thought(text_of(&chunk.content)),
        SessionUpdate::ToolCall(call) => Update::ToolCall {
            id: call.tool_call_id.to_string(),
            title: call.title,
            kind: wire_name(call.kind),
            status: wire_name(call.status),
        },
        SessionUpdate::ToolCallUpdate(update) => Update::ToolCallUpdate {
            id: update.tool_call_id.to_string(),
            title: update.fields.title,
            status: update.fields.status.map(wire_name),
        },
        SessionUpdate::Plan(plan) => Update::Plan(
            plan.entries
                .into_iter()
                .map(|entry| (entry.content, wire_name(entry.status)))
                .collect(),
        ),
        _ => return None,
    })
}

fn permission_ask(request: &RequestPermissionRequest) -> PermissionAsk {
    let fields = &request.tool_call.fields;
    PermissionAsk {
        tool_call_id: request.tool_call.tool_call_id.to_string(),
        title: fields.title.clone().unwrap_or_default(),
        kind: fields.kind.map(wire_name),
        locations: fields
            .locations
            .iter()
            .flatten()
            .map(|l| l.path.clone())
            .collect::<Vec<PathBuf>>(),
        raw_input: fields.raw_input.clone(),
        offers_always: request
            .options
            .iter()
            .any(|o| o.kind == PermissionOptionKind::AllowAlways),
    }
}

/// The option the agent offered that says `answer`; `Cancelled` when it
/// offered none that fits.
fn outcome(
    request: &RequestPermissionRequest,
    answer: PermissionAnswer,
) -> RequestPermissionOutcome {
    use PermissionOptionKind::*;
    let wanted: &[PermissionOptionKind] = match answer {
        PermissionAnswer::Allow { always: true } => &[AllowAlways, AllowOnce],
        PermissionAnswer::Allow { always: false } => &[AllowOnce, AllowAlways],
        PermissionAnswer::Reject => &[RejectOnce, RejectAlways],
        PermissionAnswer::Cancelled => &[],
    };
    wanted
        .iter()
        .find_map(|kind| request.options.iter().find(|o| o.kind == *kind))
        .map(|o| {
            RequestPermissionOutcome::Selected(SelectedPermissionOutcome::new(o.option_id.clone()))
        })
        .unwrap_or(RequestPermissionOutcome::Cancelled)
}
