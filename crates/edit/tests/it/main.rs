//! Integration tests of the public API on real directories. One binary, so
//! the crate links once.

mod files;
mod fuzz;
mod guard;
mod tools;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use agentls_edit::Workspace;
use tempfile::TempDir;

/// A temporary directory holding a workspace `ws/` and, beside it, an
/// `outside/` folder that no edit may ever touch.
pub struct Sandbox {
    _tmp: TempDir,
    pub root: PathBuf,
    pub outside: PathBuf,
    pub ws: Workspace,
    outside_before: BTreeMap<PathBuf, Vec<u8>>,
}

impl Sandbox {
    fn new() -> Self {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path().join("ws");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret.txt"), "secret\n").unwrap();
        let ws = Workspace::new(&root).unwrap();
        let outside_before = snapshot(&outside);
        Self {
            _tmp: tmp,
            root,
            outside,
            ws,
            outside_before,
        }
    }

    /// Writes a file below the root, creating directories.
    pub fn put(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    pub fn get(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).symlink_metadata().is_ok()
    }

    /// Every file under the root, relative path to content.
    pub fn tree(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(&self.root)
    }

    pub fn assert_outside_untouched(&self) {
        assert_eq!(
            snapshot(&self.outside),
            self.outside_before,
            "outside/ changed"
        );
    }
}

/// Files (not directories, not following symlinks) below `dir`.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                let rel = entry.path().strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, fs::read(entry.path()).unwrap());
            }
        }
    }
    out
}
