//! Everything the outbox holds between a push and a send, across runs.
//!
//! Owns: the runs' queues, which run is looked at next (round robin over a
//! ready queue, plus a timer heap for runs waiting on a rate slot), the
//! notices, the byte bound across runs and the counters.
//! Must never know: the sink, tasks or locks. Every method is synchronous
//! and takes `now`, so the whole policy is plain data and plain calls.
//!
//! Cost: a push is O(1) amortised (O(length of the text) to copy it):
//! compaction copies at most what it keeps and only runs after the pending
//! bytes grew by half a bound. Picking the next message is O(1) amortised
//! per run looked at; a run waiting on a rate slot sits in the timer heap.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::time::Instant;

use crate::message::{Limits, Message, Outgoing, Stats};
use crate::run::{Plan, Pushed, RunQueue};

/// What the driver should do next.
#[derive(Debug)]
pub(crate) enum Next {
    Send(Outgoing),
    /// Nothing may be sent before this instant (`None`: until a push).
    Wait(Option<Instant>),
}

#[derive(Debug, Clone)]
struct Notice {
    method: String,
    params: Value,
}

#[derive(Debug)]
pub(crate) struct Scheduler {
    limits: Limits,
    runs: HashMap<Arc<str>, RunQueue>,
    ready: VecDeque<Arc<str>>,
    timers: BinaryHeap<Reverse<(Instant, Arc<str>)>>,
    notices: VecDeque<Notice>,
    last_notice: Option<(Notice, Instant)>,
    /// Output bytes queued across runs (the sum of the runs' counts).
    output_bytes: usize,
    /// Output bytes of the message the sink holds, while it holds one.
    in_flight: Option<usize>,
    stats: Stats,
    closed: bool,
    producers_gone: bool,
}

impl Scheduler {
    pub(crate) fn new(limits: Limits) -> Self {
        Scheduler {
            limits,
            runs: HashMap::new(),
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            notices: VecDeque::new(),
            last_notice: None,
            output_bytes: 0,
            in_flight: None,
            stats: Stats::default(),
            closed: false,
            producers_gone: false,
        }
    }

    /// Queues a message. Returns whether the driver must look again (it
    /// might have something to send sooner than it planned).
    pub(crate) fn push(&mut self, message: Message, now: Instant) -> bool {
        if self.closed {
            self.stats.dropped += 1;
            return false;
        }
        let (run, pushed) = match message {
            Message::Notice { method, params } => return self.push_notice(method, params, now),
            Message::Output { run, step, text } => {
                let cap = self.limits.max_pending_bytes_per_run;
                let (key, queue) = self.queue(run);
                let pushed = queue.push_output(step, &text);
                // Down to half the bound, so the next compaction of this run
                // is at least half a bound of pushes away.
                let (freed, skipped) = if queue.output_bytes > cap {
                    queue.compact_to(cap / 2)
                } else {
                    (0, 0)
                };
                self.output_bytes = self.output_bytes + text.len() - freed;
                self.stats.skipped_bytes += skipped;
                if self.output_bytes > self.limits.max_pending_bytes_total {
                    self.compact_all(self.limits.max_pending_bytes_total / 2);
                }
                self.stats.peak_pending_bytes =
                    self.stats.peak_pending_bytes.max(self.output_bytes);
                (key, pushed)
            }
            Message::Progress { key, progress } => {
                let (key, queue) = self.queue(key);
                (key, queue.push_progress(progress))
            }
            Message::RunNotice {
                run,
                method,
                params,
            } => {
                let (key, queue) = self.queue(run);
                (key, queue.push_notice(method, params))
            }
            Message::State {
                run,
                state,
                is_final,
            } => {
                let (key, queue) = self.queue(run);
                (key, queue.push_state(state, is_final))
            }
        };
        let Pushed { coalesced, dropped } = pushed;
        self.stats.coalesced += coalesced;
        self.stats.dropped += dropped;
        self.wake_if_sooner(run, now)
    }

    fn queue(&mut self, run: String) -> (Arc<str>, &mut RunQueue) {
        // Looked up by `&str` first: a known run costs no allocation.
        let key = match self.runs.get_key_value(run.as_str()) {
            Some((key, _)) => key.clone(),
            None => Arc::from(run),
        };
        let queue = self.runs.entry(key.clone()).or_default();
        (key, queue)
    }

    /// Puts the run in the ready queue when it can send before the time the
    /// scheduler already planned to look at it.
    fn wake_if_sooner(&mut self, run: Arc<str>, now: Instant) -> bool {
        let Some(queue) = self.runs.get_mut(&run) else {
            return false;
        };
        if queue.queued {
            return false;
        }
        let at = match queue.plan(now) {
            Plan::Idle => return false,
            Plan::Wait(at) => at,
            Plan::Queued | Plan::Report | Plan::State => now,
        };
        if queue.timer_at.is_some_and(|planned| planned <= at) {
            return false;
        }
        queue.queued = true;
        self.ready.push_back(run);
        true
    }

