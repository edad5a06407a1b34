//! Command results a person can see in editors that discard them.
//!
//! Helix (and any client that sets the editor key `showResults`) throws away
//! what `workspace/executeCommand` returns, so `agent.status`, `agent.runs`,
//! `agent.output` and `agent.diff` would show a blank screen. For those clients the
//! answer is also written as text to a file in the workspace's state
//! directory (`<state>/<workspace>/views/`, next to the transcripts) and
//! opened with `window/showDocument`; a client that cannot show documents
//! gets the first lines as a `window/showMessage`. The JSON result is
//! unchanged.
//!
//! Must never: wait on the editor in the handler (the request is sent from a
//! task), or write inside a workspace.

use std::fmt::Write as _;
use std::path::PathBuf;

use tower_lsp_server::ls_types::MessageType;

use super::client::ClientCaps;
use super::convert;
use super::protocol::{OutputResult, RunState, RunSummary, StatusResult};
use super::surface::Surface;

/// Which answer is shown: names the file it is written to.
pub enum View<'a> {
    Runs,
    Status,
    Output { run: &'a str, step: Option<&'a str> },
    Diff { run: &'a str },
}

impl View<'_> {
    pub fn file_name(&self) -> String {
        match self {
            View::Runs => "runs.txt".into(),
            View::Status => "status.txt".into(),
            View::Output { run, step: None } => format!("output-{run}.txt"),
            View::Output {
                run,
                step: Some(step),
            } => format!("output-{run}-{step}.txt"),
            // The file `agent.diff` names in its result, too.
            View::Diff { run } => format!("diff-{run}.diff"),
        }
    }
}

/// Shows `text` to the user if the client would not show the command's
/// result itself. Never waits on the editor.
pub fn show(caps: &ClientCaps, surface: &Surface, view: View<'_>, text: String) {
    if !caps.show_results {
        return;
    }
    if !caps.show_document {
        surface.tell(MessageType::INFO, first_lines(&text, 8));
        return;
    }
    let path = surface.views_dir().join(view.file_name());
    if let Err(err) = write(&path, &text) {
        tracing::warn!("cannot write {}: {err}", path.display());
        surface.tell(MessageType::INFO, first_lines(&text, 8));
        return;
    }
    let Some(uri) = convert::uri(&path) else {
        return;
    };
    let requests = surface.requests();
    tokio::spawn(async move {
        match requests.show_document(uri, true).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("the editor could not open {}", path.display()),
            Err(err) => tracing::warn!("{} not shown: {err}", path.display()),
        }
    });
}

fn write(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

fn first_lines(text: &str, n: usize) -> String {
    let mut lines: Vec<&str> = text.lines().take(n + 1).collect();
    if lines.len() > n {
        lines.truncate(n);
        lines.push("…");
    }
    lines.join("\n")
}

/// `agent.runs`: one line per run, newest first.
pub fn runs_text(caps: &ClientCaps, runs: &[RunSummary]) -> String {
    let mut out = String::from("agentls: runs, newest first\n\n");
    if runs.is_empty() {
        out.push_str("No runs yet.\n");
    }
    for run in runs {
        let _ = writeln!(
            out,
            "{}  {:<11}  {:>2}/{:<2}  {:>8}  {}{}",
            run.run_id,
            run.status.as_str(),
            run.steps_done,
            run.steps_total,
            crate::state::ago(run.created_at),
            run.workflow,
            run.error
                .as_deref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default(),
        );
    }
    let _ = write!(
        out,
        "\nThe newest run's output: {}.\nAnother run: agent.output or agent.status with \
         {{\"runId\":\"<run>\"}}.\n",
        caps.command_hint("agent.output"),
    );
    out
}

/// `agent.status`: a run with its steps, or every unfinished run.
pub fn status_text(caps: &ClientCaps, status: &StatusResult) -> String {
    let mut out = String::new();
    match status {
        StatusResult::Unfinished(runs) if runs.is_empty() => {
            out.push_str("agentls: no run is in progress, waiting or paused.\n");
        }
        StatusResult::Unfinished(runs) => {
            out.push_str("agentls: runs not finished, oldest first\n");
            for run in runs {
                out.push('\n');
                run_text(&mut out, run);
            }
        }
        StatusResult::One(run) => run_text(&mut out, run),
    }
    let _ = write!(
        out,
        "\nEvery run: {}; a run's output: {}.\n",
        caps.command_hint("agent.runs"),
        caps.command_hint("agent.output"),
    );
    out
}

fn run_text(out: &mut String, run: &RunState) {
    let _ = writeln!(
        out,
        "run {}: {} ({}){}",
        run.run_id,
        run.workflow,
        run.status.as_str(),
        run.error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default(),
    );
    for step in &run.steps {
        let exit = step
            .exit_code
            .map(|c| format!(", exit {c}"))
            .unwrap_or_default();
        let title = step
            .title
            .as_deref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<10} {}{title} [{}{exit}]{}",
            step.status.as_str(),
            step.id,
            step.kind,
            step.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
        );
    }
    let _ = writeln!(out, "  transcript: {}", run.transcript.display());
}

/// `agent.output`: the stored output under a one-line heading.
pub fn output_text(output: &OutputResult) -> String {
    let step = output
        .step
        .as_deref()
        .map(|s| format!(", step `{s}`"))
        .unwrap_or_default();
    let truncated = if output.truncated {
        " (truncated: the store keeps the first [store] max_output_bytes of a step)"
    } else {
        ""
    };
    format!(
        "agentls: output of run {}{step} ({}){truncated}\n\n{}",
        output.run_id, output.status, output.text
    )
}

/// Where a surface writes the views (see the module doc).
pub fn views_dir(transcripts: &std::path::Path) -> PathBuf {
    transcripts.parent().unwrap_or(transcripts).join("views")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_show_one_line_each_and_how_to_go_on() {
        let caps = ClientCaps {
            kind: super::super::client::ClientKind::Helix,
            ..ClientCaps::default()
        };
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
        let run = RunSummary {
            run_id: "abc".into(),
            workflow: "test".into(),
            source: agentls_store::WorkflowSource::Workspace,
            status: agentls_engine::RunStatus::Failed,
            error: Some("exit 1".into()),
            actions: agentls_engine::RunStatus::Failed.actions(),
            workspace: "/w".into(),
            created_at: created,
            updated_at: created,
            finished_at: None,
            steps_total: 2,
            steps_done: 1,
        };
        let text = runs_text(&caps, &[run]);
        let ago = crate::state::ago(created);
        assert!(
            text.contains(&format!(
                "abc  failed        1/2   {ago:>8}  test  (exit 1)"
            )),
            "{text}"
        );
        assert!(text.contains("`:lsp-workspace-command agent.output` (space A o)"));
    }

    #[test]
    fn long_text_is_cut_for_a_message() {
        let text = (0..20)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(first_lines(&text, 3), "0\n1\n2\n…");
        assert_eq!(first_lines("a\nb", 3), "a\nb");
    }
}
