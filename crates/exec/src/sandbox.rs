//! The sandbox a command can be started in: Landlock on Linux.
//!
//! Owns turning a [`SandboxPolicy`] into a Landlock ruleset, the per-command
//! temporary directory (`TMPDIR`), and the one call that confines a thread
//! (`restrict`), made either in the forked child before exec (pipes) or on a
//! short-lived thread that then forks (a pseudo-terminal: portable-pty has no
//! pre-exec hook, and a thread's Landlock domain is inherited by what it
//! forks). The ruleset and every path descriptor are opened before the fork;
//! the child makes two system calls, both async-signal-safe.
//!
//! Writes are allowed beneath the working directory, the command's temporary
//! directory, the terminal and null devices, and the policy's paths; reads
//! and execution stay allowed. In a git workspace the working directory's
//! `.git` is never writable: Landlock only grants, so the workspace's other
//! top-level entries are granted one by one and its root itself is not (new
//! entries directly in the root cannot be created). With Landlock ABI 4 or
//! later, TCP bind and connect are limited to the policy's ports (none for
//! [`Network::Denied`]); with ABI 6, it cannot signal processes outside
//! its sandbox. The domain is inherited by every descendant and
//! cannot be lifted.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, BitFlags, NetPort, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope, ABI,
};

use crate::ExecError;

/// Environment variable that, set to `off` (also `0`, `false`, `no`), makes
/// every command run unconfined, as on a kernel without Landlock. For tests
/// and for the rare system where Landlock misbehaves.
pub const SANDBOX_ENV_VAR: &str = "AGENTLS_SANDBOX";

/// Devices shells, terminals and common tools open for writing.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

/// Which TCP connections a sandboxed command may make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// No limit.
    Allowed,
    /// No TCP bind or connect at all.
    Denied,
    /// TCP bind and connect only on these ports.
    Ports(Vec<u16>),
}

/// What a sandboxed command may write and reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxPolicy {
    /// Absolute paths writable besides the working directory and the
    /// command's temporary directory. Missing paths are skipped.
    pub write: Vec<PathBuf>,
    /// TCP limits (Landlock ABI 4 and later).
    pub network: Network,
    /// Refuse to run the command when it cannot be confined, instead of
    /// running it unconfined.
    pub required: bool,
}

/// How a command was confined, in its [`Outcome`](crate::Outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confinement {
    /// The spec asked for no sandbox.
    NotRequested,
    /// Confined by Landlock with this ABI.
    Landlock {
        /// The kernel's Landlock ABI version.
        abi: u32,
    },
    /// A sandbox was asked for but the command ran unconfined.
    Unconfined {
        /// Why, e.g. "Landlock is not supported by this kernel".
        reason: String,
    },
}

/// The kernel's Landlock ABI version, or why there is none (for `agentls
/// doctor`). [`SANDBOX_ENV_VAR`] set to `off` counts as none.
pub fn landlock_abi() -> Result<u32, String> {
    if let Ok(value) = std::env::var(SANDBOX_ENV_VAR) {
        if crate::spec::is_off(&value) {
            return Err(format!("{SANDBOX_ENV_VAR}={}", value.trim()));
        }
    }
    kernel_abi()
}

#[cfg(not(target_os = "linux"))]
fn kernel_abi() -> Result<u32, String> {
    Err("Landlock exists only on Linux".to_string())
}

#[cfg(target_os = "linux")]
fn kernel_abi() -> Result<u32, String> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the version query reads no memory (null attributes, size 0).
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if version > 0 {
        return Ok(version as u32);
    }
    let err = io::Error::last_os_error();
    Err(match err.raw_os_error() {
        Some(libc::ENOSYS) => "Landlock is not supported by this kernel".to_string(),
        Some(libc::EOPNOTSUPP) => {
            "Landlock is disabled at boot (see the `lsm=` kernel parameter)".to_string()
        }
        _ => format!("Landlock is unavailable: {err}"),
    })
}

/// A ruleset ready to be enforced, and the temporary directory it grants.
pub(crate) struct Prepared {
    ruleset: OwnedFd,
    /// Removed when the command is over.
    pub(crate) tmp: tempfile::TempDir,
    pub(crate) abi: u32,
}

impl Prepared {
    pub(crate) fn fd(&self) -> RawFd {
        self.ruleset.as_raw_fd()
    }
}

/// The sandbox for a command in `cwd`: `Ok(Err(reason))` when it runs
/// unconfined, an error when the policy requires confinement.
pub(crate) fn prepare(
    policy: &SandboxPolicy,
    cwd: &Path,
) -> Result<Result<Prepared, String>, ExecError> {
    let prepared = landlock_abi().and_then(|abi| build(policy, cwd, abi));
    match prepared {
        Err(reason) if policy.required => Err(ExecError::Sandbox { reason }),
        other => Ok(other),
    }
}

