//! LSP base-protocol framing (`Content-Length` headers + JSON body) for the test client.
//!
//! Owns reading frames from the server's stdout and encoding frames for its stdin.
//! It knows nothing about JSON-RPC semantics: that is `server.rs`'s job.

use std::io::{self, BufRead, Read};

/// Why a frame from the server could not be read. Every variant means the server
/// wrote something to stdout that is not a valid LSP frame, which breaks the
/// "stdout belongs to JSON-RPC" rule, so the harness reports it loudly.
#[derive(Debug)]
pub enum FrameError {
    Io(io::Error),
    /// A header line that is not `Name: value`, or a bad `Content-Length` value.
    BadHeader(String),
    /// A header block without `Content-Length`.
    MissingLength,
    /// The stream ended in the middle of a frame.
    Truncated,
    /// The body is not UTF-8 JSON.
    BadBody(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Io(e) => write!(f, "reading the server's stdout failed: {e}"),
            FrameError::BadHeader(h) => write!(f, "server wrote a malformed header line: {h:?}"),
            FrameError::MissingLength => write!(f, "server wrote a header without Content-Length"),
            FrameError::Truncated => write!(f, "server's stdout ended in the middle of a frame"),
            FrameError::BadBody(b) => write!(f, "server wrote a frame body that is not JSON: {b}"),
        }
    }
}

/// Reads one frame. `Ok(None)` is a clean end of stream between frames.
pub fn read_frame(reader: &mut impl BufRead) -> Result<Option<serde_json::Value>, FrameError> {
    let mut length: Option<usize> = None;
    let mut saw_any_header = false;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).map_err(FrameError::Io)?;
        if n == 0 {
            return if saw_any_header {
                Err(FrameError::Truncated)
            } else {
                Ok(None)
            };
        }
        saw_any_header = true;
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed
            .split_once(':')
            .ok_or_else(|| FrameError::BadHeader(line.clone()))?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            let parsed = value
                .trim()
                .parse::<usize>()
                .map_err(|_| FrameError::BadHeader(line.clone()))?;
            length = Some(parsed);
        }
    }
    let length = length.ok_or(FrameError::MissingLength)?;
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            FrameError::Truncated
        } else {
            FrameError::Io(e)
        }
    })?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| FrameError::BadBody(format!("{e}: {}", String::from_utf8_lossy(&body))))
}

/// Encodes a JSON value as one LSP frame.
pub fn encode_frame(message: &serde_json::Value) -> Vec<u8> {
    let body = message.to_string();
    encode_raw_frame(body.as_bytes())
}

/// Frames arbitrary bytes with a correct `Content-Length` (used to send invalid JSON).
pub fn encode_raw_frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}
