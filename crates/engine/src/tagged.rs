//! The operations that set a run going (start, retry, skip, override,
//! resume, approve), and the [`Tag`] a caller may give them.

use agentls_store::{
    Action, NewRun, NewStep, OutputBuffer, RunId, RunStatus, StepResult, StepStatus,
};

use crate::engine::{check_run, kind_name, Engine, StartRequest};
use crate::error::EngineError;
use crate::event::Event;
use crate::trust::{untrusted_actions, TrustRequired};

/// An opaque tag a caller gives an operation that sets a run going (start,
/// retry, skip, override, resume, approve): the engine puts it on every
/// [`Event::Run`] of the drive that operation starts, so that the caller
/// knows the drive by it (the LSP shows the drive's progress with the
/// token of the request that asked for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag(pub u64);

/// The engine, for one operation whose drive carries a tag
/// ([`Engine::tagged`]). Everything else is the engine's own (it derefs to
/// [`Engine`]).
pub struct Tagged<'a> {
    engine: &'a Engine,
    tag: Option<Tag>,
}

impl std::ops::Deref for Tagged<'_> {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        self.engine
    }
}

impl<'a> Tagged<'a> {
    pub(crate) fn new(engine: &'a Engine, tag: Option<Tag>) -> Self {
        Tagged { engine, tag }
    }

    /// Creates a run and starts driving it in a task; returns at once.
    pub fn start(&self, request: StartRequest) -> Result<RunId, EngineError> {
        let StartRequest {
            workflow,
            params,
            inputs,
        } = request;
        let params = workflow
            .resolve_params(&params)
            .map_err(|e| EngineError::Params {
                workflow: workflow.name.clone(),
                message: e.to_string(),
            })?;
        if !self.is_trusted(&workflow)? {
            let models = self.inner.models();
            let actions = untrusted_actions(&workflow, models.as_deref());
            if !actions.is_empty() {
                return Err(TrustRequired {
                    workflow: workflow.name.clone(),
                    path: workflow
                        .source
                        .path
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    hash: workflow.source.hash.clone(),
                    actions,
                }
                .into());
            }
        }
        let isolated = crate::isolation::wanted(&workflow, self.inner.options().isolation);
        if isolated {
            crate::isolation::check_repo(&self.inner, &workflow.name)?;
        }
        let new = NewRun {
            workflow_name: workflow.name.clone(),
            workflow_source: workflow.source.kind.into(),
            workflow_path: workflow.source.path.clone(),
            workflow_content: workflow.source.content.clone(),
            content_hash: workflow.source.hash.clone(),
            params: serde_json::to_value(&params).unwrap_or_default(),
            inputs: serde_json::to_value(&inputs).unwrap_or_default(),
            steps: workflow
                .steps
                .iter()
                .map(|s| NewStep::new(s.id.as_str(), kind_name(&s.kind)))
                .collect(),
            owner: Some(self.inner.owner.id.clone()),
        };
        let run = self.inner.store.create_run(&new)?;
        if isolated {
            crate::isolation::record(&self.inner, &run)?;
        }
        self.inner.emit(&Event::Run {
            run: run.clone(),
            workflow: workflow.name.clone(),
            status: RunStatus::Queued,
            error: None,
            tag: self.tag,
        });
        self.engine.spawn(run.clone(), self.tag)?;
        Ok(run)
    }

    /// Runs the failed step again (the failed one, or `step`, which must be
    /// the failed one) and continues the run.
    pub fn retry(&self, run: &RunId, step: Option<&str>) -> Result<(), EngineError> {
        self.paused_step(run, step, Action::Retry)?;
        self.engine.spawn(run.clone(), self.tag)
    }