fn build(policy: &SandboxPolicy, cwd: &Path, abi: u32) -> Result<Prepared, String> {
    // Every right this code knows about, minus ioctl on devices: that is
    // not a write, and terminals need it.
    let target = ABI::V6;
    let write = AccessFs::from_write(target) & !BitFlags::from(AccessFs::IoctlDev);
    let fail = |what: &str, err: &dyn std::fmt::Display| format!("cannot {what}: {err}");
    let tmp = tempfile::Builder::new()
        .prefix("agentls-step-")
        .tempdir()
        .map_err(|err| fail("create the command's temporary directory", &err))?;

    // With ABI 6, signals to processes outside the sandbox (agentls, the
    // editor, the user's shells) are refused too.
    let mut ruleset = Ruleset::default()
        .handle_access(write)
        .and_then(|r| r.scope(Scope::Signal))
        .map_err(|err| fail("build the sandbox", &err))?;
    if policy.network != Network::Allowed {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(target))
            .map_err(|err| fail("build the sandbox", &err))?;
    }
    let mut created = ruleset
        .create()
        .map_err(|err| fail("create the sandbox", &err))?
        .add_rules(path_beneath_rules(workspace_paths(cwd), write))
        .and_then(|r| r.add_rules(path_beneath_rules([tmp.path()], write)))
        .and_then(|r| r.add_rules(path_beneath_rules(DEVICES, write)))
        .and_then(|r| r.add_rules(path_beneath_rules(&policy.write, write)))
        .map_err(|err| fail("add the sandbox's paths", &err))?;
    if let Network::Ports(ports) = &policy.network {
        for &port in ports {
            created = created
                .add_rule(NetPort::new(port, AccessNet::from_all(target)))
                .map_err(|err| fail("add the sandbox's ports", &err))?;
        }
    }
    let ruleset: Option<OwnedFd> = created.into();
    let ruleset = ruleset.ok_or("Landlock is not supported by this kernel")?;
    Ok(Prepared { ruleset, tmp, abi })
}

/// What of the working directory is writable: all of it, or, in a git
/// workspace, every top-level entry except `.git`.
fn workspace_paths(cwd: &Path) -> Vec<PathBuf> {
    let git = cwd.join(".git");
    if std::fs::symlink_metadata(&git).is_err() {
        return vec![cwd.to_path_buf()];
    }
    match std::fs::read_dir(cwd) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name() != ".git")
            // A symbolic link would grant where it points, which the
            // workspace does not own.
            .filter(|entry| entry.file_type().is_ok_and(|t| !t.is_symlink()))
            .map(|entry| entry.path())
            .collect(),
        Err(err) => {
            tracing::debug!(%err, cwd = %cwd.display(), "cannot list the workspace for the sandbox");
            Vec::new()
        }
    }
}

/// Confines the calling thread (and everything it forks or execs) to the
/// ruleset `fd`.
///
/// # Safety
/// Async-signal-safe: two system calls, no allocation. `fd` must be a
/// Landlock ruleset descriptor open in this process.
#[cfg(target_os = "linux")]
pub(crate) unsafe fn restrict(fd: RawFd) -> io::Result<()> {
    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
        return Err(io::Error::last_os_error());
    }
    if libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub(crate) unsafe fn restrict(_fd: RawFd) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// The sandbox for a process agentls starts itself rather than through
/// [`crate::run`] (an ACP agent, which speaks JSON-RPC on its pipes): the
/// same ruleset as a command's in `cwd`, and its own temporary directory.
/// Keep it until the process has ended: it owns the ruleset descriptor the
/// child confines itself with, and the temporary directory.
pub struct ProcessSandbox {
    prepared: Prepared,
}

impl ProcessSandbox {
    /// `Ok(Err(reason))`: the process runs unconfined (no Landlock here);
    /// an error when the policy requires confinement.
    pub fn prepare(
        policy: &SandboxPolicy,
        cwd: &Path,
    ) -> Result<Result<ProcessSandbox, String>, ExecError> {
        Ok(prepare(policy, cwd)?.map(|prepared| ProcessSandbox { prepared }))
    }

    /// The Landlock ABI it confines with.
    pub fn abi(&self) -> u32 {
        self.prepared.abi
    }

    /// The process's `TMPDIR`, removed with this value.
    pub fn tmp(&self) -> &Path {
        self.prepared.tmp.path()
    }

    /// What the child runs between fork and exec to confine itself:
    /// async-signal-safe (two system calls), for `Command::pre_exec`.
    pub fn pre_exec(&self) -> impl Fn() -> io::Result<()> + Send + Sync + 'static {
        let fd = self.prepared.fd();
        // SAFETY (of the call in the child): `fd` stays open while `self`
        // lives, which the caller keeps until the process has ended.
        move || unsafe { restrict(fd) }
    }
}
