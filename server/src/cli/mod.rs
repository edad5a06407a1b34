//! The command line: `agentls [serve] [--stdio]`, `agentls doctor`, ...
//! The only place that turns errors into exit codes and text for a shell.

mod doctor;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "agentls",
    version,
    about = "Multi-step AI agent workflows in any LSP editor"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Speak LSP on stdin/stdout (the default; accepted because editors pass it).
    #[arg(long, global = true)]
    stdio: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the language server on stdin/stdout (what runs with no subcommand).
    Serve,
    /// Check the installation: state directory, config files, PTY, provider keys.
    Doctor {
        /// Workspace whose `.agentls/config.toml` to check (default: the current directory).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve(),
        Some(Command::Doctor { workspace }) => {
            crate::telemetry::init_logging(&crate::state::state_base(), "warn");
            doctor::run(workspace)
        }
    }
}

fn serve() -> ExitCode {
    crate::telemetry::init_logging(&crate::state::state_base(), "info");
    tracing::info!("agentls {} serving LSP on stdio", env!("CARGO_PKG_VERSION"));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("agentls: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(crate::lsp::serve_stdio());
    tracing::info!("exiting with code {code}");
    // The stdin reader sits in a blocking read that would keep a graceful
    // runtime shutdown waiting for the editor; `exit` means now.
    std::process::exit(code)
}
