//! `agentls diff|apply|discard RUN`: the result of a run isolated in a
//! worktree (docs/cli.md). The engine does the work; this prints it.

use std::io::Write as _;

use super::args::WorktreeArgs;
use super::workspace::CliWorkspace;
use super::Fail;

/// Prints the run's patch on stdout (nothing when it changed nothing).
pub fn diff(args: WorktreeArgs) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(args.ws.workspace.as_deref())?;
    let engine = ws.engine()?;
    let run = ws.resolve(&engine, &args.run)?;
    let patch = engine.diff(&run)?;
    std::io::stdout()
        .write_all(patch.as_bytes())
        .map_err(|e| Fail::usage(format!("cannot write the patch: {e}")))?;
    Ok(0)
}

/// Applies the run's patch to the workspace on disk; exit 1, nothing
/// changed, when it does not apply (the files are named).
pub async fn apply(args: WorktreeArgs) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(args.ws.workspace.as_deref())?;
    let engine = ws.engine()?;
    let run = ws.resolve(&engine, &args.run)?;
    // Refusals of the run's state are usage errors (2); a patch that does
    // not apply to what the user has now is the command's failure (1).
    let patch = engine.patch_to_apply(&run)?;
    match engine.apply_patch(&run, patch).await {
        Ok(summary) => {
            eprintln!("agentls: run {run}: {summary}; its worktree is removed");
            Ok(0)
        }
        Err(err) => Err(Fail {
            code: 1,
            message: format!("{err}; nothing was applied, the run's worktree is kept"),
        }),
    }
}

/// Removes the run's worktree, branch and directory.
pub fn discard(args: WorktreeArgs) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(args.ws.workspace.as_deref())?;
    let engine = ws.engine()?;
    let run = ws.resolve(&engine, &args.run)?;
    engine.discard(&run)?;
    eprintln!("agentls: run {run}: its worktree and branch are removed");
    Ok(0)
}
