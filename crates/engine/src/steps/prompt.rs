//! `prompt` steps: ask one or several models, streaming the answer.

use agentls_store::RunRecord;
use agentls_workflow::Step;
use tokio_util::sync::CancellationToken;

use super::{output, Failure, Outcome, Produced};
use crate::engine::Inner;
use crate::models::PromptCall;

pub async fn execute(
    inner: &std::sync::Arc<Inner>,
    record: &RunRecord,
    step: &Step,
    call: PromptCall,
    cancel: &CancellationToken,
) -> Outcome {
    let Some(models) = inner.models() else {
        return Outcome::failed(
            Failure::Invalid,
            "no provider configured: add a `[providers.NAME]` table and `default_provider` to \
             .agentls/config.toml or ~/.config/agentls/config.toml (see docs/providers.md)",
        );
    };
    let (tx, collected) = output::collector(inner, &record.id, step.id.as_str());
    let answer = tokio::select! {
        answer = models.prompt(call, tx, cancel.clone()) => answer,
        _ = cancel.cancelled() => return Outcome::Cancelled,
    };
    let streamed = collected.await.map(|b| b.text()).unwrap_or_default();
    match answer {
        Ok(answer) => Outcome::Done(Produced {
            outputs: serde_json::to_value(&answer.outputs).ok(),
            usage: answer.usage,
            note: answer.warning,
            ..Produced::output(answer.output)
        }),
        Err(_) if cancel.is_cancelled() => Outcome::Cancelled,
        Err(error) => {
            // What streamed before the failure stays visible with the error;
            // a retry starts the call afresh (start_step clears it).
            Outcome::Failed {
                failure: Failure::Model,
                error,
                produced: Produced::output(streamed),
            }
        }
    }
}
