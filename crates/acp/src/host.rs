//! What the agent may ask of agentls, in plain Rust: the [`Host`] answers.

use std::path::PathBuf;

/// A boxed future the host returns; `'static` because the SDK runs the
/// handlers in its own tasks.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// Why the host refused or failed a request; the agent gets it as a
/// JSON-RPC error with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The request asks for something it may not (a path outside the
    /// workspace, into `.git`, a write the rules do not allow).
    #[error("{0}")]
    Refused(String),
    /// It may, but it did not work (no such file, the editor said no).
    #[error("{0}")]
    Failed(String),
}

/// What the agent reports while it works (`session/update`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A piece of the agent's answer.
    Message(String),
    /// A piece of its reasoning.
    Thought(String),
    /// A tool call it starts: its id, its title (`Read src/lib.rs`), its
    /// kind (`read`, `edit`, `execute`, ...), its status.
    ToolCall {
        id: String,
        title: String,
        kind: String,
        status: String,
    },
    /// A change to a tool call: a new status or title.
    ToolCallUpdate {
        id: String,
        title: Option<String>,
        status: Option<String>,
    },
    /// Its plan: each entry's text and status.
    Plan(Vec<(String, String)>),
}

/// `session/request_permission`: the agent wants to do something and asks.
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionAsk {
    pub tool_call_id: String,
    /// What the agent says it will do (`Run cargo test`, `Edit src/a.rs`).
    pub title: String,
    /// `edit`, `execute`, `delete`, `move`, `fetch`, `other`... (ACP's
    /// tool kinds), when the agent says.
    pub kind: Option<String>,
    /// The files it touches, as it names them (absolute paths).
    pub locations: Vec<PathBuf>,
    /// The tool's input as the agent sends it (a command line, a path...).
    pub raw_input: Option<serde_json::Value>,
    /// Whether the agent offers an "allow always" option.
    pub offers_always: bool,
}

/// The host's answer to a [`PermissionAsk`]; mapped onto the options the
/// agent offered (an answer it did not offer becomes the nearest one, and
/// `Cancelled` when none fits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionAnswer {
    Allow { always: bool },
    Reject,
    Cancelled,
}

/// `terminal/create`: a command the agent wants run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalRequest {
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Absolute, when the agent names one.
    pub cwd: Option<PathBuf>,
    /// Output kept (the start is dropped past it).
    pub output_byte_limit: Option<u64>,
}

/// How a terminal's command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalExit {
    pub exit_code: Option<u32>,
    /// The signal's name (`SIGKILL`) when one ended it.
    pub signal: Option<String>,
}

/// `terminal/output`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalOutput {
    pub output: String,
    pub truncated: bool,
    pub exit: Option<TerminalExit>,
}

/// agentls's side of the session: serves the agent's requests.
pub trait Host: Send + Sync + 'static {
    /// `fs/read_text_file`: the text of `path` (absolute), from `line`
    /// (1-based) for `limit` lines when given.
    fn read_text_file(
        self: std::sync::Arc<Self>,
        path: PathBuf,
        line: Option<u32>,
        limit: Option<u32>,
    ) -> BoxFuture<Result<String, HostError>>;

    /// `fs/write_text_file`: the whole new text of `path` (absolute).
    fn write_text_file(
        self: std::sync::Arc<Self>,
        path: PathBuf,
        content: String,
    ) -> BoxFuture<Result<(), HostError>>;

    /// `terminal/create`: starts the command, returns the terminal's id.
    fn create_terminal(
        self: std::sync::Arc<Self>,
        request: TerminalRequest,
    ) -> BoxFuture<Result<String, HostError>>;

    /// `terminal/output`: what it printed so far, and its exit when ended.
    fn terminal_output(
        self: std::sync::Arc<Self>,
        id: String,
    ) -> BoxFuture<Result<TerminalOutput, HostError>>;

    /// `terminal/wait_for_exit`: resolves when the command ends (awaited
    /// off the message loop: other messages go on meanwhile).
    fn wait_for_terminal_exit(
        self: std::sync::Arc<Self>,
        id: String,
    ) -> BoxFuture<Result<TerminalExit, HostError>>;

    /// `terminal/kill`: kills the command's process group; the terminal
    /// stays readable.
    fn kill_terminal(self: std::sync::Arc<Self>, id: String) -> BoxFuture<Result<(), HostError>>;

    /// `terminal/release`: kills it if it still runs and forgets it.
    fn release_terminal(self: std::sync::Arc<Self>, id: String)
        -> BoxFuture<Result<(), HostError>>;

    /// `session/request_permission`: may wait for a person (awaited off
    /// the message loop); answers `Cancelled` when the turn is cancelled.
    fn permission(self: std::sync::Arc<Self>, ask: PermissionAsk) -> BoxFuture<PermissionAnswer>;

    /// `session/update`. Awaited before the next message is read: a host
    /// that falls behind slows the agent rather than buffering its flood.
    fn update(self: std::sync::Arc<Self>, update: Update) -> BoxFuture<()>;

    /// A message the agent sent that was dropped (malformed, unknown, too
    /// long), for the step's live output and the log.
    fn dropped(&self, what: String);
}
