//! How a command ended.

use std::time::Duration;

use crate::Confinement;

/// Why the command stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// The shell exited with this code.
    Exited(i32),
    /// The shell was killed by this signal (not by us).
    Signaled(i32),
    /// The spec's timeout passed; the process group was killed.
    TimedOut,
    /// The caller cancelled; the process group was killed.
    Cancelled,
}

/// The result of a command that was started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub termination: Termination,
    /// Whether it ran in a pseudo-terminal (false: pipes).
    pub used_pty: bool,
    /// Process id of the shell (also its process group id).
    pub pid: u32,
    /// From start to the shell being reaped.
    pub duration: Duration,
    /// Whether and how it was sandboxed.
    pub confinement: Confinement,
}

impl Outcome {
    /// The exit code when the shell exited by itself; `None` when it was
    /// killed by a signal, timed out or was cancelled.
    pub fn exit_code(&self) -> Option<i32> {
        match self.termination {
            Termination::Exited(code) => Some(code),
            Termination::Signaled(_) | Termination::TimedOut | Termination::Cancelled => None,
        }
    }

    /// True when the shell exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code() == Some(0)
    }
}
