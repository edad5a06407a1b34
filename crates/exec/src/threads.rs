//! The blocking side of a run: one thread copies output into the channel,
//! one feeds stdin, one waits for the child. Each blocks in poll, read or
//! waitid (never spins) and ends on its own once the runner closes the
//! [`Wake`] pipe, so no thread outlives its run, even a dropped one.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::sys;
use crate::ExecError;

/// Bytes per read: large enough that bulk output costs few syscalls and
/// channel messages.
const READ_CHUNK: usize = 64 * 1024;

/// After the wake-up, the reader takes what is already buffered and stops.
/// The cap bounds that drain when a process that left the group keeps
/// writing; it exceeds any kernel pipe or terminal buffer, so the output of
/// the command itself is never cut.
const DRAIN_CAP: usize = 4 * 1024 * 1024;

/// Held by the runner; dropping it wakes every thread polling the listener
/// (the read end sees POLLHUP and keeps seeing it).
pub(crate) struct Wake {
    _write: OwnedFd,
}

/// The polled end of a [`Wake`].
#[derive(Clone)]
pub(crate) struct WakeListener(Arc<OwnedFd>);

pub(crate) fn wake_pair() -> Result<(Wake, WakeListener), ExecError> {
    let (read, write) = sys::pipe().map_err(|source| ExecError::Io {
        action: "create a wake-up pipe",
        source,
    })?;
    Ok((Wake { _write: write }, WakeListener(Arc::new(read))))
}

/// A named OS thread whose result can be awaited without blocking the
/// runtime.
pub(crate) struct Thread<T> {
    name: &'static str,
    state: State<T>,
    handle: Option<std::thread::JoinHandle<()>>,
}

enum State<T> {
    Running(oneshot::Receiver<T>),
    /// `None`: the thread panicked before sending.
    Done(Option<T>),
}

impl<T: Send + 'static> Thread<T> {
    pub(crate) fn spawn(
        name: &'static str,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Self, ExecError> {
        let (tx, rx) = oneshot::channel();
        let handle = std::thread::Builder::new()
            .name(format!("agentls-exec-{name}"))
            .spawn(move || {
                let _ = tx.send(body());
            })
            .map_err(|source| ExecError::Io {
                action: "start a helper thread",
                source,
            })?;
        Ok(Thread {
            name,
            state: State::Running(rx),
            handle: Some(handle),
        })
    }

    /// Resolves when the thread has produced its result. Cancel-safe.
    pub(crate) async fn finished(&mut self) {
        if let State::Running(rx) = &mut self.state {
            let value = rx.await.ok();
            self.state = State::Done(value);
        }
    }

    /// Waits for the thread and returns its result.
    pub(crate) async fn join(mut self) -> Result<T, ExecError> {
        self.finished().await;
        if let Some(handle) = self.handle.take() {
            // The result was sent as the thread's last act: this returns at once.
            let _ = handle.join();
        }
        match self.state {
            State::Done(Some(value)) => Ok(value),
            _ => Err(ExecError::ThreadPanicked { thread: self.name }),
        }
    }
}

/// Copies output from `source` to `sink` in chunks until end of file, or,
/// once woken, until nothing more is buffered. Byte-exact: a PTY master
/// reports EIO once the terminal is closed and drained, read as end of file.
///
/// If the receiver is dropped, reading continues and the bytes are discarded,
/// so the command never stalls on a full terminal.
pub(crate) fn pump_output(
    source: OwnedFd,
    wake: WakeListener,
    sink: mpsc::Sender<Vec<u8>>,
) -> io::Result<u64> {
    let mut file = File::from(source);
    let mut buf = vec![0u8; READ_CHUNK];
    let mut sink = Some(sink);
    let mut total: u64 = 0;
    // Some(bytes read since the wake-up) once woken.
    let mut drained: Option<usize> = None;
    loop {
        let mut fds = [
            sys::pollfd(&file, libc::POLLIN),
            sys::pollfd(&wake.0, libc::POLLIN),
        ];
        let (watched, timeout) = if drained.is_some() { (1, 0) } else { (2, -1) };
        sys::poll(&mut fds[..watched], timeout)?;
        let readable = fds[0].revents != 0;
        if drained.is_none() && fds[1].revents != 0 {
            drained = Some(0);
        }
        if !readable {
            if drained.is_some() && watched == 1 {
                break;
            }
            continue;
        }
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.raw_os_error() == Some(libc::EIO) => break,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) =>
            {
                continue
            }
            Err(err) => return Err(err),
        };
        total += n as u64;
        if let Some(tx) = &sink {
            if tx.blocking_send(buf[..n].to_vec()).is_err() {
                sink = None;
            }
        }
        if let Some(drained) = &mut drained {
            *drained += n;
            if *drained >= DRAIN_CAP {
                break;
            }
        }
    }
    Ok(total)
}

