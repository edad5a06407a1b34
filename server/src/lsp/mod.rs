//! The only code that knows LSP: capabilities, handlers, commands and the
//! stdio transport. Everything below it (sessions, config, the engine) is
//! reached through plain Rust types.

mod capabilities;
mod client;
mod code_actions;
mod commands;
mod config;
mod convert;
mod documents;
mod errors;
mod outbox;
mod requests;
mod reveal;
mod runs;
mod server;
mod stdout;
mod transport;
mod trust;
mod workflows;

use std::time::Duration;

use tokio::sync::oneshot;
use tower_lsp_server::{LspService, Server};

pub use server::Backend;
use transport::Lifecycle;

/// How many requests tower-lsp-server runs at once. Handlers never wait on
/// the client, so this only bounds work in flight.
const CONCURRENCY: usize = 32;

/// How long in-flight responses may take to drain after `exit`.
const EXIT_GRACE: Duration = Duration::from_millis(300);

/// Lowers the calling thread's scheduling priority (nice +5): on a busy
/// machine, the threads answering the editor get the CPU before those
/// reading a run's output, and commands started from them inherit it.
fn yield_to_the_editor() {
    // SAFETY: plain syscalls on the calling thread; no memory is shared.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, RUNS_NICE);
    }
}

/// How much lower than the server runs are scheduled.
const RUNS_NICE: libc::c_int = 5;

/// Serves LSP on stdin/stdout until `exit` or end of input; returns the
/// process exit code (0 after `shutdown`, else 1, as the spec says).
pub async fn serve_stdio() -> i32 {
    serve(tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves LSP over any byte streams (tests use in-memory pipes).
pub async fn serve(
    input: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    output: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
) -> i32 {
    // Runs (commands, their output, model streams) are driven on a runtime
    // of their own, so a flood of output never keeps the editor's requests
    // waiting for a worker thread.
    let runs = match tokio::runtime::Builder::new_multi_thread()
        .thread_name("agentls-runs")
        .on_thread_start(yield_to_the_editor)
        .enable_all()
        .build()
    {
        Ok(runs) => runs,
        Err(err) => {
            tracing::error!("cannot start the runtime for runs: {err}");
            return 1;
        }
    };
    let runs_handle = runs.handle().clone();
    let (to_server, server_in) = tokio::io::duplex(1 << 20);
    let (server_out, from_server) = tokio::io::duplex(1 << 20);
    let gate = stdout::OutGate::new(stdout::OUT_BUDGET);
    let (out_tx, out_rx) = stdout::out_queue(gate.clone());
    let lifecycle = Lifecycle::default();
    let (exit_tx, exit_rx) = oneshot::channel();

    tokio::spawn(transport::read_client(
        input,
        to_server,
        out_tx.clone(),
        lifecycle.clone(),
        exit_tx,
    ));
    tokio::spawn(transport::read_server(from_server, out_tx));
    let writer = tokio::spawn(stdout::write_client(output, out_rx));

    let (service, socket) =
        LspService::build(move |client| Backend::new(client, gate, runs_handle))
            .custom_method(
                "window/workDoneProgress/cancel",
                Backend::work_done_progress_cancel,
            )
            .finish();
    let mut server = tokio::spawn(
        Server::new(server_in, server_out, socket)
            .concurrency_level(CONCURRENCY)
            .serve(service),
    );
    tokio::select! {
        _ = &mut server => {}
        Ok(()) = exit_rx => {
            // `exit` must end the process even if a handler is stuck.
            let _ = tokio::time::timeout(EXIT_GRACE, &mut server).await;
        }
    }
    let _ = tokio::time::timeout(EXIT_GRACE, writer).await;
    // Dropping a runtime may not block inside another; the process ends next.
    runs.shutdown_background();
    if lifecycle.shutdown_requested() {
        0
    } else {
        1
    }
}
