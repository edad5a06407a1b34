//! Executing one attempt of one step, by kind. Returns what happened; the
//! driver commits it.

mod edit;
mod output;
mod prompt;
mod run;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use agentls_store::{RunRecord, StepResult, StepStatus};
use agentls_workflow::{Context, Step, StepKind};
use tokio_util::sync::CancellationToken;

use crate::engine::Inner;
use crate::models::{CallLog, PromptCall};

/// How one attempt of a step ended.
pub enum Outcome {
    /// The step did its work (its result has status `completed`).
    Done(StepResult),
    /// The step failed; `retriable` when another attempt could succeed
    /// (a command's exit code, a provider's outage), not a template error.
    Failed {
        result: StepResult,
        retriable: bool,
    },
    /// An approve step now waits for a person, with this message.
    Waiting(String),
    Cancelled,
}

impl Outcome {
    pub fn failed(error: impl Into<String>, retriable: bool) -> Outcome {
        let mut result = StepResult::new(StepStatus::Failed, "");
        result.error = Some(error.into());
        Outcome::Failed { result, retriable }
    }
}

pub async fn execute(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    step: &Step,
    ctx: &Context,
    cancel: &CancellationToken,
) -> Outcome {
    let kind = match render(inner, step, ctx, cancel).await {
        Rendered::Kind(kind) => kind,
        Rendered::Failed(error) => return Outcome::failed(error, false),
        Rendered::Cancelled => return Outcome::Cancelled,
    };
    // Shared with the models: the calls that ended are kept even when the
    // step times out below.
    let calls = CallLog::default();
    let work = async {
        match kind {
            StepKind::Run { command, env } => {
                run::execute(inner, record, step, command, env, cancel).await
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
                outcome = edit::execute(inner, record, spec) => outcome,
                _ = cancel.cancelled() => Outcome::Cancelled,
            },
            StepKind::Approve { message } => Outcome::Waiting(
                message.unwrap_or_else(|| format!("step `{}` waits for approval", step.id)),
            ),
        }
    };
    // `run` steps enforce their timeout in the execution layer (it kills the
    // process group); other kinds are bounded here.
    let mut outcome = match (step.timeout, &step.kind) {
        (Some(limit), StepKind::Prompt { .. } | StepKind::Edit(_)) => {
            tokio::time::timeout(limit, work)
                .await
                .unwrap_or_else(|_| Outcome::failed(format!("timed out after {limit:?}"), true))
        }
        _ => work.await,
    };
    if let Outcome::Done(result) | Outcome::Failed { result, .. } = &mut outcome {
        result.model_calls = calls.take();
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
