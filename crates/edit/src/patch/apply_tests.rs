//! Hunk placement on strings: each test is an original text, a patch as a
//! model might write it, and the expected text or error.

use crate::{EditError, Patch};

fn apply(original: Option<&str>, patch: &str) -> Result<Option<String>, String> {
    let patch = Patch::parse(patch).map_err(|e| e.to_string())?;
    assert_eq!(patch.files().len(), 1);
    patch.files()[0]
        .apply_to(original)
        .map_err(|e| e.to_string())
}

fn modify(original: &str, patch: &str) -> Result<String, String> {
    apply(Some(original), patch).map(|text| text.expect("file kept"))
}

const TEN: &str = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n";

#[test]
fn exact_header_applies() {
    let patch = "--- a/f\n+++ b/f\n@@ -4,3 +4,3 @@\n l4\n-l5\n+five\n l6\n";
    assert_eq!(
        modify(TEN, patch).unwrap(),
        "l1\nl2\nl3\nl4\nfive\nl6\nl7\nl8\nl9\nl10\n"
    );
}

#[test]
fn wrong_line_numbers_are_corrected_by_a_unique_match() {
    let patch = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n l7\n-l8\n+eight\n l9\n";
    assert_eq!(
        modify(TEN, patch).unwrap(),
        "l1\nl2\nl3\nl4\nl5\nl6\nl7\neight\nl9\nl10\n"
    );
}

#[test]
fn headers_without_numbers_apply_by_content() {
    let patch = "--- a/f\n+++ b/f\n@@ @@\n l2\n-l3\n+three\n";
    assert_eq!(
        modify(TEN, patch).unwrap(),
        "l1\nl2\nthree\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n"
    );
}

#[test]
fn later_hunks_follow_the_offset_of_earlier_ones() {
    // Both headers are 2 lines too high, and the first hunk adds a line.
    let patch =
        "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n l3\n+new\n l4\n@@ -6,2 +7,2 @@\n l8\n-l9\n+nine\n";
    assert_eq!(
        modify(TEN, patch).unwrap(),
        "l1\nl2\nl3\nnew\nl4\nl5\nl6\nl7\nl8\nnine\nl10\n"
    );
}

#[test]
fn ambiguous_context_is_refused_with_the_candidates() {
    let original = "x\n}\ny\n}\nz\n";
    let patch = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -40,1 +40,2 @@\n }\n+added\n";
    assert_eq!(
        modify(original, patch).unwrap_err(),
        "patch does not apply to src/lib.rs: hunk 1 (@@ -40,1 +40,2 @@) context matches at lines 2, 4 (the header says line 40); add context lines or fix the line number"
    );
}

#[test]
fn the_header_position_wins_over_other_matches() {
    let original = "x\n}\ny\n}\nz\n";
    let patch = "--- a/f\n+++ b/f\n@@ -4,1 +4,2 @@\n }\n+added\n";
    assert_eq!(modify(original, patch).unwrap(), "x\n}\ny\n}\nadded\nz\n");
}

#[test]
fn missing_context_names_file_hunk_and_line() {
    let patch = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,1 +1,1 @@\n-l1\n+one\n@@ -40,7 +40,8 @@\n l40\n+x\n";
    assert_eq!(
        modify(TEN, patch).unwrap_err(),
        "patch does not apply to src/lib.rs: hunk 2 (@@ -40,7 +40,8 @@) context not found near line 40"
    );
}

#[test]
fn trailing_whitespace_differences_match_but_keep_the_files_context() {
    let original = "a  \nb\nc\t\n";
    let patch = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n";
    assert_eq!(modify(original, patch).unwrap(), "a  \nB\nc\t\n");
}

#[test]
fn an_exact_match_elsewhere_competing_with_a_loose_one_at_the_header_is_ambiguous() {
    let original = "x \nb\ny\nx\nb\n";
    let patch = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n x\n-b\n+B\n";
    assert!(modify(original, patch)
        .unwrap_err()
        .contains("context matches at lines 1, 4"));
}

