//! Sessions: one per workspace folder, plus one for files outside every
//! folder. A session owns its configuration, open documents and (later) its
//! store and runs; nothing in one session is reachable from another.
//!
//! Must never know LSP: documents are keyed by their URI string and
//! positions are `agentls_text` types.

mod registry;

pub use registry::Sessions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use std::sync::Arc;

use agentls_engine::{Engine, EngineOptions};
use agentls_models::SessionModels;
use agentls_provider::CassetteWriter;
use agentls_text::Document;
use serde_json::Value;

use crate::config::{Config, ConfigFile, Layers};
use crate::state::{self, WorkspaceId};

/// An open document and the file it stands for, when it is a file.
#[derive(Debug)]
pub struct OpenDocument {
    pub path: Option<PathBuf>,
    pub doc: Document,
}

/// One workspace folder's isolated state.
#[derive(Debug)]
pub struct Session {
    root: Option<PathBuf>,
    id: WorkspaceId,
    documents: Mutex<HashMap<String, OpenDocument>>,
    config: Mutex<SessionConfig>,
    /// Opened on first use: a session that never runs a workflow never
    /// opens SQLite.
    engine: Mutex<Option<Engine>>,
    /// Set by `agentls run --record FILE`: every provider stream is taped.
    recorder: Mutex<Option<Arc<CassetteWriter>>>,
    /// Why the workspace config's providers are not in use, when they are not.
    provider_problems: Mutex<Vec<String>>,
    /// The workspace config content (hash) the editor was last asked to
    /// approve: one question per content, not one per run.
    provider_question: Mutex<Option<String>>,
}

#[derive(Debug)]
struct SessionConfig {
    layers: Layers,
    effective: Config,
}

/// What a configuration reload found, for the editor to be told.
#[derive(Debug, Default)]
pub struct ConfigReport {
    /// Every config file of this session with its current error, if any.
    pub files: Vec<ConfigFile>,
    /// Whether the effective configuration changed.
    pub changed: bool,
}

impl Session {
    /// A session for `root` (`None`: files outside every folder), with its
    /// config files read and the editor's layers applied.
    pub fn new(root: Option<PathBuf>, init: Option<Value>, settings: Option<Value>) -> Self {
        let mut layers = Layers {
            user: Some(ConfigFile::new(state::user_config_file())),
            workspace: root
                .as_deref()
                .map(|r| ConfigFile::new(state::workspace_config_file(r))),
            init,
            settings,
        };
        for file in [&mut layers.user, &mut layers.workspace]
            .into_iter()
            .flatten()
        {
            file.reload();
        }
        let effective = layers.effective();
        Self {
            id: WorkspaceId::for_root(root.as_deref()),
            root,
            documents: Mutex::new(HashMap::new()),
            config: Mutex::new(SessionConfig { layers, effective }),
            engine: Mutex::new(None),
            recorder: Mutex::new(None),
            provider_problems: Mutex::new(Vec::new()),
            provider_question: Mutex::new(None),
        }
    }

    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    pub fn id(&self) -> &WorkspaceId {
        &self.id
    }

    /// The session's open documents. Hold the guard briefly and never across
    /// an `.await`: document changes must apply in arrival order.
    pub fn documents(&self) -> MutexGuard<'_, HashMap<String, OpenDocument>> {
        self.documents.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn config(&self) -> Config {
        self.lock_config().effective.clone()
    }

    /// Config files that exist, with their errors.
    pub fn config_files(&self) -> Vec<ConfigFile> {
        self.lock_config()
            .layers
            .files()
            .into_iter()
            .cloned()
            .collect()
    }

    /// Whether `path` is one of this session's config files.
    pub fn is_config_file(&self, path: &Path) -> bool {
        let config = self.lock_config();
        let layers = &config.layers;
        #[allow(clippy::let_and_return)] // the guard must outlive the iterator
        let found = [&layers.user, &layers.workspace]
            .into_iter()
            .flatten()
            .any(|f| f.path == path);
        found
    }

