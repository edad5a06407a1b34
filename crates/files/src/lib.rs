//! agentls-files: the one way agentls reads a file whose path someone else
//! controls — a workspace, a workflow, a config file or an editor.
//!
//! Such a path can name anything: a symlink to `/dev/zero`, a FIFO that no
//! one ever writes, a 10 GB log. [`read`] and [`read_to_string`] therefore
//!
//! - refuse anything that is not a regular file, by the file's type after
//!   following symlinks, before opening it, and again on the opened handle
//!   (the path may have been swapped in between);
//! - open with `O_NONBLOCK` (and `O_NOCTTY`), so opening a FIFO can never
//!   wait for a writer, even when it is swapped in after the first check;
//! - read at most the cap plus one byte (`take`), so an endless or growing
//!   file costs at most the cap, and say so when the cap is passed;
//! - name the kind of file, the path and the cap in every error
//!   ("config /x/.agentls/config.toml: not a regular file (a FIFO)",
//!   "workflow /x/big.toml: larger than the 1 MiB limit").
//!
//! The caps per kind of file are the [`Limit`] constants; docs/architecture.md
//! lists them and docs/configuration.md, docs/workflows.md and
//! docs/providers.md say which applies where.
//!
//! Architecture invariant: this crate knows nothing of agentls beyond the
//! names of the kinds of file it reads; it depends on no other agentls crate,
//! so every crate may depend on it.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// What kind of file is being read (for messages) and the most bytes it may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The kind of file, first word of every error: "config", "workflow", ...
    pub what: &'static str,
    /// The largest size accepted, in bytes.
    pub cap: u64,
}

impl Limit {
    /// Config files (`config.toml`, user and workspace): 1 MiB.
    pub const CONFIG: Limit = Limit {
        what: "config",
        cap: MIB,
    };
    /// Workflow files (`.agentls/workflows/*.toml`, user workflows): 1 MiB.
    pub const WORKFLOW: Limit = Limit {
        what: "workflow",
        cap: MIB,
    };
    /// Project files read to guess a test command (`package.json`,
    /// `Makefile`): 1 MiB.
    pub const PROJECT: Limit = Limit {
        what: "project file",
        cap: MIB,
    };
    /// `replay` cassettes: 64 MiB (they hold whole prompts and answers).
    pub const CASSETTE: Limit = Limit {
        what: "cassette",
        cap: 64 * MIB,
    };
    /// Files a run reads or edits (the `file` input, `edit` and patch
    /// targets, `--output-file`): 64 MiB, the largest document an editor can
    /// send in one message (the transport's frame limit, docs/protocol.md).
    pub const DOCUMENT: Limit = Limit {
        what: "file",
        cap: 64 * MIB,
    };

    /// The same cap under another name ("--file", "output file", ...).
    pub const fn named(self, what: &'static str) -> Limit {
        Limit {
            what,
            cap: self.cap,
        }
    }
}

/// Why a file could not be read. Every message starts with the kind of file
/// and its path.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A FIFO, a device, a socket or a directory.
    #[error("{what} {}: not a regular file ({kind})", path.display())]
    NotRegular {
        what: &'static str,
        path: PathBuf,
        /// "a FIFO", "a character device", "a directory", ...
        kind: &'static str,
    },
    /// More bytes than the cap (by its size, or found while reading).
    #[error("{what} {}: larger than the {} limit", path.display(), human_size(*cap))]
    TooLarge {
        what: &'static str,
        path: PathBuf,
        cap: u64,
    },
    /// Bytes that are not UTF-8 where text was expected.
    #[error("{what} {}: not UTF-8 text", path.display())]
    NotText { what: &'static str, path: PathBuf },
    /// What the file system said (missing file, no permission, ...).
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ReadError {
    /// Whether the file does not exist (callers often treat that as "empty").
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// The message without the leading kind and path, for callers that show
    /// the path themselves: "not a regular file (a FIFO)".
    pub fn reason(&self) -> String {
        match self {
            ReadError::NotRegular { kind, .. } => format!("not a regular file ({kind})"),
            ReadError::TooLarge { cap, .. } => {
                format!("larger than the {} limit", human_size(*cap))
            }
            ReadError::NotText { .. } => "not UTF-8 text".to_owned(),
            ReadError::Io { source, .. } => source.to_string(),
        }
    }

    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::NotText { path, .. }
            | ReadError::Io { path, .. } => path,
        }
    }
}

/// Reads the regular file at `path` whole, refusing anything else and
/// anything larger than `limit.cap` bytes.
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    read_with_metadata(path, limit).map(|(bytes, _)| bytes)
}

/// [`read`], also returning the opened file's metadata (its permissions,
/// say, for a caller that rewrites it).
pub fn read_with_metadata(path: &Path, limit: Limit) -> Result<(Vec<u8>, Metadata), ReadError> {
    let io_err = |source| ReadError::Io {
        what: limit.what,
        path: path.to_path_buf(),
        source,
    };
    // Checked before opening: opening a device can have effects of its own.
    let before = std::fs::metadata(path).map_err(io_err)?;
    check(path, limit, &before)?;
    let file = open(path).map_err(io_err)?;
    // And on the handle: the path may name something else by now.
    let meta = file.metadata().map_err(io_err)?;
    check(path, limit, &meta)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // One byte past the cap tells "exactly the cap" from "more" for a file
    // that grew after the size check.
    file.take(limit.cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > limit.cap {
        return Err(too_large(path, limit));
    }
    Ok((bytes, meta))
}

/// [`read`] for text: invalid UTF-8 is [`ReadError::NotText`].
pub fn read_to_string(path: &Path, limit: Limit) -> Result<String, ReadError> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        what: limit.what,
        path: path.to_path_buf(),
    })
}

/// Reads at most `limit.cap` bytes of text from any reader (standard input,
/// say), `name` standing for the path in errors.
pub fn read_stream_to_string(
    reader: impl Read,
    name: &Path,
    limit: Limit,
) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            what: limit.what,
            path: name.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit.cap {
        return Err(too_large(name, limit));
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        what: limit.what,
        path: name.to_path_buf(),
    })
}

fn check(path: &Path, limit: Limit, meta: &Metadata) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            what: limit.what,
            path: path.to_path_buf(),
            kind: kind_of(meta),
        });
    }
    if meta.len() > limit.cap {
        return Err(too_large(path, limit));
    }
    Ok(())
}

fn too_large(path: &Path, limit: Limit) -> ReadError {
    ReadError::TooLarge {
        what: limit.what,
        path: path.to_path_buf(),
        cap: limit.cap,
    }
}

#[cfg(unix)]
fn open(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// "a FIFO", "a directory", ... for a file that is not regular.
fn kind_of(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

/// "1 MiB", "64 MiB", "512 KiB", "100 bytes".
pub fn human_size(bytes: u64) -> String {
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests;
