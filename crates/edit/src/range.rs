//! Ranges inside one file's text, and turning them into byte offsets.
//!
//! Owns the coordinate rules for [`crate::Workspace::replace_range`]. Knows
//! nothing of LSP: columns count Unicode scalar values (`char`s); a caller
//! holding UTF-16 positions converts them first.

use std::borrow::Cow;
use std::ops::Range;

/// A zero-based position in a text: `line` counts `\n`-terminated lines, `col`
/// counts `char`s from the line's start. A column may equal the line's length
/// (just before its line ending), never more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    /// Zero-based line.
    pub line: usize,
    /// Zero-based column in `char`s.
    pub col: usize,
}

impl LineCol {
    /// A position at `line`, `col` (both zero-based).
    pub fn new(line: usize, col: usize) -> Self {
        Self { line, col }
    }
}

/// The part of a file that [`crate::Workspace::replace_range`] replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextRange {
    /// Byte offsets into the file's UTF-8 text; both must fall on `char` boundaries.
    Bytes(Range<usize>),
    /// From `start` (inclusive) to `end` (exclusive) in lines and `char` columns.
    LineCol {
        /// First replaced position.
        start: LineCol,
        /// Position just after the last replaced `char`.
        end: LineCol,
    },
}

/// The byte range `range` denotes in `text`, or why it does not fit.
pub(crate) fn to_bytes(text: &str, range: &TextRange) -> Result<Range<usize>, String> {
    let (start, end) = match range {
        TextRange::Bytes(bytes) => {
            for bound in [bytes.start, bytes.end] {
                if bound > text.len() {
                    return Err(format!(
                        "byte {bound} is past the end (the file has {} bytes)",
                        text.len()
                    ));
                }
                if !text.is_char_boundary(bound) {
                    return Err(format!("byte {bound} is inside a multi-byte character"));
                }
            }
            (bytes.start, bytes.end)
        }
        TextRange::LineCol { start, end } => (offset(text, *start)?, offset(text, *end)?),
    };
    if start > end {
        return Err(format!(
            "the start (byte {start}) is after the end (byte {end})"
        ));
    }
    Ok(start..end)
}

/// Byte offset of `pos` in `text`.
fn offset(text: &str, pos: LineCol) -> Result<usize, String> {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(newline) => line_start += newline + 1,
            None => {
                return Err(format!(
                    "line {} (0-based) is past the end (the file has {} lines)",
                    pos.line,
                    text.split('\n').count()
                ))
            }
        }
    }
    let rest = &text[line_start..];
    let content_len = match rest.find('\n') {
        Some(newline) if rest[..newline].ends_with('\r') => newline - 1,
        Some(newline) => newline,
        None => rest.len(),
    };
    let content = &rest[..content_len];
    match content.char_indices().nth(pos.col) {
        Some((byte, _)) => Ok(line_start + byte),
        None if pos.col == content.chars().count() => Ok(line_start + content_len),
        None => Err(format!(
            "column {} (0-based) is past the end of line {} ({} characters)",
            pos.col,
            pos.line,
            content.chars().count()
        )),
    }
}

/// True when most of `text`'s line endings are `\r\n`.
pub(crate) fn mostly_crlf(text: &str) -> bool {
    let newlines = text.matches('\n').count();
    let crlf = text.matches("\r\n").count();
    crlf * 2 > newlines
}

/// `insert` with its bare `\n` turned into `\r\n` when `file` uses CRLF, so an
/// edit written with Unix line endings does not leave a file with mixed ones.
pub(crate) fn match_line_endings<'a>(file: &str, insert: &'a str) -> Cow<'a, str> {
    if !mostly_crlf(file) || !insert.contains('\n') {
        return Cow::Borrowed(insert);
    }
    let mut out = String::with_capacity(insert.len() + insert.len() / 16);
    let mut previous = '\0';
    for c in insert.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(sl: usize, sc: usize, el: usize, ec: usize) -> TextRange {
        TextRange::LineCol {
            start: LineCol::new(sl, sc),
            end: LineCol::new(el, ec),
        }
    }

    #[test]
    fn line_col_counts_chars_not_bytes() {
        let text = "héllo\nwörld\n";
        let range = to_bytes(text, &lc(1, 1, 1, 3)).unwrap();
        assert_eq!(&text[range], "ör");
    }

    #[test]
    fn column_stops_before_crlf() {
        let text = "ab\r\ncd\r\n";
        assert_eq!(to_bytes(text, &lc(0, 2, 0, 2)).unwrap(), 2..2);
        assert!(to_bytes(text, &lc(0, 3, 0, 3)).is_err());
    }

    #[test]
    fn position_after_final_newline_is_the_end() {
        let text = "a\nb\n";
        assert_eq!(to_bytes(text, &lc(2, 0, 2, 0)).unwrap(), 4..4);
        assert!(to_bytes(text, &lc(3, 0, 3, 0)).is_err());
    }

    #[test]
    fn byte_range_must_fit_and_respect_chars() {
        let text = "é";
        assert!(to_bytes(text, &TextRange::Bytes(0..1)).is_err());
        assert!(to_bytes(text, &TextRange::Bytes(0..3)).is_err());
        assert!(to_bytes(text, &TextRange::Bytes(Range { start: 2, end: 0 })).is_err());
        assert_eq!(to_bytes(text, &TextRange::Bytes(0..2)).unwrap(), 0..2);
    }

    #[test]
    fn inserted_newlines_follow_a_crlf_file() {
        assert_eq!(match_line_endings("a\r\nb\r\n", "x\ny\r\n"), "x\r\ny\r\n");
        assert_eq!(match_line_endings("a\nb\n", "x\ny\n"), "x\ny\n");
    }
}
