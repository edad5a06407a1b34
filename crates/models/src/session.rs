//! [`SessionModels`]: the providers of one workspace session, built on first
//! use and kept for the session's lifetime.
//!
//! Building lazily is what makes a missing key local: a provider whose key
//! variable is unset fails the steps that use it, with the provider crate's
//! message naming the variable, and nothing else. A failed build is not
//! cached, so exporting the key and retrying the step works.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use agentls_engine::{Models, PromptCall, PromptOutcome, TurnCall, TurnOutcome};
use agentls_provider::{
    CassetteWriter, Kind, Provider, ProvidersConfig, Recorder, Secret, Secrets,
};
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::redact::redact;
use crate::ModelsError;

/// Reads an environment variable (the process environment in the server,
/// a map in tests).
type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The model providers of one session. Implements [`Models`] for the
/// session's engine.
///
/// Create one per workspace session: the providers it builds (their HTTP
/// connections, replay positions, keys) are never shared with another.
pub struct SessionModels {
    config: ProvidersConfig,
    root: PathBuf,
    env: EnvLookup,
    tape: Option<Arc<CassetteWriter>>,
    built: Mutex<HashMap<String, Arc<dyn Provider>>>,
}

impl SessionModels {
    /// The providers of `config` for the workspace at `root` (where
    /// `command` providers run and relative cassette paths start). `env`
    /// looks up key variables; it is called only for the key variable of a
    /// provider being built.
    pub fn new(
        config: ProvidersConfig,
        root: impl Into<PathBuf>,
        env: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> SessionModels {
        SessionModels {
            config,
            root: root.into(),
            env: Arc::new(env),
            tape: None,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// Like [`SessionModels::new`], reading keys from the process
    /// environment.
    pub fn from_process_env(config: ProvidersConfig, root: impl Into<PathBuf>) -> SessionModels {
        SessionModels::new(config, root, |var| std::env::var(var).ok())
    }

    /// Records every answer into `tape` (`agentls run --record FILE`): each
    /// provider is wrapped in a [`Recorder`] when it is built.
    pub fn with_recorder(mut self, tape: Arc<CassetteWriter>) -> SessionModels {
        self.tape = Some(tape);
        // Providers built before now would answer unrecorded.
        self.lock_built().clear();
        self
    }

    /// The configuration the providers are built from.
    pub fn config(&self) -> &ProvidersConfig {
        &self.config
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The provider names a step's `provider` list means: the default
    /// provider when the list is empty, each name once, in order.
    pub fn resolve(&self, names: &[String]) -> Vec<String> {
        if names.is_empty() {
            return vec![self.config.default_name().to_string()];
        }
        let mut seen = BTreeSet::new();
        names
            .iter()
            .filter(|name| seen.insert(name.as_str()))
            .cloned()
            .collect()
    }

    /// Provider `name`, built on first use and cached for the session.
    pub fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, ModelsError> {
        if let Some(provider) = self.lock_built().get(name) {
            return Ok(provider.clone());
        }
        let config = self
            .config
            .get(name)
            .ok_or_else(|| ModelsError::UnknownProvider {
                name: name.to_string(),
                known: self.config.effective().into_keys().collect(),
            })?;
        // Built outside the lock: building reads the environment and may
        // load a cassette file.
        let mut provider = agentls_provider::build(name, &config, &*self.env, &self.root)?;
        if let Some(tape) = &self.tape {
            provider = Arc::new(Recorder::new(provider, tape.clone()));
        }
        // Two steps racing to build the same provider end up sharing the
        // first one stored, so a replay position is never split in two.
        Ok(self
            .lock_built()
            .entry(name.to_string())
            .or_insert(provider)
            .clone())
    }

    /// The environment variables holding the keys of every configured
    /// provider (built-ins included). Add them to the engine's
    /// `EngineOptions::secret_vars` so that `run` steps never inherit a key
    /// held in a custom `api_key_env` variable.
    pub fn key_vars(&self) -> Vec<String> {
        let vars: BTreeSet<String> = self
            .config
            .effective()
            .values()
            .filter_map(|config| config.key_env().map(str::to_string))
            .collect();
        vars.into_iter().collect()
    }

    /// The values of every configured key variable that is set and of every
    /// configured header: what recorded prompt text and a step's error must
    /// never contain.
    pub(crate) fn secrets(&self) -> Secrets {
        let mut secrets: Secrets = self
            .key_vars()
            .iter()
            .filter_map(|var| (self.env)(var))
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
            .map(Secret::new)
            .collect();
        for config in self.config.effective().values() {
            secrets.add_header_values(&config.headers);
        }
        secrets
    }

    fn lock_built(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn Provider>>> {
        // A poisoned lock only means a panic mid-insert; the map is whole.
        self.built.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for SessionModels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let built: BTreeSet<String> = self.lock_built().keys().cloned().collect();
        f.debug_struct("SessionModels")
            .field("root", &self.root)
            .field("config", &self.config)
            .field("built", &built)
            .field("recording", &self.tape.as_ref().map(|t| t.path()))
            .finish_non_exhaustive()
    }
}

impl Models for SessionModels {
    fn prompt(
        &self,
        call: PromptCall,
        output: mpsc::Sender<Vec<u8>>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<PromptOutcome, String>> {
        Box::pin(async move {
            // The engine keeps this text in the store and the transcript:
            // provider errors are redacted at the source, and this pass
            // covers every other way a secret could end up in it.
            crate::prompt::answer(self, call, output, cancel)
                .await
                .map_err(|err| redact(&err.to_string(), &self.secrets()))
        })
    }

    fn turn(
        &self,
        call: TurnCall,
        output: mpsc::Sender<Vec<u8>>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<TurnOutcome, String>> {
        Box::pin(async move {
            // Redacted as a prompt's error is: the engine stores it.
            crate::turn::turn(self, call, output, cancel)
                .await
                .map_err(|err| redact(&err.to_string(), &self.secrets()))
        })
    }

    fn command_providers(&self, names: &[String]) -> Vec<String> {
        self.resolve(names)
            .into_iter()
            .filter(|name| {
                self.config
                    .get(name)
                    .is_some_and(|config| config.kind == Kind::Command)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(default: Option<&str>) -> SessionModels {
        let mut agent = agentls_provider::ProviderConfig::new(Kind::Command);
        agent.command = Some("claude -p".into());
        let config = ProvidersConfig {
            default_provider: default.map(str::to_string),
            providers: [("agent".to_string(), agent)].into(),
        };
        SessionModels::new(config, "/", |_| None)
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn resolve_uses_the_default_for_an_empty_list_and_keeps_each_name_once() {
        let models = models(None);
        assert_eq!(models.resolve(&[]), ["claude"]);
        assert_eq!(
            models.resolve(&names(&["gpt", "claude", "gpt"])),
            ["gpt", "claude"]
        );
    }

    #[test]
    fn command_providers_include_a_command_default() {
        assert_eq!(models(Some("agent")).command_providers(&[]), ["agent"]);
        assert!(models(None).command_providers(&[]).is_empty());
        assert_eq!(
            models(None).command_providers(&names(&["claude", "agent", "nope"])),
            ["agent"]
        );
    }

    #[test]
    fn a_failed_build_is_not_cached() {
        let models = models(None);
        let err = models.provider("claude").err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("ANTHROPIC_API_KEY")),
            "{err:?}"
        );
        assert!(models.lock_built().is_empty());
        assert!(models.provider("agent").is_ok());
        assert_eq!(models.lock_built().len(), 1);
    }

    #[test]
    fn secrets_are_the_set_keys_and_every_header_value() {
        let mut gateway = agentls_provider::ProviderConfig::new(Kind::Openai);
        gateway.base_url = Some("http://127.0.0.1:1/v1".into());
        gateway
            .headers
            .insert("authorization".into(), "Bearer gw-token-0123456789".into());
        let config = ProvidersConfig {
            default_provider: None,
            providers: [("gw".to_string(), gateway)].into(),
        };
        let models = SessionModels::new(config, "/", |var| {
            (var == "ANTHROPIC_API_KEY").then(|| "sk-ant-key-0123456789\n".to_string())
        });
        assert_eq!(
            models
                .secrets()
                .redact("sk-ant-key-0123456789 Bearer gw-token-0123456789 gw-token-0123456789"),
            "*** *** ***"
        );
    }

    #[test]
    fn key_vars_name_every_key_variable_and_no_value() {
        assert_eq!(
            models(None).key_vars(),
            ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY"]
        );
    }
}
