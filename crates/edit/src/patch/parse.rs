//! Reading unified diffs as `git diff`, `diff -u` / `diff -ruN` and models
//! write them. Lines that belong to no diff (prose, ``` fences, `index`
//! lines) are skipped. Header counts are trusted only to settle what the body
//! can not: whether a `--- `/`+++ ` pair is a new file header or two changed
//! lines. Models miscount, so a hunk runs as long as lines look like its body.

use super::{FileOp, FilePatch, Hunk, HunkLine, HunkRange};
use crate::EditError;

/// One line of the patch text, its ending removed.
struct Raw<'a> {
    text: &'a str,
    /// It ended with `\r\n`.
    crlf: bool,
}

/// A file section being read.
#[derive(Default)]
struct Section {
    /// 1-based line of the section's first header line.
    line: usize,
    git: bool,
    old: Option<String>,
    new: Option<String>,
    /// Names from the `diff --git a/x b/y` line, used when `---`/`+++` are absent.
    git_names: Option<(String, String)>,
    has_file_headers: bool,
    created: bool,
    deleted: bool,
    rename_from: Option<String>,
    rename_to: Option<String>,
    copy: bool,
    binary: bool,
    hunks: Vec<Hunk>,
}

pub(super) fn parse(text: &str) -> Result<Vec<FilePatch>, EditError> {
    let lines: Vec<Raw<'_>> = text
        .split_inclusive('\n')
        .map(|raw| {
            let text = raw.strip_suffix('\n').unwrap_or(raw);
            match text.strip_suffix('\r') {
                Some(text) if raw.ends_with('\n') => Raw { text, crlf: true },
                _ => Raw { text, crlf: false },
            }
        })
        .collect();
    let mut files = Vec::new();
    let mut current: Option<Section> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].text;
        if let Some(rest) = line.strip_prefix("diff --git ") {
            finish(current.take(), &mut files)?;
            let mut section = Section {
                line: i + 1,
                git: true,
                git_names: split_git_names(rest),
                ..Section::default()
            };
            i += 1;
            while i < lines.len() && extended_header(&mut section, lines[i].text) {
                i += 1;
            }
            current = Some(section);
        } else if is_file_header(&lines, i) {
            let (old, old_absent) = name(&line[4..], i + 1)?;
            let (new, new_absent) = name(&lines[i + 1].text[4..], i + 2)?;
            let reuse = current
                .as_ref()
                .is_some_and(|s| s.git && !s.has_file_headers && s.hunks.is_empty());
            if !reuse {
                finish(current.take(), &mut files)?;
                current = Some(Section {
                    line: i + 1,
                    ..Section::default()
                });
            }
            if let Some(section) = current.as_mut() {
                section.has_file_headers = true;
                section.created |= old_absent;
                section.deleted |= new_absent;
                section.old = old;
                section.new = new;
            }
            i += 2;
        } else if line.starts_with("@@") {
            let Some(section) = current.as_mut() else {
                return Err(EditError::MalformedPatch {
                    line: i + 1,
                    reason:
                        "hunk without a file header: put `--- a/path` and `+++ b/path` before it"
                            .into(),
                });
            };
            let (hunk, next) = hunk(&lines, i)?;
            section.hunks.push(hunk);
            i = next;
        } else {
            if line.starts_with("Binary files ") && line.ends_with(" differ") {
                return Err(EditError::MalformedPatch {
                    line: i + 1,
                    reason: "binary patches are not supported".into(),
                });
            }
            i += 1;
        }
    }
    finish(current, &mut files)?;
    if files.is_empty() {
        return Err(EditError::NoDiff);
    }
    Ok(files)
}

