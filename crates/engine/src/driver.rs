//! Driving one run: its steps in order, from wherever it stands. Every
//! transition is committed to the store, then announced.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use agentls_store::{RunId, RunRecord, RunStatus, StepResult, StepStatus};
use agentls_workflow::{Context, Step, StepState, Workflow};
use tokio_util::sync::CancellationToken;
use tracing::field::Empty;
use tracing::Instrument;

use crate::context;
use crate::engine::{kind_name, Inner};
use crate::error::EngineError;
use crate::event::Event;
use crate::steps::{self, Outcome, Produced};
use crate::tagged::Tag;

/// The longest wait between automatic retries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Drives `run` until it completes, pauses (failed, waiting) or is cancelled.
/// `tag`: the operation's, put on the drive's run events.
pub async fn drive(inner: &Arc<Inner>, run: &RunId, cancel: &CancellationToken, tag: Option<Tag>) {
    let record = match inner.store.run(run) {
        Ok(record) => record,
        Err(err) => {
            tracing::error!("run {run}: {err}");
            return;
        }
    };
    let span = tracing::info_span!(
        target: "agentls::trace",
        "agentls.run",
        otel.name = %format_args!("run {}", record.workflow_name),
        agentls.run.id = %run,
        agentls.workflow = %record.workflow_name,
        agentls.workspace.hash = %inner.workspace_hash,
        agentls.run.status = Empty,
        otel.status_code = Empty,
        error.type = Empty,
    );
    // The span is the steps' parent rather than entered around the whole
    // drive: entering it on every poll of the driver would cost for nothing.
    match drive_steps(inner, record, cancel, tag, &span).await {
        Ok(status) => {
            span.record("agentls.run.status", status.as_str());
            if status == RunStatus::Failed {
                span.record("otel.status_code", "error");
                span.record("error.type", "step_failed");
            }
        }
        Err(err) => {
            // Only the store can fail here; the run stays as last committed
            // and shows up as interrupted at the next start.
            tracing::error!("run {run}: {err}");
            span.record("agentls.run.status", RunStatus::Interrupted.as_str());
            span.record("otel.status_code", "error");
            span.record("error.type", "step_failed");
        }
    }
}

async fn drive_steps(
    inner: &Arc<Inner>,
    record: RunRecord,
    cancel: &CancellationToken,
    tag: Option<Tag>,
    run_span: &tracing::Span,
) -> Result<RunStatus, EngineError> {
    let run = &record.id;
    let name = record.workflow_name.clone();
    inner.store.write(|tx| {
        tx.set_owner(run, &inner.owner.id)?;
        if record.status != RunStatus::Running {
            tx.set_run_status(run, RunStatus::Running, None)?;
        }
        Ok(())
    })?;
    if record.status != RunStatus::Running {
        inner.emit_run(run, &name, RunStatus::Running, None, tag);
    }
    let workflow = match snapshot(&record) {
        Ok(workflow) => workflow,
        Err(message) => {
            let error = format!("its workflow snapshot no longer parses: {message}");
            return fail_run(inner, run, &name, error, tag);
        }
    };
    let mut tree = match crate::isolation::prepare(inner, run).await {
        Ok(tree) => tree,
        Err(message) => {
            let error = format!("run {run} cannot start its steps: {message}");
            return fail_run(inner, run, &name, error, tag);
        }
    };
    tree.sandbox = workflow.sandbox.clone();
    crate::isolation::note_sandbox(inner, &record, &workflow, &tree);
    let mut ctx = context::for_run(inner, &record);
    ctx.workspace.root = tree.root.display().to_string();
    for (idx, step) in workflow.steps.iter().enumerate() {
        let status = record.steps[idx].status;
        if matches!(
            status,
            StepStatus::Completed | StepStatus::Skipped | StepStatus::Cancelled
        ) {
            continue;
        }
        if cancel.is_cancelled() {
            return cancelled(inner, &record, None, tag);
        }
        let mut driver = StepDriver {
            inner,
            record: &record,
            idx,
            step,
            tree: &tree,
            cancel,
            attempt: record.steps[idx].attempt,
            after_failure: status == StepStatus::Failed,
            tag,
            run_span,
        };
        if status == StepStatus::Pending {
            match driver.check_when(&ctx)? {
                When::Run => {}
                When::Skipped(state) => {
                    ctx.steps.insert(step.id.to_string(), state);
                    continue;
                }
                When::Stop(status) => return Ok(status),
            }
        }
        match driver.run(&ctx).await? {
            Next::Continue(state) => {
                ctx.steps.insert(step.id.to_string(), state);
            }
            Next::Stop(status) => return Ok(status),
        }
    }
    inner.let_go(run, RunStatus::Completed, || {
        inner
            .store
            .set_run_status(run, RunStatus::Completed, None)?;
        inner.emit_run(run, &name, RunStatus::Completed, None, tag);
        Ok(())
    })
}

