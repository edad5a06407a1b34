//! The stdio transport: frames JSON-RPC messages between the editor and
//! tower-lsp-server, and makes sure bad input never stops the server.
//!
//! tower-lsp-server reads stdin through tokio-util's `FramedRead`, which ends
//! the stream after the first decode error: one frame of invalid JSON and the
//! server stops reading (docs/architecture.md). So the real stdin is read
//! here: only well-formed JSON-RPC messages are passed on, and bad frames are
//! answered here with the spec's error. [`framer`] says how the reader finds
//! its way back to frames after any input. The same loop sees `shutdown` and
//! `exit`, which decides the exit code without trusting anyone else's state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::channel::mpsc;
use futures::{future, SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::oneshot;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ClientSocket;
use tower_service::Service;

use self::framer::{Frame, Framer};
use super::errors::{bounded, echo};
use super::stdout::{encode, OutQueue};

mod framer;

/// How much of a bad message the log shows.
const LOGGED_BYTES: usize = 500;

/// What the reader learned about the session's end.
#[derive(Clone, Default)]
pub struct Lifecycle {
    shutdown: Arc<AtomicBool>,
}

impl Lifecycle {
    /// Whether a `shutdown` request arrived: `exit` then means exit code 0.
    pub fn shutdown_requested(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

fn error_frame(id: Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    encode(body.to_string().as_bytes())
}

/// A good message from the editor.
enum Incoming {
    /// A request or a notification, for the service.
    Request(Request),
    /// An answer to one of the server's requests.
    Response(Response),
}

/// Checks one frame body. `Ok` carries the message to pass on; `Err` a
/// ready error response, or `None` for a bad notification (ignored, as the
/// spec says).
fn check(body: &[u8]) -> Result<Incoming, Option<Vec<u8>>> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            return Err(Some(error_frame(
                Value::Null,
                -32700,
                &format!("Parse error: {err}"),
            )))
        }
    };
    let id = value.get("id");
    if id.is_some_and(|id| !(id.is_string() || id.is_number() || id.is_null())) {
        // The id cannot be echoed: JSON-RPC answers such a request with null.
        return Err(Some(error_frame(
            Value::Null,
            -32600,
            "Invalid request: `id` must be a string, a number or null",
        )));
    }
    if value.get("method").is_none() {
        if let Ok(response) = Response::deserialize(&value) {
            return Ok(Incoming::Response(response));
        }
    }
    if let Ok(request) = Request::deserialize(&value) {
        let method = request.method();
        // tower-lsp-server drops every `$/` method it does not know, but
        // only notifications may go unanswered; it knows no `$/` request.
        if let (Some(id), true) = (id, method.starts_with("$/")) {
            return Err(Some(error_frame(
                id.clone(),
                -32601,
                &format!("Method not found: `{}`", echo(method)),
            )));
        }
        return Ok(Incoming::Request(request));
    }
    match id {
        Some(id) => Err(Some(error_frame(
            id.clone(),
            -32600,
            "Invalid request: not a JSON-RPC 2.0 message",
        ))),
        None if value.get("method").is_some() => {
            tracing::warn!(
                "ignoring malformed notification: {}",
                logged(value.to_string().as_bytes())
            );
            Err(None)
        }
        None => Err(Some(error_frame(
            Value::Null,
            -32600,
            "Invalid request: not a JSON-RPC 2.0 message",
        ))),
    }
}

/// The start of a message, for the log.
fn logged(body: &[u8]) -> String {
    let shown = &body[..body.len().min(LOGGED_BYTES)];
    let mut text = String::from_utf8_lossy(shown).into_owned();
    if body.len() > LOGGED_BYTES {
        text.push_str(&format!("…({} bytes)", body.len()));
    }
    text
}

/// How many requests run at once. Handlers never wait on the client, so
/// this only bounds work in flight.
const CONCURRENCY: usize = 32;

