//! The outboxes' sink: turns what `agentls-stream` lets through into LSP
//! notifications, written once into the queue to stdout (`stdout.rs`).
//!
//! Every notification about runs leaves through an [`Outbox`] into this sink
//! (docs/architecture.md, invariant 6): producers push without blocking, and when the editor
//! reads slowly, `send` here waits on the transport, which makes the outbox
//! coalesce harder instead of growing memory.
//!
//! Progress messages are keyed in the outbox by their token, written as JSON
//! (`"agentls/…"` or `42`), so one run's successive progresses (after a pause
//! and a resume) never mix up their tokens.

use agentls_stream::{Limits, Message, Outgoing, Progress, Sink, SinkClosed};
use serde_json::{json, Value};
use tower_lsp_server::ls_types::notification::{self, Notification};
use tower_lsp_server::ls_types::*;

use super::protocol::{AgentOutput, AgentState, OutputParams};
use super::stdout::OutQueue;

pub use agentls_stream::Outbox;

/// Sends notifications to the editor through the one queue to stdout,
/// one at a time, once the notifications already on their way leave room.
pub struct ClientSink {
    out: OutQueue,
}

impl ClientSink {
    pub fn new(out: OutQueue) -> Self {
        Self { out }
    }
}

impl Sink for ClientSink {
    async fn send(&mut self, message: Outgoing) -> Result<(), SinkClosed> {
        // While the editor is slow, this is where the outbox waits (and
        // coalesces what producers push meanwhile).
        self.out.room().await;
        let sent = match message {
            Outgoing::Output {
                run,
                step,
                text,
                seq,
            } => self.out.notify::<AgentOutput>(&OutputParams {
                run_id: run,
                step,
                text,
                seq,
            }),
            Outgoing::State { state, .. } => self.out.notify_raw(AgentState::METHOD, &state),
            Outgoing::Progress { key, progress } => {
                let Ok(token) = serde_json::from_str::<ProgressToken>(&key) else {
                    tracing::error!("progress keyed by something that is not a token: {key}");
                    return Ok(());
                };
                let value = ProgressParamsValue::WorkDone(work_done(progress));
                self.out
                    .notify::<notification::Progress>(&ProgressParams { token, value })
            }
            Outgoing::Notice { method, params } => self.out.notify_raw(&method, &params),
        };
        sent.map_err(|_| SinkClosed)
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
