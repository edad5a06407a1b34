//! The stdio transport: frames JSON-RPC messages between the editor and
//! tower-lsp-server, and makes sure bad input never stops the server.
//!
//! tower-lsp-server reads stdin through tokio-util's `FramedRead`, which ends
//! the stream after the first decode error: one frame of invalid JSON and the
//! server stops reading (DESIGN invariant 9). So the real stdin is read here:
//! only well-formed JSON-RPC messages are passed on, and bad frames are
//! answered here with the spec's error. The same loop sees `shutdown` and
//! `exit`, which decides the exit code without trusting anyone else's state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;
use tower_lsp_server::jsonrpc::{Request, Response};

use super::stdout::OutQueue;

/// Frames larger than this are refused rather than buffered.
const MAX_FRAME: usize = 64 * 1024 * 1024;

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

/// A complete frame body, or a framing problem to answer.
enum Frame {
    Body(Vec<u8>),
    Bad(String),
}

/// Incremental `Content-Length` framing over a byte buffer.
#[derive(Default)]
struct Framer {
    buf: Vec<u8>,
    /// Body length of the frame whose headers were read.
    pending: Option<usize>,
}

impl Framer {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(len) = self.pending {
                if self.buf.len() < len {
                    return None;
                }
                let body: Vec<u8> = self.buf.drain(..len).collect();
                self.pending = None;
                return Some(Frame::Body(body));
            }
            let end = find(&self.buf, b"\r\n\r\n")?;
            let headers = String::from_utf8_lossy(&self.buf[..end]).into_owned();
            self.buf.drain(..end + 4);
            match content_length(&headers) {
                Ok(len) if len > MAX_FRAME => {
                    self.resync();
                    return Some(Frame::Bad(format!(
                        "frame of {len} bytes exceeds the limit"
                    )));
                }
                Ok(len) => self.pending = Some(len),
                Err(message) => {
                    self.resync();
                    return Some(Frame::Bad(message));
                }
            }
        }
    }

    /// After bad headers the body length is unknown: skip to the next header.
    fn resync(&mut self) {
        match find(&self.buf, b"Content-Length") {
            Some(at) => drop(self.buf.drain(..at)),
            None => {
                // Keep a tail in case the next header is split across reads.
                let keep = self.buf.len().min(b"Content-Length".len());
                self.buf.drain(..self.buf.len() - keep);
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(headers: &str) -> Result<usize, String> {
    let mut length = None;
    for line in headers.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("malformed header line {line:?}"));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("invalid Content-Length {value:?}"))?,
            );
        }
    }
    length.ok_or_else(|| "missing Content-Length header".to_string())
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

/// Checks one frame body. `Ok` carries the body to pass on; `Err` a ready
/// error response, or `None` for a bad notification (ignored, as the spec says).
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
    let is_response = serde_json::from_value::<Response>(value.clone()).is_ok();
    if is_response || serde_json::from_value::<Request>(value.clone()).is_ok() {
        return Ok(value);
    }
    match value.get("id") {
        Some(id) if id.is_string() || id.is_number() => Err(Some(error_frame(
            id.clone(),
            -32600,
            "Invalid request: not a JSON-RPC 2.0 message",
        ))),
        _ if value.get("method").is_some() => {
            tracing::warn!("ignoring malformed notification: {value}");
            Err(None)
        }
        _ => Err(Some(error_frame(
            Value::Null,
            -32600,
            "Invalid request: not a JSON-RPC 2.0 message",
        ))),
    }
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
    let mut framer = Framer::default();
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
                    tracing::warn!(
                        "bad message from the client: {}",
                        String::from_utf8_lossy(&body)
                    );
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
    let mut framer = Framer::default();
    let mut chunk = vec![0u8; 64 * 1024];
    while let Ok(n) = from_server.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        framer.push(&chunk[..n]);
        while let Some(frame) = framer.next() {
            if let Frame::Body(body) = frame {
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

    fn bodies(framer: &mut Framer) -> Vec<Result<String, String>> {
        std::iter::from_fn(|| framer.next())
            .map(|f| match f {
                Frame::Body(b) => Ok(String::from_utf8(b).unwrap()),
                Frame::Bad(m) => Err(m),
            })
            .collect()
    }

    #[test]
    fn frames_split_across_reads_are_reassembled() {
        let mut framer = Framer::default();
        let wire = [encode(b"{\"a\":1}"), encode("{\"b\":\"é\"}".as_bytes())].concat();
        let mut got = Vec::new();
        for byte in wire {
            framer.push(&[byte]);
            got.extend(bodies(&mut framer));
        }
        assert_eq!(
            got,
            vec![Ok("{\"a\":1}".into()), Ok("{\"b\":\"é\"}".into())]
        );
    }

    #[test]
    fn bad_content_length_is_reported_and_the_next_frame_still_read() {
        let mut framer = Framer::default();
        framer.push(b"Content-Length: abc\r\n\r\n{\"junk\":true}");
        framer.push(&encode(b"{\"ok\":1}"));
        let got = bodies(&mut framer);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .contains("invalid Content-Length"));
        assert_eq!(got[1], Ok("{\"ok\":1}".into()));
    }

    #[test]
    fn header_names_are_case_insensitive_and_content_type_allowed() {
        let mut framer = Framer::default();
        framer.push(b"content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}");
        assert_eq!(bodies(&mut framer), vec![Ok("{}".into())]);
    }

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
}
