//! `agent` steps: a model works on the task in turns, calling the built-in
//! tools, until it answers without a tool call or a bound is hit.
//!
//! Every message and every tool call is a checkpoint in the store before
//! the next thing happens (docs/architecture.md, "Agent steps"):
//! - a model turn is stored when it has ended, so a crash mid-stream asks
//!   the model again, and a stored turn is never asked for twice;
//! - a tool call is stored when the model asks for it (`waiting` when it
//!   needs a person, else `approved`), marked `running` with its start
//!   counted before it starts, and `completed` with its result before the
//!   next turn. On resume a completed call is never run again (its stored
//!   result goes to the model); a command that was in flight runs again at
//!   most once; an edit that was in flight is planned again against the
//!   file as it is now.
//!
//! Durability: every checkpoint is committed before the loop goes on, so it
//! survives agentls being killed at any point (the WAL is written). Only the
//! start of a call that acts outside the store (a command, an edit) waits
//! for the disk too (fsync): after a power loss a model turn or a read may
//! be asked or done again, but a command is never run a second time
//! unknowingly. The step's end is a durable commit like any step's.
//!
//! What changes something or runs something goes through one permission
//! policy ([`policy`]): the step's `allow` rules, then the approvals given
//! for the rest of the run, else the step waits for `agent.approve` /
//! `agent.reject`.

mod acp;
mod acp_ask;
mod acp_terminal;
mod act;
mod policy;

use std::sync::Arc;

use agentls_chat::{Message, ToolCall, ToolResult};
use agentls_store::{Durability, NewToolCall, RunRecord, ToolCallRecord, ToolCallStatus, Usage};
use agentls_workflow::{AgentSpec, Step};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{output, Failure, Outcome, Produced};
use crate::engine::Inner;
use crate::models::{CallLog, TurnCall};
pub use policy::Decision;

/// What the agent is told about its situation, before the task.
const SYSTEM: &str = "You are an agent working in a software project on the user's behalf. \
Use the tools to look at the project, run commands and change files; paths are relative to \
the project's root. Work until the task is done, then answer with a short summary of what you \
did and what you found, without calling a tool. When a tool call is refused, do not try to get \
around the refusal: say what you needed and why.";

/// Everything one execution of an agent step needs.
pub(crate) struct Agent<'a> {
    pub inner: &'a Arc<Inner>,
    pub record: &'a RunRecord,
    pub idx: usize,
    pub step: &'a Step,
    pub spec: AgentSpec,
    /// Where its tools read, write and run commands (the workspace or the
    /// run's worktree), and the commands' sandbox.
    pub tree: &'a crate::isolation::WorkingTree,
    pub calls: CallLog,
    /// The attempt starts after a failure (a retry): the turn budget starts
    /// afresh, the conversation goes on.
    pub after_failure: bool,
    pub cancel: &'a CancellationToken,
}

/// How a step's tool call ended.
pub(crate) struct Done {
    pub content: String,
    pub is_error: bool,
    /// The one line the live view shows.
    pub summary: String,
}

