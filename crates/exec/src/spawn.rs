//! Starting `/bin/sh -c <command>` in a pseudo-terminal or with pipes.
//!
//! Both paths hand the runner the same thing: a child that leads its own
//! session and process group (`setsid`), dies with agentls (the terminal's
//! hang-up, or `PR_SET_PDEATHSIG` with pipes), carries [`PROCESS_ENV_VAR`]
//! (so a later agentls can find what a dead one left behind), one
//! descriptor carrying all its output, and the stdin to feed, if any.

use std::io;
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

use crate::leftovers::{process_tag, PROCESS_ENV_VAR};
use crate::sandbox::{self, Prepared};
use crate::sys::{self, ProcessGroup};
use crate::{CommandSpec, ExecError, PtyMode};

pub(crate) struct Spawned {
    pub(crate) pid: u32,
    pub(crate) group: ProcessGroup,
    /// Read end of everything the command writes (stdout and stderr).
    pub(crate) output: OwnedFd,
    /// Write end of the child's stdin, when the spec has input.
    pub(crate) stdin: Option<OwnedFd>,
    pub(crate) used_pty: bool,
}

/// Starts the command the way the spec (and `AGENTLS_PTY`) asks, confined
/// to `sandbox` when given.
pub(crate) fn spawn(spec: &CommandSpec, sandbox: Option<&Prepared>) -> Result<Spawned, ExecError> {
    let mode = spec.pty.with_env_override();
    if mode == PtyMode::Auto {
        if spec.stdin.is_some() {
            tracing::debug!("command has stdin input: using pipes, a terminal would echo it");
        } else {
            match spawn_pty(spec, sandbox) {
                Ok(spawned) => return Ok(spawned),
                Err(reason) => log_fallback(&reason),
            }
        }
    }
    spawn_pipes(spec, sandbox)
}

/// Whether a pseudo-terminal can be opened here (for `agentls doctor`).
pub fn probe_pty() -> Result<(), ExecError> {
    native_pty_system()
        .openpty(PtySize::default())
        .map(drop)
        .map_err(|err| ExecError::Pty {
            reason: format!("{err:#}"),
        })
}

/// Logged once per process at warn (every run would repeat it), then at debug.
fn log_fallback(reason: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.swap(true, Ordering::Relaxed) {
        tracing::debug!(reason, "no pseudo-terminal; using pipes");
    } else {
        tracing::warn!(
            reason,
            "cannot run commands in a pseudo-terminal; falling back to plain pipes \
             (set AGENTLS_PTY=off to choose pipes explicitly)"
        );
    }
}

/// Errors are reasons to fall back, hence plain text.
fn spawn_pty(spec: &CommandSpec, sandbox: Option<&Prepared>) -> Result<Spawned, String> {
    let size = PtySize {
        rows: spec.size.rows,
        cols: spec.size.cols,
        pixel_width: 0,
        pixel_height: 0,
    };
    let pair = native_pty_system()
        .openpty(size)
        .map_err(|err| format!("{err:#}"))?;
    let master = pair
        .master
        .as_raw_fd()
        .ok_or("the terminal has no file descriptor")?;
    let output = sys::dup(master).map_err(|err| format!("cannot duplicate the terminal: {err}"))?;
    sys::send_terminal_eof(&output)
        .map_err(|err| format!("cannot configure the terminal: {err}"))?;

    let mut cmd = CommandBuilder::new("/bin/sh");
    cmd.arg("-c");
    cmd.arg(&spec.command);
    cmd.cwd(&spec.cwd);
    for name in &spec.remove_env {
        cmd.env_remove(name);
    }
    cmd.env("TERM", &spec.term);
    for (name, value) in &spec.env {
        cmd.env(name, value);
    }
    cmd.env(PROCESS_ENV_VAR, process_tag());
    if let Some(sandbox) = sandbox {
        cmd.env("TMPDIR", sandbox.tmp.path());
    }
    // Only the command may hold the terminal's slave side: once it and its
    // descendants close it, reading the master reports end of file. Both
    // arms drop it once the child is started.
    let slave = pair.slave;
    let child = match sandbox {
        None => slave.spawn_command(cmd).map_err(|err| format!("{err:#}")),
        // portable-pty has no pre-exec hook: a thread confines itself and
        // forks, and its domain passes to the child. The thread ends with
        // the spawn, so nothing else ever runs confined.
        Some(sandbox) => {
            let fd = sandbox.fd();
            std::thread::scope(|scope| {
                scope
                    .spawn(move || {
                        // SAFETY: `fd` is the prepared ruleset, open while
                        // `sandbox` is borrowed.
                        unsafe { sandbox::restrict(fd) }
                            .map_err(|err| format!("cannot enter the sandbox: {err}"))?;
                        slave.spawn_command(cmd).map_err(|err| format!("{err:#}"))
                    })
                    .join()
                    .unwrap_or_else(|_| Err("the sandboxing thread panicked".to_string()))
            })
        }
    }?;
    drop(pair.master);
    let pid = child
        .process_id()
        .ok_or("the terminal child has no process id")?;
    let group = ProcessGroup::of_leader(pid).map_err(|err| err.to_string())?;
    Ok(Spawned {
        pid,
        group,
        output,
        stdin: None,
        used_pty: true,
    })
}

