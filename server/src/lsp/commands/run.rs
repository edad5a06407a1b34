//! `agent.run {workflow, uri?, range?, params?, diagnostics?}`: starts a
//! workflow on the document `uri` (the text and version the server holds
//! now), with `range` as the selection and `diagnostics` from the editor,
//! and answers `{runId}` at once: the run goes on in a task, its progress
//! uses the request's `workDoneToken` when there is one.
//!
//! A workspace workflow that needs the user's approval (trust) is refused
//! with the actions it would take in the error's `data`; editors that show
//! message requests are also asked, and "Trust and run" starts it.

use std::collections::BTreeMap;

use agentls_engine::{EngineError, StartRequest};
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::ProgressToken;

use super::engine_error;
use crate::lsp::errors::{echo, internal};
use crate::lsp::protocol::{RunStarted, StartArgs};
use crate::lsp::server::State;
use crate::lsp::surface::{self, inputs};

pub fn run(state: &State, args: StartArgs, token: Option<ProgressToken>) -> Result<RunStarted> {
    let session = surface::session_for(state, args.uri.as_ref())?;
    let catalog = session.workflows();
    let known = || {
        catalog
            .workflows
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = args.workflow.as_deref().ok_or_else(|| {
        Error::invalid_params(format!("`agent.run` needs `workflow`: one of {}", known()))
    })?;
    let workflow = catalog.get(name).ok_or_else(|| {
        let broken = catalog
            .problems
            .iter()
            .find(|p| p.name == name && p.has_errors())
            .map(|p| {
                format!(
                    " ({} has errors; `agentls check` lists them)",
                    p.path.display()
                )
            })
            .unwrap_or_default();
        Error::invalid_params(format!(
            "no workflow `{}`{broken}; this workspace has: {}",
            echo(name),
            known()
        ))
    })?;
    let params = params(args.params)?;
    let inputs = inputs::from_editor(
        &session,
        args.uri.as_ref(),
        args.range,
        &args.diagnostics,
        state.encoding(),
    )
    .map_err(Error::invalid_params)?;
    // The session has a folder (`session_for`): only its store can fail.
    let surface = state.surface(&session).map_err(internal)?;
    if let Some((path, problems)) = session.provider_question() {
        crate::lsp::trust::ask_config(
            surface.requests(),
            surface.clone(),
            session.clone(),
            path,
            problems,
        );
    }
    let request = StartRequest {
        workflow: workflow.clone(),
        params,
        inputs,
    };
    match surface.start(request.clone(), token.clone()) {
        Ok(run) => Ok(RunStarted {
            run_id: run.to_string(),
        }),
        Err(EngineError::Untrusted(trust)) => {
            state.ask_trust(surface, request, token, &trust);
            Err(engine_error(EngineError::Untrusted(trust)))
        }
        Err(err) => Err(engine_error(err)),
    }
}

/// Parameters are strings; numbers and booleans are taken as their text.
fn params(given: BTreeMap<String, Value>) -> Result<BTreeMap<String, String>> {
    given
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name, s)),
            Value::Number(n) => Ok((name, n.to_string())),
            Value::Bool(b) => Ok((name, b.to_string())),
            other => Err(Error::invalid_params(format!(
                "parameter `{}` must be a string, number or boolean, not {}",
                echo(&name),
                echo(&other.to_string())
            ))),
        })
        .collect()
}
