//! Every way out of the working tree is refused, for reads as for writes,
//! with a message the model can act on, and nothing is written.

use std::os::unix::fs::symlink;

use agentls_tools::{Refusal, ToolError};

use crate::Tree;

fn tree_with_escapes() -> Tree {
    let tree = Tree::default()
        .git_init()
        .with(&[("src/lib.rs", "fn main() {}\n")]);
    symlink(tree.outside.join("secret.txt"), tree.root.join("leak.txt")).unwrap();
    symlink(&tree.outside, tree.root.join("out")).unwrap();
    tree
}

/// The paths a model might try, with the refusal each gets.
fn escapes(tree: &Tree) -> Vec<(String, &'static str)> {
    vec![
        ("../outside/secret.txt".into(), "outside the workspace"),
        (
            "src/../../outside/secret.txt".into(),
            "outside the workspace",
        ),
        (
            tree.outside.join("secret.txt").display().to_string(),
            "outside the workspace",
        ),
        ("/etc/passwd".into(), "outside the workspace"),
        ("leak.txt".into(), "symlink leads outside the workspace"),
        (
            "out/secret.txt".into(),
            "symlink leads outside the workspace",
        ),
        (".git/config".into(), "inside .git"),
        ("src/../.GIT/config".into(), "inside .git"),
    ]
}

#[test]
fn reads_outside_the_tree_are_refused_with_a_reason() {
    let tree = tree_with_escapes();
    for (path, short) in escapes(&tree) {
        let err = tree.tools.read_file(&path, None, None, None).unwrap_err();
        assert!(matches!(err, ToolError::Refused { .. }), "{path}: {err:?}");
        assert_eq!(err.short(), format!("refused ({short})"), "{path}");
        let text = err.to_string();
        assert!(text.contains(&path), "names the path: {text}");
        assert!(!text.contains("outside secret"), "{text}");
    }
}

#[test]
fn writes_outside_the_tree_are_refused_and_nothing_is_written() {
    let tree = tree_with_escapes();
    let before = tree.snapshot();
    for (path, short) in escapes(&tree) {
        let err = tree.tools.check_write(&path).unwrap_err();
        assert_eq!(err.short(), format!("refused ({short})"), "{path}");
        let err = tree.tools.plan_write(&path, "pwned\n", None).unwrap_err();
        assert_eq!(err.short(), format!("refused ({short})"), "{path}");
        let err = tree
            .tools
            .plan_edit(&path, "outside", "pwned", "outside secret\n")
            .unwrap_err();
        assert_eq!(err.short(), format!("refused ({short})"), "{path}");
    }
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn the_refusal_text_tells_the_model_what_to_do() {
    let tree = tree_with_escapes();
    let err = tree
        .tools
        .read_file("../outside/secret.txt", None, None, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "path ../outside/secret.txt is refused: it is outside the workspace; the tools only \
         reach files inside the working tree, with paths relative to it"
    );
    let err = tree.tools.check_write("leak.txt").unwrap_err();
    assert_eq!(
        err,
        ToolError::Refused {
            path: "leak.txt".into(),
            why: Refusal::Symlink {
                link: "leak.txt".into(),
                reason: "leads outside the workspace"
            }
        }
    );
    assert_eq!(
        err.to_string(),
        "path leak.txt is refused: it goes through the symbolic link leak.txt, which leads \
         outside the workspace"
    );
}

#[test]
fn listing_and_search_refuse_directories_outside_the_tree() {
    let tree = tree_with_escapes();
    for path in ["..", "../outside", "out", ".git", "/"] {
        let err = tree.tools.list_files(Some(path), None).unwrap_err();
        assert!(matches!(err, ToolError::Refused { .. }), "{path}: {err:?}");
        let err = tree.tools.search("secret", Some(path), None).unwrap_err();
        assert!(matches!(err, ToolError::Refused { .. }), "{path}: {err:?}");
    }
}

#[test]
fn the_open_text_of_a_refused_path_is_not_shown() {
    // The guard runs before the editor's text is looked at.
    let tree = tree_with_escapes();
    let err = tree
        .tools
        .read_file(".git/config", None, None, Some("[core]\n"))
        .unwrap_err();
    assert_eq!(err.short(), "refused (inside .git)");
}

#[test]
fn symlinks_inside_the_tree_are_followed() {
    let tree = tree_with_escapes();
    symlink(tree.root.join("src"), tree.root.join("code")).unwrap();
    let text = tree
        .tools
        .read_file("code/lib.rs", None, None, None)
        .unwrap();
    assert_eq!(text, "     1\tfn main() {}");
    assert_eq!(
        tree.tools.check_write("code/new.rs").unwrap(),
        "code/new.rs"
    );
}
