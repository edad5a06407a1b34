//! Plain value types for addressing text: line/column positions, ranges, the
//! unit a column is counted in, and a text change.
//!
//! These mirror the shapes editors speak but are our own: this module never
//! knows any protocol crate, the server converts at its edge.

/// The unit in which [`Position::character`] counts.
///
/// Lines are always counted the same way; only the column unit differs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum PositionEncoding {
    /// UTF-8 code units (bytes).
    Utf8,
    /// UTF-16 code units: a character outside the Basic Multilingual Plane
    /// (such as 😀) counts 2. The default, because it is the one encoding
    /// every editor client supports.
    #[default]
    Utf16,
    /// Unicode scalar values (Rust `char`s): every character counts 1.
    Utf32,
}

impl PositionEncoding {
    /// How many units of this encoding `ch` takes.
    pub fn units(self, ch: char) -> usize {
        match self {
            PositionEncoding::Utf8 => ch.len_utf8(),
            PositionEncoding::Utf16 => ch.len_utf16(),
            PositionEncoding::Utf32 => 1,
        }
    }
}

/// A zero-based line and a zero-based column counted in some
/// [`PositionEncoding`].
///
/// Ordering is by line, then column.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Position {
    /// Zero-based line index. Lines end with "\n", "\r\n" or "\r".
    pub line: u32,
    /// Zero-based column, in units of the encoding the caller uses.
    pub character: u32,
}

impl Position {
    /// A position at `line`, `character`.
    pub const fn new(line: u32, character: u32) -> Self {
        Position { line, character }
    }
}

/// A half-open span `[start, end)` between two positions.
///
/// A range whose `end` is before its `start` is not rejected: every
/// operation of this crate treats it as the empty range at `start`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Range {
    /// First position inside the range.
    pub start: Position,
    /// First position after the range.
    pub end: Position,
}

impl Range {
    /// The range from `start` to `end`.
    pub const fn new(start: Position, end: Position) -> Self {
        Range { start, end }
    }

    /// The empty range at `pos` (where an insertion goes).
    pub const fn empty(pos: Position) -> Self {
        Range {
            start: pos,
            end: pos,
        }
    }
}

/// One edit of a document: replace `range` by `text`, or the whole document
/// when `range` is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Change {
    /// The span replaced; `None` replaces the whole document.
    pub range: Option<Range>,
    /// The replacement text.
    pub text: String,
}

impl Change {
    /// Replace the whole document by `text`.
    pub fn full(text: impl Into<String>) -> Self {
        Change {
            range: None,
            text: text.into(),
        }
    }

    /// Replace `range` by `text`.
    pub fn replace(range: Range, text: impl Into<String>) -> Self {
        Change {
            range: Some(range),
            text: text.into(),
        }
    }

    /// Insert `text` at `pos`.
    pub fn insert(pos: Position, text: impl Into<String>) -> Self {
        Change::replace(Range::empty(pos), text)
    }
}
