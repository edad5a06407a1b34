//! What the engine tells its subscribers, after each change is committed.

use agentls_store::{RunId, RunStatus, StepStatus};

use crate::tagged::Tag;

/// One thing that happened in a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The run's status changed (committed).
    Run {
        run: RunId,
        workflow: String,
        status: RunStatus,
        error: Option<String>,
        /// The tag of the operation that started this drive (or created
        /// the run), if it had one; `None` for changes no drive makes
        /// (reject, cancelling an idle run).
        tag: Option<Tag>,
    },
    /// A step's status changed (committed).
    Step {
        run: RunId,
        index: usize,
        total: usize,
        step: String,
        title: Option<String>,
        status: StepStatus,
        attempt: u32,
        exit_code: Option<i32>,
        error: Option<String>,
    },
    /// Raw bytes a step produced (terminal escapes included), as they come.
    Output {
        run: RunId,
        step: String,
        bytes: Vec<u8>,
    },
    /// What a running step is doing now, in a few words (an agent step:
    /// `turn 3/25: running cargo test`). Not stored: the next one, or the
    /// step's next status, replaces it.
    Activity {
        run: RunId,
        index: usize,
        text: String,
    },
}

impl Event {
    pub fn run(&self) -> &RunId {
        match self {
            Event::Run { run, .. }
            | Event::Step { run, .. }
            | Event::Output { run, .. }
            | Event::Activity { run, .. } => run,
        }
    }
}

/// Receives events. Called on the engine's tasks: it must not block (push
/// into your own buffer and return; docs/architecture.md, invariant 6).
pub trait Subscriber: Send + Sync {
    fn event(&self, event: &Event);
}
