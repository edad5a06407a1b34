//! agentls-exec: runs shell commands for workflow steps and command
//! providers, in a pseudo-terminal when one can be had, with plain pipes
//! otherwise, behind one interface: [`run`].
//!
//! What it owns: starting `/bin/sh -c` in the workspace root with a scrubbed
//! environment, streaming raw output bytes through a bounded channel,
//! timeouts and cancellation that end the whole process group, children
//! that die with agentls (and [`end_leftovers`] for what escapes that), and
//! [`strip_ansi`] for the plain-text view of output, and [`Utf8Decoder`]
//! for turning output that arrives in pieces into text.
//!
//! Architecture invariant: this crate knows nothing of workflows, steps,
//! SQLite or LSP. It gets a [`CommandSpec`] and returns an [`Outcome`];
//! what the command means is the engine's business.
//!
//! Terminal or pipes:
//! - [`PtyMode::Auto`] opens a pseudo-terminal per command (`test -t 1` is
//!   true, `TERM` is set, the size is [`TerminalSize`]). Its stdin is the
//!   terminal with an end-of-file already typed, so a command that prompts
//!   reads end of input instead of hanging until its timeout.
//! - Pipes are used when no terminal can be opened (logged once), when the
//!   spec has stdin input, with [`PtyMode::Off`], or when the environment has
//!   `AGENTLS_PTY=off` ([`PTY_ENV_VAR`]). stdout and stderr share one pipe,
//!   so their order is kept; stdin is `/dev/null` unless given.
//!
//! Sandbox: a spec with a [`SandboxPolicy`] runs under Landlock (writes
//! beneath the working directory, its own `TMPDIR` and declared paths;
//! TCP ports as declared), inherited by every process it starts; where
//! Landlock is unavailable, or with `AGENTLS_SANDBOX=off`
//! ([`SANDBOX_ENV_VAR`]), it runs unconfined and its [`Outcome`] says so,
//! unless the policy requires the sandbox.
//!
//! Output is read on a dedicated thread in 64 KiB chunks, byte for byte (a
//! terminal turns `\n` into `\r\n`; [`strip_ansi`] undoes that).

#![cfg(unix)]

mod ansi;
mod error;
mod leftovers;
mod outcome;
mod run;
mod sandbox;
mod spawn;
mod spec;
mod sys;
mod threads;
mod utf8;

pub use ansi::strip_ansi;
pub use error::ExecError;
pub use leftovers::{end_leftovers, process_tag, PROCESS_ENV_VAR};
pub use outcome::{Outcome, Termination};
pub use run::run;
pub use sandbox::{
    landlock_abi, Confinement, Network, ProcessSandbox, SandboxPolicy, SANDBOX_ENV_VAR,
};
pub use spawn::probe_pty;
pub use spec::{CommandSpec, PtyMode, TerminalSize, DEFAULT_SECRET_VARS, PTY_ENV_VAR};
pub use tokio_util::sync::CancellationToken;
pub use utf8::Utf8Decoder;
