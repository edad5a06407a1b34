//! Where telemetry goes: the `[telemetry]` config section and the standard
//! OpenTelemetry environment variables, resolved into [`Settings`] (or into
//! nothing: telemetry off).
//!
//! Precedence: `OTEL_SDK_DISABLED=true` turns everything off; otherwise an
//! environment variable wins over the config file, which wins over the
//! default. With no endpoint anywhere, nothing is exported.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::TelemetryError;

/// The service name when neither `OTEL_SERVICE_NAME` nor the config sets one.
pub const DEFAULT_SERVICE_NAME: &str = "agentls";

/// How long one export may take (`OTEL_EXPORTER_OTLP_TIMEOUT` overrides).
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `[telemetry]` section of an agentls config file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Base URL of an OTLP/HTTP receiver, e.g. `http://localhost:4318`;
    /// traces go to `/v1/traces`, metrics to `/v1/metrics` under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// `http/protobuf` (the default) or `http/json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Record prompt and answer text (with secrets redacted) on model-call
    /// spans. Off unless set to `true`.
    pub record_content: bool,
    /// `service.name` of the exported telemetry (default `agentls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
}

/// The OTLP encoding over HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf`: binary protobuf (the specification's default).
    HttpProtobuf,
    /// `http/json`: the protobuf messages as JSON.
    HttpJson,
}

impl Protocol {
    /// Parses the value of `OTEL_EXPORTER_OTLP_PROTOCOL` or `protocol`.
    pub fn parse(text: &str, origin: &str) -> Result<Protocol, TelemetryError> {
        match text.trim() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            other => Err(TelemetryError::Config(format!(
                "{origin}: protocol {other:?} is not supported; use \"http/protobuf\" (the \
                 default) or \"http/json\" (agentls exports over HTTP only; a collector's \
                 OTLP/HTTP port is usually 4318)"
            ))),
        }
    }

    /// The specification's name (`http/protobuf`, `http/json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }
}

/// Where and how to export, resolved from the environment and the config.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Full URL spans are posted to (`None`: no traces).
    pub traces_endpoint: Option<String>,
    /// Full URL metrics are posted to (`None`: no metrics).
    pub metrics_endpoint: Option<String>,
    pub protocol: Protocol,
    pub service_name: String,
    /// Whether prompt and answer text is recorded.
    pub record_content: bool,
    /// How long one export request may take.
    pub timeout: Duration,
}

impl Settings {
    /// Resolves the settings from `config` and the environment, read
    /// through `env` (the process environment in the server, a map in
    /// tests). `Ok(None)` means telemetry is off.
    pub fn resolve(
        config: &TelemetryConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Settings>, TelemetryError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let base = var("OTEL_EXPORTER_OTLP_ENDPOINT")
            .map(|v| (v, "OTEL_EXPORTER_OTLP_ENDPOINT"))
            .or_else(|| {
                config
                    .otlp_endpoint
                    .clone()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (v, "[telemetry] otlp_endpoint"))
            });
        let signal = |var_name: &str, path: &str| -> Result<Option<String>, TelemetryError> {
            // A signal's own variable is used as given; the base gets the
            // signal's path appended (the OTLP exporter specification).
            if let Some(url) = var(var_name) {
                return check_url(url.trim(), var_name).map(Some);
            }
            match &base {
                Some((url, origin)) => {
                    let url = check_url(url.trim(), origin)?;
                    Ok(Some(format!("{}{path}", url.trim_end_matches('/'))))
                }
                None => Ok(None),
            }
        };
        let traces_endpoint = signal("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces")?;
        let metrics_endpoint = signal("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "/v1/metrics")?;
        if traces_endpoint.is_none() && metrics_endpoint.is_none() {
            return Ok(None);
        }
        let protocol = match var("OTEL_EXPORTER_OTLP_PROTOCOL") {
            Some(text) => Protocol::parse(&text, "OTEL_EXPORTER_OTLP_PROTOCOL")?,
            None => match &config.protocol {
                Some(text) => Protocol::parse(text, "[telemetry] protocol")?,
                None => Protocol::HttpProtobuf,
            },
        };
        let service_name = var("OTEL_SERVICE_NAME")
            .or_else(|| config.service_name.clone())
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_string());
        // The variable the GenAI instrumentations of other languages read.
        let record_content = config.record_content
            || var("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let timeout = match var("OTEL_EXPORTER_OTLP_TIMEOUT") {
            Some(ms) => ms.trim().parse().map(Duration::from_millis).map_err(|_| {
                TelemetryError::Config(format!(
                    "OTEL_EXPORTER_OTLP_TIMEOUT={ms:?}: expected a number of milliseconds"
                ))
            })?,
            None => DEFAULT_EXPORT_TIMEOUT,
        };
        Ok(Some(Settings {
            traces_endpoint,
            metrics_endpoint,
            protocol,
            service_name,
            record_content,
            timeout,
        }))
    }
}

