//! [`build`]: from a `[providers.NAME]` table to a ready provider.
//!
//! Everything that can be checked without a request is checked here: keys
//! that do not belong to the kind, a missing API key (named by its
//! variable), URLs, header syntax, the cassette file. So a bad configuration
//! fails before anything is sent.

use std::path::Path;
use std::sync::Arc;

use crate::cassette::ReplayProvider;
use crate::command::CommandProvider;
use crate::http::{parse_headers, HttpProvider, HttpSettings};
use crate::wire::Vendor;
use crate::{
    Kind, Provider, ProviderConfig, ProviderError, Secret, Secrets, DEFAULT_OPENAI_BASE_URL,
};

/// Builds provider `name` from its configuration.
///
/// `env` looks up environment variables (inject a map in tests; pass
/// `&|var| std::env::var(var).ok()` in the server). It is called only for
/// the provider's key variable, and the value is kept in a [`Secret`].
/// `workspace_root` is where `command` providers run and where relative
/// cassette paths start.
///
/// The provider belongs to the caller's session: build one per session, do
/// not share it between workspaces.
pub fn build(
    name: &str,
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
    workspace_root: &Path,
) -> Result<Arc<dyn Provider>, ProviderError> {
    let config_error = |message: String| ProviderError::Config {
        provider: name.to_string(),
        message,
    };
    check_keys(config).map_err(config_error)?;
    match config.kind {
        Kind::Anthropic | Kind::Openai | Kind::Gemini => {
            Ok(Arc::new(build_http(name, config, env)?))
        }
        Kind::Command => {
            let command = config
                .command
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    config_error(
                        "kind `command` needs `command`, the program to run, e.g. \
                         command = \"claude -p\""
                            .to_string(),
                    )
                })?;
            Ok(Arc::new(CommandProvider {
                name: name.to_string(),
                command: command.to_string(),
                prompt_via: config.prompt_via.unwrap_or_default(),
                cwd: workspace_root.to_path_buf(),
                model: config.model.clone(),
                timeouts: config.timeouts(),
            }))
        }
        Kind::Replay => {
            let cassette = config.cassette.as_ref().ok_or_else(|| {
                config_error(
                    "kind `replay` needs `cassette`, the file recorded with \
                     `agentls run --record FILE`"
                        .to_string(),
                )
            })?;
            Ok(Arc::new(ReplayProvider::load(
                name,
                workspace_root.join(cassette),
            )?))
        }
    }
}

fn build_http(
    name: &str,
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HttpProvider, ProviderError> {
    let config_error = |message: String| ProviderError::Config {
        provider: name.to_string(),
        message,
    };
    let key = match config.key_env() {
        Some(var) => {
            // A key pasted with its newline still works; an empty one is unset.
            let value = env(var)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ProviderError::MissingKey {
                    provider: name.to_string(),
                    var: var.to_string(),
                })?;
            Some(Secret::new(value))
        }
        None => None,
    };
    let vendor = match config.kind {
        Kind::Anthropic => Vendor::Anthropic,
        Kind::Openai => Vendor::Openai,
        _ => Vendor::Gemini,
    };
    let model = config.effective_model().ok_or_else(|| {
        config_error(
            "set `model`: an OpenAI-compatible server at `base_url` has its own model names \
             (e.g. model = \"llama3.2\" for Ollama)"
                .to_string(),
        )
    })?;
    let base_url = config
        .effective_base_url()
        .unwrap_or_default()
        .trim_end_matches('/');
    let endpoint = reqwest::Url::parse(&vendor.endpoint(base_url, model))
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| {
            config_error(format!(
                "base_url {base_url:?} is not an http:// or https:// URL"
            ))
        })?;
    let headers = parse_headers(&config.headers).map_err(config_error)?;
    let secrets = Secrets::of_provider(key.as_ref(), &config.headers);
    HttpProvider::new(HttpSettings {
        name: name.to_string(),
        vendor,
        endpoint,
        model: model.to_string(),
        key,
        headers,
        secrets,
        max_tokens: config.max_tokens,
        temperature: config.temperature,
        openai_official: base_url == DEFAULT_OPENAI_BASE_URL,
        timeouts: config.timeouts(),
        retry: config.retry_policy(),
    })
}

