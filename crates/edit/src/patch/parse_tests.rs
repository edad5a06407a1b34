//! Parser behaviour on hand-written (model-style) diffs. Diffs made by the
//! real `diff` and `git` are exercised in tests/patch_tools.rs.

use super::*;

fn one(text: &str) -> FilePatch {
    let mut files = parse(text).expect("parses");
    assert_eq!(files.len(), 1, "{files:#?}");
    files.remove(0)
}

fn lines(file: &FilePatch) -> Vec<String> {
    file.hunks[0]
        .lines
        .iter()
        .map(|line| match line {
            HunkLine::Context(t) => format!(" {t}"),
            HunkLine::Remove(t) => format!("-{t}"),
            HunkLine::Add { text, .. } => format!("+{text}"),
        })
        .collect()
}

#[test]
fn prose_and_fences_around_the_diff_are_ignored() {
    let file = one(
        "Here is the fix:\n\n```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,2 @@\n fn a() {}\n-fn b() {}\n+fn c() {}\n```\n\nThis renames b.\n",
    );
    assert_eq!(file.path, "src/lib.rs");
    assert_eq!(file.op, FileOp::Modify);
    assert_eq!(lines(&file), [" fn a() {}", "-fn b() {}", "+fn c() {}"]);
}

#[test]
fn dev_null_sides_mean_create_and_delete() {
    let created = one("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hi\n");
    assert_eq!(
        (created.path.as_str(), &created.op),
        ("new.txt", &FileOp::Create)
    );
    let deleted = one("--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n");
    assert_eq!(
        (deleted.path.as_str(), &deleted.op),
        ("old.txt", &FileOp::Delete)
    );
}

#[test]
fn diff_n_epoch_timestamps_mean_missing_files_and_top_dirs_are_stripped() {
    let created = one(
        "diff -ruN old/x.txt new/x.txt\n--- old/x.txt\t1970-01-01 00:00:00.000000000 +0000\n+++ new/x.txt\t2024-05-01 10:00:00.000000000 +0200\n@@ -0,0 +1 @@\n+hi\n",
    );
    assert_eq!(
        (created.path.as_str(), &created.op),
        ("x.txt", &FileOp::Create)
    );
}

#[test]
fn a_b_prefixes_are_stripped_once() {
    let file = one("--- a/b/x\n+++ b/b/x\n@@ -1 +1 @@\n-1\n+2\n");
    assert_eq!(file.path, "b/x");
    let plain = one("--- src/x\n+++ src/x\n@@ -1 +1 @@\n-1\n+2\n");
    assert_eq!(plain.path, "src/x");
}

#[test]
fn backup_names_pick_the_real_file() {
    assert_eq!(
        one("--- f.rs.orig\n+++ f.rs\n@@ -1 +1 @@\n-1\n+2\n").path,
        "f.rs"
    );
    assert_eq!(
        one("--- f.rs\n+++ f.rs.new\n@@ -1 +1 @@\n-1\n+2\n").path,
        "f.rs"
    );
}

#[test]
fn git_sections_without_hunks_create_rename_and_quote() {
    let files = parse(concat!(
        "diff --git a/empty.txt b/empty.txt\nnew file mode 100644\nindex 0000000..e69de29\n",
        "diff --git a/old name.txt b/new name.txt\nsimilarity index 100%\nrename from old name.txt\nrename to new name.txt\n",
        "diff --git \"a/tab\\there\" \"b/tab\\there\"\nold mode 100644\nnew mode 100755\n",
    ))
    .unwrap();
    assert_eq!(files[0].op, FileOp::Create);
    assert_eq!(files[0].path, "empty.txt");
    assert_eq!(
        files[1].op,
        FileOp::Rename {
            from: "old name.txt".into()
        }
    );
    assert_eq!(files[1].path, "new name.txt");
    assert_eq!(files[2].path, "tab\there");
    assert_eq!(files[2].op, FileOp::Modify);
}

#[test]
fn removed_lines_that_look_like_headers_stay_in_the_hunk_while_counts_ask_for_them() {
    // Removing the SQL comment "-- x" and adding "++ y" gives "--- x", "+++ y".
    let file = one("--- a/q.sql\n+++ b/q.sql\n@@ -1,2 +1,2 @@\n--- x\n+++ y\n keep\n");
    assert_eq!(lines(&file), ["--- x", "+++ y", " keep"]);
}

#[test]
fn miscounted_hunks_keep_reading_body_lines() {
    let file = one("--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n a\n-b\n+c\n d\n");
    assert_eq!(lines(&file), [" a", "-b", "+c", " d"]);
}

#[test]
fn empty_lines_are_context_only_inside_a_hunk() {
    let file = one("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n\nThanks!\n");
    assert_eq!(lines(&file), [" a", " ", "-b", "+c"]);
}

#[test]
fn no_newline_markers_attach_to_their_side() {
    let file = one("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n");
    assert!(file.hunks[0].old_no_eol);
    assert!(!file.hunks[0].new_no_eol);
}

#[test]
fn headers_without_numbers_still_parse() {
    let file = one("--- a/f\n+++ b/f\n@@ @@\n-a\n+b\n");
    assert_eq!(file.hunks[0].range, None);
    assert_eq!(file.hunks[0].header, "@@ @@");
    let with_context = one("--- a/f\n+++ b/f\n@@ -3,7 +3,8 @@ fn main() {\n-a\n+b\n");
    assert_eq!(with_context.hunks[0].header, "@@ -3,7 +3,8 @@");
    assert_eq!(
        with_context.hunks[0].range,
        Some(HunkRange {
            old_start: 3,
            old_count: 7,
            new_count: 8
        })
    );
}

#[test]
fn text_without_a_diff_is_refused() {
    assert!(matches!(
        parse("just prose\n```\ncode\n```\n"),
        Err(EditError::NoDiff)
    ));
    assert!(matches!(
        parse("@@ -1 +1 @@\n-a\n+b\n"),
        Err(EditError::MalformedPatch { line: 1, .. })
    ));
    assert!(matches!(
        parse("diff --git a/x b/x\nGIT binary patch\nliteral 0\n"),
        Err(EditError::MalformedPatch { .. })
    ));
}
