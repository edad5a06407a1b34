//! `agent.cancel {runId?, uri?}`: cancels a run (without `runId`: the
//! newest one not finished): kills its processes, closes its model streams
//! and ends its progress. Answers with the run's state once the engine has
//! recorded the cancellation, or after a short wait with the state so far
//! (`status` still running) when a step takes longer to stop.

use std::time::Duration;

use agentls_engine::RunStatus;
use tower_lsp_server::jsonrpc::Result;

use super::engine_error;
use crate::lsp::protocol::{RunArgs, RunState};
use crate::lsp::server::State;
use crate::lsp::surface::{self, Pick};

/// How long the command waits for the run to stop before answering.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

const CANCELLABLE: &[RunStatus] = &[
    RunStatus::Queued,
    RunStatus::Running,
    RunStatus::Waiting,
    RunStatus::Failed,
    RunStatus::Interrupted,
];

pub async fn run(state: &State, args: RunArgs) -> Result<RunState> {
    let (surface, run) = surface::find_run(
        state,
        args.uri.as_ref(),
        args.run_id.as_deref(),
        Pick::Newest(CANCELLABLE),
    )?;
    let stopped = cancel_in_task(surface.engine().clone(), run.clone());
    // The run stops in its own task; this only bounds how long we wait to
    // report it (an `edit` step may be waiting on the editor).
    if let Ok(Ok(Err(err))) = tokio::time::timeout(ANSWER_WITHIN, stopped).await {
        return Err(engine_error(err));
    }
    surface.run_state(&run).map_err(engine_error)
}

/// Cancels `run` in a task of its own, so it completes whatever happens to
/// the request that asked for it.
pub fn cancel_in_task(
    engine: agentls_engine::Engine,
    run: agentls_engine::RunId,
) -> tokio::task::JoinHandle<
    std::result::Result<agentls_engine::RunRecord, agentls_engine::EngineError>,
> {
    tokio::spawn(async move {
        let result = engine.cancel(&run).await;
        if let Err(err) = &result {
            tracing::warn!("cancelling run {run}: {err}");
        }
        result
    })
}
