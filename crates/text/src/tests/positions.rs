//! Position <-> char index rules: units per encoding, rounding inside
//! characters, clamping past line and document ends, line breaks.

use crate::PositionEncoding::{Utf16, Utf32, Utf8};
use crate::{Document, Position, PositionEncoding, Range};

const ALL: [PositionEncoding; 3] = [Utf8, Utf16, Utf32];

/// The text before the char index `(line, character)` designates: reads as
/// "where the cursor lands".
fn head(text: &str, enc: PositionEncoding, line: u32, character: u32) -> String {
    let doc = Document::new(text, 0, "plaintext");
    let idx = doc.char_index(Position::new(line, character), enc);
    doc.rope().slice(..idx).to_string()
}

fn pos(text: &str, char_idx: usize, enc: PositionEncoding) -> (u32, u32) {
    let p = Document::new(text, 0, "plaintext").position(char_idx, enc);
    (p.line, p.character)
}

#[test]
fn columns_count_bytes_utf16_units_or_chars() {
    assert_eq!(head("a😀b", Utf8, 0, 5), "a😀");
    assert_eq!(head("a😀b", Utf16, 0, 3), "a😀");
    assert_eq!(head("a😀b", Utf32, 0, 2), "a😀");
    assert_eq!(head("漢字x", Utf8, 0, 6), "漢字");
    assert_eq!(head("漢字x", Utf16, 0, 2), "漢字");
    assert_eq!(head("é漢😀x", Utf16, 0, 4), "é漢😀");
}

#[test]
fn utf16_column_inside_surrogate_pair_rounds_down() {
    assert_eq!(head("a😀b", Utf16, 0, 2), "a");
    assert_eq!(head("😀😀", Utf16, 0, 3), "😀");
}

#[test]
fn utf8_column_inside_multibyte_sequence_rounds_down() {
    assert_eq!(head("漢字", Utf8, 0, 1), "");
    assert_eq!(head("漢字", Utf8, 0, 2), "");
    assert_eq!(head("漢字", Utf8, 0, 4), "漢");
    assert_eq!(head("a😀b", Utf8, 0, 4), "a");
    assert_eq!(head("é", Utf8, 0, 1), "");
}

#[test]
fn grapheme_clusters_are_counted_by_code_point_not_kept_whole() {
    // 👍🏽 is two astral code points; the family is three joined by ZWJs.
    assert_eq!(head("👍🏽x", Utf16, 0, 2), "👍");
    assert_eq!(head("👍🏽x", Utf16, 0, 4), "👍🏽");
    assert_eq!(head("👍🏽x", Utf32, 0, 1), "👍");
    let family = "👨\u{200d}👩\u{200d}👧";
    assert_eq!(head(family, Utf16, 0, 3), "👨\u{200d}");
    assert_eq!(head(family, Utf16, 0, 8), family);
    assert_eq!(head(family, Utf8, 0, 7), "👨\u{200d}");
    assert_eq!(pos(family, 5, Utf16), (0, 8));
    assert_eq!(pos(family, 5, Utf8), (0, 18));
}

#[test]
fn column_past_line_end_clamps_before_each_kind_of_terminator() {
    for terminator in ["\n", "\r\n", "\r"] {
        let text = format!("a😀{terminator}cd");
        for enc in ALL {
            assert_eq!(head(&text, enc, 0, 99), "a😀", "{terminator:?} {enc:?}");
            assert_eq!(
                head(&text, enc, 0, u32::MAX),
                "a😀",
                "{terminator:?} {enc:?}"
            );
            assert_eq!(head(&text, enc, 1, 99), text, "{terminator:?} {enc:?}");
        }
    }
}

#[test]
fn column_between_cr_and_lf_clamps_before_cr() {
    // Column 3 of "ab" would sit between "\r" and "\n" if the terminator
    // counted; it must land before "\r".
    for enc in ALL {
        assert_eq!(head("ab\r\ncd", enc, 0, 3), "ab");
    }
}

