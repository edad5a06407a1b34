//! A person's answer to an ACP agent, inside the drive: what the step's
//! `allow` rules (and the run's "always" grants) do not cover waits for a
//! person while the agent process lives (docs/agents.md, "Permissions").
//!
//! The question is a tool call row in `waiting` and the step in `waiting`
//! with the exact action as its message, while the run stays `running`
//! (a crash ends the question with the drive: recovery makes the run
//! `interrupted`). `agent.approve` / `agent.reject` (or the CLI, from any
//! agentls process) record the answer on that row
//! ([`crate::Engine::answer_in_drive`]); the step watches the row, woken at
//! once by an answer from this process and every [`POLL`] for one from
//! another.

use std::sync::Arc;
use std::time::Duration;

use agentls_store::{NewToolCall, RunId, StepStatus, ToolCallStatus};
use tokio_util::sync::CancellationToken;

use super::act::PermissionKind;
use crate::engine::Inner;

/// How often a waiting step looks for an answer another process recorded.
const POLL: Duration = Duration::from_millis(250);

/// What the agent wants, as the person is asked it.
pub(super) struct Question {
    /// The agent's tool call id (or one agentls made up for a bare write or
    /// terminal).
    pub call_id: String,
    /// The tool call's name in the store: the ACP kind (`execute`, `edit`...).
    pub kind: String,
    /// What the agent calls it (`Run cargo test`).
    pub title: String,
    /// What an "always" answer allows for the rest of the run, when the
    /// request names it (a command line, a file).
    pub grant: Option<(PermissionKind, String)>,
    /// The exact action: the command line, the diff.
    pub description: String,
}

/// Where the question's tool call row is.
#[derive(Clone, Copy)]
pub(super) enum Slot {
    /// The agent reported the call before it asked: that row waits.
    Reported(u32),
    /// A new row at this position.
    New(u32),
}

impl Slot {
    fn pos(self) -> u32 {
        match self {
            Slot::Reported(pos) | Slot::New(pos) => pos,
        }
    }
}

/// The person's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reply {
    /// `always`: the grant was recorded for the rest of the run.
    Allow {
        always: bool,
    },
    Reject {
        reason: String,
    },
    /// The step was cancelled (or ended) while it waited.
    Cancelled,
}

pub(super) struct Asker {
    pub inner: Arc<Inner>,
    pub run: RunId,
    pub idx: usize,
    pub cancel: CancellationToken,
}

impl Asker {
    /// Records the question, puts the step in `waiting` and waits for the
    /// answer; the step is `running` again once it has one.
    pub async fn ask(&self, slot: Slot, question: &Question) -> Reply {
        let (run, idx) = (&self.run, self.idx);
        let at = (0, slot.pos());
        let grant = question
            .grant
            .as_ref()
            .map(|(kind, subject)| (kind.as_str(), subject.as_str()));
        let input = serde_json::json!({ "title": question.title }).to_string();
        let asked = self.inner.store.write(|tx| {
            match slot {
                Slot::Reported(_) => tx.ask_tool_call(run, idx, at, grant)?,
                Slot::New(pos) => {
                    let new = NewToolCall {
                        seq: 0,
                        pos,
                        call_id: &question.call_id,
                        name: &question.kind,
                        input: &input,
                        ask: grant,
                    };
                    tx.add_tool_call(run, idx, &new, ToolCallStatus::Waiting)?
                }
            }
            tx.set_step_status(run, idx, StepStatus::Waiting, Some(&question.description))
        });
        if let Err(error) = asked {
            return Reply::Reject {
                reason: format!("agentls could not record the question: {error}"),
            };
        }
        self.announce(StepStatus::Waiting, Some(question.description.clone()));
        let reply = self.wait(at, grant).await;
        if reply != Reply::Cancelled {
            let resumed = self.inner.store.write(|tx| {
                if matches!(reply, Reply::Allow { .. }) {
                    tx.start_tool_call(run, idx, at)?;
                }
                tx.set_step_status(run, idx, StepStatus::Running, None)
            });
            if let Err(error) = resumed {
                tracing::warn!("run {run} step {idx}: the answer is not recorded: {error}");
            }
            self.announce(StepStatus::Running, None);
        }
        reply
    }

    async fn wait(&self, at: (u32, u32), grant: Option<(&str, &str)>) -> Reply {
        let store = &self.inner.store;
        loop {
            // Listening before looking: an answer between the two wakes it.
            let woken = self.inner.answered.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let row = match store.tool_calls(&self.run, self.idx) {
                Ok(calls) => calls.into_iter().find(|call| call.pos == at.1),
                Err(error) => {
                    return Reply::Reject {
                        reason: format!("agentls could not read the answer: {error}"),
                    }
                }
            };
            match row.map(|row| (row.status, row.result)) {
                Some((ToolCallStatus::Waiting, _)) => {}
                Some((ToolCallStatus::Rejected, result)) => {
                    return Reply::Reject {
                        reason: result.unwrap_or_else(|| "The user rejected it.".into()),
                    }
                }
                Some(_) => {
                    let always = grant.is_some_and(|(kind, subject)| {
                        store.is_granted(&self.run, kind, subject).unwrap_or(false)
                    });
                    return Reply::Allow { always };
                }
                None => {
                    return Reply::Reject {
                        reason: "the question's record is gone".into(),
                    }
                }
            }
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = self.cancel.cancelled() => return Reply::Cancelled,
            }
        }
    }

    fn announce(&self, status: StepStatus, message: Option<String>) {
        match self.inner.store.run(&self.run) {
            Ok(record) => self
                .inner
                .emit_step(&record, self.idx, status, None, message),
            Err(error) => tracing::warn!("run {}: not announced: {error}", self.run),
        }
    }
}
