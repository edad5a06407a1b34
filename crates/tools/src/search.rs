//! `search`: matching lines by regex over the walker of `list_files`, with
//! ripgrep's matcher and searcher (binary files skipped at the first NUL,
//! like `rg`).

use std::fmt::Write as _;
use std::fs::File;
use std::io;
use std::path::Path;

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{sinks, BinaryDetection, SearcherBuilder};

use crate::limits::{SEARCH_CAP, SEARCH_HEAP_LIMIT, SEARCH_LINE_CHARS_CAP};
use crate::read::cut_line;
use crate::walk::{Found, Glob, Smallest};
use crate::{ToolError, Tools};

impl Tools {
    /// The lines matching `pattern` in the files under `path` (a directory
    /// or one file; default the whole tree) that match `glob`, as
    /// `path:line:text`, at most [`SEARCH_CAP`] shown.
    pub fn search(
        &self,
        pattern: &str,
        path: Option<&str>,
        glob: Option<&str>,
    ) -> Result<Found, ToolError> {
        let matcher = RegexMatcherBuilder::new()
            .line_terminator(Some(b'\n'))
            .build(pattern)
            .map_err(|err| ToolError::InvalidRegex {
                pattern: pattern.to_owned(),
                message: err.to_string(),
            })?;
        let glob = glob.map(Glob::new).transpose()?;
        let target = self.locate_dir(path)?;
        let mut searcher = SearcherBuilder::new()
            .line_number(true)
            .binary_detection(BinaryDetection::quit(0))
            .heap_limit(Some(SEARCH_HEAP_LIMIT))
            .build();

        let mut first = Smallest::new(SEARCH_CAP);
        // How many files were not searched, and the first few by name.
        let (mut skipped, mut skipped_names) = (0, Vec::new());
        let walked = self.walk(&target, glob.as_ref(), |rel, abs| {
            let Ok(file) = open_regular(abs) else {
                return;
            };
            let sink = sinks::Lossy(|number, line: &str| {
                let line = line.trim_end_matches(['\n', '\r']);
                first.offer(
                    (rel.to_owned(), number),
                    cut_line(line, SEARCH_LINE_CHARS_CAP).into_owned(),
                );
                Ok(true)
            });
            if searcher.search_file(&matcher, &file, sink).is_err() {
                // A line over the heap limit (a minified bundle) or a read error.
                skipped += 1;
                if skipped_names.len() < 10 {
                    skipped_names.push(rel.to_owned());
                }
            }
        })?;

        let count = first.seen;
        let mut text = String::new();
        for ((rel, number), line) in first.into_sorted() {
            let _ = writeln!(text, "{rel}:{number}:{line}");
        }
        if count == 0 {
            text = format!("no matches for {pattern:?}\n");
        } else if count > SEARCH_CAP {
            let _ = writeln!(
                text,
                "[{} more matching lines not shown: the result is capped at {SEARCH_CAP}; narrow it with path or glob]",
                count - SEARCH_CAP
            );
        }
        if skipped > 0 {
            let files = match skipped {
                1 => "1 file".to_owned(),
                n => format!("{n} files"),
            };
            let _ = writeln!(
                text,
                "[not searched ({files} with a line over {} MiB or unreadable): {}]",
                SEARCH_HEAP_LIMIT / (1024 * 1024),
                skipped_names.join(", ")
            );
        }
        if let Some(note) = walked.note(&target) {
            text.push_str(&note);
        } else {
            text.pop();
        }
        Ok(Found { text, count })
    }
}

/// Opens a file the walker found, refusing to block on anything that was
/// swapped in for it since (a FIFO), as agentls-files does.
fn open_regular(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)?
    };
    #[cfg(not(unix))]
    let file = File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}
