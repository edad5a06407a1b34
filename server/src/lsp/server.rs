//! The `LanguageServer` implementation: routes each LSP message to the
//! session that owns it. Handlers answer at once and never wait on the
//! client (docs/architecture.md, invariant 4).

use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use agentls_text::PositionEncoding;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::client::{strip_editor_keys, ClientCaps};
use super::sink::{ClientSink, Outbox};
use super::stdout::OutQueue;
use super::surface::{self, Surface, Surfaces};
use super::RunsRuntime;
use super::{capabilities, code_actions, commands, config, convert, documents};
use crate::config::parse_editor_settings as parse_settings;
use crate::session::{Session, Sessions};
use agentls_stream::Limits;

/// Server-wide state: the sessions and what was negotiated at initialize.
pub struct State {
    client: Client,
    /// What the editor can do, from `initialize`.
    caps: RwLock<ClientCaps>,
    /// The editor surface of each session that has run workflows.
    surfaces: Surfaces,
    /// Messages that belong to no workspace's runs (configuration problems).
    notices: Outbox,
    /// The queue to stdout: notifications leave through it.
    out: OutQueue,
    /// The runtime that drives runs, started with the first surface.
    runs: Arc<RunsRuntime>,
    sessions: RwLock<Sessions>,
    encoding: RwLock<PositionEncoding>,
    /// initializationOptions, the editor's base layer for new sessions.
    init: RwLock<Option<Value>>,
    /// The last good didChangeConfiguration settings.
    settings: RwLock<Option<Value>>,
    /// A bad initializationOptions, told to the user once initialized.
    init_error: RwLock<Option<crate::config::ConfigError>>,
}

