//! A workspace's runs in the editor (its surface): one [`Surface`] per workspace session that has run
//! anything, holding its engine, the subscriber that streams its runs to
//! the editor, and the editor that applies its edits.
//!
//! A surface is opened on first use and keyed by the session's workspace
//! id; it is never shared between sessions, so one workspace's runs, output
//! and tokens cannot reach another's (docs/architecture.md, invariant 2).

mod bridge;
mod editor;
pub mod inputs;
mod lookup;
mod rebase;
mod shared;
mod view;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

use agentls_engine::{Engine, EngineError, RunId, StartRequest, Tagged};
use agentls_text::PositionEncoding;
use tower_lsp_server::ls_types::ProgressToken;
use tower_lsp_server::Client;

pub use lookup::{find_run, session_for, sessions_for, Pick};
pub use view::{run_state, run_summary};

use self::bridge::Bridge;
use self::editor::LspEditor;
use self::shared::{lock, Shared, SharedParts};
use super::client::ClientCaps;
use super::protocol::RunState;
use crate::session::Session;
use crate::state::WorkspaceId;

/// What every surface is built with: how to reach the editor and what it
/// can do.
pub struct Context<'a> {
    pub client: &'a Client,
    pub out: &'a crate::lsp::stdout::OutQueue,
    /// The runtime that drives runs.
    pub runs: &'a tokio::runtime::Handle,
    pub caps: &'a ClientCaps,
    pub encoding: PositionEncoding,
}

/// A surface and the session it belongs to (which may have gone).
type Entry = (Weak<Session>, Arc<Surface>);

/// The surfaces of one server, by workspace.
#[derive(Default)]
pub struct Surfaces {
    map: Mutex<HashMap<WorkspaceId, Entry>>,
}

impl Surfaces {
    /// The surface of `session`, opening its engine on first use.
    pub fn get(&self, ctx: &Context<'_>, session: &Arc<Session>) -> Result<Arc<Surface>, String> {
        let mut map = lock(&self.map);
        // A folder removed and added again is a new session with the same id.
        map.retain(|_, (owner, _)| owner.strong_count() > 0);
        if let Some((owner, surface)) = map.get(session.id()) {
            if owner.upgrade().is_some_and(|s| Arc::ptr_eq(&s, session)) {
                return Ok(surface.clone());
            }
        }
        let surface = Arc::new(Surface::open(ctx, session)?);
        map.insert(
            session.id().clone(),
            (Arc::downgrade(session), surface.clone()),
        );
        Ok(surface)
    }

    /// Every surface opened so far whose session is alive.
    pub fn all(&self) -> Vec<Arc<Surface>> {
        lock(&self.map)
            .values()
            .filter(|(owner, _)| owner.strong_count() > 0)
            .map(|(_, surface)| surface.clone())
            .collect()
    }
}

/// One workspace's runs as the editor sees them.
pub struct Surface {
    engine: Engine,
    shared: Arc<Shared>,
    /// The engine's tasks are spawned here (see [`Surface::drive`]).
    runs: tokio::runtime::Handle,
}

impl Surface {
    fn open(ctx: &Context<'_>, session: &Arc<Session>) -> Result<Self, String> {
        let engine = session.engine()?;
        let transcripts = engine.transcripts();
        let shared = Shared::new(SharedParts {
            session: Arc::downgrade(session),
            root: engine.root().to_path_buf(),
            caps: ctx.caps.clone(),
            encoding: ctx.encoding,
            store: engine.store().clone(),
            transcripts,
            client: ctx.client.clone(),
            out: ctx.out.clone(),
            config: session.config().stream,
            runs: ctx.runs.clone(),
        });
        engine.subscribe(Arc::new(Bridge(shared.clone())));
        engine.set_editor(Arc::new(LspEditor::new(shared.clone())));
        Ok(Self {
            engine,
            shared,
            runs: ctx.runs.clone(),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Calls an engine operation that sets a run going (start, retry,
    /// approve...): the engine spawns the run's task on the current
    /// runtime, which here is the runs' runtime. The drive's progress uses
    /// `token` when the editor gave one: the operation tags the drive, and
    /// the drive's run events carry the tag to the bridge.
    pub fn drive<T>(
        &self,
        token: Option<ProgressToken>,
        operation: impl FnOnce(&Tagged<'_>) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let tag = token.map(|token| self.shared.tag(token));
        let _runs = self.runs.enter();
        let done = operation(&self.engine.tagged(tag));
        if let (Err(_), Some(tag)) = (&done, tag) {
            // Refused: no drive will claim the token.
            lock(&self.shared.drives).remove(&tag);
        }
        done
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    /// Starts a run; its progress uses `token` when the editor gave one.
    pub fn start(
        &self,
        request: StartRequest,
        token: Option<ProgressToken>,
    ) -> Result<RunId, EngineError> {
        self.drive(token, |engine| engine.start(request))
    }

    /// The run as command results show it.
    pub fn run_state(&self, run: &RunId) -> Result<RunState, agentls_engine::EngineError> {
        let record = self.engine.store().run(run)?;
        let mut state = run_state(
            &record,
            self.engine.is_active(run),
            &self.shared.transcript(run),
            self.root(),
        );
        state.isolation =
            self.engine
                .worktree(run)?
                .map(|w| crate::lsp::protocol::IsolationState {
                    worktree: w.path,
                    branch: w.branch,
                    base: w.base,
                    state: w.state,
                });
        Ok(state)
    }

    /// Whether `patch` applies to the workspace as the editor and the disk
    /// have it now (open documents at their current text); the error names
    /// the files that do not.
    pub fn check_patch(&self, patch: &str) -> Result<(), String> {
        LspEditor::new(self.shared.clone()).check(&agentls_engine::EditRequest::Patch {
            patch: patch.to_string(),
        })
    }

    /// Runs `work` on the runs' runtime (work that waits on the editor).
    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        self.runs.spawn(work);
    }

    /// Tells the user something with `window/showMessage`, through the
    /// workspace's outbox.
    pub fn tell(&self, kind: tower_lsp_server::ls_types::MessageType, message: String) {
        self.shared
            .outbox()
            .push(super::sink::show_message(kind, message));
    }

    /// Where command results are written for clients that discard them
    /// (see `lsp::reveal`).
    pub fn views_dir(&self) -> std::path::PathBuf {
        crate::lsp::reveal::views_dir(self.shared.transcripts.dir())
    }

    /// Requests to the editor, with the workspace's configured timeout.
    pub fn requests(&self) -> super::requests::Requests {
        self.shared.requests()
    }

    /// The run whose progress has this token (see `sink::progress_key`).
    pub fn run_for_progress(&self, key: &str) -> Option<RunId> {
        lock(&self.shared.tokens).get(key).cloned()
    }
}
