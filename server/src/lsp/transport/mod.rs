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

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;
use tower_lsp_server::jsonrpc::{Request, Response};

use self::framer::{Frame, Framer};
use super::errors::{bounded, echo, SHORTEST_CUT};
use super::stdout::OutQueue;

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

pub(super) fn encode(body: &[u8]) -> Vec<u8> {
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body);
    frame
}

fn error_frame(id: Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    encode(body.to_string().as_bytes())
}

/// Checks one frame body. `Ok` carries the message to pass on; `Err` a
/// ready error response, or `None` for a bad notification (ignored, as the
/// spec says).
fn check(body: &[u8]) -> Result<Value, Option<Vec<u8>>> {
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
    if serde_json::from_value::<Response>(value.clone()).is_ok() {
        return Ok(value);
    }
    if serde_json::from_value::<Request>(value.clone()).is_ok() {
        let method = value.get("method").and_then(Value::as_str).unwrap_or("");
        // tower-lsp-server drops every `$/` method it does not know, but
        // only notifications may go unanswered; it knows no `$/` request.
        if let (Some(id), true) = (id, method.starts_with("$/")) {
            return Err(Some(error_frame(
                id.clone(),
                -32601,
                &format!("Method not found: `{}`", echo(method)),
            )));
        }
        return Ok(value);
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

/// An error response whose message quotes too much, with the message
/// bounded (`errors::bounded`); `None` for every other frame. The last
/// guard for errors this crate did not build: tower-lsp-server's own
/// "Unexpected params: {params}" and serde's `invalid type: string "..."`
/// quote whatever the client sent.
fn bounded_error_response(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < SHORTEST_CUT || find_bytes(body, b"\"error\":{").is_none() {
        return None;
    }
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let message = value.get_mut("error")?.get_mut("message")?;
    let text = message.as_str()?;
    let cut = bounded(text.to_owned());
    if cut.len() == text.len() {
        return None;
    }
    *message = Value::String(cut);
    serde_json::to_vec(&value).ok()
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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

/// Reads the editor's frames from `input`, forwards good ones to `to_server`
/// and answers bad ones through `out`. Resolves `exit_seen` on `exit`.
pub async fn read_client(
    mut input: impl AsyncRead + Unpin,
    mut to_server: impl AsyncWrite + Unpin,
    out: OutQueue,
    lifecycle: Lifecycle,
    exit_seen: oneshot::Sender<()>,
) {
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
            let value = match check(&body) {
                Ok(value) => value,
                Err(Some(reply)) => {
                    tracing::warn!("bad message from the client: {}", logged(&body));
                    let _ = out.send_reply(reply);
                    continue;
                }
                Err(None) => continue,
            };
            let method = value.get("method").and_then(Value::as_str);
            if method == Some("shutdown") {
                lifecycle.shutdown.store(true, Ordering::SeqCst);
            }
            if to_server.write_all(&encode(&body)).await.is_err() {
                return;
            }
            if method == Some("exit") {
                let _ = exit_seen.send(());
                return;
            }
        }
    }
    // End of input: closing the pipe lets the server's loop end too.
    let _ = to_server.shutdown().await;
}

/// Splits the server's output stream into frames and queues them for
/// stdout. Never waits on the editor: the outboxes' sinks wait for room
/// (see `stdout.rs`) before they produce notifications.
pub async fn read_server(mut from_server: impl AsyncRead + Unpin, out: OutQueue) {
    let mut framer = Framer::new(framer::SERVER);
    let mut chunk = vec![0u8; 64 * 1024];
    while let Ok(n) = from_server.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        framer.push(&chunk[..n]);
        while let Some(frame) = framer.next() {
            if let Frame::Body(mut body) = frame {
                if let Some(bounded) = bounded_error_response(&body) {
                    body = bounded;
                }
                if out.send_from_server(encode(&body), &body).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_and_non_messages_get_spec_errors() {
        let parse = check(b"{not json").unwrap_err().unwrap();
        assert!(String::from_utf8(parse).unwrap().contains("-32700"));
        let invalid = check(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#)
            .unwrap_err()
            .unwrap();
        let invalid = String::from_utf8(invalid).unwrap();
        assert!(
            invalid.contains("-32600") && invalid.contains("\"id\":7"),
            "{invalid}"
        );
        assert!(check(br#"{"jsonrpc":"1.0","method":"note"}"#)
            .unwrap_err()
            .is_none());
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_ok());
    }

    fn reply(body: &[u8]) -> Value {
        let frame = check(body).unwrap_err().expect("a reply");
        let mut framer = Framer::new(framer::SERVER);
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
        let error = json!({"jsonrpc": "2.0", "id": 3,
            "error": {"code": -32602, "message": format!("Unexpected params: {huge}")}});
        let cut = bounded_error_response(error.to_string().as_bytes()).expect("bounded");
        let cut: Value = serde_json::from_slice(&cut).unwrap();
        assert_eq!(cut["id"], json!(3));
        assert_eq!(cut["error"]["code"], json!(-32602));
        let message = cut["error"]["message"].as_str().unwrap();
        assert!(message.len() < 2000 && message.starts_with("Unexpected params: xxx"));
        // Results are left alone, whatever they hold.
        let result = json!({"jsonrpc": "2.0", "id": 4, "result": {"error": {"message": huge}}});
        assert!(bounded_error_response(result.to_string().as_bytes()).is_none());
        let short = json!({"jsonrpc": "2.0", "id": 5, "error": {"code": 1, "message": "no"}});
        assert!(bounded_error_response(short.to_string().as_bytes()).is_none());
    }
}
