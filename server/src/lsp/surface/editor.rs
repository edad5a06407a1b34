//! The engine's [`Editor`] in the language server: `edit` steps become
//! `workspace/applyEdit` requests, guarded against documents that changed
//! since the run read them.
//!
//! The guard: a selection edit names the document version the run started
//! with. If the editor's document is still at that version the edit goes as
//! planned; if it changed, the selection is rebased only when the change
//! lies clearly before or after it (see `rebase.rs`), else nothing is
//! applied and the step fails with a message saying why (the run's output
//! stays in the store for `agent.output`). Every edit is sent with the
//! document's current version, so an editor that changed it again in the
//! meantime refuses it rather than applying it to the wrong text.
//!
//! The request is awaited by the run's task, never by a handler, and with
//! a timeout: an editor that never answers fails the step, nothing else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use agentls_edit::{FileOp, Patch, Workspace};
use agentls_engine::{DiskEditor, EditRequest, Editor, FileInput, SelectionInput};
use agentls_text::Document;
use futures::future::BoxFuture;
use tower_lsp_server::ls_types::*;

use super::rebase::{common_ends, map_selection, match_line_endings};
use super::shared::Shared;
use crate::lsp::convert;
use crate::session::{OpenDocument, Session};

/// Sends a workspace's edits through the editor.
pub struct LspEditor {
    shared: Arc<Shared>,
    workspace: Result<Workspace, String>,
}

/// One file's edit, ready to send.
struct FileEdit {
    uri: Uri,
    /// The editor's version when open; `None`: the file on disk.
    version: Option<i32>,
    edit: TextEdit,
    /// The file does not exist yet.
    create: bool,
}

/// What an edit request turns into.
enum Planned {
    /// Send these through `workspace/applyEdit`.
    Editor {
        files: Vec<FileEdit>,
        summary: String,
    },
    /// Nothing is open in the editor that the edit touches, and the editor
    /// cannot do it (no applyEdit, or a rename/delete): write the disk.
    Disk,
}

impl LspEditor {
    pub fn new(shared: Arc<Shared>) -> Self {
        let workspace = Workspace::new(&shared.root).map_err(|e| e.to_string());
        Self { shared, workspace }
    }

    async fn apply_request(&self, request: EditRequest) -> Result<String, String> {
        match self.plan(&request)? {
            Planned::Editor { files, summary } => self.send(files, summary).await,
            Planned::Disk => {
                let disk = DiskEditor::new(&self.shared.root)?;
                disk.apply(request).await
            }
        }
    }

    /// Whether the edit can be made now, without making it.
    pub fn check(&self, request: &EditRequest) -> Result<(), String> {
        self.plan(request).map(|_| ())
    }

    fn plan(&self, request: &EditRequest) -> Result<Planned, String> {
        let session = self.shared.session()?;
        match request {
            EditRequest::Selection {
                file,
                selection,
                text,
            } => self.plan_selection(&session, file, selection, text),
            EditRequest::File { path, text } => self.plan_file(&session, path, text),
            EditRequest::Patch { patch } => self.plan_patch(&session, patch),
        }
    }

    fn workspace(&self) -> Result<&Workspace, String> {
        self.workspace.as_ref().map_err(Clone::clone)
    }

    fn plan_selection(
        &self,
        session: &Session,
        file: &FileInput,
        selection: &SelectionInput,
        text: &str,
    ) -> Result<Planned, String> {
        let shown = display_path(&file.path, &self.shared.root);
        let docs = session.documents();
        let open = file
            .uri
            .as_deref()
            .and_then(|uri| docs.get_key_value(uri))
            .or_else(|| find_open(&docs, &file.path));
        let (uri, current, version) = match open {
            Some((uri, open)) => (uri.clone(), open.doc.text(), Some(open.doc.version())),
            None => {
                let text =
                    agentls_files::read_to_string(&file.path, agentls_files::Limit::DOCUMENT)
                        .map_err(|e| format!("cannot read {shown}: {}", e.reason()))?;
                let uri = file
                    .uri
                    .clone()
                    .or_else(|| convert::uri(&file.path).map(|u| u.as_str().to_owned()))
                    .ok_or_else(|| format!("{shown} has no URI the editor can use"))?;
                (uri, text, None)
            }
        };
        drop(docs);
        if !self.shared.caps.apply_edit {
            return match version {
                None => Ok(Planned::Disk),
                Some(_) => Err(no_apply_edit(&shown)),
            };
        }
        let old = Document::new(&file.text, 0, "");
        let start = char_at(&old, selection.start_line, selection.start_col);
        let end = char_at(&old, selection.end_line, selection.end_col).max(start);
        let unchanged = version.is_some() && version == file.version;
        let range = if unchanged {
            start..end
        } else {
            map_selection(&file.text, &current, start..end).ok_or_else(|| {
                let versions = match (file.version, version) {
                    (Some(then), Some(now)) => format!(" (version {then}, now {now})"),
                    _ => String::new(),
                };
                format!(
                    "{shown} changed since the run read it{versions} and the change touches the \
                     selection, so the edit was not applied; nothing changed. The run's output \
                     is kept (`agent.output`); run the workflow again on the new text"
                )
            })?
        };
        let doc = Document::new(&current, 0, "");
        let enc = self.shared.encoding;
        let edit = TextEdit {
            range: Range::new(
                convert::lsp_position(doc.position(range.start, enc)),
                convert::lsp_position(doc.position(range.end, enc)),
            ),
            new_text: match_line_endings(&current, text),
        };
        Ok(Planned::Editor {
            files: vec![FileEdit {
                uri: parse_uri(&uri)?,
                version,
                edit,
                create: false,
            }],
            summary: format!("replaced the selection in {shown}"),
        })
    }

