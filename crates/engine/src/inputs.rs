//! What a run was started on: the file, the selection, the diagnostics.
//! Stored with the run, so a resumed run sees exactly what it started with.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The editor context of a run (all optional: a run from a shell has none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionInput>,
    #[serde(default)]
    pub diagnostics: Vec<agentls_workflow::DiagnosticContext>,
}

/// The file a run reads, at the version it read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileInput {
    /// Absolute path.
    pub path: PathBuf,
    pub text: String,
    pub language: String,
    /// The editor's document version when the run read it (None: from disk).
    #[serde(default)]
    pub version: Option<i32>,
    /// The editor's URI for the file, when it came from an editor.
    #[serde(default)]
    pub uri: Option<String>,
}

/// A selection inside [`Inputs::file`]: 0-based lines, columns in chars.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectionInput {
    pub start_line: usize,
    pub start_col: usize,
    pub end_line: usize,
    pub end_col: usize,
    pub text: String,
}
