//! Agent steps' checkpoints: the conversation message by message, every
//! tool call with its status and result, and the approvals given "for the
//! rest of this run".
//!
//! Messages and tool inputs are opaque JSON text here (the engine owns their
//! shape). What the store guarantees: a call is marked `running` (and its
//! start counted) in a committed transaction before the engine starts it,
//! and its result is committed before the next model turn; so after a crash
//! the engine knows which calls completed (never run again), which were in
//! flight (and how often they were started), and which wait for a person.

use rusqlite::{params, OptionalExtension};

use crate::sql::{idx_sql, to_i64};
use crate::{RunId, Store, StoreError, Usage, WriteTx};

/// Where a tool call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolCallStatus {
    /// Outside the step's `allow` rules: waits for a person.
    Waiting,
    /// A person allowed it; not started yet.
    Approved,
    /// Started (and counted in `starts`); no result yet.
    Running,
    /// Ran; its result (an error result included) is stored.
    Completed,
    /// A person refused it; the reason is its result.
    Rejected,
}

impl ToolCallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolCallStatus::Waiting => "waiting",
            ToolCallStatus::Approved => "approved",
            ToolCallStatus::Running => "running",
            ToolCallStatus::Completed => "completed",
            ToolCallStatus::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "waiting" => ToolCallStatus::Waiting,
            "approved" => ToolCallStatus::Approved,
            "running" => ToolCallStatus::Running,
            "completed" => ToolCallStatus::Completed,
            "rejected" => ToolCallStatus::Rejected,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unknown tool call status `{other}`"
                )))
            }
        })
    }

    /// Whether the call has its result.
    pub fn is_final(self) -> bool {
        matches!(self, ToolCallStatus::Completed | ToolCallStatus::Rejected)
    }
}

/// One stored message of an agent step's conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentMessage {
    /// Position in the conversation, from 0.
    pub seq: u32,
    /// The turn budget it counts against: a retry starts a new segment.
    pub segment: u32,
    /// The message, as the engine serialized it.
    pub message: String,
    /// The tokens of the model turn that produced it.
    pub usage: Usage,
}

/// A tool call as asked for, before it has a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToolCall<'a> {
    /// The assistant message that asked for it.
    pub seq: u32,
    /// Its position among that message's calls.
    pub pos: u32,
    pub call_id: &'a str,
    pub name: &'a str,
    /// The arguments, as JSON text.
    pub input: &'a str,
    /// For a call that waits for a person: what an "always" answer allows
    /// for the rest of the run, as `(kind, subject)` (`("run", "cargo test")`).
    pub ask: Option<(&'a str, &'a str)>,
}

/// A stored tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallRecord {
    pub seq: u32,
    pub pos: u32,
    pub call_id: String,
    pub name: String,
    pub input: String,
    pub status: ToolCallStatus,
    /// How often it was started (a crash can cut a start short).
    pub starts: u32,
    pub result: Option<String>,
    pub is_error: bool,
    /// The one-line summary shown in the live view (`run cargo test (exit 0, 1.2 s)`).
    pub summary: Option<String>,
    /// See [`NewToolCall::ask`].
    pub ask: Option<(String, String)>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl WriteTx<'_> {
    /// Appends message `seq` of step `idx`'s conversation.
    pub fn append_agent_message(
        &mut self,
        run: &RunId,
        idx: usize,
        seq: u32,
        segment: u32,
        message: &str,
        usage: &Usage,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO agent_messages (run_id, step_idx, seq, segment, message, \
                 input_tokens, output_tokens, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                run,
                idx_sql(idx),
                seq,
                segment,
                message,
                to_i64(usage.input_tokens),
                to_i64(usage.output_tokens),
                self.now,
            ])?;
        Ok(())
    }

    /// Records a tool call the model asked for, in `status` (`waiting` or
    /// `approved`).
    pub fn add_tool_call(
        &mut self,
        run: &RunId,
        idx: usize,
        call: &NewToolCall<'_>,
        status: ToolCallStatus,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO tool_calls (run_id, step_idx, seq, pos, call_id, name, input, status, \
                 ask_kind, ask_subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                run,
                idx_sql(idx),
                call.seq,
                call.pos,
                call.call_id,
                call.name,
                call.input,
                status.as_str(),
                call.ask.map(|(kind, _)| kind),
                call.ask.map(|(_, subject)| subject),
            ])?;
        Ok(())
    }

    /// Changes a call's status (an approval), without a result.
    pub fn set_tool_call_status(
        &mut self,
        run: &RunId,
        idx: usize,
        (seq, pos): (u32, u32),
        status: ToolCallStatus,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE tool_calls SET status = ?5 \
                 WHERE run_id = ?1 AND step_idx = ?2 AND seq = ?3 AND pos = ?4",
            )?
            .execute(params![run, idx_sql(idx), seq, pos, status.as_str()])?;
        one_row(changed, run, idx, seq, pos)
    }

    /// Puts a call already recorded (an ACP agent's, reported before it
    /// asked) back to `waiting` for a person, with what an "always"
    /// answer allows (`ask`: kind and subject).
    pub fn ask_tool_call(
        &mut self,
        run: &RunId,
        idx: usize,
        (seq, pos): (u32, u32),
        ask: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE tool_calls SET status = 'waiting', ask_kind = ?5, ask_subject = ?6 \
                 WHERE run_id = ?1 AND step_idx = ?2 AND seq = ?3 AND pos = ?4",
            )?
            .execute(params![
                run,
                idx_sql(idx),
                seq,
                pos,
                ask.map(|(kind, _)| kind),
                ask.map(|(_, subject)| subject),
            ])?;
        one_row(changed, run, idx, seq, pos)
    }

    /// Marks a call `running` and counts the start: committed before the
    /// engine starts it.
    pub fn start_tool_call(
        &mut self,
        run: &RunId,
        idx: usize,
        (seq, pos): (u32, u32),
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE tool_calls SET status = 'running', starts = starts + 1, started_at = ?5 \
                 WHERE run_id = ?1 AND step_idx = ?2 AND seq = ?3 AND pos = ?4",
            )?
            .execute(params![run, idx_sql(idx), seq, pos, self.now])?;
        one_row(changed, run, idx, seq, pos)
    }

    /// Stores a call's result: `completed`, or `rejected` with the person's
    /// reason as the result.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_tool_call(
        &mut self,
        run: &RunId,
        idx: usize,
        (seq, pos): (u32, u32),
        status: ToolCallStatus,
        result: &str,
        is_error: bool,
        summary: &str,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE tool_calls SET status = ?5, result = ?6, is_error = ?7, summary = ?8, \
                 finished_at = ?9 \
                 WHERE run_id = ?1 AND step_idx = ?2 AND seq = ?3 AND pos = ?4",
            )?
            .execute(params![
                run,
                idx_sql(idx),
                seq,
                pos,
                status.as_str(),
                result,
                is_error,
                summary,
                self.now
            ])?;
        one_row(changed, run, idx, seq, pos)
    }

    /// Allows `subject` (a command line, a path) of `kind` (`run`, `edit`)
    /// without asking, for the rest of the run.
    pub fn grant(&mut self, run: &RunId, kind: &str, subject: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO agent_grants (run_id, kind, subject) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![run, kind, subject])?;
        Ok(())
    }
}

