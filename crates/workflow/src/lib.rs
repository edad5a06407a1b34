//! agentls-workflow: workflow files.
//!
//! Owns the workflow format (see docs/workflows.md): parsing TOML into a
//! [`Workflow`], validation with exact positions ([`Diagnostic`]), templates
//! and `when` conditions ([`Templates`] over a [`Context`]), the three sources
//! and their override order ([`load_all`]), the built-in workflows, and test
//! command detection.
//!
//! Architecture invariant: this crate knows nothing of LSP, SQLite or
//! execution. It turns text into data and renders strings; the engine runs
//! steps, the store keeps them, the server speaks to editors.

mod catalog;
mod detect;
mod diagnostic;
mod duration;
mod model;
mod parse;
mod paths;
mod template;

pub use catalog::{
    builtins, classify_path, default_user_dir, load_all, workspace_dir, Catalog, Problem,
    BUILTIN_FILES,
};
pub use detect::detect_test_command;
pub use diagnostic::{
    format_cli, Diagnostic, DiagnosticCode, LineIndex, Position, Severity, TextRange,
};
pub use duration::{parse_duration, DurationError};
pub use model::{
    sha256_hex, AgentSpec, AllowRules, Applies, EditSpec, InvalidStepId, Isolation, ParamError,
    ParamSpec, Pick, Sandbox, SandboxNetwork, Source, SourceKind, Step, StepId, StepKind, Workflow,
    MAX_RETRIES,
};
pub use parse::{parse, parse_with, Parsed, MAX_FILE_BYTES};
pub use paths::{check_edit_path, EditPathError};
pub use template::{
    Context, DiagnosticContext, FileContext, StepState, TemplateError, Templates, WorkspaceContext,
};