impl Agent<'_> {
    pub async fn execute(self) -> Outcome {
        if let Some(name) = self.spec.acp.clone() {
            return acp::execute(self, &name).await;
        }
        let (tx, collected) = output::collector(self.inner, &self.record.id, self.step.id.as_str());
        let ended = self.converse(&tx).await;
        drop(tx);
        let streamed = collected.await.map(|b| b.text()).unwrap_or_default();
        match ended {
            Ok(Ended::Answer { text, usage }) => Outcome::Done(Produced {
                usage,
                transcript: Some(streamed),
                ..Produced::output(text)
            }),
            Ok(Ended::Waiting(message)) => Outcome::Waiting {
                message,
                transcript: Some(streamed),
            },
            Ok(Ended::Cancelled) => Outcome::Cancelled,
            Err((failure, error)) if !self.cancel.is_cancelled() => Outcome::Failed {
                failure,
                error,
                produced: Produced::output(streamed),
            },
            Err(_) => Outcome::Cancelled,
        }
    }

    async fn converse(&self, out: &mpsc::Sender<Vec<u8>>) -> Result<Ended, (Failure, String)> {
        let store = &self.inner.store;
        let (run, idx) = (&self.record.id, self.idx);
        let stored = store.agent_messages(run, idx).map_err(invalid)?;
        let mut messages = Vec::with_capacity(stored.len() + 1);
        for row in &stored {
            let message: Message = serde_json::from_str(&row.message).map_err(|e| {
                invalid(format!(
                    "message {} of the conversation is unreadable: {e}",
                    row.seq
                ))
            })?;
            messages.push(message);
        }
        let segment = match stored.last() {
            Some(last) if self.after_failure => last.segment + 1,
            Some(last) => last.segment,
            None => 0,
        };
        // The budget counts this segment's turns and tokens, stored ones too.
        let mut turns = 0;
        let mut usage = Usage::default();
        for (row, message) in stored.iter().zip(&messages) {
            if row.segment == segment && matches!(message, Message::Assistant { .. }) {
                turns += 1;
                add_usage(&mut usage, &row.usage);
            }
        }
        if messages.is_empty() {
            let task = Message::User {
                text: self.spec.task.clone(),
            };
            self.append(0, &task, segment, &Usage::default())?;
            messages.push(task);
        } else if self.after_failure {
            let done = messages
                .iter()
                .filter(|m| matches!(m, Message::Assistant { .. }))
                .count();
            let turns = if done == 1 { "turn" } else { "turns" };
            let line = format!("[going on after the failure: {done} {turns} so far]\n");
            let _ = out.send(line.into_bytes()).await;
        }
        let tools = act::Toolbox::new(self)?;
        let specs = tools.specs();
        loop {
            if self.cancel.is_cancelled() {
                return Ok(Ended::Cancelled);
            }
            let last = messages.len() - 1;
            match &messages[last] {
                Message::Assistant { text, tool_calls } if tool_calls.is_empty() => {
                    return Ok(Ended::Answer {
                        text: text.clone(),
                        usage,
                    });
                }
                Message::Assistant { tool_calls, .. } => {
                    let calls = tool_calls.clone();
                    let seq = last as u32;
                    let results = match self.settle(&tools, seq, &calls, out).await? {
                        Settled::Results(results) => results,
                        Settled::Waiting(message) => return Ok(Ended::Waiting(message)),
                        Settled::Cancelled => return Ok(Ended::Cancelled),
                    };
                    let message = Message::Tool { results };
                    self.append(messages.len(), &message, segment, &Usage::default())?;
                    messages.push(message);
                }
                Message::User { .. } | Message::Tool { .. } => {
                    if turns >= self.spec.max_turns {
                        return Err((
                            Failure::Limit,
                            format!(
                                "the agent used its {} turns (`max_turns`) without finishing; \
                                 `agent.retry` goes on from here with a fresh budget",
                                self.spec.max_turns
                            ),
                        ));
                    }
                    if let Some(budget) = self.spec.token_budget {
                        let used =
                            usage.input_tokens.unwrap_or(0) + usage.output_tokens.unwrap_or(0);
                        if used >= budget {
                            return Err((
                                Failure::Limit,
                                format!(
                                    "the agent used {used} tokens, past its `token_budget` of \
                                     {budget}; `agent.retry` goes on from here with a fresh budget"
                                ),
                            ));
                        }
                    }
                    turns += 1;
                    self.activity(format!("turn {turns}/{}: thinking", self.spec.max_turns));
                    let Some(models) = self.inner.models() else {
                        return Err((Failure::Invalid, NO_PROVIDER.into()));
                    };
                    let call = TurnCall {
                        step: self.step.id.to_string(),
                        provider: self.spec.provider.clone(),
                        system: Some(SYSTEM.into()),
                        messages: messages.clone(),
                        tools: specs.clone(),
                        calls: self.calls.clone(),
                    };
                    let answer = tokio::select! {
                        answer = models.turn(call, out.clone(), self.cancel.clone()) => answer,
                        _ = self.cancel.cancelled() => return Ok(Ended::Cancelled),
                    };
                    let answer = answer.map_err(|error| (Failure::Model, error))?;
                    add_usage(&mut usage, &answer.usage);
                    if !answer.text.is_empty() && !answer.text.ends_with('\n') {
                        let _ = out.send(b"\n".to_vec()).await;
                    }
                    let message = Message::Assistant {
                        text: answer.text,
                        tool_calls: answer.tool_calls,
                    };
                    self.append(messages.len(), &message, segment, &answer.usage)?;
                    messages.push(message);
                }
            }
        }
    }

    /// Gives every call of assistant message `seq` its result: a stored
    /// one, or by running it (after the permission check).
    async fn settle(
        &self,
        tools: &act::Toolbox<'_>,
        seq: u32,
        calls: &[ToolCall],
        out: &mpsc::Sender<Vec<u8>>,
    ) -> Result<Settled, (Failure, String)> {
        let store = &self.inner.store;
        let (run, idx) = (&self.record.id, self.idx);
        let stored: Vec<ToolCallRecord> = store.tool_calls_of(run, idx, seq).map_err(invalid)?;
        let mut results = Vec::with_capacity(calls.len());
        for (pos, call) in calls.iter().enumerate() {
            let pos = pos as u32;
            let row = stored.iter().find(|row| row.pos == pos);
            let status = match row {
                Some(row) if row.status.is_final() => {
                    // Answered while the run waited (a rejection), or done
                    // before agentls stopped: said again, not done again.
                    if let Some(summary) = &row.summary {
                        let _ = out.send(format!("▸ {summary}\n").into_bytes()).await;
                    }
                    results.push(ToolResult {
                        call_id: call.id.clone(),
                        name: call.name.clone(),
                        content: row.result.clone().unwrap_or_default(),
                        is_error: row.is_error,
                    });
                    continue;
                }
                // Still waiting when the step is driven again: an "always"
                // given for an earlier call may cover it now.
                Some(row) if row.status == ToolCallStatus::Waiting => {
                    match policy::decide(self, tools, call).await.map_err(invalid)? {
                        Decision::Ask { description, .. } => {
                            return Ok(wait(out, description).await)
                        }
                        Decision::Allowed => {
                            store
                                .write_with(Durability::Relaxed, |tx| {
                                    tx.set_tool_call_status(
                                        run,
                                        idx,
                                        (seq, pos),
                                        ToolCallStatus::Approved,
                                    )
                                })
                                .map_err(invalid)?;
                            ToolCallStatus::Approved
                        }
                    }
                }
                Some(row) => row.status,
                None => {
                    let decision = policy::decide(self, tools, call).await.map_err(invalid)?;
                    let (status, ask) = match &decision {
                        Decision::Allowed => (ToolCallStatus::Approved, None),
                        Decision::Ask { kind, subject, .. } => {
                            (ToolCallStatus::Waiting, Some((*kind, subject.as_str())))
                        }
                    };
                    let input = serde_json::to_string(&call.input).unwrap_or_default();
                    let new = NewToolCall {
                        seq,
                        pos,
                        call_id: &call.id,
                        name: &call.name,
                        input: &input,
                        ask,
                    };
                    store
                        .write_with(Durability::Relaxed, |tx| {
                            tx.add_tool_call(run, idx, &new, status)
                        })
                        .map_err(invalid)?;
                    if let Decision::Ask { description, .. } = decision {
                        return Ok(wait(out, description).await);
                    }
                    status
                }
            };
            let starts = row.map(|r| r.starts).unwrap_or(0);
            let in_flight = status == ToolCallStatus::Running;
            let done = if in_flight && starts >= 2 && act::is_command(call) {
                Done {
                    content: "this command was interrupted twice (agentls stopped while it ran); \
                              it was not run a third time. Run it again if you still need it."
                        .into(),
                    is_error: true,
                    summary: format!("{}: interrupted twice, not run again", call.name),
                }
            } else {
                store
                    .write_with(act::start_durability(call), |tx| {
                        tx.start_tool_call(run, idx, (seq, pos))
                    })
                    .map_err(invalid)?;
                self.activity(format!(
                    "turn {}/{}: {}",
                    turn_of(seq),
                    self.spec.max_turns,
                    tools.activity(call)
                ));
                // GenAI semantic conventions; the step's span is the parent.
                // Inputs and results are content: not recorded here.
                let span = tracing::info_span!(
                    target: "agentls::trace",
                    "execute_tool",
                    otel.name = %format_args!("execute_tool {}", call.name),
                    gen_ai.operation.name = "execute_tool",
                    gen_ai.tool.name = %call.name,
                    gen_ai.tool.call.id = %call.id,
                    otel.status_code = tracing::field::Empty,
                    error.type = tracing::field::Empty,
                );
                match tools
                    .run(call, in_flight, self.cancel)
                    .instrument(span.clone())
                    .await
                {
                    Some(done) => {
                        if done.is_error {
                            span.record("otel.status_code", "error");
                            span.record("error.type", "tool_error");
                        }
                        done
                    }
                    None => return Ok(Settled::Cancelled),
                }
            };
            let _ = out.send(format!("▸ {}\n", done.summary).into_bytes()).await;
            store
                .write_with(Durability::Relaxed, |tx| {
                    tx.finish_tool_call(
                        run,
                        idx,
                        (seq, pos),
                        ToolCallStatus::Completed,
                        &done.content,
                        done.is_error,
                        &done.summary,
                    )
                })
                .map_err(invalid)?;
            results.push(ToolResult {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content: done.content,
                is_error: done.is_error,
            });
        }
        Ok(Settled::Results(results))
    }

    fn activity(&self, text: String) {
        self.inner.emit(&crate::event::Event::Activity {
            run: self.record.id.clone(),
            index: self.idx,
            text,
        });
    }

    /// Stores message `seq` (the conversation's length before it).
    fn append(
        &self,
        seq: usize,
        message: &Message,
        segment: u32,
        usage: &Usage,
    ) -> Result<(), (Failure, String)> {
        let text = serde_json::to_string(message).map_err(|e| invalid(e.to_string()))?;
        let store = &self.inner.store;
        let (run, idx) = (&self.record.id, self.idx);
        let seq = u32::try_from(seq).map_err(invalid)?;
        store
            .write_with(Durability::Relaxed, |tx| {
                tx.append_agent_message(run, idx, seq, segment, &text, usage)
            })
            .map_err(invalid)
    }
}

