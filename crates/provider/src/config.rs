//! Provider configuration: the `[providers.NAME]` tables and
//! `default_provider` of an agentls config file, with the built-in
//! providers and every default in one place.
//!
//! Owns what a user can write and what it means when they write nothing.
//! Knows nothing of where the file lives or how layers (user, workspace,
//! initializationOptions) are merged: the server decides that.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::ConfigDuration;

/// Current Claude model used by the built-in `claude` provider.
pub const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-4-5";
/// Model used by the built-in `gpt` provider.
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4.1";
/// Model used by the built-in `gemini` provider.
pub const DEFAULT_GEMINI_MODEL: &str = "gemini-2.5-flash";
/// Anthropic's API root (the SDK convention: without `/v1`).
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// OpenAI's API root (the SDK convention: with `/v1`).
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Gemini's API root (with the API version).
pub const DEFAULT_GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";
/// Anthropic requires `max_tokens`; this is sent when neither the request
/// nor the config sets it.
pub const DEFAULT_ANTHROPIC_MAX_TOKENS: u32 = 8192;
/// The provider used when a step names none and no `default_provider` is set.
pub const DEFAULT_PROVIDER: &str = "claude";

/// Which adapter a provider uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Anthropic Messages API, streamed.
    Anthropic,
    /// OpenAI Chat Completions, streamed; also OpenAI-compatible servers
    /// (Ollama, llama.cpp, vLLM) through `base_url`.
    Openai,
    /// Google Gemini `streamGenerateContent` with `alt=sse`.
    Gemini,
    /// A CLI agent or any program: prompt in, answer out.
    Command,
    /// Recorded answers served from a cassette file.
    Replay,
}

impl Kind {
    /// The name used in config files (`"anthropic"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Anthropic => "anthropic",
            Kind::Openai => "openai",
            Kind::Gemini => "gemini",
            Kind::Command => "command",
            Kind::Replay => "replay",
        }
    }

    /// Whether this kind talks HTTP to a vendor.
    pub fn is_http(self) -> bool {
        matches!(self, Kind::Anthropic | Kind::Openai | Kind::Gemini)
    }

    /// The environment variable holding the key when `api_key_env` is not
    /// set. `None` for kinds without a key, and for `openai` pointed at
    /// another server by `base_url` (local servers usually need no key).
    pub fn default_key_env(self, base_url: Option<&str>) -> Option<&'static str> {
        match self {
            Kind::Anthropic => Some("ANTHROPIC_API_KEY"),
            Kind::Openai if base_url.is_none() => Some("OPENAI_API_KEY"),
            Kind::Gemini => Some("GEMINI_API_KEY"),
            Kind::Openai | Kind::Command | Kind::Replay => None,
        }
    }

    /// The API root used when `base_url` is not set.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Kind::Anthropic => Some(DEFAULT_ANTHROPIC_BASE_URL),
            Kind::Openai => Some(DEFAULT_OPENAI_BASE_URL),
            Kind::Gemini => Some(DEFAULT_GEMINI_BASE_URL),
            Kind::Command | Kind::Replay => None,
        }
    }

    /// The model used when `model` is not set (`openai` with a custom
    /// `base_url` has none: the server's model names are its own).
    pub fn default_model(self, base_url: Option<&str>) -> Option<&'static str> {
        match self {
            Kind::Anthropic => Some(DEFAULT_ANTHROPIC_MODEL),
            Kind::Openai if base_url.is_none() => Some(DEFAULT_OPENAI_MODEL),
            Kind::Gemini => Some(DEFAULT_GEMINI_MODEL),
            Kind::Openai | Kind::Command | Kind::Replay => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a `command` provider gets the prompt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptVia {
    /// Written to the program's standard input, which is then closed.
    #[default]
    Stdin,
    /// Appended to the command line as one shell-quoted argument.
    Arg,
}

/// One `[providers.NAME]` table. Every field but `kind` is optional; see
/// `docs/providers.md` for what each means for each kind.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Which adapter.
    pub kind: Kind,
    /// Model name sent to the vendor (informational for `command`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// API root, e.g. `http://localhost:11434/v1` for Ollama.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Name of the environment variable holding the key (never the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Extra HTTP headers sent with every request (values hidden in Debug).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Upper bound on answer tokens (a request's own value wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature (a request's own value wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Time allowed to open the TCP/TLS connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<ConfigDuration>,
    /// Time allowed from sending the request to the response headers (for
    /// `command`: to the first output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte_timeout: Option<ConfigDuration>,
    /// Longest silence allowed between two chunks of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<ConfigDuration>,
    /// Retries after the first attempt for transient failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// First backoff delay; doubled on each retry, with jitter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_base_delay: Option<ConfigDuration>,
    /// Cap on one backoff delay; a `retry-after` longer than this fails the
    /// call at once instead of waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_max_delay: Option<ConfigDuration>,
    /// `command` kind: the shell command line, e.g. `claude -p`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// `command` kind: how the prompt reaches the program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_via: Option<PromptVia>,
    /// `replay` kind: the cassette file (relative paths start at the
    /// workspace root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cassette: Option<PathBuf>,
}