    fn push_notice(&mut self, method: String, params: Value, now: Instant) -> bool {
        let notice = Notice { method, params };
        if let Some((last, at)) = &self.last_notice {
            let repeat = last.method == notice.method && last.params == notice.params;
            if repeat && now.duration_since(*at) < self.limits.notice_repeat_after {
                self.stats.coalesced += 1;
                return false;
            }
        }
        self.last_notice = Some((notice.clone(), now));
        self.notices.push_back(notice);
        while self.notices.len() > self.limits.max_pending_notices.max(1) {
            if let Some(old) = self.notices.pop_front() {
                tracing::warn!(method = %old.method, "editor too slow: notice dropped");
                self.stats.dropped += 1;
            }
        }
        true
    }

    /// Brings the output queued across runs down to about `target` bytes,
    /// taking from the largest runs first: every run above a common level is
    /// cut down to it, runs below it are left alone. A compacted segment
    /// keeps at least its marker, so this holds while the number of writing
    /// steps times 128 bytes stays under half the total bound.
    fn compact_all(&mut self, target: usize) {
        let mut sizes: Vec<usize> = self
            .runs
            .values()
            .map(|q| q.output_bytes)
            .filter(|&b| b > 0)
            .collect();
        sizes.sort_unstable();
        let mut level = usize::MAX;
        let mut budget = target;
        for (i, &size) in sizes.iter().enumerate() {
            let remaining_runs = sizes.len() - i;
            if size.saturating_mul(remaining_runs) > budget {
                level = budget / remaining_runs;
                break;
            }
            budget -= size;
        }
        if level == usize::MAX {
            return;
        }
        for queue in self.runs.values_mut() {
            if queue.output_bytes > level {
                let (freed, skipped) = queue.compact_to(level);
                self.output_bytes -= freed;
                self.stats.skipped_bytes += skipped;
            }
        }
    }

    /// The next message to hand to the sink, or how long to wait for one.
    pub(crate) fn next(&mut self, now: Instant) -> Next {
        if self.closed || self.in_flight.is_some() {
            return Next::Wait(None);
        }
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, run))) = self.timers.pop() else {
                break;
            };
            let Some(queue) = self.runs.get_mut(&run) else {
                continue;
            };
            // An entry the run replaced with an earlier one is stale.
            if queue.timer_at != Some(at) {
                continue;
            }
            queue.timer_at = None;
            if !queue.queued {
                queue.queued = true;
                self.ready.push_back(run);
            }
        }

        if let Some(Notice { method, params }) = self.notices.pop_front() {
            self.in_flight = Some(0);
            return Next::Send(Outgoing::Notice { method, params });
        }

        while let Some(run) = self.ready.pop_front() {
            let Some(queue) = self.runs.get_mut(&run) else {
                continue;
            };
            queue.queued = false;
            let plan = queue.plan(now);
            if let Plan::Wait(at) = plan {
                if queue.timer_at.is_none_or(|planned| at < planned) {
                    queue.timer_at = Some(at);
                    self.timers.push(Reverse((at, run)));
                }
                continue;
            }
            let Some(taken) = queue.take(plan, &run, now, &self.limits) else {
                continue;
            };
            // Back of the line: other runs get their turn first.
            if queue.has_pending() {
                queue.queued = true;
                self.ready.push_back(run);
            }
            self.output_bytes -= taken.output_bytes;
            self.stats.coalesced += taken.coalesced;
            self.in_flight = Some(match &taken.message {
                Outgoing::Output { text, .. } => text.len(),
                _ => 0,
            });
            return Next::Send(taken.message);
        }
        Next::Wait(self.timers.peek().map(|Reverse((at, _))| *at))
    }

    /// The sink finished the message `next` returned.
    pub(crate) fn sent(&mut self) {
        self.in_flight = None;
        self.stats.sent += 1;
    }

    /// The sink is gone: everything pending is discarded, later pushes too.
    pub(crate) fn close(&mut self) {
        self.closed = true;
        self.in_flight = None;
        self.runs.clear();
        self.ready.clear();
        self.timers.clear();
        self.notices.clear();
        self.output_bytes = 0;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Every producer handle is gone: the driver stops once idle.
    pub(crate) fn producers_gone(&mut self) {
        self.producers_gone = true;
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.closed || (self.producers_gone && self.is_idle())
    }

    /// Nothing pending and nothing being sent.
    ///
    /// A run with anything pending is always in the ready queue or the timer
    /// heap (a push queues it, `next` re-queues it or sets its timer), so
    /// the runs themselves need not be scanned. The heap may still hold a
    /// stale entry for a short while; that only delays idleness until it
    /// expires.
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.is_none()
            && self.notices.is_empty()
            && self.ready.is_empty()
            && self.timers.is_empty()
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            pending_bytes: self.output_bytes,
            in_flight_bytes: self.in_flight.unwrap_or(0),
            ..self.stats
        }
    }
}
