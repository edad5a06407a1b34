//! The terminals of an ACP agent (`terminal/*`): each is a command run by
//! the exec layer exactly like a `run` step's (PTY with the pipe fallback,
//! its own process group, key variables scrubbed, the run's sandbox), its
//! output kept up to the agent's `outputByteLimit` (the start dropped
//! first). All of them are killed when the step ends or is cancelled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentls_acp::{HostError, TerminalExit, TerminalOutput};
use agentls_exec::{CommandSpec, Termination};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Output kept when the agent names no limit, and the most it may name.
const DEFAULT_LIMIT: usize = 1024 * 1024;
const MAX_LIMIT: usize = 16 * 1024 * 1024;
/// The longest a terminal's command may run.
const TIMEOUT: Duration = Duration::from_secs(60 * 60);

struct Kept {
    bytes: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Kept {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > self.limit {
            let mut cut = self.bytes.len() - self.limit;
            // Never start inside a UTF-8 sequence.
            while cut < self.bytes.len() && (self.bytes[cut] & 0b1100_0000) == 0b1000_0000 {
                cut += 1;
            }
            self.bytes.drain(..cut);
            self.truncated = true;
        }
    }
}

struct Terminal {
    kept: Arc<Mutex<Kept>>,
    exit: watch::Receiver<Option<TerminalExit>>,
    cancel: CancellationToken,
}

/// The terminals of one step.
pub(super) struct Terminals {
    all: Mutex<HashMap<String, Terminal>>,
    next: Mutex<u32>,
    /// Cancelled when the step ends: every command still running is killed.
    pub end: CancellationToken,
}

impl Terminals {
    pub fn new(step: &CancellationToken) -> Terminals {
        Terminals {
            all: Mutex::new(HashMap::new()),
            next: Mutex::new(0),
            end: step.child_token(),
        }
    }

    /// Starts `spec`; `done` is told how it ended (for the live output).
    pub fn start(
        &self,
        spec: CommandSpec,
        limit: Option<u64>,
        done: impl FnOnce(&TerminalExit) + Send + 'static,
    ) -> String {
        let id = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            format!("term-{next}")
        };
        let limit = limit
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(DEFAULT_LIMIT)
            .min(MAX_LIMIT);
        let kept = Arc::new(Mutex::new(Kept {
            bytes: Vec::new(),
            limit,
            truncated: false,
        }));
        let (exit_tx, exit) = watch::channel(None);
        let cancel = self.end.child_token();
        let mut spec = spec;
        spec.timeout = Some(TIMEOUT);
        {
            let (kept, cancel) = (kept.clone(), cancel.clone());
            tokio::spawn(async move {
                let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
                let reader = {
                    let kept = kept.clone();
                    tokio::spawn(async move {
                        while let Some(chunk) = rx.recv().await {
                            kept.lock().unwrap_or_else(|e| e.into_inner()).push(&chunk);
                        }
                    })
                };
                let outcome = agentls_exec::run(spec, tx, cancel).await;
                let _ = reader.await;
                let exit = match outcome.map(|o| o.termination) {
                    Ok(Termination::Exited(code)) => TerminalExit {
                        exit_code: u32::try_from(code).ok(),
                        signal: None,
                    },
                    Ok(Termination::Signaled(signal)) => TerminalExit {
                        exit_code: None,
                        signal: Some(signal_name(signal)),
                    },
                    Ok(Termination::TimedOut | Termination::Cancelled) => TerminalExit {
                        exit_code: None,
                        signal: Some("SIGKILL".into()),
                    },
                    Err(error) => {
                        kept.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("cannot start: {error}\n").as_bytes());
                        TerminalExit {
                            exit_code: Some(127),
                            signal: None,
                        }
                    }
                };
                done(&exit);
                let _ = exit_tx.send(Some(exit));
            });
        }
        self.all
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), Terminal { kept, exit, cancel });
        id
    }

    fn with<T>(&self, id: &str, f: impl FnOnce(&Terminal) -> T) -> Result<T, HostError> {
        let all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        all.get(id)
            .map(f)
            .ok_or_else(|| HostError::Refused(format!("no terminal `{id}`")))
    }

    pub fn output(&self, id: &str) -> Result<TerminalOutput, HostError> {
        self.with(id, |t| {
            let kept = t.kept.lock().unwrap_or_else(|e| e.into_inner());
            TerminalOutput {
                output: agentls_exec::strip_ansi(&kept.bytes),
                truncated: kept.truncated,
                exit: t.exit.borrow().clone(),
            }
        })
    }

    pub async fn wait(&self, id: &str) -> Result<TerminalExit, HostError> {
        let mut exit = self.with(id, |t| t.exit.clone())?;
        let ended = match exit.wait_for(Option::is_some).await {
            Ok(exit) => Ok(exit.clone().unwrap_or(TerminalExit {
                exit_code: None,
                signal: None,
            })),
            Err(_) => Err(HostError::Failed(format!("terminal `{id}` was lost"))),
        };
        ended
    }

    pub fn kill(&self, id: &str) -> Result<(), HostError> {
        self.with(id, |t| t.cancel.cancel())
    }

    pub fn release(&self, id: &str) -> Result<(), HostError> {
        let removed = self
            .all
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        match removed {
            Some(t) => {
                t.cancel.cancel();
                Ok(())
            }
            None => Err(HostError::Refused(format!("no terminal `{id}`"))),
        }
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGHUP => "SIGHUP".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGABRT => "SIGABRT".into(),
        other => format!("signal {other}"),
    }
}

/// The command line of a terminal request, as `allow.run` rules see it and
/// the shell runs it: `sh -c LINE` (or bash, zsh) is LINE; a command with
/// arguments is each word single-quoted where needed; a lone command is a
/// command line already.
pub(super) fn command_line(command: &str, args: &[String]) -> String {
    let shell = matches!(
        command.rsplit('/').next(),
        Some("sh" | "bash" | "zsh" | "dash")
    );
    match args {
        [] => command.to_string(),
        [flag, line] if shell && flag == "-c" => line.clone(),
        _ => std::iter::once(command)
            .chain(args.iter().map(String::as_str))
            .map(quote)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::command_line;

    #[test]
    fn a_terminal_request_is_the_command_line_the_shell_runs() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(command_line("cargo test", &[]), "cargo test");
        assert_eq!(
            command_line("bash", &s(&["-c", "cargo test -p core"])),
            "cargo test -p core"
        );
        assert_eq!(
            command_line("cargo", &s(&["test", "--", "it's"])),
            r"cargo test -- 'it'\''s'"
        );
        assert_eq!(command_line("echo", &s(&["a;b"])), "echo 'a;b'");
    }
}