impl ProviderConfig {
    /// A config of `kind` with every other field unset (all defaults).
    pub fn new(kind: Kind) -> Self {
        ProviderConfig {
            kind,
            model: None,
            base_url: None,
            api_key_env: None,
            headers: BTreeMap::new(),
            max_tokens: None,
            temperature: None,
            connect_timeout: None,
            first_byte_timeout: None,
            idle_timeout: None,
            retries: None,
            retry_base_delay: None,
            retry_max_delay: None,
            command: None,
            prompt_via: None,
            cassette: None,
        }
    }

    /// The environment variable this provider reads its key from, if any.
    pub fn key_env(&self) -> Option<&str> {
        self.api_key_env
            .as_deref()
            .or_else(|| self.kind.default_key_env(self.base_url.as_deref()))
    }

    /// The API root requests go to (`None` for `command` and `replay`).
    pub fn effective_base_url(&self) -> Option<&str> {
        self.base_url
            .as_deref()
            .or_else(|| self.kind.default_base_url())
    }

    /// The model sent to the vendor, after defaults.
    pub fn effective_model(&self) -> Option<&str> {
        self.model
            .as_deref()
            .or_else(|| self.kind.default_model(self.base_url.as_deref()))
    }

    /// Timeouts after defaults. HTTP kinds: connect 10 s, first byte 120 s,
    /// idle 120 s. `command` and `replay`: none unless configured (CLI agents
    /// often print nothing until they are done). A configured `0s` means no
    /// limit.
    pub fn timeouts(&self) -> Timeouts {
        let http = self.kind.is_http();
        let pick = |set: Option<ConfigDuration>, default: u64| match set {
            Some(set) => Some(Duration::from(set)).filter(|d| !d.is_zero()),
            None => http.then(|| Duration::from_secs(default)),
        };
        Timeouts {
            connect: pick(self.connect_timeout, 10),
            first_byte: pick(self.first_byte_timeout, 120),
            idle: pick(self.idle_timeout, 120),
        }
    }

    /// Retry policy after defaults: 3 retries, 1 s base delay, 30 s cap.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.retries.unwrap_or(3),
            base_delay: self
                .retry_base_delay
                .map(Duration::from)
                .unwrap_or(Duration::from_secs(1)),
            max_delay: self
                .retry_max_delay
                .map(Duration::from)
                .unwrap_or(Duration::from_secs(30)),
        }
    }
}

/// Header values may be credentials (`Authorization`, proxy tokens), so
/// Debug shows header names only.
impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.keys().map(String::as_str).collect();
        f.debug_struct("ProviderConfig")
            .field("kind", &self.kind)
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("api_key_env", &self.api_key_env)
            .field("headers", &format_args!("{header_names:?} (values hidden)"))
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("connect_timeout", &self.connect_timeout)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retries", &self.retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("retry_max_delay", &self.retry_max_delay)
            .field("command", &self.command)
            .field("prompt_via", &self.prompt_via)
            .field("cassette", &self.cassette)
            .finish()
    }
}

/// Timeouts of one provider, defaults applied. `None`: no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection (HTTP kinds only).
    pub connect: Option<Duration>,
    /// Request sent to response headers (HTTP) or to first output (command).
    pub first_byte: Option<Duration>,
    /// Between two chunks of the answer.
    pub idle: Option<Duration>,
}

/// Retries of one provider, defaults applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff delay.
    pub base_delay: Duration,
    /// Cap on one delay, `retry-after` included.
    pub max_delay: Duration,
}

/// The built-in providers, available without any configuration:
///
/// | name | kind | model | key |
/// |---|---|---|---|
/// | `claude` | anthropic | [`DEFAULT_ANTHROPIC_MODEL`] | `ANTHROPIC_API_KEY` |
/// | `gpt` | openai | [`DEFAULT_OPENAI_MODEL`] | `OPENAI_API_KEY` |
/// | `gemini` | gemini | [`DEFAULT_GEMINI_MODEL`] | `GEMINI_API_KEY` |
///
/// A user's `[providers.NAME]` table with the same name replaces the built-in
/// one whole.
pub fn builtin_providers() -> BTreeMap<String, ProviderConfig> {
    [
        ("claude", Kind::Anthropic, DEFAULT_ANTHROPIC_MODEL),
        ("gpt", Kind::Openai, DEFAULT_OPENAI_MODEL),
        ("gemini", Kind::Gemini, DEFAULT_GEMINI_MODEL),
    ]
    .into_iter()
    .map(|(name, kind, model)| {
        let mut config = ProviderConfig::new(kind);
        config.model = Some(model.to_string());
        (name.to_string(), config)
    })
    .collect()
}

