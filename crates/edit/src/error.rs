//! The one error type of this crate. Every message names the path (relative
//! to the workspace) and says what to change, because it ends up in front of a
//! user who only sees "step `apply` failed".

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Why an edit was refused or failed. An edit that returns an error has
/// changed nothing on disk (see [`crate::Workspace::apply_patch`] for the one
/// narrow exception, an I/O failure while committing).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EditError {
    /// The workspace root given to [`crate::Workspace::new`] is unusable.
    #[error("workspace root {root} is not usable: {source}")]
    Root {
        /// The root as given.
        root: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },

    /// An empty path, or one that names the workspace root itself.
    #[error("empty path: name a file inside the workspace")]
    EmptyPath,

    /// A path containing a NUL byte, which no file system accepts.
    #[error("path {path:?} contains a NUL byte")]
    NulByte {
        /// The path as given (lossy).
        path: String,
    },

    /// An absolute path outside the root, or `..` climbing above it.
    #[error("path {path} is outside the workspace; edits may only touch files inside it")]
    OutsideWorkspace {
        /// The path as given.
        path: String,
    },

    /// A path through `.git` (at any depth), which edits never touch.
    #[error("path {path} is inside a .git directory; edits never touch git's own files")]
    InsideGit {
        /// The path as given.
        path: String,
    },

    /// A symbolic link on the way to the file leads outside the workspace, into
    /// `.git`, or nowhere.
    #[error("path {path} goes through the symbolic link {link}, which {reason}")]
    Symlink {
        /// The path as given.
        path: String,
        /// The link, relative to the workspace root.
        link: PathBuf,
        /// What is wrong with where it leads.
        reason: &'static str,
    },

    /// The file to edit does not exist.
    #[error("{path} does not exist")]
    NotFound {
        /// Relative path.
        path: PathBuf,
    },

    /// The path exists but is not a regular file (a directory, a socket, ...).
    #[error("{path} is not a regular file ({kind})")]
    NotAFile {
        /// Relative path.
        path: PathBuf,
        /// What it is instead: "a directory", "a FIFO", ...
        kind: &'static str,
    },

    /// The file is larger than agentls reads (the largest document an
    /// editor can send).
    #[error("{path} is larger than the {cap} limit for files agentls edits")]
    TooLarge {
        /// Relative path.
        path: PathBuf,
        /// The limit, e.g. "64 MiB".
        cap: String,
    },

    /// A path ending in a separator, which names a directory, not a file.
    #[error("path {path} ends with `/`: name a file, not a directory")]
    TrailingSlash {
        /// The path as given.
        path: String,
    },

    /// The file exists but is not UTF-8 text; edits only handle text.
    #[error("{path} is not UTF-8 text; agentls only edits text files")]
    NotText {
        /// Relative path.
        path: PathBuf,
    },

    /// A range that does not fit the file's current content.
    #[error("range does not fit {path}: {reason}")]
    BadRange {
        /// Relative path.
        path: PathBuf,
        /// Which bound is wrong and what the file has.
        reason: String,
    },

    /// The patch text holds no diff at all.
    #[error("no unified diff found in the patch text (expected `--- a/file`, `+++ b/file` and `@@ -l,c +l,c @@` lines)")]
    NoDiff,

    /// The patch text is a diff, but broken in a way that no reading can fix.
    #[error("malformed patch at line {line}: {reason}")]
    MalformedPatch {
        /// 1-based line in the patch text.
        line: usize,
        /// What is wrong.
        reason: String,
    },

    /// A hunk (or a whole file section) does not fit the file it targets.
    #[error("patch does not apply to {path}: {reason}")]
    PatchDoesNotApply {
        /// Relative path of the target file.
        path: PathBuf,
        /// Which hunk and why, e.g. "hunk 2 (@@ -40,7 +40,8 @@) context not found near line 40".
        reason: String,
    },

    /// Reading or writing the file system failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "create the directory for", ...).
        op: &'static str,
        /// Relative path.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
}

impl EditError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn does_not_apply(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::PatchDoesNotApply {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
