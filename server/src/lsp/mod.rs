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
pub mod protocol;
mod requests;
mod reveal;
mod server;
mod sink;
mod stdout;
mod surface;
mod transport;
mod trust;
mod workflows;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tower_lsp_server::LspService;

pub use server::Backend;
use transport::Lifecycle;

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

/// The runtime that drives runs (commands, their output, model streams),
/// so a flood of output never keeps the editor's requests waiting for a
/// worker thread. Started with the first surface, not at start-up: a server
/// that never runs a workflow never starts its threads.
#[derive(Default)]
pub struct RunsRuntime {
    runtime: std::sync::Mutex<Option<tokio::runtime::Runtime>>,
}

impl RunsRuntime {
    /// The runtime's handle, starting it on first use.
    pub fn handle(&self) -> Result<tokio::runtime::Handle, String> {
        let mut runtime = self.runtime.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(runtime) = runtime.as_ref() {
            return Ok(runtime.handle().clone());
        }
        let started = tokio::runtime::Builder::new_multi_thread()
            .thread_name("agentls-runs")
            .on_thread_start(yield_to_the_editor)
            .enable_all()
            .build()
            .map_err(|err| format!("cannot start the runtime for runs: {err}"))?;
        let handle = started.handle().clone();
        *runtime = Some(started);
        Ok(handle)
    }

    /// Stops the runtime without waiting for its tasks (the process ends
    /// next; dropping a runtime may not block inside another).
    fn shut_down(&self) {
        let runtime = self
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(runtime) = runtime {
            runtime.shutdown_background();
        }
    }
}

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
    let gate = stdout::OutGate::new(stdout::OUT_BUDGET);
    let (out_tx, out_rx) = stdout::out_queue(gate);
    let lifecycle = Lifecycle::default();
    let (exit_tx, exit_rx) = oneshot::channel();
    let writer = tokio::spawn(stdout::write_client(output, out_rx));
    let runs = Arc::new(RunsRuntime::default());
    let backend_runs = runs.clone();
    let backend_out = out_tx.clone();
    let (service, socket) =
        LspService::build(move |client| Backend::new(client, backend_out, backend_runs))
            .custom_method(
                "window/workDoneProgress/cancel",
                Backend::work_done_progress_cancel,
            )
            .finish();
    let mut server = tokio::spawn(transport::serve(
        input,
        service,
        socket,
        out_tx,
        lifecycle.clone(),
        exit_tx,
    ));
    tokio::select! {
        _ = &mut server => {}
        Ok(()) = exit_rx => {
            // `exit` must end the process even if a handler is stuck.
            let _ = tokio::time::timeout(EXIT_GRACE, &mut server).await;
        }
    }
    server.abort();
    let _ = tokio::time::timeout(EXIT_GRACE, writer).await;
    runs.shut_down();
    if lifecycle.shutdown_requested() {
        0
    } else {
        1
    }
}
