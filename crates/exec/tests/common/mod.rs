//! Harness for driving real commands through `agentls_exec::run`: start,
//! watch output as it arrives, cancel, collect. Every wait is bounded so a
//! regression fails the test instead of hanging it.

#![allow(dead_code)] // each test file uses a different part

use std::path::PathBuf;
use std::time::{Duration, Instant};

use agentls_exec::{run, strip_ansi, CancellationToken, CommandSpec, ExecError, Outcome, PtyMode};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Upper bound for anything a test waits on; far above what a passing run needs.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub const BOTH_MODES: [PtyMode; 2] = [PtyMode::Auto, PtyMode::Off];

pub fn spec(command: &str, mode: PtyMode) -> CommandSpec {
    let mut spec = CommandSpec::new(command, PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    spec.pty = mode;
    spec
}

/// Checks that the mode asked for is the mode used, so a machine without
/// PTYs fails loudly instead of testing pipes twice.
#[track_caller]
pub fn assert_mode(outcome: &Outcome, mode: PtyMode) {
    let want_pty = mode == PtyMode::Auto;
    assert_eq!(
        outcome.used_pty, want_pty,
        "mode {mode:?}: used_pty = {} (is there a PTY here, and is AGENTLS_PTY unset?)",
        outcome.used_pty
    );
}

pub struct Running {
    pub cancel: CancellationToken,
    task: JoinHandle<Result<Outcome, ExecError>>,
    rx: mpsc::Receiver<Vec<u8>>,
    pub raw: Vec<u8>,
}

impl Running {
    pub fn start(spec: CommandSpec) -> Running {
        let (tx, rx) = mpsc::channel(8);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(spec, tx, cancel.clone()));
        Running {
            cancel,
            task,
            rx,
            raw: Vec::new(),
        }
    }

    pub fn text(&self) -> String {
        strip_ansi(&self.raw)
    }

    /// Reads output until the plain text contains `needle`.
    pub async fn wait_for(&mut self, needle: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !self.text().contains(needle) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(chunk)) => self.raw.extend_from_slice(&chunk),
                Ok(None) => panic!("output ended without {needle:?}: {:?}", self.text()),
                Err(_) => panic!("no {needle:?} in time; output so far: {:?}", self.text()),
            }
        }
    }

    /// Reads the rest of the output and the outcome.
    pub async fn finish(mut self) -> (Result<Outcome, ExecError>, Vec<u8>) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(chunk)) => self.raw.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(_) => panic!("output never ended; so far: {:?}", self.text()),
            }
        }
        let result = tokio::time::timeout_at(deadline, self.task)
            .await
            .expect("run did not return after its output ended")
            .expect("run panicked");
        (result, self.raw)
    }

    /// Drops the run future (as a caller abandoning it would).
    pub async fn abort(self) {
        self.task.abort();
        let joined = self.task.await;
        assert!(
            joined.is_err_and(|e| e.is_cancelled()),
            "run was not aborted"
        );
    }
}

/// Runs to the end; panics if the command could not be run.
pub async fn capture(spec: CommandSpec) -> (Outcome, Vec<u8>) {
    let (result, raw) = Running::start(spec).finish().await;
    (result.expect("command could not be run"), raw)
}

/// The number after `key=` in `text`, as the test commands print pids.
#[track_caller]
pub fn number_after(text: &str, key: &str) -> i32 {
    let start = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in {text:?}"))
        + key.len();
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {key:?} in {text:?}"))
}

/// Alive means: exists and is not a zombie (a dead process whose parent,
/// maybe an init that never reaps, has not collected it yet).
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X'))
        }
        Err(_) => false,
    }
}

/// Polls (an external fact: there is no event for "that pid is gone").
#[track_caller]
pub fn assert_gone(pid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) {
        if Instant::now() > deadline {
            // Do not leave it behind for the next test.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{what} (pid {pid}) is still running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
