//! Placing hunks in a document and splicing them in.
//!
//! A hunk goes where its old side (context and removed lines) matches the
//! document. The header's line number, corrected by how far earlier hunks
//! moved things, is tried first; when it is wrong, the whole rest of the file
//! is searched, and the hunk is placed only if it matches in exactly one
//! place. Exact matches are tried before matches that ignore whitespace at
//! line ends; an exact match elsewhere competing with a loose match at the
//! expected line is ambiguous. Hunks apply in order and never overlap.

use super::doc::{Doc, Line};
use super::{Hunk, HunkLine};

/// How one document line is compared with one hunk line.
#[derive(Clone, Copy)]
enum Compare {
    Exact,
    IgnoreTrailingSpace,
}

impl Compare {
    fn eq(self, doc: &str, hunk: &str) -> bool {
        match self {
            Self::Exact => doc == hunk,
            Self::IgnoreTrailingSpace => doc.trim_end() == hunk.trim_end(),
        }
    }
}

/// Why a hunk could not be placed.
enum Miss {
    NotFound,
    Ambiguous(Vec<usize>),
    /// A hunk without old lines (pure insertion) can only be placed by its
    /// line number, and that is missing or outside the file.
    NoAnchor,
}

/// Applies `hunks` to `doc` in order. New lines end with `\r\n` when
/// `new_line_crlf`. The error is the "hunk N (@@ ... @@) ..." part of a
/// message; the caller adds the path.
pub(super) fn apply_hunks(
    doc: &mut Doc,
    hunks: &[Hunk],
    new_line_crlf: bool,
) -> Result<(), String> {
    // Where the next hunk is expected relative to its header: earlier hunks
    // changed the line count, and a header that was off once is usually off
    // by the same amount again.
    let mut shift: i128 = 0;
    let mut min_pos = 0;
    for (index, hunk) in hunks.iter().enumerate() {
        let old: Vec<&str> = hunk
            .lines
            .iter()
            .filter_map(|line| match line {
                HunkLine::Context(text) | HunkLine::Remove(text) => Some(text.as_str()),
                HunkLine::Add { .. } => None,
            })
            .collect();
        let header_pos = hunk.range.map(|r| {
            // `-l,0` means "after line l"; otherwise l is the first old line.
            if r.old_count == 0 || old.is_empty() {
                r.old_start as i128
            } else {
                r.old_start as i128 - 1
            }
        });
        let expected = header_pos.map(|pos| pos + shift);
        let pos = place(&doc.lines, &old, expected, min_pos)
            .map_err(|miss| describe(index, hunk, miss))?;

        let at_end = pos + old.len() == doc.lines.len();
        let mut kept = doc.lines[pos..pos + old.len()].iter();
        let mut replacement = Vec::new();
        for line in &hunk.lines {
            match line {
                // The document's own line, not the hunk's: a fuzzy match must
                // not rewrite whitespace the hunk did not mean to change.
                HunkLine::Context(_) => replacement.extend(kept.next().cloned()),
                HunkLine::Remove(_) => {
                    kept.next();
                }
                HunkLine::Add { text, .. } => replacement.push(Line {
                    text: text.clone(),
                    crlf: new_line_crlf,
                }),
            }
        }
        let new_len = replacement.len();
        doc.lines.splice(pos..pos + old.len(), replacement);
        if at_end {
            if hunk.new_no_eol {
                doc.trailing_newline = false;
            } else if hunk.old_no_eol {
                doc.trailing_newline = true;
            }
        }
        if let Some(header_pos) = header_pos {
            shift = pos as i128 - header_pos + new_len as i128 - old.len() as i128;
        }
        min_pos = pos + new_len;
    }
    Ok(())
}

/// Finds where `old` goes in `lines`, at or after `min_pos`.
fn place(
    lines: &[Line],
    old: &[&str],
    expected: Option<i128>,
    min_pos: usize,
) -> Result<usize, Miss> {
    let expected = expected.and_then(|e| usize::try_from(e).ok());
    if old.is_empty() {
        return match expected {
            Some(pos) if (min_pos..=lines.len()).contains(&pos) => Ok(pos),
            // Into an empty file there is one place to insert, whatever the
            // header says (models write `-1,0` as often as `-0,0`).
            _ if lines.is_empty() => Ok(0),
            _ => Err(Miss::NoAnchor),
        };
    }
    let Some(last_start) = lines.len().checked_sub(old.len()) else {
        return Err(Miss::NotFound);
    };
    let fits = |pos: usize, compare: Compare| {
        lines[pos..pos + old.len()]
            .iter()
            .zip(old)
            .all(|(line, old)| compare.eq(&line.text, old))
    };
    let all_hits = |compare| -> Vec<usize> {
        (min_pos..=last_start)
            .filter(|&pos| fits(pos, compare))
            .collect()
    };
    let expected = expected.filter(|pos| (min_pos..=last_start).contains(pos));
    if let Some(pos) = expected.filter(|&pos| fits(pos, Compare::Exact)) {
        return Ok(pos);
    }
    let exact = all_hits(Compare::Exact);
    let loose_at_expected = expected.filter(|&pos| fits(pos, Compare::IgnoreTrailingSpace));
    match (exact.as_slice(), loose_at_expected) {
        ([pos], None) => Ok(*pos),
        // An exact match elsewhere and a loose one where the header points
        // are two readings of the hunk: refuse rather than pick one.
        ([pos], Some(loose)) => Err(Miss::Ambiguous(vec![(*pos).min(loose), (*pos).max(loose)])),
        ([], Some(loose)) => Ok(loose),
        ([], None) => match all_hits(Compare::IgnoreTrailingSpace).as_slice() {
            [] => Err(Miss::NotFound),
            [pos] => Ok(*pos),
            hits => Err(Miss::Ambiguous(hits.to_vec())),
        },
        (hits, _) => Err(Miss::Ambiguous(hits.to_vec())),
    }
}

fn describe(index: usize, hunk: &Hunk, miss: Miss) -> String {
    let what = match (miss, hunk.range) {
        (Miss::NotFound, Some(range)) => format!("context not found near line {}", range.old_start),
        (Miss::NotFound, None) => {
            "context not found (the hunk header has no line numbers)".to_owned()
        }
        (Miss::Ambiguous(hits), range) => {
            let mut at: Vec<String> = hits
                .iter()
                .take(5)
                .map(|pos| (pos + 1).to_string())
                .collect();
            if hits.len() > 5 {
                at.push("...".into());
            }
            let header = range.map_or_else(
                || "the header has no line number".to_owned(),
                |r| format!("the header says line {}", r.old_start),
            );
            format!(
                "context matches at lines {} ({header}); add context lines or fix the line number",
                at.join(", ")
            )
        }
        (Miss::NoAnchor, Some(range)) => format!(
            "only adds lines, and line {} is not a place in the file to add them",
            range.old_start
        ),
        (Miss::NoAnchor, None) => {
            "only adds lines, and the hunk header has no line number to place them".to_owned()
        }
    };
    format!("hunk {} ({}) {what}", index + 1, hunk.header)
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
