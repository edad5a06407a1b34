//! Opening a workspace from a shell: the same `Session` the editor gets, so
//! the CLI and the editor run the same engine with the same configuration.

use std::path::{Path, PathBuf};

use agentls_engine::{Engine, RunId};

use super::Fail;
use crate::session::Session;

pub struct CliWorkspace {
    pub root: PathBuf,
    pub session: Session,
}

impl CliWorkspace {
    /// The workspace at `dir` (default: the current directory). A broken
    /// config file is a configuration error (exit 2), with its position.
    pub fn open(dir: Option<&Path>) -> Result<Self, Fail> {
        let dir = match dir {
            Some(dir) => dir.to_path_buf(),
            None => std::env::current_dir()
                .map_err(|e| Fail::usage(format!("no current directory: {e}")))?,
        };
        let root = dir
            .canonicalize()
            .map_err(|e| Fail::usage(format!("workspace {}: {e}", dir.display())))?;
        if !root.is_dir() {
            return Err(Fail::usage(format!(
                "workspace {} is not a directory",
                root.display()
            )));
        }
        let session = Session::new(Some(root.clone()), None, None);
        let broken: Vec<String> = session
            .config_files()
            .iter()
            .filter_map(|f| {
                let err = f.error.as_ref()?;
                let line = err
                    .span
                    .clone()
                    .map(|s| f.text[..s.start.min(f.text.len())].matches('\n').count() + 1)
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default();
                Some(format!("{}{line}: {}", f.path.display(), err.message))
            })
            .collect();
        if !broken.is_empty() {
            return Err(Fail::usage(format!(
                "configuration error:\n  {}",
                broken.join("\n  ")
            )));
        }
        Ok(Self { root, session })
    }

    pub fn engine(&self) -> Result<Engine, Fail> {
        self.session.engine().map_err(Fail::usage)
    }

    /// A run id from a unique prefix.
    pub fn resolve(&self, engine: &Engine, prefix: &str) -> Result<RunId, Fail> {
        engine
            .store()
            .resolve_run(prefix)
            .map_err(|e| Fail::usage(e.to_string()))
    }
}
