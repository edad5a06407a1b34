//! `prompt` steps: ask one or several models, streaming the answer.

use agentls_store::{RunRecord, StepResult, StepStatus};
use agentls_workflow::{Pick, Step};
use tokio_util::sync::CancellationToken;

use super::{output, Outcome};
use crate::engine::Inner;
use crate::models::PromptCall;

pub async fn execute(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    step: &Step,
    prompt: String,
    providers: Vec<String>,
    pick: Pick,
    cancel: &CancellationToken,
) -> Outcome {
    let Some(models) = inner.models() else {
        return Outcome::failed(
            "no provider configured: add a `[providers.NAME]` table and `default_provider` to \
             .agentls/config.toml or ~/.config/agentls/config.toml (see docs/providers.md)",
            false,
        );
    };
    let (tx, collected) = output::collector(inner, &record.id, step.id.as_str());
    let call = PromptCall {
        step: step.id.to_string(),
        prompt,
        providers,
        pick,
    };
    let answer = tokio::select! {
        answer = models.prompt(call, tx, cancel.clone()) => answer,
        _ = cancel.cancelled() => return Outcome::Cancelled,
    };
    let _ = collected.await;
    match answer {
        Ok(answer) => {
            let mut result = StepResult::new(StepStatus::Completed, answer.output);
            result.outputs = serde_json::to_value(&answer.outputs).ok();
            result.usage = answer.usage;
            result.error = answer.warning;
            Outcome::Done(result)
        }
        Err(_) if cancel.is_cancelled() => Outcome::Cancelled,
        Err(error) => Outcome::failed(error, true),
    }
}