/// Ends the drive with the run `failed` before any step ran.
fn fail_run(
    inner: &Inner,
    run: &RunId,
    name: &str,
    error: String,
    tag: Option<Tag>,
) -> Result<RunStatus, EngineError> {
    inner.let_go(run, RunStatus::Failed, || {
        inner
            .store
            .set_run_status(run, RunStatus::Failed, Some(&error))?;
        inner.emit_run(run, name, RunStatus::Failed, Some(error.clone()), tag);
        Ok(())
    })
}

/// The workflow exactly as it was when the run started.
fn snapshot(record: &RunRecord) -> Result<Workflow, String> {
    let source = agentls_workflow::Source::new(
        record.workflow_source.into(),
        record.workflow_path.clone(),
        record.workflow_content.clone(),
    );
    let parsed = agentls_workflow::parse(&record.workflow_name, source);
    parsed.workflow.ok_or_else(|| {
        parsed
            .diagnostics
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_else(|| "invalid workflow".into())
    })
}

fn cancelled(
    inner: &Inner,
    record: &RunRecord,
    step: Option<usize>,
    tag: Option<Tag>,
) -> Result<RunStatus, EngineError> {
    let error = "cancelled by the user";
    inner.let_go(&record.id, RunStatus::Cancelled, || {
        inner.store.write(|tx| {
            if let Some(idx) = step {
                tx.set_step_status(&record.id, idx, StepStatus::Cancelled, Some(error))?;
            }
            tx.set_run_status(&record.id, RunStatus::Cancelled, Some(error))
        })?;
        if let Some(idx) = step {
            inner.emit_step(record, idx, StepStatus::Cancelled, None, Some(error.into()));
        }
        inner.emit_run(
            &record.id,
            &record.workflow_name,
            RunStatus::Cancelled,
            Some(error.into()),
            tag,
        );
        Ok(())
    })
}

enum When {
    Run,
    Skipped(StepState),
    /// The drive stopped, in this status.
    Stop(RunStatus),
}

enum Next {
    Continue(StepState),
    /// The drive stopped, in this status.
    Stop(RunStatus),
}

struct StepDriver<'a> {
    inner: &'a Arc<Inner>,
    record: &'a RunRecord,
    idx: usize,
    step: &'a Step,
    /// Where its commands and edits work, and their sandbox.
    tree: &'a crate::isolation::WorkingTree,
    cancel: &'a CancellationToken,
    attempt: u32,
    /// The drive took the step up after it had failed (a retry).
    after_failure: bool,
    tag: Option<Tag>,
    run_span: &'a tracing::Span,
}

