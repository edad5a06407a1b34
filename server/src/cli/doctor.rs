//! `agentls doctor`: what a user checks first when something does not work.
//! Prints names of secret variables, never their values.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::ConfigFile;
use crate::state;

/// Environment variables that hold provider keys by default.
pub const KEY_VARIABLES: &[&str] = &["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY"];

pub fn run(workspace: Option<PathBuf>) -> ExitCode {
    let workspace = workspace
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let mut problems = 0;
    println!("agentls {}", env!("CARGO_PKG_VERSION"));

    let base = state::state_base();
    let ws_state = state::workspace_state_dir(&state::WorkspaceId::for_root(Some(&workspace)));
    match writable(&base) {
        Ok(()) => println!("state directory: {} (writable)", base.display()),
        Err(err) => {
            problems += 1;
            println!("state directory: {} (NOT writable: {err})", base.display());
        }
    }
    println!("workspace state: {}", ws_state.display());

    for (label, path) in [
        ("user config", state::user_config_file()),
        ("workspace config", state::workspace_config_file(&workspace)),
    ] {
        let line = config_line(&path);
        if line.contains("error") {
            problems += 1;
        }
        println!("{label}: {line}");
    }

    match probe_pty() {
        Ok(()) => println!("pty: ok"),
        Err(err) => println!("pty: unavailable ({err}); commands will run with plain pipes"),
    }
    if std::env::var("AGENTLS_PTY").is_ok_and(|v| v == "off") {
        println!("pty: disabled by AGENTLS_PTY=off");
    }

    for name in KEY_VARIABLES {
        let set = std::env::var_os(name).is_some_and(|v| !v.is_empty());
        println!("{name}: {}", if set { "set" } else { "not set" });
    }
    let session = crate::session::Session::new(Some(workspace.clone()), None, None);
    let providers = session.config().providers();
    println!("providers (default: {}):", providers.default_name());
    for (name, config) in providers.effective() {
        let model = config
            .effective_model()
            .map(|m| format!(" {m}"))
            .unwrap_or_default();
        let key = match config.key_env() {
            Some(var) if std::env::var_os(var).is_some_and(|v| !v.is_empty()) => {
                format!("key {var} set")
            }
            Some(var) => format!("key {var} NOT set"),
            None => "no key needed".into(),
        };
        println!("  {name}: {}{model}, {key}", config.kind.as_str());
    }
    match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            println!("otlp endpoint: {}", redact_userinfo(&endpoint))
        }
        _ => println!("otlp endpoint: not set (telemetry export off)"),
    }
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        println!("{problems} problem(s) found");
        ExitCode::FAILURE
    }
}

fn config_line(path: &Path) -> String {
    let mut file = ConfigFile::new(path.to_path_buf());
    if !file.exists() {
        return format!("{} (not found)", path.display());
    }
    file.reload();
    match &file.error {
        None => format!("{} (ok)", path.display()),
        Some(err) => {
            let line = err
                .span
                .clone()
                .map(|s| {
                    file.text[..s.start.min(file.text.len())]
                        .matches('\n')
                        .count()
                        + 1
                })
                .map(|l| format!(":{l}"))
                .unwrap_or_default();
            format!("{}{line} (error: {})", path.display(), err.message)
        }
    }
}

fn writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    tempfile_in(dir)
}

fn tempfile_in(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".doctor-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

fn probe_pty() -> Result<(), String> {
    use portable_pty::{native_pty_system, PtySize};
    native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map(drop)
        .map_err(|err| err.to_string())
}

/// `https://user:pass@host` must not print the password.
fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}
