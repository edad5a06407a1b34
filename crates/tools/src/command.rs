//! `run_command`'s result text. The command itself runs in the engine,
//! through `agentls-exec` (PTY, timeout, process group, sandbox); this is
//! only what the model reads afterwards.

use std::fmt::Write as _;
use std::time::Duration;

use agentls_exec::Termination;

/// The tool result of a command: how it ended first (`exit status 101 after
/// 2.1 s`), then its output, at most `cap` bytes of it. A longer output
/// keeps its start and its end (the error is usually at the end, the
/// command's own summary too) with a line between saying how many bytes
/// were cut and what the cap is.
pub fn format_command_result(
    termination: Termination,
    duration: Duration,
    output: &str,
    cap: usize,
) -> String {
    let seconds = duration.as_secs_f64();
    let mut text = match termination {
        Termination::Exited(code) => format!("exit status {code} after {seconds:.1} s"),
        Termination::Signaled(signal) => {
            format!("killed by signal {signal} after {seconds:.1} s")
        }
        Termination::TimedOut => {
            format!("timed out after {seconds:.1} s; the command and its process group were killed")
        }
        Termination::Cancelled => format!("cancelled after {seconds:.1} s"),
    };
    if output.is_empty() {
        text.push_str("\n(no output)");
        return text;
    }
    text.push('\n');
    if output.len() <= cap {
        text.push_str(output);
        return text;
    }
    let head = floor_line(output, cap / 2);
    let tail = ceil_line(output, output.len() - (cap - head.len()));
    let cut = output.len() - head.len() - tail.len();
    text.push_str(head);
    if !head.ends_with('\n') {
        text.push('\n');
    }
    let _ = writeln!(
        text,
        "[… {cut} bytes cut: the output is capped at {} for the model; the start and the end are shown …]",
        agentls_files::human_size(cap as u64)
    );
    text.push_str(tail);
    text
}

/// The longest start of `text` of at most `max` bytes, ending at a line
/// break when there is one in it (else at a character boundary).
fn floor_line(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind('\n') {
        Some(at) => &text[..=at],
        None => &text[..end],
    }
}

/// The end of `text` from byte `from` on, starting after a line break when
/// there is one in the first part (else at a character boundary).
fn ceil_line(text: &str, from: usize) -> &str {
    let mut start = from.min(text.len());
    while !text.is_char_boundary(start) {
        start += 1;
    }
    match text[start..].find('\n') {
        Some(at) if start + at + 1 < text.len() => &text[start + at + 1..],
        _ => &text[start..],
    }
}
