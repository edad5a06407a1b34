//! Showing a run in a shell while it happens. On a terminal: a line per
//! step with a spinner and the tail of its output (indicatif). Elsewhere
//! (CI logs, pipes): plain lines, the output streamed as it comes.
//! Printing happens on its own thread: the engine's subscriber only pushes
//! into a [`live::Queue`], which coalesces output so that memory stays flat
//! however much a step prints and however slowly the output is read.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use agentls_engine::{Event, RunStatus, StepStatus, Subscriber};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::live::{self, Msg, Queue};

/// Where progress goes: stdout normally, stderr when stdout carries JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stdout,
    Stderr,
    Quiet,
}

pub struct Renderer {
    queue: Arc<Queue>,
}

impl Subscriber for Renderer {
    fn event(&self, event: &Event) {
        self.queue.push_event(event);
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl Renderer {
    /// Waits until everything the engine announced so far is printed.
    pub fn flush(&self) {
        let (tx, rx) = mpsc::channel();
        self.queue.push_flush(tx);
        let _ = rx.recv_timeout(Duration::from_secs(5));
    }
}

/// Starts the printing thread.
pub fn spawn(target: Target) -> Renderer {
    let queue = Arc::new(Queue::default());
    let fancy = match target {
        Target::Stdout => std::io::stdout().is_terminal(),
        Target::Stderr => std::io::stderr().is_terminal(),
        Target::Quiet => false,
    };
    let rx = Messages(queue.clone());
    std::thread::spawn(move || {
        if target == Target::Quiet {
            for msg in rx {
                if let Msg::Flush(done) = msg {
                    let _ = done.send(());
                }
            }
        } else if fancy {
            Fancy::default().run(rx, target)
        } else {
            plain(rx, target)
        }
    });
    Renderer { queue }
}

/// The printing thread's view of the queue.
struct Messages(Arc<Queue>);

impl Iterator for Messages {
    type Item = Msg;

    fn next(&mut self) -> Option<Msg> {
        self.0.pop()
    }
}

/// A step's pending output as text: its head, the skip marker, its tail.
fn output_text(out: &live::Output) -> String {
    let mut text = agentls_exec::strip_ansi(&out.head);
    if out.skipped > 0 {
        text.push_str(&live::skip_marker(out.skipped, &out.run));
    }
    text.push_str(&agentls_exec::strip_ansi(&out.tail));
    text
}

fn out(target: Target) -> Box<dyn Write> {
    match target {
        Target::Stderr => Box::new(std::io::stderr()),
        _ => Box::new(std::io::stdout()),
    }
}

fn step_line(index: usize, total: usize, step: &str, title: &Option<String>) -> String {
    let title = title
        .as_deref()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    format!("step {}/{total} `{step}`{title}", index + 1)
}

fn plain(rx: Messages, target: Target) {
    let mut w = out(target);
    let mut at_line_start = true;
    for msg in rx {
        let event = match msg {
            Msg::Event(event) => event,
            Msg::Output(out) => {
                let text = output_text(&out);
                if !text.is_empty() {
                    at_line_start = text.ends_with('\n');
                }
                let _ = w.write_all(text.as_bytes());
                let _ = w.flush();
                continue;
            }
            Msg::Flush(done) => {
                let _ = w.flush();
                let _ = done.send(());
                continue;
            }
        };
        let line = match &event {
            // Pushed as `Msg::Output`; the live output has the agent's
            // tool lines, which say what the activity would.
            Event::Output { .. } | Event::Activity { .. } => continue,
            Event::Step {
                index,
                total,
                step,
                title,
                status,
                exit_code,
                error,
                ..
            } => {
                let head = step_line(*index, *total, step, title);
                let code = exit_code
                    .map(|c| format!(" (exit {c})"))
                    .unwrap_or_default();
                let why = error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                match status {
                    StepStatus::Running => format!("▶ {head}"),
                    StepStatus::Completed => format!("✓ {head} completed{code}{why}"),
                    StepStatus::Skipped => format!("↷ {head} skipped{why}"),
                    StepStatus::Waiting => format!("⏸ {head} waiting{why}"),
                    other => format!("✗ {head} {other}{code}{why}"),
                }
            }
            Event::Run {
                run,
                workflow,
                status,
                error,
                ..
            } => {
                let why = error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                match status {
                    RunStatus::Queued | RunStatus::Running => continue,
                    _ => format!("run {run} ({workflow}) {status}{why}"),
                }
            }
        };
        if !at_line_start {
            let _ = writeln!(w);
            at_line_start = true;
        }
        let _ = writeln!(w, "{line}");
        let _ = w.flush();
    }
}

#[derive(Default)]
struct Fancy {
    bars: HashMap<(String, usize), ProgressBar>,
    tails: HashMap<String, String>,
}

impl Fancy {
    fn run(mut self, rx: Messages, target: Target) {
        let multi = MultiProgress::new();
        if target == Target::Stderr {
            multi.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        let running = ProgressStyle::with_template("{spinner:.cyan} {prefix} {wide_msg:.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let finished = ProgressStyle::with_template("{prefix} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let mut current: HashMap<String, (String, usize)> = HashMap::new();
        for msg in rx {
            let event = match msg {
                Msg::Event(event) => event,
                Msg::Output(out) => Event::Output {
                    run: out.run.clone(),
                    step: out.step.clone(),
                    bytes: output_text(&out).into_bytes(),
                },
                Msg::Flush(done) => {
                    let _ = done.send(());
                    continue;
                }
            };
            match event {
                Event::Step {
                    run,
                    index,
                    total,
                    step,
                    title,
                    status,
                    exit_code,
                    error,
                    ..
                } => {
                    let key = (run.to_string(), index);
                    let bar = self.bars.entry(key.clone()).or_insert_with(|| {
                        let bar = multi.add(ProgressBar::new_spinner());
                        bar.set_style(running.clone());
                        bar.enable_steady_tick(Duration::from_millis(100));
                        bar
                    });
                    let head = step_line(index, total, &step, &title);
                    match status {
                        StepStatus::Running => {
                            bar.set_style(running.clone());
                            bar.set_prefix(head);
                            current.insert(run.to_string(), key);
                        }
                        _ => {
                            let mark = match status {
                                StepStatus::Completed => "✓",
                                StepStatus::Skipped => "↷",
                                StepStatus::Waiting => "⏸",
                                _ => "✗",
                            };
                            let code = exit_code.map(|c| format!(" exit {c}")).unwrap_or_default();
                            let why = error.map(|e| format!(" {e}")).unwrap_or_default();
                            bar.set_style(finished.clone());
                            bar.set_prefix(format!("{mark} {head}"));
                            bar.finish_with_message(format!("{status}{code}{why}"));
                        }
                    }
                }
                Event::Output { run, bytes, .. } => {
                    let text = agentls_exec::strip_ansi(&bytes);
                    let tail = self.tails.entry(run.to_string()).or_default();
                    tail.push_str(&text);
                    if tail.len() > 4096 {
                        let cut = tail.len() - 1024;
                        let cut = (cut..tail.len())
                            .find(|i| tail.is_char_boundary(*i))
                            .unwrap_or(tail.len());
                        tail.drain(..cut);
                    }
                    let last = tail
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("")
                        .to_string();
                    if let Some(bar) = current.get(&run.to_string()).and_then(|k| self.bars.get(k))
                    {
                        bar.set_message(last);
                    }
                }
                Event::Activity { run, index, text } => {
                    if let Some(bar) = self.bars.get(&(run.to_string(), index)) {
                        bar.set_message(text);
                    }
                }
                Event::Run {
                    run,
                    workflow,
                    status,
                    error,
                    ..
                } => {
                    if matches!(status, RunStatus::Queued | RunStatus::Running) {
                        continue;
                    }
                    let why = error.map(|e| format!(": {e}")).unwrap_or_default();
                    let _ = multi.println(format!("run {run} ({workflow}) {status}{why}"));
                }
            }
        }
    }
}