    /// Like [`Session::is_config_file`], for documents that may not be files.
    pub fn is_config_file_path(&self, path: Option<&Path>) -> bool {
        path.is_some_and(|p| self.is_config_file(p))
    }

    /// Re-reads the config file at `path` (`text` is an editor buffer's
    /// content, else the file is read from disk).
    pub fn reload_config_file(&self, path: &Path, text: Option<String>) -> ConfigReport {
        self.update_config(|layers| {
            let files = [&mut layers.user, &mut layers.workspace];
            for file in files.into_iter().flatten().filter(|f| f.path == path) {
                match text.clone() {
                    Some(text) => file.set_text(text),
                    None => file.reload(),
                };
            }
        })
    }

    /// Replaces the editor's layers (initializationOptions, settings).
    pub fn set_editor_settings(&self, settings: Option<Value>) -> ConfigReport {
        self.update_config(|layers| layers.settings = settings)
    }

    /// The session's state directory.
    pub fn state_dir(&self) -> PathBuf {
        state::workspace_state_dir(&self.id)
    }

    /// The workflow engine of this workspace, opened on first use.
    pub fn engine(&self) -> Result<Engine, String> {
        let mut engine = self.engine.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(engine) = engine.as_ref() {
            return Ok(engine.clone());
        }
        let Some(root) = &self.root else {
            return Err(
                "this file is outside every workspace folder; open its folder to run workflows"
                    .into(),
            );
        };
        let opened = Engine::open(root, &self.state_dir(), engine_options(&self.config()))
            .map_err(|e| format!("cannot open the workflow store: {e}"))?;
        self.apply_models(&opened);
        *engine = Some(opened.clone());
        Ok(opened)
    }

    /// The engine, if this session has opened it.
    pub fn open_engine(&self) -> Option<Engine> {
        self.engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Tapes every provider stream of this session's runs into `tape`.
    pub fn set_recorder(&self, tape: Option<Arc<CassetteWriter>>) {
        *self.recorder.lock().unwrap_or_else(|e| e.into_inner()) = tape;
        if let Some(engine) = self
            .engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            self.apply_models(engine);
        }
    }

    /// Why the workspace config's providers are ignored (empty: they are not).
    pub fn provider_problems(&self) -> Vec<String> {
        self.provider_problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The problems to put to the user about the workspace config, once per
    /// content of that file: `None` when there are none or they were asked.
    pub fn provider_question(&self) -> Option<(PathBuf, Vec<String>)> {
        let problems = self.provider_problems();
        let (path, hash) = self.workspace_config_hash()?;
        if problems.is_empty() {
            return None;
        }
        let mut asked = self
            .provider_question
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if asked.as_deref() == Some(hash.as_str()) {
            return None;
        }
        *asked = Some(hash);
        Some((path, problems))
    }

    /// Approves the workspace config file's exact content, so its providers
    /// apply even where they would send a key elsewhere or run a program.
    pub fn trust_workspace_config(&self) -> Result<(), String> {
        let engine = self.engine()?;
        let Some((path, hash)) = self.workspace_config_hash() else {
            return Ok(());
        };
        engine
            .store()
            .trust(&hash, &path)
            .map_err(|e| e.to_string())?;
        self.apply_models(&engine);
        Ok(())
    }

    fn workspace_config_hash(&self) -> Option<(PathBuf, String)> {
        let config = self.lock_config();
        let file = config.layers.workspace.as_ref()?;
        file.good.as_ref()?;
        Some((file.path.clone(), agentls_workflow::sha256_hex(&file.text)))
    }

    /// Builds this session's model providers from its configuration. While
    /// the workspace config file is not approved, the providers are checked
    /// as they would run (every layer merged) against the layers the user
    /// vouches for; if the merge would send a credential anywhere the user's
    /// own layers do not, or run a program, the workspace file's providers
    /// are left out until its content is approved.
    fn apply_models(&self, engine: &Engine) {
        let (mut config, approved) = {
            let config = self.lock_config();
            let mut without_workspace = config.layers.clone();
            without_workspace.workspace = None;
            (config.effective.clone(), without_workspace.effective())
        };
        let mut providers = config.providers();
        let mut problems =
            agentls_models::untrusted_config_problems(&approved.providers(), &providers);
        // A workspace's ACP agent runs a program: the same question.
        let agent_problems = crate::config::untrusted_agents(&approved, &config);
        if !agent_problems.is_empty() {
            problems.extend(agent_problems);
        }
        if !problems.is_empty() {
            let trusted = self
                .workspace_config_hash()
                .map(|(_, hash)| engine.store().is_trusted(&hash).unwrap_or(false))
                .unwrap_or(false);
            if trusted {
                problems.clear();
            } else {
                tracing::warn!(
                    "workspace config providers not applied until approved: {}",
                    problems.join("; ")
                );
                providers = approved.providers();
                config.agents = approved.agents.clone();
            }
        }
        *self
            .provider_problems
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = problems;
        let root = self.root.clone().unwrap_or_default();
        let mut models = SessionModels::from_process_env(providers, root);
        if let Some(tape) = self
            .recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            models = models.with_recorder(tape);
        }
        let mut options = engine_options(&config);
        options.secret_vars.extend(models.key_vars());
        engine.set_options(options);
        engine.set_models(Some(Arc::new(models)));
    }

