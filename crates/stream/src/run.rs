//! The pending events of one run and the order and pace they leave in.
//!
//! Owns: per-run ordering (begin before what follows it; end and final state
//! after everything pushed before them), latest-wins slots for reports and
//! states, per-run rate limits, output sequence numbers and compaction.
//! Must never know: other runs, the sink, or how long a send takes.
//!
//! Events that must keep their place (begin, end, final state, output) sit in
//! an ordered queue; consecutive output lands in one group where each step's
//! chunks are concatenated. Reports and non-final states are latest-wins
//! slots beside the queue, gated only by the fences they must respect.

use std::collections::VecDeque;

use serde_json::Value;
use tokio::time::Instant;

use crate::message::{Limits, Outgoing, Progress};
use crate::segment::Segment;

/// An event that must be sent, in push order.
#[derive(Debug)]
enum Item {
    /// `generation` numbers the run's begin/end pairs from 1.
    Begin {
        generation: u64,
        progress: Progress,
    },
    End {
        generation: u64,
        progress: Progress,
    },
    /// Output pushed between two fences; one segment per step, in the order
    /// the steps first wrote.
    Outputs(VecDeque<Segment>),
    Final(Value),
    /// A notice that follows what the run pushed before it.
    Notice {
        method: String,
        params: Value,
    },
}

#[derive(Debug)]
struct PendingReport {
    generation: u64,
    progress: Progress,
}

/// What a run can do at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The front of the ordered queue may leave.
    Queued,
    /// The pending progress report may leave.
    Report,
    /// The pending non-final state may leave.
    State,
    /// Nothing may leave before this instant.
    Wait(Instant),
    /// Nothing pending, or only events that wait on others queued ahead.
    Idle,
}

/// A message taken out of a run, with what it did to the counters.
#[derive(Debug)]
pub(crate) struct Taken {
    pub(crate) message: Outgoing,
    /// Pending output bytes this message took out of the queue.
    pub(crate) output_bytes: usize,
    /// Pending messages dropped on the way (reports of a progress that a
    /// newer begin replaced).
    pub(crate) coalesced: u64,
}

impl Taken {
    fn message(message: Outgoing) -> Taken {
        Taken {
            message,
            output_bytes: 0,
            coalesced: 0,
        }
    }
}

/// What a push did, for the counters.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Pushed {
    pub(crate) coalesced: u64,
    pub(crate) dropped: u64,
}

impl Pushed {
    const QUEUED: Pushed = Pushed {
        coalesced: 0,
        dropped: 0,
    };
    const COALESCED: Pushed = Pushed {
        coalesced: 1,
        dropped: 0,
    };
    const DROPPED: Pushed = Pushed {
        coalesced: 0,
        dropped: 1,
    };
}

#[derive(Debug, Default)]
pub(crate) struct RunQueue {
    hard: VecDeque<Item>,
    reports: VecDeque<PendingReport>,
    state: Option<Value>,
    /// Output bytes queued, as counted by the segments.
    pub(crate) output_bytes: usize,
    finals_pending: usize,
    generations: u64,
    /// The progress open in push order, which new reports belong to.
    open_pushed: Option<u64>,
    /// The progress open on the editor's side.
    open_sent: Option<u64>,
    next_output_at: Option<Instant>,
    next_report_at: Option<Instant>,
    next_state_at: Option<Instant>,
    next_seq: u64,
    last_report_sent: Option<Progress>,
    last_state_sent: Option<Value>,
    /// Bookkeeping of the scheduler (see `scheduler.rs`): in the ready queue,
    /// and the wake-up time registered for it.
    pub(crate) queued: bool,
    pub(crate) timer_at: Option<Instant>,
}

impl RunQueue {
    pub(crate) fn has_pending(&self) -> bool {
        !self.hard.is_empty() || !self.reports.is_empty() || self.state.is_some()
    }