fn check_url(url: &str, origin: &str) -> Result<String, TelemetryError> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.parse::<http::Uri>().is_ok_and(|u| u.host().is_some());
    if ok {
        Ok(url.to_string())
    } else {
        Err(TelemetryError::Config(format!(
            "{origin}: {url:?} is not an http:// or https:// URL (e.g. http://localhost:4318)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(config: &TelemetryConfig, vars: &[(&str, &str)]) -> Option<Settings> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::resolve(config, |name| vars.get(name).cloned()).expect("valid settings")
    }

    #[test]
    fn nothing_is_exported_without_an_endpoint() {
        assert_eq!(resolve(&TelemetryConfig::default(), &[]), None);
        assert_eq!(
            resolve(
                &TelemetryConfig::default(),
                &[
                    ("OTEL_SERVICE_NAME", "x"),
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", " ")
                ]
            ),
            None
        );
    }

    #[test]
    fn the_endpoint_variable_gets_each_signal_path_with_protobuf_by_default() {
        let settings = resolve(
            &TelemetryConfig::default(),
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")],
        )
        .unwrap();
        assert_eq!(
            settings.traces_endpoint.as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            settings.metrics_endpoint.as_deref(),
            Some("http://127.0.0.1:4318/v1/metrics")
        );
        assert_eq!(settings.protocol, Protocol::HttpProtobuf);
        assert_eq!(settings.service_name, "agentls");
        assert!(!settings.record_content);
        assert_eq!(settings.timeout, DEFAULT_EXPORT_TIMEOUT);
    }

    #[test]
    fn variables_win_over_the_config_file() {
        let config = TelemetryConfig {
            otlp_endpoint: Some("http://collector:4318".into()),
            protocol: Some("http/protobuf".into()),
            record_content: false,
            service_name: Some("from-config".into()),
        };
        let from_file = resolve(&config, &[]).unwrap();
        assert_eq!(
            from_file.traces_endpoint.as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(from_file.service_name, "from-config");

        let settings = resolve(
            &config,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                ("OTEL_SERVICE_NAME", "from-env"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ],
        )
        .unwrap();
        assert_eq!(
            settings.traces_endpoint.as_deref(),
            Some("http://env:4318/v1/traces")
        );
        assert_eq!(settings.protocol, Protocol::HttpJson);
        assert_eq!(settings.service_name, "from-env");
        assert_eq!(settings.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn a_signal_endpoint_is_used_as_given_and_alone() {
        let settings = resolve(
            &TelemetryConfig::default(),
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://jaeger:4318/v1/traces",
            )],
        )
        .unwrap();
        assert_eq!(
            settings.traces_endpoint.as_deref(),
            Some("http://jaeger:4318/v1/traces")
        );
        assert_eq!(settings.metrics_endpoint, None);
    }

    #[test]
    fn sdk_disabled_turns_everything_off() {
        let config = TelemetryConfig {
            otlp_endpoint: Some("http://collector:4318".into()),
            ..TelemetryConfig::default()
        };
        assert_eq!(resolve(&config, &[("OTEL_SDK_DISABLED", "TRUE")]), None);
        assert!(resolve(&config, &[("OTEL_SDK_DISABLED", "false")]).is_some());
    }

    #[test]
    fn content_is_recorded_only_when_asked() {
        let mut config = TelemetryConfig {
            otlp_endpoint: Some("http://c:4318".into()),
            ..TelemetryConfig::default()
        };
        assert!(!resolve(&config, &[]).unwrap().record_content);
        assert!(
            resolve(
                &config,
                &[("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")]
            )
            .unwrap()
            .record_content
        );
        config.record_content = true;
        assert!(resolve(&config, &[]).unwrap().record_content);
    }

    #[test]
    fn unsupported_values_are_errors_that_say_what_to_use() {
        let vars: HashMap<&str, &str> = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]
        .into();
        let err = Settings::resolve(&TelemetryConfig::default(), |n| {
            vars.get(n).map(|v| v.to_string())
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("\"grpc\"") && err.contains("http/protobuf"),
            "{err}"
        );

        let err = Settings::resolve(&TelemetryConfig::default(), |n| {
            (n == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "localhost:4318".to_string())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{err}");
    }
}
