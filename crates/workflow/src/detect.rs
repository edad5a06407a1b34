//! Guessing a project's test command from the files at its root.
//!
//! Owns only the guess; the built-in `test` workflow uses it through
//! `workspace.test_command`. Reads a few files, never runs anything.

use std::path::Path;

/// What npm writes into `scripts.test` of a fresh package.json: not a test suite.
const NPM_PLACEHOLDER: &str = "no test specified";

/// The test command for the project at `root`, checked in this order:
/// `Cargo.toml` → `cargo test`; `package.json` with a real `scripts.test` →
/// `npm test` (`pnpm test`, `yarn test` or `bun test` when that tool's lock
/// file is there); `pyproject.toml`, `setup.py` or `pytest.ini` →
/// `python3 -m pytest` (`python -m pytest` on Windows); `go.mod` →
/// `go test ./...`; a Makefile with a `test` target → `make test`.
pub fn detect_test_command(root: &Path) -> Option<String> {
    let has = |name: &str| root.join(name).is_file();
    if has("Cargo.toml") {
        return Some("cargo test".to_owned());
    }
    if let Some(cmd) = node_test(root) {
        return Some(cmd);
    }
    if has("pyproject.toml") || has("setup.py") || has("pytest.ini") {
        let python = if cfg!(windows) { "python" } else { "python3" };
        return Some(format!("{python} -m pytest"));
    }
    if has("go.mod") {
        return Some("go test ./...".to_owned());
    }
    for makefile in ["GNUmakefile", "Makefile", "makefile"] {
        let path = root.join(makefile);
        if let Ok(text) = agentls_files::read_to_string(&path, agentls_files::Limit::PROJECT) {
            if has_make_target(&text, "test") {
                return Some("make test".to_owned());
            }
        }
    }
    None
}

fn node_test(root: &Path) -> Option<String> {
    let path = root.join("package.json");
    let text = agentls_files::read_to_string(&path, agentls_files::Limit::PROJECT).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let script = json.get("scripts")?.get("test")?.as_str()?;
    if script.trim().is_empty() || script.contains(NPM_PLACEHOLDER) {
        return None;
    }
    let tool = [
        ("pnpm-lock.yaml", "pnpm"),
        ("yarn.lock", "yarn"),
        ("bun.lockb", "bun"),
        ("bun.lock", "bun"),
    ]
    .iter()
    .find(|(lock, _)| root.join(lock).is_file())
    .map_or("npm", |(_, tool)| tool);
    Some(format!("{tool} test"))
}

/// Whether a Makefile defines `target` as a rule (`test:` or `test check:`),
/// not as a variable (`test := ...`).
fn has_make_target(text: &str, target: &str) -> bool {
    text.lines().any(|line| {
        if line.starts_with(['\t', ' ', '#']) {
            return false;
        }
        let Some(colon) = line.find(':') else {
            return false;
        };
        if line[colon..].starts_with(":=") || line[..colon].contains('=') {
            return false;
        }
        line[..colon].split_whitespace().any(|t| t == target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn detect(files: &[(&str, &str)]) -> Option<String> {
        detect_test_command(dir_with(files).path())
    }

    #[test]
    fn cargo_project_uses_cargo_test() {
        assert_eq!(
            detect(&[("Cargo.toml", "[package]\n")]).as_deref(),
            Some("cargo test")
        );
    }

    #[test]
    fn cargo_wins_over_a_makefile() {
        let got = detect(&[
            ("Cargo.toml", ""),
            ("Makefile", "test:\n\tcargo nextest run\n"),
        ]);
        assert_eq!(got.as_deref(), Some("cargo test"));
    }

    #[test]
    fn package_json_needs_a_real_test_script() {
        let real = r#"{"scripts": {"test": "vitest run"}}"#;
        assert_eq!(
            detect(&[("package.json", real)]).as_deref(),
            Some("npm test")
        );
        let placeholder = r#"{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}}"#;
        assert_eq!(detect(&[("package.json", placeholder)]), None);
        assert_eq!(detect(&[("package.json", r#"{"name": "x"}"#)]), None);
        assert_eq!(detect(&[("package.json", "not json")]), None);
    }

    #[test]
    fn package_json_follows_the_lock_file() {
        let pkg = r#"{"scripts": {"test": "jest"}}"#;
        let got = detect(&[("package.json", pkg), ("pnpm-lock.yaml", "")]);
        assert_eq!(got.as_deref(), Some("pnpm test"));
        let got = detect(&[("package.json", pkg), ("yarn.lock", "")]);
        assert_eq!(got.as_deref(), Some("yarn test"));
    }

    #[test]
    fn python_project_uses_pytest() {
        let got = detect(&[("pyproject.toml", "[project]\nname = \"x\"\n")]);
        assert!(
            got.as_deref().is_some_and(|c| c.ends_with(" -m pytest")),
            "{got:?}"
        );
    }

    #[test]
    fn go_module_uses_go_test() {
        assert_eq!(
            detect(&[("go.mod", "module x\n")]).as_deref(),
            Some("go test ./...")
        );
    }

    #[test]
    fn makefile_needs_a_test_rule() {
        let rule = "all: build\n\ntest check: all\n\t./run-tests\n";
        assert_eq!(detect(&[("Makefile", rule)]).as_deref(), Some("make test"));
        let variable = "test := yes\nbuild:\n\tcc x.c\n";
        assert_eq!(detect(&[("Makefile", variable)]), None);
        let recipe_only = "build:\n\ttest -f x\n";
        assert_eq!(detect(&[("Makefile", recipe_only)]), None);
    }

    #[test]
    fn empty_folder_has_no_test_command() {
        assert_eq!(detect(&[]), None);
    }
}