/// Writes `data` to the child's stdin and closes it. Stops early when the
/// child closes its end or the runner wakes it.
pub(crate) fn feed_stdin(sink: OwnedFd, data: Vec<u8>, wake: WakeListener) -> io::Result<()> {
    // Non-blocking so a child that never reads cannot pin this thread: it
    // waits in poll, where the wake-up reaches it.
    sys::set_nonblocking(&sink)?;
    let mut file = File::from(sink);
    let mut rest = &data[..];
    while !rest.is_empty() {
        let mut fds = [
            sys::pollfd(&file, libc::POLLOUT),
            sys::pollfd(&wake.0, libc::POLLIN),
        ];
        sys::poll(&mut fds, -1)?;
        if fds[1].revents != 0 {
            break;
        }
        match file.write(rest) {
            Ok(0) => break,
            Ok(n) => rest = &rest[n..],
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) => {}
            // The child closed stdin without reading everything: its choice.
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => break,
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Watches a child from a thread: first "it has exited" (the child stays a
/// zombie, keeping its process group id reserved), then, when told, reaps it.
///
/// Dropped without [`reap`](ChildWatch::reap) (a failed start, a dropped
/// run), it kills the group first and the thread reaps on its own: no
/// strays, no zombies.
pub(crate) struct ChildWatch {
    group: sys::ProcessGroup,
    pid: u32,
    exited: oneshot::Receiver<()>,
    has_exited: bool,
    reap_now: Option<oneshot::Sender<()>>,
    thread: Option<Thread<io::Result<ExitStatus>>>,
}

impl ChildWatch {
    pub(crate) fn spawn(group: sys::ProcessGroup, pid: u32) -> Result<ChildWatch, ExecError> {
        let (exited_tx, exited) = oneshot::channel();
        let (reap_now, reap_rx) = oneshot::channel::<()>();
        let thread = Thread::spawn("wait", move || {
            // An error here (ECHILD) resurfaces from reap below.
            let _ = sys::wait_exited(group.pid());
            let _ = exited_tx.send(());
            // Err means the watch was dropped: reap anyway.
            let _ = reap_rx.blocking_recv();
            sys::reap(group.pid())
        })?;
        Ok(ChildWatch {
            group,
            pid,
            exited,
            has_exited: false,
            reap_now: Some(reap_now),
            thread: Some(thread),
        })
    }

    /// Resolves once the child has exited (not yet reaped). Cancel-safe.
    pub(crate) async fn exited(&mut self) {
        if !self.has_exited {
            let _ = (&mut self.exited).await;
            self.has_exited = true;
        }
    }

    /// Reaps the child and returns its status. After this the group id may
    /// be reused: signal the group only before.
    pub(crate) async fn reap(mut self) -> Result<ExitStatus, ExecError> {
        if let Some(reap_now) = self.reap_now.take() {
            let _ = reap_now.send(());
        }
        let pid = self.pid;
        let thread = self
            .thread
            .take()
            .ok_or(ExecError::ThreadPanicked { thread: "wait" })?;
        thread
            .join()
            .await?
            .map_err(|source| ExecError::Wait { pid, source })
    }
}

impl Drop for ChildWatch {
    fn drop(&mut self) {
        if self.reap_now.is_some() {
            // Not reaped yet, so the group id is still ours to signal.
            self.group.signal(libc::SIGKILL);
        }
    }
}
