//! Edit rules: where insertions land, deletions across lines and line
//! breaks, whole-document replacement, batches and versions.

use crate::PositionEncoding::{Utf16, Utf32, Utf8};
use crate::{Change, Document, Position, PositionEncoding, Range};

fn range(start: (u32, u32), end: (u32, u32)) -> Range {
    Range::new(Position::new(start.0, start.1), Position::new(end.0, end.1))
}

/// The text after applying `change` to `text`.
fn edit(text: &str, change: Change, enc: PositionEncoding) -> String {
    let mut doc = Document::new(text, 1, "plaintext");
    doc.apply_change(&change, enc);
    doc.text()
}

#[test]
fn insert_past_line_end_lands_before_the_terminator() {
    let insert = |text| edit(text, Change::insert(Position::new(0, 99), "X"), Utf16);
    assert_eq!(insert("ab\ncd"), "abX\ncd");
    assert_eq!(insert("ab\r\ncd"), "abX\r\ncd");
    assert_eq!(insert("ab\rcd"), "abX\rcd");
}

#[test]
fn insert_past_last_line_appends() {
    assert_eq!(
        edit("ab\ncd", Change::insert(Position::new(7, 0), "Z"), Utf8),
        "ab\ncdZ"
    );
}

#[test]
fn insert_on_empty_last_line_appends() {
    assert_eq!(
        edit("ab\n", Change::insert(Position::new(1, 0), "c"), Utf16),
        "ab\nc"
    );
    assert_eq!(
        edit("", Change::insert(Position::new(0, 0), "c"), Utf16),
        "c"
    );
}

#[test]
fn delete_across_lines_removes_the_breaks_between() {
    let text = "one\ntwo\r\nthree";
    assert_eq!(
        edit(text, Change::replace(range((0, 1), (2, 2)), ""), Utf16),
        "oree"
    );
    assert_eq!(
        edit(text, Change::replace(range((0, 3), (1, 0)), " "), Utf16),
        "one two\r\nthree"
    );
    assert_eq!(
        edit(text, Change::replace(range((0, 0), (99, 0)), ""), Utf16),
        ""
    );
}

#[test]
fn deleting_between_cr_and_lf_joins_them_into_one_break() {
    let mut doc = Document::new("a\rX\nb", 1, "plaintext");
    assert_eq!(doc.line_count(), 3);
    doc.apply_change(&Change::replace(range((1, 0), (1, 1)), ""), Utf16);
    assert_eq!(doc.text(), "a\r\nb");
    assert_eq!(doc.line_count(), 2);
    assert_eq!(doc.position(3, Utf16), Position::new(1, 0));
}

#[test]
fn edits_count_columns_in_the_given_encoding() {
    let text = "a😀漢b";
    let change = |s, e| Change::replace(range((0, s), (0, e)), "_");
    assert_eq!(edit(text, change(1, 3), Utf16), "a_漢b");
    assert_eq!(edit(text, change(1, 5), Utf8), "a_漢b");
    assert_eq!(edit(text, change(1, 2), Utf32), "a_漢b");
    // An end inside the emoji rounds down, so nothing of it is removed.
    assert_eq!(edit(text, change(1, 2), Utf16), "a_😀漢b");
    // A start inside 字 rounds down too, so 字 goes whole.
    assert_eq!(edit("漢字", change(4, 6), Utf8), "漢_");
}

#[test]
fn inverted_range_inserts_at_its_start() {
    assert_eq!(
        edit("abcdef", Change::replace(range((0, 4), (0, 1)), "X"), Utf16),
        "abcdXef"
    );
}

#[test]
fn whole_document_replacement_replaces_everything() {
    let mut doc = Document::new("old\r\ntext", 3, "rust");
    doc.apply_changes(&[Change::full("new 😀\n")], 4, Utf16);
    assert_eq!(doc.text(), "new 😀\n");
    assert_eq!(doc.version(), 4);
    assert_eq!(doc.language_id(), "rust");
    assert_eq!(doc.line_count(), 2);
    assert_eq!(doc.len_bytes(), "new 😀\n".len());
}

#[test]
fn batch_applies_each_change_to_the_previous_result() {
    let mut doc = Document::new("hello", 1, "plaintext");
    let changes = [
        Change::insert(Position::new(0, 5), "\nworld"),
        // Valid only once the first change made a second line.
        Change::replace(range((1, 0), (1, 1)), "W"),
        Change::insert(Position::new(0, 0), "> "),
    ];
    doc.apply_changes(&changes, 2, Utf16);
    assert_eq!(doc.text(), "> hello\nWorld");
    assert_eq!(doc.version(), 2);
}
