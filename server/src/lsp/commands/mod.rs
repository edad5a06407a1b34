//! `workspace/executeCommand`: one file per command. Each takes one object
//! argument (every field optional where a default makes sense) and answers
//! with JSON, or a JSON-RPC error that says what was wrong.
//!
//! No command waits on the editor (docs/architecture.md): `agent.run` answers
//! with the run id while the run goes on in a task; requests to the editor
//! (progress, edits, documents) are sent from tasks.

mod approve;
mod cancel;
mod config;
mod document;
mod output;
mod override_output;
mod reject;
mod resume;
mod retry;
mod run;
mod runs;
mod skip;
mod stats;
mod status;
mod workflows;

use agentls_engine::EngineError;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, ProgressToken};

use super::errors::{bounded_error, echo};
use super::server::State;

pub use cancel::cancel_in_task;
pub use run::NAME as RUN;

/// Every command the server executes, as listed in its capabilities.
pub const NAMES: &[&str] = &[
    workflows::NAME,
    run::NAME,
    status::NAME,
    runs::NAME,
    output::NAME,
    cancel::NAME,
    retry::NAME,
    skip::NAME,
    override_output::NAME,
    resume::NAME,
    approve::NAME,
    reject::NAME,
    stats::NAME,
    config::NAME,
    document::NAME,
];

/// The JSON-RPC error code for an action the run's state does not allow,
/// or a workflow that may not run as asked (see docs/protocol.md).
pub const RUN_REFUSED: i64 = -32001;

/// Runs a command. Every error leaves bounded: a message quotes what the
/// client sent at most in part (see `errors`).
pub async fn execute(state: &State, params: ExecuteCommandParams) -> Result<Value> {
    dispatch(state, params).await.map_err(bounded_error)
}

async fn dispatch(state: &State, params: ExecuteCommandParams) -> Result<Value> {
    let command = params.command.as_str();
    let token = params.work_done_progress_params.work_done_token;
    let arguments = params.arguments;
    match command {
        workflows::NAME => workflows::run(state, args(command, arguments)?),
        run::NAME => run::run(state, args(command, arguments)?, token),
        status::NAME => status::run(state, args(command, arguments)?),
        stats::NAME => stats::run(state, args(command, arguments)?),
        runs::NAME => runs::run(state, args(command, arguments)?),
        output::NAME => output::run(state, args(command, arguments)?),
        cancel::NAME => cancel::run(state, args(command, arguments)?).await,
        retry::NAME => retry::run(state, args(command, arguments)?, token).await,
        skip::NAME => skip::run(state, args(command, arguments)?, token).await,
        override_output::NAME => {
            override_output::run(state, args(command, arguments)?, token).await
        }
        resume::NAME => resume::run(state, args(command, arguments)?, token).await,
        approve::NAME => approve::run(state, args(command, arguments)?, token).await,
        reject::NAME => reject::run(state, args(command, arguments)?).await,
        config::NAME => config::run(state, args(command, arguments)?),
        document::NAME => document::run(state, args(command, arguments)?),
        _ => Err(Error::invalid_params(format!(
            "unknown command `{}`; this server knows: {}",
            echo(command),
            NAMES.join(", ")
        ))),
    }
}

/// The single object argument of a command; no argument means all defaults.
fn args<T: DeserializeOwned + Default>(command: &str, arguments: Vec<Value>) -> Result<T> {
    let mut arguments = arguments.into_iter();
    let first = arguments.next();
    if arguments.next().is_some() {
        return Err(Error::invalid_params(format!(
            "`{command}` takes one object argument"
        )));
    }
    match first {
        None | Some(Value::Null) => Ok(T::default()),
        Some(value) => serde_json::from_value(value)
            .map_err(|err| Error::invalid_params(format!("`{command}`: bad argument: {err}"))),
    }
}

/// A JSON-RPC error for an engine refusal, with what a client needs to act
/// on it in `data`.
fn engine_error(err: EngineError) -> Error {
    let message = err.to_string();
    match err {
        EngineError::Params { .. } => Error::invalid_params(message),
        EngineError::Untrusted(trust) => Error {
            code: ErrorCode::ServerError(RUN_REFUSED),
            message: message.into(),
            data: Some(json!({"trustRequired": {
                "workflow": trust.workflow,
                "path": trust.path,
                "hash": trust.hash,
                "actions": trust.actions,
            }})),
        },
        EngineError::WrongState { .. }
        | EngineError::Busy { .. }
        | EngineError::UnknownStep { .. }
        | EngineError::WrongStep { .. }
        | EngineError::Snapshot { .. } => Error {
            code: ErrorCode::ServerError(RUN_REFUSED),
            message: message.into(),
            data: None,
        },
        EngineError::Store(_) | EngineError::StateDir { .. } => Error {
            code: ErrorCode::InternalError,
            message: message.into(),
            data: None,
        },
    }
}

/// Runs `action` on the run a command names, then answers with the run's
/// state. `token`: the progress of the run's next drive.
async fn act_on_run(
    state: &State,
    target: &RunTarget,
    pick: super::runs::Pick,
    token: Option<ProgressToken>,
    action: impl FnOnce(
        &agentls_engine::Tagged<'_>,
        &agentls_engine::RunId,
    ) -> std::result::Result<(), EngineError>,
) -> Result<Value> {
    let (surface, run) =
        super::runs::find_run(state, target.uri.as_ref(), target.run_id.as_deref(), pick)?;
    surface
        .drive(token, |engine| action(engine, &run))
        .map_err(engine_error)?;
    surface.run_json(&run).map_err(engine_error)
}

/// The run a command names: `runId` (an id or a unique prefix), looked up
/// in the workspace owning `uri` or in every workspace folder.
struct RunTarget {
    run_id: Option<String>,
    uri: Option<tower_lsp_server::ls_types::Uri>,
}
