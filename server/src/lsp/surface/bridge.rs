//! The engine subscriber of a workspace's editor surface: turns run events
//! into outbox messages (`agent/output`, `agent/state`, `$/progress`,
//! `window/showMessage`) and, when a run stops, shows its transcript to
//! clients that do not stream run events.
//!
//! Called on the engine's tasks for every event, output chunks included:
//! it takes short locks, pushes, and returns. Requests to the editor
//! (`workDoneProgress/create`, `showDocument`) run in spawned tasks.

use std::sync::Arc;

use agentls_engine::{Event, RunId, RunStatus, StepStatus, Subscriber};
use agentls_stream::{Message, Progress};
use tower_lsp_server::ls_types::{MessageType, ProgressToken};

use super::shared::{lock, Shared};
use super::view::{ProgressSlot, RunView};
use crate::lsp::convert;
use crate::lsp::sink::{progress_key, run_notice, show_message};

/// The answers to an agent's permission question.
const ALLOW_ONCE: &str = "Allow once";
const ALLOW_RUN: &str = "Allow for this run";
const DENY: &str = "Deny";
/// How long the question stays open: a person reads it.
const ASK_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// Registered with the workspace's engine.
pub struct Bridge(pub Arc<Shared>);

impl Subscriber for Bridge {
    fn event(&self, event: &Event) {
        let shared = &self.0;
        match event {
            Event::Output { run, step, bytes } => {
                // Clients that did not opt in never see live output: skip
                // the decoding work entirely.
                if shared.caps.run_events {
                    shared.with_view(run, |shared, view| {
                        let text = view.decode(step, bytes);
                        shared.push_output(view, step, text);
                    });
                }
            }
            Event::Activity { run, index, text } => shared.with_view(run, |shared, view| {
                if let Some(s) = view.steps.get_mut(*index) {
                    s.activity = Some(text.clone());
                    shared.report(view);
                }
            }),
            Event::Step {
                run,
                index,
                step,
                title,
                status,
                attempt,
                exit_code,
                error,
                ..
            } => shared.with_view(run, |shared, view| {
                if let Some(s) = view.steps.get_mut(*index) {
                    s.activity = None;
                    s.status = *status;
                    s.attempt = *attempt;
                    s.exit_code = *exit_code;
                    s.error = error.clone();
                    if title.is_some() {
                        s.title = title.clone();
                    }
                } else {
                    tracing::warn!("run {run}: event for unknown step #{index} `{step}`");
                }
                shared.report(view);
                shared.push_state(view, false);
                // Asked here, not when the run stops: an ACP agent's
                // question leaves the run `running` while its step waits.
                if *status == StepStatus::Waiting {
                    shared.ask_permission(view);
                }
            }),
            Event::Run {
                run,
                status,
                error,
                tag,
                ..
            } => {
                // The token of the request that started this drive, claimed
                // by its first event (queued for a new run, else running).
                let token = tag.and_then(|tag| lock(&shared.drives).remove(&tag));
                shared.with_view(run, |shared, view| {
                    if token.is_some() && matches!(status, RunStatus::Queued | RunStatus::Running) {
                        view.next_token = token;
                    }
                    view.status = *status;
                    view.error = error.clone();
                    match status {
                        RunStatus::Queued => shared.push_state(view, false),
                        RunStatus::Running => {
                            shared.push_state(view, false);
                            shared.begin_progress(view);
                        }
                        _ => shared.stopped(view),
                    }
                });
                if status.is_terminal() {
                    lock(&shared.runs).remove(run);
                }
            }
        }
    }
}

impl Shared {
    /// Runs `f` on the run's view, building it from the store on first sight.
    pub fn with_view(self: &Arc<Self>, run: &RunId, f: impl FnOnce(&Arc<Self>, &mut RunView)) {
        let mut runs = lock(&self.runs);
        if !runs.contains_key(run) {
            let record = match self.store.run(run) {
                Ok(record) => record,
                Err(err) => {
                    tracing::warn!("run {run}: cannot stream it: {err}");
                    return;
                }
            };
            runs.insert(run.clone(), RunView::new(&record, self.outbox()));
        }
        if let Some(view) = runs.get_mut(run) {
            f(self, view);
        }
    }

    /// Runs `f` on the run's view if the run is still being streamed.
    pub fn with_existing_view(
        self: &Arc<Self>,
        run: &RunId,
        f: impl FnOnce(&Arc<Self>, &mut RunView),
    ) {
        if let Some(view) = lock(&self.runs).get_mut(run) {
            f(self, view);
        }
    }

    fn push_output(&self, view: &RunView, step: &str, text: String) {
        if !text.is_empty() {
            view.outbox.push(Message::Output {
                run: view.id.to_string(),
                step: step.to_owned(),
                text,
            });
        }
    }

