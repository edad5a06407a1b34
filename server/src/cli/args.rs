//! The command line's grammar: every subcommand, argument and its help.
//! Nothing here but clap types: the build script includes this file to
//! write the man page (`agentls man`), and `agentls completions` reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "agentls",
    version,
    about = "Multi-step AI agent workflows in any LSP editor"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Speak LSP on stdin/stdout (the default; accepted because editors pass it).
    #[arg(long, global = true, hide = true)]
    pub stdio: bool,
}

/// `--workspace DIR`, shared by every command that works on a workspace.
#[derive(Args, Clone)]
pub struct WorkspaceArg {
    /// The workspace folder (default: the current directory).
    #[arg(long, short = 'w', value_name = "DIR")]
    pub workspace: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the language server on stdin/stdout (what runs with no subcommand).
    Serve,
    /// Run a workflow and follow it to its end.
    Run(RunArgs),
    /// List the workspace's runs, newest first.
    Runs {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// How many runs to list (0: all of them).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show one run: its steps, their status and output.
    Show {
        /// Run id (a unique prefix is enough).
        run: String,
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        json: bool,
    },
    /// Continue an interrupted run (the step a crash cut short runs again).
    Resume(ControlArgs),
    /// Run the failed step again and continue.
    Retry(StepArgs),
    /// Skip the failed step and continue.
    Skip(StepArgs),
    /// Replace a failed step's output with a file's content and continue.
    Override(OverrideArgs),
    /// Approve the waiting step (an agent step: its waiting tool call) and continue.
    Approve(DecisionArgs),
    /// Reject the waiting step (the run pauses as failed); an agent step's
    /// tool call is refused and the model gets the reason.
    Reject(DecisionArgs),
    /// Print the patch of a run isolated in a worktree: its changes against
    /// the working tree it started from.
    Diff(WorktreeArgs),
    /// Apply a completed worktree run's patch to the workspace (all or
    /// nothing), then remove its worktree.
    Apply(WorktreeArgs),
    /// Drop a worktree run's changes: remove its worktree and branch.
    Discard(WorktreeArgs),
    /// List the workflows this workspace can run.
    Workflows {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[arg(long)]
        json: bool,
    },
    /// Check workflow files: prints `path:line:col: message`, exit 1 on errors.
    Check {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Model usage from the store: calls, tokens, errors and p50/p95 latency
    /// per provider and model.
    Stats(StatsArgs),
    /// Check the installation: state directory, config files, PTY, provider keys.
    Doctor {
        /// Workspace whose `.agentls/config.toml` to check (default: the current directory).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Print a completion script for a shell (e.g. `agentls completions bash`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (troff, generated at build time).
    Man,
}

#[derive(Args)]
pub struct RunArgs {
    /// The workflow's name (see `agentls workflows`).
    pub workflow: String,
    #[command(flatten)]
    pub ws: WorkspaceArg,
    /// A workflow parameter, `name=value` (repeatable).
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The file the run works on (`file` in templates).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// The selection in `--file`, 1-based `LINE:COL-LINE:COL` (columns in characters; end exclusive).
    #[arg(long, value_name = "L:C-L:C", requires = "file")]
    pub range: Option<String>,
    /// Print the finished run as JSON on stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Approve this workspace workflow's (and the workspace config's) exact content without asking.
    #[arg(long)]
    pub trust: bool,
    /// Record every model stream of the run into this cassette file (replay it
    /// with a `replay` provider).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

#[derive(Args)]
pub struct WorktreeArgs {
    /// Run id (a unique prefix is enough).
    pub run: String,
    #[command(flatten)]
    pub ws: WorkspaceArg,
}

#[derive(Args)]
pub struct ControlArgs {
    /// Run id (a unique prefix is enough).
    pub run: String,
    #[command(flatten)]
    pub ws: WorkspaceArg,
    /// Print the finished run as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct StepArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// The step (default: the failed one).
    #[arg(long)]
    pub step: Option<String>,
}

#[derive(Args)]
pub struct OverrideArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// The step whose output to replace.
    #[arg(long)]
    pub step: String,
    /// The file holding the new output (`-` reads stdin).
    #[arg(long, value_name = "FILE")]
    pub output_file: PathBuf,
}

#[derive(Args)]
pub struct DecisionArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// The step (default: the waiting one).
    #[arg(long)]
    pub step: Option<String>,
    /// Why (kept with the step; for an agent's tool call, what the model is told).
    #[arg(long)]
    pub reason: Option<String>,
    /// Agent steps: also allow the same command line (or edits of the same
    /// file) for the rest of the run.
    #[arg(long)]
    pub always: bool,
}

#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub ws: WorkspaceArg,
    /// Only calls made in this window, e.g. `30m`, `24h`, `7d` (default: all).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Print the rows as JSON.
    #[arg(long)]
    pub json: bool,
}
