//! Executing one attempt of one step, by kind. Returns what happened; the
//! driver commits it.

mod edit;
mod output;
mod prompt;
mod run;

use agentls_store::{RunRecord, StepResult, StepStatus};
use agentls_workflow::{Context, Step, StepKind};
use tokio_util::sync::CancellationToken;

use crate::engine::Inner;

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
    let kind = match inner.templates.render_kind(step, ctx) {
        Ok(kind) => kind,
        Err(err) => return Outcome::failed(err.to_string(), false),
    };
    let work = async {
        match kind {
            StepKind::Run { command, env } => {
                run::execute(inner, record, step, command, env, cancel).await
            }
            StepKind::Prompt {
                prompt,
                providers,
                pick,
            } => prompt::execute(inner, record, step, prompt, providers, pick, cancel).await,
            StepKind::Edit(spec) => edit::execute(inner, record, spec).await,
            StepKind::Approve { message } => Outcome::Waiting(
                message.unwrap_or_else(|| format!("step `{}` waits for approval", step.id)),
            ),
        }
    };
    // `run` steps enforce their timeout in the execution layer (it kills the
    // process group); other kinds are bounded here.
    match (step.timeout, &step.kind) {
        (Some(limit), StepKind::Prompt { .. } | StepKind::Edit(_)) => {
            tokio::time::timeout(limit, work)
                .await
                .unwrap_or_else(|_| Outcome::failed(format!("timed out after {limit:?}"), true))
        }
        _ => work.await,
    }
}
