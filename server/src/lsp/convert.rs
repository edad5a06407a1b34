//! Conversions between LSP types and agentls' own.

use std::path::PathBuf;

use agentls_text as text;
use tower_lsp_server::ls_types::{self as lsp, PositionEncodingKind, Uri};

pub fn encoding(kind: &PositionEncodingKind) -> text::PositionEncoding {
    if *kind == PositionEncodingKind::UTF8 {
        text::PositionEncoding::Utf8
    } else if *kind == PositionEncodingKind::UTF32 {
        text::PositionEncoding::Utf32
    } else {
        text::PositionEncoding::Utf16
    }
}

/// The file a URI names, when it is a `file:` URI.
pub fn path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

pub fn uri(path: &std::path::Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

pub fn position(p: lsp::Position) -> text::Position {
    text::Position {
        line: p.line,
        character: p.character,
    }
}

pub fn lsp_position(p: text::Position) -> lsp::Position {
    lsp::Position::new(p.line, p.character)
}

pub fn range(r: lsp::Range) -> text::Range {
    text::Range {
        start: position(r.start),
        end: position(r.end),
    }
}

pub fn change(c: lsp::TextDocumentContentChangeEvent) -> text::Change {
    text::Change {
        range: c.range.map(range),
        text: c.text,
    }
}

/// The editor range of a byte span in `source`.
pub fn span_range(
    source: &str,
    span: std::ops::Range<usize>,
    enc: text::PositionEncoding,
) -> lsp::Range {
    let doc = text::Document::new(source, 0, "");
    let rope = doc.rope();
    let at = |byte: usize| {
        let byte = byte.min(source.len());
        lsp_position(doc.position(rope.byte_to_char(byte), enc))
    };
    lsp::Range::new(at(span.start), at(span.end))
}