    fn plan_file(&self, session: &Session, path: &str, text: &str) -> Result<Planned, String> {
        let abs = self.workspace()?.resolve(path).map_err(|e| e.to_string())?;
        let current = current_text(session, &abs)?;
        if !self.shared.caps.apply_edit {
            return match current.open {
                None => Ok(Planned::Disk),
                Some(_) => Err(no_apply_edit(&display_path(&abs, &self.shared.root))),
            };
        }
        let Some(file) = self.file_edit(&abs, &current, text)? else {
            return Ok(Planned::Disk);
        };
        Ok(Planned::Editor {
            files: vec![file],
            summary: format!("wrote {}", display_path(&abs, &self.shared.root)),
        })
    }

    fn plan_patch(&self, session: &Session, patch: &str) -> Result<Planned, String> {
        let workspace = self.workspace()?;
        let parsed = Patch::parse(patch).map_err(|e| e.to_string())?;
        let mut files = Vec::new();
        let mut any_open = false;
        let mut needs_disk = !self.shared.caps.apply_edit;
        let mut names = Vec::new();
        for section in parsed.files() {
            let abs = workspace
                .resolve(section.path())
                .map_err(|e| e.to_string())?;
            let current = current_text(session, &abs)?;
            any_open |= current.open.is_some();
            names.push(display_path(&abs, &self.shared.root));
            match section.op() {
                FileOp::Modify | FileOp::Create => {}
                FileOp::Delete | FileOp::Rename { .. } | FileOp::Copy { .. } => {
                    needs_disk = true;
                    continue;
                }
            }
            let after = section
                .apply_to(current.text.as_deref())
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            match self.file_edit(&abs, &current, &after)? {
                Some(file) => files.push(file),
                None => needs_disk = true,
            }
        }
        if needs_disk {
            if any_open {
                return Err(format!(
                    "the patch deletes, renames or creates files the editor cannot create, and \
                     touches files open in the editor ({}); nothing was applied. Save and close \
                     them, then `agent.retry`",
                    names.join(", ")
                ));
            }
            return Ok(Planned::Disk);
        }
        Ok(Planned::Editor {
            summary: format!("patched {} file(s): {}", names.len(), names.join(", ")),
            files,
        })
    }

    /// The edit that turns the file at `abs` into `after`; `None` when the
    /// editor cannot create the missing file.
    fn file_edit(
        &self,
        abs: &Path,
        current: &Current,
        after: &str,
    ) -> Result<Option<FileEdit>, String> {
        let uri = match &current.open {
            Some((uri, _)) => parse_uri(uri)?,
            None => {
                convert::uri(abs).ok_or_else(|| format!("{} has no file URI", abs.display()))?
            }
        };
        let create = current.text.is_none();
        if create && !(self.shared.caps.create_files && self.shared.caps.document_changes) {
            return Ok(None);
        }
        let before = current.text.clone().unwrap_or_default();
        let edit = minimal_edit(&before, after, self.shared.encoding);
        Ok(Some(FileEdit {
            uri,
            version: current.open.as_ref().map(|(_, v)| *v),
            edit,
            create,
        }))
    }

    async fn send(&self, files: Vec<FileEdit>, summary: String) -> Result<String, String> {
        let edit = self.workspace_edit(files);
        let requests = self.shared.requests();
        match requests.apply_edit("agentls", edit).await {
            Ok(response) if response.applied => Ok(summary),
            Ok(response) => Err(format!(
                "the editor refused the edit{}; nothing was applied. The run's output is kept \
                 (`agent.output`)",
                response
                    .failure_reason
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )),
            Err(err) => Err(format!(
                "{err}; the edit may not have been applied. The run's output is kept \
                 (`agent.output`)"
            )),
        }
    }

