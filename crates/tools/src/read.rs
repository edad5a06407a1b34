//! `read_file`: a text file of the working tree, numbered like `cat -n`,
//! a range at a time.
//!
//! Numbered because a model that sees numbers asks for the next range by
//! number (`start_line`), and cites lines the user can find. Capped in lines
//! and bytes, and the cut is said with the `start_line` that continues.

use std::fmt::Write as _;

use crate::limits::{LINE_CHARS_CAP, READ_BYTES_CAP, READ_LINES_CAP};
use crate::{ToolError, Tools};

impl Tools {
    /// The lines `start_line..=end_line` (1-based; default the whole file,
    /// up to the caps) of the file at `path`, numbered. `open_text` is the
    /// editor's unsaved text when the document is open there (the caller
    /// looks it up with [`Tools::locate`]); otherwise the disk is read.
    pub fn read_file(
        &self,
        path: &str,
        start_line: Option<usize>,
        end_line: Option<usize>,
        open_text: Option<&str>,
    ) -> Result<String, ToolError> {
        let located = self.locate(path)?;
        let disk;
        let text = match open_text {
            Some(text) => text,
            None => {
                disk = self
                    .workspace
                    .read_file(path)
                    .map_err(|err| ToolError::from_edit(path, err))?;
                &disk
            }
        };
        if text.contains('\0') {
            return Err(ToolError::Binary { path: located.rel });
        }
        number_lines(&located.rel, text, start_line, end_line)
    }

    /// The text of `path` on disk, `None` when no file is there yet: what an
    /// edit is planned against when the file is not open in the editor.
    pub fn current_text(&self, path: &str) -> Result<Option<String>, ToolError> {
        match self.workspace.read_file(path) {
            Ok(text) if text.contains('\0') => Err(ToolError::Binary {
                path: self.locate(path)?.rel,
            }),
            Ok(text) => Ok(Some(text)),
            Err(agentls_edit::EditError::NotFound { .. }) => Ok(None),
            Err(err) => Err(ToolError::from_edit(path, err)),
        }
    }
}

fn number_lines(
    rel: &str,
    text: &str,
    start_line: Option<usize>,
    end_line: Option<usize>,
) -> Result<String, ToolError> {
    let bad_range = |reason: String| ToolError::BadRange {
        path: rel.to_owned(),
        reason,
    };
    // `lines` drops the `\r` of CRLF files; edit_file matches either way.
    let total = text.lines().count();
    if total == 0 {
        return Ok(format!("({rel} is empty)"));
    }
    let start = start_line.unwrap_or(1);
    if start > total {
        return Err(bad_range(format!(
            "start_line {start} is past the end of the file ({total} lines)"
        )));
    }
    let end = end_line.unwrap_or(total).min(total);
    if end < start {
        return Err(bad_range(format!(
            "end_line {end} is before start_line {start}"
        )));
    }

    let mut out = String::new();
    let mut last = start - 1;
    for (index, line) in text
        .lines()
        .enumerate()
        .skip(start - 1)
        .take(end - start + 1)
    {
        let number = index + 1;
        if number - start >= READ_LINES_CAP {
            break;
        }
        let shown = cut_line(line, LINE_CHARS_CAP);
        // Estimated before writing: the number column is at most 8 + 1 bytes wider.
        if !out.is_empty() && out.len() + shown.len() + 10 > READ_BYTES_CAP {
            break;
        }
        let _ = writeln!(out, "{number:>6}\t{shown}");
        last = number;
    }
    if last < end {
        let _ = write!(
            out,
            "[shown lines {start}-{last} of {total}: the output is capped at {READ_LINES_CAP} \
             lines or {} KiB; continue with start_line={}]",
            READ_BYTES_CAP / 1024,
            last + 1
        );
    } else if start > 1 || end < total {
        let _ = write!(out, "[lines {start}-{end} of {total}]");
    } else {
        // A whole file: no trailer, the text reads as the file.
        out.pop();
    }
    Ok(out)
}

/// `line`, cut at `max` characters with a note of how much is missing.
pub(crate) fn cut_line(line: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match line.char_indices().nth(max) {
        None => line.into(),
        Some((cut, _)) => {
            let rest = line[cut..].chars().count();
            format!("{}… [line cut: {rest} more characters]", &line[..cut]).into()
        }
    }
}
