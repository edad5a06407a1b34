//! A fake editor for the outbox tests: a sink that records what it gets,
//! can be stalled and resumed, tells when it was handed a message, and can
//! play a closed connection.

#![allow(dead_code)] // each test binary uses a different part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentls_stream::{Limits, Message, Outbox, Outgoing, Progress, Sink, SinkClosed};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// One message the fake editor received, stamped with the time the outbox
/// handed it over.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub message: Outgoing,
}

struct FakeSink {
    log: Arc<Mutex<Vec<Received>>>,
    gate: watch::Receiver<bool>,
    handed: mpsc::UnboundedSender<()>,
    /// Fails every send after this many successful ones.
    close_after: Option<usize>,
    on_drop: Option<oneshot::Sender<()>>,
}

impl Sink for FakeSink {
    async fn send(&mut self, message: Outgoing) -> Result<(), SinkClosed> {
        let at = Instant::now();
        let _ = self.handed.send(());
        if self
            .close_after
            .is_some_and(|n| self.log.lock().unwrap().len() >= n)
        {
            return Err(SinkClosed);
        }
        // A stalled editor: the send does not complete until resumed.
        if self.gate.wait_for(|open| *open).await.is_err() {
            return Err(SinkClosed);
        }
        self.log.lock().unwrap().push(Received { at, message });
        Ok(())
    }
}

impl Drop for FakeSink {
    fn drop(&mut self) {
        if let Some(tx) = self.on_drop.take() {
            let _ = tx.send(());
        }
    }
}

/// What the fake editor has received so far.
#[derive(Clone)]
pub struct Log(Arc<Mutex<Vec<Received>>>);

impl Log {
    pub fn received(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    pub fn messages(&self) -> Vec<Outgoing> {
        self.received().into_iter().map(|r| r.message).collect()
    }
}

pub struct Editor {
    pub outbox: Outbox,
    pub log: Log,
    pub gate: watch::Sender<bool>,
    handed: mpsc::UnboundedReceiver<()>,
    pub sink_dropped: oneshot::Receiver<()>,
}

impl Editor {
    pub fn new(limits: Limits) -> Editor {
        Editor::build(limits, None)
    }

    /// An editor whose connection breaks after `n` messages.
    pub fn closing_after(limits: Limits, n: usize) -> Editor {
        Editor::build(limits, Some(n))
    }

    fn build(limits: Limits, close_after: Option<usize>) -> Editor {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (gate, gate_rx) = watch::channel(true);
        let (handed_tx, handed) = mpsc::unbounded_channel();
        let (drop_tx, sink_dropped) = oneshot::channel();
        let sink = FakeSink {
            log: log.clone(),
            gate: gate_rx,
            handed: handed_tx,
            close_after,
            on_drop: Some(drop_tx),
        };
        Editor {
            outbox: Outbox::spawn(limits, sink),
            log: Log(log),
            gate,
            handed,
            sink_dropped,
        }
    }

    pub fn stall(&self) {
        self.gate.send_replace(false);
    }

    pub fn resume(&self) {
        self.gate.send_replace(true);
    }

    /// Waits until the outbox hands the sink its next message.
    pub async fn next_handed(&mut self) {
        self.handed.recv().await.expect("the sink is alive");
    }

    /// Stalls the editor with one notice stuck in its pipe, so everything
    /// pushed afterwards piles up in the outbox.
    pub async fn stall_with_one_in_flight(&mut self) {
        self.stall();
        self.outbox.push(notice("window/logMessage", "warm-up"));
        self.next_handed().await;
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.received()
    }

    pub fn messages(&self) -> Vec<Outgoing> {
        self.log.messages()
    }

    /// The run's output messages: (time, step, text, seq).
    pub fn outputs(&self, run: &str) -> Vec<(Instant, String, String, u64)> {
        self.received()
            .into_iter()
            .filter_map(|r| match r.message {
                Outgoing::Output {
                    run: r_run,
                    step,
                    text,
                    seq,
                } if r_run == run => Some((r.at, step, text, seq)),
                _ => None,
            })
            .collect()
    }

    /// Everything the run's output messages said, concatenated.
    pub fn output_text(&self, run: &str) -> String {
        self.outputs(run).into_iter().map(|o| o.2).collect()
    }
}

pub fn output(run: &str, step: &str, text: impl Into<String>) -> Message {
    Message::Output {
        run: run.into(),
        step: step.into(),
        text: text.into(),
    }
}

pub fn begin(run: &str, title: &str) -> Message {
    Message::Progress {
        key: run.into(),
        progress: Progress::Begin {
            title: title.into(),
            message: None,
            percentage: None,
        },
    }
}

pub fn report(run: &str, message: impl Into<String>) -> Message {
    Message::Progress {
        key: run.into(),
        progress: Progress::Report {
            message: Some(message.into()),
            percentage: None,
        },
    }
}

pub fn end(run: &str) -> Message {
    Message::Progress {
        key: run.into(),
        progress: Progress::End { message: None },
    }
}

pub fn state(run: &str, state: Value, is_final: bool) -> Message {
    Message::State {
        run: run.into(),
        state,
        is_final,
    }
}

pub fn notice(method: &str, text: &str) -> Message {
    Message::Notice {
        method: method.into(),
        params: serde_json::json!({ "message": text }),
    }
}

pub fn run_notice(run: &str, text: &str) -> Message {
    Message::RunNotice {
        run: run.into(),
        method: "window/showMessage".into(),
        params: serde_json::json!({ "message": text }),
    }
}

/// Asserts that no window of one second holds more than `per_second` of
/// the instants (which must be sorted).
pub fn assert_at_most_per_second(times: &[Instant], per_second: usize) {
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(
            in_window <= per_second,
            "{in_window} messages within one second starting at message {i}"
        );
    }
}

/// Splits live text around its one skip marker: (head, skipped, tail).
pub fn split_at_marker(text: &str) -> (&str, usize, &str) {
    assert_eq!(
        text.matches("\n[agentls: ").count(),
        1,
        "exactly one marker"
    );
    let open = text.find("\n[agentls: ").expect("counted above");
    let after = &text[open + "\n[agentls: ".len()..];
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    let skipped: usize = digits.parse().expect("the marker counts bytes");
    let marker = agentls_stream::skip_marker(skipped as u64);
    assert!(text[open..].starts_with(&marker), "marker is well formed");
    assert!(
        marker.contains("`agent.output`"),
        "marker names agent.output"
    );
    (&text[..open], skipped, &text[open + marker.len()..])
}

/// Asserts `live` is `full` with one middle part replaced by a marker that
/// counts it exactly; returns the number of bytes skipped.
pub fn assert_head_marker_tail(full: &str, live: &str) -> usize {
    let (head, skipped, tail) = split_at_marker(live);
    assert!(
        full.starts_with(head),
        "the live head is the start of the output"
    );
    assert!(
        full.ends_with(tail),
        "the live tail is the end of the output"
    );
    assert_eq!(
        head.len() + skipped + tail.len(),
        full.len(),
        "nothing else lost"
    );
    skipped
}
