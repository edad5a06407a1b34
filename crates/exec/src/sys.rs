//! The few raw Unix calls the runner needs: pipes, poll, process groups,
//! waiting without reaping. Every `unsafe` block of the crate lives here.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

fn cvt(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// A pipe whose both ends are close-on-exec, so children only get the ends
/// they are handed explicitly.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [-1, -1];
    // SAFETY: `fds` is a valid array of two descriptors for the kernel to fill.
    #[cfg(not(target_vendor = "apple"))]
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    #[cfg(target_vendor = "apple")]
    cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    // SAFETY: the kernel returned two fresh descriptors that nothing else owns.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(target_vendor = "apple")]
    for fd in [&read, &write] {
        // SAFETY: plain fcntl on a descriptor we own.
        cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    }
    Ok((read, write))
}

/// A close-on-exec duplicate of a descriptor owned elsewhere.
pub(crate) fn dup(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: the caller's descriptor is open for the duration of this call;
    // `try_clone_to_owned` only dups it (F_DUPFD_CLOEXEC).
    unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()
}

pub(crate) fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: plain fcntl on a descriptor we own.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

/// Writes the terminal's end-of-file character (^D unless changed) into a
/// PTY master, so a child reading its terminal at the start of a line sees
/// end of input instead of waiting for a user who is not there.
pub(crate) fn send_terminal_eof(master: &OwnedFd) -> io::Result<()> {
    // SAFETY: zeroed termios is a valid out-parameter for tcgetattr.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    cvt(unsafe { libc::tcgetattr(master.as_raw_fd(), &mut termios) })?;
    let eof = termios.c_cc[libc::VEOF];
    if eof == 0 {
        return Ok(());
    }
    // SAFETY: writing one byte from a live local.
    let written = unsafe { libc::write(master.as_raw_fd(), (&eof as *const u8).cast(), 1) };
    if written == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `poll(2)` that retries on EINTR. Returns the number of ready descriptors.
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<usize> {
    loop {
        // SAFETY: `fds` is a valid slice of pollfd for its whole length.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if ready >= 0 {
            return Ok(ready as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

pub(crate) fn pollfd(fd: &impl AsRawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    }
}

/// The process group of a child we spawned as group (or session) leader.
/// Its id equals the child's pid and stays reserved until the child is
/// reaped, which is why the runner reaps only after its last signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcessGroup(libc::pid_t);

impl ProcessGroup {
    /// Refuses ids that would make `kill(-id)` hit something else: 0 is our
    /// own group, 1 would be "every process we may signal".
    pub(crate) fn of_leader(pid: u32) -> io::Result<ProcessGroup> {
        match libc::pid_t::try_from(pid) {
            Ok(id) if id > 1 => Ok(ProcessGroup(id)),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("implausible child pid {pid}"),
            )),
        }
    }

    pub(crate) fn pid(self) -> libc::pid_t {
        self.0
    }

    /// Sends `signal` to every process in the group. A group that is already
    /// gone is not an error.
    pub(crate) fn signal(self, signal: libc::c_int) {
        // SAFETY: kill has no memory effects; the id is > 1 (see of_leader).
        if unsafe { libc::kill(-self.0, signal) } == -1 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ESRCH) {
                tracing::debug!(pgid = self.0, signal, %err, "cannot signal process group");
            }
        }
    }
}

/// Blocks until child `pid` has exited, leaving it a zombie (WNOWAIT) so its
/// pid, and with it the process group id, cannot be reused yet.
pub(crate) fn wait_exited(pid: libc::pid_t) -> io::Result<()> {
    loop {
        // SAFETY: zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let id = pid as libc::id_t;
        let result =
            unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if result == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Reaps child `pid`, blocking until it has exited.
pub(crate) fn reap(pid: libc::pid_t) -> io::Result<ExitStatus> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid out-parameter.
        let result = unsafe { libc::waitpid(pid, &mut status, 0) };
        if result == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Makes the child of the pipe path look like the PTY path's: leader of a
/// new session and process group (so the whole group can be signalled), with
/// no controlling terminal (so a program reaching for `/dev/tty`, like git
/// asking for a password, fails at once instead of being stopped by SIGTTIN
/// on the server's terminal), and with default dispositions for the signals
/// it could inherit as ignored, so SIGTERM and SIGINT act as expected.
///
/// On Linux it also dies with agentls: `PR_SET_PDEATHSIG` sends it SIGKILL
/// when the thread that forked it ends (see `spawn::keeper` for why that
/// thread lives as long as the process). A terminal gives the PTY path the
/// same guarantee through its hang-up. `parent` is our pid, read before the
/// fork: if we died between the fork and the prctl, the signal was never
/// armed, and `getppid` no longer names us.
///
/// `nice` is the scheduling priority of the thread that asked for the
/// command, which the child takes instead of the forking thread's: a
/// command runs at the priority of whoever started it.
pub(crate) fn new_session_before_exec(
    command: &mut std::process::Command,
    parent: libc::pid_t,
    nice: Option<libc::c_int>,
    sandbox: Option<std::os::fd::RawFd>,
) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs between fork and exec and only calls signal(2),
    // setsid(2), setpriority(2), prctl(2), getppid(2), _exit(2) and
    // landlock_restrict_self(2), all async-signal-safe; it touches no parent
    // memory. The ruleset descriptor stays open in the parent until the
    // spawn returns.
    unsafe {
        command.pre_exec(move || {
            if let Some(nice) = nice {
                // Best effort: going below the forking thread's niceness
                // needs a privilege; the spawner starts at the first
                // caller's, which in practice is every caller's.
                libc::setpriority(libc::PRIO_PROCESS, 0, nice);
            }
            for signal in [
                libc::SIGCHLD,
                libc::SIGHUP,
                libc::SIGINT,
                libc::SIGQUIT,
                libc::SIGTERM,
                libc::SIGALRM,
            ] {
                libc::signal(signal, libc::SIG_DFL);
            }
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            let _ = parent;
            if let Some(fd) = sandbox {
                crate::sandbox::restrict(fd)?;
            }
            Ok(())
        });
    }
}

/// The calling thread's nice value (Linux: priorities are per thread).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn thread_nice() -> Option<libc::c_int> {
    // SAFETY: plain syscalls; errno is thread-local and only read here.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
        (nice != -1 || *libc::__errno_location() == 0).then_some(nice)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn thread_nice() -> Option<libc::c_int> {
    None
}
