//! Executing one attempt of one step, by kind. Returns what happened; the
//! driver commits it.

mod agent;
mod edit;
mod output;
mod prompt;
pub(crate) mod run;
mod sandbox;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use agentls_store::{ModelCall, RunRecord, StepResult, StepStatus, Usage};
use agentls_workflow::{Context, Step, StepKind};
use tokio_util::sync::CancellationToken;

use crate::engine::Inner;
use crate::isolation::WorkingTree;
use crate::models::{CallLog, PromptCall};
pub(crate) use agent::{answer, Answer};
pub(crate) use sandbox::agent_policy as agent_sandbox_policy;
pub(crate) use sandbox::policy as sandbox_policy;
pub use sandbox::SandboxSettings;

/// How one attempt of a step ended: the one place that says it (the
/// result the driver stores takes its status from here).
pub enum Outcome {
    /// The step did its work.
    Done(Produced),
    /// The attempt failed: what kind of failure, why in words, and what it
    /// produced before.
    Failed {
        failure: Failure,
        error: String,
        produced: Produced,
    },
    /// The step waits for a person (an approve step, an agent's tool call),
    /// saying what for; `transcript`: what the attempt did before (an
    /// agent's turns so far).
    Waiting {
        message: String,
        transcript: Option<String>,
    },
    Cancelled,
}

impl Outcome {
    /// A failure that produced nothing.
    pub fn failed(failure: Failure, error: impl Into<String>) -> Outcome {
        Outcome::Failed {
            failure,
            error: error.into(),
            produced: Produced::default(),
        }
    }
}

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A command exited with a code other than 0.
    ExitCode,
    /// A command was killed by a signal (not ours).
    Signal,
    /// The step ran past its `timeout`; its work was stopped.
    Timeout,
    /// No model answered the prompt (the provider's outage, refusal...).
    Model,
    /// The step cannot work as written: a template that does not render,
    /// a command that cannot start, an edit that does not apply, no
    /// provider configured. Trying again does the same.
    Invalid,
    /// An agent used its turns (`max_turns`) or tokens (`token_budget`):
    /// not tried again by itself; a retry by the user goes on with a fresh
    /// budget.
    Limit,
}

impl Failure {
    /// Whether another attempt could succeed (automatic retries).
    pub fn retriable(self) -> bool {
        !matches!(self, Failure::Invalid | Failure::Limit)
    }

    /// A low-cardinality class of the failure, for a span's `error.type`.
    pub fn error_type(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::ExitCode => "exit_code",
            Failure::Invalid => "invalid_step",
            Failure::Limit => "limit",
            Failure::Signal | Failure::Model => "step_failed",
        }
    }
}

/// What an attempt produced, however it ended: a step's result without
/// its status (the [`Outcome`] says that).
#[derive(Debug, Default)]
pub struct Produced {
    /// The (capped) output text.
    pub output: String,
    pub output_truncated: bool,
    /// The command's exit code, for `run` steps.
    pub exit_code: Option<i32>,
    /// Structured outputs, e.g. one answer per provider.
    pub outputs: Option<serde_json::Value>,
    /// A remark on a completed attempt (a model's warning).
    pub note: Option<String>,
    pub usage: Usage,
    /// Every model call the attempt made.
    pub model_calls: Vec<ModelCall>,
    /// What the transcript shows of the attempt when it is more than the
    /// output: an agent step's every turn and tool call (its output is the
    /// final answer only).
    pub transcript: Option<String>,
}

impl Produced {
    pub fn output(output: impl Into<String>) -> Produced {
        Produced {
            output: output.into(),
            ..Produced::default()
        }
    }

    /// The result to store for a step that ends `status`, saying `error`.
    pub fn into_result(self, status: StepStatus, error: Option<String>) -> StepResult {
        let mut result = StepResult::new(status, self.output);
        result.output_truncated = self.output_truncated;
        result.exit_code = self.exit_code;
        result.outputs = self.outputs;
        result.error = error;
        result.usage = self.usage;
        result.model_calls = self.model_calls;
        result
    }
}

/// Where an attempt stands among the step's attempts.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    /// The step's position in the run.
    pub idx: usize,
    /// The attempt follows a failure of the step (a retry, automatic or
    /// the user's), not a pause or a crash.
    pub after_failure: bool,
}

