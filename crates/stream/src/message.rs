//! The outbox's vocabulary: what producers push, what the sink receives, the
//! limits that shape the stream between them, and the counters it keeps.
//!
//! Must never know: LSP types or JSON-RPC framing. The LSP layer maps
//! [`Outgoing`] onto notifications (`agent/output`, `$/progress`, ...).

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

/// How hard the outbox shapes the stream. Rates are per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// At most this many output messages per run per second (0: no limit).
    pub output_per_second: u32,
    /// At most this many progress reports per run per second (0: no limit).
    /// Begin and end are never held back by this rate.
    pub progress_per_second: u32,
    /// At most this many non-final state messages per run per second
    /// (0: no limit). Final states are never held back by this rate.
    pub state_per_second: u32,
    /// Output bytes one run may have waiting for the editor before the live
    /// stream skips the middle of it.
    pub max_pending_bytes_per_run: usize,
    /// Output bytes all runs together may have waiting; past it the largest
    /// runs are compacted first.
    pub max_pending_bytes_total: usize,
    /// Notices waiting for the editor beyond this count drop the oldest.
    pub max_pending_notices: usize,
    /// A notice identical to the previous one is dropped, unless the previous
    /// one was pushed at least this long ago (a repeated failure minutes
    /// later is news; the same message twice in a burst is not).
    pub notice_repeat_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            output_per_second: 20,
            progress_per_second: 10,
            state_per_second: 10,
            max_pending_bytes_per_run: 1024 * 1024,
            max_pending_bytes_total: 16 * 1024 * 1024,
            max_pending_notices: 64,
            notice_repeat_after: Duration::from_secs(5),
        }
    }
}

impl Limits {
    pub(crate) fn output_interval(&self) -> Duration {
        interval(self.output_per_second)
    }

    pub(crate) fn report_interval(&self) -> Duration {
        interval(self.progress_per_second)
    }

    pub(crate) fn state_interval(&self) -> Duration {
        interval(self.state_per_second)
    }
}

fn interval(per_second: u32) -> Duration {
    if per_second == 0 {
        Duration::ZERO
    } else {
        Duration::from_secs(1) / per_second
    }
}

/// One step of a run's work-done progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Opens the run's progress; never dropped.
    Begin {
        title: String,
        message: Option<String>,
        percentage: Option<u32>,
    },
    /// Latest-wins: a report still waiting is replaced by a newer one.
    Report {
        message: Option<String>,
        percentage: Option<u32>,
    },
    /// Closes the run's progress; never dropped, sent after the latest report.
    End { message: Option<String> },
}

/// What producers push into the outbox.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A chunk of a step's live output. Consecutive chunks are concatenated.
    Output {
        run: String,
        step: String,
        text: String,
    },
    /// A step of a work-done progress, queued under `key` (the progress
    /// token written as JSON): one run's successive progresses never mix.
    Progress { key: String, progress: Progress },
    /// A snapshot of the run's state. Latest-wins; a final state is never
    /// dropped and is sent after all output pushed before it.
    State {
        run: String,
        state: Value,
        is_final: bool,
    },
    /// A message that belongs to no run's stream (e.g. a `showMessage`).
    /// Identical consecutive notices are sent once.
    Notice { method: String, params: Value },
    /// A message about a run's stream (how the run ended): sent after
    /// everything pushed before it under the same `run` key, the latest
    /// progress report and the end included. Never dropped or de-duplicated.
    RunNotice {
        run: String,
        method: String,
        params: Value,
    },
}

/// What the sink receives: one message, already coalesced and paced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// `seq` counts a run's output messages from 0, without gaps.
    Output {
        run: String,
        step: String,
        text: String,
        seq: u64,
    },
    Progress {
        key: String,
        progress: Progress,
    },
    State {
        run: String,
        state: Value,
        is_final: bool,
    },
    Notice {
        method: String,
        params: Value,
    },
}

/// The editor is gone: nothing more can be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the editor connection is closed; live run events can no longer be delivered")]
pub struct SinkClosed;

/// Where the outbox delivers. One task drives it, one message at a time.
///
/// `send` may take as long as the editor needs (it typically awaits the
/// write to the editor's pipe); producers are never slowed by it.
pub trait Sink: Send + 'static {
    /// Delivers one message. An error means the editor is gone for good: the
    /// outbox stops and discards everything pushed afterwards.
    fn send(&mut self, message: Outgoing) -> impl Future<Output = Result<(), SinkClosed>> + Send;
}

/// Counters of the outbox since it was spawned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages handed to the sink.
    pub sent: u64,
    /// Pushed messages that did not become a message of their own: output
    /// chunks merged into a pending one, superseded reports and states,
    /// duplicate notices.
    pub coalesced: u64,
    /// Messages discarded: progress reports outside a begin/end pair,
    /// notices over their bound, anything pushed after the sink closed.
    pub dropped: u64,
    /// Output bytes skipped in the live view (still in `agent.output`).
    pub skipped_bytes: u64,
    /// Output bytes waiting to be sent, across all runs.
    pub pending_bytes: usize,
    /// The highest `pending_bytes` seen after any push.
    pub peak_pending_bytes: usize,
    /// Output bytes of the message the sink is delivering right now.
    pub in_flight_bytes: usize,
}
