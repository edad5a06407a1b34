//! Typed access to spanned TOML values, reporting wrong types, unknown keys
//! and "did you mean" suggestions at exact positions.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::{Diagnostic, DiagnosticCode, LineIndex, Severity, TextRange};

/// Collects diagnostics for one file.
pub(crate) struct Reporter<'t> {
    pub(crate) text: &'t str,
    index: LineIndex<'t>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'t> Reporter<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Reporter {
            text,
            index: LineIndex::new(text),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, code: DiagnosticCode, span: Range<usize>, message: String) {
        self.push(Severity::Error, code, span, message);
    }

    pub(crate) fn warning(&mut self, code: DiagnosticCode, span: Range<usize>, message: String) {
        self.push(Severity::Warning, code, span, message);
    }

    fn push(
        &mut self,
        severity: Severity,
        code: DiagnosticCode,
        span: Range<usize>,
        message: String,
    ) {
        self.diagnostics.push(Diagnostic {
            severity,
            code,
            message,
            range: self.index.range(span),
        });
    }

    pub(crate) fn range(&self, span: Range<usize>) -> TextRange {
        self.index.range(span)
    }

    pub(crate) fn line_of(&self, offset: usize) -> u32 {
        self.index.position(offset).line + 1
    }

    /// Report every key of `table` not in `allowed`, with a suggestion.
    pub(crate) fn unknown_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], place: &str) {
        for (key, _) in table.iter() {
            let name: &str = key.get_ref();
            if allowed.contains(&name) {
                continue;
            }
            let hint = match did_you_mean(name, allowed) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => format!("; known keys: {}", allowed.join(", ")),
            };
            self.error(
                DiagnosticCode::UnknownKey,
                key.span(),
                format!("unknown key `{name}` in {place}{hint}"),
            );
        }
    }

    fn wrong_type(&mut self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        self.error(
            DiagnosticCode::WrongType,
            value.span(),
            format!(
                "`{key}` must be {expected}, found {}",
                a_type(value.get_ref())
            ),
        );
    }

    pub(crate) fn string(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    pub(crate) fn boolean(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(key, value, "`true` or `false`");
                None
            }
        }
    }

    pub(crate) fn integer(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<i64> {
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.error(
                        DiagnosticCode::OutOfRange,
                        value.span(),
                        format!("`{key}` is too large"),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(key, value, "an integer");
                None
            }
        }
    }

    pub(crate) fn table<'v, 'i>(
        &mut self,
        key: &str,
        value: &'v Spanned<DeValue<'i>>,
        example: &str,
    ) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(key, value, &format!("a table, e.g. {example}"));
                None
            }
        }
    }

    /// An array of strings, each spanned.
    pub(crate) fn strings(
        &mut self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<Vec<Spanned<String>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(key, value, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Spanned::new(item.span(), s.to_string())),
                _ => self.wrong_type(&format!("{key}[...]"), item, "a string"),
            }
        }
        Some(out)
    }
}

/// "a string", "an integer", ... for messages.
pub(crate) fn a_type(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The closest candidate within a small edit distance, for typos.
pub(crate) fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let len = word.chars().count();
    let limit = (len / 3).clamp(1, 3);
    // A suggestion must keep part of the word: `b` is not a typo of `a`.
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= limit && *d < len && *d < c.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars, with adjacent transpositions counted as one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// Map offsets inside a string value back to the file, when the string's
/// source text is its value verbatim (no escapes). Returns the source range of
/// `inner` (a byte range of the value), or `None` if the mapping is not exact.
pub(crate) fn map_into_source(
    text: &str,
    span: &Range<usize>,
    value: &str,
    inner: Range<usize>,
) -> Option<Range<usize>> {
    let raw = text.get(span.clone())?;
    let (open, close) = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        (3, 3)
    } else if raw.starts_with('"') || raw.starts_with('\'') {
        (1, 1)
    } else {
        return None;
    };
    let mut content_start = open;
    let content = raw.get(open..raw.len().checked_sub(close)?)?;
    let mut content = content;
    // TOML drops a newline right after the opening delimiter of a multi-line string.
    if open == 3 {
        for nl in ["\r\n", "\n"] {
            if let Some(rest) = content.strip_prefix(nl) {
                content = rest;
                content_start += nl.len();
                break;
            }
        }
    }
    if content != value || inner.end > value.len() {
        return None;
    }
    let base = span.start + content_start;
    Some(base + inner.start..base + inner.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_close_names_only() {
        let keys = ["title", "timeout", "retries", "allow_failure"];
        assert_eq!(did_you_mean("tittle", &keys), Some("title"));
        assert_eq!(did_you_mean("retires", &keys), Some("retries"));
        assert_eq!(did_you_mean("allow_failures", &keys), Some("allow_failure"));
        assert_eq!(did_you_mean("command", &keys), None);
        assert_eq!(did_you_mean("b", &["a"]), None);
    }

    #[test]
    fn string_offsets_map_only_when_verbatim() {
        let text = "a = \"x {{ y }}\"\nb = \"\"\"\nl1\n{{ z }}\"\"\"\nc = \"q\\n{{ w }}\"";
        let a = 4..15;
        assert_eq!(map_into_source(text, &a, "x {{ y }}", 2..4), Some(7..9));
        let b_start = text.find("\"\"\"").unwrap();
        let b = b_start..text.rfind("\"\"\"").unwrap() + 3;
        let mapped = map_into_source(text, &b, "l1\n{{ z }}", 3..5).unwrap();
        assert_eq!(&text[mapped], "{{");
        let c_start = text.rfind("c = ").unwrap() + 4;
        let c = c_start..text.len();
        assert_eq!(map_into_source(text, &c, "q\n{{ w }}", 2..4), None);
    }
}
