//! Property tests: the rope-based [`Document`] against the naive
//! [`ReferenceDocument`], on random texts and random (often out-of-range)
//! positions, in all three encodings.

use proptest::prelude::*;

use crate::reference::ReferenceDocument;
use crate::PositionEncoding::{Utf16, Utf32, Utf8};
use crate::{Change, Document, Position, PositionEncoding, Range};

const ALL: [PositionEncoding; 3] = [Utf8, Utf16, Utf32];

/// Line breaks of every kind plus characters of 1, 2, 3 and 4 UTF-8 bytes;
/// "\r" and "\n" pieces next to each other form and break CRLFs.
fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n"),
        Just("\r\n"),
        Just("\r"),
        Just("a"),
        Just("b"),
        Just(" "),
        Just("é"),
        Just("漢"),
        Just("😀"),
    ];
    prop::collection::vec(piece, 0..max_pieces).prop_map(|pieces| pieces.concat())
}

/// Positions that are mostly near the text, often past a line's or the
/// document's end, sometimes absurdly far.
fn position(max_line: u32) -> impl Strategy<Value = Position> {
    let line = prop_oneof![8 => 0..max_line, 1 => Just(u32::MAX)];
    let character = prop_oneof![8 => 0u32..10, 1 => Just(u32::MAX)];
    (line, character).prop_map(|(line, character)| Position::new(line, character))
}

fn range(max_line: u32) -> impl Strategy<Value = Range> {
    (position(max_line), position(max_line)).prop_map(|(start, end)| Range::new(start, end))
}

fn change(max_line: u32) -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => text(12).prop_map(Change::full),
        12 => (range(max_line), text(6)).prop_map(|(range, text)| Change::replace(range, text)),
    ]
}

/// Applies `changes` one by one to both models, failing at the first change
/// after which their texts differ.
fn check_edits(initial: &str, changes: &[Change]) -> Result<(), TestCaseError> {
    for enc in ALL {
        let mut doc = Document::new(initial, 0, "plaintext");
        let mut reference = ReferenceDocument::new(initial);
        for (i, change) in changes.iter().enumerate() {
            doc.apply_change(change, enc);
            reference.apply_change(change, enc);
            prop_assert_eq!(
                doc.text(),
                reference.text(),
                "{:?}, after change {}",
                enc,
                i
            );
        }
        prop_assert_eq!(doc.line_count(), reference.lines().len(), "{:?}", enc);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn edit_sequences_match_reference(
        initial in text(16),
        changes in prop::collection::vec(change(6), 1..16),
    ) {
        check_edits(&initial, &changes)?;
    }

    #[test]
    fn char_index_and_slice_match_reference(text in text(16), range in range(6)) {
        let doc = Document::new(&text, 0, "plaintext");
        let reference = ReferenceDocument::new(&text);
        for enc in ALL {
            for p in [range.start, range.end] {
                let byte = doc.rope().char_to_byte(doc.char_index(p, enc));
                prop_assert_eq!(byte, reference.byte_offset(p, enc), "{:?} {:?}", enc, p);
            }
            prop_assert_eq!(doc.slice(range, enc), reference.slice(range, enc), "{:?}", enc);
        }
    }

    #[test]
    fn valid_positions_roundtrip(text in text(24)) {
        let doc = Document::new(&text, 0, "plaintext");
        for enc in ALL {
            for p in ReferenceDocument::new(&text).valid_positions(enc) {
                prop_assert_eq!(doc.position(doc.char_index(p, enc), enc), p, "{:?}", enc);
            }
        }
    }

    #[test]
    fn char_indices_roundtrip_except_inside_crlf(text in text(24)) {
        let doc = Document::new(&text, 0, "plaintext");
        let chars: Vec<char> = text.chars().collect();
        for enc in ALL {
            for idx in 0..=chars.len() {
                let inside_crlf = idx > 0 && chars[idx - 1] == '\r' && chars.get(idx) == Some(&'\n');
                let expected = if inside_crlf { idx - 1 } else { idx };
                prop_assert_eq!(doc.char_index(doc.position(idx, enc), enc), expected, "{:?}", enc);
            }
        }
    }
}

proptest! {
    // Texts of several KB span many rope chunks, so edits hit chunk seams
    // (including CRLFs that ropey must keep in one chunk).
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn long_document_edits_match_reference(
        initial in text(4000),
        changes in prop::collection::vec(change(1500), 1..24),
    ) {
        check_edits(&initial, &changes)?;
        let mut doc = Document::new(&initial, 0, "plaintext");
        doc.apply_changes(&changes, 1, Utf16);
        doc.rope().assert_invariants();
    }
}
