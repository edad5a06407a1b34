//! `workspace/executeCommand`: one file per command. Each takes one object
//! argument (every field optional where a default makes sense) and answers
//! with JSON, or a JSON-RPC error that says what was wrong.
//!
//! No command waits on the editor (docs/architecture.md): `agent.run` answers
//! with the run id while the run goes on in a task; requests to the editor
//! (progress, edits, documents) are sent from tasks.

mod apply;
mod approve;
mod cancel;
mod config;
mod diff;
mod discard;
mod document;
mod history;
mod output;
mod override_output;
mod reject;
mod resume;
mod retry;
mod run;
mod skip;
mod stats;
mod status;
mod workflows;

use agentls_engine::EngineError;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, ProgressToken};

use super::errors::{bounded_error, echo};
use super::server::State;

pub use cancel::cancel_in_task;

use super::protocol::{self as ext, Command};

/// The command code actions carry.
pub const RUN: &str = ext::Run::NAME;

/// Every command the server executes, as listed in its capabilities.
pub const NAMES: &[&str] = ext::COMMANDS;

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
    let a = params.arguments;
    match command {
        ext::Workflows::NAME => {
            answer::<ext::Workflows>(workflows::run(state, args::<ext::Workflows>(a)?))
        }
        ext::Run::NAME => answer::<ext::Run>(run::run(state, args::<ext::Run>(a)?, token)),
        ext::Status::NAME => answer::<ext::Status>(status::run(state, args::<ext::Status>(a)?)),
        ext::Stats::NAME => answer::<ext::Stats>(stats::run(state, args::<ext::Stats>(a)?)),
        ext::Runs::NAME => answer::<ext::Runs>(history::run(state, args::<ext::Runs>(a)?)),
        ext::Output::NAME => answer::<ext::Output>(output::run(state, args::<ext::Output>(a)?)),
        ext::Cancel::NAME => {
            answer::<ext::Cancel>(cancel::run(state, args::<ext::Cancel>(a)?).await)
        }
        ext::Retry::NAME => {
            answer::<ext::Retry>(retry::run(state, args::<ext::Retry>(a)?, token).await)
        }
        ext::Skip::NAME => {
            answer::<ext::Skip>(skip::run(state, args::<ext::Skip>(a)?, token).await)
        }
        ext::Override::NAME => answer::<ext::Override>(
            override_output::run(state, args::<ext::Override>(a)?, token).await,
        ),
        ext::Resume::NAME => {
            answer::<ext::Resume>(resume::run(state, args::<ext::Resume>(a)?, token).await)
        }
        ext::Approve::NAME => {
            answer::<ext::Approve>(approve::run(state, args::<ext::Approve>(a)?, token).await)
        }
        ext::Reject::NAME => {
            answer::<ext::Reject>(reject::run(state, args::<ext::Reject>(a)?).await)
        }
        ext::Config::NAME => answer::<ext::Config>(config::run(state, args::<ext::Config>(a)?)),
        ext::Document::NAME => {
            answer::<ext::Document>(document::run(state, args::<ext::Document>(a)?))
        }
        ext::Diff::NAME => answer::<ext::Diff>(diff::run(state, args::<ext::Diff>(a)?).await),
        ext::Apply::NAME => answer::<ext::Apply>(apply::run(state, args::<ext::Apply>(a)?).await),
        ext::Discard::NAME => {
            answer::<ext::Discard>(discard::run(state, args::<ext::Discard>(a)?).await)
        }
        _ => Err(Error::invalid_params(format!(
            "unknown command `{}`; this server knows: {}",
            echo(command),
            NAMES.join(", ")
        ))),
    }
}

/// Command `C`'s typed result, as the JSON it answers with.
fn answer<C: Command>(result: Result<C::Result>) -> Result<Value> {
    serde_json::to_value(result?).map_err(|err| super::errors::internal(err.to_string()))
}

/// The single object argument of command `C`; no argument means all defaults.
fn args<C: Command>(arguments: Vec<Value>) -> Result<C::Args> {
    let command = C::NAME;
    let mut arguments = arguments.into_iter();
    let first = arguments.next();
    if arguments.next().is_some() {
        return Err(Error::invalid_params(format!(
            "`{command}` takes one object argument"
        )));
    }
    match first {
        None | Some(Value::Null) => Ok(C::Args::default()),
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
        | EngineError::Isolation { .. }
        | EngineError::Busy { .. }
        | EngineError::UnknownStep { .. }
        | EngineError::WrongStep { .. }
        | EngineError::Answered { .. }
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
    pick: super::surface::Pick,
    token: Option<ProgressToken>,
    action: impl FnOnce(
        &agentls_engine::Tagged<'_>,
        &agentls_engine::RunId,
    ) -> std::result::Result<(), EngineError>,
) -> Result<ext::RunState> {
    let (surface, run) =
        super::surface::find_run(state, target.uri.as_ref(), target.run_id.as_deref(), pick)?;
    surface
        .drive(token, |engine| action(engine, &run))
        .map_err(engine_error)?;
    surface.run_state(&run).map_err(engine_error)
}

/// The run a command names: `runId` (an id or a unique prefix), looked up
/// in the workspace owning `uri` or in every workspace folder.
struct RunTarget {
    run_id: Option<String>,
    uri: Option<tower_lsp_server::ls_types::Uri>,
}
