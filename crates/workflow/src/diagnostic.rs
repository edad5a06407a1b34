//! Problems found in a workflow file, with exact positions.
//!
//! Owns [`Diagnostic`], [`TextRange`] and the conversion from byte offsets to
//! line/column, plus the `path:line:col: severity: message` form the CLI
//! prints. It knows nothing of LSP: positions are 0-based lines with UTF-8 byte
//! columns *and* byte offsets, so the editor layer can convert to whatever
//! encoding its client negotiated.

use std::fmt;
use std::ops::Range;

/// How bad a [`Diagnostic`] is. A file with any `Error` is not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The workflow cannot be loaded until this is fixed.
    Error,
    /// The workflow loads, but something is likely not what the author meant.
    Warning,
}

impl Severity {
    /// The lowercase word used in CLI output: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What class of problem a [`Diagnostic`] reports; stable, so editors and
/// tests can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiagnosticCode {
    /// The file is not valid TOML.
    Syntax,
    /// A key the format does not know.
    UnknownKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A required key is missing.
    MissingKey,
    /// A step has no kind, or more than one (`run`, `prompt`, `edit`, `approve`).
    StepKind,
    /// Two steps share an id.
    DuplicateId,
    /// A step id or name has characters templates cannot address.
    InvalidId,
    /// A template or `when` refers to a step that does not exist, or has not run yet.
    StepReference,
    /// A template or `when` uses a variable or field the context never has.
    UnknownVariable,
    /// A template or `when` expression does not compile.
    Template,
    /// A malformed `timeout`.
    Duration,
    /// A number outside its allowed range.
    OutOfRange,
    /// An `edit.file` path that escapes the workspace.
    EditPath,
    /// A value that is not one of the allowed words (e.g. `pick`).
    InvalidValue,
    /// A key that is valid but has no effect where it is.
    Ignored,
    /// The file could not be read.
    Io,
}

impl DiagnosticCode {
    /// A short kebab-case name, e.g. `unknown-key`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::Syntax => "syntax",
            DiagnosticCode::UnknownKey => "unknown-key",
            DiagnosticCode::WrongType => "wrong-type",
            DiagnosticCode::MissingKey => "missing-key",
            DiagnosticCode::StepKind => "step-kind",
            DiagnosticCode::DuplicateId => "duplicate-id",
            DiagnosticCode::InvalidId => "invalid-id",
            DiagnosticCode::StepReference => "step-reference",
            DiagnosticCode::UnknownVariable => "unknown-variable",
            DiagnosticCode::Template => "template",
            DiagnosticCode::Duration => "duration",
            DiagnosticCode::OutOfRange => "out-of-range",
            DiagnosticCode::EditPath => "edit-path",
            DiagnosticCode::InvalidValue => "invalid-value",
            DiagnosticCode::Ignored => "ignored",
            DiagnosticCode::Io => "io",
        }
    }
}

/// A 0-based line and a 0-based column counted in UTF-8 bytes from the line start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// 0-based line.
    pub line: u32,
    /// 0-based column in UTF-8 bytes.
    pub col: u32,
}

/// A span of a workflow file: byte offsets and the matching positions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TextRange {
    /// Byte offsets into the file text, `start..end`.
    pub offsets: Range<usize>,
    /// Position of `offsets.start`.
    pub start: Position,
    /// Position of `offsets.end`.
    pub end: Position,
}

/// One problem in a workflow file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The class of problem.
    pub code: DiagnosticCode,
    /// A sentence a user can act on.
    pub message: String,
    /// Where in the file.
    pub range: TextRange,
}

impl fmt::Display for Diagnostic {
    /// `line:col: severity: message`, 1-based line and UTF-8 byte column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.range.start.line + 1,
            self.range.start.col + 1,
            self.severity.as_str(),
            self.message
        )
    }
}

/// Byte offset to line/column conversion for one text.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Index `text`; lines end at `\n` (a preceding `\r` stays part of the line).
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    /// Clamp `offset` into the text and back onto a char boundary, so a
    /// position never splits a character whatever offset a parser reported.
    fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The position of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> Position {
        let offset = self.clamp(offset);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(offset - self.line_starts[line]).unwrap_or(u32::MAX),
        }
    }

    /// A [`TextRange`] for byte offsets (clamped, and ordered).
    pub fn range(&self, offsets: Range<usize>) -> TextRange {
        let start = self.clamp(offsets.start);
        let end = self.clamp(offsets.end).max(start);
        TextRange {
            offsets: start..end,
            start: self.position(start),
            end: self.position(end),
        }
    }

    /// The 1-based column of a byte offset counted in characters, as CLI
    /// tools and humans count.
    pub fn char_col(&self, offset: usize) -> usize {
        let offset = self.clamp(offset);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        self.text[self.line_starts[line]..offset].chars().count() + 1
    }
}

/// Render a diagnostic as `path:line:col: severity: message`, with a 1-based
/// line and a 1-based column counted in characters (so `vim`/`grep -n`-style
/// tooling jumps to the right place in lines with non-ASCII text).
pub fn format_cli(path: &str, text: &str, diagnostic: &Diagnostic) -> String {
    let index = LineIndex::new(text);
    let offset = diagnostic.range.offsets.start;
    format!(
        "{path}:{}:{}: {}: {}",
        index.position(offset).line + 1,
        index.char_col(offset),
        diagnostic.severity.as_str(),
        diagnostic.message
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_bytes_and_cli_counts_chars() {
        let text = "a = 1\nkey = \"é x\"\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.position(x), Position { line: 1, col: 10 });
        assert_eq!(index.char_col(x), 10);
        let d = Diagnostic {
            severity: Severity::Error,
            code: DiagnosticCode::UnknownKey,
            message: "m".into(),
            range: index.range(x..x + 1),
        };
        assert_eq!(format_cli("f.toml", text, &d), "f.toml:2:10: error: m");
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)] // a parser's reversed span must not panic
    fn offsets_inside_a_character_or_past_the_end_are_clamped() {
        let text = "é";
        let index = LineIndex::new(text);
        assert_eq!(index.position(1), Position { line: 0, col: 0 });
        assert_eq!(index.range(5..2).offsets, 2..2);
    }
}
