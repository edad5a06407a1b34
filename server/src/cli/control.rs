//! Applying a person's decision to a run from the shell, then following the
//! run in the foreground like `agentls run` does.

use agentls_engine::{EngineError, RunStatus};

use super::args::{ControlArgs, DecisionArgs, OverrideArgs, StepArgs};
use super::run::{finish, Follow};
use super::workspace::CliWorkspace;
use super::Fail;

/// Opens the workspace, resolves the run, applies `act`, then follows the
/// run to where it stops.
async fn apply(
    args: &ControlArgs,
    act: impl FnOnce(&agentls_engine::Engine, &agentls_engine::RunId) -> Result<(), Fail>,
) -> Result<u8, Fail> {
    let ws = CliWorkspace::open(args.ws.workspace.as_deref())?;
    let engine = ws.engine()?;
    let run = ws.resolve(&engine, &args.run)?;
    let follow = Follow::new(&engine, args.json);
    act(&engine, &run)?;
    let record = engine.store().run(&run).map_err(EngineError::from)?;
    if record.status == RunStatus::Running && !engine.is_active(&run) {
        // An answer to an agent's question inside a drive of another
        // agentls (the editor's server, an `agentls run`): it goes on there.
        if !args.json {
            println!(
                "run {run} goes on in the agentls that drives it; `agentls show {run}` follows it"
            );
        }
        return Ok(0);
    }
    finish(&engine, &run, &follow).await
}

pub async fn resume(args: ControlArgs) -> Result<u8, Fail> {
    apply(&args, |engine, run| Ok(engine.resume(run)?)).await
}

pub async fn retry(args: StepArgs) -> Result<u8, Fail> {
    let step = args.step.clone();
    apply(&args.control, |engine, run| {
        Ok(engine.retry(run, step.as_deref())?)
    })
    .await
}

pub async fn skip(args: StepArgs) -> Result<u8, Fail> {
    let step = args.step.clone();
    apply(&args.control, |engine, run| {
        Ok(engine.skip(run, step.as_deref())?)
    })
    .await
}

pub async fn override_output(args: OverrideArgs) -> Result<u8, Fail> {
    let limit = agentls_files::Limit::DOCUMENT.named("--output-file");
    let output = if args.output_file.as_os_str() == "-" {
        agentls_files::read_stream_to_string(std::io::stdin(), "stdin".as_ref(), limit)
            .map_err(|e| Fail::usage(e.to_string()))?
    } else {
        agentls_files::read_to_string(&args.output_file, limit)
            .map_err(|e| Fail::usage(e.to_string()))?
    };
    let step = args.step.clone();
    apply(&args.control, |engine, run| {
        engine.override_output(run, &step, &output)?;
        // The cap applies to overrides too: say so before following the run.
        let record = engine
            .store()
            .run(run)
            .map_err(|e| Fail::usage(e.to_string()))?;
        if let Some(note) = record
            .steps
            .iter()
            .find(|s| s.step_id == step && s.output_truncated)
            .and_then(|s| s.error.as_deref())
        {
            eprintln!("agentls: step `{step}`: {note}");
        }
        Ok(())
    })
    .await
}

pub async fn approve(args: DecisionArgs) -> Result<u8, Fail> {
    let (step, reason, always) = (args.step.clone(), args.reason.clone(), args.always);
    apply(&args.control, |engine, run| {
        Ok(engine.approve_with(run, step.as_deref(), reason.as_deref(), always)?)
    })
    .await
}

pub async fn reject(args: DecisionArgs) -> Result<u8, Fail> {
    let (step, reason) = (args.step.clone(), args.reason.clone());
    apply(&args.control, |engine, run| {
        Ok(engine.reject(run, step.as_deref(), reason.as_deref())?)
    })
    .await
}
