//! search: ripgrep's matcher over the same walker; `path:line:text`,
//! capped in matches and line length; bad regexes explained.

use agentls_tools::{ToolError, SEARCH_CAP, SEARCH_LINE_CHARS_CAP};

use crate::Tree;

fn project() -> Tree {
    Tree::default().with(&[
        (".gitignore", "target/\n"),
        ("src/main.rs", "fn main() {\n    run();\n}\n"),
        ("src/lib.rs", "pub fn run() {}\n// fn main is elsewhere\n"),
        ("target/gen.rs", "fn main() {}\n"),
        ("tests/t.rs", "#[test]\nfn main_works() {}\n"),
    ])
}

#[test]
fn matches_come_as_path_line_text_and_ignored_files_are_skipped() {
    let tree = project().git_init();
    let found = tree.tools.search(r"fn\s+main", None, None).unwrap();
    assert_eq!(
        found.text,
        "src/lib.rs:2:// fn main is elsewhere\nsrc/main.rs:1:fn main() {\ntests/t.rs:2:fn main_works() {}"
    );
    assert_eq!(found.count, 3);
}

#[test]
fn path_and_glob_narrow_the_search() {
    let tree = project();
    let in_src = tree.tools.search("main", Some("src"), None).unwrap();
    assert_eq!(in_src.count, 2);
    let one_file = tree
        .tools
        .search("main", Some("src/main.rs"), None)
        .unwrap();
    assert_eq!(one_file.text, "src/main.rs:1:fn main() {");
    let globbed = tree.tools.search("main", None, Some("tests/*.rs")).unwrap();
    assert_eq!(globbed.text, "tests/t.rs:2:fn main_works() {}");
}

#[test]
fn no_match_is_a_result_not_an_error() {
    let tree = project();
    let found = tree
        .tools
        .search("nowhere_to_be_found", None, None)
        .unwrap();
    assert_eq!(found.count, 0);
    assert_eq!(found.text, "no matches for \"nowhere_to_be_found\"");
}

#[test]
fn an_invalid_regex_is_an_error_with_the_regex_error() {
    let tree = project();
    let err = tree.tools.search("fn (main", None, None).unwrap_err();
    let ToolError::InvalidRegex { pattern, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(pattern, "fn (main");
    assert!(message.contains("unclosed group"), "{message}");
    assert_eq!(err.short(), "invalid regex");
}

#[test]
fn binary_files_are_skipped() {
    let tree = project();
    std::fs::write(tree.root.join("blob.bin"), b"\0\0\0fn main\0").unwrap();
    let found = tree.tools.search("fn main", None, Some("*.bin")).unwrap();
    assert_eq!(found.count, 0);
}

#[test]
fn many_matches_are_capped_and_long_lines_cut() {
    let tree = Tree::default();
    let long = format!("hit {}", "x".repeat(SEARCH_LINE_CHARS_CAP + 50));
    let body: String = (0..SEARCH_CAP + 7).map(|_| format!("{long}\n")).collect();
    tree.write("big.txt", &body);
    let found = tree.tools.search("^hit", None, None).unwrap();
    assert_eq!(found.count, SEARCH_CAP + 7);
    let lines: Vec<&str> = found.text.lines().collect();
    assert_eq!(lines.len(), SEARCH_CAP + 1);
    let expected_first = format!(
        "big.txt:1:hit {}… [line cut: 54 more characters]",
        "x".repeat(SEARCH_LINE_CHARS_CAP - 4)
    );
    assert_eq!(lines[0], expected_first);
    assert_eq!(
        lines[SEARCH_CAP],
        format!(
            "[7 more matching lines not shown: the result is capped at {SEARCH_CAP}; narrow it with path or glob]"
        )
    );
}

#[test]
fn the_git_directory_is_never_searched() {
    let tree = project().git_init();
    let found = tree
        .tools
        .search("repositoryformatversion", None, None)
        .unwrap();
    assert_eq!(found.count, 0, "{}", found.text);
}

#[test]
fn a_line_over_the_heap_limit_skips_its_file_and_says_so() {
    let tree = project();
    let mut huge = "x".repeat(agentls_tools::SEARCH_HEAP_LIMIT + 1024);
    huge.push_str(" needle\n");
    tree.write("bundle.min.js", &huge);
    tree.write("src/needle.rs", "// needle\n");
    let found = tree.tools.search("needle", None, None).unwrap();
    assert_eq!(
        found.text,
        "src/needle.rs:1:// needle\n\
         [not searched (1 file with a line over 8 MiB or unreadable): bundle.min.js]"
    );
}

#[test]
fn non_utf8_lines_match_with_replacement_characters_and_newline_patterns_are_refused() {
    let tree = project();
    std::fs::write(tree.root.join("latin1.txt"), b"caf\xe9 needle\n").unwrap();
    let found = tree
        .tools
        .search("needle", Some("latin1.txt"), None)
        .unwrap();
    assert_eq!(found.text, "latin1.txt:1:caf\u{fffd} needle");
    let err = tree.tools.search("a\\nb", None, None).unwrap_err();
    assert_eq!(err.short(), "invalid regex");
    assert!(err.to_string().contains("\\n"), "{err}");
}
