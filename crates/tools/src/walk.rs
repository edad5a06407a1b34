//! The walker under `list_files` and `search`: ripgrep's `ignore` crate over
//! the working tree, and the `glob` filter.
//!
//! Choices, each for a model that should see what a developer's `rg` shows:
//! - `.gitignore` (and `.ignore`, `.git/info/exclude`) apply even when the
//!   working tree is not a git repository (`require_git(false)`): a tree
//!   copied without `.git` still hides its `target/` and `node_modules/`.
//! - The walk always starts at the root, pruned to the directories on the
//!   way to `path`, so the ignore files of the root and of every directory
//!   between apply to a sub-directory too; ignore files above the root, the
//!   user's global excludes and symlinked directories are never read
//!   (nothing outside the root is touched). A `path` that is itself ignored
//!   is walked anyway, as `rg` searches a path it is given, and the result
//!   says so.
//! - Hidden files are listed (`.github/`, `.cargo/config.toml` matter to a
//!   model); `.git` never is, at any depth and in any case.
//! - Only regular files are yielded; symlinks are not followed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use ignore::WalkBuilder;

use crate::limits::LIST_CAP;
use crate::{slashed, Located, ToolError, Tools};

/// What `list_files` or `search` found: the text for the model and the
/// count for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The result text, capped, saying what was cut.
    pub text: String,
    /// Files listed or matching lines found, all of them (not only those shown).
    pub count: usize,
}

/// A `glob` argument: without `/` it matches a file's name at any depth
/// (`*.rs`), with one the path relative to the root (`src/**/*.rs`), as in
/// `.gitignore` and `rg -g`.
pub(crate) struct Glob {
    matcher: GlobMatcher,
    whole_path: bool,
}

impl Glob {
    pub(crate) fn new(glob: &str) -> Result<Glob, ToolError> {
        let trimmed = glob.trim_start_matches("./").trim_start_matches('/');
        let matcher = GlobBuilder::new(trimmed)
            .literal_separator(true)
            .build()
            .map_err(|err| ToolError::InvalidGlob {
                glob: glob.to_owned(),
                message: err.kind().to_string(),
            })?
            .compile_matcher();
        Ok(Glob {
            matcher,
            whole_path: trimmed.contains('/'),
        })
    }

    fn matches(&self, rel: &Path) -> bool {
        if self.whole_path {
            self.matcher.is_match(rel)
        } else {
            rel.file_name()
                .is_some_and(|name| self.matcher.is_match(Path::new(name)))
        }
    }
}

impl Tools {
    /// The files under `path` (default: the whole tree) matching `glob`,
    /// sorted, relative to the root, at most [`LIST_CAP`] shown.
    pub fn list_files(&self, path: Option<&str>, glob: Option<&str>) -> Result<Found, ToolError> {
        let glob = glob.map(Glob::new).transpose()?;
        let target = self.locate_dir(path)?;
        let mut first = Smallest::new(LIST_CAP);
        let walked = self.walk(&target, glob.as_ref(), |rel, _| {
            first.offer(rel.to_owned(), ());
        })?;
        let count = first.seen;
        let mut text = String::new();
        for rel in first.into_sorted().into_keys() {
            text.push_str(&rel);
            text.push('\n');
        }
        if count == 0 {
            let under = if target.rel.is_empty() {
                "."
            } else {
                &target.rel
            };
            text = format!("no files found under {under}\n");
        } else if count > LIST_CAP {
            let _ = writeln!(
                text,
                "[{} more not shown: the list is capped at {LIST_CAP} paths; narrow it with path or glob]",
                count - LIST_CAP
            );
        }
        if let Some(note) = walked.note(&target) {
            text.push_str(&note);
        } else {
            text.pop();
        }
        Ok(Found { text, count })
    }

