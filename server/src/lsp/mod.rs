//! The only code that knows LSP: capabilities, handlers, commands and the
//! stdio transport. Everything below it (sessions, config, the engine) is
//! reached through plain Rust types.

mod capabilities;
mod commands;
mod config;
mod convert;
mod documents;
mod server;
mod transport;
mod workflows;

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tower_lsp_server::{LspService, Server};

pub use server::Backend;
use transport::Lifecycle;

/// How many requests tower-lsp-server runs at once. Handlers never wait on
/// the client, so this only bounds work in flight.
const CONCURRENCY: usize = 32;

/// How long in-flight responses may take to drain after `exit`.
const EXIT_GRACE: Duration = Duration::from_millis(300);

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
    let (to_server, server_in) = tokio::io::duplex(1 << 20);
    let (server_out, from_server) = tokio::io::duplex(1 << 20);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
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
    let writer = tokio::spawn(transport::write_client(output, out_rx));

    let (service, socket) = LspService::build(Backend::new).finish();
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
    if lifecycle.shutdown_requested() {
        0
    } else {
        1
    }
}
