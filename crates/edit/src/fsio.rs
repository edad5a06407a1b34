//! Reading and atomically replacing files that already passed the guard.
//!
//! Owns "never leave a half-written file": content goes to a temporary file in
//! the target's own directory (same file system, so the rename is atomic),
//! which is flushed to disk and then renamed over the target. Knows nothing of
//! paths' legitimacy: callers hand it [`crate::guard::Resolved`] paths only.

use std::fs::{self, Permissions};
use std::io::{self, Write};
use std::path::PathBuf;

use tempfile::NamedTempFile;

use crate::guard::Resolved;
use crate::EditError;

/// A text file as found on disk.
#[derive(Debug, Clone)]
pub(crate) struct Existing {
    pub text: String,
    pub permissions: Permissions,
}

/// Reads the file at `path`, `None` when it does not exist. Only regular
/// files up to [`agentls_files::Limit::DOCUMENT`] are read: a workflow names
/// the path, and a FIFO or a device there must fail, not hang.
pub(crate) fn read(path: &Resolved) -> Result<Option<Existing>, EditError> {
    use agentls_files::ReadError;
    let (bytes, meta) =
        match agentls_files::read_with_metadata(&path.abs, agentls_files::Limit::DOCUMENT) {
            Ok(read) => read,
            Err(err) if err.is_not_found() => return Ok(None),
            Err(ReadError::NotRegular { kind, .. }) => {
                return Err(EditError::NotAFile {
                    path: path.rel.clone(),
                    kind,
                })
            }
            Err(ReadError::TooLarge { cap, .. }) => {
                return Err(EditError::TooLarge {
                    path: path.rel.clone(),
                    cap: agentls_files::human_size(cap),
                })
            }
            Err(ReadError::Io { source, .. }) => {
                return Err(EditError::io("read", &path.rel, source))
            }
            Err(ReadError::NotText { .. }) => {
                return Err(EditError::NotText {
                    path: path.rel.clone(),
                })
            }
        };
    let text = String::from_utf8(bytes).map_err(|_| EditError::NotText {
        path: path.rel.clone(),
    })?;
    Ok(Some(Existing {
        text,
        permissions: meta.permissions(),
    }))
}

/// Content written to a temporary file next to its target, not yet in place.
/// Dropping it removes the temporary file.
pub(crate) struct Staged {
    temp: NamedTempFile,
    rel: PathBuf,
    abs: PathBuf,
}

impl Staged {
    /// Renames the temporary file over the target.
    pub fn commit(self) -> Result<(), EditError> {
        let Staged { temp, rel, abs } = self;
        temp.persist(&abs)
            .map_err(|err| EditError::io("write", rel, err.error))?;
        Ok(())
    }
}

/// Writes `text` into a temporary file beside `path`. The parent directory
/// must exist. `permissions` are those of the file being replaced; a new file
/// gets the default mode (0o666 less the umask), like any editor's.
pub(crate) fn stage(
    path: &Resolved,
    text: &str,
    permissions: Option<&Permissions>,
) -> Result<Staged, EditError> {
    let dir = path.abs.parent().ok_or(EditError::EmptyPath)?;
    let io_err = |source| EditError::io("write", &path.rel, source);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".agentls-edit-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(dir).map_err(io_err)?;
    temp.write_all(text.as_bytes()).map_err(io_err)?;
    if let Some(permissions) = permissions {
        // Set after creation: unlike the creation mode, this is not masked by
        // the umask, so the file keeps exactly the bits it had.
        fs::set_permissions(temp.path(), permissions.clone()).map_err(io_err)?;
    }
    temp.as_file().sync_all().map_err(io_err)?;
    Ok(Staged {
        temp,
        rel: path.rel.clone(),
        abs: path.abs.clone(),
    })
}

/// Creates the missing directories above `path`, returning those it created
/// (outermost first) so that a failed multi-file edit can remove them again.
pub(crate) fn create_parents(path: &Resolved) -> Result<Vec<PathBuf>, EditError> {
    let Some(parent) = path.abs.parent() else {
        return Ok(Vec::new());
    };
    let mut missing = Vec::new();
    let mut dir = parent;
    while !dir.exists() {
        missing.push(dir.to_path_buf());
        match dir.parent() {
            Some(up) => dir = up,
            None => break,
        }
    }
    missing.reverse();
    for dir in &missing {
        if let Err(source) = fs::create_dir(dir) {
            if source.kind() != io::ErrorKind::AlreadyExists {
                remove_dirs(&missing);
                return Err(EditError::io("create the directory for", &path.rel, source));
            }
        }
    }
    Ok(missing)
}

/// Removes directories created by [`create_parents`], innermost first, if they
/// are still empty. Best effort: it runs while another error is reported.
pub(crate) fn remove_dirs(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// Writes `text` to `path` atomically, creating missing parent directories.
pub(crate) fn write(
    path: &Resolved,
    text: &str,
    permissions: Option<&Permissions>,
) -> Result<(), EditError> {
    let created = create_parents(path)?;
    let result = stage(path, text, permissions).and_then(Staged::commit);
    if result.is_err() {
        remove_dirs(&created);
    }
    result
}

/// Deletes the file at `path`.
pub(crate) fn remove(path: &Resolved) -> Result<(), EditError> {
    fs::remove_file(&path.abs).map_err(|source| EditError::io("delete", &path.rel, source))
}
