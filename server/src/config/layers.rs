//! Layering: defaults < user file < workspace file < initializationOptions <
//! didChangeConfiguration. Each layer is validated on its own, so an error
//! names the layer that holds it, and a broken layer keeps its last good value.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Config;

/// A configuration layer that could not be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct ConfigError {
    /// Where the bad value came from: a file path, or the editor.
    pub origin: String,
    pub message: String,
    /// Byte range of the offending text in the file, when known.
    pub span: Option<Range<usize>>,
}

/// One config file, with the text last read and the last value that parsed.
#[derive(Clone, Debug, Default)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// The text as last read (what `error.span` points into).
    pub text: String,
    /// The last value of this file that validated; kept while the file is broken.
    pub good: Option<Value>,
    pub error: Option<ConfigError>,
}

impl ConfigFile {
    /// An empty slot for `path`; call [`ConfigFile::reload`] to read it.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            ..Self::default()
        }
    }

    /// Reads the file again. A missing file is an empty layer, not an error.
    /// Returns whether the layer's good value or error changed.
    pub fn reload(&mut self) -> bool {
        // A repository controls this path: a symlink to /dev/zero or a FIFO
        // must cost nothing (see agentls-files).
        let text = match agentls_files::read_to_string(&self.path, agentls_files::Limit::CONFIG) {
            Ok(text) => text,
            Err(err) if err.is_not_found() => {
                let changed = self.good.is_some() || self.error.is_some();
                self.good = None;
                self.error = None;
                self.text.clear();
                return changed;
            }
            Err(err) => {
                let error = ConfigError {
                    origin: self.path.display().to_string(),
                    message: format!("cannot read: {}", err.reason()),
                    span: None,
                };
                let changed = self.error.as_ref() != Some(&error);
                self.error = Some(error);
                return changed;
            }
        };
        self.set_text(text)
    }

    /// Takes `text` as the file's content (for example an unsaved editor buffer).
    pub fn set_text(&mut self, text: String) -> bool {
        let before = (self.good.clone(), self.error.clone());
        match parse_toml(&self.path, &text) {
            Ok(value) => {
                self.good = Some(value);
                self.error = None;
            }
            Err(err) => self.error = Some(err),
        }
        self.text = text;
        before != (self.good.clone(), self.error.clone())
    }

    pub fn exists(&self) -> bool {
        self.path.is_file()
    }
}

/// Validates TOML text as a (partial) [`Config`] and returns it as JSON for merging.
pub fn parse_toml(path: &Path, text: &str) -> Result<Value, ConfigError> {
    let error = |err: toml::de::Error| ConfigError {
        origin: path.display().to_string(),
        message: err.message().trim().to_string(),
        span: err.span(),
    };
    // The typed parse catches wrong types and unknown keys with their span;
    // the untyped one keeps only what the user wrote, so defaults do not
    // override lower layers when merged.
    toml::from_str::<Config>(text).map_err(error)?;
    let table: toml::Table = toml::from_str(text).map_err(error)?;
    serde_json::to_value(table).map_err(|err| ConfigError {
        origin: path.display().to_string(),
        message: err.to_string(),
        span: None,
    })
}

/// Validates settings sent by the editor (initializationOptions or
/// didChangeConfiguration). Accepts `{"agentls": {...}}` or the keys bare.
pub fn parse_editor_settings(origin: &str, value: &Value) -> Result<Option<Value>, ConfigError> {
    let error = |message: String| ConfigError {
        origin: origin.into(),
        message,
        span: None,
    };
    let inner = match value {
        Value::Object(map) => match map.get("agentls") {
            Some(inner) => inner,
            None if map.is_empty() => return Ok(None),
            None => value,
        },
        other => other,
    };
    match inner {
        Value::Null => Ok(None),
        // Neovim encodes an empty Lua table as `[]`: no settings.
        Value::Array(items) if items.is_empty() => Ok(None),
        Value::Object(map) if map.is_empty() => Ok(None),
        Value::Object(_) => {
            serde_json::from_value::<Config>(inner.clone())
                .map_err(|err| error(err.to_string()))?;
            Ok(Some(inner.clone()))
        }
        other => Err(error(format!("settings must be an object, not {other}"))),
    }
}

/// All layers of one session, lowest first.
#[derive(Clone, Debug, Default)]
pub struct Layers {
    pub user: Option<ConfigFile>,
    pub workspace: Option<ConfigFile>,
    pub init: Option<Value>,
    pub settings: Option<Value>,
}

