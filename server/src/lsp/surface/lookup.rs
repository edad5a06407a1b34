//! Finding the workspace a command means, and the run it names.
//!
//! A run id is looked up only in the stores of the sessions the command may
//! address (the one owning `uri`, else every workspace folder), and a run
//! is always returned with the surface of the session that owns it, so a
//! command can never act on another workspace's run through the wrong one.
//! Commands without a run id pick the most recent run that fits, which is
//! what a client that cannot pass arguments (Helix) needs.

use std::sync::Arc;

use agentls_engine::{RunId, RunStatus};
use agentls_store::StoreError;
use tower_lsp_server::jsonrpc::Error;

use crate::lsp::errors::{echo, internal, store_error};
use tower_lsp_server::ls_types::Uri;

use super::Surface;
use crate::lsp::server::State;
use crate::session::Session;

/// Which run a command without a run id means.
#[derive(Clone, Copy, Debug)]
pub enum Pick {
    /// The newest run in one of these statuses.
    Newest(&'static [RunStatus]),
    /// The newest run, whatever its status.
    Latest,
}

/// The workspace folder sessions.
pub fn folder_sessions(state: &State) -> Vec<Arc<Session>> {
    state
        .sessions()
        .all()
        .filter(|s| s.root().is_some())
        .cloned()
        .collect()
}

/// The sessions a listing command (`agent.status`, `agent.runs`,
/// `agent.stats`) reads: the one owning `uri`, else every workspace folder.
pub fn sessions_for(state: &State, uri: Option<&Uri>) -> Result<Vec<Arc<Session>>, Error> {
    match uri {
        Some(uri) => Ok(vec![session_for(state, Some(uri))?]),
        None => Ok(folder_sessions(state)),
    }
}

/// The session a command addresses: the one owning `uri`, else the only
/// workspace folder.
pub fn session_for(state: &State, uri: Option<&Uri>) -> Result<Arc<Session>, Error> {
    match uri {
        Some(uri) => {
            let session = state.owner(uri);
            if session.root().is_none() {
                return Err(Error::invalid_params(format!(
                    "{} is outside every workspace folder; open its folder to run workflows there",
                    echo(uri.as_str())
                )));
            }
            Ok(session)
        }
        None => {
            let mut folders = folder_sessions(state);
            match folders.len() {
                0 => Err(Error::invalid_params(
                    "no workspace folder is open; open one to run workflows",
                )),
                1 => Ok(folders.remove(0)),
                _ => Err(Error::invalid_params(
                    "several workspace folders are open; pass `uri` (a file in the folder you \
                     mean)",
                )),
            }
        }
    }
}

/// The surface owning run `run` (an id or a unique prefix), or, without
/// one, the run `pick` means; searched in the session owning `uri`, else in
/// every workspace folder.
pub fn find_run(
    state: &State,
    uri: Option<&Uri>,
    run: Option<&str>,
    pick: Pick,
) -> Result<(Arc<Surface>, RunId), Error> {
    let sessions = match uri {
        Some(uri) => vec![session_for(state, Some(uri))?],
        None => folder_sessions(state),
    };
    let place = if uri.is_some() {
        "in this workspace"
    } else {
        "in any open workspace folder"
    };
    let mut found: Vec<(Arc<Surface>, RunId)> = Vec::new();
    for session in &sessions {
        // Sessions here have a folder: only their store can fail to open.
        let surface = state.surface(session).map_err(internal)?;
        let store = surface.engine().store();
        let hit = match run {
            Some(prefix) => match store.resolve_run(prefix) {
                Ok(id) => Some(id),
                Err(StoreError::UnknownRun(_)) => None,
                Err(err) => return Err(store_error(err)),
            },
            None => newest(store, pick).map_err(store_error)?,
        };
        if let Some(id) = hit {
            found.push((surface, id));
        }
    }
    match (run, found.len()) {
        (_, 1) => Ok(found.remove(0)),
        (Some(prefix), 0) => Err(Error::invalid_params(format!(
            "no run `{}` {place}",
            echo(prefix)
        ))),
        (None, 0) => Err(Error::invalid_params(format!(
            "no {}run {place}; pass `runId`",
            describe(pick)
        ))),
        (Some(prefix), _) => Err(Error::invalid_params(format!(
            "`{}` names runs in several workspace folders; give more of the id or pass `uri`",
            echo(prefix)
        ))),
        // Without an id, the newest run across folders is the one meant.
        (None, _) => found
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1))
            .ok_or_else(Error::internal_error),
    }
}

fn newest(store: &agentls_engine::Store, pick: Pick) -> Result<Option<RunId>, StoreError> {
    Ok(match pick {
        Pick::Latest => store.runs(1)?.into_iter().next().map(|r| r.id),
        Pick::Newest(statuses) => store
            .unfinished_runs()?
            .into_iter()
            .filter(|r| statuses.contains(&r.status))
            .map(|r| r.id)
            .max(),
    })
}

fn describe(pick: Pick) -> String {
    match pick {
        Pick::Latest => "".into(),
        Pick::Newest(statuses) => {
            let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            format!("{} ", names.join(" or "))
        }
    }
}
