//! The edit guard's one rebase: where a run's selection is in a document
//! that changed since the run read it, when that is trivially certain.
//!
//! The change is taken as one region (everything between the first and the
//! last character that differ). A selection that lies entirely before it or
//! entirely after it, with at least one unchanged character in between, is
//! the same text at a known place; anything that touches the region is not,
//! and the edit is refused rather than guessed.

use std::ops::Range;

/// The selection `sel` (char indices into `old`) as char indices into
/// `new`, or `None` when the change between the two touches it.
pub fn map_selection(old: &str, new: &str, sel: Range<usize>) -> Option<Range<usize>> {
    if old == new {
        return Some(sel);
    }
    let old: Vec<char> = old.chars().collect();
    let new: Vec<char> = new.chars().collect();
    if sel.start > sel.end || sel.end > old.len() {
        return None;
    }
    let (prefix, suffix) = common_ends(&old, &new);
    let changed_end = old.len() - suffix;
    if sel.end < prefix {
        Some(sel)
    } else if sel.start > changed_end {
        let shift = |i: usize| i + new.len() - old.len();
        Some(shift(sel.start)..shift(sel.end))
    } else {
        None
    }
}

/// How many characters `old` and `new` share at their start, and then at
/// their end (not overlapping the start): what lies between is the change.
pub fn common_ends(old: &[char], new: &[char]) -> (usize, usize) {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let room = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    (prefix, suffix)
}

/// `text` with bare `\n` turned into `\r\n` when `document` mostly uses
/// CRLF, so an edit does not mix line endings in the user's file.
pub fn match_line_endings(document: &str, text: &str) -> String {
    let crlf = document.matches("\r\n").count();
    let lf = document.matches('\n').count() - crlf;
    if crlf <= lf || !text.contains('\n') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(text: &str, r: Range<usize>) -> String {
        text.chars().skip(r.start).take(r.len()).collect()
    }

    #[test]
    fn unchanged_text_keeps_the_selection() {
        assert_eq!(map_selection("abc", "abc", 1..2), Some(1..2));
    }

    #[test]
    fn a_change_after_the_selection_keeps_it_in_place() {
        let old = "fn a() {}\nfn b() {}\n";
        let new = "fn a() {}\nfn b() { todo!() }\n";
        let got = map_selection(old, new, 0..9).unwrap();
        assert_eq!(slice(new, got), "fn a() {}");
    }

    #[test]
    fn a_change_before_the_selection_shifts_it() {
        let old = "// é\nfn a() {}\n";
        let new = "// éé more\nfn a() {}\n";
        let sel = 5..14;
        assert_eq!(slice(old, sel.clone()), "fn a() {}");
        let got = map_selection(old, new, sel).unwrap();
        assert_eq!(slice(new, got), "fn a() {}");
    }

    #[test]
    fn a_change_inside_or_touching_the_selection_is_refused() {
        let old = "let x = 1;\n";
        assert_eq!(map_selection(old, "let x = 2;\n", 4..9), None);
        // Typing right after the selection may be extending it.
        assert_eq!(map_selection(old, "let xy = 1;\n", 4..5), None);
        // Right before it too.
        assert_eq!(map_selection(old, "let wx = 1;\n", 4..5), None);
    }

    #[test]
    fn changes_on_both_sides_are_one_region_and_refused() {
        let old = "a\nb\nc\n";
        let new = "A\nb\nC\n";
        assert_eq!(map_selection(old, new, 2..3), None);
    }

    #[test]
    fn line_endings_follow_the_document() {
        assert_eq!(match_line_endings("a\r\nb\r\n", "x\ny\r\nz"), "x\r\ny\r\nz");
        assert_eq!(match_line_endings("a\nb\n", "x\ny"), "x\ny");
    }
}
