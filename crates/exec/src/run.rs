//! Running one command to its end: start it, stream its output, stop it on
//! exit, timeout or cancel, and leave nothing behind (no process of its
//! group, no zombie, no thread).

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};
use tokio_util::sync::CancellationToken;

use crate::sandbox::{self, Confinement};
use crate::spawn::{spawn, Spawned};
use crate::threads::{feed_stdin, pump_output, wake_pair, ChildWatch, Thread};
use crate::{CommandSpec, ExecError, Outcome, Termination};

/// Between SIGTERM and SIGKILL: time for a test runner to clean up, short
/// enough that a cancel feels immediate.
const KILL_GRACE: Duration = Duration::from_millis(300);

/// Runs `spec` to its end, sending its raw output (stdout and stderr merged,
/// in chunks of up to 64 KiB) to `output`.
///
/// The caller must drain `output` concurrently: the channel is bounded and
/// the command waits when it is full. If the receiver is dropped the command
/// keeps running and its output is discarded.
///
/// On timeout or when `cancel` fires, the shell's process group gets
/// SIGTERM and, after a grace of 300 ms, SIGKILL. When the shell exits by
/// itself, what is left of its group (background jobs such as
/// `sleep 1000 &`) gets SIGTERM, and SIGKILL once the output is closed or
/// the grace has passed: nothing of a step outlives it. Processes that left
/// the group (`setsid`, job control) are out of reach, but their holding the
/// output open does not keep `run` from returning. Dropping the future kills
/// the group too.
///
/// Needs a Tokio runtime with the time driver enabled.
pub async fn run(
    spec: CommandSpec,
    output: mpsc::Sender<Vec<u8>>,
    cancel: CancellationToken,
) -> Result<Outcome, ExecError> {
    check_cwd(&spec.cwd)?;
    check_nul(&spec)?;
    let (wake, listener) = wake_pair()?;
    let started = Instant::now();
    // Kept until the command is over: it owns the temporary directory.
    let sandbox = match &spec.sandbox {
        None => None,
        Some(policy) => Some(sandbox::prepare(policy, &spec.cwd)?),
    };
    let confinement = match &sandbox {
        None => Confinement::NotRequested,
        Some(Ok(prepared)) => Confinement::Landlock { abi: prepared.abi },
        Some(Err(reason)) => {
            tracing::warn!(reason, "running a command unconfined: no sandbox");
            Confinement::Unconfined {
                reason: reason.clone(),
            }
        }
    };
    let prepared = sandbox.as_ref().and_then(|s| s.as_ref().ok());
    let Spawned {
        pid,
        group,
        output: output_fd,
        stdin,
        used_pty,
    } = spawn(&spec, prepared)?;
    let mut watch = match ChildWatch::spawn(group, pid) {
        Ok(watch) => watch,
        Err(err) => {
            // No thread to reap it: do it here, the wait is short after SIGKILL.
            group.signal(libc::SIGKILL);
            let _ = crate::sys::reap(group.pid());
            return Err(err);
        }
    };
    tracing::debug!(pid, used_pty, "command started");

    let mut reader = Thread::spawn("output", {
        let listener = listener.clone();
        move || pump_output(output_fd, listener, output)
    })?;
    let writer = match (stdin, spec.stdin) {
        (Some(fd), Some(data)) => Some(Thread::spawn("stdin", move || {
            feed_stdin(fd, data, listener)
        })?),
        _ => None,
    };

    let deadline = async {
        match spec.timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let stopped_by = tokio::select! {
        biased;
        () = watch.exited() => None,
        () = cancel.cancelled() => Some(Termination::Cancelled),
        () = deadline => Some(Termination::TimedOut),
    };

    // End the group while the unreaped leader keeps its id reserved.
    group.signal(libc::SIGTERM);
    // Stopped members only act on SIGTERM once continued.
    group.signal(libc::SIGCONT);
    let grace = Instant::now() + KILL_GRACE;
    if stopped_by.is_some() {
        let _ = timeout_at(grace, watch.exited()).await;
    }
    // Members still holding the output get the same grace to close it.
    let _ = timeout_at(grace, reader.finished()).await;
    group.signal(libc::SIGKILL);
    watch.exited().await;
    let status = watch.reap().await?;
    let duration = started.elapsed();

    // Whatever still holds the output left the group: take what is buffered
    // and stop reading.
    drop(wake);
    let bytes = reader.join().await?.map_err(|source| ExecError::Io {
        action: "read the command's output",
        source,
    })?;
    if let Some(writer) = writer {
        if let Err(err) = writer.join().await? {
            tracing::debug!(pid, %err, "writing stdin stopped early");
        }
    }

    let termination = stopped_by.unwrap_or(match status.code() {
        Some(code) => Termination::Exited(code),
        None => Termination::Signaled(status.signal().unwrap_or(0)),
    });
    tracing::debug!(pid, ?termination, bytes, "command ended");
    Ok(Outcome {
        termination,
        used_pty,
        pid,
        duration,
        confinement,
    })
}

/// Caught here, before the PTY layer turns it into a misleading "no
/// terminal" fallback and the pipe path into a bare "invalid input".
fn check_nul(spec: &CommandSpec) -> Result<(), ExecError> {
    if spec.command.contains('\0') {
        return Err(ExecError::Nul {
            what: "command line".to_string(),
        });
    }
    for (name, value) in &spec.env {
        if name.contains('\0') || value.contains('\0') {
            return Err(ExecError::Nul {
                what: format!("environment variable {}", name.replace('\0', "\\0")),
            });
        }
    }
    Ok(())
}

/// A missing directory must fail loudly: the PTY layer would otherwise run
/// the command in `$HOME`.
fn check_cwd(cwd: &Path) -> Result<(), ExecError> {
    match std::fs::metadata(cwd) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(ExecError::WorkingDirectory {
            path: cwd.to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        }),
        Err(source) => Err(ExecError::WorkingDirectory {
            path: cwd.to_path_buf(),
            source,
        }),
    }
}