pub async fn execute(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    step: &Step,
    attempt: Attempt,
    tree: &WorkingTree,
    ctx: &Context,
    cancel: &CancellationToken,
) -> Outcome {
    let kind = match render(inner, step, ctx, cancel).await {
        Rendered::Kind(kind) => kind,
        Rendered::Failed(error) => return Outcome::failed(Failure::Invalid, error),
        Rendered::Cancelled => return Outcome::Cancelled,
    };
    // Shared with the models: the calls that ended are kept even when the
    // step times out below.
    let calls = CallLog::default();
    let work = async {
        match kind {
            StepKind::Run { command, env } => {
                run::execute(inner, record, step, tree, command, env, cancel).await
            }
            StepKind::Prompt {
                prompt,
                providers,
                pick,
            } => {
                let call = PromptCall {
                    step: step.id.to_string(),
                    prompt,
                    providers,
                    pick,
                    calls: calls.clone(),
                };
                prompt::execute(inner, record, step, call, cancel).await
            }
            // Cancel wins over an editor that never answers its applyEdit.
            StepKind::Edit(spec) => tokio::select! {
                outcome = edit::execute(inner, record, tree, spec) => outcome,
                _ = cancel.cancelled() => Outcome::Cancelled,
            },
            StepKind::Approve { message } => Outcome::Waiting {
                message: message
                    .unwrap_or_else(|| format!("step `{}` waits for approval", step.id)),
                transcript: None,
            },
            StepKind::Agent(spec) => {
                agent::Agent {
                    inner,
                    record,
                    idx: attempt.idx,
                    step,
                    spec,
                    tree,
                    calls: calls.clone(),
                    after_failure: attempt.after_failure,
                    cancel,
                }
                .execute()
                .await
            }
        }
    };
    // `run` steps enforce their timeout in the execution layer (it kills the
    // process group); other kinds are bounded here.
    let mut outcome = match (step.timeout, &step.kind) {
        (Some(limit), StepKind::Prompt { .. } | StepKind::Edit(_) | StepKind::Agent(_)) => {
            tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Outcome::failed(Failure::Timeout, format!("timed out after {limit:?}"))
            })
        }
        _ => work.await,
    };
    if let Outcome::Done(produced) | Outcome::Failed { produced, .. } = &mut outcome {
        produced.model_calls = calls.take();
    }
    outcome
}

enum Rendered {
    Kind(StepKind),
    Failed(String),
    Cancelled,
}

/// Renders the step's templates on the blocking pool, not on the runtime's
/// workers: a template may burn its whole fuel (seconds), and cancel must be
/// answered at once meanwhile. A cancelled render is told to stop (it gives
/// up at its next write of output) and is not waited for; one that writes
/// nothing ends when its fuel does.
async fn render(
    inner: &Arc<Inner>,
    step: &Step,
    ctx: &Context,
    cancel: &CancellationToken,
) -> Rendered {
    let stop = Arc::new(AtomicBool::new(false));
    let job = {
        let (inner, step, ctx, stop) = (inner.clone(), step.clone(), ctx.clone(), stop.clone());
        tokio::task::spawn_blocking(move || inner.templates.render_kind_until(&step, &ctx, &stop))
    };
    tokio::select! {
        joined = job => match joined {
            Ok(Ok(kind)) => Rendered::Kind(kind),
            Ok(Err(err)) => Rendered::Failed(err.to_string()),
            Err(err) => Rendered::Failed(format!(
                "step `{}`: rendering its templates failed: {err}",
                step.id
            )),
        },
        _ = cancel.cancelled() => {
            stop.store(true, Ordering::Relaxed);
            Rendered::Cancelled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Failure;

    #[test]
    fn only_a_step_that_cannot_work_as_written_is_not_tried_again() {
        use Failure::*;
        let classes: Vec<(Failure, bool, &str)> =
            [ExitCode, Signal, Timeout, Model, Invalid, Limit]
                .into_iter()
                .map(|f| (f, f.retriable(), f.error_type()))
                .collect();
        assert_eq!(
            classes,
            [
                (ExitCode, true, "exit_code"),
                (Signal, true, "step_failed"),
                (Timeout, true, "timeout"),
                // A model's own "timed out" is the provider's failure, not
                // the step's `timeout`.
                (Model, true, "step_failed"),
                (Invalid, false, "invalid_step"),
                // A retry by the user goes on with a fresh budget.
                (Limit, false, "limit"),
            ]
        );
    }
}