    /// Every workflow this session can run (built-in, user, workspace).
    pub fn workflows(&self) -> agentls_workflow::Catalog {
        let user = agentls_workflow::default_user_dir();
        agentls_workflow::load_all(self.root.as_deref(), user.as_deref())
    }

    fn update_config(&self, change: impl FnOnce(&mut Layers)) -> ConfigReport {
        let (changed, files) = {
            let mut config = self.lock_config();
            change(&mut config.layers);
            let effective = config.layers.effective();
            let changed = effective != config.effective;
            config.effective = effective;
            (
                changed,
                config.layers.files().into_iter().cloned().collect(),
            )
        };
        if changed {
            let engine = self
                .engine
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(engine) = engine {
                self.apply_models(&engine);
            }
        }
        ConfigReport { files, changed }
    }

    fn lock_config(&self) -> MutexGuard<'_, SessionConfig> {
        self.config.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The engine settings a configuration asks for.
pub fn engine_options(config: &Config) -> EngineOptions {
    EngineOptions {
        pty: config.exec.pty,
        term: config.exec.term.clone(),
        cols: config.exec.cols,
        rows: config.exec.rows,
        max_output_bytes: usize::try_from(config.store.max_output_bytes).unwrap_or(usize::MAX),
        sandbox: agentls_engine::SandboxSettings {
            sandbox_own_workflows: config.sandbox.default == crate::config::SandboxDefault::Writes,
            sandbox_worktree_runs: config.sandbox.default != crate::config::SandboxDefault::Off,
            allow_unconfined: config.sandbox.allow_unconfined,
        },
        agents: config.acp_agents(),
        isolation: match config.isolation.default {
            crate::config::IsolationDefault::None => agentls_workflow::Isolation::None,
            crate::config::IsolationDefault::Worktree => agentls_workflow::Isolation::Worktree,
        },
        ..EngineOptions::default()
    }
}

/// A workflow as the CLI (`agentls workflows --json`) and the editor
/// (`agent.workflows`) describe it.
pub fn workflow_info(w: &agentls_workflow::Workflow) -> crate::lsp::protocol::WorkflowInfo {
    use crate::lsp::protocol::{Applies, ParamInfo, WorkflowInfo};
    WorkflowInfo {
        name: w.name.clone(),
        title: w.title.clone(),
        description: w.description.clone(),
        source: w.source.kind.as_str(),
        path: w.source.path.clone(),
        params: w
            .params
            .iter()
            .map(|p| ParamInfo {
                name: p.name.clone(),
                description: p.description.clone(),
                default: p.default.clone(),
                required: p.required,
            })
            .collect(),
        applies: Applies {
            code_action: w.applies.code_action,
            languages: w.applies.languages.clone(),
            selection: w.applies.selection,
            diagnostics: w.applies.diagnostics,
        },
    }
}
