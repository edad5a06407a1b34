//! The queue between the engine and the CLI's printing thread.
//!
//! The engine pushes without ever waiting: a terminal, a pipe or a CI log
//! that reads slower than a step prints must not slow the step down. So the
//! queue is bounded by coalescing, as the editor's outbox is: the output of
//! one step that piles up becomes one pending piece of at most
//! [`HEAD`] + [`TAIL`] bytes; past that the middle is dropped and counted,
//! and the printer says how much it skipped. Only the live view loses
//! anything: the store keeps the step's output (`agentls show`).
//!
//! Events other than output (a step starting or ending, a run stopping) are
//! few, small and always kept, in order.

use std::collections::VecDeque;
use std::sync::{mpsc, Condvar, Mutex, MutexGuard, PoisonError};

use agentls_engine::{Event, RunId};

/// Bytes kept from the start of a pending piece of output.
pub const HEAD: usize = 64 * 1024;
/// Bytes kept from its end: the latest output, where a failure shows.
pub const TAIL: usize = 192 * 1024;

/// What the printing thread takes from the queue.
pub enum Msg {
    Event(Event),
    /// A step's output since the last message it was part of.
    Output(Output),
    /// Answered once everything pushed before it is printed.
    Flush(mpsc::Sender<()>),
}

/// Output of one step waiting to be printed: `head`, then `skipped`
/// dropped bytes, then `tail`.
pub struct Output {
    pub run: RunId,
    pub step: String,
    pub head: Vec<u8>,
    pub skipped: u64,
    pub tail: Vec<u8>,
}

impl Output {
    fn push(&mut self, mut bytes: &[u8]) {
        // The tail only starts once the head is full.
        let room = HEAD.saturating_sub(self.head.len());
        let into_head = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..into_head]);
        bytes = &bytes[into_head..];
        // Never copy what would be dropped at once.
        let keep_from = bytes.len().saturating_sub(TAIL);
        self.skipped += keep_from as u64;
        bytes = &bytes[keep_from..];
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(TAIL);
        if overflow > 0 {
            self.tail.drain(..overflow);
            self.skipped += overflow as u64;
        }
        self.tail.extend_from_slice(bytes);
    }
}

#[derive(Default)]
struct Pending {
    items: VecDeque<Msg>,
    closed: bool,
}

/// Producers push, one consumer pops. Never blocks a producer for longer
/// than a copy of at most one chunk.
#[derive(Default)]
pub struct Queue {
    pending: Mutex<Pending>,
    ready: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn push_event(&self, event: &Event) {
        let mut pending = self.lock();
        if let Event::Output { run, step, bytes } = event {
            // Join the step's pending output unless an event of its run
            // came after it (which must stay after that output).
            for item in pending.items.iter_mut().rev() {
                match item {
                    Msg::Output(out) if out.run == *run && out.step == *step => {
                        out.push(bytes);
                        return;
                    }
                    Msg::Output(_) => {}
                    Msg::Event(event) if event.run() != run => {}
                    Msg::Event(_) | Msg::Flush(_) => break,
                }
            }
            let mut out = Output {
                run: run.clone(),
                step: step.clone(),
                head: Vec::new(),
                skipped: 0,
                tail: Vec::new(),
            };
            out.push(bytes);
            pending.items.push_back(Msg::Output(out));
        } else {
            pending.items.push_back(Msg::Event(event.clone()));
        }
        drop(pending);
        self.ready.notify_one();
    }

    pub fn push_flush(&self, done: mpsc::Sender<()>) {
        self.lock().items.push_back(Msg::Flush(done));
        self.ready.notify_one();
    }

    /// No more pushes: `pop` returns `None` once the queue is empty.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// Waits for the next message; `None` once closed and drained.
    pub fn pop(&self) -> Option<Msg> {
        let mut pending = self.lock();
        loop {
            if let Some(msg) = pending.items.pop_front() {
                return Some(msg);
            }
            if pending.closed {
                return None;
            }
            pending = self
                .ready
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Bytes of output pending (for tests).
    #[cfg(test)]
    fn pending_bytes(&self) -> usize {
        self.lock()
            .items
            .iter()
            .map(|m| match m {
                Msg::Output(o) => o.head.len() + o.tail.len(),
                _ => 0,
            })
            .sum()
    }
}

/// The line printed where output was skipped.
pub fn skip_marker(skipped: u64, run: &RunId) -> String {
    format!(
        "\n[agentls: {skipped} bytes of output not shown; `agentls show {run}` has the step's output]\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentls_engine::{RunStatus, StepStatus};

    fn id(c: char) -> RunId {
        RunId::parse(&c.to_string().repeat(RunId::LEN)).unwrap()
    }

    fn output(run: &RunId, step: &str, bytes: &[u8]) -> Event {
        Event::Output {
            run: run.clone(),
            step: step.to_string(),
            bytes: bytes.to_vec(),
        }
    }

    fn step_event(run: &RunId, status: StepStatus) -> Event {
        Event::Step {
            run: run.clone(),
            index: 0,
            total: 1,
            step: "s".to_string(),
            title: None,
            status,
            attempt: 1,
            exit_code: None,
            error: None,
        }
    }

    #[test]
    fn a_flood_nobody_reads_keeps_the_head_and_tail_and_counts_the_middle() {
        let queue = Queue::default();
        let run = id('0');
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..1000 {
            queue.push_event(&output(&run, "s", &chunk));
        }
        queue.push_event(&output(&run, "s", b"the end\n"));
        assert!(queue.pending_bytes() <= HEAD + TAIL);
        queue.close();
        let Some(Msg::Output(out)) = queue.pop() else {
            panic!("one pending piece of output")
        };
        assert!(queue.pop().is_none(), "coalesced into one message");
        assert_eq!(out.head.len(), HEAD);
        assert_eq!(out.tail.len(), TAIL);
        assert!(out.tail.ends_with(b"the end\n"));
        let total = 1000 * chunk.len() as u64 + 8;
        assert_eq!(out.skipped, total - (HEAD + TAIL) as u64);
    }

    #[test]
    fn output_never_overtakes_or_joins_across_an_event_of_its_run() {
        let queue = Queue::default();
        let (run, other) = (id('0'), id('1'));
        queue.push_event(&output(&run, "s", b"first "));
        queue.push_event(&output(&other, "t", b"elsewhere"));
        queue.push_event(&step_event(&other, StepStatus::Completed));
        queue.push_event(&output(&run, "s", b"attempt 1"));
        queue.push_event(&step_event(&run, StepStatus::Failed));
        queue.push_event(&output(&run, "s", b"attempt 2"));
        queue.push_event(&Event::Run {
            run: run.clone(),
            workflow: "w".to_string(),
            status: RunStatus::Completed,
            error: None,
            tag: None,
        });
        queue.close();
        let mut seen = Vec::new();
        while let Some(msg) = queue.pop() {
            seen.push(match msg {
                Msg::Output(out) => String::from_utf8(out.head).unwrap(),
                Msg::Event(Event::Step { status, .. }) => format!("<{status}>"),
                Msg::Event(Event::Run { status, .. }) => format!("<run {status}>"),
                Msg::Event(Event::Output { .. } | Event::Activity { .. }) | Msg::Flush(_) => {
                    unreachable!()
                }
            });
        }
        assert_eq!(
            seen,
            [
                "first attempt 1",
                "elsewhere",
                "<completed>",
                "<failed>",
                "attempt 2",
                "<run completed>"
            ]
        );
    }
}