/// Requests read ahead of the ones running.
const QUEUED_REQUESTS: usize = 100;

/// Serves `service` on the editor's frames from `input`: good requests and
/// notifications go to the service, answers to the server's own requests
/// to `socket`, and everything the server says (responses, its requests to
/// the editor) is framed once into `out`. Bad frames are answered here.
/// Resolves `exit_seen` on `exit`.
pub async fn serve<S>(
    input: impl AsyncRead + Unpin,
    service: S,
    socket: ClientSocket,
    out: OutQueue,
    lifecycle: Lifecycle,
    exit_seen: oneshot::Sender<()>,
) where
    S: Service<Request, Response = Option<Response>>,
    S::Error: std::fmt::Display + Send,
    S::Future: Send + 'static,
{
    let (requests, responses) = socket.split();
    let (tasks, queued) = mpsc::channel(QUEUED_REQUESTS);
    // The server's requests to the editor (progress, edits, documents):
    // urgent, like responses; a notification sent through tower's `Client`
    // (none today: the outboxes send them) is counted by the gate.
    let to_editor = requests.for_each(|request| {
        let sent = if request.id().is_some() {
            out.send_urgent(&request)
        } else {
            out.send_gated(&request)
        };
        if sent.is_err() {
            tracing::debug!("stdout is closed; a request to the editor is dropped");
        }
        future::ready(())
    });
    let answers = queued
        .buffer_unordered(CONCURRENCY)
        .filter_map(future::ready)
        .for_each(|response: Response| {
            let _ = out.send_urgent(&bounded_response(response));
            future::ready(())
        });
    let reader = read_client(input, service, responses, tasks, &out, lifecycle, exit_seen);
    tokio::select! {
        // The server's own requests end with it; answers end when the
        // reader stops queueing (end of input or `exit`).
        () = async { tokio::join!(reader, answers); } => {}
        () = to_editor => {}
    }
}

/// A request the service is working on: its response, if it has one.
type Task = std::pin::Pin<Box<dyn std::future::Future<Output = Option<Response>> + Send>>;

/// Reads the editor's frames: requests and notifications go to the
/// service (in order, each started before the next is read), responses to
/// the server's requests go back to tower's client, bad frames are answered.
async fn read_client<S>(
    mut input: impl AsyncRead + Unpin,
    mut service: S,
    mut responses: impl futures::Sink<Response> + Unpin,
    mut tasks: mpsc::Sender<Task>,
    out: &OutQueue,
    lifecycle: Lifecycle,
    exit_seen: oneshot::Sender<()>,
) where
    S: Service<Request, Response = Option<Response>>,
    S::Error: std::fmt::Display + Send,
    S::Future: Send + 'static,
{
    let mut framer = Framer::new(framer::CLIENT);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        framer.push(&chunk[..n]);
        while let Some(frame) = framer.next() {
            let body = match frame {
                Frame::Body(body) => body,
                Frame::Bad(message) => {
                    tracing::warn!("bad frame from the client: {message}");
                    let _ = out.send_reply(error_frame(
                        Value::Null,
                        -32700,
                        &format!("Parse error: {message}"),
                    ));
                    continue;
                }
            };
            let message = match check(&body) {
                Ok(message) => message,
                Err(Some(reply)) => {
                    tracing::warn!("bad message from the client: {}", logged(&body));
                    let _ = out.send_reply(reply);
                    continue;
                }
                Err(None) => continue,
            };
            let request = match message {
                Incoming::Response(response) => {
                    if responses.send(response).await.is_err() {
                        tracing::debug!("an answer came for a request nobody waits on");
                    }
                    continue;
                }
                Incoming::Request(request) => request,
            };
            let method = request.method().to_owned();
            if method == "shutdown" {
                lifecycle.shutdown.store(true, Ordering::SeqCst);
            }
            if let Err(err) = future::poll_fn(|cx| service.poll_ready(cx)).await {
                tracing::error!("the server cannot take requests: {err}");
                return;
            }
            let task = service.call(request);
            let task: Task = Box::pin(async move {
                task.await.unwrap_or_else(|err| {
                    tracing::error!("a request failed inside the server: {err}");
                    None
                })
            });
            if tasks.send(task).await.is_err() {
                return;
            }
            if method == "exit" {
                let _ = exit_seen.send(());
                return;
            }
        }
    }
}

