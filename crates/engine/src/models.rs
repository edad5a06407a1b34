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
}
