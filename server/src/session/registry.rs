//! The set of sessions of one server: which folder owns which file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Session;

/// Every live session, keyed by folder root, plus the session for files
/// outside every folder. A file belongs to the deepest folder containing it.
#[derive(Debug)]
pub struct Sessions {
    folders: BTreeMap<PathBuf, Arc<Session>>,
    outside: Arc<Session>,
}

impl Sessions {
    pub fn new(outside: Session) -> Self {
        Self {
            folders: BTreeMap::new(),
            outside: Arc::new(outside),
        }
    }

    /// The session owning `path` (`None`: not a file, e.g. `untitled:`).
    pub fn owner(&self, path: Option<&Path>) -> Arc<Session> {
        let Some(path) = path else {
            return self.outside.clone();
        };
        self.folders
            .iter()
            .filter(|(root, _)| path.starts_with(root))
            .max_by_key(|(root, _)| root.components().count())
            .map(|(_, session)| session.clone())
            .unwrap_or_else(|| self.outside.clone())
    }

    /// The session of the folder `root` exactly.
    pub fn folder(&self, root: &Path) -> Option<Arc<Session>> {
        self.folders.get(root).cloned()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Session>> {
        self.folders.values().chain(std::iter::once(&self.outside))
    }

    /// Adds a folder's session and moves in the open documents it now owns.
    pub fn add(&mut self, session: Session) -> Arc<Session> {
        let root = session.root().map(Path::to_path_buf).unwrap_or_default();
        let session = Arc::new(session);
        self.folders.insert(root, session.clone());
        self.rehome();
        session
    }

    /// Drops a folder's session; its open documents go to their new owners.
    pub fn remove(&mut self, root: &Path) -> Option<Arc<Session>> {
        let removed = self.folders.remove(root)?;
        let orphans: Vec<_> = removed.documents().drain().collect();
        for (uri, doc) in orphans {
            self.owner(doc.path.as_deref()).documents().insert(uri, doc);
        }
        Some(removed)
    }

    /// Moves every open document whose owner changed into its owner.
    fn rehome(&self) {
        for session in self.all() {
            let moving: Vec<_> = {
                let mut docs = session.documents();
                let uris: Vec<String> = docs
                    .iter()
                    .filter(|(_, d)| !Arc::ptr_eq(&self.owner(d.path.as_deref()), session))
                    .map(|(uri, _)| uri.clone())
                    .collect();
                uris.into_iter()
                    .filter_map(|u| docs.remove_entry(&u))
                    .collect()
            };
            for (uri, doc) in moving {
                self.owner(doc.path.as_deref()).documents().insert(uri, doc);
            }
        }
    }
}