fn from_i64(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

fn one_row(changed: usize, run: &RunId, idx: usize, seq: u32, pos: u32) -> Result<(), StoreError> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "run {run} step {idx}: no tool call {seq}.{pos}"
        )))
    }
}

impl Store {
    /// Step `idx`'s conversation, in order.
    pub fn agent_messages(&self, run: &RunId, idx: usize) -> Result<Vec<AgentMessage>, StoreError> {
        let guard = self.lock();
        let mut stmt = guard.conn.prepare_cached(
            "SELECT seq, segment, message, input_tokens, output_tokens FROM agent_messages \
             WHERE run_id = ?1 AND step_idx = ?2 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map(params![run, idx_sql(idx)], |row| {
                Ok(AgentMessage {
                    seq: row.get(0)?,
                    segment: row.get(1)?,
                    message: row.get(2)?,
                    usage: Usage {
                        input_tokens: from_i64(row.get(3)?),
                        output_tokens: from_i64(row.get(4)?),
                        ..Usage::default()
                    },
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Step `idx`'s tool calls, in the order they were asked for.
    pub fn tool_calls(&self, run: &RunId, idx: usize) -> Result<Vec<ToolCallRecord>, StoreError> {
        self.select_tool_calls(run, idx, None)
    }

    /// The tool calls of message `seq` of step `idx`'s conversation.
    pub fn tool_calls_of(
        &self,
        run: &RunId,
        idx: usize,
        seq: u32,
    ) -> Result<Vec<ToolCallRecord>, StoreError> {
        self.select_tool_calls(run, idx, Some(seq))
    }

    fn select_tool_calls(
        &self,
        run: &RunId,
        idx: usize,
        seq: Option<u32>,
    ) -> Result<Vec<ToolCallRecord>, StoreError> {
        let guard = self.lock();
        let mut stmt = guard.conn.prepare_cached(
            "SELECT seq, pos, call_id, name, input, status, starts, result, is_error, summary, \
             started_at, finished_at, ask_kind, ask_subject FROM tool_calls \
             WHERE run_id = ?1 AND step_idx = ?2 AND (?3 IS NULL OR seq = ?3) ORDER BY seq, pos",
        )?;
        let rows = stmt
            .query_map(params![run, idx_sql(idx), seq], |row| {
                Ok((
                    ToolCallRecord {
                        seq: row.get(0)?,
                        pos: row.get(1)?,
                        call_id: row.get(2)?,
                        name: row.get(3)?,
                        input: row.get(4)?,
                        status: ToolCallStatus::Waiting,
                        starts: row.get(6)?,
                        result: row.get(7)?,
                        is_error: row.get(8)?,
                        summary: row.get(9)?,
                        ask: match (row.get(12)?, row.get(13)?) {
                            (Some(kind), Some(subject)) => Some((kind, subject)),
                            _ => None,
                        },
                        started_at: row.get(10)?,
                        finished_at: row.get(11)?,
                    },
                    row.get::<_, String>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(mut record, status)| {
                record.status = ToolCallStatus::parse(&status)?;
                Ok(record)
            })
            .collect()
    }

    /// Whether `subject` of `kind` was allowed for the rest of the run.
    pub fn is_granted(&self, run: &RunId, kind: &str, subject: &str) -> Result<bool, StoreError> {
        let guard = self.lock();
        let found = guard
            .conn
            .prepare_cached(
                "SELECT 1 FROM agent_grants WHERE run_id = ?1 AND kind = ?2 AND subject = ?3",
            )?
            .query_row(params![run, kind, subject], |_| Ok(()))
            .optional()?;
        Ok(found.is_some())
    }
}
