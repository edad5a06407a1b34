//! The agents agentls knows without configuration (docs/agents.md).

/// A built-in agent: its name in workflows, its command line, and the key
/// variables it may inherit (its own vendor's; every other provider key is
/// removed from its environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    pub name: &'static str,
    pub command: &'static [&'static str],
    pub keys: &'static [&'static str],
    /// Where it comes from, for `agentls doctor`.
    pub package: &'static str,
    /// What it writes besides the working tree and its `TMPDIR` (its
    /// login, settings, sessions, caches): writable in its sandbox. `~` is
    /// the home directory; a path ending in `/` is a directory, created
    /// when missing.
    pub write: &'static [&'static str],
}

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "claude-code",
        command: &["claude-agent-acp"],
        keys: &["ANTHROPIC_API_KEY"],
        package: "npm @zed-industries/claude-agent-acp",
        write: &[
            "~/.claude/",
            "~/.claude.json",
            "~/.cache/claude-cli-nodejs/",
            "~/.npm/",
        ],
    },
    Builtin {
        name: "codex",
        command: &["codex-acp"],
        keys: &["OPENAI_API_KEY"],
        package: "npm @zed-industries/codex-acp",
        write: &["~/.codex/", "~/.npm/"],
    },
    Builtin {
        name: "gemini",
        command: &["gemini", "--experimental-acp"],
        keys: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        package: "npm @google/gemini-cli",
        write: &["~/.gemini/", "~/.npm/"],
    },
];
