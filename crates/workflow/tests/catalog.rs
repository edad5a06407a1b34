//! Sources and their override order: built-in < user < workspace.

use std::fs;
use std::path::Path;

use agentls_workflow::{
    builtins, classify_path, load_all, workspace_dir, SourceKind, BUILTIN_FILES,
};

fn write(dir: &Path, name: &str, text: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), text).unwrap();
}

fn one_step(title: &str) -> String {
    format!("title = \"{title}\"\n[[steps]]\nid = \"a\"\nrun = \"echo\"\n")
}

#[test]
fn builtins_parse_cleanly() {
    assert_eq!(builtins().len(), BUILTIN_FILES.len());
    let catalog = load_all(None, None);
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    assert_eq!(
        catalog.get("test").unwrap().source.kind,
        SourceKind::Builtin
    );
    assert!(catalog.get("demo").is_some());
}

#[test]
fn workspace_overrides_user_overrides_builtin() {
    let user = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    write(user.path(), "test.toml", &one_step("user test"));
    write(user.path(), "mine.toml", &one_step("user mine"));
    write(
        &workspace_dir(ws.path()),
        "mine.toml",
        &one_step("workspace mine"),
    );
    write(&workspace_dir(ws.path()), "README.md", "not a workflow");

    let catalog = load_all(Some(ws.path()), Some(user.path()));
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    let test = catalog.get("test").unwrap();
    assert_eq!(test.title.as_deref(), Some("user test"));
    assert_eq!(test.source.kind, SourceKind::User);
    let mine = catalog.get("mine").unwrap();
    assert_eq!(mine.title.as_deref(), Some("workspace mine"));
    assert_eq!(mine.source.kind, SourceKind::Workspace);
    assert_eq!(
        mine.source.path.as_deref(),
        Some(workspace_dir(ws.path()).join("mine.toml").as_path())
    );
    assert_eq!(
        catalog.get("demo").unwrap().source.kind,
        SourceKind::Builtin
    );
    // Every built-in plus `mine`; `test` was overridden, not added.
    assert_eq!(catalog.workflows.len(), BUILTIN_FILES.len() + 1);
}

#[test]
fn a_broken_override_hides_the_workflow_and_is_reported() {
    let ws = tempfile::tempdir().unwrap();
    let text = "[[steps]]\nid = \"a\"\nrun = \"{{ steps.nope.output }}\"\n";
    write(&workspace_dir(ws.path()), "test.toml", text);
    let catalog = load_all(Some(ws.path()), None);
    assert!(
        catalog.get("test").is_none(),
        "the built-in must not run in its place"
    );
    assert!(catalog.has_errors());
    let problem = &catalog.problems[0];
    assert_eq!(problem.kind, SourceKind::Workspace);
    let path = workspace_dir(ws.path()).join("test.toml");
    assert_eq!(
        problem.format_cli(),
        [format!(
            "{}:3:11: error: step `a` refers to unknown step `nope` in `run`",
            path.display()
        )]
    );
}

#[test]
fn unreadable_files_are_problems_not_panics() {
    let ws = tempfile::tempdir().unwrap();
    let dir = workspace_dir(ws.path());
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("bin.toml"), [0xff, 0xfe, 0x00]).unwrap();
    let catalog = load_all(Some(ws.path()), None);
    assert!(catalog.get("bin").is_none());
    assert!(catalog.problems[0].diagnostics[0].message.contains("UTF-8"));
}

#[test]
fn missing_folders_are_fine() {
    let ws = tempfile::tempdir().unwrap();
    let catalog = load_all(Some(ws.path()), Some(&ws.path().join("nope")));
    assert!(!catalog.has_errors());
    assert_eq!(catalog.workflows.len(), BUILTIN_FILES.len());
}

#[test]
fn warnings_load_but_are_listed() {
    let ws = tempfile::tempdir().unwrap();
    let text = "[[steps]]\nid = \"a\"\nrun = \"x\"\npick = \"all\"\n";
    write(&workspace_dir(ws.path()), "w.toml", text);
    let catalog = load_all(Some(ws.path()), None);
    assert!(catalog.get("w").is_some());
    assert!(!catalog.has_errors());
    assert_eq!(catalog.problems.len(), 1);
}

#[test]
fn classify_path_knows_workflow_folders() {
    let ws = Path::new("/w");
    let user = Path::new("/home/u/.config/agentls/workflows");
    assert_eq!(
        classify_path(
            Path::new("/w/.agentls/workflows/fix.toml"),
            Some(ws),
            Some(user)
        ),
        Some(SourceKind::Workspace)
    );
    assert_eq!(
        classify_path(&user.join("x.toml"), Some(ws), Some(user)),
        Some(SourceKind::User)
    );
    assert_eq!(
        classify_path(Path::new("/w/Cargo.toml"), Some(ws), Some(user)),
        None
    );
    assert_eq!(
        classify_path(
            Path::new("/w/.agentls/workflows/sub/x.toml"),
            Some(ws),
            Some(user)
        ),
        None
    );
}
