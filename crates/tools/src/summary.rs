//! [`summary`]: the one line a tool call leaves in the live view
//! (`read src/lib.rs:10-40`, `edit src/lib.rs +3 −1`, `run cargo test
//! (exit 101, 2.1 s)`, `read ../x: refused (outside the workspace)`).

use std::time::Duration;

use agentls_exec::Termination;

use crate::Invocation;

/// What a call is doing while it runs, for the step's progress
/// (`turn 3/25: running cargo test`).
pub fn activity(invocation: &Invocation) -> String {
    match invocation {
        Invocation::ReadFile { path, .. } => format!("reading {path}"),
        Invocation::ListFiles { path, .. } => format!(
            "listing {}",
            path.as_deref()
                .filter(|path| !path.is_empty())
                .unwrap_or(".")
        ),
        Invocation::Search { pattern, .. } => format!("searching \"{}\"", short(pattern, 40)),
        Invocation::EditFile { path, .. } => format!("editing {path}"),
        Invocation::WriteFile { path, .. } => format!("writing {path}"),
        Invocation::RunCommand { command, .. } => format!("running {}", short(command, 60)),
    }
}

/// How a call went, as far as its summary tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `read_file` gave text back.
    Read,
    /// `list_files` found this many files.
    Listed { files: usize },
    /// `search` found this many matching lines.
    Searched { matches: usize },
    /// `edit_file` or `write_file` changed the file ([`crate::Planned`]'s counts).
    Changed { added: usize, removed: usize },
    /// `run_command` ended.
    Ran {
        termination: Termination,
        duration: Duration,
    },
    /// The call failed or was refused: the few words after the colon
    /// ([`crate::ToolError::short`], or the engine's own: "rejected").
    Failed(String),
}

/// The live view's line for `invocation`.
pub fn summary(invocation: &Invocation, outcome: &Outcome) -> String {
    let what = match invocation {
        Invocation::ReadFile {
            path,
            start_line,
            end_line,
        } => match (start_line, end_line) {
            (None, None) => format!("read {path}"),
            (start, end) => format!(
                "read {path}:{}-{}",
                start.unwrap_or(1),
                end.map(|end| end.to_string()).unwrap_or_default()
            ),
        },
        Invocation::ListFiles { path, glob } => {
            let dir = path.as_deref().filter(|path| !path.is_empty());
            let mut what = format!("list {}", dir.unwrap_or("."));
            if let Some(glob) = glob {
                what = format!("{what} {glob}");
            }
            what
        }
        Invocation::Search { pattern, glob, .. } => {
            let mut what = format!("search \"{}\"", short(pattern, 40));
            if let Some(glob) = glob {
                what = format!("{what} in {glob}");
            }
            what
        }
        Invocation::EditFile { path, .. } => format!("edit {path}"),
        Invocation::WriteFile { path, .. } => format!("write {path}"),
        Invocation::RunCommand { command, .. } => format!("run {}", short(command, 60)),
    };
    let detail = match (invocation, outcome) {
        (_, Outcome::Failed(why)) => return format!("{what}: {why}"),
        (_, Outcome::Listed { files }) => plural(*files, "file", "files"),
        (_, Outcome::Searched { matches }) => plural(*matches, "match", "matches"),
        (Invocation::WriteFile { content, .. }, Outcome::Changed { .. }) => {
            plural(content.lines().count(), "line", "lines")
        }
        (_, Outcome::Changed { added, removed }) => return format!("{what} +{added} −{removed}"),
        (
            _,
            Outcome::Ran {
                termination,
                duration,
            },
        ) => {
            let how = match termination {
                Termination::Exited(code) => format!("exit {code}"),
                Termination::Signaled(signal) => format!("signal {signal}"),
                Termination::TimedOut => "timed out".to_owned(),
                Termination::Cancelled => "cancelled".to_owned(),
            };
            format!("{how}, {:.1} s", duration.as_secs_f64())
        }
        (_, Outcome::Read) => return what,
    };
    format!("{what} ({detail})")
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The first line of `text`, at most `max` characters.
fn short(text: &str, max: usize) -> String {
    let line = text.trim().lines().next().unwrap_or("");
    let mut out: String = line.chars().take(max).collect();
    if out.len() < line.len() || line.len() < text.trim().len() {
        out.push('…');
    }
    out
}
