//! The git side of worktree isolation, against real repositories.

use std::path::Path;
use std::process::Command;

use agentls_worktree::{Repo, WorktreeError};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A repository with one commit (`a.txt`, `gone.txt`, `.gitignore`), then
/// uncommitted work: `a.txt` modified, `gone.txt` deleted, `new.txt`
/// untracked, `build.log` ignored.
fn repo_with_uncommitted_work(dir: &Path) {
    git(dir, &["init", "--quiet", "-b", "main"]);
    std::fs::write(dir.join("a.txt"), "one\ntwo\n").unwrap();
    std::fs::write(dir.join("gone.txt"), "bye\n").unwrap();
    std::fs::write(dir.join(".gitignore"), "*.log\n").unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "-m", "first"]);
    std::fs::write(dir.join("a.txt"), "one\ntwo\nthree\n").unwrap();
    std::fs::remove_file(dir.join("gone.txt")).unwrap();
    std::fs::write(dir.join("new.txt"), "fresh\n").unwrap();
    std::fs::write(dir.join("build.log"), "noise\n").unwrap();
}

#[test]
fn the_worktree_holds_head_plus_uncommitted_work_and_leaves_the_user_alone() {
    let user = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    repo_with_uncommitted_work(user.path());
    let status_before = git(user.path(), &["status", "--porcelain"]);
    let head = git(user.path(), &["rev-parse", "HEAD"]).trim().to_string();

    let repo = Repo::discover(user.path()).unwrap();
    let dest = state.path().join("worktrees/r1");
    let made = repo.create(&dest, "agentls/r1", "snapshot").unwrap();

    assert_eq!(made.head.as_deref(), Some(head.as_str()));
    assert_ne!(made.base, head, "uncommitted work makes its own commit");
    assert_eq!(made.root, dest);
    assert_eq!(
        std::fs::read_to_string(dest.join("a.txt")).unwrap(),
        "one\ntwo\nthree\n"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("new.txt")).unwrap(),
        "fresh\n"
    );
    assert!(!dest.join("gone.txt").exists());
    assert!(
        !dest.join("build.log").exists(),
        "ignored files stay behind"
    );
    assert_eq!(git(user.path(), &["status", "--porcelain"]), status_before);
    assert_eq!(git(user.path(), &["rev-parse", "HEAD"]).trim(), head);
    assert_eq!(repo.branches("agentls/").unwrap(), ["agentls/r1"]);
    assert_eq!(
        repo.diff(&dest, &made.base).unwrap(),
        "",
        "nothing changed yet"
    );
}

#[test]
fn the_diff_has_new_changed_and_deleted_files_against_the_base() {
    let user = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    repo_with_uncommitted_work(user.path());
    let repo = Repo::discover(user.path()).unwrap();
    let dest = state.path().join("r2");
    let made = repo.create(&dest, "agentls/r2", "snapshot").unwrap();

    std::fs::write(dest.join("a.txt"), "one\nTWO\nthree\n").unwrap();
    std::fs::write(dest.join("added.txt"), "hello\n").unwrap();
    std::fs::remove_file(dest.join("new.txt")).unwrap();
    std::fs::write(dest.join("x.log"), "ignored\n").unwrap();
    let patch = repo.diff(&dest, &made.base).unwrap();

    let files: Vec<&str> = patch
        .lines()
        .filter(|l| l.starts_with("diff --git"))
        .collect();
    assert_eq!(
        files,
        [
            "diff --git a/a.txt b/a.txt",
            "diff --git a/added.txt b/added.txt",
            "diff --git a/new.txt b/new.txt",
        ]
    );
    assert!(patch.contains("-two\n+TWO\n"), "{patch}");
    assert!(patch.contains("--- /dev/null\n+++ b/added.txt"), "{patch}");
    assert!(patch.contains("--- a/new.txt\n+++ /dev/null"), "{patch}");
    // The user's index never saw any of it.
    assert_eq!(git(user.path(), &["diff", "--cached", "--name-only"]), "");
}

#[test]
fn remove_leaves_no_worktree_branch_or_directory() {
    let user = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    repo_with_uncommitted_work(user.path());
    let repo = Repo::discover(user.path()).unwrap();
    let dest = state.path().join("r3");
    repo.create(&dest, "agentls/r3", "snapshot").unwrap();
    std::fs::write(dest.join("dirty.txt"), "x\n").unwrap();

    repo.remove(&dest, "agentls/r3").unwrap();

    assert!(!dest.exists());
    assert_eq!(repo.branches("agentls/").unwrap(), Vec::<String>::new());
    let list = git(user.path(), &["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 1, "{list}");
    // Removing again (a sweep after a crash) is fine.
    repo.remove(&dest, "agentls/r3").unwrap();
}

#[test]
fn a_directory_whose_worktree_git_forgot_is_removed_too() {
    let user = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    repo_with_uncommitted_work(user.path());
    let repo = Repo::discover(user.path()).unwrap();
    let dest = state.path().join("r4");
    std::fs::create_dir_all(dest.join("half")).unwrap();
    repo.remove(&dest, "agentls/r4").unwrap();
    assert!(!dest.exists());
}

#[test]
fn a_repository_without_commits_can_be_isolated() {
    let user = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    git(user.path(), &["init", "--quiet"]);
    std::fs::write(user.path().join("a.txt"), "a\n").unwrap();
    let repo = Repo::discover(user.path()).unwrap();
    let made = repo
        .create(&state.path().join("r5"), "agentls/r5", "snapshot")
        .unwrap();
    assert_eq!(made.head, None);
    assert_eq!(
        std::fs::read_to_string(state.path().join("r5/a.txt")).unwrap(),
        "a\n"
    );
}

#[test]
fn a_workspace_in_a_subdirectory_diffs_relative_to_it() {
    let user = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    repo_with_uncommitted_work(user.path());
    std::fs::create_dir(user.path().join("sub")).unwrap();
    std::fs::write(user.path().join("sub/s.txt"), "s\n").unwrap();
    let repo = Repo::discover(&user.path().join("sub")).unwrap();
    let dest = state.path().join("r6");
    let made = repo.create(&dest, "agentls/r6", "snapshot").unwrap();
    assert_eq!(made.root, dest.join("sub/"));
    std::fs::write(made.root.join("s.txt"), "S\n").unwrap();
    std::fs::write(dest.join("a.txt"), "outside the workspace\n").unwrap();
    let patch = repo.diff(&dest, &made.base).unwrap();
    assert!(patch.starts_with("diff --git a/s.txt b/s.txt\n"), "{patch}");
    assert!(!patch.contains("a.txt"), "{patch}");
}

#[test]
fn a_plain_directory_is_not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let err = Repo::discover(dir.path()).unwrap_err();
    assert!(matches!(err, WorktreeError::NotARepo { .. }), "{err}");
    assert!(
        err.to_string().contains("not inside a git repository"),
        "{err}"
    );
}
