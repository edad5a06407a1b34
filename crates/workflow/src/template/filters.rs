//! The filters and functions agentls adds to minijinja's built-ins.
//!
//! `tail(n)`, `head(n)` (lines), `code` (first fenced code block),
//! `shell_quote` (POSIX single quoting for values put into `run` commands) and
//! the `fail(message)` function that stops a step with the author's message.

use minijinja::{Error, ErrorKind, Value};

/// Lines kept by `tail`/`head` when no count is given, as Unix `tail` does.
const DEFAULT_LINES: usize = 10;

/// The text of a value: strings as they are, anything else as rendered.
fn text_of(value: &Value) -> String {
    match value.as_str() {
        Some(s) => s.to_owned(),
        None => value.to_string(),
    }
}

/// Split into lines, remembering whether the text ended with a newline so
/// that `tail`/`head` give back text shaped like their input.
fn lines(text: &str) -> (Vec<&str>, bool) {
    let trailing = text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() && !trailing {
        return (Vec::new(), false);
    }
    (body.split('\n').collect(), trailing)
}

fn join(lines: &[&str], trailing: bool) -> String {
    let mut out = lines.join("\n");
    if trailing && !lines.is_empty() {
        out.push('\n');
    }
    out
}

/// `value | tail(n)`: the last `n` lines (default 10).
pub(crate) fn tail(value: &Value, n: Option<usize>) -> String {
    let text = text_of(value);
    let (lines, trailing) = lines(&text);
    let n = n.unwrap_or(DEFAULT_LINES).min(lines.len());
    join(&lines[lines.len() - n..], trailing)
}

/// `value | head(n)`: the first `n` lines (default 10).
pub(crate) fn head(value: &Value, n: Option<usize>) -> String {
    let text = text_of(value);
    let (lines, trailing) = lines(&text);
    let n = n.unwrap_or(DEFAULT_LINES).min(lines.len());
    join(&lines[..n], trailing)
}

/// `value | code`: the content of the first fenced code block (``` or ~~~,
/// any info string), or the whole text when there is none. An unclosed
/// fence runs to the end, as models sometimes stop mid-block.
pub(crate) fn code(value: &Value) -> String {
    let text = text_of(value);
    let mut fence: Option<(char, usize)> = None;
    let mut body: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        match fence {
            None => {
                if let Some(f) = fence_of(trimmed) {
                    fence = Some(f);
                }
            }
            Some((ch, len)) => {
                let closing = trimmed.trim_end();
                if closing.len() >= len && closing.chars().all(|c| c == ch) {
                    return body.concat();
                }
                body.push(line);
            }
        }
    }
    if fence.is_some() {
        body.concat()
    } else {
        text
    }
}

/// A line opening a fence: three or more backticks or tildes.
fn fence_of(line: &str) -> Option<(char, usize)> {
    let ch = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = line.chars().take_while(|c| *c == ch).count();
    (len >= 3).then_some((ch, len))
}

/// `value | shell_quote`: one POSIX shell word that the shell reads back as
/// exactly `value`, so command output or model text cannot inject commands.
pub(crate) fn shell_quote(value: &Value) -> String {
    let text = text_of(value);
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Carries the author's message through minijinja so it can be told apart
/// from the engine's own errors.
#[derive(Debug)]
pub(crate) struct UserFailure(pub String);

impl std::fmt::Display for UserFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserFailure {}

/// `fail("message")`: stop rendering; the step fails with `message`.
pub(crate) fn fail(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message.clone()).with_source(UserFailure(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        Value::from(s)
    }

    #[test]
    fn tail_and_head_keep_lines_and_the_trailing_newline() {
        assert_eq!(tail(&v("a\nb\nc\n"), Some(2)), "b\nc\n");
        assert_eq!(tail(&v("a\nb\nc"), Some(2)), "b\nc");
        assert_eq!(head(&v("a\nb\nc\n"), Some(1)), "a\n");
        assert_eq!(head(&v("a\nb"), Some(5)), "a\nb");
        assert_eq!(tail(&v(""), Some(3)), "");
        assert_eq!(tail(&v("x"), Some(0)), "");
        let many: String = (1..=20).map(|i| format!("{i}\n")).collect();
        assert_eq!(tail(&v(&many), None).lines().count(), 10);
        assert_eq!(tail(&Value::from(42), Some(1)), "42");
    }

    #[test]
    fn code_takes_the_first_fenced_block_or_everything() {
        let answer = "Here:\n```rust\nfn a() {}\n```\nand\n```\nsecond\n```\n";
        assert_eq!(code(&v(answer)), "fn a() {}\n");
        assert_eq!(code(&v("plain answer")), "plain answer");
        assert_eq!(code(&v("~~~~\nx\n~~~~")), "x\n");
        assert_eq!(code(&v("```\nunclosed\n")), "unclosed\n");
        assert_eq!(code(&v("  ```diff\n-a\n+b\n  ```\n")), "-a\n+b\n");
    }

    #[test]
    fn shell_quote_round_trips_quotes() {
        assert_eq!(
            shell_quote(&v("it's $(rm -rf x)")),
            r"'it'\''s $(rm -rf x)'"
        );
        assert_eq!(shell_quote(&v("")), "''");
    }
}
