//! `agentls runs` and `agentls show`: the workspace's run history.

use super::run::{exit_code, run_json};
use super::workspace::CliWorkspace;
use super::{Fail, WorkspaceArg};

/// `limit` 0 lists every run: a zero-row listing would read as "no runs yet".
pub fn list(ws: &WorkspaceArg, limit: usize, json: bool) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(ws.workspace.as_deref())?;
    let engine = ws.engine()?;
    let limit = if limit == 0 { usize::MAX } else { limit };
    let runs = engine
        .store()
        .runs(limit)
        .map_err(|e| Fail::usage(e.to_string()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&runs).unwrap_or_default()
        );
        return Ok(0);
    }
    if runs.is_empty() {
        println!("no runs yet in {}", ws.root.display());
    }
    for run in runs {
        println!(
            "{}  {:<11}  {:>2}/{:<2}  {:>8}  {}{}",
            run.id,
            run.status.as_str(),
            run.steps_done,
            run.steps_total,
            crate::state::ago(run.created_at),
            run.workflow_name,
            run.error.map(|e| format!("  ({e})")).unwrap_or_default()
        );
    }
    Ok(0)
}

pub fn show(ws: &WorkspaceArg, run: &str, json: bool) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(ws.workspace.as_deref())?;
    let engine = ws.engine()?;
    let id = ws.resolve(&engine, run)?;
    let record = engine
        .store()
        .run(&id)
        .map_err(|e| Fail::usage(e.to_string()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&run_json(&engine, &record)).unwrap_or_default()
        );
        return Ok(exit_code(record.status));
    }
    println!(
        "run {}  {}  workflow {} ({})",
        record.id, record.status, record.workflow_name, record.workflow_source
    );
    if let Some(error) = &record.error {
        println!("  {error}");
    }
    if let Ok(Some(w)) = engine.worktree(&id) {
        let base = w.base.as_deref().map(|b| &b[..b.len().min(12)]);
        println!(
            "  isolated in worktree {} (branch {}, from {}, {})",
            w.path.display(),
            w.branch,
            base.unwrap_or("-"),
            w.state.as_str()
        );
    }
    for step in &record.steps {
        let code = step
            .exit_code
            .map(|c| format!(", exit {c}"))
            .unwrap_or_default();
        let attempts = if step.attempt > 1 {
            format!(", {} attempts", step.attempt)
        } else {
            String::new()
        };
        println!("\n## {} ({}{code}{attempts})", step.step_id, step.status);
        if let Some(error) = &step.error {
            println!("[{error}]");
        }
        let output = engine
            .store()
            .step_output_at(&id, step.idx)
            .unwrap_or_default();
        if !output.is_empty() {
            println!("{}", output.trim_end_matches('\n'));
        }
    }
    println!("\ntranscript: {}", engine.transcript_path(&id).display());
    Ok(exit_code(record.status))
}