    /// Calls `each(rel, abs)` for every regular file under `target` that the
    /// ignore files and `glob` let through, in no particular order (callers
    /// keep the first ones in order with [`Smallest`]). A target that
    /// is itself ignored (`target/debug` under a `target/` rule) is walked
    /// all the same, as `rg` walks a path it is given, with only the ignore
    /// files inside it; the answer is then [`Walked::NamedIgnored`].
    pub(crate) fn walk(
        &self,
        target: &Located,
        glob: Option<&Glob>,
        mut each: impl FnMut(&str, &Path),
    ) -> Result<Walked, ToolError> {
        let root = self.root().to_path_buf();
        match std::fs::symlink_metadata(&target.abs) {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(ToolError::NotFound {
                    path: target.rel.clone(),
                })
            }
            Err(err) => {
                return Err(ToolError::Io {
                    op: "list",
                    path: target.rel.clone(),
                    message: err.to_string(),
                })
            }
        }
        let on_the_way: PathBuf = target.abs.clone();
        let from_root = walker(&root)
            .filter_entry(move |entry| {
                let path = entry.path();
                !is_git(entry.file_name())
                    && (path.starts_with(&on_the_way) || on_the_way.starts_with(path))
            })
            .build();
        let mut visit = |entry: ignore::DirEntry| {
            if !entry.file_type().is_some_and(|kind| kind.is_file())
                || !entry.path().starts_with(&target.abs)
            {
                return;
            }
            let Ok(rel) = entry.path().strip_prefix(&root) else {
                return;
            };
            if glob.is_some_and(|glob| !glob.matches(rel)) {
                return;
            }
            each(&slashed(rel), entry.path());
        };
        // An unreadable directory or a broken ignore file: skipped, as rg does.
        let mut reached = false;
        for entry in from_root.flatten() {
            reached |= entry.path() == target.abs;
            visit(entry);
        }
        if reached {
            return Ok(Walked::Whole);
        }
        walker(&target.abs)
            .filter_entry(|entry| !is_git(entry.file_name()))
            .build()
            .flatten()
            .for_each(&mut visit);
        Ok(Walked::NamedIgnored)
    }
}

/// How a walk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walked {
    Whole,
    /// The target itself is ignored; it was walked because it was named.
    NamedIgnored,
}

impl Walked {
    /// The line a result ends with, if any.
    pub(crate) fn note(self, target: &Located) -> Option<String> {
        match self {
            Walked::Whole => None,
            Walked::NamedIgnored => Some(format!(
                "[{} is ignored (.gitignore or .ignore); shown because it was named]",
                target.rel
            )),
        }
    }
}

/// The walker's settings (see the module's doc), from `start`.
fn walker(start: &Path) -> WalkBuilder {
    let mut builder = WalkBuilder::new(start);
    builder
        .hidden(false)
        .parents(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false);
    // Not `sort_by_file_path`: a sorting walker reads every directory it
    // meets in full before the filter can prune it (ten times slower for a
    // sub-directory of a wide tree); callers sort what they keep instead.
    builder
}

/// The `cap` smallest keys offered, in order, and how many were offered:
/// a sorted, capped result in memory bounded by the cap, however many files
/// the tree has.
pub(crate) struct Smallest<K, V> {
    cap: usize,
    kept: BTreeMap<K, V>,
    /// Everything offered, kept or not.
    pub(crate) seen: usize,
}

impl<K: Ord, V> Smallest<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        Smallest {
            cap,
            kept: BTreeMap::new(),
            seen: 0,
        }
    }

    pub(crate) fn offer(&mut self, key: K, value: V) {
        self.seen += 1;
        if self.kept.len() == self.cap {
            match self.kept.last_key_value() {
                Some((last, _)) if *last > key => {
                    self.kept.pop_last();
                }
                _ => return,
            }
        }
        self.kept.insert(key, value);
    }

    pub(crate) fn into_sorted(self) -> BTreeMap<K, V> {
        self.kept
    }
}

/// `.git` in any case (case-insensitive file systems), as the edit guard has it.
fn is_git(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|name| name.eq_ignore_ascii_case(".git"))
}
