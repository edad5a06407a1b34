//! read_file: numbered lines, ranges, caps that say how to go on, the
//! editor's text before the disk, binary files refused.

use agentls_tools::{ToolError, READ_BYTES_CAP, READ_LINES_CAP};

use crate::Tree;

fn numbered(lines: std::ops::RangeInclusive<usize>) -> String {
    lines
        .map(|n| format!("{n:>6}\tline {n}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn file_of(lines: usize) -> String {
    (1..=lines).map(|n| format!("line {n}\n")).collect()
}

#[test]
fn a_small_file_reads_whole_and_numbered() {
    let tree = Tree::default().with(&[("a.txt", "alpha\r\nbeta\r\n")]);
    let text = tree.tools.read_file("a.txt", None, None, None).unwrap();
    assert_eq!(text, "     1\talpha\n     2\tbeta");
}

#[test]
fn a_range_reads_those_lines_and_says_where_they_are() {
    let tree = Tree::default().with(&[("a.txt", &file_of(50))]);
    let text = tree
        .tools
        .read_file("a.txt", Some(10), Some(12), None)
        .unwrap();
    assert_eq!(text, format!("{}\n[lines 10-12 of 50]", numbered(10..=12)));
    // An end past the file stops at its end.
    let text = tree
        .tools
        .read_file("a.txt", Some(49), Some(900), None)
        .unwrap();
    assert_eq!(text, format!("{}\n[lines 49-50 of 50]", numbered(49..=50)));
}

#[test]
fn a_range_outside_the_file_is_an_error_naming_its_length() {
    let tree = Tree::default().with(&[("a.txt", &file_of(5))]);
    let err = tree
        .tools
        .read_file("a.txt", Some(6), None, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.txt: start_line 6 is past the end of the file (5 lines)"
    );
    let err = tree
        .tools
        .read_file("a.txt", Some(4), Some(2), None)
        .unwrap_err();
    assert_eq!(err.to_string(), "a.txt: end_line 2 is before start_line 4");
}

#[test]
fn a_long_file_is_capped_in_lines_with_how_to_read_on() {
    let total = READ_LINES_CAP + 500;
    let tree = Tree::default().with(&[("big.txt", &file_of(total))]);
    let text = tree.tools.read_file("big.txt", None, None, None).unwrap();
    let (shown, trailer) = text.rsplit_once('\n').unwrap();
    assert_eq!(shown, numbered(1..=READ_LINES_CAP));
    assert_eq!(
        trailer,
        format!(
            "[shown lines 1-{READ_LINES_CAP} of {total}: the output is capped at {READ_LINES_CAP} \
             lines or {} KiB; continue with start_line={}]",
            READ_BYTES_CAP / 1024,
            READ_LINES_CAP + 1
        )
    );
    let rest = tree
        .tools
        .read_file("big.txt", Some(READ_LINES_CAP + 1), None, None)
        .unwrap();
    assert!(rest.starts_with(&format!(
        "{:>6}\tline {}\n",
        READ_LINES_CAP + 1,
        READ_LINES_CAP + 1
    )));
    assert!(rest.ends_with(&format!(
        "[lines {}-{total} of {total}]",
        READ_LINES_CAP + 1
    )));
}

#[test]
fn wide_lines_are_capped_in_bytes_and_cut_in_length() {
    // 200 lines of 1000 characters: the 100 KiB cap stops it before the line cap.
    let line = "y".repeat(1000);
    let body: String = (0..200).map(|_| format!("{line}\n")).collect();
    let tree = Tree::default().with(&[("wide.txt", &body), ("one.txt", &"z".repeat(5000))]);
    let text = tree.tools.read_file("wide.txt", None, None, None).unwrap();
    assert!(text.len() <= READ_BYTES_CAP + 200, "{}", text.len());
    let trailer = text.lines().last().unwrap();
    assert!(trailer.starts_with("[shown lines 1-"), "{trailer}");
    let last_shown: usize = text.lines().count() - 1;
    assert!(trailer.ends_with(&format!("continue with start_line={}]", last_shown + 1)));

    let text = tree.tools.read_file("one.txt", None, None, None).unwrap();
    assert_eq!(
        text,
        format!(
            "     1\t{}… [line cut: 3000 more characters]",
            "z".repeat(2000)
        )
    );
}

#[test]
fn the_editors_unsaved_text_is_preferred_over_the_disk() {
    let tree = Tree::default().with(&[("a.rs", "on disk\n")]);
    let text = tree
        .tools
        .read_file("a.rs", None, None, Some("in the editor\n"))
        .unwrap();
    assert_eq!(text, "     1\tin the editor");
    // Also for a file that is not saved yet.
    let text = tree
        .tools
        .read_file("new.rs", None, None, Some("unsaved\n"))
        .unwrap();
    assert_eq!(text, "     1\tunsaved");
}

#[test]
fn binary_files_missing_files_and_directories_are_errors_that_say_so() {
    let tree = Tree::default().with(&[("src/a.rs", "")]);
    std::fs::write(tree.root.join("img.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    std::fs::write(tree.root.join("nul.txt"), b"text\0more").unwrap();
    let err = tree
        .tools
        .read_file("img.png", None, None, None)
        .unwrap_err();
    assert_eq!(
        err,
        ToolError::Binary {
            path: "img.png".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "img.png is a binary file (not UTF-8 text); the tools only read and edit text"
    );
    let err = tree
        .tools
        .read_file("nul.txt", None, None, None)
        .unwrap_err();
    assert_eq!(
        err,
        ToolError::Binary {
            path: "nul.txt".into()
        }
    );
    let err = tree
        .tools
        .read_file("nope.rs", None, None, None)
        .unwrap_err();
    assert_eq!(
        err,
        ToolError::NotFound {
            path: "nope.rs".into()
        }
    );
    let err = tree.tools.read_file("src", None, None, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "src is not a regular file (a directory); list_files lists a directory"
    );
    assert_eq!(
        tree.tools.read_file("src/a.rs", None, None, None).unwrap(),
        "(src/a.rs is empty)"
    );
}

#[test]
fn a_fifo_is_refused_and_skipped_without_blocking() {
    let tree = Tree::default().with(&[("a.txt", "fifo here? no\n")]);
    let status = std::process::Command::new("mkfifo")
        .arg(tree.root.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let err = tree.tools.read_file("pipe", None, None, None).unwrap_err();
    assert_eq!(err.short(), "not a file (a FIFO)");
    assert_eq!(tree.tools.list_files(None, None).unwrap().text, "a.txt");
    assert_eq!(tree.tools.search("fifo", None, None).unwrap().count, 1);
}

#[test]
fn a_file_over_the_document_cap_is_refused_by_its_size() {
    let tree = Tree::default();
    let file = std::fs::File::create(tree.root.join("huge.log")).unwrap();
    file.set_len(65 * 1024 * 1024).unwrap(); // sparse: nothing is written
    let err = tree
        .tools
        .read_file("huge.log", None, None, None)
        .unwrap_err();
    assert_eq!(
        err,
        ToolError::TooLarge {
            path: "huge.log".into(),
            cap: "64 MiB".into()
        }
    );
}