/// Rejects keys that mean nothing for the kind: a `command` on an
/// `anthropic` provider is a mistake worth telling, not ignoring.
fn check_keys(config: &ProviderConfig) -> Result<(), String> {
    let set: [(&str, bool); 15] = [
        ("model", config.model.is_some()),
        ("base_url", config.base_url.is_some()),
        ("api_key_env", config.api_key_env.is_some()),
        ("headers", !config.headers.is_empty()),
        ("max_tokens", config.max_tokens.is_some()),
        ("temperature", config.temperature.is_some()),
        ("connect_timeout", config.connect_timeout.is_some()),
        ("first_byte_timeout", config.first_byte_timeout.is_some()),
        ("idle_timeout", config.idle_timeout.is_some()),
        ("retries", config.retries.is_some()),
        ("retry_base_delay", config.retry_base_delay.is_some()),
        ("retry_max_delay", config.retry_max_delay.is_some()),
        ("command", config.command.is_some()),
        ("prompt_via", config.prompt_via.is_some()),
        ("cassette", config.cassette.is_some()),
    ];
    let allowed: &[&str] = match config.kind {
        Kind::Anthropic | Kind::Openai | Kind::Gemini => &[
            "model",
            "base_url",
            "api_key_env",
            "headers",
            "max_tokens",
            "temperature",
            "connect_timeout",
            "first_byte_timeout",
            "idle_timeout",
            "retries",
            "retry_base_delay",
            "retry_max_delay",
        ],
        Kind::Command => &[
            "model",
            "command",
            "prompt_via",
            "first_byte_timeout",
            "idle_timeout",
        ],
        Kind::Replay => &["model", "cassette"],
    };
    let stray: Vec<&str> = set
        .iter()
        .filter(|(key, is_set)| *is_set && !allowed.contains(key))
        .map(|(key, _)| *key)
        .collect();
    if stray.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} {} not apply to kind `{}` (keys for it: {})",
            stray
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if stray.len() == 1 { "does" } else { "do" },
            config.kind,
            allowed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn error_of(result: Result<Arc<dyn Provider>, ProviderError>) -> ProviderError {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(err) => err,
        }
    }

    #[test]
    fn keys_of_another_kind_are_rejected() {
        let mut config = ProviderConfig::new(Kind::Anthropic);
        config.command = Some("claude -p".into());
        let err = error_of(build("claude", &config, &no_env, Path::new("/"))).to_string();
        assert!(
            err.contains("`command` does not apply to kind `anthropic`"),
            "{err}"
        );
    }

    #[test]
    fn openai_compatible_server_without_model_is_a_config_error() {
        let mut config = ProviderConfig::new(Kind::Openai);
        config.base_url = Some("http://127.0.0.1:1/v1".into());
        let err = error_of(build("local", &config, &no_env, Path::new("/"))).to_string();
        assert!(err.contains("set `model`"), "{err}");
    }

    #[test]
    fn bad_base_url_is_a_config_error() {
        let mut config = ProviderConfig::new(Kind::Openai);
        config.base_url = Some("localhost:11434".into());
        config.model = Some("llama3.2".into());
        let err = error_of(build("local", &config, &no_env, Path::new("/"))).to_string();
        assert!(err.contains("not an http:// or https:// URL"), "{err}");
    }

    #[test]
    fn command_kind_needs_a_command() {
        let config = ProviderConfig::new(Kind::Command);
        let err = error_of(build("agent", &config, &no_env, Path::new("/"))).to_string();
        assert!(err.contains("needs `command`"), "{err}");
    }
}
