//! agentls-text: the document model the language server keeps for every open
//! file.
//!
//! Owns: the text of a document (a [`ropey::Rope`]), its version and
//! language id, how edits apply, and the conversion between line/column
//! [`Position`]s (in UTF-8, UTF-16 or UTF-32 units) and char indices.
//!
//! Line breaks are "\n", "\r\n" and "\r" only (the workspace builds ropey
//! with `cr_lines` and without `unicode_lines`), matching LSP 3.17.
//!
//! Architecture invariant: this crate knows nothing of LSP or JSON. Its types
//! are plain values; the server converts protocol types at its edge.

mod document;
mod position;

#[cfg(any(test, feature = "reference"))]
pub mod reference;

#[cfg(test)]
mod tests;

pub use document::Document;
pub use position::{Change, Position, PositionEncoding, Range};