impl Layers {
    /// The merged configuration of every layer's last good value.
    pub fn effective(&self) -> Config {
        let mut merged = serde_json::to_value(Config::default()).unwrap_or(Value::Null);
        let files = [&self.user, &self.workspace];
        let file_values = files.into_iter().flatten().filter_map(|f| f.good.as_ref());
        for layer in file_values
            .chain(self.init.iter())
            .chain(self.settings.iter())
        {
            merge(&mut merged, layer);
        }
        // `[sandbox]` and `[isolation]` are the user's alone: a
        // repository's config file must not unsandbox the repository's own
        // workflows, nor let them work in the user's working tree.
        let defaults = [
            (
                "sandbox",
                serde_json::to_value(super::SandboxConfig::default()),
            ),
            (
                "isolation",
                serde_json::to_value(super::IsolationConfig::default()),
            ),
        ];
        for (name, default) in defaults {
            let mut section = default.unwrap_or_default();
            let own = self.user.iter().filter_map(|f| f.good.as_ref());
            for layer in own.chain(self.init.iter()).chain(self.settings.iter()) {
                if let Some(value) = layer.get(name) {
                    merge(&mut section, value);
                }
            }
            if let Value::Object(map) = &mut merged {
                map.insert(name.to_string(), section);
            }
        }
        // Each layer validated alone, so the merge is valid too; the
        // fallback only guards against a schema bug, never user input.
        serde_json::from_value(merged).unwrap_or_else(|err| {
            tracing::error!("merged configuration did not validate: {err}");
            Config::default()
        })
    }

    /// Config files that exist and contributed (or tried to).
    pub fn files(&self) -> Vec<&ConfigFile> {
        [&self.user, &self.workspace]
            .into_iter()
            .flatten()
            .filter(|f| f.good.is_some() || f.error.is_some())
            .collect()
    }
}

fn merge(base: &mut Value, layer: &Value) {
    match (base, layer) {
        (Value::Object(base), Value::Object(layer)) => {
            for (key, value) in layer {
                merge(base.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (base, layer) => *base = layer.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_layers_override_earlier_key_by_key() {
        let mut user = ConfigFile::new("user.toml".into());
        user.set_text("[exec]\ncols = 80\nrows = 10\n".into());
        let mut ws = ConfigFile::new("ws.toml".into());
        ws.set_text("[exec]\ncols = 90\n".into());
        let layers = Layers {
            user: Some(user),
            workspace: Some(ws),
            init: Some(json!({"exec": {"rows": 11}})),
            settings: Some(json!({"stream": {"output_per_second": 5}})),
        };
        let config = layers.effective();
        assert_eq!((config.exec.cols, config.exec.rows), (90, 11));
        assert_eq!(config.stream.output_per_second, 5);
        assert!(config.exec.pty, "untouched keys keep their defaults");
    }

    #[test]
    fn broken_file_keeps_last_good_value_and_reports_span() {
        let mut file = ConfigFile::new("c.toml".into());
        file.set_text("[exec]\ncols = 100\n".into());
        file.set_text("[exec]\ncols = \"wide\"\n".into());
        let err = file.error.clone().expect("type error reported");
        let span = err.span.expect("span");
        assert_eq!(&file.text[span], "\"wide\"");
        let layers = Layers {
            workspace: Some(file),
            ..Layers::default()
        };
        assert_eq!(layers.effective().exec.cols, 100);
    }

    #[test]
    fn unknown_key_is_an_error_at_the_key() {
        let mut file = ConfigFile::new("c.toml".into());
        file.set_text("[exec]\ncolumns = 100\n".into());
        let err = file.error.expect("unknown key rejected");
        assert!(err.message.contains("columns"), "{}", err.message);
        assert_eq!(&file.text[err.span.unwrap()], "columns");
    }

    #[test]
    fn editor_settings_accept_namespaced_or_bare_keys() {
        let ns = parse_editor_settings("init", &json!({"agentls": {"exec": {"cols": 3}}}));
        let bare = parse_editor_settings("init", &json!({"exec": {"cols": 3}}));
        assert_eq!(ns.unwrap(), bare.unwrap());
        assert!(parse_editor_settings("init", &json!({"exec": {"cols": "x"}})).is_err());
        assert_eq!(parse_editor_settings("init", &Value::Null).unwrap(), None);
    }

    #[test]
    fn empty_editor_settings_are_no_settings_and_non_objects_are_refused() {
        for empty in [
            json!([]),
            json!({}),
            json!({"agentls": []}),
            json!({"agentls": {}}),
            json!({"agentls": null}),
        ] {
            assert_eq!(
                parse_editor_settings("settings", &empty).unwrap(),
                None,
                "{empty}"
            );
        }
        for bad in [json!({"agentls": [1]}), json!({"agentls": "x"}), json!(3)] {
            assert!(parse_editor_settings("settings", &bad).is_err(), "{bad}");
        }
    }
}
