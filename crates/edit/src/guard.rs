//! The path guard: turns a path a workflow wrote into the real location of a
//! file inside the workspace, or refuses.
//!
//! Owns the rules "never outside the root" and "never inside `.git/`". Every
//! file operation of this crate goes through [`resolve`]; nothing else in the
//! crate joins user paths onto the root.
//!
//! The guard checks the file system as it is when called. It does not defend
//! against another process swapping a directory for a symlink between the check
//! and the write; agentls is not a sandbox against local attackers, it keeps a
//! model's (or a workflow author's) paths from leaving the workspace.

use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::EditError;

/// A path that passed the guard. Only the guard makes one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Resolved {
    /// Relative to the root, normalised (`a/./b/../c` is `a/c`): what users see.
    pub rel: PathBuf,
    /// Where the file really is: symlinks inside the workspace followed, the
    /// not-yet-existing tail appended. Always under the canonical root.
    pub abs: PathBuf,
}

/// Resolves `input` against the canonical `root`. `given_root` is the root as
/// the caller spelled it, so that an absolute path written with it (before
/// canonicalisation, e.g. through a symlinked home) is still recognised.
pub(crate) fn resolve(root: &Path, given_root: &Path, input: &str) -> Result<Resolved, EditError> {
    if input.contains('\0') {
        return Err(EditError::NulByte {
            path: input.replace('\0', "\\0"),
        });
    }
    if input.is_empty() {
        return Err(EditError::EmptyPath);
    }
    let outside = || EditError::OutsideWorkspace {
        path: input.to_owned(),
    };
    let path = Path::new(input);
    let relative = if path.is_absolute() {
        path.strip_prefix(root)
            .or_else(|_| path.strip_prefix(given_root))
            .map_err(|_| outside())?
    } else {
        path
    };

    // Lexical normalisation. `..` is resolved here, before the file system is
    // asked anything, so the path touched below never contains `..`: a
    // `link/..` can not climb out through a symlink's parent.
    let mut parts: Vec<&OsStr> = Vec::new();
    for component in relative.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or_else(outside)?;
            }
            Component::Normal(part) => parts.push(part),
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    if parts.is_empty() {
        return Err(EditError::EmptyPath);
    }
    // `sub/`, `sub/.` and `sub/..` name directories. Normalised, they would
    // lose that and become the file `sub` (or its parent).
    let last = input.rsplit(['/', '\\']).next().unwrap_or(input);
    if matches!(last, "" | "." | "..") {
        return Err(EditError::TrailingSlash {
            path: input.to_owned(),
        });
    }
    if parts.iter().any(|part| is_git(part)) {
        return Err(EditError::InsideGit {
            path: input.to_owned(),
        });
    }
    let rel: PathBuf = parts.iter().collect();

    let mut abs = root.to_path_buf();
    for (index, part) in parts.iter().enumerate() {
        let next = abs.join(part);
        match std::fs::symlink_metadata(&next) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link: PathBuf = parts[..=index].iter().collect();
                abs = follow_link(root, &next, input, link)?;
            }
            Ok(_) => abs = next,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                // Nothing below a missing component exists, so nothing below
                // it can be a symlink: the rest is appended as written.
                abs = next;
                abs.extend(&parts[index + 1..]);
                break;
            }
            Err(source) => {
                return Err(EditError::io("resolve", &rel, source));
            }
        }
    }
    Ok(Resolved { rel, abs })
}

/// Follows one symlink found on the way and checks where it really leads.
fn follow_link(root: &Path, at: &Path, input: &str, link: PathBuf) -> Result<PathBuf, EditError> {
    let refuse = |reason| EditError::Symlink {
        path: input.to_owned(),
        link: link.clone(),
        reason,
    };
    // A dangling link is refused rather than written through: where it would
    // lead can not be checked without creating its target.
    let target = std::fs::canonicalize(at).map_err(|_| refuse("points to nothing that exists"))?;
    let inside = target
        .strip_prefix(root)
        .map_err(|_| refuse("leads outside the workspace"))?;
    if inside.components().any(|c| is_git(c.as_os_str())) {
        return Err(refuse("leads into a .git directory"));
    }
    Ok(target)
}

/// `.git` in any case: on case-insensitive file systems `.GIT` is the same directory.
fn is_git(part: &OsStr) -> bool {
    part.to_str()
        .is_some_and(|part| part.eq_ignore_ascii_case(".git"))
}
