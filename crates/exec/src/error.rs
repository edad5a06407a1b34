//! Errors of the execution layer, worded for the person who has to fix them.

use std::io;
use std::path::PathBuf;

/// Why a command could not be run (a command that ran and failed is an
/// [`Outcome`](crate::Outcome), not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The working directory is missing or not a directory.
    #[error("working directory {} is not usable: {source}", path.display())]
    WorkingDirectory {
        /// The directory from the spec.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// No pseudo-terminal can be opened here (only from [`probe_pty`](crate::probe_pty);
    /// `run` falls back to pipes instead).
    #[error(
        "cannot open a pseudo-terminal: {reason}; commands will run with plain pipes \
         (set AGENTLS_PTY=off or `pty = false` to choose that explicitly)"
    )]
    Pty {
        /// What the PTY layer reported.
        reason: String,
    },
    /// The command line or the environment holds a NUL byte, which no
    /// program can be handed (C strings end at the first NUL).
    #[error("the {what} cannot contain a NUL byte (\\0)")]
    Nul {
        /// "command line", or "environment variable NAME".
        what: String,
    },
    /// The spec requires a sandbox and none can be had here.
    #[error(
        "the command must run sandboxed and cannot: {reason} (`agentls doctor` shows the sandbox)"
    )]
    Sandbox {
        /// Why there is no sandbox.
        reason: String,
    },
    /// `/bin/sh` could not be started.
    #[error("cannot start /bin/sh: {source}")]
    Spawn {
        /// What the operating system said.
        source: io::Error,
    },
    /// A resource the runner needs (a pipe, a thread) could not be had.
    #[error("cannot {action}: {source}")]
    Io {
        /// What was being attempted, e.g. "create an output pipe".
        action: &'static str,
        /// What the operating system said.
        source: io::Error,
    },
    /// The child's exit status could not be collected (something else in this
    /// process reaped it, e.g. `SIGCHLD` set to `SIG_IGN`).
    #[error("lost track of process {pid}: {source}")]
    Wait {
        /// The child's process id.
        pid: u32,
        /// What `waitid`/`waitpid` said.
        source: io::Error,
    },
    /// A helper thread panicked: a bug in agentls.
    #[error("internal error: the {thread} thread panicked")]
    ThreadPanicked {
        /// Which helper thread.
        thread: &'static str,
    },
}
