//! The outbox's sink: turns what `agentls-stream` lets through into LSP
//! notifications sent with tower-lsp-server's `Client`.
//!
//! Every notification about runs leaves through an [`Outbox`] into this sink
//! (DESIGN invariant 6): producers push without blocking, and when the editor
//! reads slowly, `send` here waits on the transport, which makes the outbox
//! coalesce harder instead of growing memory.
//!
//! Progress messages are keyed in the outbox by their token, written as JSON
//! (`"agentls/…"` or `42`), so one run's successive progresses (after a pause
//! and a resume) never mix up their tokens.

use std::sync::Arc;

use agentls_stream::{Limits, Message, Outgoing, Progress, Sink, SinkClosed};
use serde_json::{json, Value};
use tower_lsp_server::ls_types::notification::{self, Notification};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::stdout::OutGate;

pub use agentls_stream::Outbox;

/// `agent/output`: live output of a run's step (opt-in clients only).
pub enum AgentOutput {}

impl Notification for AgentOutput {
    type Params = Value;
    const METHOD: &'static str = "agent/output";
}

/// `agent/state`: a run's status and steps (opt-in clients only).
pub enum AgentState {}

impl Notification for AgentState {
    type Params = Value;
    const METHOD: &'static str = "agent/state";
}

/// Sends through the tower-lsp-server client, one message at a time, once
/// the notifications already on their way to the editor leave room.
pub struct ClientSink {
    client: Client,
    gate: Arc<OutGate>,
}

impl ClientSink {
    pub fn new(client: Client, gate: Arc<OutGate>) -> Self {
        Self { client, gate }
    }
}

impl Sink for ClientSink {
    async fn send(&mut self, message: Outgoing) -> Result<(), SinkClosed> {
        // While the editor is slow, this is where the outbox waits (and
        // coalesces what producers push meanwhile).
        self.gate.room().await;
        match message {
            Outgoing::Output {
                run,
                step,
                text,
                seq,
            } => {
                self.client
                    .send_notification::<AgentOutput>(
                        json!({"runId": run, "step": step, "text": text, "seq": seq}),
                    )
                    .await;
            }
            Outgoing::State { state, .. } => {
                self.client.send_notification::<AgentState>(state).await;
            }
            Outgoing::Progress { run, progress } => {
                let Ok(token) = serde_json::from_str::<ProgressToken>(&run) else {
                    tracing::error!("progress keyed by something that is not a token: {run}");
                    return Ok(());
                };
                let value = ProgressParamsValue::WorkDone(work_done(progress));
                self.client
                    .send_notification::<notification::Progress>(ProgressParams { token, value })
                    .await;
            }
            Outgoing::Notice { method, params } => self.notice(&method, params).await,
        }
        Ok(())
    }
}

impl ClientSink {
    async fn notice(&self, method: &str, params: Value) {
        // Typed notifications need a static method name; every notice the
        // server pushes is one of these.
        match method {
            notification::ShowMessage::METHOD => match serde_json::from_value(params) {
                Ok(params) => {
                    self.client
                        .send_notification::<notification::ShowMessage>(params)
                        .await
                }
                Err(err) => tracing::error!("malformed showMessage notice: {err}"),
            },
            notification::LogMessage::METHOD => match serde_json::from_value(params) {
                Ok(params) => {
                    self.client
                        .send_notification::<notification::LogMessage>(params)
                        .await
                }
                Err(err) => tracing::error!("malformed logMessage notice: {err}"),
            },
            notification::PublishDiagnostics::METHOD => match serde_json::from_value(params) {
                Ok(params) => {
                    self.client
                        .send_notification::<notification::PublishDiagnostics>(params)
                        .await
                }
                Err(err) => tracing::error!("malformed publishDiagnostics notice: {err}"),
            },
            other => tracing::error!("no sender for notice `{other}`; dropped"),
        }
    }
}

fn work_done(progress: Progress) -> WorkDoneProgress {
    match progress {
        Progress::Begin {
            title,
            message,
            percentage,
        } => WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title,
            // Every run's progress can be cancelled: that cancels the run.
            cancellable: Some(true),
            message,
            percentage,
        }),
        Progress::Report {
            message,
            percentage,
        } => WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: Some(true),
            message,
            percentage,
        }),
        Progress::End { message } => WorkDoneProgress::End(WorkDoneProgressEnd { message }),
    }
}

/// The outbox key of a progress token.
pub fn progress_key(token: &ProgressToken) -> String {
    serde_json::to_string(token).unwrap_or_default()
}

/// A `window/showMessage` notice.
pub fn show_message(kind: MessageType, message: impl Into<String>) -> Message {
    Message::Notice {
        method: notification::ShowMessage::METHOD.into(),
        params: json!({"type": kind, "message": message.into()}),
    }
}

/// `notice` (from [`show_message`]) queued behind what was pushed under
/// the outbox key `after` (a run id or a [`progress_key`]).
pub fn run_notice(after: String, notice: Message) -> Message {
    match notice {
        Message::Notice { method, params } => Message::RunNotice {
            run: after,
            method,
            params,
        },
        other => other,
    }
}

/// A `textDocument/publishDiagnostics` notice.
pub fn publish_diagnostics(
    uri: Uri,
    diagnostics: Vec<Diagnostic>,
    version: Option<i32>,
) -> Message {
    Message::Notice {
        method: notification::PublishDiagnostics::METHOD.into(),
        params: serde_json::to_value(PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        })
        .unwrap_or(Value::Null),
    }
}

/// The outbox limits a session's `[stream]` configuration asks for.
pub fn limits(config: &crate::config::StreamConfig) -> Limits {
    Limits {
        output_per_second: config.output_per_second,
        progress_per_second: config.progress_per_second,
        max_pending_bytes_per_run: usize::try_from(config.max_pending_bytes).unwrap_or(usize::MAX),
        ..Limits::default()
    }
}