    /// Queues output; a chunk merged into pending output counts as coalesced.
    pub(crate) fn push_output(&mut self, step: String, text: &str) -> Pushed {
        if text.is_empty() {
            return Pushed::COALESCED;
        }
        self.output_bytes += text.len();
        if let Some(Item::Outputs(group)) = self.hard.back_mut() {
            // The most recent writer is the likely one: search from the back.
            if let Some(segment) = group.iter_mut().rev().find(|s| s.step == step) {
                segment.push_str(text);
                return Pushed::COALESCED;
            }
            let mut segment = Segment::new(step);
            segment.push_str(text);
            group.push_back(segment);
            return Pushed::QUEUED;
        }
        let mut segment = Segment::new(step);
        segment.push_str(text);
        self.hard
            .push_back(Item::Outputs(VecDeque::from([segment])));
        Pushed::QUEUED
    }

    pub(crate) fn push_progress(&mut self, progress: Progress) -> Pushed {
        match progress {
            Progress::Begin { .. } => {
                self.generations += 1;
                let generation = self.generations;
                self.open_pushed = Some(generation);
                self.hard.push_back(Item::Begin {
                    generation,
                    progress,
                });
                Pushed::QUEUED
            }
            Progress::End { .. } => {
                let Some(generation) = self.open_pushed.take() else {
                    tracing::debug!("progress end without a begin: dropped");
                    return Pushed::DROPPED;
                };
                self.hard.push_back(Item::End {
                    generation,
                    progress,
                });
                Pushed::QUEUED
            }
            Progress::Report { .. } => {
                let Some(generation) = self.open_pushed else {
                    tracing::debug!("progress report outside begin/end: dropped");
                    return Pushed::DROPPED;
                };
                let mut pushed = Pushed::QUEUED;
                if self
                    .reports
                    .back()
                    .is_some_and(|r| r.generation == generation)
                {
                    self.reports.pop_back();
                    pushed = Pushed::COALESCED;
                }
                let shown = self.open_sent == Some(generation)
                    && self.last_report_sent.as_ref() == Some(&progress);
                if shown {
                    // The editor already shows exactly this.
                    return Pushed::COALESCED;
                }
                self.reports.push_back(PendingReport {
                    generation,
                    progress,
                });
                pushed
            }
        }
    }

    pub(crate) fn push_notice(&mut self, method: String, params: Value) -> Pushed {
        self.hard.push_back(Item::Notice { method, params });
        Pushed::QUEUED
    }

    pub(crate) fn push_state(&mut self, state: Value, is_final: bool) -> Pushed {
        // Any state pushed now supersedes the non-final one waiting.
        let mut coalesced = u64::from(self.state.take().is_some());
        if is_final {
            // A final state waiting at the back is replaced: nothing was
            // pushed after it, so only the newer one matters.
            if let Some(Item::Final(pending)) = self.hard.back_mut() {
                *pending = state;
                coalesced += 1;
            } else {
                self.finals_pending += 1;
                self.hard.push_back(Item::Final(state));
            }
        } else if self.finals_pending == 0 && self.last_state_sent.as_ref() == Some(&state) {
            // The editor already shows exactly this.
            coalesced += 1;
        } else {
            self.state = Some(state);
        }
        Pushed {
            coalesced,
            dropped: 0,
        }
    }

    /// Shrinks queued output to about `target` bytes, each segment in
    /// proportion to its size. Returns (bytes freed, bytes skipped).
    pub(crate) fn compact_to(&mut self, target: usize) -> (usize, u64) {
        let total = self.output_bytes;
        if total <= target {
            return (0, 0);
        }
        let (mut freed, mut skipped) = (0usize, 0u64);
        for item in &mut self.hard {
            let Item::Outputs(group) = item else { continue };
            for segment in group {
                let before = segment.len();
                let keep = (before as u128 * target as u128 / total as u128) as usize;
                skipped += segment.compact(keep);
                freed += before - segment.len();
            }
        }
        self.output_bytes -= freed;
        (freed, skipped)
    }

