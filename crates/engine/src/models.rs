//! How `prompt` steps reach models. The engine asks a [`Models`]
//! implementation (the providers crate, wired by the server); without one, a
//! prompt step fails with "no provider configured".

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use agentls_store::ModelCall;
use agentls_store::Usage;
use agentls_workflow::Pick;
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// One prompt step's call, rendered.
#[derive(Clone, Debug)]
pub struct PromptCall {
    pub step: String,
    pub prompt: String,
    /// Provider names; empty means the configured default.
    pub providers: Vec<String>,
    pub pick: Pick,
    /// Where the implementation records every call it makes.
    pub calls: CallLog,
}

/// Where a [`Models`] implementation records each provider call as it
/// ends, answered or failed. The engine keeps them with the step attempt
/// (for usage statistics) whatever the step's outcome: a step that times
/// out or fails keeps the calls that ended before.
#[derive(Clone, Debug, Default)]
pub struct CallLog(Arc<Mutex<Vec<ModelCall>>>);

impl CallLog {
    /// Records one call.
    pub fn record(&self, call: ModelCall) {
        self.lock().push(call);
    }

    /// The calls recorded so far, leaving the log empty.
    pub fn take(&self) -> Vec<ModelCall> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ModelCall>> {
        // A panic mid-push leaves a whole vector behind.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the models answered.
#[derive(Clone, Debug, Default)]
pub struct PromptOutcome {
    pub output: String,
    /// Each provider's answer, by provider name.
    pub outputs: BTreeMap<String, String>,
    pub usage: Usage,
    /// A note kept with the completed step (its `error` field, shown next to
    /// the output), e.g. a provider of a fan-out that failed while the
    /// others answered. `None` for a clean answer.
    pub warning: Option<String>,
}

/// One model turn of an `agent` step: the conversation so far and the
/// tools the model may call.
#[derive(Clone, Debug)]
pub struct TurnCall {
    pub step: String,
    /// The provider's name; `None` means the configured default.
    pub provider: Option<String>,
    /// System instructions for the agent.
    pub system: Option<String>,
    /// The whole conversation, the task first.
    pub messages: Vec<agentls_chat::Message>,
    pub tools: Vec<agentls_chat::ToolSpec>,
    /// Where the implementation records the provider call.
    pub calls: CallLog,
}

/// What the model answered in one turn.
#[derive(Clone, Debug, Default)]
pub struct TurnOutcome {
    /// The turn's text (streamed into the step's output as it came).
    pub text: String,
    /// The tools it asked to call, in order; empty when it answered.
    pub tool_calls: Vec<agentls_chat::ToolCall>,
    pub usage: Usage,
    /// Why it stopped, in the vendor's words.
    pub stop_reason: Option<String>,
}

pub trait Models: Send + Sync {
    /// Streams the answer's text into `output` as it arrives. An error is a
    /// message a user can act on.
    fn prompt(
        &self,
        call: PromptCall,
        output: mpsc::Sender<Vec<u8>>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<PromptOutcome, String>>;

    /// Which of these provider names run local programs (`command` kind):
    /// an untrusted workflow may not use them.
    fn command_providers(&self, names: &[String]) -> Vec<String>;

    /// One turn of an agent step: streams the model's text into `output`
    /// and returns it with the tool calls it asked for. A stream that broke
    /// (even in the middle of a tool call's arguments) is retried by the
    /// provider like any call, or is an error: a partial tool call is never
    /// returned.
    fn turn(
        &self,
        call: TurnCall,
        output: mpsc::Sender<Vec<u8>>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<TurnOutcome, String>> {
        let _ = (output, cancel);
        Box::pin(async move {
            Err(format!(
                "step {}: no provider here can call tools",
                call.step
            ))
        })
    }
}