    /// Skips the failed step and continues with the next one.
    pub fn skip(&self, run: &RunId, step: Option<&str>) -> Result<(), EngineError> {
        let (record, idx) = self.paused_step(run, step, Action::Skip)?;
        self.inner.store.set_step_status(
            run,
            idx,
            StepStatus::Skipped,
            Some("skipped by the user"),
        )?;
        self.inner.emit_step(
            &record,
            idx,
            StepStatus::Skipped,
            None,
            Some("skipped by the user".into()),
        );
        self.engine.spawn(run.clone(), self.tag)
    }

    /// Replaces the failed step's output with `output` (what later templates
    /// see), marks it completed and continues. The output is capped like a
    /// step's own (`EngineOptions::max_output_bytes`: the tail is kept after
    /// a marker line); the step is then marked truncated and its note says
    /// how much was dropped.
    pub fn override_output(
        &self,
        run: &RunId,
        step: &str,
        output: &str,
    ) -> Result<(), EngineError> {
        let (record, idx) = self.paused_step(run, Some(step), Action::Override)?;
        let cap = self.inner.options().max_output_bytes;
        let mut buffer = OutputBuffer::with_cap(cap);
        buffer.push(output.as_bytes());
        let mut result = StepResult::new(StepStatus::Completed, buffer.text());
        result.output_truncated = buffer.is_truncated();
        result.error = Some(if buffer.is_truncated() {
            format!(
                "output overridden by the user; truncated: {} bytes given, only the last {} kept \
                 ([store] max_output_bytes = {cap})",
                output.len(),
                buffer.len()
            )
        } else {
            "output overridden by the user".into()
        });
        self.inner.store.finish_step(run, idx, &result)?;
        self.inner.emit_step(
            &record,
            idx,
            StepStatus::Completed,
            None,
            result.error.clone(),
        );
        self.engine.spawn(run.clone(), self.tag)
    }

    /// Continues an interrupted run (the step a crash cut short runs
    /// again) or a failed one (its failed step runs again).
    pub fn resume(&self, run: &RunId) -> Result<(), EngineError> {
        let record = self.idle_run(run)?;
        check_run(&record, Action::Resume)?;
        match record.status {
            RunStatus::Failed => self.retry(run, None),
            _ => self.engine.spawn(run.clone(), self.tag),
        }
    }

    /// Approves the waiting step and continues the run.
    pub fn approve(
        &self,
        run: &RunId,
        step: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(), EngineError> {
        self.approve_with(run, step, reason, false)
    }

    /// [`Tagged::approve`]; for an agent step waiting on a tool call,
    /// `always` also allows the same command line (or edits of the same
    /// file) for the rest of the run.
    pub fn approve_with(
        &self,
        run: &RunId,
        step: Option<&str>,
        reason: Option<&str>,
        always: bool,
    ) -> Result<(), EngineError> {
        let answer = crate::steps::Answer::Approve { always };
        if self.engine.answer_in_drive(run, step, answer)? {
            return Ok(());
        }
        let (record, idx) = self.paused_step(run, step, Action::Approve)?;
        if record.steps[idx].kind == "agent" {
            return self.answer_agent(run, idx, crate::steps::Answer::Approve { always });
        }
        let output = reason
            .map(|r| format!("approved: {r}"))
            .unwrap_or_else(|| "approved".into());
        self.inner
            .store
            .finish_step(run, idx, &StepResult::new(StepStatus::Completed, output))?;
        self.inner
            .emit_step(&record, idx, StepStatus::Completed, None, None);
        self.engine.spawn(run.clone(), self.tag)
    }
}

impl Tagged<'_> {
    /// Records a person's answer on the tool call agent step `idx` waits
    /// on, and drives the run again: the step goes on from the store.
    pub(crate) fn answer_agent(
        &self,
        run: &RunId,
        idx: usize,
        answer: crate::steps::Answer<'_>,
    ) -> Result<(), EngineError> {
        let said = crate::steps::answer(&self.inner.store, run, idx, answer)?;
        tracing::info!("run {run}: {said}");
        self.engine.spawn(run.clone(), self.tag)
    }
}