    /// What this run may do at `now`; cheap and side-effect free, so a
    /// push can ask whether the scheduler needs to look at the run sooner.
    pub(crate) fn plan(&self, now: Instant) -> Plan {
        let ready = |at: Option<Instant>| at.is_none_or(|at| at <= now);
        let mut wait = None;
        match self.hard.front() {
            Some(Item::Begin { .. } | Item::Final(_)) => return Plan::Queued,
            // The latest report of this progress goes out before its end.
            Some(Item::End { generation, .. })
                if self.reports.front().map(|r| r.generation) != Some(*generation) =>
            {
                return Plan::Queued
            }
            // A notice waits for the latest report of the progress open on
            // the editor's side (its end, queued ahead, waited already).
            Some(Item::Notice { .. })
                if self.open_sent.is_none()
                    || self.reports.front().map(|r| r.generation) != self.open_sent =>
            {
                return Plan::Queued
            }
            Some(Item::Outputs(_)) if ready(self.next_output_at) => return Plan::Queued,
            Some(Item::Outputs(_)) => wait = self.next_output_at,
            Some(Item::End { .. } | Item::Notice { .. }) | None => {}
        }
        // A report waits for its begin, which is queued ahead of it.
        if self
            .reports
            .front()
            .is_some_and(|r| Some(r.generation) == self.open_sent)
        {
            if ready(self.next_report_at) {
                return Plan::Report;
            }
            wait = earliest(wait, self.next_report_at);
        }
        // A non-final state never overtakes a final one queued before it.
        if self.state.is_some() && self.finals_pending == 0 {
            if ready(self.next_state_at) {
                return Plan::State;
            }
            wait = earliest(wait, self.next_state_at);
        }
        wait.map_or(Plan::Idle, Plan::Wait)
    }

    /// Takes the message `plan` (from [`RunQueue::plan`] at the same `now`)
    /// allowed; `None` when the plan allowed nothing.
    pub(crate) fn take(
        &mut self,
        plan: Plan,
        run: &str,
        now: Instant,
        limits: &Limits,
    ) -> Option<Taken> {
        let taken = match plan {
            Plan::Queued => self.take_queued(run, now, limits)?,
            Plan::Report => {
                let report = self.reports.pop_front()?;
                self.next_report_at = Some(now + limits.report_interval());
                self.last_report_sent = Some(report.progress.clone());
                Taken::message(Outgoing::Progress {
                    key: run.to_owned(),
                    progress: report.progress,
                })
            }
            Plan::State => {
                let state = self.state.take()?;
                self.next_state_at = Some(now + limits.state_interval());
                self.last_state_sent = Some(state.clone());
                Taken::message(Outgoing::State {
                    run: run.to_owned(),
                    state,
                    is_final: false,
                })
            }
            Plan::Wait(_) | Plan::Idle => return None,
        };
        Some(taken)
    }

    fn take_queued(&mut self, run: &str, now: Instant, limits: &Limits) -> Option<Taken> {
        let taken = match self.hard.pop_front()? {
            Item::Begin {
                generation,
                progress,
            } => {
                // Reports of an earlier progress that never ended can no
                // longer be shown.
                let before = self.reports.len();
                self.reports.retain(|r| r.generation >= generation);
                self.open_sent = Some(generation);
                self.last_report_sent = None;
                Taken {
                    coalesced: (before - self.reports.len()) as u64,
                    ..Taken::message(Outgoing::Progress {
                        key: run.to_owned(),
                        progress,
                    })
                }
            }
            Item::End {
                generation,
                progress,
            } => {
                if self.open_sent == Some(generation) {
                    self.open_sent = None;
                }
                self.last_report_sent = None;
                Taken::message(Outgoing::Progress {
                    key: run.to_owned(),
                    progress,
                })
            }
            Item::Final(state) => {
                self.finals_pending -= 1;
                // Not kept for de-duplication: a finished run's bookkeeping
                // stays small for as long as the outbox lives.
                self.last_state_sent = None;
                Taken::message(Outgoing::State {
                    run: run.to_owned(),
                    state,
                    is_final: true,
                })
            }
            Item::Notice { method, params } => Taken::message(Outgoing::Notice { method, params }),
            Item::Outputs(mut group) => {
                let segment = group.pop_front()?;
                if !group.is_empty() {
                    self.hard.push_front(Item::Outputs(group));
                }
                let output_bytes = segment.len();
                self.output_bytes -= output_bytes;
                self.next_output_at = Some(now + limits.output_interval());
                let seq = self.next_seq;
                self.next_seq += 1;
                let (step, text) = segment.into_parts();
                Taken {
                    output_bytes,
                    ..Taken::message(Outgoing::Output {
                        run: run.to_owned(),
                        step,
                        text,
                        seq,
                    })
                }
            }
        };
        Some(taken)
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