const NO_PROVIDER: &str = "no provider configured: add a `[providers.NAME]` table and \
`default_provider` to .agentls/config.toml or ~/.config/agentls/config.toml (see docs/providers.md)";

enum Ended {
    Answer { text: String, usage: Usage },
    Waiting(String),
    Cancelled,
}

enum Settled {
    Results(Vec<ToolResult>),
    Waiting(String),
    Cancelled,
}

/// The step waits on a call: says so in the live output.
async fn wait(out: &mpsc::Sender<Vec<u8>>, description: String) -> Settled {
    let _ = out
        .send(format!("⏸ waiting for approval: {description}\n").into_bytes())
        .await;
    Settled::Waiting(description)
}

/// The turn (from 1) that assistant message `seq` was: the task is message
/// 0, and each turn is an assistant message and its tool results.
fn turn_of(seq: u32) -> u32 {
    seq.div_ceil(2)
}

fn invalid(error: impl ToString) -> (Failure, String) {
    (Failure::Invalid, error.to_string())
}

fn add_usage(total: &mut Usage, turn: &Usage) {
    let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    total.input_tokens = sum(total.input_tokens, turn.input_tokens);
    total.output_tokens = sum(total.output_tokens, turn.output_tokens);
    total.cached_tokens = sum(total.cached_tokens, turn.cached_tokens);
    if turn.provider.is_some() {
        total.provider = turn.provider.clone();
    }
    if turn.model.is_some() {
        total.model = turn.model.clone();
    }
}