    fn workspace_edit(&self, files: Vec<FileEdit>) -> WorkspaceEdit {
        if !self.shared.caps.document_changes {
            let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
            for file in files {
                changes.entry(file.uri).or_default().push(file.edit);
            }
            return WorkspaceEdit {
                changes: Some(changes),
                ..WorkspaceEdit::default()
            };
        }
        let mut operations = Vec::new();
        for file in files {
            if file.create {
                operations.push(DocumentChangeOperation::Op(ResourceOp::Create(
                    CreateFile {
                        uri: file.uri.clone(),
                        options: Some(CreateFileOptions {
                            overwrite: Some(false),
                            ignore_if_exists: Some(true),
                        }),
                        annotation_id: None,
                    },
                )));
            }
            operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier {
                    uri: file.uri,
                    version: file.version,
                },
                edits: vec![OneOf::Left(file.edit)],
            }));
        }
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Operations(operations)),
            ..WorkspaceEdit::default()
        }
    }
}

impl Editor for LspEditor {
    fn apply(&self, edit: EditRequest) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(self.apply_request(edit))
    }

    fn document(&self, path: &str) -> BoxFuture<'_, Option<String>> {
        let abs = self.shared.root.join(path);
        Box::pin(async move {
            let session = self.shared.session().ok()?;
            let docs = session.documents();
            find_open(&docs, &abs).map(|(_, open)| open.doc.text())
        })
    }
}

/// A file as the editor or the disk has it.
struct Current {
    /// `None`: the file does not exist.
    text: Option<String>,
    /// The document's URI key and version when it is open.
    open: Option<(String, i32)>,
}

fn current_text(session: &Session, abs: &Path) -> Result<Current, String> {
    let docs = session.documents();
    if let Some((uri, open)) = find_open(&docs, abs) {
        return Ok(Current {
            text: Some(open.doc.text()),
            open: Some((uri.clone(), open.doc.version())),
        });
    }
    drop(docs);
    match agentls_files::read_to_string(abs, agentls_files::Limit::DOCUMENT) {
        Ok(text) => Ok(Current {
            text: Some(text),
            open: None,
        }),
        Err(e) if e.is_not_found() => Ok(Current {
            text: None,
            open: None,
        }),
        Err(e) => Err(format!("cannot read {e}")),
    }
}

/// The open document for the file at `path` (compared through symlinks:
/// the engine's paths are canonical, the editor's may not be).
fn find_open<'a>(
    docs: &'a HashMap<String, OpenDocument>,
    path: &Path,
) -> Option<(&'a String, &'a OpenDocument)> {
    let wanted = canonical(path);
    docs.iter().find(|(_, open)| {
        open.path
            .as_deref()
            .is_some_and(|p| p == path || canonical(p) == wanted)
    })
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn no_apply_edit(shown: &str) -> String {
    format!(
        "{shown} is open in the editor, which cannot apply edits (no `workspace.applyEdit`); \
         nothing was applied. Close it and `agent.retry`, or apply the output by hand"
    )
}

fn parse_uri(uri: &str) -> Result<Uri, String> {
    Uri::from_str(uri).map_err(|_| format!("not a URI the editor can use: {uri}"))
}

fn display_path(path: &Path, root: &Path) -> String {
    canonical(path)
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The char index of a 0-based line and char column, clamped to the line's
/// content (before its terminator).
pub fn char_at(doc: &Document, line: usize, col: usize) -> usize {
    let rope = doc.rope();
    if line >= rope.len_lines() {
        return rope.len_chars();
    }
    let slice = rope.line(line);
    let mut len = slice.len_chars();
    for terminator in ['\n', '\r'] {
        if len > 0 && slice.char(len - 1) == terminator {
            len -= 1;
        }
    }
    rope.line_to_char(line) + col.min(len)
}

/// One `TextEdit` replacing only what differs between `before` and `after`,
/// so the editor keeps cursors and folds outside the change.
pub fn minimal_edit(before: &str, after: &str, enc: agentls_text::PositionEncoding) -> TextEdit {
    let old: Vec<char> = before.chars().collect();
    let new: Vec<char> = after.chars().collect();
    let (prefix, suffix) = common_ends(&old, &new);
    let doc = Document::new(before, 0, "");
    TextEdit {
        range: Range::new(
            convert::lsp_position(doc.position(prefix, enc)),
            convert::lsp_position(doc.position(old.len() - suffix, enc)),
        ),
        new_text: new[prefix..new.len() - suffix].iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentls_text::PositionEncoding;

    #[test]
    fn minimal_edit_replaces_only_the_difference() {
        let edit = minimal_edit("a\nbc\nd\n", "a\nbXc\nd\n", PositionEncoding::Utf16);
        assert_eq!(
            edit.range,
            Range::new(Position::new(1, 1), Position::new(1, 1))
        );
        assert_eq!(edit.new_text, "X");
        let same = minimal_edit("abc", "abc", PositionEncoding::Utf16);
        assert_eq!(same.new_text, "");
        assert_eq!(same.range.start, same.range.end);
    }

    #[test]
    fn char_at_clamps_to_the_line() {
        let doc = Document::new("ab\ncd", 0, "");
        assert_eq!(char_at(&doc, 1, 1), 4);
        assert_eq!(char_at(&doc, 0, 9), 2);
        assert_eq!(char_at(&doc, 7, 0), 5);
    }
}