#[test]
fn line_past_last_line_clamps_to_document_end() {
    for enc in ALL {
        assert_eq!(head("ab\ncd", enc, 2, 0), "ab\ncd");
        assert_eq!(head("ab\ncd", enc, u32::MAX, u32::MAX), "ab\ncd");
        assert_eq!(head("", enc, 3, 3), "");
    }
}

#[test]
fn final_line_break_opens_an_empty_last_line() {
    let doc = Document::new("ab\n", 0, "plaintext");
    assert_eq!(doc.line_count(), 2);
    assert_eq!(head("ab\n", Utf16, 1, 0), "ab\n");
    assert_eq!(head("ab\n", Utf16, 1, 7), "ab\n");
    assert_eq!(pos("ab\n", 3, Utf16), (1, 0));
    assert_eq!(Document::new("", 0, "plaintext").line_count(), 1);
}

#[test]
fn lone_cr_and_crlf_are_line_breaks() {
    let doc = Document::new("a\rb\r\nc\nd", 0, "plaintext");
    assert_eq!(doc.line_count(), 4);
    assert_eq!(head("a\rb\r\nc\nd", Utf32, 1, 0), "a\r");
    assert_eq!(head("a\rb\r\nc\nd", Utf32, 2, 0), "a\rb\r\n");
    assert_eq!(head("a\rb\r\nc\nd", Utf32, 3, 0), "a\rb\r\nc\n");
    assert_eq!(pos("a\rb\r\nc\nd", 2, Utf32), (1, 0));
}

#[test]
fn unicode_separators_are_not_line_breaks() {
    // Guards the workspace's ropey features: with `unicode_lines` these
    // would split the text into six lines.
    let text = "a\u{2028}b\u{2029}c\u{85}d\u{b}\u{c}e";
    assert_eq!(Document::new(text, 0, "plaintext").line_count(), 1);
    assert_eq!(head(text, Utf32, 0, 3), "a\u{2028}b");
    assert_eq!(pos(text, 6, Utf32), (0, 6));
}

#[test]
fn position_reports_columns_in_each_encoding() {
    let text = "x😀漢\ny";
    assert_eq!(pos(text, 3, Utf8), (0, 8));
    assert_eq!(pos(text, 3, Utf16), (0, 4));
    assert_eq!(pos(text, 3, Utf32), (0, 3));
    assert_eq!(pos(text, 4, Utf16), (1, 0));
    assert_eq!(pos(text, 5, Utf8), (1, 1));
}

#[test]
fn position_between_cr_and_lf_reports_line_content_end() {
    assert_eq!(pos("ab\r\ncd", 2, Utf16), (0, 2));
    assert_eq!(pos("ab\r\ncd", 3, Utf16), (0, 2));
    assert_eq!(pos("ab\r\ncd", 4, Utf16), (1, 0));
}

#[test]
fn position_past_document_end_clamps_to_end() {
    assert_eq!(pos("ab\n😀", 100, Utf16), (1, 2));
    assert_eq!(pos("", usize::MAX, Utf8), (0, 0));
}

#[test]
fn slice_follows_the_same_clamping() {
    let doc = Document::new("one\r\ntwo😀\nthree", 0, "plaintext");
    let r =
        |a: (u32, u32), b: (u32, u32)| Range::new(Position::new(a.0, a.1), Position::new(b.0, b.1));
    assert_eq!(doc.slice(r((0, 1), (1, 2)), Utf16), "ne\r\ntw");
    assert_eq!(doc.slice(r((0, 9), (1, 99)), Utf16), "\r\ntwo😀");
    assert_eq!(
        doc.slice(r((1, 3), (1, 4)), Utf16),
        "",
        "end inside the pair"
    );
    assert_eq!(doc.slice(r((2, 0), (9, 0)), Utf8), "three");
    assert_eq!(doc.slice(r((1, 2), (0, 1)), Utf8), "", "inverted range");
}
