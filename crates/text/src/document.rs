//! [`Document`]: the text of one open file, its version and language, and the
//! conversions between line/column positions and char indices.
//!
//! Every conversion goes through ropey's line, byte and UTF-16 indexes, so it
//! costs O(log n) whatever the document size: nothing here scans from the
//! start of the text or walks a whole line.

use std::ops::Range as StdRange;

use ropey::Rope;

use crate::position::{Change, Position, PositionEncoding, Range};

/// The server's copy of one open file.
///
/// Positions given to it are clamped, never rejected: a column past the end
/// of a line means the end of that line (before its terminator), a line past
/// the last line means the end of the document, and a column inside a
/// multi-unit character means the start of that character. Nothing panics on
/// out-of-range input.
#[derive(Clone, Debug)]
pub struct Document {
    rope: Rope,
    version: i32,
    language_id: String,
}

impl Document {
    /// A document holding `text`.
    pub fn new(text: &str, version: i32, language_id: impl Into<String>) -> Self {
        Document {
            rope: Rope::from_str(text),
            version,
            language_id: language_id.into(),
        }
    }

    /// Applies one change. Does not touch the version: a batch of changes
    /// shares one version, see [`Document::apply_changes`].
    pub fn apply_change(&mut self, change: &Change, enc: PositionEncoding) {
        match change.range {
            None => self.rope = Rope::from_str(&change.text),
            Some(range) => {
                let chars = self.char_range(range, enc);
                let start = chars.start;
                self.rope.remove(chars);
                self.rope.insert(start, &change.text);
            }
        }
    }

    /// Applies `changes` in order (each one's positions refer to the text
    /// left by the previous one), then sets the version to `version`.
    pub fn apply_changes<'a>(
        &mut self,
        changes: impl IntoIterator<Item = &'a Change>,
        version: i32,
        enc: PositionEncoding,
    ) {
        for change in changes {
            self.apply_change(change, enc);
        }
        self.version = version;
    }

    /// The version the editor gave with the last open or change.
    pub fn version(&self) -> i32 {
        self.version
    }

    /// The language the editor gave when it opened the document.
    pub fn language_id(&self) -> &str {
        &self.language_id
    }

    /// The text, for callers that want ropey's own API (cheap to clone).
    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    /// The whole text as one `String` (copies: O(n)).
    pub fn text(&self) -> String {
        self.rope.to_string()
    }

    /// The length of the text in UTF-8 bytes.
    pub fn len_bytes(&self) -> usize {
        self.rope.len_bytes()
    }

    /// The number of lines: line breaks + 1, so a text ending with a line
    /// break has a last, empty line (and the empty text has one line).
    pub fn line_count(&self) -> usize {
        self.rope.len_lines()
    }

    /// The char index `pos` designates, clamped as described on [`Document`].
    pub fn char_index(&self, pos: Position, enc: PositionEncoding) -> usize {
        let line = pos.line as usize;
        if line >= self.rope.len_lines() {
            return self.rope.len_chars();
        }
        let line_start = self.rope.line_to_char(line);
        let content_end = self.line_content_end(line);
        let column = pos.character as usize;
        match enc {
            PositionEncoding::Utf32 => line_start.saturating_add(column).min(content_end),
            PositionEncoding::Utf16 => {
                let target = self
                    .rope
                    .char_to_utf16_cu(line_start)
                    .saturating_add(column);
                if target >= self.rope.char_to_utf16_cu(content_end) {
                    content_end
                } else {
                    // ropey maps a unit inside a surrogate pair to its char,
                    // which is the "round down" we want.
                    self.rope.utf16_cu_to_char(target)
                }
            }
            PositionEncoding::Utf8 => {
                let target = self.rope.line_to_byte(line).saturating_add(column);
                if target >= self.rope.char_to_byte(content_end) {
                    content_end
                } else {
                    // Same rounding down for a byte inside a UTF-8 sequence.
                    self.rope.byte_to_char(target)
                }
            }
        }
    }

    /// The position of char index `char_idx`.
    ///
    /// An index past the end means the end of the document. An index between
    /// the "\r" and "\n" of a CRLF (not a place an editor can name) gives the
    /// position before the "\r", as [`Document::char_index`] would.
    pub fn position(&self, char_idx: usize, enc: PositionEncoding) -> Position {
        let idx = char_idx.min(self.rope.len_chars());
        let line = self.rope.char_to_line(idx);
        let line_start = self.rope.line_to_char(line);
        let idx = idx.min(self.line_content_end(line));
        let column = match enc {
            PositionEncoding::Utf32 => idx - line_start,
            PositionEncoding::Utf16 => {
                self.rope.char_to_utf16_cu(idx) - self.rope.char_to_utf16_cu(line_start)
            }
            PositionEncoding::Utf8 => self.rope.char_to_byte(idx) - self.rope.line_to_byte(line),
        };
        Position {
            line: saturate(line),
            character: saturate(column),
        }
    }

    /// The text inside `range` (empty when `end` is before `start`).
    pub fn slice(&self, range: Range, enc: PositionEncoding) -> String {
        self.rope.slice(self.char_range(range, enc)).to_string()
    }

    /// The char range `range` designates; an inverted range collapses to its
    /// start.
    pub fn char_range(&self, range: Range, enc: PositionEncoding) -> StdRange<usize> {
        let start = self.char_index(range.start, enc);
        let end = self.char_index(range.end, enc).max(start);
        start..end
    }

    /// The char index where `line`'s content ends, before its terminator.
    /// `line` must be a valid line index.
    fn line_content_end(&self, line: usize) -> usize {
        let next_start = self.rope.line_to_char(line + 1);
        // The last line never has a terminator: a final break opens a new,
        // empty line.
        if line + 1 >= self.rope.len_lines() {
            return next_start;
        }
        let line_start = self.rope.line_to_char(line);
        match self.rope.char(next_start - 1) {
            '\n' if next_start - 1 > line_start && self.rope.char(next_start - 2) == '\r' => {
                next_start - 2
            }
            '\n' | '\r' => next_start - 1,
            // Unreachable with the workspace's ropey features (a line
            // before the last ends with one of the breaks above); kept total
            // so a feature change cannot make this panic.
            _ => next_start,
        }
    }
}

/// Columns and lines beyond u32 cannot be expressed; saturate rather than
/// wrap (only reachable with a >4 GiB line).
fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