/// The provider part of an agentls config file: `default_provider = "NAME"`
/// at top level and `[providers.NAME]` tables. Meant to be flattened into
/// the server's config struct (hence no `deny_unknown_fields` here; each
/// provider table has it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProvidersConfig {
    /// Provider used by prompt steps that name none ([`DEFAULT_PROVIDER`]
    /// when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_provider: Option<String>,
    /// User-defined providers by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, ProviderConfig>,
}

impl ProvidersConfig {
    /// The built-in providers overlaid by the configured ones.
    pub fn effective(&self) -> BTreeMap<String, ProviderConfig> {
        let mut all = builtin_providers();
        all.extend(self.providers.clone());
        all
    }

    /// The configuration of provider `name`, built-ins included.
    pub fn get(&self, name: &str) -> Option<ProviderConfig> {
        self.providers
            .get(name)
            .cloned()
            .or_else(|| builtin_providers().remove(name))
    }

    /// The name of the default provider.
    pub fn default_name(&self) -> &str {
        self.default_provider.as_deref().unwrap_or(DEFAULT_PROVIDER)
    }

    /// Checks what can be checked without the environment: that
    /// `default_provider` names a provider.
    pub fn validate(&self) -> Result<(), String> {
        let name = self.default_name();
        let all = self.effective();
        if all.contains_key(name) {
            return Ok(());
        }
        let known: Vec<&str> = all.keys().map(String::as_str).collect();
        Err(format!(
            "default_provider = {name:?} names no provider (known: {})",
            known.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_with_base_url_needs_no_key_and_no_default_model() {
        let mut config = ProviderConfig::new(Kind::Openai);
        assert_eq!(config.key_env(), Some("OPENAI_API_KEY"));
        assert_eq!(config.effective_model(), Some(DEFAULT_OPENAI_MODEL));
        config.base_url = Some("http://localhost:11434/v1".into());
        assert_eq!(config.key_env(), None);
        assert_eq!(config.effective_model(), None);
        config.api_key_env = Some("VLLM_KEY".into());
        assert_eq!(config.key_env(), Some("VLLM_KEY"));
    }

    #[test]
    fn debug_hides_header_values() {
        let mut config = ProviderConfig::new(Kind::Openai);
        config
            .headers
            .insert("Authorization".into(), "Bearer hidden-token".into());
        let shown = format!("{config:?}");
        assert!(shown.contains("Authorization"), "{shown}");
        assert!(!shown.contains("hidden-token"), "{shown}");
    }

    #[test]
    fn defaults_differ_for_http_and_command() {
        let http = ProviderConfig::new(Kind::Anthropic).timeouts();
        assert_eq!(http.first_byte, Some(Duration::from_secs(120)));
        let command = ProviderConfig::new(Kind::Command).timeouts();
        assert_eq!(command.first_byte, None);
        assert_eq!(command.idle, None);
        let mut unlimited = ProviderConfig::new(Kind::Openai);
        unlimited.idle_timeout = Some(ConfigDuration::secs(0));
        assert_eq!(unlimited.timeouts().idle, None);
        let policy = ProviderConfig::new(Kind::Gemini).retry_policy();
        assert_eq!(policy.retries, 3);
    }

    #[test]
    fn user_tables_replace_builtins_and_unknown_keys_are_rejected() {
        let text = r#"
            default_provider = "local"
            [providers.local]
            kind = "openai"
            base_url = "http://127.0.0.1:8080/v1"
            model = "qwen"
            idle_timeout = "500ms"
            retries = 0
            [providers.claude]
            kind = "anthropic"
            model = "claude-opus-4-1"
        "#;
        let config: ProvidersConfig = toml::from_str(text).unwrap();
        assert_eq!(config.default_name(), "local");
        assert_eq!(config.validate(), Ok(()));
        let all = config.effective();
        assert_eq!(all["claude"].model.as_deref(), Some("claude-opus-4-1"));
        assert_eq!(all["gpt"].kind, Kind::Openai);
        assert_eq!(all["local"].idle_timeout, Some(ConfigDuration::millis(500)));

        let err =
            toml::from_str::<ProvidersConfig>("[providers.x]\nkind = \"openai\"\nmodle = \"y\"")
                .unwrap_err()
                .to_string();
        assert!(err.contains("modle"), "{err}");
    }

    #[test]
    fn a_bad_duration_names_the_key_and_the_text() {
        for (key, text) in [("idle_timeout", "2 days"), ("retry_base_delay", "1.5s")] {
            let err = toml::from_str::<ProvidersConfig>(&format!(
                "[providers.x]\nkind = \"openai\"\n{key} = \"{text}\""
            ))
            .unwrap_err()
            .to_string();
            assert!(err.contains(key), "{err}");
            assert!(
                err.contains(&format!("invalid duration \"{text}\"")),
                "{err}"
            );
        }
    }
}
