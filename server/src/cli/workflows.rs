//! `agentls workflows` and `agentls check`.

use super::workspace::CliWorkspace;
use super::{Fail, WorkspaceArg};

pub fn list(ws: &WorkspaceArg, json: bool) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(ws.workspace.as_deref())?;
    let catalog = ws.session.workflows();
    if json {
        let list: Vec<_> = catalog
            .workflows
            .values()
            .map(crate::session::workflow_info)
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
        return Ok(0);
    }
    for w in catalog.workflows.values() {
        println!(
            "{:<20} {:<10} {}",
            w.name,
            w.source.kind.as_str(),
            w.title
                .as_deref()
                .or(w.description.as_deref())
                .unwrap_or("")
        );
    }
    for problem in &catalog.problems {
        if problem.has_errors() {
            eprintln!("{:<20} broken: see `agentls check`", problem.name);
        }
    }
    Ok(0)
}

pub fn check(ws: &WorkspaceArg) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(ws.workspace.as_deref())?;
    let catalog = ws.session.workflows();
    for problem in &catalog.problems {
        for line in problem.format_cli() {
            println!("{line}");
        }
    }
    if catalog.has_errors() {
        Ok(1)
    } else {
        println!("{} workflow(s) ok", catalog.workflows.len());
        Ok(0)
    }
}