#[test]
fn leading_whitespace_differences_do_not_match() {
    let original = "fn f() {\n    a();\n}\n";
    let patch = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n fn f() {\n-  a();\n+  b();\n }\n";
    assert!(modify(original, patch)
        .unwrap_err()
        .contains("context not found"));
}

#[test]
fn hunks_do_not_overlap_or_go_backwards() {
    let patch = "--- a/f\n+++ b/f\n@@ -5,1 +5,1 @@\n-l5\n+five\n@@ -2,1 +2,1 @@\n-l2\n+two\n";
    assert!(modify(TEN, patch).unwrap_err().contains("hunk 2"));
}

#[test]
fn crlf_files_stay_crlf_whatever_the_patch_uses() {
    let original = "a\r\nb\r\nc\r\n";
    let lf_patch = "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n+B2\n c\n";
    assert_eq!(modify(original, lf_patch).unwrap(), "a\r\nB\r\nB2\r\nc\r\n");
    let crlf_patch = lf_patch.replace('\n', "\r\n");
    assert_eq!(
        modify(original, &crlf_patch).unwrap(),
        "a\r\nB\r\nB2\r\nc\r\n"
    );
}

#[test]
fn a_missing_final_newline_is_kept_unless_the_patch_says_otherwise() {
    let patch = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n";
    assert_eq!(modify("a\nb", patch).unwrap(), "a\nc");
    assert_eq!(modify("a\nb\n", patch).unwrap(), "a\nc\n");

    let adds_newline =
        "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n";
    assert_eq!(modify("a\nb", adds_newline).unwrap(), "a\nb\n");
    let drops_newline =
        "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n";
    assert_eq!(modify("a\nb\n", drops_newline).unwrap(), "a\nb");
}

#[test]
fn appending_after_an_unterminated_line_gives_it_an_ending() {
    let patch = "--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n a\n+b\n";
    assert_eq!(modify("x\r\na", patch).unwrap(), "x\r\na\r\nb");
}

#[test]
fn pure_insertions_use_the_header_line() {
    // `diff -U0` style: insert after line 3.
    let patch = "--- a/f\n+++ b/f\n@@ -3,0 +4,1 @@\n+inserted\n";
    assert_eq!(
        modify("1\n2\n3\n4\n", patch).unwrap(),
        "1\n2\n3\ninserted\n4\n"
    );
    let past_end = "--- a/f\n+++ b/f\n@@ -30,0 +31,1 @@\n+x\n";
    assert!(modify("1\n", past_end)
        .unwrap_err()
        .contains("only adds lines, and line 30 is not a place"));
}

#[test]
fn create_and_delete_check_the_file_state() {
    let create = "--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@\n+a\n+b\n";
    assert_eq!(apply(None, create).unwrap().as_deref(), Some("a\nb\n"));
    assert!(apply(Some("old\n"), create)
        .unwrap_err()
        .contains("already exists"));

    let crlf_create = create.replace("+a\n+b\n", "+a\r\n+b\r\n");
    assert_eq!(
        apply(None, &crlf_create).unwrap().as_deref(),
        Some("a\r\nb\r\n")
    );

    let delete = "--- a/n\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n";
    assert_eq!(apply(Some("a\nb\n"), delete).unwrap(), None);
    assert!(apply(Some("a\nb\nc\n"), delete)
        .unwrap_err()
        .contains("does not remove"));
    assert!(apply(None, delete).unwrap_err().contains("does not exist"));
}

#[test]
fn modifying_a_missing_file_only_works_for_pure_additions() {
    let adds = "--- a/n\n+++ b/n\n@@ -0,0 +1 @@\n+a\n";
    assert_eq!(apply(None, adds).unwrap().as_deref(), Some("a\n"));
    let edits = "--- a/n\n+++ b/n\n@@ -1 +1 @@\n-a\n+b\n";
    let err = Patch::parse(edits).unwrap().files()[0]
        .apply_to(None)
        .unwrap_err();
    assert!(matches!(err, EditError::PatchDoesNotApply { .. }), "{err}");
}