    fn push_state(&self, view: &RunView, is_final: bool) {
        if self.caps.run_events {
            view.outbox.push(Message::State {
                run: view.id.to_string(),
                state: serde_json::to_value(view.state()).unwrap_or_default(),
                is_final,
            });
        }
        if is_final {
            let totals = crate::telemetry::outbox_totals(&view.outbox.stats());
            self.outbox_meter.record(totals);
        }
    }

    fn push_progress(&self, view: &RunView, token: &ProgressToken, progress: Progress) {
        view.outbox.push(Message::Progress {
            key: progress_key(token),
            progress,
        });
    }

    fn report(&self, view: &RunView) {
        if let ProgressSlot::Open(token) = &view.progress {
            let (message, percentage) = view.progress_message();
            self.push_progress(
                view,
                token,
                Progress::Report {
                    message: Some(message),
                    percentage: Some(percentage),
                },
            );
        }
    }

    /// Shows a progress for the run (it is running and shows none): the
    /// editor's own token when a request gave one, else a created token.
    /// The begin waits for the editor to accept the token; the request that
    /// started the run was answered long before.
    pub fn begin_progress(self: &Arc<Self>, view: &mut RunView) {
        if view.progress != ProgressSlot::Idle {
            return;
        }
        if let Some(token) = view.next_token.take() {
            self.open_progress(view, token);
            return;
        }
        if !self.caps.work_done_progress {
            return;
        }
        view.generation += 1;
        let token = ProgressToken::String(format!("agentls/{}/{}", view.id, view.generation));
        lock(&self.tokens).insert(progress_key(&token), view.id.clone());
        view.progress = ProgressSlot::Creating(token.clone());
        let shared = self.clone();
        let run = view.id.clone();
        let requests = self.requests();
        self.handle.spawn(async move {
            let created = requests.create_progress(token.clone()).await;
            if let Err(err) = &created {
                tracing::warn!("run {run}: no progress shown: {err}");
            }
            shared.with_existing_view(&run, |shared, view| {
                if view.progress != ProgressSlot::Creating(token.clone()) {
                    return;
                }
                view.progress = ProgressSlot::Idle;
                lock(&shared.tokens).remove(&progress_key(&token));
                if created.is_ok() && view.status == RunStatus::Running {
                    shared.open_progress(view, token);
                }
            });
        });
    }

    fn open_progress(&self, view: &mut RunView, token: ProgressToken) {
        lock(&self.tokens).insert(progress_key(&token), view.id.clone());
        let (message, percentage) = view.progress_message();
        self.push_progress(
            view,
            &token,
            Progress::Begin {
                title: view.progress_title(),
                message: Some(message),
                percentage: Some(percentage),
            },
        );
        view.progress = ProgressSlot::Open(token);
    }

    /// Ends the progress shown for the run; returns the outbox key of the
    /// progress it ended.
    fn end_progress(&self, view: &mut RunView, message: String) -> Option<String> {
        match std::mem::replace(&mut view.progress, ProgressSlot::Idle) {
            ProgressSlot::Open(token) => {
                lock(&self.tokens).remove(&progress_key(&token));
                self.push_progress(
                    view,
                    &token,
                    Progress::End {
                        message: Some(message),
                    },
                );
                Some(progress_key(&token))
            }
            ProgressSlot::Creating(token) => {
                lock(&self.tokens).remove(&progress_key(&token));
                None
            }
            ProgressSlot::Idle => None,
        }
    }

    /// The run stopped: completed, failed, waiting, cancelled or interrupted.
    fn stopped(self: &Arc<Self>, view: &mut RunView) {
        for (step, text) in view.finish_output() {
            if self.caps.run_events {
                self.push_output(view, &step, text);
            }
        }
        let (end, kind, told) = self.describe_stop(view);
        let ended = self.end_progress(view, end);
        self.push_state(view, true);
        // Queued behind the progress it ends (the latest report, then the
        // end), so the editor never says "completed" while the progress
        // still shows a step; without a progress, behind the final state.
        let after = ended.unwrap_or_else(|| view.id.to_string());
        view.outbox
            .push(run_notice(after, show_message(kind, told)));
        let show = !self.caps.run_events
            && self.caps.show_document
            && matches!(view.status, RunStatus::Completed | RunStatus::Failed)
            && view.has_text_output();
        if show {
            self.show_transcript(&view.id, view.status == RunStatus::Completed);
        }
    }

