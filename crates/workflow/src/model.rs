//! The typed form of a workflow file, as the parser produces it.
//!
//! Owns [`Workflow`], [`Step`] and their parts, the [`StepId`] newtype and
//! [`Source`] (where a file came from, with its content hash for trust). These
//! are plain data: how a step runs is the engine's business, not this module's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::diagnostic::TextRange;

/// A step's id: an identifier (`[A-Za-z_][A-Za-z0-9_]*`) so templates can
/// write `steps.<id>.output` without quoting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepId(String);

impl StepId {
    /// Longest id accepted; longer ids are a typo or generated junk.
    pub const MAX_LEN: usize = 64;

    /// Accept `id` if it is a valid step id.
    pub fn new(id: &str) -> Result<StepId, InvalidStepId> {
        if is_identifier(id) && id.len() <= Self::MAX_LEN {
            Ok(StepId(id.to_owned()))
        } else {
            Err(InvalidStepId(id.to_owned()))
        }
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string that is not a valid [`StepId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid step id `{0}`: use letters, digits and `_`, starting with a letter or `_` (at most 64), \
     so templates can write `steps.<id>.output`"
)]
pub struct InvalidStepId(pub String);

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Where a workflow file came from. Later kinds override earlier ones by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// Embedded in the binary.
    Builtin,
    /// `~/.config/agentls/workflows/*.toml`.
    User,
    /// `<workspace>/.agentls/workflows/*.toml`; untrusted until approved.
    Workspace,
}

impl SourceKind {
    /// `builtin`, `user` or `workspace`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Builtin => "builtin",
            SourceKind::User => "user",
            SourceKind::Workspace => "workspace",
        }
    }
}

/// The file a workflow was parsed from: its kind, path, exact content and
/// the SHA-256 of that content (what a trust approval remembers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Built-in, user or workspace.
    pub kind: SourceKind,
    /// The file's path; `None` for built-ins.
    pub path: Option<PathBuf>,
    /// The exact text parsed.
    pub content: String,
    /// Lowercase hex SHA-256 of `content`.
    pub hash: String,
}

impl Source {
    /// A source for `content`, hashing it.
    pub fn new(kind: SourceKind, path: Option<PathBuf>, content: impl Into<String>) -> Source {
        let content = content.into();
        let hash = sha256_hex(&content);
        Source {
            kind,
            path,
            content,
            hash,
        }
    }
}

/// Lowercase hex SHA-256 of a text.
pub fn sha256_hex(text: &str) -> String {
    use fmt::Write;
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A parsed, validated workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// The file stem, e.g. `test` for `test.toml`.
    pub name: String,
    /// Short human title (`title = "..."`).
    pub title: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// Where the workflow is offered as a code action.
    pub applies: Applies,
    /// Declared parameters, in file order.
    pub params: Vec<ParamSpec>,
    /// The steps, in order; at least one.
    pub steps: Vec<Step>,
    /// `sandbox = { ... }` as declared; `None` when the file has no such key
    /// (the source's default applies: see docs/workflows.md).
    pub sandbox: Option<Sandbox>,
    /// `isolation = "none" | "worktree"` as declared; `None` when the file
    /// has no such key (the user's `[isolation] default` applies).
    pub isolation: Option<Isolation>,
    /// The file it came from.
    pub source: Source,
}

/// `sandbox = { network = false, write = ["~/.cache/cargo"] }`: what the
/// workflow's commands may write and reach, beyond the workspace and their
/// own temporary directory. Plain data: the engine turns it into rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// `network`; `None` when not declared (the source's default applies).
    pub network: Option<SandboxNetwork>,
    /// `write`: extra writable paths as written: absolute, or `~/...`.
    pub write: Vec<String>,
    /// `required`: refuse to run where no sandbox can be had.
    pub required: bool,
}

/// Where a run's steps work (docs/workflows.md, "Isolation").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In the workspace itself.
    None,
    /// In a git worktree of the workspace of its own; its result is a patch.
    Worktree,
}

/// `network = true`, `false`, or a list of TCP ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxNetwork {
    /// `true`: no limit.
    Allowed,
    /// `false`: no TCP bind or connect.
    Denied,
    /// `[8080, ...]`: TCP bind and connect on these ports only.
    Ports(Vec<u16>),
}

impl Workflow {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id.as_str() == id)
    }

    /// Fill in defaults for the parameters a run was given, and reject
    /// unknown or missing ones. Optional parameters without a default become `""`,
    /// so every declared parameter is defined in templates.
    pub fn resolve_params(
        &self,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ParamError> {
        if let Some(unknown) = given
            .keys()
            .find(|k| !self.params.iter().any(|p| &p.name == *k))
        {
            return Err(ParamError::Unknown {
                workflow: self.name.clone(),
                param: unknown.clone(),
                known: self
                    .params
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let mut out = BTreeMap::new();
        for p in &self.params {
            let value = match (given.get(&p.name), &p.default) {
                (Some(v), _) => v.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) if p.required => {
                    return Err(ParamError::Missing {
                        workflow: self.name.clone(),
                        param: p.name.clone(),
                    })
                }
                (None, None) => String::new(),
            };
            out.insert(p.name.clone(), value);
        }
        Ok(out)
    }
}

/// Parameters given to a run that do not fit the workflow's `[params]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A parameter the workflow does not declare.
    #[error("workflow `{workflow}` has no parameter `{param}` (it declares: {known})")]
    Unknown {
        /// Workflow name.
        workflow: String,
        /// The parameter given.
        param: String,
        /// Declared parameter names, comma separated.
        known: String,
    },
    /// A required parameter that was not given.
    #[error("workflow `{workflow}` needs the parameter `{param}`")]
    Missing {
        /// Workflow name.
        workflow: String,
        /// The missing parameter.
        param: String,
    },
}

/// `[applies]`: where the workflow is offered as a code action.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applies {
    /// Offered as a code action at all: the file has an `[applies]` table
    /// (an empty one offers it everywhere). Without one, the workflow is a
    /// command only (`agent.run`, pickers), not in every code-action menu.
    pub code_action: bool,
    /// Language ids; empty means all languages.
    pub languages: Vec<String>,
    /// Needs a non-empty selection.
    pub selection: bool,
    /// Needs diagnostics in the range (offered as a quick fix).
    pub diagnostics: bool,
}

/// One `[params.NAME]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// The name templates use: `params.NAME`.
    pub name: String,
    /// Shown to users choosing values.
    pub description: Option<String>,
    /// Used when the run does not give one.
    pub default: Option<String>,
    /// A run without this parameter is refused.
    pub required: bool,
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Unique within the workflow.
    pub id: StepId,
    /// Short human title.
    pub title: Option<String>,
    /// A minijinja expression; the step is skipped when it is false.
    pub when: Option<String>,
    /// Give up (fail the step) after this long.
    pub timeout: Option<Duration>,
    /// Extra attempts after a failure, `0..=MAX_RETRIES`.
    pub retries: u32,
    /// A failure does not stop the run.
    pub allow_failure: bool,
    /// What the step does.
    pub kind: StepKind,
    /// The step's table in the file (the `[[steps]]` header or inline table).
    pub range: TextRange,
}

/// Highest accepted `retries`: more is almost certainly a mistake and can
/// burn a lot of model tokens.
pub const MAX_RETRIES: u32 = 10;

/// What a step does. Strings are minijinja templates unless noted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// `run = "..."`: a command run by a shell in a PTY.
    Run {
        /// The command line (template).
        command: String,
        /// Extra environment variables, name (not a template) and value (template).
        env: Vec<(String, String)>,
    },
    /// `prompt = "..."`: ask one or several providers.
    Prompt {
        /// The prompt (template).
        prompt: String,
        /// Provider names; empty means the configured default provider.
        providers: Vec<String>,
        /// How several providers' answers become the step's output.
        pick: Pick,
    },
    /// `edit = { ... }`: change the workspace through the editor.
    Edit(EditSpec),
    /// `approve = "message"` or `approve = true`: wait for agent.approve / agent.reject.
    Approve {
        /// Shown to the user (template).
        message: Option<String>,
    },
    /// `agent = "..."`: a model that works on the task in turns, calling
    /// tools, until it answers without one or a bound is hit.
    Agent(AgentSpec),
}

/// An `agent` step's keys (see docs/workflows.md, "Agent steps").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    /// The task (template).
    pub task: String,
    /// The provider's name; `None` means the configured default.
    pub provider: Option<String>,
    /// An ACP agent (`acp = "claude-code"`, an `[agents.NAME]` entry of the
    /// config) does the work instead of a provider's model; then `tools`,
    /// `max_turns` and `token_budget` do not apply (docs/agents.md).
    pub acp: Option<String>,
    /// The built-in tools the model may call, by name (`read_file`, ...).
    pub tools: Vec<String>,
    /// What runs without asking.
    pub allow: AllowRules,
    /// Model turns per attempt.
    pub max_turns: u32,
    /// Tokens (input plus output, every turn) per attempt; `None`: no bound.
    pub token_budget: Option<u64>,
}

/// `allow = { run = [...], edit = [...] }`: globs for command lines and
/// paths that an agent may run or edit without asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowRules {
    pub run: Vec<String>,
    pub edit: Vec<String>,
}

impl AgentSpec {
    /// Model turns per attempt when the step does not say.
    pub const DEFAULT_MAX_TURNS: u32 = 25;
    /// The most turns a step may ask for.
    pub const MAX_TURNS: u32 = 500;
    /// The tools a step may use when it does not list them: the read-only ones.
    pub const DEFAULT_TOOLS: &'static [&'static str] = &["read_file", "list_files", "search"];
    /// Every built-in tool.
    pub const TOOLS: &'static [&'static str] = &[
        "read_file",
        "list_files",
        "search",
        "edit_file",
        "write_file",
        "run_command",
    ];
}

impl StepKind {
    /// `run`, `prompt`, `edit`, `approve` or `agent`.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Run { .. } => "run",
            StepKind::Prompt { .. } => "prompt",
            StepKind::Edit(_) => "edit",
            StepKind::Approve { .. } => "approve",
            StepKind::Agent(_) => "agent",
        }
    }

    /// Every template of the step as `(field, template)`, field named as in the file
    /// (`run`, `env.NAME`, `prompt`, `edit.patch`, ...).
    pub fn templates(&self) -> Vec<(String, &str)> {
        match self {
            StepKind::Run { command, env } => {
                let mut v = vec![("run".to_owned(), command.as_str())];
                v.extend(env.iter().map(|(k, t)| (format!("env.{k}"), t.as_str())));
                v
            }
            StepKind::Prompt { prompt, .. } => vec![("prompt".to_owned(), prompt.as_str())],
            StepKind::Edit(EditSpec::Selection { text }) => {
                vec![("edit.selection".to_owned(), text.as_str())]
            }
            StepKind::Edit(EditSpec::File { path, text }) => vec![
                ("edit.file".to_owned(), path.as_str()),
                ("edit.text".to_owned(), text.as_str()),
            ],
            StepKind::Edit(EditSpec::Patch { patch }) => {
                vec![("edit.patch".to_owned(), patch.as_str())]
            }
            StepKind::Approve { message } => message
                .iter()
                .map(|m| ("approve".to_owned(), m.as_str()))
                .collect(),
            StepKind::Agent(spec) => vec![("agent".to_owned(), spec.task.as_str())],
        }
    }
}

/// The three edit forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditSpec {
    /// Replace the run's selection with `text`.
    Selection {
        /// New text (template).
        text: String,
    },
    /// Write `text` to `path` (relative to the workspace root).
    File {
        /// Workspace-relative path (template); never absolute, never `..`, never `.git/`.
        path: String,
        /// New content (template).
        text: String,
    },
    /// Apply a unified diff.
    Patch {
        /// The diff (template).
        patch: String,
    },
}

/// How a prompt step with several providers picks its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pick {
    /// `output` is the first answer to finish; every answer stays in `outputs`.
    #[default]
    First,
    /// Wait for every provider; the output holds all answers.
    All,
}