/// A response with its error message bounded (`errors::bounded`). The last
/// guard for errors this crate did not build: tower-lsp-server's own
/// "Unexpected params: {params}" and serde's `invalid type: string "..."`
/// quote whatever the client sent.
fn bounded_response(response: Response) -> Response {
    match response.into_parts() {
        (id, Err(mut error)) => {
            error.message = bounded(error.message.into_owned()).into();
            Response::from_parts(id, Err(error))
        }
        (id, result) => Response::from_parts(id, result),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_and_non_messages_get_spec_errors() {
        let parse = check(b"{not json").err().flatten().unwrap();
        assert!(String::from_utf8(parse).unwrap().contains("-32700"));
        let invalid = check(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#)
            .err()
            .flatten()
            .unwrap();
        let invalid = String::from_utf8(invalid).unwrap();
        assert!(
            invalid.contains("-32600") && invalid.contains("\"id\":7"),
            "{invalid}"
        );
        assert!(matches!(
            check(br#"{"jsonrpc":"1.0","method":"note"}"#),
            Err(None)
        ));
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_ok());
    }

    fn reply(body: &[u8]) -> Value {
        let frame = check(body).err().flatten().expect("a reply");
        let mut framer = Framer::new(framer::CLIENT);
        framer.push(&frame);
        match framer.next() {
            Some(Frame::Body(body)) => serde_json::from_slice(&body).unwrap(),
            other => panic!("not a frame: {other:?}"),
        }
    }

    #[test]
    fn requests_whose_id_is_no_string_or_number_get_invalid_request_with_id_null() {
        for id in [r#"{"a":1}"#, "[1]", "true"] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"shutdown"}}"#);
            let answer = reply(body.as_bytes());
            assert_eq!(answer["id"], Value::Null, "{answer}");
            assert_eq!(answer["error"]["code"], json!(-32600), "{answer}");
        }
    }

    #[test]
    fn dollar_requests_get_method_not_found_and_dollar_notifications_pass() {
        let answer = reply(br#"{"jsonrpc":"2.0","id":"q","method":"$/noSuchRequest"}"#);
        assert_eq!(answer["id"], json!("q"), "{answer}");
        assert_eq!(answer["error"]["code"], json!(-32601), "{answer}");
        assert!(check(br#"{"jsonrpc":"2.0","method":"$/noSuchNotification"}"#).is_ok());
        assert!(
            check(br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#).is_ok()
        );
    }

    #[test]
    fn long_error_messages_from_tower_are_bounded_on_the_way_out() {
        let huge = "x".repeat(1 << 20);
        let error = serde_json::from_value::<Response>(json!({"jsonrpc": "2.0", "id": 3,
            "error": {"code": -32602, "message": format!("Unexpected params: {huge}")}}))
        .unwrap();
        let cut = serde_json::to_value(bounded_response(error)).unwrap();
        assert_eq!(cut["id"], json!(3));
        assert_eq!(cut["error"]["code"], json!(-32602));
        let message = cut["error"]["message"].as_str().unwrap();
        assert!(message.len() < 2000 && message.starts_with("Unexpected params: xxx"));
        // Results are left alone, whatever they hold.
        let result = json!({"jsonrpc": "2.0", "id": 4, "result": {"error": {"message": huge}}});
        let kept = bounded_response(serde_json::from_value(result.clone()).unwrap());
        assert_eq!(serde_json::to_value(kept).unwrap(), result);
    }
}