    /// An agent step waits on a tool call (a native one with its run
    /// paused, an ACP agent's with its run going on): asks the editor with
    /// `window/showMessageRequest` (allow once, allow for the rest of the
    /// run, deny). A dismissed question leaves the run waiting for
    /// `agent.approve` / `agent.reject`; an answer that comes after one of
    /// those is refused by the engine and only logged.
    fn ask_permission(self: &Arc<Self>, view: &RunView) {
        let Some(step) = view
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Waiting && s.kind == "agent")
        else {
            return;
        };
        let asked = step.error.clone();
        let wants = asked.as_deref().unwrap_or("make a tool call");
        let message = format!(
            "agentls: `{}` (step `{}`) wants to {wants}",
            view.workflow, step.id
        );
        let (requests, session, runs) = (
            self.requests(),
            self.session.clone(),
            self.runs_handle.clone(),
        );
        let (run, step) = (view.id.clone(), step.id.clone());
        self.handle.spawn(async move {
            let picked = requests
                .ask(
                    MessageType::WARNING,
                    message,
                    &[ALLOW_ONCE, ALLOW_RUN, DENY],
                    ASK_FOR,
                )
                .await;
            let picked = match picked {
                Ok(Some(picked)) => picked,
                Ok(None) => return,
                Err(err) => {
                    tracing::info!("run {run}: permission question not answered: {err}");
                    return;
                }
            };
            let Some(engine) = session.upgrade().and_then(|s| s.engine().ok()) else {
                return;
            };
            let _runs = runs.enter();
            // Answered elsewhere meanwhile (the CLI, another window), and
            // perhaps asked again: this answer was for that question only.
            let still = engine.store().run(&run).is_ok_and(|record| {
                record.steps.iter().any(|s| {
                    s.step_id == step && s.status == StepStatus::Waiting && s.error == asked
                })
            });
            if !still {
                tracing::info!(
                    "run {run}: the question was answered elsewhere; this answer is dropped"
                );
                return;
            }
            let done = match picked.as_str() {
                ALLOW_ONCE => engine.approve_with(&run, Some(&step), None, false),
                ALLOW_RUN => engine.approve_with(&run, Some(&step), None, true),
                _ => engine.reject(&run, Some(&step), Some("the user denied it in the editor")),
            };
            if let Err(err) = done {
                tracing::info!("run {run}: answer from the editor not applied: {err}");
            }
        });
    }

    /// The progress end message, and what `window/showMessage` says. The
    /// commands it suggests are named the way this editor runs them.
    fn describe_stop(&self, view: &RunView) -> (String, MessageType, String) {
        let name = format!("`{}`", view.workflow);
        let run = &view.id;
        let error = view.error.clone().unwrap_or_default();
        let hint = |command: &str| self.caps.command_hint(command);
        match view.status {
            RunStatus::Completed => (
                "completed".into(),
                MessageType::INFO,
                format!(
                    "agentls: {name} completed (run {run}); {} shows its output.",
                    hint("agent.output")
                ),
            ),
            RunStatus::Failed => {
                // A retry that fails the same way is news: say which attempt.
                let attempt = view
                    .steps
                    .iter()
                    .find(|s| s.status == StepStatus::Failed)
                    .filter(|s| s.attempt > 1)
                    .map(|s| format!(", attempt {}", s.attempt))
                    .unwrap_or_default();
                (
                    format!("failed: {error}"),
                    MessageType::ERROR,
                    format!(
                        "agentls: {name} failed: {error} (run {run}{attempt}). Run {} to try \
                         the step again, {} to go on without it, or {} to read the output.",
                        hint("agent.retry"),
                        hint("agent.skip"),
                        hint("agent.output")
                    ),
                )
            }
            RunStatus::Waiting => {
                let step = view
                    .steps
                    .iter()
                    .find(|s| s.status == StepStatus::Waiting)
                    .map(|s| format!(" at step `{}`", s.id))
                    .unwrap_or_default();
                let says = view
                    .error
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                (
                    "waiting for approval".into(),
                    MessageType::INFO,
                    format!(
                        "agentls: {name} waits for approval{step}{says} (run {run}). Run {} to \
                         go on or {} to stop.",
                        hint("agent.approve"),
                        hint("agent.reject")
                    ),
                )
            }
            RunStatus::Cancelled => (
                "cancelled".into(),
                MessageType::INFO,
                format!("agentls: {name} was cancelled (run {run})."),
            ),
            RunStatus::Interrupted | RunStatus::Queued | RunStatus::Running => (
                view.status.as_str().into(),
                MessageType::WARNING,
                format!(
                    "agentls: {name} was interrupted (run {run}); {} continues it.",
                    hint("agent.resume")
                ),
            ),
        }
    }

    fn show_transcript(&self, run: &RunId, focus: bool) {
        let path = self.transcript(run);
        let Some(uri) = convert::uri(&path) else {
            return;
        };
        let requests = self.requests();
        let run = run.clone();
        self.handle.spawn(async move {
            match requests.show_document(uri, focus).await {
                Ok(true) => {}
                Ok(false) => tracing::info!("run {run}: the editor could not show the transcript"),
                Err(err) => tracing::warn!("run {run}: transcript not shown: {err}"),
            }
        });
    }
}
