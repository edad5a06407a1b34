//! `edit_file` and `write_file` as plans: the new text of the file and its
//! diff, checked against the guard, never written here. The engine applies
//! [`Planned::after`] through its guarded edit path (the editor's
//! `workspace/applyEdit` when the document is open, else the disk) once the
//! permission policy lets it.

use crate::{Located, ToolError, Tools};

/// A planned change of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Relative to the root, normalised, `/`-separated: what `allow.edit`
    /// globs match and what summaries show.
    pub path: String,
    /// Whether the file does not exist yet.
    pub created: bool,
    /// The whole new text of the file.
    pub after: String,
    /// A unified diff (`--- a/path`, `+++ b/path`, hunks with 3 lines of
    /// context); `--- /dev/null` for a new file.
    pub diff: String,
    /// Lines added and removed.
    pub added: usize,
    pub removed: usize,
}

impl Planned {
    /// The tool result for the model once the change is applied.
    pub fn result_text(&self) -> String {
        let verb = if self.created { "Created" } else { "Edited" };
        format!(
            "{verb} {}: +{} −{} lines.",
            self.path, self.added, self.removed
        )
    }
}

impl Tools {
    /// The normalised relative path of a file that `edit_file` or
    /// `write_file` may change, or why not (the guard's refusals; a
    /// directory is not a file).
    pub fn check_write(&self, path: &str) -> Result<String, ToolError> {
        let located = self.locate(path)?;
        check_not_dir(&located)?;
        Ok(located.rel)
    }

    /// `edit_file`: `old_text` replaced by `new_text` in `current` (the
    /// file's text: the editor's buffer when it is open, else the disk, see
    /// [`Tools::current_text`]). `old_text` must occur exactly once. In a
    /// CRLF file, `old_text` and `new_text` written with bare `\n` (as
    /// `read_file` shows lines) match and are written with `\r\n`.
    pub fn plan_edit(
        &self,
        path: &str,
        old_text: &str,
        new_text: &str,
        current: &str,
    ) -> Result<Planned, ToolError> {
        let rel = self.check_write(path)?;
        if old_text.is_empty() {
            return Err(ToolError::EmptyOldText);
        }
        let (old, new) = match occurrences(current, old_text) {
            0 if uses_crlf(current) && old_text.contains('\n') && !old_text.contains('\r') => {
                (to_crlf(old_text), to_crlf(new_text))
            }
            _ => (old_text.to_owned(), new_text.to_owned()),
        };
        match occurrences(current, &old) {
            0 => {
                return Err(ToolError::OldTextNotFound {
                    hint: closest_line(current, old_text),
                    path: rel,
                })
            }
            1 => {}
            count => return Err(ToolError::OldTextAmbiguous { path: rel, count }),
        }
        let after = current.replacen(&old, &new, 1);
        Ok(plan(rel, Some(current), after))
    }

    /// `write_file`: `content` as the whole file; `current` is its text now,
    /// `None` when it does not exist. Over a CRLF file, content written with
    /// bare `\n` keeps the file's CRLF.
    pub fn plan_write(
        &self,
        path: &str,
        content: &str,
        current: Option<&str>,
    ) -> Result<Planned, ToolError> {
        let rel = self.check_write(path)?;
        let after = match current {
            Some(current) if uses_crlf(current) && !content.contains('\r') => to_crlf(content),
            _ => content.to_owned(),
        };
        Ok(plan(rel, current, after))
    }
}

fn check_not_dir(located: &Located) -> Result<(), ToolError> {
    match std::fs::metadata(&located.abs) {
        Ok(meta) if meta.is_dir() => Err(ToolError::NotAFile {
            path: located.rel.clone(),
            kind: "a directory",
        }),
        _ => Ok(()),
    }
}

fn plan(path: String, before: Option<&str>, after: String) -> Planned {
    let mut options = diffy::DiffOptions::new();
    options
        .set_original_filename(match before {
            Some(_) => format!("a/{path}"),
            None => "/dev/null".to_owned(),
        })
        .set_modified_filename(format!("b/{path}"));
    let patch = options.create_patch(before.unwrap_or(""), &after);
    let (mut added, mut removed) = (0, 0);
    for hunk in patch.hunks() {
        for line in hunk.lines() {
            match line {
                diffy::Line::Insert(_) => added += 1,
                diffy::Line::Delete(_) => removed += 1,
                diffy::Line::Context(_) => {}
            }
        }
    }
    // Blank context lines keep their leading space: `git apply` and
    // `patch` read the diff as written, not GNU diff's shorthand.
    let diff = diffy::PatchFormatter::new()
        .suppress_blank_empty(false)
        .fmt_patch(&patch)
        .to_string();
    Planned {
        path,
        created: before.is_none(),
        after,
        diff,
        added,
        removed,
    }
}

fn occurrences(text: &str, needle: &str) -> usize {
    text.match_indices(needle).count()
}

/// Whether the text's line breaks are CRLF (its first one decides, as
/// editors do).
fn uses_crlf(text: &str) -> bool {
    text.find('\n').is_some_and(|at| text[..at].ends_with('\r'))
}

fn to_crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

/// A line of `current` that looks like the first line of `old_text`, for a
/// model whose `old_text` is almost right (indentation, a changed word):
/// "line 12: `    let x = 1;`".
fn closest_line(current: &str, old_text: &str) -> Option<String> {
    let wanted = old_text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())?;
    let lines: Vec<&str> = current.lines().collect();
    let found = lines
        .iter()
        .position(|line| line.trim() == wanted)
        .or_else(|| lines.iter().position(|line| line.contains(wanted)))
        .or_else(|| {
            // The longest shared start of the trimmed lines, if it says something.
            let (index, shared) = lines
                .iter()
                .enumerate()
                .map(|(index, line)| (index, shared_prefix(line.trim(), wanted)))
                .max_by_key(|&(index, shared)| (shared, std::cmp::Reverse(index)))?;
            (shared >= 8.min(wanted.len())).then_some(index)
        })?;
    let line = crate::read::cut_line(lines[found].trim_end_matches('\r'), 200).into_owned();
    Some(format!("line {}: `{line}`", found + 1))
}

fn shared_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}
