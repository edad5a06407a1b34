//! plan_edit and plan_write: exactly one occurrence, hints when there is
//! none, CRLF kept, diffs and counts; nothing is ever written.

use agentls_tools::{Planned, ToolError};

use crate::Tree;

const LIB: &str = "fn one() {\n    1\n}\n\nfn two() {\n    2\n}\n";

#[test]
fn one_occurrence_gives_the_new_text_the_diff_and_the_counts() {
    let tree = Tree::default().with(&[("src/lib.rs", LIB)]);
    let before = tree.snapshot();
    let planned = tree
        .tools
        .plan_edit(
            "./src/lib.rs",
            "fn two() {\n    2\n}",
            "fn two() -> u8 {\n    // two\n    2\n}",
            LIB,
        )
        .unwrap();
    assert_eq!(
        planned,
        Planned {
            path: "src/lib.rs".into(),
            created: false,
            after: "fn one() {\n    1\n}\n\nfn two() -> u8 {\n    // two\n    2\n}\n".into(),
            diff: "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -2,6 +2,7 @@\n     1\n }\n \n-fn two() {\n+fn two() -> u8 {\n+    // two\n     2\n }\n"
                .into(),
            added: 2,
            removed: 1,
        }
    );
    assert_eq!(planned.result_text(), "Edited src/lib.rs: +2 −1 lines.");
    assert_eq!(tree.snapshot(), before, "planning writes nothing");
}

#[test]
fn no_occurrence_is_an_error_with_the_closest_line() {
    let tree = Tree::default().with(&[("src/lib.rs", LIB)]);
    // Wrong indentation: the line is there, trimmed.
    let err = tree
        .tools
        .plan_edit("src/lib.rs", "\t1\n}", "\t10\n}", LIB)
        .unwrap_err();
    assert_eq!(
        err,
        ToolError::OldTextNotFound {
            path: "src/lib.rs".into(),
            hint: Some("line 2: `    1`".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "old_text not found in src/lib.rs (the closest line is line 2: `    1`); old_text must \
         match the file exactly, including indentation and line breaks (read_file shows the \
         current text)"
    );
    assert_eq!(err.short(), "old_text not found");
    // Nothing like it: no hint.
    let err = tree
        .tools
        .plan_edit("src/lib.rs", "struct Missing;", "", LIB)
        .unwrap_err();
    assert_eq!(
        err,
        ToolError::OldTextNotFound {
            path: "src/lib.rs".into(),
            hint: None
        }
    );
}

#[test]
fn two_occurrences_ask_for_more_context() {
    let tree = Tree::default().with(&[("src/lib.rs", LIB)]);
    let err = tree
        .tools
        .plan_edit("src/lib.rs", "}\n", "};\n", LIB)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "old_text occurs 2 times in src/lib.rs; include more of the surrounding lines so that it \
         occurs exactly once"
    );
    assert_eq!(err.short(), "old_text occurs 2 times");
    let err = tree
        .tools
        .plan_edit("src/lib.rs", "", "x", LIB)
        .unwrap_err();
    assert_eq!(err, ToolError::EmptyOldText);
}

#[test]
fn a_crlf_file_matches_text_with_bare_newlines_and_keeps_crlf() {
    let crlf = "a\r\nb\r\nc\r\n";
    let tree = Tree::default().with(&[("w.txt", crlf)]);
    let planned = tree
        .tools
        .plan_edit("w.txt", "a\nb", "a\nB\nb2", crlf)
        .unwrap();
    assert_eq!(planned.after, "a\r\nB\r\nb2\r\nc\r\n");
    assert_eq!((planned.added, planned.removed), (2, 1));
    // Text written with CRLF matches as is.
    let planned = tree
        .tools
        .plan_edit("w.txt", "b\r\n", "x\r\n", crlf)
        .unwrap();
    assert_eq!(planned.after, "a\r\nx\r\nc\r\n");
    // A whole-file write over a CRLF file keeps CRLF.
    let planned = tree
        .tools
        .plan_write("w.txt", "1\n2\n", Some(crlf))
        .unwrap();
    assert_eq!(planned.after, "1\r\n2\r\n");
}

#[test]
fn write_plans_a_new_file_or_a_replacement() {
    let tree = Tree::default().with(&[("old.txt", "one\ntwo\n")]);
    let before = tree.snapshot();
    let created = tree
        .tools
        .plan_write("src/new/mod.rs", "a\nb\nc\n", None)
        .unwrap();
    assert_eq!(
        created,
        Planned {
            path: "src/new/mod.rs".into(),
            created: true,
            after: "a\nb\nc\n".into(),
            diff: "--- /dev/null\n+++ b/src/new/mod.rs\n@@ -0,0 +1,3 @@\n+a\n+b\n+c\n".into(),
            added: 3,
            removed: 0,
        }
    );
    assert_eq!(
        created.result_text(),
        "Created src/new/mod.rs: +3 −0 lines."
    );
    let replaced = tree
        .tools
        .plan_write("old.txt", "one\n2\n", Some("one\ntwo\n"))
        .unwrap();
    assert_eq!(
        (replaced.added, replaced.removed, replaced.created),
        (1, 1, false)
    );
    assert_eq!(tree.snapshot(), before, "planning writes nothing");
}

#[test]
fn a_directory_is_not_a_file_to_write() {
    let tree = Tree::default().with(&[("src/a.rs", "")]);
    let err = tree.tools.check_write("src").unwrap_err();
    assert_eq!(err.short(), "not a file (a directory)");
    let err = tree.tools.plan_write("src", "x", None).unwrap_err();
    assert_eq!(err.short(), "not a file (a directory)");
}

#[test]
fn current_text_reads_the_disk_and_knows_a_missing_file() {
    let tree = Tree::default().with(&[("a.txt", "text\n")]);
    assert_eq!(
        tree.tools.current_text("a.txt").unwrap().as_deref(),
        Some("text\n")
    );
    assert_eq!(tree.tools.current_text("b.txt").unwrap(), None);
    assert_eq!(
        tree.tools
            .current_text("../outside/secret.txt")
            .unwrap_err()
            .short(),
        "refused (outside the workspace)"
    );
}

#[test]
fn check_write_gives_the_normalised_relative_path() {
    let tree = Tree::default();
    assert_eq!(
        tree.tools.check_write("./src/../lib/x.rs").unwrap(),
        "lib/x.rs"
    );
    let absolute = tree.tools.root().join("a/b.rs");
    assert_eq!(
        tree.tools.check_write(absolute.to_str().unwrap()).unwrap(),
        "a/b.rs"
    );
}

#[test]
fn the_planned_diff_applies_to_the_file_and_gives_the_planned_text() {
    // The diff is a real unified diff: agentls-edit's applier (what edit
    // steps use) turns the file on disk into exactly `after`.
    let tree = Tree::default().with(&[("src/lib.rs", LIB)]);
    let planned = tree
        .tools
        .plan_edit("src/lib.rs", "fn one() {\n    1\n}\n\n", "", LIB)
        .unwrap();
    let workspace = agentls_edit::Workspace::new(&tree.root).unwrap();
    let changes = workspace.preview_patch(&planned.diff).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].after.as_deref(), Some(planned.after.as_str()));
    assert_eq!((planned.added, planned.removed), (0, 4));
}
