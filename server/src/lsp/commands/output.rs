//! `agent.output {runId?, step?, uri?}`: the full stored output of a step
//! (capped per step by `[store] max_output_bytes`), or, without `step`,
//! every step's output under a heading. Without `runId`: the newest run.
//! Output skipped in the live stream is all here. Clients that discard
//! results also get it as a document (`lsp::reveal`).

use tower_lsp_server::jsonrpc::Result;

use super::engine_error;
use crate::lsp::protocol::{OutputResult, StepArgs};
use crate::lsp::reveal::{self, View};
use crate::lsp::server::State;
use crate::lsp::surface::{self, Pick};

pub fn run(state: &State, args: StepArgs) -> Result<OutputResult> {
    let (surface, run) = surface::find_run(
        state,
        args.uri.as_ref(),
        args.run_id.as_deref(),
        Pick::Latest,
    )?;
    let store = surface.engine().store();
    let record = store.run(&run).map_err(|e| engine_error(e.into()))?;
    if let Some(step) = args.step.as_deref() {
        let found = record.step(step).ok_or_else(|| {
            let ids: Vec<&str> = record.steps.iter().map(|s| s.step_id.as_str()).collect();
            tower_lsp_server::jsonrpc::Error::invalid_params(format!(
                "run {run} has no step `{step}`; its steps are: {}",
                ids.join(", ")
            ))
        })?;
        let text = store
            .step_output(&run, step)
            .map_err(|e| engine_error(e.into()))?;
        let result = OutputResult {
            run_id: run.to_string(),
            step: Some(step.to_owned()),
            status: found.status.as_str(),
            truncated: found.output_truncated,
            text,
        };
        let view = View::Output {
            run: run.as_str(),
            step: Some(step),
        };
        reveal::show(&state.caps(), &surface, view, reveal::output_text(&result));
        return Ok(result);
    }
    let mut text = String::new();
    let mut truncated = false;
    for step in &record.steps {
        let output = store
            .step_output_at(&run, step.idx)
            .map_err(|e| engine_error(e.into()))?;
        truncated |= step.output_truncated;
        text.push_str(&format!(
            "## step `{}` ({})\n",
            step.step_id,
            step.status.as_str()
        ));
        if !output.is_empty() {
            text.push_str(output.trim_end_matches('\n'));
            text.push('\n');
        }
        if let Some(error) = &step.error {
            text.push_str(&format!("[{error}]\n"));
        }
        text.push('\n');
    }
    let result = OutputResult {
        run_id: run.to_string(),
        step: None,
        status: record.status.as_str(),
        truncated,
        text,
    };
    let view = View::Output {
        run: run.as_str(),
        step: None,
    };
    reveal::show(&state.caps(), &surface, view, reveal::output_text(&result));
    Ok(result)
}
