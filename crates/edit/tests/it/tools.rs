//! Patches made by the real `diff -ruN` and `git diff --no-index`: the tree
//! `a/` (the workspace's content) is diffed against `b/` (the wanted
//! content), the patch is applied to the workspace, and the workspace must
//! then equal `b/` byte for byte.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use agentls_edit::{ChangeKind, EditError};
use tempfile::TempDir;

use crate::Sandbox;

#[derive(Debug, Clone, Copy)]
enum Tool {
    DiffU,
    Git,
}

const TOOLS: [Tool; 2] = [Tool::DiffU, Tool::Git];

type Files<'a> = &'a [(&'a str, &'a str)];

fn tree(files: Files<'_>) -> BTreeMap<PathBuf, Vec<u8>> {
    files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.as_bytes().to_vec()))
        .collect()
}

/// The patch `tool` writes from `before` to `after`.
fn make_patch(tool: Tool, before: Files<'_>, after: Files<'_>) -> String {
    let tmp = TempDir::new().unwrap();
    for (side, files) in [("a", before), ("b", after)] {
        std::fs::create_dir_all(tmp.path().join(side)).unwrap();
        for (path, text) in files {
            let path = tmp.path().join(side).join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
    let mut command = match tool {
        Tool::DiffU => {
            let mut c = Command::new("diff");
            c.args(["-ruN", "a", "b"]);
            c
        }
        Tool::Git => {
            // --no-prefix: the trees are literally named a/ and b/, so the
            // names come out as a repository's `git diff` writes them.
            let mut c = Command::new("git");
            c.args(["diff", "--no-index", "--no-prefix", "--no-color", "a", "b"])
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null");
            c
        }
    };
    let output = command.current_dir(tmp.path()).output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{tool:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Applies `tool`'s patch from `before` to `after` on a workspace holding `before`.
fn round_trip(before: Files<'_>, after: Files<'_>) {
    for tool in TOOLS {
        let sb = Sandbox::new();
        for (path, text) in before {
            sb.put(path, text);
        }
        let patch = make_patch(tool, before, after);
        sb.ws
            .apply_patch(&patch)
            .unwrap_or_else(|e| panic!("{tool:?}: {e}\n{patch}"));
        assert_eq!(sb.tree(), tree(after), "{tool:?}\n{patch}");
    }
}

fn numbered(range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("line {i}\n")).collect()
}

#[test]
fn modifies_one_file() {
    round_trip(&[("f.txt", "a\nb\nc\n")], &[("f.txt", "a\nB\nc\n")]);
}

#[test]
fn applies_several_hunks_in_one_file() {
    let before = numbered(0..60);
    let after = before
        .replace("line 3\n", "line three\n")
        .replace("line 30\n", "")
        .replace("line 55\n", "line 55\nline 55b\n");
    round_trip(&[("big.txt", &before)], &[("big.txt", &after)]);
}

#[test]
fn creates_deletes_and_modifies_several_files_in_nested_directories() {
    round_trip(
        &[
            ("keep.txt", "same\n"),
            ("src/lib.rs", "fn a() {}\n"),
            ("old/gone.txt", "bye\n"),
        ],
        &[
            ("keep.txt", "same\n"),
            ("src/lib.rs", "fn a() {}\nfn b() {}\n"),
            ("src/deep/new/mod.rs", "pub mod x;\n"),
        ],
    );
}

#[test]
fn crlf_files_stay_crlf() {
    round_trip(
        &[("win.txt", "one\r\ntwo\r\nthree\r\n")],
        &[
            ("win.txt", "one\r\n2\r\nthree\r\nfour\r\n"),
            ("new.txt", "x\r\ny\r\n"),
        ],
    );
}

#[test]
fn final_newline_is_removed_added_or_kept_as_the_diff_says() {
    round_trip(&[("f.txt", "a\nb\n")], &[("f.txt", "a\nb")]);
    round_trip(&[("f.txt", "a\nb")], &[("f.txt", "a\nb\n")]);
    round_trip(&[("f.txt", "a\nb")], &[("f.txt", "a\nc")]);
    round_trip(&[("f.txt", "x\na\nb")], &[("f.txt", "y\na\nb")]);
}

#[test]
fn offset_line_numbers_still_apply() {
    // The patch is made against a file without the 7-line header the
    // workspace's copy has, so every hunk is 7 lines off.
    let body = numbered(0..40);
    let edited = body
        .replace("line 5\n", "line five\n")
        .replace("line 35\n", "");
    let head = numbered(100..107);
    for tool in TOOLS {
        let sb = Sandbox::new();
        sb.put("f.txt", format!("{head}{body}"));
        let patch = make_patch(tool, &[("f.txt", &body)], &[("f.txt", &edited)]);
        sb.ws.apply_patch(&patch).unwrap();
        assert_eq!(sb.get("f.txt"), format!("{head}{edited}"), "{tool:?}");
    }
}

#[test]
fn a_failing_second_file_leaves_the_first_unchanged() {
    for tool in TOOLS {
        let sb = Sandbox::new();
        let patch = make_patch(
            tool,
            &[("a.txt", "1\n2\n3\n"), ("b.txt", "x\ny\nz\n")],
            &[
                ("a.txt", "1\nTWO\n3\n"),
                ("b.txt", "x\nY\nz\n"),
                ("c.txt", "new\n"),
            ],
        );
        sb.put("a.txt", "1\n2\n3\n");
        sb.put("b.txt", "x\nsomething else\nz\n");
        let before = sb.tree();
        let err = sb.ws.apply_patch(&patch).unwrap_err();
        assert!(matches!(err, EditError::PatchDoesNotApply { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "patch does not apply to b.txt: hunk 1 (@@ -1,3 +1,3 @@) context not found near line 1"
        );
        assert_eq!(sb.tree(), before, "{tool:?}: nothing may change");
    }
}

#[test]
fn preview_reports_the_changes_without_writing() {
    let sb = Sandbox::new();
    sb.put("a.txt", "1\n");
    sb.put("gone.txt", "x\n");
    let patch = make_patch(
        Tool::Git,
        &[("a.txt", "1\n"), ("gone.txt", "x\n")],
        &[("a.txt", "2\n"), ("n.txt", "n\n")],
    );
    let before = sb.tree();
    let preview = sb.ws.preview_patch(&patch).unwrap();
    assert_eq!(sb.tree(), before);
    let kinds: Vec<_> = preview
        .iter()
        .map(|c| (c.path.to_str().unwrap(), c.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a.txt", ChangeKind::Modified),
            ("gone.txt", ChangeKind::Deleted),
            ("n.txt", ChangeKind::Created)
        ]
    );
    assert_eq!(sb.ws.apply_patch(&patch).unwrap(), preview);
}

#[test]
fn git_renames_and_empty_new_files_apply() {
    let sb = Sandbox::new();
    sb.put("old name.txt", "a\nb\n");
    let patch = concat!(
        "diff --git a/old name.txt b/new name.txt\n",
        "similarity index 50%\nrename from old name.txt\nrename to new name.txt\n",
        "--- a/old name.txt\n+++ b/new name.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
        "diff --git a/empty.txt b/empty.txt\nnew file mode 100644\nindex 0000000..e69de29\n",
    );
    sb.ws.apply_patch(patch).unwrap();
    assert_eq!(
        sb.tree(),
        tree(&[("new name.txt", "a\nc\n"), ("empty.txt", "")])
    );
}

#[test]
fn patched_files_keep_their_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    sb.put("run.sh", "#!/bin/sh\necho a\n");
    let path = sb.root.join("run.sh");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let patch = make_patch(
        Tool::Git,
        &[("run.sh", "#!/bin/sh\necho a\n")],
        &[("run.sh", "#!/bin/sh\necho b\n")],
    );
    sb.ws.apply_patch(&patch).unwrap();
    assert_eq!(sb.get("run.sh"), "#!/bin/sh\necho b\n");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o755);
}
