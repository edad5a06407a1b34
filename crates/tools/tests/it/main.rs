//! Integration tests of agentls-tools on real directories: real files, real
//! symlinks, a real `git init` where git's own files matter. One binary, so
//! the crate links once.

mod allow;
mod command;
mod edit;
mod flow;
mod listing;
mod parse;
mod read;
mod refusals;
mod search;
mod summary;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use agentls_tools::Tools;
use tempfile::TempDir;

/// A temporary directory with a working tree `ws/` and, beside it,
/// `outside/secret.txt`, which no tool may ever reach.
pub struct Tree {
    _tmp: TempDir,
    pub root: PathBuf,
    pub outside: PathBuf,
    pub tools: Tools,
}

impl Default for Tree {
    fn default() -> Tree {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path().join("ws");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret.txt"), "outside secret\n").unwrap();
        let tools = Tools::new(&root).unwrap();
        Tree {
            _tmp: tmp,
            root,
            outside,
            tools,
        }
    }
}

impl Tree {
    /// Writes `files` (path, content) under the root, creating directories.
    pub fn with(self, files: &[(&str, &str)]) -> Tree {
        for (path, content) in files {
            self.write(path, content);
        }
        self
    }

    pub fn write(&self, path: &str, content: &str) {
        let path = self.root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    pub fn git_init(self) -> Tree {
        let status = Command::new("git")
            .args(["init", "-q"])
            .current_dir(&self.root)
            .status()
            .unwrap();
        assert!(status.success());
        self
    }

    /// Every file under the temporary directory (working tree and outside)
    /// with its bytes, to show that a call wrote nothing.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        collect(self.root.parent().unwrap(), &mut files);
        files
    }
}

fn collect(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            collect(&entry.path(), files);
        } else if kind.is_symlink() {
            let target = fs::read_link(entry.path()).unwrap();
            files.insert(entry.path(), target.into_os_string().into_encoded_bytes());
        } else {
            files.insert(entry.path(), fs::read(entry.path()).unwrap());
        }
    }
}
