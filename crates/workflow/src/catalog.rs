//! Finding workflow files and merging the three sources.
//!
//! Owns the built-in workflows (embedded from `builtin/`), the user and
//! workspace folders, and the override rule: built-in < user < workspace, by
//! file stem. Reads files only; never writes, never runs anything, and does
//! not decide trust (a workspace workflow carries its [`Source`] hash so the
//! engine can).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{format_cli, Diagnostic, DiagnosticCode, LineIndex, Severity};
use crate::model::{Source, SourceKind, Workflow};
use crate::parse::{parse_with, Parsed};
use crate::template::Templates;

/// The built-in workflow files: name and TOML text.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("demo", include_str!("../builtin/demo.toml")),
    ("test", include_str!("../builtin/test.toml")),
    // These use a model (the configured default provider).
    ("explain", include_str!("../builtin/explain.toml")),
    ("refactor", include_str!("../builtin/refactor.toml")),
    (
        "fix-diagnostic",
        include_str!("../builtin/fix-diagnostic.toml"),
    ),
    ("write-tests", include_str!("../builtin/write-tests.toml")),
    ("fix-tests", include_str!("../builtin/fix-tests.toml")),
    (
        "commit-message",
        include_str!("../builtin/commit-message.toml"),
    ),
];

/// A workflow file with diagnostics (errors or only warnings).
#[derive(Debug, Clone)]
pub struct Problem {
    /// The workflow name (file stem).
    pub name: String,
    /// Which source the file belongs to.
    pub kind: SourceKind,
    /// The file; `builtin/<name>.toml` for built-ins.
    pub path: PathBuf,
    /// The text that was checked (empty when it could not be read).
    pub text: String,
    /// What is wrong, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Problem {
    /// Whether any diagnostic is an error (the workflow is then not loaded).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// One `path:line:col: severity: message` line per diagnostic.
    pub fn format_cli(&self) -> Vec<String> {
        let path = self.path.display().to_string();
        self.diagnostics
            .iter()
            .map(|d| format_cli(&path, &self.text, d))
            .collect()
    }
}

/// Every workflow visible to a workspace, and the files that had problems.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// By name, after overriding.
    pub workflows: BTreeMap<String, Workflow>,
    /// Files with diagnostics, in load order (built-in, user, workspace).
    pub problems: Vec<Problem>,
}

impl Catalog {
    /// The workflow called `name`.
    pub fn get(&self, name: &str) -> Option<&Workflow> {
        self.workflows.get(name)
    }

    /// Whether any file has an error (`agentls check` exits 1 then).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::has_errors)
    }

    /// Add one parsed file. A file with errors removes any lower-priority
    /// workflow of the same name: the author meant to replace it, and running
    /// the old one instead would surprise them.
    fn add(&mut self, name: &str, kind: SourceKind, path: PathBuf, parsed: Parsed, text: String) {
        match parsed.workflow {
            Some(w) => {
                self.workflows.insert(name.to_owned(), w);
            }
            None => {
                self.workflows.remove(name);
            }
        }
        if !parsed.diagnostics.is_empty() {
            self.problems.push(Problem {
                name: name.to_owned(),
                kind,
                path,
                text,
                diagnostics: parsed.diagnostics,
            });
        }
    }
}

/// The built-in workflows, parsed.
pub fn builtins() -> Vec<Workflow> {
    let templates = Templates::new();
    BUILTIN_FILES
        .iter()
        .filter_map(|(name, text)| {
            parse_with(
                name,
                Source::new(SourceKind::Builtin, None, *text),
                &templates,
            )
            .workflow
        })
        .collect()
}

/// `$XDG_CONFIG_HOME/agentls/workflows`, else `$HOME/.config/agentls/workflows`.
pub fn default_user_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("agentls").join("workflows"))
}

/// `<root>/.agentls/workflows`.
pub fn workspace_dir(root: &Path) -> PathBuf {
    root.join(".agentls").join("workflows")
}

/// Which source a file belongs to if it is a workflow file: a `*.toml`
/// directly in the workspace or user workflow folder.
pub fn classify_path(
    path: &Path,
    workspace_root: Option<&Path>,
    user_dir: Option<&Path>,
) -> Option<SourceKind> {
    if path.extension()? != "toml" {
        return None;
    }
    let parent = path.parent()?;
    if workspace_root.is_some_and(|root| parent == workspace_dir(root)) {
        Some(SourceKind::Workspace)
    } else if user_dir.is_some_and(|dir| parent == dir) {
        Some(SourceKind::User)
    } else {
        None
    }
}

/// Load built-ins, then `user_dir`, then the workspace's `.agentls/workflows`,
/// each overriding the previous by file stem. Missing folders are fine;
/// unreadable files become problems.
pub fn load_all(workspace: Option<&Path>, user_dir: Option<&Path>) -> Catalog {
    let templates = Templates::new();
    let mut catalog = Catalog::default();
    for (name, text) in BUILTIN_FILES {
        let parsed = parse_with(
            name,
            Source::new(SourceKind::Builtin, None, *text),
            &templates,
        );
        let path = PathBuf::from(format!("builtin/{name}.toml"));
        catalog.add(name, SourceKind::Builtin, path, parsed, (*text).to_owned());
    }
    let dirs = [
        (user_dir.map(Path::to_path_buf), SourceKind::User),
        (workspace.map(workspace_dir), SourceKind::Workspace),
    ];
    for (dir, kind) in dirs {
        let Some(dir) = dir else { continue };
        for path in toml_files(&dir, kind, &mut catalog) {
            load_file(&path, kind, &templates, &mut catalog);
        }
    }
    catalog
}

/// The `*.toml` files directly in `dir`, sorted; a folder that exists but
/// cannot be listed is a problem, a missing one is not.
fn toml_files(dir: &Path, kind: SourceKind, catalog: &mut Catalog) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            catalog
                .problems
                .push(io_problem(String::new(), kind, dir, &e));
            return Vec::new();
        }
    };
    // Everything named `*.toml` but a directory: a FIFO or a device there is
    // reported by the reader rather than skipped without a word.
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.is_dir())
        .collect();
    files.sort();
    files
}

fn load_file(path: &Path, kind: SourceKind, templates: &Templates, catalog: &mut Catalog) {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match agentls_files::read_to_string(path, agentls_files::Limit::WORKFLOW) {
        Ok(text) => {
            let source = Source::new(kind, Some(path.to_path_buf()), text.clone());
            let parsed = parse_with(&name, source, templates);
            catalog.add(&name, kind, path.to_path_buf(), parsed, text);
        }
        Err(e) => {
            catalog.workflows.remove(&name);
            catalog.problems.push(read_problem(name, kind, path, &e));
        }
    }
}

fn read_problem(
    name: String,
    kind: SourceKind,
    path: &Path,
    e: &agentls_files::ReadError,
) -> Problem {
    let message = match e {
        agentls_files::ReadError::NotText { .. } => {
            "cannot read the file: it is not valid UTF-8".to_owned()
        }
        e => format!("cannot read: {}", e.reason()),
    };
    problem(name, kind, path, message)
}

fn io_problem(name: String, kind: SourceKind, path: &Path, e: &std::io::Error) -> Problem {
    problem(name, kind, path, format!("cannot read: {e}"))
}

fn problem(name: String, kind: SourceKind, path: &Path, message: String) -> Problem {
    Problem {
        name,
        kind,
        path: path.to_path_buf(),
        text: String::new(),
        diagnostics: vec![Diagnostic {
            severity: Severity::Error,
            code: DiagnosticCode::Io,
            message,
            range: LineIndex::new("").range(0..0),
        }],
    }
}
