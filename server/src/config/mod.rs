//! Configuration: the typed settings a session runs with, and how they are
//! layered from files and the editor.
//!
//! Owns: the `Config` schema and its defaults, loading config files with
//! exact error positions, merging layers. Must never know LSP: the LSP layer
//! converts byte spans into editor positions itself.

mod layers;

pub use layers::{parse_editor_settings, ConfigError, ConfigFile, Layers};

use std::collections::BTreeMap;

use agentls_provider::{ProviderConfig, ProvidersConfig};
use serde::{Deserialize, Serialize};

/// The effective settings of one session. Every key is documented in
/// docs/configuration.md; keep the two in step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The provider prompt steps use when they name none (default `claude`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_provider: Option<String>,
    /// Named model providers (`[providers.NAME]`), beside the built-in
    /// `claude`, `gpt` and `gemini`. See docs/providers.md.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// ACP agents (`[agents.NAME]`), beside the built-in `claude-code`,
    /// `codex` and `gemini`. See docs/agents.md.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub agents: BTreeMap<String, AgentConfig>,
    pub exec: ExecConfig,
    pub store: StoreConfig,
    pub stream: StreamConfig,
    /// Which workflows run sandboxed (`[sandbox]`). Read from the user's
    /// own layers only (their file and the editor's settings): a workspace
    /// must not lift its own sandbox.
    pub sandbox: SandboxConfig,
    /// Where runs work (`[isolation]`). Read from the user's own layers
    /// only: a workspace must not make its workflows work in the user's
    /// working tree.
    pub isolation: IsolationConfig,
    /// OpenTelemetry export (`[telemetry]`). Read from the user's config
    /// file only: a workspace must not redirect the user's telemetry.
    pub telemetry: agentls_telemetry::TelemetryConfig,
}

impl Config {
    /// The provider settings, as the providers crate takes them.
    pub fn providers(&self) -> ProvidersConfig {
        ProvidersConfig {
            default_provider: self.default_provider.clone(),
            providers: self.providers.clone(),
        }
    }
}

/// `[agents.NAME]`: how to start an ACP agent. For a built-in name, what
/// is given replaces the built-in's value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// The program and its arguments, e.g. `["claude-agent-acp"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Variables set for the agent.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Provider key variables it may inherit (every other one is removed
    /// from its environment); a built-in keeps its own vendor's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    /// Paths the agent may write in the run's sandbox besides the working
    /// tree and its temporary directory (its login, sessions, caches); a
    /// built-in has its own. `~` is the home directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<Vec<String>>,
}

impl Config {
    /// The ACP agents steps can start: the built-ins with the config's
    /// `[agents]` over them. An entry without a command and no built-in of
    /// its name is left out.
    pub fn acp_agents(&self) -> BTreeMap<String, agentls_engine::AcpAgent> {
        let mut agents = agentls_engine::AcpAgent::builtins();
        for (name, config) in &self.agents {
            let base = agents.get(name).cloned();
            let command = match (&config.command, &base) {
                (Some(command), _) if !command.is_empty() => command.clone(),
                (_, Some(base)) => base.command.clone(),
                _ => continue,
            };
            let agent = agentls_engine::AcpAgent {
                command,
                env: config
                    .env
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                keys: config
                    .keys
                    .clone()
                    .or_else(|| base.as_ref().map(|b| b.keys.clone()))
                    .unwrap_or_default(),
                write: config
                    .write
                    .clone()
                    .or_else(|| base.map(|b| b.write))
                    .unwrap_or_default(),
            };
            agents.insert(name.clone(), agent);
        }
        agents
    }
}

/// What a workspace's `[agents]` would start that the user's own layers
/// would not: each a sentence for the trust question. An agent is a
/// program, so any change to one (command, environment, keys) is one.
pub fn untrusted_agents(approved: &Config, effective: &Config) -> Vec<String> {
    let ok = approved.acp_agents();
    effective
        .acp_agents()
        .into_iter()
        .filter(|(name, agent)| ok.get(name) != Some(agent))
        .map(|(name, agent)| {
            format!(
                "start the ACP agent `{name}` as `{}`",
                agent.command.join(" ")
            )
        })
        .collect()
}

/// How `run` steps execute commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecConfig {
    /// Run commands in a pseudo-terminal; `false` uses plain pipes.
    pub pty: bool,
    /// `TERM` given to commands run in the pseudo-terminal.
    pub term: String,
    /// Terminal width in columns.
    pub cols: u16,
    /// Terminal height in rows.
    pub rows: u16,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            pty: true,
            term: "xterm-256color".into(),
            cols: 120,
            rows: 40,
        }
    }
}

/// `[sandbox]`: the sandbox of workflows that do not declare one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// User and built-in workflows without a `sandbox` key: `writes`
    /// (confined writes, network allowed), `worktree` (the default: so
    /// confined when the run works in a worktree of its own, unconfined in
    /// the workspace, where a sandboxed step cannot create entries in a git
    /// workspace's root, which a first build does) or `off`. Workspace
    /// workflows are always sandboxed.
    pub default: SandboxDefault,
    /// Where no sandbox can be had, run sandboxed workflows unconfined with
    /// a warning (`true`) or fail their steps (`false`).
    pub allow_unconfined: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            default: SandboxDefault::Worktree,
            allow_unconfined: true,
        }
    }
}

/// `[sandbox] default`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxDefault {
    /// Writes confined to the workspace, its temporary directory and the
    /// declared paths; network allowed.
    Writes,
    /// As `writes` in runs isolated in a worktree (the whole worktree is
    /// writable there), unconfined otherwise.
    Worktree,
    /// Unconfined.
    Off,
}

/// `[isolation]`: where runs of workflows without an `isolation` key work.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IsolationConfig {
    pub default: IsolationDefault,
}

/// `[isolation] default`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IsolationDefault {
    /// In the workspace itself.
    #[default]
    None,
    /// In a git worktree of the workspace of their own; the result is a
    /// patch to apply (docs/workflows.md, "Isolation").
    Worktree,
}

/// How runs are checkpointed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Output kept per step, in bytes; past it the tail is kept with a marker.
    pub max_output_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_output_bytes: 8 * 1024 * 1024,
        }
    }
}

/// How live output is streamed to the editor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// At most this many `agent/output` notifications per run per second.
    pub output_per_second: u32,
    /// At most this many progress reports per run per second.
    pub progress_per_second: u32,
    /// Output waiting for a slow editor, per run, before the middle is skipped.
    pub max_pending_bytes: u64,
    /// How long the server waits for the editor to answer one of its
    /// requests (applyEdit, showDocument, workDoneProgress/create) before it
    /// gives up on it and goes on.
    pub request_timeout_ms: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            output_per_second: 20,
            progress_per_second: 10,
            max_pending_bytes: 1024 * 1024,
            request_timeout_ms: 30_000,
        }
    }
}
