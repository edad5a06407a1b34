//! What templates and `when` conditions can see.
//!
//! Owns the [`Context`] the engine fills before each step, and the lists of
//! field names the validator checks references against (kept next to the
//! structs so the two cannot drift apart; a test pins them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything a template can use. Serialises to the variables `selection`,
/// `file`, `diagnostics`, `params`, `workspace` and `steps`.
///
/// `selection` and `file` are absent (undefined, so using them is an error
/// naming them) when the run has none; test with `selection is defined`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The run's selected text, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
    /// The document the run was started from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileContext>,
    /// Diagnostics in the run's range.
    #[serde(default)]
    pub diagnostics: Vec<DiagnosticContext>,
    /// Parameters after defaults ([`crate::Workflow::resolve_params`]).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The workspace folder.
    #[serde(default)]
    pub workspace: WorkspaceContext,
    /// Every step that came before the current one, skipped ones included
    /// (with status `skipped`), so `steps.<id>` is defined for all of them.
    #[serde(default)]
    pub steps: BTreeMap<String, StepState>,
}

/// `file.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContext {
    /// Workspace-relative path when inside the workspace, else absolute.
    pub path: String,
    /// The whole document text as the editor has it.
    pub text: String,
    /// The editor's language id, e.g. `rust`.
    pub language: String,
}

/// One element of `diagnostics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticContext {
    /// The diagnostic's message.
    pub message: String,
    /// `error`, `warning`, `information` or `hint`.
    pub severity: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Who reported it, e.g. `rustc`.
    pub source: Option<String>,
    /// Its code, e.g. `E0308`.
    pub code: Option<String>,
}

/// `workspace.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceContext {
    /// Absolute path of the workspace folder.
    pub root: String,
    /// The folder's name.
    pub name: String,
    /// The detected test command ([`crate::detect_test_command`]), or none.
    pub test_command: Option<String>,
}

/// `steps.<id>.*`: what an earlier step left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    /// Its output: the command's output, the model's answer, the edit summary.
    pub output: String,
    /// For prompt steps, each provider's answer by provider name.
    pub outputs: BTreeMap<String, String>,
    /// A `run` step's exit code; none for other kinds and for steps that did not run.
    pub exit_code: Option<i32>,
    /// The step status: `completed`, `failed`, `skipped`, ...
    pub status: String,
}

/// Top-level variables.
pub(crate) const ROOTS: &[&str] = &[
    "selection",
    "file",
    "diagnostics",
    "params",
    "workspace",
    "steps",
];
/// Fields of `file`.
pub(crate) const FILE_FIELDS: &[&str] = &["path", "text", "language"];
/// Fields of `workspace`.
pub(crate) const WORKSPACE_FIELDS: &[&str] = &["root", "name", "test_command"];
/// Fields of `steps.<id>`.
pub(crate) const STEP_FIELDS: &[&str] = &["output", "outputs", "exit_code", "status"];
/// Methods every map value has in minijinja; `params.items()` is not a parameter.
pub(crate) const MAP_METHODS: &[&str] = &["items", "keys", "values", "get"];

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a value serialises to, sorted, as templates see them.
    fn keys_of<T: Serialize>(t: &T) -> Vec<String> {
        let value = minijinja::Value::from_serialize(t);
        let mut keys: Vec<String> = value
            .try_iter()
            .map(|it| it.map(|k| k.to_string()).collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn field_lists_match_the_serialised_structs() {
        let full = Context {
            selection: Some(String::new()),
            file: Some(FileContext::default()),
            ..Context::default()
        };
        assert_eq!(keys_of(&full), sorted(ROOTS));
        assert_eq!(keys_of(&FileContext::default()), sorted(FILE_FIELDS));
        assert_eq!(
            keys_of(&WorkspaceContext::default()),
            sorted(WORKSPACE_FIELDS)
        );
        assert_eq!(keys_of(&StepState::default()), sorted(STEP_FIELDS));
    }

    #[test]
    fn absent_selection_and_file_are_not_serialised() {
        assert_eq!(
            keys_of(&Context::default()),
            sorted(&["diagnostics", "params", "workspace", "steps"])
        );
    }
}
