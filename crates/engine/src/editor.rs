//! How `edit` steps change files. The engine asks an [`Editor`]; headless
//! runs use [`DiskEditor`], the language server sends `workspace/applyEdit`.

use futures::future::BoxFuture;

use crate::inputs::{FileInput, SelectionInput};

/// One edit a step asks for, with templates already rendered.
#[derive(Clone, Debug, PartialEq)]
pub enum EditRequest {
    /// Replace the run's selection in its file.
    Selection {
        file: FileInput,
        selection: SelectionInput,
        text: String,
    },
    /// Write a whole file (workspace-relative path).
    File { path: String, text: String },
    /// Apply a unified diff.
    Patch { patch: String },
}

/// Applies edits. Returns a one-line summary for the step's output, or an
/// error message a user can act on (nothing is half-applied).
pub trait Editor: Send + Sync {
    fn apply(&self, edit: EditRequest) -> BoxFuture<'_, Result<String, String>>;

    /// The editor's text of the file at `path` (relative to the workspace
    /// root) when it is open there, unsaved changes included; `None` when
    /// it is not open (the disk has the text).
    fn document(&self, path: &str) -> BoxFuture<'_, Option<String>> {
        let _ = path;
        Box::pin(async { None })
    }
}

/// Edits files on disk, inside the workspace only (agentls-edit's guard).
pub struct DiskEditor {
    workspace: agentls_edit::Workspace,
}

impl DiskEditor {
    pub fn new(root: &std::path::Path) -> Result<Self, String> {
        agentls_edit::Workspace::new(root)
            .map(|workspace| Self { workspace })
            .map_err(|e| e.to_string())
    }

    fn apply_now(&self, edit: EditRequest) -> Result<String, String> {
        match edit {
            EditRequest::Selection {
                file,
                selection,
                text,
            } => {
                let rel = file
                    .path
                    .strip_prefix(self.workspace.root())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| file.path.to_string_lossy().into_owned());
                let current = self.workspace.read_file(&rel).map_err(|e| e.to_string())?;
                if current != file.text {
                    return Err(format!(
                        "{rel} changed since the run read it; the edit was not applied (the output is kept)"
                    ));
                }
                let range = agentls_edit::TextRange::LineCol {
                    start: agentls_edit::LineCol::new(selection.start_line, selection.start_col),
                    end: agentls_edit::LineCol::new(selection.end_line, selection.end_col),
                };
                self.workspace
                    .replace_range(&rel, range, &text)
                    .map(|c| format!("replaced the selection in {}", c.path.display()))
                    .map_err(|e| e.to_string())
            }
            EditRequest::File { path, text } => self
                .workspace
                .write_file(&path, &text)
                .map(|c| format!("wrote {}", c.path.display()))
                .map_err(|e| e.to_string()),
            EditRequest::Patch { patch } => {
                let changes = self
                    .workspace
                    .apply_patch(&patch)
                    .map_err(|e| e.to_string())?;
                let names: Vec<_> = changes
                    .iter()
                    .map(|c| c.path.display().to_string())
                    .collect();
                Ok(format!(
                    "patched {} file(s): {}",
                    names.len(),
                    names.join(", ")
                ))
            }
        }
    }
}

impl Editor for DiskEditor {
    fn apply(&self, edit: EditRequest) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move { self.apply_now(edit) })
    }
}
