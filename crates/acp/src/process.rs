//! The agent process: started in its own process group with the keys of
//! other providers removed from its environment, its stderr kept as the
//! last few lines (for the error when it dies), killed as a group.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Lines of stderr kept for the error of an agent that dies.
const STDERR_LINES: usize = 20;
/// Characters kept of one stderr line.
const STDERR_LINE_CHARS: usize = 500;

/// How to start an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCommand {
    /// The program and its arguments (`["claude-agent-acp"]`).
    pub argv: Vec<String>,
    /// Variables set for it (the `[agents.NAME] env` table).
    pub env: Vec<(String, String)>,
    /// Variables it never inherits (provider keys), unless `env` sets them.
    pub remove_env: Vec<String>,
    /// Its working directory: the run's working tree.
    pub cwd: PathBuf,
    /// Run in the agent's process between fork and exec: its sandbox.
    pub pre_exec: Option<PreExec>,
}

/// What the agent's process runs between fork and exec; it must be
/// async-signal-safe (no allocation, no locks): a few system calls.
#[derive(Clone)]
pub struct PreExec(pub Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>);

impl std::fmt::Debug for PreExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreExec")
    }
}

impl PartialEq for PreExec {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for PreExec {}

pub(crate) struct Spawned {
    pub child: Child,
    pub stderr: Arc<Mutex<VecDeque<String>>>,
}

impl AgentCommand {
    pub(crate) fn spawn(&self) -> std::io::Result<Spawned> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the agent's `command` is empty",
            ));
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group: cancel and the end of the step kill everything
            // it started (docs/architecture.md, invariant 10).
            .process_group(0)
            .kill_on_drop(true);
        for name in &self.remove_env {
            if !self.env.iter().any(|(k, _)| k == name) {
                cmd.env_remove(name);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(PreExec(hook)) = &self.pre_exec {
            let hook = hook.clone();
            // SAFETY: the hook is async-signal-safe (its contract), and
            // cloning the `Arc` happened before the fork.
            unsafe {
                cmd.pre_exec(move || hook());
            }
        }
        let mut child = cmd.spawn()?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let kept = stderr.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(target: "agentls::acp", "agent stderr: {line}");
                    let line: String = line.chars().take(STDERR_LINE_CHARS).collect();
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    if kept.len() == STDERR_LINES {
                        kept.pop_front();
                    }
                    kept.push_back(line);
                }
            });
        }
        Ok(Spawned { child, stderr })
    }
}

/// Sends `signal` to the process group led by `pid`.
pub(crate) fn kill_group(pid: Option<u32>, signal: i32) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: killpg has no memory effects; a stale group id fails
        // with ESRCH, which is fine.
        unsafe {
            libc::killpg(pid, signal);
        }
    }
}