impl State {
    pub fn sessions(&self) -> RwLockReadGuard<'_, Sessions> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn sessions_mut(&self) -> RwLockWriteGuard<'_, Sessions> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn encoding(&self) -> PositionEncoding {
        *self.encoding.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session for `root` with the editor's current layers.
    fn new_session(&self, root: Option<PathBuf>) -> Session {
        let init = self.init.read().unwrap_or_else(|e| e.into_inner()).clone();
        let settings = self
            .settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Session::new(root, init, settings)
    }

    /// The session owning a document URI.
    pub fn owner(&self, uri: &Uri) -> Arc<Session> {
        self.sessions().owner(convert::path(uri).as_deref())
    }

    /// Sends a notification through the server's outbox: never waits on
    /// the editor.
    pub fn notify(&self, message: agentls_stream::Message) {
        self.notices.push(message);
    }

    pub fn caps(&self) -> ClientCaps {
        self.caps.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The editor surface of `session` (its engine, streaming and edits),
    /// opened on first use.
    pub fn surface(&self, session: &Arc<Session>) -> std::result::Result<Arc<Surface>, String> {
        let caps = self.caps();
        let handle = self.runs.handle()?;
        let ctx = surface::Context {
            client: &self.client,
            out: &self.out,
            runs: &handle,
            caps: &caps,
            encoding: self.encoding(),
        };
        self.surfaces.get(&ctx, session)
    }

    /// Asks the user whether to trust a workspace workflow, from a task.
    pub fn ask_trust(
        &self,
        surface: Arc<Surface>,
        request: agentls_engine::StartRequest,
        token: Option<ProgressToken>,
        trust: &agentls_engine::TrustRequired,
    ) {
        super::trust::ask(surface.requests(), surface, request, token, trust);
    }

    /// `window/workDoneProgress/cancel`: cancels the run showing that
    /// progress (in a task; nothing waits for it).
    pub fn cancel_progress(&self, token: &ProgressToken) {
        let key = super::sink::progress_key(token);
        for surface in self.surfaces.all() {
            if let Some(run) = surface.run_for_progress(&key) {
                tracing::info!("progress cancelled by the editor: cancelling run {run}");
                drop(commands::cancel_in_task(surface.engine().clone(), run));
                return;
            }
        }
        tracing::debug!("workDoneProgress/cancel for a token no run shows: {key}");
    }
}

/// How long `shutdown` waits for runs to stop before it answers anyway.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

pub struct Backend {
    client: Client,
    state: Arc<State>,
}

impl Backend {
    pub fn new(client: Client, out: OutQueue, runs: Arc<RunsRuntime>) -> Self {
        let state = State {
            client: client.clone(),
            out: out.clone(),
            runs,
            caps: RwLock::new(ClientCaps::default()),
            surfaces: Surfaces::default(),
            notices: Outbox::spawn(Limits::default(), ClientSink::new(out)),
            sessions: RwLock::new(Sessions::new(Session::new(None, None, None))),
            encoding: RwLock::new(PositionEncoding::Utf16),
            init: RwLock::new(None),
            settings: RwLock::new(None),
            init_error: RwLock::new(None),
        };
        Self {
            client,
            state: Arc::new(state),
        }
    }

    fn add_folders(&self, folders: impl IntoIterator<Item = Uri>) -> Vec<Arc<Session>> {
        let mut added = Vec::new();
        for uri in folders {
            let Some(root) = convert::path(&uri) else {
                tracing::warn!(
                    "ignoring workspace folder that is not a file URI: {}",
                    uri.as_str()
                );
                continue;
            };
            if self.state.sessions().folder(&root).is_some() {
                continue;
            }
            tracing::info!("workspace folder added: {}", root.display());
            let session = self.state.new_session(Some(root));
            added.push(self.state.sessions_mut().add(session));
        }
        added
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = capabilities::negotiate_encoding(&params);
        *self
            .state
            .encoding
            .write()
            .unwrap_or_else(|e| e.into_inner()) = convert::encoding(&encoding);
        *self.state.caps.write().unwrap_or_else(|e| e.into_inner()) =
            ClientCaps::from_initialize(&params);
        let mut init_error = None;
        if let Some(options) = &params.initialization_options {
            // `runEvents` is the editor's opt-in, not configuration.
            let mut options = options.clone();
            strip_editor_keys(&mut options);
            match parse_settings("initializationOptions", &options) {
                Ok(init) => *self.state.init.write().unwrap_or_else(|e| e.into_inner()) = init,
                Err(err) => init_error = Some(err),
            }
        }
        // The outside session predates initialize: give it the editor's layer.
        let outside = self.state.new_session(None);
        *self.state.sessions_mut() = Sessions::new(outside);

        #[allow(deprecated)] // root_uri is what clients without folders send
        let folders: Vec<Uri> = match params.workspace_folders {
            Some(folders) => folders.into_iter().map(|f| f.uri).collect(),
            None => params.root_uri.into_iter().collect(),
        };
        self.add_folders(folders);
        *self
            .state
            .init_error
            .write()
            .unwrap_or_else(|e| e.into_inner()) = init_error;
        Ok(InitializeResult {
            capabilities: capabilities::server_capabilities(encoding),
            server_info: Some(ServerInfo {
                name: "agentls".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let init_error = self
            .state
            .init_error
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(err) = init_error {
            config::report_editor_error(&self.client, &self.state, &err).await;
        }
        let sessions: Vec<_> = self.state.sessions().all().cloned().collect();
        for session in sessions {
            config::publish(
                &self.client,
                &self.state,
                &session.config_files(),
                config::Tell::Message,
            )
            .await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown requested");
        // Nothing may outlive the server: kill every run's processes and
        // record the runs cancelled (they can be looked at, not resumed).
        let engines: Vec<_> = self
            .state
            .sessions()
            .all()
            .filter_map(|s| s.open_engine())
            .collect();
        let cancel_all = futures::future::join_all(engines.iter().map(|e| e.cancel_all()));
        if tokio::time::timeout(SHUTDOWN_GRACE, cancel_all)
            .await
            .is_err()
        {
            tracing::warn!(
                "runs still stopping after {SHUTDOWN_GRACE:?}; answering shutdown anyway"
            );
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        documents::did_open(&self.client, &self.state, params).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        documents::did_change(&self.client, &self.state, params).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        documents::did_save(&self.client, &self.state, params).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        documents::did_close(&self.client, &self.state, params).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        config::did_change_configuration(&self.client, &self.state, params.settings).await;
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        for folder in params.event.removed {
            if let Some(root) = convert::path(&folder.uri) {
                if self.state.sessions_mut().remove(&root).is_some() {
                    tracing::info!("workspace folder removed: {}", root.display());
                }
            }
        }
        let added = self.add_folders(params.event.added.into_iter().map(|f| f.uri));
        for session in added {
            config::publish(
                &self.client,
                &self.state,
                &session.config_files(),
                config::Tell::Message,
            )
            .await;
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for change in params.changes {
            if let Some(path) = convert::path(&change.uri) {
                config::reload_file(&self.client, &self.state, &path, None).await;
            }
        }
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        commands::execute(&self.state, params).await.map(Some)
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        Ok(Some(code_actions::code_actions(&self.state, params)))
    }

    async fn code_action_resolve(&self, action: CodeAction) -> Result<CodeAction> {
        code_actions::resolve(action)
    }
}

impl Backend {
    /// `window/workDoneProgress/cancel` (not in tower-lsp-server's trait;
    /// registered as a custom method).
    pub async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        self.state.cancel_progress(&params.token);
    }
}

impl State {
    /// Replaces the settings layer in every session.
    pub(super) fn set_settings(&self, settings: Option<Value>) -> Vec<Arc<Session>> {
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = settings.clone();
        let sessions: Vec<_> = self.sessions().all().cloned().collect();
        for session in &sessions {
            session.set_editor_settings(settings.clone());
        }
        sessions
    }
}