impl StepDriver<'_> {
    fn announce(&self, status: StepStatus, exit_code: Option<i32>, error: Option<String>) {
        self.inner.emit(&Event::Step {
            run: self.record.id.clone(),
            index: self.idx,
            total: self.record.steps.len(),
            step: self.step.id.to_string(),
            title: self.step.title.clone(),
            status,
            attempt: self.attempt,
            exit_code,
            error,
        });
    }

    /// The span of the attempt about to run (see docs/observability.md).
    fn span(&self) -> tracing::Span {
        tracing::info_span!(
            target: "agentls::trace",
            parent: self.run_span,
            "agentls.step",
            otel.name = %format_args!("step {}", self.step.id),
            agentls.run.id = %self.record.id,
            agentls.step.id = %self.step.id,
            // Integers as i64: the OpenTelemetry layer writes u64 as text.
            agentls.step.index = i64::try_from(self.idx).unwrap_or(i64::MAX),
            agentls.step.kind = kind_name(&self.step.kind),
            agentls.step.attempt = i64::from(self.attempt),
            agentls.step.status = Empty,
            otel.status_code = Empty,
            error.type = Empty,
        )
    }

    /// Skips the step when its `when` is false. A `when` that cannot be
    /// evaluated fails the step (and pauses the run) with the template error.
    fn check_when(&mut self, ctx: &Context) -> Result<When, EngineError> {
        let Some(expr) = &self.step.when else {
            return Ok(When::Run);
        };
        match self
            .inner
            .templates
            .eval_when(self.step.id.as_str(), expr, ctx)
        {
            Ok(true) => Ok(When::Run),
            Ok(false) => {
                let reason = format!("`when = {expr:?}` is false");
                self.inner.store.set_step_status(
                    &self.record.id,
                    self.idx,
                    StepStatus::Skipped,
                    Some(&reason),
                )?;
                self.announce(StepStatus::Skipped, None, Some(reason));
                Ok(When::Skipped(StepState {
                    status: StepStatus::Skipped.as_str().into(),
                    ..StepState::default()
                }))
            }
            Err(err) => Ok(When::Stop(self.fail_without_running(&err.to_string())?)),
        }
    }

    fn fail_without_running(&mut self, error: &str) -> Result<RunStatus, EngineError> {
        self.inner.store.start_step(&self.record.id, self.idx)?;
        self.attempt += 1;
        self.inner.let_go(&self.record.id, RunStatus::Failed, || {
            self.inner.store.commit_step(
                &self.record.id,
                self.idx,
                &failed_result(error),
                Some((RunStatus::Failed, Some(&step_error(self.step, error)))),
            )?;
            self.announce(StepStatus::Failed, None, Some(error.into()));
            self.inner.emit_run(
                &self.record.id,
                &self.record.workflow_name,
                RunStatus::Failed,
                Some(step_error(self.step, error)),
                self.tag,
            );
            Ok(())
        })
    }

    /// Runs the step, with its automatic retries.
    async fn run(&mut self, ctx: &Context) -> Result<Next, EngineError> {
        let attempts = self.step.retries + 1;
        let mut tries = 0;
        loop {
            tries += 1;
            self.inner.store.start_step(&self.record.id, self.idx)?;
            self.attempt += 1;
            self.announce(StepStatus::Running, None, None);
            let span = self.span();
            let attempt = steps::Attempt {
                idx: self.idx,
                after_failure: tries > 1 || self.after_failure,
            };
            let outcome = steps::execute(
                self.inner,
                self.record,
                self.step,
                attempt,
                self.tree,
                ctx,
                self.cancel,
            )
            .instrument(span.clone())
            .await;
            record_outcome(&span, &outcome);
            drop(span);
            self.write_transcript(&outcome);
            match outcome {
                Outcome::Done(produced) => {
                    let note = produced.note.clone();
                    return self.complete(produced.into_result(StepStatus::Completed, note));
                }
                Outcome::Failed {
                    error, produced, ..
                } if self.step.allow_failure => {
                    // The step counts as done; its error stays on it.
                    return self.complete(produced.into_result(StepStatus::Completed, Some(error)));
                }
                Outcome::Failed {
                    failure,
                    error,
                    produced,
                } => {
                    let result = produced.into_result(StepStatus::Failed, Some(error.clone()));
                    if failure.retriable() && tries < attempts && !self.cancel.is_cancelled() {
                        self.inner
                            .store
                            .finish_step(&self.record.id, self.idx, &result)?;
                        self.announce(
                            StepStatus::Failed,
                            result.exit_code,
                            Some(format!("{error} (attempt {tries} of {attempts}; retrying)")),
                        );
                        let wait = backoff(self.inner.options().retry_backoff, tries);
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => continue,
                            _ = self.cancel.cancelled() => {
                                let stopped = cancelled(self.inner, self.record, None, self.tag)?;
                                return Ok(Next::Stop(stopped));
                            }
                        }
                    }
                    let run_error = step_error(self.step, &error);
                    let stopped = self.inner.let_go(&self.record.id, RunStatus::Failed, || {
                        self.inner.store.commit_step(
                            &self.record.id,
                            self.idx,
                            &result,
                            Some((RunStatus::Failed, Some(&run_error))),
                        )?;
                        self.announce(StepStatus::Failed, result.exit_code, Some(error));
                        self.inner.emit_run(
                            &self.record.id,
                            &self.record.workflow_name,
                            RunStatus::Failed,
                            Some(run_error.clone()),
                            self.tag,
                        );
                        Ok(())
                    })?;
                    return Ok(Next::Stop(stopped));
                }
                Outcome::Waiting { message, .. } => {
                    let stopped = self.inner.let_go(&self.record.id, RunStatus::Waiting, || {
                        self.inner.store.write(|tx| {
                            // What it waits for stays on the step: an
                            // agent's tool call (the command line or the
                            // diff), or the approve step's message.
                            tx.set_step_status(
                                &self.record.id,
                                self.idx,
                                StepStatus::Waiting,
                                Some(&message),
                            )?;
                            tx.set_run_status(&self.record.id, RunStatus::Waiting, None)
                        })?;
                        self.announce(StepStatus::Waiting, None, Some(message.clone()));
                        self.inner.emit_run(
                            &self.record.id,
                            &self.record.workflow_name,
                            RunStatus::Waiting,
                            Some(message),
                            self.tag,
                        );
                        Ok(())
                    })?;
                    return Ok(Next::Stop(stopped));
                }
                Outcome::Cancelled => {
                    return Ok(Next::Stop(cancelled(
                        self.inner,
                        self.record,
                        Some(self.idx),
                        self.tag,
                    )?));
                }
            }
        }
    }

    fn complete(&mut self, result: StepResult) -> Result<Next, EngineError> {
        self.inner
            .store
            .finish_step(&self.record.id, self.idx, &result)?;
        self.announce(
            StepStatus::Completed,
            result.exit_code,
            result.error.clone(),
        );
        Ok(Next::Continue(StepState {
            output: result.output,
            outputs: result
                .outputs
                .and_then(|o| serde_json::from_value(o).ok())
                .unwrap_or_default(),
            exit_code: result.exit_code,
            status: StepStatus::Completed.as_str().into(),
        }))
    }

    /// Appends the step's output to the run's transcript (plain text).
    fn write_transcript(&self, outcome: &Outcome) {
        let (status, output, error) = match outcome {
            Outcome::Done(p) => (
                "completed",
                p.transcript.as_deref().unwrap_or(&p.output),
                p.note.as_deref(),
            ),
            Outcome::Failed {
                error, produced, ..
            } => ("failed", produced.output.as_str(), Some(error.as_str())),
            // The live output already ends with what it waits for.
            Outcome::Waiting {
                transcript: Some(t),
                ..
            } => ("waiting", t.as_str(), None),
            Outcome::Waiting { message, .. } => ("waiting", message.as_str(), None),
            Outcome::Cancelled => ("cancelled", "", None),
        };
        let path = self.inner.transcript_path(&self.record.id);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        let written = file.and_then(|mut f| {
            let title = self
                .step
                .title
                .as_deref()
                .map(|t| format!(" — {t}"))
                .unwrap_or_default();
            writeln!(
                f,
                "## step `{}`{title} (attempt {}, {status})",
                self.step.id, self.attempt
            )?;
            if !output.is_empty() {
                writeln!(f, "{}", output.trim_end_matches('\n'))?;
            }
            if let Some(error) = error {
                writeln!(f, "[{error}]")?;
            }
            writeln!(f)
        });
        if let Err(err) = written {
            tracing::warn!("cannot write transcript {}: {err}", path.display());
        }
    }
}

/// What the attempt's span says of how it ended.
fn record_outcome(span: &tracing::Span, outcome: &Outcome) {
    if span.is_disabled() {
        return;
    }
    let status = match outcome {
        Outcome::Done(_) => StepStatus::Completed,
        Outcome::Failed { failure, .. } => {
            span.record("otel.status_code", "error");
            span.record("error.type", failure.error_type());
            StepStatus::Failed
        }
        Outcome::Waiting { .. } => StepStatus::Waiting,
        Outcome::Cancelled => StepStatus::Cancelled,
    };
    span.record("agentls.step.status", status.as_str());
}

/// The result of a step that failed before it could run.
fn failed_result(error: &str) -> StepResult {
    Produced::default().into_result(StepStatus::Failed, Some(error.into()))
}

fn step_error(step: &Step, error: &str) -> String {
    format!("step `{}` failed: {error}", step.id)
}

fn backoff(base: Duration, tries: u32) -> Duration {
    base.saturating_mul(1 << (tries - 1).min(16))
        .min(MAX_BACKOFF)
}
