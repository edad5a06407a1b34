//! What to run: the command, where, with which environment, and how.
//!
//! Owns the knobs a caller can turn (terminal or pipes, size, timeout, the
//! environment a child sees). Knows nothing about where those knobs come from
//! (workflow files, config, the CLI).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::SandboxPolicy;

/// Environment variable that forces plain pipes for every command when set to
/// `off` (also `0`, `false`, `no`; case-insensitive), whatever the spec says.
/// For containers and CI where a pseudo-terminal misbehaves.
pub const PTY_ENV_VAR: &str = "AGENTLS_PTY";

/// Provider key variables scrubbed from a child's inherited environment by
/// [`CommandSpec::new`]. A step that needs one passes it through
/// [`CommandSpec::env`], which wins over removal.
pub const DEFAULT_SECRET_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "XAI_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "COHERE_API_KEY",
];

/// Whether a command runs in a pseudo-terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PtyMode {
    /// Try a pseudo-terminal; when none can be opened, fall back to pipes
    /// (the reason is logged once per process).
    #[default]
    Auto,
    /// Plain pipes: stdout and stderr merged into one stream, stdin empty.
    Off,
}

impl PtyMode {
    /// The mode after [`PTY_ENV_VAR`] has had its say.
    pub fn with_env_override(self) -> PtyMode {
        match std::env::var(PTY_ENV_VAR) {
            Ok(value) if is_off(&value) => PtyMode::Off,
            _ => self,
        }
    }
}

pub(crate) fn is_off(value: &str) -> bool {
    ["off", "0", "false", "no"]
        .iter()
        .any(|off| value.trim().eq_ignore_ascii_case(off))
}

/// Size of the pseudo-terminal a command sees (`stty size`, `$COLUMNS`-less
/// programs asking the kernel). Ignored with pipes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TerminalSize {
    /// Columns (width in characters).
    pub cols: u16,
    /// Rows (height in lines).
    pub rows: u16,
}

impl Default for TerminalSize {
    /// 120 columns by 40 rows: wide enough that test runners and compilers
    /// do not wrap their lines.
    fn default() -> Self {
        TerminalSize {
            cols: 120,
            rows: 40,
        }
    }
}

/// One command to run: `/bin/sh -c <command>` in `cwd`.
///
/// The child inherits this process's environment minus [`remove_env`], then
/// gets [`env`] on top; under a pseudo-terminal `TERM` is set to [`term`]
/// (an explicit `TERM` in [`env`] wins).
///
/// [`remove_env`]: CommandSpec::remove_env
/// [`env`]: CommandSpec::env
/// [`term`]: CommandSpec::term
#[derive(Clone)]
pub struct CommandSpec {
    /// Shell command line, run as `/bin/sh -c <command>`.
    pub command: String,
    /// Working directory (the workspace root). Must exist: a missing directory
    /// is an error, never a silent fallback to `$HOME`.
    pub cwd: PathBuf,
    /// Variables added or overridden. Applied after `remove_env`, so a step
    /// can pass a secret explicitly.
    pub env: Vec<(String, String)>,
    /// Variables scrubbed from the inherited environment.
    pub remove_env: Vec<String>,
    /// Bytes written to the child's stdin, then stdin is closed. When set,
    /// pipes are used even in [`PtyMode::Auto`]: a terminal would echo the
    /// input into the output, cap canonical-mode lines at 4 KiB and read
    /// control characters (^C, ^D) as signals and end-of-file.
    pub stdin: Option<Vec<u8>>,
    /// Kill the command (and its process group) after this long.
    pub timeout: Option<Duration>,
    /// Terminal or pipes.
    pub pty: PtyMode,
    /// Terminal size under a pseudo-terminal.
    pub size: TerminalSize,
    /// `TERM` under a pseudo-terminal. With pipes the inherited `TERM` is left
    /// alone: programs decide on colour by `isatty`, not by `TERM`.
    pub term: String,
    /// Run confined to this policy (see [`SandboxPolicy`]); `None`: unconfined.
    /// A sandboxed command also gets its own `TMPDIR`, removed when it ends.
    pub sandbox: Option<SandboxPolicy>,
}

impl CommandSpec {
    /// A spec with safe defaults: [`DEFAULT_SECRET_VARS`] scrubbed, no stdin,
    /// no timeout, [`PtyMode::Auto`], 120x40, `TERM=xterm-256color`, and
    /// `PAGER=cat`, `GIT_PAGER=cat`: on a terminal `git log` would otherwise
    /// start `less`, which waits for keys nobody will press.
    pub fn new(command: impl Into<String>, cwd: impl Into<PathBuf>) -> Self {
        CommandSpec {
            command: command.into(),
            cwd: cwd.into(),
            env: vec![
                ("PAGER".to_string(), "cat".to_string()),
                ("GIT_PAGER".to_string(), "cat".to_string()),
            ],
            remove_env: DEFAULT_SECRET_VARS.iter().map(|s| s.to_string()).collect(),
            stdin: None,
            timeout: None,
            pty: PtyMode::Auto,
            size: TerminalSize::default(),
            term: "xterm-256color".to_string(),
            sandbox: None,
        }
    }
}

/// Redacting: `env` values may be secrets passed on purpose, and `stdin` may be
/// a whole prompt, so only names and lengths are shown.
impl fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("CommandSpec")
            .field("command", &self.command)
            .field("cwd", &self.cwd)
            .field("env", &format_args!("{env_names:?} (values hidden)"))
            .field("remove_env", &self.remove_env)
            .field("stdin", &self.stdin.as_ref().map(|s| s.len()))
            .field("timeout", &self.timeout)
            .field("pty", &self.pty)
            .field("size", &self.size)
            .field("term", &self.term)
            .field("sandbox", &self.sandbox)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_scrubs_provider_keys_by_default() {
        let spec = CommandSpec::new("true", "/");
        for var in ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"] {
            assert!(spec.remove_env.iter().any(|v| v == var), "{var}");
        }
    }

    #[test]
    fn new_disables_pagers() {
        let spec = CommandSpec::new("true", "/");
        for var in ["PAGER", "GIT_PAGER"] {
            assert!(
                spec.env.iter().any(|(k, v)| k == var && v == "cat"),
                "{var}"
            );
        }
    }

    #[test]
    fn debug_hides_env_values() {
        let mut spec = CommandSpec::new("true", "/");
        spec.env
            .push(("ANTHROPIC_API_KEY".into(), "sk-secret".into()));
        spec.stdin = Some(b"a long prompt".to_vec());
        let shown = format!("{spec:?}");
        assert!(shown.contains("ANTHROPIC_API_KEY"), "{shown}");
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(!shown.contains("a long prompt"), "{shown}");
    }

    #[test]
    fn env_override_values() {
        for off in ["off", "OFF", "0", "false", "No", " off "] {
            assert!(is_off(off), "{off}");
        }
        for on in ["on", "auto", "1", ""] {
            assert!(!is_off(on), "{on}");
        }
    }
}
