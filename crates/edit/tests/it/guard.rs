//! The path guard, through every public entry point that takes a path.

use std::os::unix::fs::symlink;
use std::path::Path;

use agentls_edit::{EditError, LineCol, TextRange};

use crate::Sandbox;

const PATCH_TO: &str = "--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+pwned\n";

fn patch_creating(path: &str) -> String {
    PATCH_TO.replace("{path}", path)
}

/// `path` is refused by resolve, write_file, replace_range and apply_patch,
/// and nothing changes inside or outside the workspace.
fn refused_everywhere(sb: &Sandbox, path: &str) -> EditError {
    let before = sb.tree();
    let err = sb.ws.resolve(path).expect_err(path);
    sb.ws.write_file(path, "pwned\n").expect_err(path);
    let range = TextRange::LineCol {
        start: LineCol::new(0, 0),
        end: LineCol::new(0, 0),
    };
    sb.ws.replace_range(path, range, "pwned").expect_err(path);
    sb.ws.apply_patch(&patch_creating(path)).expect_err(path);
    assert_eq!(sb.tree(), before, "workspace changed by {path}");
    sb.assert_outside_untouched();
    err
}

#[test]
fn dotdot_escaping_the_root_is_refused() {
    let sb = Sandbox::new();
    for path in ["../outside/secret.txt", "a/../../outside/secret.txt", ".."] {
        let err = refused_everywhere(&sb, path);
        assert!(
            matches!(err, EditError::OutsideWorkspace { .. }),
            "{path}: {err}"
        );
    }
}

#[test]
fn dotdot_staying_inside_is_normalised() {
    let sb = Sandbox::new();
    let change = sb.ws.write_file("a/../b/./c.txt", "x").unwrap();
    assert_eq!(change.path, Path::new("b/c.txt"));
    assert_eq!(sb.get("b/c.txt"), "x");
}

#[test]
fn absolute_paths_outside_are_refused_and_inside_accepted() {
    let sb = Sandbox::new();
    let secret = sb.outside.join("secret.txt");
    for path in ["/etc/passwd", secret.to_str().unwrap()] {
        let err = refused_everywhere(&sb, path);
        assert!(
            matches!(err, EditError::OutsideWorkspace { .. }),
            "{path}: {err}"
        );
    }
    let inside = sb.root.join("sub/new.txt");
    let change = sb.ws.write_file(inside.to_str().unwrap(), "ok\n").unwrap();
    assert_eq!(change.path, Path::new("sub/new.txt"));
    assert_eq!(sb.get("sub/new.txt"), "ok\n");
}

#[test]
fn symlinked_directory_leading_outside_is_refused_for_write_and_patch() {
    let sb = Sandbox::new();
    symlink(&sb.outside, sb.root.join("link")).unwrap();
    for path in ["link/secret.txt", "link/new.txt", "link/deeper/new.txt"] {
        let err = refused_everywhere(&sb, path);
        assert!(matches!(err, EditError::Symlink { .. }), "{path}: {err}");
    }
    let modify = "--- a/link/secret.txt\n+++ b/link/secret.txt\n@@ -1 +1 @@\n-secret\n+pwned\n";
    assert!(sb.ws.apply_patch(modify).is_err());
    sb.assert_outside_untouched();
}

#[test]
fn symlinked_file_leading_outside_is_refused_even_for_reading() {
    let sb = Sandbox::new();
    symlink(sb.outside.join("secret.txt"), sb.root.join("innocent.txt")).unwrap();
    refused_everywhere(&sb, "innocent.txt");
    assert!(sb.ws.read_file("innocent.txt").is_err());
}

#[test]
fn dangling_and_git_bound_symlinks_are_refused() {
    let sb = Sandbox::new();
    sb.put(".git/config", "[core]\n");
    symlink(sb.root.join("nowhere"), sb.root.join("dangling")).unwrap();
    symlink(sb.root.join(".git"), sb.root.join("gitdir")).unwrap();
    for path in ["dangling", "dangling/x", "gitdir/config", "gitdir/new"] {
        let err = refused_everywhere(&sb, path);
        assert!(matches!(err, EditError::Symlink { .. }), "{path}: {err}");
    }
}

#[test]
fn symlinks_inside_the_workspace_are_followed_and_kept() {
    let sb = Sandbox::new();
    sb.put("real/f.txt", "old\n");
    symlink(sb.root.join("real"), sb.root.join("alias")).unwrap();
    symlink("f.txt", sb.root.join("real/g.txt")).unwrap();
    sb.ws.write_file("alias/f.txt", "new\n").unwrap();
    assert_eq!(sb.get("real/f.txt"), "new\n");
    sb.ws.write_file("real/g.txt", "via link\n").unwrap();
    assert!(sb
        .root
        .join("real/g.txt")
        .symlink_metadata()
        .unwrap()
        .is_symlink());
    assert_eq!(sb.get("real/f.txt"), "via link\n");
}

#[test]
fn anything_inside_git_is_refused_at_any_depth() {
    let sb = Sandbox::new();
    sb.put(".git/config", "[core]\n");
    sb.put("sub/.git/HEAD", "ref: refs/heads/main\n");
    for path in [
        ".git/config",
        "sub/.git/HEAD",
        ".git",
        "a/.GIT/x",
        "./.git/hooks/pre-commit",
    ] {
        let err = refused_everywhere(&sb, path);
        assert!(matches!(err, EditError::InsideGit { .. }), "{path}: {err}");
    }
    // Names that only start with .git are ordinary files.
    sb.ws.write_file(".gitignore", "target\n").unwrap();
    sb.ws
        .write_file(".github/workflows/ci.yml", "on: push\n")
        .unwrap();
}

#[test]
fn empty_root_and_nul_paths_are_refused() {
    let sb = Sandbox::new();
    for path in ["", ".", "./", "a/.."] {
        let err = refused_everywhere(&sb, path);
        assert!(matches!(err, EditError::EmptyPath), "{path:?}: {err}");
    }
    let err = refused_everywhere(&sb, "a\0b");
    assert!(matches!(err, EditError::NulByte { .. }), "{err}");
}

#[test]
fn paths_naming_a_directory_are_refused_rather_than_written_as_a_file() {
    let sb = Sandbox::new();
    for path in ["sub/", "a/b/", "sub/.", "a/b/.."] {
        let err = refused_everywhere(&sb, path);
        assert!(
            matches!(err, EditError::TrailingSlash { .. }),
            "{path:?}: {err}"
        );
    }
    assert_eq!(
        sb.ws.write_file("sub/", "x").unwrap_err().to_string(),
        "path sub/ ends with `/`: name a file, not a directory"
    );
    assert!(!sb.exists("sub"), "no file named `sub` was written");
}

#[test]
fn new_nested_files_are_created_with_their_directories() {
    let sb = Sandbox::new();
    let resolved = sb.ws.resolve("x/y/z.txt").unwrap();
    assert_eq!(resolved, sb.ws.root().join("x/y/z.txt"));
    assert!(!sb.exists("x"), "resolve creates nothing");
    let changes = sb.ws.apply_patch(&patch_creating("x/y/z.txt")).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(sb.get("x/y/z.txt"), "pwned\n");
}

#[test]
fn workspace_root_must_be_an_existing_directory() {
    let sb = Sandbox::new();
    assert!(matches!(
        agentls_edit::Workspace::new(&sb.root.join("missing")),
        Err(EditError::Root { .. })
    ));
    sb.put("file", "");
    assert!(matches!(
        agentls_edit::Workspace::new(&sb.root.join("file")),
        Err(EditError::Root { .. })
    ));
}
