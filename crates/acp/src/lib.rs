//! An Agent Client Protocol client (agentclientprotocol.com, protocol v1):
//! starts an ACP agent process (Claude Code's `claude-agent-acp`, `codex-acp`,
//! `gemini --experimental-acp`, ...), opens one session, sends one prompt
//! and serves the agent's requests through a [`Host`] until the turn's stop
//! reason.
//!
//! The messages are the SDK's types (`agent-client-protocol`); this crate
//! turns them into plain Rust ([`Update`], [`PermissionAsk`]) so the engine,
//! which implements [`Host`] with its own parts (the editor's unsaved text,
//! guarded edits, the permission policy), never sees the protocol.
//!
//! *Architecture Invariant:* knows nothing of LSP, workflows or the store;
//! the host decides what a request may do.

mod builtin;
mod host;
mod process;
mod run;
mod session;
mod transport;

pub use builtin::{Builtin, BUILTINS};
pub use host::{
    BoxFuture, Host, HostError, PermissionAnswer, PermissionAsk, TerminalExit, TerminalOutput,
    TerminalRequest, Update,
};
pub use process::{AgentCommand, PreExec};
pub use run::{run, AcpError, Finished, Prompt, Resource, GRACE};
