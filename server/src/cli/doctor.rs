//! `agentls doctor`: what a user checks first when something does not work.
//! Prints names of secret variables, never their values. Opens the
//! workspace's run store the way a run does, so a store that `agentls runs`
//! cannot open is a problem here too (exit 1).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use agentls_engine::RunStatus;
use agentls_store::{Store, StoreError, SCHEMA_VERSION};

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
    problems += check_store(&ws_state);

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

    let settings = session_sandbox(&workspace);
    match agentls_exec::landlock_abi() {
        Ok(abi) => println!("sandbox: Landlock ABI {abi}{}", network_note(abi)),
        Err(reason) if settings.allow_unconfined => println!(
            "sandbox: unavailable ({reason}); sandboxed workflows will run unconfined, with a warning"
        ),
        Err(reason) => println!(
            "sandbox: unavailable ({reason}); sandboxed workflows will fail              (`[sandbox] allow_unconfined = false`)"
        ),
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
    println!("acp agents:");
    for (name, agent) in session.config().acp_agents() {
        let program = agent.command.first().cloned().unwrap_or_default();
        let found = match which(&program) {
            Some(path) => format!("found at {}", path.display()),
            None => {
                let from = agentls_acp::BUILTINS
                    .iter()
                    .find(|b| b.name == name)
                    .map(|b| format!("; install it from {}", b.package))
                    .unwrap_or_default();
                format!("not on PATH{from}")
            }
        };
        println!("  {name}: `{}`, {found}", agent.command.join(" "));
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

/// Where `program` would be found: itself when it names a path, else the
/// first executable file of that name on PATH.
fn which(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| executable(path))
}

fn session_sandbox(workspace: &Path) -> crate::config::SandboxConfig {
    crate::session::Session::new(Some(workspace.to_path_buf()), None, None)
        .config()
        .sandbox
}

/// Landlock confines TCP from ABI 4 (Linux 6.7) on.
fn network_note(abi: u32) -> &'static str {
    if abi >= 4 {
        ""
    } else {
        " (TCP ports are not confined before ABI 4)"
    }
}

/// Opens the workspace's store as a run does ([`Store::open`]: the same
/// pragmas and migrations) and reports what SQLite finds, the schema version
/// and who drives its unfinished runs. Returns the number of problems. A
/// missing store is no problem: nothing has run in this workspace yet.
fn check_store(ws_state: &Path) -> usize {
    let path = ws_state.join("agentls.db");
    if !path.exists() {
        println!("run store: {} (none yet: no runs)", path.display());
        return 0;
    }
    let store = match Store::open(&path) {
        Ok(store) => store,
        Err(StoreError::SchemaTooNew { found, supported }) => {
            println!(
                "run store: {} (ERROR: schema version {found} is newer than this agentls \
                 knows ({supported}); upgrade agentls)",
                path.display()
            );
            return 1;
        }
        Err(err) => {
            println!("run store: {} (ERROR: {err})", path.display());
            return 1;
        }
    };
    let health = match store.health() {
        Ok(health) => health,
        Err(err) => {
            // integrity_check fails outright on some damage it cannot walk.
            println!(
                "run store: {} (ERROR: checking it failed: {err}; move the file away to start \
                 afresh)",
                path.display()
            );
            return 1;
        }
    };
    let mut problems = 0;
    if health.problems.is_empty() {
        println!(
            "run store: {} (ok: integrity check passed, schema version {} of {}, {} run(s))",
            path.display(),
            health.schema_version,
            SCHEMA_VERSION,
            health.runs
        );
    } else {
        problems += 1;
        println!(
            "run store: {} (ERROR: integrity check failed; move the file away to start \
             afresh)",
            path.display()
        );
        const SHOWN: usize = 20;
        for problem in health.problems.iter().take(SHOWN) {
            println!("  {problem}");
        }
        if health.problems.len() > SHOWN {
            println!("  ... and {} more", health.problems.len() - SHOWN);
        }
    }
    let live = agentls_engine::live_owners(ws_state);
    let pid = |owner: &str| owner.split('-').next().unwrap_or(owner).to_string();
    let pids: Vec<String> = live.iter().map(|o| pid(o)).collect();
    if pids.is_empty() {
        println!("owner locks: none held (no agentls process has this workspace open)");
    } else {
        println!(
            "owner locks: held by live agentls process(es) {}",
            pids.join(", ")
        );
    }
    for (run, status, owner) in &health.unfinished {
        let driver = match owner.as_deref() {
            Some(owner) if live.iter().any(|o| o == owner) => {
                format!("driven by live process {}", pid(owner))
            }
            _ => match status {
                RunStatus::Running | RunStatus::Queued => {
                    "no live process drives it: it becomes interrupted when agentls next \
                     opens this workspace"
                        .to_string()
                }
                _ => match super::run::next_commands(&status.actions(), run, "STEP") {
                    Some(next) => format!("next: {next}"),
                    None => "nothing more can happen to it".to_string(),
                },
            },
        };
        println!("  run {run} {status}: {driver}");
    }
    problems
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