/// A `--- ` line directly followed by a `+++ ` line.
fn is_file_header(lines: &[Raw<'_>], i: usize) -> bool {
    lines[i].text.starts_with("--- ")
        && lines
            .get(i + 1)
            .is_some_and(|next| next.text.starts_with("+++ "))
}

/// Reads one git extended header line into `section`; false when `line` is not one.
fn extended_header(section: &mut Section, line: &str) -> bool {
    if let Some(from) = line.strip_prefix("rename from ") {
        section.rename_from = Some(unquote_or_plain(from));
    } else if let Some(to) = line.strip_prefix("rename to ") {
        section.rename_to = Some(unquote_or_plain(to));
    } else if let Some(from) = line.strip_prefix("copy from ") {
        section.rename_from = Some(unquote_or_plain(from));
        section.copy = true;
    } else if let Some(to) = line.strip_prefix("copy to ") {
        section.rename_to = Some(unquote_or_plain(to));
        section.copy = true;
    } else if line.starts_with("new file mode ") {
        section.created = true;
    } else if line.starts_with("deleted file mode ") {
        section.deleted = true;
    } else if line.starts_with("GIT binary patch")
        || (line.starts_with("Binary files ") && line.ends_with(" differ"))
    {
        section.binary = true;
    } else {
        // Mode changes are not applied: a text edit never needs them.
        return [
            "index ",
            "old mode ",
            "new mode ",
            "similarity index ",
            "dissimilarity index ",
        ]
        .iter()
        .any(|prefix| line.starts_with(prefix));
    }
    true
}

/// Turns a finished section into a [`FilePatch`], deciding its path and op.
fn finish(section: Option<Section>, files: &mut Vec<FilePatch>) -> Result<(), EditError> {
    let Some(mut s) = section else {
        return Ok(());
    };
    let malformed = |reason: String| EditError::MalformedPatch {
        line: s.line,
        reason,
    };
    if s.binary {
        return Err(malformed("binary patches are not supported".into()));
    }
    if s.created && s.deleted {
        return Err(malformed(
            "the file section both creates and deletes its file (/dev/null on both sides)".into(),
        ));
    }
    if let Some((old, new)) = s.git_names.take().filter(|_| !s.has_file_headers) {
        s.old = Some(old);
        s.new = Some(new);
    }
    let (old, new) = strip_prefixes(s.old.take(), s.new.take());
    // Rename headers carry names without the a/ b/ prefixes.
    let (op, path) = match (s.rename_from.take(), s.rename_to.take()) {
        (Some(from), Some(to)) if s.copy => (FileOp::Copy { from }, Some(to)),
        (Some(from), Some(to)) => (FileOp::Rename { from }, Some(to)),
        _ if s.created => (FileOp::Create, new),
        _ if s.deleted => (FileOp::Delete, old),
        _ => (FileOp::Modify, pick_target(old, new)),
    };
    let Some(path) = path else {
        return Err(malformed(
            "cannot tell which file this section changes".into(),
        ));
    };
    files.push(FilePatch {
        path,
        op,
        hunks: s.hunks,
    });
    Ok(())
}

/// Between two different names and no rename header: the shorter when one
/// extends the other (`f.rs` over `f.rs.orig` or `f.rs.new`), else the new one.
fn pick_target(old: Option<String>, new: Option<String>) -> Option<String> {
    match (old, new) {
        (Some(old), Some(new)) if new.starts_with(&old) => Some(old),
        (old, new) => new.or(old),
    }
}

/// Strips one level of prefix: `a/` and `b/` as git writes them, or the two
/// top directories of `diff -ruN old new` when the rest of the names agree.
fn strip_prefixes(old: Option<String>, new: Option<String>) -> (Option<String>, Option<String>) {
    let strip = |name: &str, prefix: &str| name.strip_prefix(prefix).map(str::to_owned);
    match (old, new) {
        (Some(old), Some(new)) => {
            if let (Some(o), Some(n)) = (strip(&old, "a/"), strip(&new, "b/")) {
                return (Some(o), Some(n));
            }
            if let (Some((old_top, old_rest)), Some((new_top, new_rest))) =
                (old.split_once('/'), new.split_once('/'))
            {
                if old_top != new_top
                    && !old_top.is_empty()
                    && old_rest == new_rest
                    && !old_rest.is_empty()
                {
                    return (Some(old_rest.to_owned()), Some(new_rest.to_owned()));
                }
            }
            (Some(old), Some(new))
        }
        (Some(old), None) => (Some(strip(&old, "a/").unwrap_or(old)), None),
        (None, Some(new)) => (None, Some(strip(&new, "b/").unwrap_or(new))),
        (None, None) => (None, None),
    }
}

/// Reads the name after `--- ` or `+++ `: quoted or up to a tab (after which
/// `diff -u` puts a timestamp). Returns the name (`None` for `/dev/null`) and
/// whether the side is absent: `/dev/null`, or the epoch timestamp that
/// `diff -N` gives a missing file while still naming it.
fn name(text: &str, line: usize) -> Result<(Option<String>, bool), EditError> {
    let (name, rest) = if text.starts_with('"') {
        unquote(text).ok_or_else(|| EditError::MalformedPatch {
            line,
            reason: "unterminated or invalid quoted file name".into(),
        })?
    } else {
        match text.split_once('\t') {
            Some((name, rest)) => (name.trim_end().to_owned(), rest),
            None => (text.trim_end().to_owned(), ""),
        }
    };
    if name == "/dev/null" {
        return Ok((None, true));
    }
    if name.is_empty() {
        return Err(EditError::MalformedPatch {
            line,
            reason: "empty file name".into(),
        });
    }
    let rest = rest.trim_start();
    let epoch = rest.starts_with("1970-01-01") || rest.starts_with("1969-12-31");
    Ok((Some(name), epoch))
}

/// The names of a `diff --git a/x b/x` line when it can be split without
/// doubt: quoted names, or two halves that are equal (`--no-prefix`) or equal
/// after their `a/` and `b/`.
fn split_git_names(rest: &str) -> Option<(String, String)> {
    if rest.starts_with('"') {
        let (old, after) = unquote(rest)?;
        let after = after.trim_start();
        let new = if after.starts_with('"') {
            unquote(after)?.0
        } else {
            after.to_owned()
        };
        return Some((old, new));
    }
    let half = rest.len().checked_sub(1)? / 2;
    let (old, new) = (rest.get(..half)?, rest.get(half + 1..)?);
    let same = old == new
        || old
            .strip_prefix("a/")
            .is_some_and(|o| new.strip_prefix("b/") == Some(o));
    (rest.as_bytes().get(half) == Some(&b' ') && same).then(|| (old.to_owned(), new.to_owned()))
}

fn unquote_or_plain(text: &str) -> String {
    unquote(text).map_or_else(|| text.to_owned(), |(name, _)| name)
}

/// Parses a C-style quoted string as git writes unusual file names
/// (`"a/sp ace\t\303\251"`); returns it and what follows the closing quote.
fn unquote(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut bytes = Vec::new();
    let mut chars = body.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => {
                let name = String::from_utf8(bytes).ok()?;
                return Some((name, &body[index + 1..]));
            }
            '\\' => {
                let (_, escaped) = chars.next()?;
                let byte = match escaped {
                    'a' => 7,
                    'b' => 8,
                    't' => b'\t',
                    'n' => b'\n',
                    'v' => 11,
                    'f' => 12,
                    'r' => b'\r',
                    '"' => b'"',
                    '\\' => b'\\',
                    '0'..='3' => {
                        let mut value = escaped.to_digit(8)?;
                        for _ in 0..2 {
                            let (_, digit) = chars.next()?;
                            value = value * 8 + digit.to_digit(8)?;
                        }
                        u8::try_from(value).ok()?
                    }
                    _ => return None,
                };
                bytes.push(byte);
            }
            c => {
                let mut buf = [0; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    None
}

/// Reads the hunk whose header is line `start`; returns it and the index of
/// the first line after it.
fn hunk(lines: &[Raw<'_>], start: usize) -> Result<(Hunk, usize), EditError> {
    let (header, range) = header(lines[start].text);
    let mut hunk = Hunk {
        header,
        range,
        lines: Vec::new(),
        old_no_eol: false,
        new_no_eol: false,
    };
    let (mut old_seen, mut new_seen) = (0, 0);
    let mut i = start + 1;
    while let Some(raw) = lines.get(i) {
        let text = raw.text;
        let counts_met = range.is_none_or(|r| old_seen >= r.old_count && new_seen >= r.new_count);
        if text.starts_with("@@") || text.starts_with("diff ") {
            break;
        }
        if counts_met && is_file_header(lines, i) {
            break;
        }
        let line = match text.as_bytes().first() {
            Some(b' ') => HunkLine::Context(text[1..].to_owned()),
            Some(b'-') => HunkLine::Remove(text[1..].to_owned()),
            Some(b'+') => HunkLine::Add {
                text: text[1..].to_owned(),
                crlf: raw.crlf,
            },
            Some(b'\\') => {
                match hunk.lines.last() {
                    Some(HunkLine::Context(_)) => {
                        hunk.old_no_eol = true;
                        hunk.new_no_eol = true;
                    }
                    Some(HunkLine::Remove(_)) => hunk.old_no_eol = true,
                    Some(HunkLine::Add { .. }) => hunk.new_no_eol = true,
                    None => {}
                }
                i += 1;
                continue;
            }
            // Editors, models and `diff --suppress-blank-empty` drop the space
            // of an empty context line. An empty line is context when the
            // header's counts still ask for lines or more hunk lines follow
            // it; otherwise it ends the hunk.
            None if !counts_met || more_body_follows(lines, i + 1) => {
                HunkLine::Context(String::new())
            }
            _ => break,
        };
        match line {
            HunkLine::Context(_) => {
                old_seen += 1;
                new_seen += 1;
            }
            HunkLine::Remove(_) => old_seen += 1,
            HunkLine::Add { .. } => new_seen += 1,
        }
        hunk.lines.push(line);
        i += 1;
    }
    if hunk.lines.is_empty() {
        return Err(EditError::MalformedPatch {
            line: start + 1,
            reason: format!("hunk {} has no lines", hunk.header),
        });
    }
    Ok((hunk, i))
}

/// Whether a hunk body line comes next, after any empty lines.
fn more_body_follows(lines: &[Raw<'_>], from: usize) -> bool {
    let Some(offset) = lines[from.min(lines.len())..]
        .iter()
        .position(|raw| !raw.text.is_empty())
    else {
        return false;
    };
    let next = from + offset;
    matches!(
        lines[next].text.as_bytes().first(),
        Some(b' ' | b'+' | b'-' | b'\\')
    ) && !is_file_header(lines, next)
}

/// Splits `@@ -a,b +c,d @@ context` into the `@@ ... @@` text and its numbers.
fn header(line: &str) -> (String, Option<HunkRange>) {
    let end = line[2..].find("@@").map_or(line.len(), |at| at + 4);
    let header = line[..end].trim().to_owned();
    let inner = header.trim_start_matches('@').trim_end_matches('@').trim();
    let mut parts = inner.split_whitespace();
    let range = (|| {
        let (old_start, old_count) = numbers(parts.next()?.strip_prefix('-')?)?;
        let (_, new_count) = numbers(parts.next()?.strip_prefix('+')?)?;
        parts.next().is_none().then_some(HunkRange {
            old_start,
            old_count,
            new_count,
        })
    })();
    (header, range)
}

/// `l` or `l,c` (c defaults to 1).
fn numbers(text: &str) -> Option<(usize, usize)> {
    match text.split_once(',') {
        Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
        None => Some((text.parse().ok()?, 1)),
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
