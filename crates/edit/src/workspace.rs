//! [`Workspace`]: the only way this crate touches files. Every path goes
//! through the guard; every write is atomic.

use std::path::{Path, PathBuf};

use crate::guard::{self, Resolved};
use crate::patch::Patch;
use crate::range::{self, TextRange};
use crate::{fsio, plan, EditError};

/// A workspace folder that edits are confined to.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Canonical: symlinks resolved, so containment is a prefix test.
    root: PathBuf,
    /// As the caller gave it, to recognise absolute paths spelled with it.
    given_root: PathBuf,
}

/// What an edit did to one file. `before`/`after` hold the whole text, so a
/// caller can show a diff, keep an undo copy or check the edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the workspace root, normalised (`./a/../b` is `b`).
    pub path: PathBuf,
    /// The text before the edit; `None` when the edit created the file.
    pub before: Option<String>,
    /// The text after the edit; `None` when the edit deleted the file.
    pub after: Option<String>,
}

/// The kind of a [`FileChange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The file did not exist before.
    Created,
    /// The file existed before and after (its text may be unchanged).
    Modified,
    /// The file does not exist any more.
    Deleted,
}

impl FileChange {
    /// Whether the file was created, modified or deleted.
    pub fn kind(&self) -> ChangeKind {
        match (&self.before, &self.after) {
            (None, _) => ChangeKind::Created,
            (Some(_), None) => ChangeKind::Deleted,
            (Some(_), Some(_)) => ChangeKind::Modified,
        }
    }
}

impl Workspace {
    /// A workspace rooted at `root`, which must be an existing directory.
    pub fn new(root: &Path) -> Result<Self, EditError> {
        let root_err = |source| EditError::Root {
            root: root.to_path_buf(),
            source,
        };
        let canonical = std::fs::canonicalize(root).map_err(root_err)?;
        if !canonical.is_dir() {
            return Err(root_err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                "not a directory",
            )));
        }
        Ok(Self {
            root: canonical,
            given_root: root.to_path_buf(),
        })
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `path` (relative to the root, or absolute inside it) really is,
    /// or why it may not be edited. Refuses: empty paths and NUL bytes;
    /// absolute paths outside the root; `..` climbing above it; any path with
    /// a `.git` component (at any depth, any case); any existing symlink on the
    /// way that leads outside the root, into `.git`, or nowhere. A path that
    /// does not exist yet is fine: only its existing part can be a symlink.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, EditError> {
        Ok(self.guard(path)?.abs)
    }

    /// [`Workspace::resolve`], also giving the path as users see it
    /// (relative to the root, normalised): one guard for callers that read
    /// or list through their own means and report paths (the agent tools).
    pub fn locate(&self, path: &str) -> Result<Resolved, EditError> {
        self.guard(path)
    }

    /// The text of the file at `path`.
    pub fn read_file(&self, path: &str) -> Result<String, EditError> {
        let resolved = self.guard(path)?;
        match fsio::read(&resolved)? {
            Some(existing) => Ok(existing.text),
            None => Err(EditError::NotFound { path: resolved.rel }),
        }
    }

    /// Writes `text` as the whole content of `path`, creating the file and its
    /// missing parent directories. Atomic: readers see the old or the new
    /// content, never a mix. An existing file keeps its permissions; a file
    /// that already has exactly `text` is not rewritten.
    pub fn write_file(&self, path: &str, text: &str) -> Result<FileChange, EditError> {
        let resolved = self.guard(path)?;
        let existing = fsio::read(&resolved)?;
        if existing.as_ref().is_none_or(|e| e.text != text) {
            fsio::write(&resolved, text, existing.as_ref().map(|e| &e.permissions))?;
        }
        Ok(FileChange {
            path: resolved.rel,
            before: existing.map(|e| e.text),
            after: Some(text.to_owned()),
        })
    }

    /// Replaces `range` of the existing file at `path` with `text`. In a file
    /// that mostly uses CRLF, bare `\n` in `text` become `\r\n`.
    pub fn replace_range(
        &self,
        path: &str,
        range: TextRange,
        text: &str,
    ) -> Result<FileChange, EditError> {
        let resolved = self.guard(path)?;
        let Some(existing) = fsio::read(&resolved)? else {
            return Err(EditError::NotFound { path: resolved.rel });
        };
        let bytes =
            range::to_bytes(&existing.text, &range).map_err(|reason| EditError::BadRange {
                path: resolved.rel.clone(),
                reason,
            })?;
        let insert = range::match_line_endings(&existing.text, text);
        let mut after = String::with_capacity(existing.text.len() + insert.len());
        after.push_str(&existing.text[..bytes.start]);
        after.push_str(&insert);
        after.push_str(&existing.text[bytes.end..]);
        if after != existing.text {
            fsio::write(&resolved, &after, Some(&existing.permissions))?;
        }
        Ok(FileChange {
            path: resolved.rel,
            before: Some(existing.text),
            after: Some(after),
        })
    }

    /// Applies a unified diff (see [`Patch::parse`] for what is accepted).
    /// All or nothing: every hunk of every file is placed in memory first, and
    /// nothing is written unless all fit. Files are then written to temporary
    /// files beside their targets and renamed into place; should a rename
    /// fail midway, the files already replaced are restored. Returns the files
    /// whose content changed, in the patch's order.
    pub fn apply_patch(&self, patch: &str) -> Result<Vec<FileChange>, EditError> {
        plan::Plan::build(self, &Patch::parse(patch)?)?.commit()
    }

    /// What [`Workspace::apply_patch`] would do, without writing anything.
    pub fn preview_patch(&self, patch: &str) -> Result<Vec<FileChange>, EditError> {
        Ok(plan::Plan::build(self, &Patch::parse(patch)?)?.changes())
    }

    pub(crate) fn guard(&self, path: &str) -> Result<Resolved, EditError> {
        guard::resolve(&self.root, &self.given_root, path)
    }
}
