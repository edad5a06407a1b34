//! A deliberately naive model of [`Document`](crate::Document)'s edit
//! semantics, for property tests only.
//!
//! It keeps a plain `String` and resolves every position by scanning the
//! text char by char from the start: O(n) per call, obviously correct, and
//! sharing no code with the rope-based implementation, so the two can be
//! checked against each other.
//!
//! Available in this crate's tests, and to other crates that enable the
//! `reference` feature, typically from `[dev-dependencies]`:
//!
//! ```toml
//! [dev-dependencies]
//! agentls-text = { workspace = true, features = ["reference"] }
//! ```
//!
//! A test then applies the same changes to a `ReferenceDocument` and to the
//! real path (for instance a server driven over its protocol) and compares
//! the texts.

use crate::position::{Change, Position, PositionEncoding, Range};

/// A document as a `String`, edited with the same clamping rules as
/// [`Document`](crate::Document).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceDocument {
    text: String,
}

impl ReferenceDocument {
    /// A reference document holding `text`.
    pub fn new(text: &str) -> Self {
        ReferenceDocument {
            text: text.to_owned(),
        }
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Applies one change: `None` replaces everything, otherwise the bytes
    /// between the resolved start and end (end clamped up to start) are
    /// replaced.
    pub fn apply_change(&mut self, change: &Change, enc: PositionEncoding) {
        match change.range {
            None => self.text = change.text.clone(),
            Some(range) => {
                let (start, end) = self.byte_range(range, enc);
                self.text.replace_range(start..end, &change.text);
            }
        }
    }

    /// The text inside `range`.
    pub fn slice(&self, range: Range, enc: PositionEncoding) -> &str {
        let (start, end) = self.byte_range(range, enc);
        &self.text[start..end]
    }

    /// The lines as (content, terminator) pairs, terminator being "\n",
    /// "\r\n", "\r" or "" for the last line.
    pub fn lines(&self) -> Vec<(&str, &str)> {
        let mut lines = Vec::new();
        let bytes = self.text.as_bytes();
        let mut line_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let terminator_len = match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
                b'\r' | b'\n' => 1,
                _ => 0,
            };
            if terminator_len == 0 {
                i += 1;
            } else {
                let end = i + terminator_len;
                lines.push((&self.text[line_start..i], &self.text[i..end]));
                line_start = end;
                i = end;
            }
        }
        lines.push((&self.text[line_start..], ""));
        lines
    }

    /// The byte offset `pos` designates: a line past the last means the end
    /// of the text, a column past the content means the end of the content,
    /// a column inside a character means that character's start.
    pub fn byte_offset(&self, pos: Position, enc: PositionEncoding) -> usize {
        let mut offset = 0;
        for (index, (content, terminator)) in self.lines().into_iter().enumerate() {
            if index == pos.line as usize {
                let mut units = 0usize;
                for ch in content.chars() {
                    if units + enc.units(ch) > pos.character as usize {
                        break;
                    }
                    units += enc.units(ch);
                    offset += ch.len_utf8();
                }
                return offset;
            }
            offset += content.len() + terminator.len();
        }
        self.text.len()
    }

    /// Every position naming a char boundary inside a line's content or at
    /// its end, in text order.
    pub fn valid_positions(&self, enc: PositionEncoding) -> Vec<Position> {
        let mut positions = Vec::new();
        for (index, (content, _)) in self.lines().into_iter().enumerate() {
            let line = index as u32;
            let mut units = 0u32;
            positions.push(Position::new(line, 0));
            for ch in content.chars() {
                units += enc.units(ch) as u32;
                positions.push(Position::new(line, units));
            }
        }
        positions
    }

    fn byte_range(&self, range: Range, enc: PositionEncoding) -> (usize, usize) {
        let start = self.byte_offset(range.start, enc);
        let end = self.byte_offset(range.end, enc).max(start);
        (start, end)
    }
}
