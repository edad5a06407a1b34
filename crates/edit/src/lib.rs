//! agentls-edit: the headless file-editing layer behind workflow `edit` steps.
//!
//! A [`Workspace`] confines every edit to one folder: it writes whole files,
//! replaces ranges, and applies unified diffs (as `git diff`, `diff -u` and
//! models write them) all-or-nothing across files. Writes are atomic
//! (temporary file + rename) and keep file permissions, line endings and the
//! final newline's presence.
//!
//! Architecture invariant: this crate knows nothing of LSP, SQLite, workflows'
//! format or the engine. It takes paths and texts and returns [`FileChange`]s;
//! deciding *whether* an edit may run (trust, approval, open documents) is the
//! caller's job. It never touches a path outside the workspace root or inside
//! a `.git` directory, whatever the input (see [`Workspace::resolve`]).
//!
//! Modules: `guard` (path rules), `fsio` (atomic writes), `range` (positions),
//! `patch` (diff parsing and hunk placement, strings only), `plan` (multi-file
//! commit), `workspace` (the public entry points).

mod error;
mod fsio;
mod guard;
mod patch;
mod plan;
mod range;
mod workspace;

pub use error::EditError;
pub use guard::Resolved;
pub use patch::{FileOp, FilePatch, Patch};
pub use range::{LineCol, TextRange};
pub use workspace::{ChangeKind, FileChange, Workspace};
