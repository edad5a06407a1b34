//! write_file, replace_range and read_file on real files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use agentls_edit::{ChangeKind, EditError, LineCol, TextRange};

use crate::Sandbox;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn lines(sl: usize, sc: usize, el: usize, ec: usize) -> TextRange {
    TextRange::LineCol {
        start: LineCol::new(sl, sc),
        end: LineCol::new(el, ec),
    }
}

#[test]
fn write_file_reports_before_and_after() {
    let sb = Sandbox::new();
    let created = sb.ws.write_file("notes.md", "one\n").unwrap();
    assert_eq!(created.kind(), ChangeKind::Created);
    assert_eq!(
        (created.before, created.after.as_deref()),
        (None, Some("one\n"))
    );

    let modified = sb.ws.write_file("notes.md", "two\n").unwrap();
    assert_eq!(modified.kind(), ChangeKind::Modified);
    assert_eq!(modified.before.as_deref(), Some("one\n"));
    assert_eq!(sb.get("notes.md"), "two\n");
}

#[test]
fn write_file_keeps_permissions_and_leaves_no_temporary_files() {
    let sb = Sandbox::new();
    sb.put("run.sh", "#!/bin/sh\n");
    fs::set_permissions(sb.root.join("run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    sb.ws.write_file("run.sh", "#!/bin/sh\necho hi\n").unwrap();
    assert_eq!(mode(&sb.root.join("run.sh")), 0o750);
    let names: Vec<_> = fs::read_dir(&sb.root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["run.sh"]);
}

#[test]
fn new_files_get_the_same_mode_as_any_new_file() {
    let sb = Sandbox::new();
    // std::fs::write creates with 0o666 less the umask, as editors do.
    sb.put("reference", "");
    sb.ws.write_file("new.txt", "x").unwrap();
    assert_eq!(
        mode(&sb.root.join("new.txt")),
        mode(&sb.root.join("reference"))
    );
}

#[test]
fn write_file_refuses_directories_and_binary_files_and_changes_nothing() {
    let sb = Sandbox::new();
    fs::create_dir(sb.root.join("dir")).unwrap();
    assert!(matches!(
        sb.ws.write_file("dir", "x"),
        Err(EditError::NotAFile { .. })
    ));
    sb.put("blob.bin", [0xff, 0xfe, 0x00]);
    assert!(matches!(
        sb.ws.write_file("blob.bin", "x"),
        Err(EditError::NotText { .. })
    ));
    assert_eq!(
        fs::read(sb.root.join("blob.bin")).unwrap(),
        [0xff, 0xfe, 0x00]
    );
}

#[test]
fn fifos_are_refused_without_blocking() {
    let sb = Sandbox::new();
    let fifo = sb.root.join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        sb.ws.read_file("pipe").unwrap_err().to_string(),
        "pipe is not a regular file (a FIFO)"
    );
    assert_eq!(
        sb.ws.write_file("pipe", "x").unwrap_err().to_string(),
        "pipe is not a regular file (a FIFO)"
    );
    // (A symlink to /dev/zero leads outside the workspace: the guard
    // refuses it before any read.)
}

#[test]
fn files_over_the_document_limit_are_refused() {
    let sb = Sandbox::new();
    let big = fs::File::create(sb.root.join("big.txt")).unwrap();
    big.set_len(64 * 1024 * 1024 + 1).unwrap();
    assert_eq!(
        sb.ws.read_file("big.txt").unwrap_err().to_string(),
        "big.txt is larger than the 64 MiB limit for files agentls edits"
    );
}

#[test]
fn replace_range_by_lines_and_chars() {
    let sb = Sandbox::new();
    sb.put("f.rs", "fn main() {\n    println!(\"héllo\");\n}\n");
    let change = sb
        .ws
        .replace_range("f.rs", lines(1, 14, 1, 19), "world")
        .unwrap();
    assert_eq!(sb.get("f.rs"), "fn main() {\n    println!(\"world\");\n}\n");
    assert_eq!(change.after.as_deref(), Some(sb.get("f.rs").as_str()));
}

#[test]
fn replace_range_by_bytes() {
    let sb = Sandbox::new();
    sb.put("f.txt", "abcdef");
    sb.ws
        .replace_range("f.txt", TextRange::Bytes(2..4), "XY\n")
        .unwrap();
    assert_eq!(sb.get("f.txt"), "abXY\nef");
}

#[test]
fn replace_range_in_a_crlf_file_keeps_crlf() {
    let sb = Sandbox::new();
    sb.put("w.txt", "a\r\nb\r\nc\r\n");
    sb.ws
        .replace_range("w.txt", lines(1, 0, 2, 0), "x\ny\n")
        .unwrap();
    assert_eq!(sb.get("w.txt"), "a\r\nx\r\ny\r\nc\r\n");
}

#[test]
fn replace_range_out_of_bounds_changes_nothing() {
    let sb = Sandbox::new();
    sb.put("f.txt", "one\ntwo\n");
    for range in [
        lines(5, 0, 5, 0),
        lines(0, 9, 0, 9),
        lines(1, 0, 0, 0),
        TextRange::Bytes(0..99),
    ] {
        let err = sb
            .ws
            .replace_range("f.txt", range.clone(), "x")
            .unwrap_err();
        assert!(
            matches!(err, EditError::BadRange { .. }),
            "{range:?}: {err}"
        );
    }
    assert_eq!(sb.get("f.txt"), "one\ntwo\n");
    assert!(matches!(
        sb.ws.replace_range("missing.txt", lines(0, 0, 0, 0), "x"),
        Err(EditError::NotFound { .. })
    ));
}

#[test]
fn read_file_reads_text_inside_only() {
    let sb = Sandbox::new();
    sb.put("a.txt", "hello");
    assert_eq!(sb.ws.read_file("a.txt").unwrap(), "hello");
    assert!(matches!(
        sb.ws.read_file("b.txt"),
        Err(EditError::NotFound { .. })
    ));
}
