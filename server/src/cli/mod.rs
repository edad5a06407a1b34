//! The command line: `agentls [serve] [--stdio]`, `agentls run`, `runs`,
//! `show`, `resume`, `retry`, `skip`, `override`, `approve`, `reject`,
//! `workflows`, `check`, `stats`, `doctor`, `completions`, `man`. The only place that turns
//! errors into exit codes and text for a shell.
//!
//! Exit codes: 0 completed (or success), 1 failed or cancelled, 2 usage or
//! configuration error, 3 the run waits for an approval.

mod args;
mod control;
mod doctor;
mod live;
mod patch;
mod render;
mod run;
mod runs;
mod stats;
mod workflows;
mod workspace;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

pub use args::WorkspaceArg;
use args::{Cli, Command};

/// A command's failure: what to print and the exit code.
#[derive(Debug)]
pub struct Fail {
    pub code: u8,
    pub message: String,
}

impl Fail {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<agentls_engine::EngineError> for Fail {
    fn from(err: agentls_engine::EngineError) -> Self {
        Fail::usage(err.to_string())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        None | Some(Command::Serve) => return serve(),
        Some(Command::Completions { shell }) => {
            let mut cli = Cli::command();
            clap_complete::generate(shell, &mut cli, "agentls", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Some(Command::Man) => {
            use std::io::Write as _;
            let page = include_bytes!(concat!(env!("OUT_DIR"), "/agentls.1"));
            return match std::io::stdout().write_all(page) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            };
        }
        Some(Command::Doctor { workspace }) => {
            let _telemetry = crate::telemetry::init_logging(&crate::state::state_base(), "warn");
            return doctor::run(workspace);
        }
        Some(command) => command,
    };
    let mut telemetry = crate::telemetry::init_logging(&crate::state::state_base(), "warn");
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Run(args) => run::run(args).await,
            Command::Runs { ws, limit, json } => runs::list(&ws, limit, json),
            Command::Show { run, ws, json } => runs::show(&ws, &run, json),
            Command::Resume(args) => control::resume(args).await,
            Command::Retry(args) => control::retry(args).await,
            Command::Skip(args) => control::skip(args).await,
            Command::Override(args) => control::override_output(args).await,
            Command::Approve(args) => control::approve(args).await,
            Command::Reject(args) => control::reject(args).await,
            Command::Diff(args) => patch::diff(args),
            Command::Apply(args) => patch::apply(args).await,
            Command::Discard(args) => patch::discard(args),
            Command::Workflows { ws, json } => workflows::list(&ws, json),
            Command::Check { ws } => workflows::check(&ws),
            Command::Stats(args) => stats::run(args),
            Command::Serve
            | Command::Doctor { .. }
            | Command::Completions { .. }
            | Command::Man => {
                unreachable!("handled above")
            }
        }
    });
    let code = match result {
        Ok(code) => code,
        Err(fail) => {
            eprintln!("agentls: {}", fail.message);
            fail.code
        }
    };
    // Runs still being driven (none, normally) must not keep the process.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    // After the run's last span ended (a Ctrl-C cancels the run and comes
    // here too): what is pending reaches the collector before exit.
    telemetry.shutdown();
    ExitCode::from(code)
}

fn serve() -> ExitCode {
    let mut telemetry = crate::telemetry::init_logging(&crate::state::state_base(), "info");
    tracing::info!("agentls {} serving LSP on stdio", env!("CARGO_PKG_VERSION"));
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let code = runtime.block_on(crate::lsp::serve_stdio());
    tracing::info!("exiting with code {code}");
    // `process::exit` runs no destructor: flush the telemetry first.
    telemetry.shutdown();
    // The stdin reader sits in a blocking read that would keep a graceful
    // runtime shutdown waiting for the editor; `exit` means now.
    std::process::exit(code)
}

/// The async runtime of a command; `None` (after saying why) when the
/// machine cannot give one.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(err) => {
            eprintln!("agentls: cannot start the async runtime: {err}");
            None
        }
    }
}
