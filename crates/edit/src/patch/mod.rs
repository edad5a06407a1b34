//! Unified diffs: parsing them ([`parse`]) and applying one file's hunks to a
//! text ([`apply`]), forgiving the mistakes models make (wrong line numbers,
//! wrong counts, prose and code fences around the diff, trailing spaces, CRLF)
//! but never guessing between two places.
//!
//! Works on strings only: which file a path names, and whether it may be
//! touched, is [`crate::Workspace`]'s business.

mod apply;
mod doc;
mod parse;

use crate::EditError;

use self::doc::Doc;

/// A parsed unified diff: one entry per file section, in the patch's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    files: Vec<FilePatch>,
}

impl Patch {
    /// Parses `git diff` or `diff -u` output, possibly wrapped in prose and
    /// code fences. Errors when no file section is found or one is unusable.
    pub fn parse(text: &str) -> Result<Self, EditError> {
        Ok(Self {
            files: parse::parse(text)?,
        })
    }

    /// The file sections, in order.
    pub fn files(&self) -> &[FilePatch] {
        &self.files
    }
}

/// What a file section does to its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    /// Changes an existing file (or creates one, when it is missing and the
    /// hunks only add lines).
    Modify,
    /// Creates the file (`--- /dev/null`).
    Create,
    /// Deletes the file (`+++ /dev/null`); its hunks must remove every line.
    Delete,
    /// Moves `from` to the section's path, then applies the hunks.
    Rename {
        /// Source path, relative as written in the patch.
        from: String,
    },
    /// Copies `from` to the section's path, then applies the hunks.
    Copy {
        /// Source path, relative as written in the patch.
        from: String,
    },
}

/// One file's part of a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePatch {
    pub(crate) path: String,
    pub(crate) op: FileOp,
    pub(crate) hunks: Vec<Hunk>,
}

impl FilePatch {
    /// The file this section writes (for a delete: the file it removes), as
    /// written in the patch with one `a/`/`b/` level stripped.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the section does.
    pub fn op(&self) -> &FileOp {
        &self.op
    }

    /// Number of hunks.
    pub fn hunk_count(&self) -> usize {
        self.hunks.len()
    }

    /// Applies the hunks to `original`, the current text of the file (of the
    /// source, for a rename or copy), `None` when it does not exist. Returns
    /// the new text, `None` when the file is deleted. Line endings and the
    /// final newline's presence are kept unless a hunk says otherwise.
    pub fn apply_to(&self, original: Option<&str>) -> Result<Option<String>, EditError> {
        let fail = |reason: &str| Err(EditError::does_not_apply(&self.path, reason));
        let only_adds = self.hunks.iter().all(Hunk::only_adds);
        let original = match (&self.op, original) {
            (FileOp::Create, Some(text)) if !text.is_empty() => {
                return fail("the patch creates it, but it already exists");
            }
            (FileOp::Delete, None) => return fail("the patch deletes it, but it does not exist"),
            (FileOp::Modify, None) if !only_adds || self.hunks.is_empty() => {
                return fail("it does not exist");
            }
            (FileOp::Rename { .. } | FileOp::Copy { .. }, None) => {
                return fail("the source of the rename or copy does not exist");
            }
            (_, original) => original.unwrap_or(""),
        };
        let mut doc = Doc::parse(original);
        // New lines end like the file's lines; a file without a terminated
        // line yet (new, empty, or one unterminated line) ends them like the
        // patch's added lines.
        let new_line_crlf = doc.crlf().unwrap_or_else(|| {
            let crlf = self.patch_mostly_crlf();
            doc.set_last_line_ending(crlf);
            crlf
        });
        apply::apply_hunks(&mut doc, &self.hunks, new_line_crlf)
            .map_err(|reason| EditError::does_not_apply(&self.path, reason))?;
        if self.op == FileOp::Delete {
            if !doc.lines.is_empty() {
                return fail(&format!(
                    "the patch deletes it, but it has {} line(s) the patch does not remove",
                    doc.lines.len()
                ));
            }
            return Ok(None);
        }
        Ok(Some(doc.render()))
    }

    /// Whether most added lines came with `\r\n` in the patch text: the line
    /// ending of a file the patch creates.
    fn patch_mostly_crlf(&self) -> bool {
        let (mut crlf, mut all) = (0, 0);
        for hunk in &self.hunks {
            // A last line marked "No newline at end of file" has no ending to count.
            let unterminated = match hunk.lines.last() {
                Some(HunkLine::Add { .. }) if hunk.new_no_eol => 1,
                _ => 0,
            };
            let counted = hunk.lines.len() - unterminated;
            for line in &hunk.lines[..counted] {
                if let HunkLine::Add { crlf: c, .. } = line {
                    all += 1;
                    crlf += usize::from(*c);
                }
            }
        }
        crlf * 2 > all
    }
}

/// Line numbers from a hunk header; counts default to 1 as in the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HunkRange {
    pub old_start: usize,
    pub old_count: usize,
    pub new_count: usize,
}

/// One `@@` hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hunk {
    /// The `@@ ... @@` part of the header, for error messages.
    pub header: String,
    /// `None` when the header has no readable numbers (a model's `@@ @@`).
    pub range: Option<HunkRange>,
    pub lines: Vec<HunkLine>,
    /// `\ No newline at end of file` follows the old side's last line.
    pub old_no_eol: bool,
    /// `\ No newline at end of file` follows the new side's last line.
    pub new_no_eol: bool,
}

impl Hunk {
    fn only_adds(&self) -> bool {
        self.lines
            .iter()
            .all(|line| matches!(line, HunkLine::Add { .. }))
    }
}

/// A hunk body line, without its marker and line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HunkLine {
    Context(String),
    Remove(String),
    Add {
        text: String,
        /// The line ended with `\r\n` in the patch text.
        crlf: bool,
    },
}