/// A person's answer to the tool call an agent step waits on.
pub(crate) enum Answer<'a> {
    /// Run it; `always`: and allow the same command line (or edits of the
    /// same file) for the rest of the run.
    Approve { always: bool },
    /// Do not run it; the model gets the reason as the call's result.
    Reject { reason: Option<&'a str> },
}

/// Records `answer` on the waiting tool call of agent step `idx`; the step
/// goes on when the run is driven again. Returns the one line said about it.
pub(crate) fn answer(
    store: &agentls_store::Store,
    run: &agentls_store::RunId,
    idx: usize,
    answer: Answer<'_>,
) -> Result<String, agentls_store::StoreError> {
    let calls = store.tool_calls(run, idx)?;
    let Some(waiting) = calls
        .iter()
        .find(|call| call.status == ToolCallStatus::Waiting)
    else {
        return Err(agentls_store::StoreError::Corrupt(format!(
            "run {run}: the agent step waits for approval but no tool call of it does"
        )));
    };
    let at = (waiting.seq, waiting.pos);
    store.write(|tx| match answer {
        Answer::Approve { always } => {
            tx.set_tool_call_status(run, idx, at, ToolCallStatus::Approved)?;
            match (&waiting.ask, always) {
                (Some((kind, subject)), true) => {
                    tx.grant(run, kind, subject)?;
                    Ok(format!(
                        "approved {kind} `{subject}` for the rest of the run"
                    ))
                }
                _ => Ok(format!("approved {}", waiting.name)),
            }
        }
        Answer::Reject { reason } => {
            let content = match reason {
                Some(reason) => format!("The user rejected this tool call: {reason}"),
                None => "The user rejected this tool call.".to_string(),
            };
            let why = match reason {
                Some(reason) => format!("rejected ({reason})"),
                None => "rejected".to_string(),
            };
            let summary = act::summary_of(&waiting.name, &waiting.input, why);
            tx.finish_tool_call(
                run,
                idx,
                at,
                ToolCallStatus::Rejected,
                &content,
                true,
                &summary,
            )?;
            Ok(summary)
        }
    })
}
