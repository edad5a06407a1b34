//! list_files: ripgrep's walker, .gitignore honoured (with or without a
//! repository), `.git` never listed, sorted, capped.

use agentls_tools::{ToolError, LIST_CAP};

use crate::Tree;

fn project() -> Tree {
    Tree::default().with(&[
        (".gitignore", "target/\n*.log\n"),
        ("src/lib.rs", "pub fn lib() {}\n"),
        ("src/main.rs", "fn main() {}\n"),
        ("src/deep/mod.rs", "// deep\n"),
        ("src/deep/.gitignore", "generated.rs\n"),
        ("src/deep/generated.rs", "// generated\n"),
        ("target/debug/out.rs", "// built\n"),
        ("debug.log", "log\n"),
        (".github/workflows/ci.yml", "on: push\n"),
        ("README.md", "# hi\n"),
    ])
}

const LISTED: &str = "\
.github/workflows/ci.yml
.gitignore
README.md
src/deep/.gitignore
src/deep/mod.rs
src/lib.rs
src/main.rs";

#[test]
fn gitignore_is_honoured_in_a_repository_and_git_is_never_listed() {
    let tree = project().git_init();
    assert!(tree.root.join(".git/config").exists());
    let found = tree.tools.list_files(None, None).unwrap();
    assert_eq!(found.text, LISTED);
    assert_eq!(found.count, 7);
}

#[test]
fn gitignore_is_honoured_without_a_repository_too() {
    let tree = project();
    let found = tree.tools.list_files(None, None).unwrap();
    assert_eq!(found.text, LISTED);
}

#[test]
fn a_subdirectory_keeps_the_ignore_rules_of_the_directories_above_it() {
    let tree = project().with(&[("src/debug.log", "ignored by the root's *.log\n")]);
    let found = tree.tools.list_files(Some("src/"), None).unwrap();
    assert_eq!(
        found.text,
        "src/deep/.gitignore\nsrc/deep/mod.rs\nsrc/lib.rs\nsrc/main.rs"
    );
    let found = tree.tools.list_files(Some("./src/deep"), None).unwrap();
    assert_eq!(found.text, "src/deep/.gitignore\nsrc/deep/mod.rs");
}

#[test]
fn a_git_directory_at_any_depth_and_a_git_file_are_never_listed() {
    let tree = project().with(&[
        ("vendor/lib/.git/HEAD", "ref: refs/heads/main\n"),
        ("vendor/lib/a.c", "int a;\n"),
        ("sub/.git", "gitdir: ../.git/worktrees/sub\n"),
        ("sub/b.c", "int b;\n"),
    ]);
    let found = tree.tools.list_files(Some("vendor"), None).unwrap();
    assert_eq!(found.text, "vendor/lib/a.c");
    let found = tree.tools.list_files(Some("sub"), None).unwrap();
    assert_eq!(found.text, "sub/b.c");
}

#[test]
fn a_glob_without_a_slash_matches_names_and_one_with_a_slash_matches_paths() {
    let tree = project();
    let by_name = tree.tools.list_files(None, Some("*.rs")).unwrap();
    assert_eq!(by_name.text, "src/deep/mod.rs\nsrc/lib.rs\nsrc/main.rs");
    let by_path = tree.tools.list_files(None, Some("src/*.rs")).unwrap();
    assert_eq!(by_path.text, "src/lib.rs\nsrc/main.rs");
    let deep = tree.tools.list_files(None, Some("src/**/*.rs")).unwrap();
    assert_eq!(deep.text, "src/deep/mod.rs\nsrc/lib.rs\nsrc/main.rs");
    // A glob never brings back an ignored file.
    let logs = tree.tools.list_files(None, Some("*.log")).unwrap();
    assert_eq!(logs.count, 0);
    assert_eq!(logs.text, "no files found under .");
}

#[test]
fn an_invalid_glob_and_a_missing_directory_are_errors_for_the_model() {
    let tree = project();
    let err = tree.tools.list_files(None, Some("src/[")).unwrap_err();
    assert!(matches!(err, ToolError::InvalidGlob { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("invalid glob \"src/[\": "),
        "{err}"
    );
    let err = tree.tools.list_files(Some("nope"), None).unwrap_err();
    assert_eq!(
        err,
        ToolError::NotFound {
            path: "nope".into()
        }
    );
}

#[test]
fn a_long_list_is_capped_and_says_how_many_more() {
    let tree = Tree::default();
    let total = LIST_CAP + 25;
    for i in 0..total {
        tree.write(&format!("many/f{i:05}.txt"), "");
    }
    let found = tree.tools.list_files(Some("many"), None).unwrap();
    assert_eq!(found.count, total);
    let lines: Vec<&str> = found.text.lines().collect();
    assert_eq!(lines.len(), LIST_CAP + 1);
    assert_eq!(lines[0], "many/f00000.txt");
    assert_eq!(
        lines[LIST_CAP - 1],
        format!("many/f{:05}.txt", LIST_CAP - 1)
    );
    assert_eq!(
        lines[LIST_CAP],
        format!(
            "[25 more not shown: the list is capped at {LIST_CAP} paths; narrow it with path or glob]"
        )
    );
}

#[test]
fn symlinks_are_neither_listed_nor_followed() {
    let tree = project();
    std::os::unix::fs::symlink(&tree.outside, tree.root.join("src/out")).unwrap();
    std::os::unix::fs::symlink(tree.root.join("src/lib.rs"), tree.root.join("src/alias.rs"))
        .unwrap();
    let found = tree.tools.list_files(Some("src"), None).unwrap();
    assert!(!found.text.contains("secret"), "{}", found.text);
    assert!(!found.text.contains("alias"), "{}", found.text);
}

#[test]
fn an_ignored_directory_that_is_named_is_listed_and_says_so() {
    let tree = project().with(&[
        ("target/debug/.gitignore", "*.d\n"),
        ("target/debug/x.d", ""),
    ]);
    let found = tree.tools.list_files(Some("target/debug"), None).unwrap();
    assert_eq!(
        found.text,
        "target/debug/.gitignore\ntarget/debug/out.rs\n\
         [target/debug is ignored (.gitignore or .ignore); shown because it was named]"
    );
    assert_eq!(found.count, 2);
    let found = tree.tools.search("built", Some("target"), None).unwrap();
    assert_eq!(
        found.text,
        "target/debug/out.rs:1:// built\n\
         [target is ignored (.gitignore or .ignore); shown because it was named]"
    );
    // A named file that is ignored is searched too.
    let found = tree.tools.search("log", Some("debug.log"), None).unwrap();
    assert_eq!(found.count, 1);
}
