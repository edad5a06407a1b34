//! `workspace/executeCommand`: one file per command. Each takes one object
//! argument (every field optional where a default makes sense) and answers
//! with JSON, or a JSON-RPC error that says what was wrong.

mod config;
mod document;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::ExecuteCommandParams;

use super::server::State;

/// Every command the server executes, as listed in its capabilities.
pub const NAMES: &[&str] = &[config::NAME, document::NAME];

pub async fn execute(state: &State, params: ExecuteCommandParams) -> Result<Value> {
    let command = params.command.as_str();
    match command {
        config::NAME => config::run(state, args(command, params.arguments)?),
        document::NAME => document::run(state, args(command, params.arguments)?),
        _ => Err(Error::invalid_params(format!(
            "unknown command `{command}`; this server knows: {}",
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
