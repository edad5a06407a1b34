//! A multi-file patch worked out in memory, then committed as one.
//!
//! Owns the all-or-nothing rule of [`crate::Workspace::apply_patch`]: every
//! file section is resolved through the guard and applied to an in-memory copy
//! before anything is written; the write phase stages every file before it
//! renames any, and undoes the renames already done if one fails.

use crate::fsio::{self, Existing, Staged};
use crate::guard::Resolved;
use crate::patch::{FileOp, FilePatch, Patch};
use crate::{EditError, FileChange, Workspace};

/// One file the patch touches: as found on disk and as the patch leaves it.
struct Entry {
    path: Resolved,
    original: Option<Existing>,
    current: Option<String>,
}

impl Entry {
    fn changed(&self) -> bool {
        self.original.as_ref().map(|e| &e.text) != self.current.as_ref()
    }
}

pub(crate) struct Plan {
    /// In order of first mention, one per real file (two spellings of the
    /// same file, e.g. through a symlink inside the workspace, share one).
    entries: Vec<Entry>,
}

impl Plan {
    /// Applies every section of `patch` in memory, reading files as needed.
    pub fn build(workspace: &Workspace, patch: &Patch) -> Result<Self, EditError> {
        let mut plan = Self {
            entries: Vec::new(),
        };
        for file in patch.files() {
            plan.apply(workspace, file)?;
        }
        Ok(plan)
    }

    fn apply(&mut self, workspace: &Workspace, file: &FilePatch) -> Result<(), EditError> {
        let target = self.entry(workspace, file.path())?;
        let source = match file.op() {
            FileOp::Rename { from } | FileOp::Copy { from } => self.entry(workspace, from)?,
            _ => target,
        };
        if source != target && self.entries[target].current.is_some() {
            return Err(EditError::does_not_apply(
                &self.entries[target].path.rel,
                "the patch renames or copies a file onto it, but it already exists",
            ));
        }
        let after = file.apply_to(self.entries[source].current.as_deref())?;
        if source != target && matches!(file.op(), FileOp::Rename { .. }) {
            self.entries[source].current = None;
        }
        self.entries[target].current = after;
        Ok(())
    }

    /// The index of the entry for `path`, reading the file on first mention.
    fn entry(&mut self, workspace: &Workspace, path: &str) -> Result<usize, EditError> {
        let path = workspace.guard(path)?;
        if let Some(index) = self.entries.iter().position(|e| e.path.abs == path.abs) {
            return Ok(index);
        }
        let original = fsio::read(&path)?;
        let current = original.as_ref().map(|e| e.text.clone());
        self.entries.push(Entry {
            path,
            original,
            current,
        });
        Ok(self.entries.len() - 1)
    }

    /// The files whose content the patch changes.
    pub fn changes(&self) -> Vec<FileChange> {
        self.entries
            .iter()
            .filter(|e| e.changed())
            .map(|e| FileChange {
                path: e.path.rel.clone(),
                before: e.original.as_ref().map(|o| o.text.clone()),
                after: e.current.clone(),
            })
            .collect()
    }

    /// Writes the changes: stage all, then rename (or delete) each.
    pub fn commit(self) -> Result<Vec<FileChange>, EditError> {
        let changes = self.changes();
        let changed: Vec<&Entry> = self.entries.iter().filter(|e| e.changed()).collect();

        let mut created_dirs = Vec::new();
        let mut staged: Vec<Option<Staged>> = Vec::with_capacity(changed.len());
        for entry in &changed {
            let Some(text) = &entry.current else {
                staged.push(None);
                continue;
            };
            let result = fsio::create_parents(&entry.path).and_then(|dirs| {
                created_dirs.extend(dirs);
                let permissions = entry.original.as_ref().map(|o| &o.permissions);
                fsio::stage(&entry.path, text, permissions)
            });
            match result {
                Ok(file) => staged.push(Some(file)),
                Err(err) => {
                    // Dropping `staged` removes the temporary files.
                    drop(staged);
                    fsio::remove_dirs(&created_dirs);
                    return Err(err);
                }
            }
        }

        for (done, (entry, file)) in changed.iter().zip(staged).enumerate() {
            let result = match file {
                Some(file) => file.commit(),
                None => fsio::remove(&entry.path),
            };
            if let Err(err) = result {
                restore(&changed[..done]);
                fsio::remove_dirs(&created_dirs);
                return Err(err);
            }
        }
        Ok(changes)
    }
}

/// Puts back the files already replaced or deleted, newest first. Best effort:
/// it runs while the error that caused it is being reported.
fn restore(done: &[&Entry]) {
    for entry in done.iter().rev() {
        let _ = match &entry.original {
            Some(original) => fsio::write(&entry.path, &original.text, Some(&original.permissions)),
            None => fsio::remove(&entry.path),
        };
    }
}
