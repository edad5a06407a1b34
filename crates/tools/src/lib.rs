//! agentls-tools: the built-in tools of `agent` steps (docs/architecture.md,
//! "crates/tools").
//!
//! What the model is offered ([`spec`]), how its calls are checked
//! ([`parse`] into an [`Invocation`]), the looking tools over a working
//! tree ([`Tools::read_file`], [`Tools::list_files`], [`Tools::search`],
//! or [`Tools::look`] for any of them),
//! the changing ones as plans ([`Tools::plan_edit`], [`Tools::plan_write`]:
//! the new text and its diff, applied by the caller), the text a command's
//! result becomes ([`format_command_result`]), the one-line summaries of the
//! live view ([`summary`], and [`activity`] while a call runs) and the `allow` rules ([`Allow`]).
//!
//! Architecture invariant: every path goes through `agentls_edit`'s guard
//! (never outside the root, never through a symlink that leads out, never
//! into `.git`), and this crate never writes a file or starts a process. It
//! knows nothing of LSP, the store or the engine: the engine decides whether
//! a call may run, applies planned edits through its guarded edit path and
//! runs commands through `agentls-exec`.

mod allow;
mod command;
mod edit;
mod error;
mod limits;
mod look;
mod name;
mod parse;
mod read;
mod search;
mod spec;
mod summary;
mod walk;

use std::path::{Path, PathBuf};

use agentls_edit::Workspace;

pub use allow::Allow;
pub use command::format_command_result;
pub use edit::Planned;
pub use error::{Refusal, ToolError};
pub use limits::*;
pub use look::Done;
pub use name::{ToolName, UnknownTool};
pub use parse::{parse, parse_enabled, Invocation};
pub use spec::{spec, specs};
pub use summary::{activity, summary, Outcome};
pub use walk::Found;

/// The tools over one working tree (the run's: the workspace folder, or its
/// worktree when the run is isolated).
#[derive(Debug, Clone)]
pub struct Tools {
    workspace: Workspace,
}

/// A path that passed the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Relative to the root, normalised, `/`-separated; empty for the root
    /// itself. What results and summaries show.
    pub rel: String,
    /// Where it really is (symlinks inside the root followed), to find an
    /// open document or to hand to the edit path.
    pub abs: PathBuf,
}

impl Tools {
    /// Tools confined to `root`, an existing directory.
    pub fn new(root: &Path) -> Result<Tools, ToolError> {
        let workspace = Workspace::new(root).map_err(|err| ToolError::Io {
            op: "use the working tree",
            path: root.display().to_string(),
            message: err.to_string(),
        })?;
        Ok(Tools { workspace })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        self.workspace.root()
    }

    /// Where `path` (as a model wrote it) is, or why it is refused. The
    /// same guard for reads and writes; a path that does not exist yet
    /// passes (a write may create it; a read then finds nothing).
    pub fn locate(&self, path: &str) -> Result<Located, ToolError> {
        let resolved = self
            .workspace
            .locate(path)
            .map_err(|err| ToolError::from_edit(path, err))?;
        Ok(Located {
            rel: slashed(&resolved.rel),
            abs: resolved.abs,
        })
    }

    /// A directory argument: none, empty, `.` or `./` is the root; a
    /// trailing `/` is allowed.
    fn locate_dir(&self, path: Option<&str>) -> Result<Located, ToolError> {
        let trimmed = path.unwrap_or("").trim_end_matches('/');
        if matches!(trimmed, "" | ".") {
            if path.is_some_and(|path| path.starts_with('/')) {
                // "/" is the file system's root, not the working tree's.
                return Err(ToolError::Refused {
                    path: path.unwrap_or_default().to_owned(),
                    why: Refusal::Outside,
                });
            }
            return Ok(Located {
                rel: String::new(),
                abs: self.root().to_path_buf(),
            });
        }
        match self.locate(trimmed) {
            // An absolute path that names the root itself.
            Err(ToolError::Refused {
                why: Refusal::Empty,
                ..
            }) => Ok(Located {
                rel: String::new(),
                abs: self.root().to_path_buf(),
            }),
            other => other,
        }
    }
}

/// `a/b` on every platform: models and allow rules speak `/`.
fn slashed(path: &Path) -> String {
    path.components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