fn spawn_pipes(spec: &CommandSpec, sandbox: Option<&Prepared>) -> Result<Spawned, ExecError> {
    let io_error = |action| move |source| ExecError::Io { action, source };
    let (output, stdout) = sys::pipe().map_err(io_error("create an output pipe"))?;
    // One pipe for both streams keeps their relative order, as `2>&1` does.
    let stderr = stdout
        .try_clone()
        .map_err(io_error("create an output pipe"))?;

    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(&spec.command)
        .current_dir(&spec.cwd)
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    for name in &spec.remove_env {
        cmd.env_remove(name);
    }
    for (name, value) in &spec.env {
        cmd.env(name, value);
    }
    cmd.env(PROCESS_ENV_VAR, process_tag());
    if let Some(sandbox) = sandbox {
        cmd.env("TMPDIR", sandbox.tmp.path());
    }
    sys::new_session_before_exec(
        &mut cmd,
        std::process::id() as libc::pid_t,
        sys::thread_nice(),
        sandbox.map(Prepared::fd),
    );
    // `cmd` holds our copies of the write ends: the keeper drops it right
    // after the fork, so end of file comes when the command's processes
    // close theirs.
    let mut child = keeper::spawn(cmd)?;
    let stdin = child.stdin.take().map(OwnedFd::from);
    let pid = child.id();
    let group = ProcessGroup::of_leader(pid).map_err(io_error("track the child process"))?;
    Ok(Spawned {
        pid,
        group,
        output,
        stdin,
        used_pty: false,
    })
}

/// The thread that forks the pipe path's children.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child ends,
/// not the process. Forking on the caller's thread would tie every step to
/// a Tokio thread: blocking-pool threads retire after 10 s idle and a
/// runtime can be shut down while agentls lives on, which would kill
/// healthy commands. This thread starts on first use and never returns, so
/// the signal fires when, and only when, agentls dies. (A subreaper or a
/// pidfd would need a live agentls to act, which is exactly what is missing
/// after a SIGKILL; what escapes the signal is ended at the next start-up by
/// [`crate::end_leftovers`].)
mod keeper {
    use super::*;

    type Job = (Command, mpsc::Sender<io::Result<Child>>);

    static JOBS: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();

    fn start() -> Option<Mutex<mpsc::Sender<Job>>> {
        let (tx, rx) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("agentls-exec-spawner".to_string())
            .spawn(move || {
                // The senders live in a static: this loop never ends.
                for (mut cmd, reply) in rx {
                    let child = cmd.spawn();
                    drop(cmd);
                    let _ = reply.send(child);
                }
            });
        match started {
            Ok(_) => Some(Mutex::new(tx)),
            Err(err) => {
                tracing::error!(%err, "cannot start the spawner thread");
                None
            }
        }
    }

    /// Spawns `cmd` on the keeper thread and drops it there.
    pub(super) fn spawn(cmd: Command) -> Result<Child, ExecError> {
        let unavailable = || ExecError::Io {
            action: "start the spawner thread",
            source: io::Error::other("the spawner thread is not running"),
        };
        let jobs = JOBS.get_or_init(start).as_ref().ok_or_else(unavailable)?;
        let (reply, answer) = mpsc::channel();
        jobs.lock()
            .unwrap_or_else(|e| e.into_inner())
            .send((cmd, reply))
            .map_err(|_| unavailable())?;
        // A fork and an exec: as short as spawning here would be.
        answer
            .recv()
            .map_err(|_| unavailable())?
            .map_err(|source| ExecError::Spawn { source })
    }
}
