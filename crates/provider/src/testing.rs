//! Test support shared with other crates' tests (feature `testing`): a
//! scripted HTTP/1.1 server on 127.0.0.1 that speaks exactly the bytes a
//! test gives it, records every request with timestamps, and reports when a
//! client closes its connection; plus small helpers to build configs and
//! run calls.
//!
//! Also [`Wire`] and [`Turn`]: model turns with text and tool calls, in
//! each vendor's streaming format, for tests of agent loops.
//!
//! Test code, not product code: it panics on setup failures (a port that
//! cannot be bound) because a test cannot go on without it.

mod turns;

pub use turns::{Call, Turn, Wire};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::{Chunk, Completion, Kind, ProviderConfig, ProviderError};

/// One thing the server does while answering a request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes and flush.
    Raw(Vec<u8>),
    /// Write one chunk of a `transfer-encoding: chunked` body and flush.
    Chunk(Vec<u8>),
    /// Write the last chunk of a chunked body.
    End,
    /// Wait.
    Pause(Duration),
    /// Read until the client closes the connection, then report it.
    AwaitClose,
    /// Close the connection now.
    Drop,
    /// Never answer (until the test ends).
    Hang,
    /// Write a complete JSON response whose body is `body` with
    /// [`ECHO_HEADERS`] replaced by the request's headers: a proxy that
    /// echoes what it received in its error message.
    EchoJson {
        /// The response status.
        status: u16,
        /// The body, with the placeholder.
        body: String,
    },
    /// Write one chunk of a chunked body, [`ECHO_HEADERS`] replaced likewise.
    EchoChunk(String),
}

/// Where [`Step::EchoJson`] and [`Step::EchoChunk`] put the request's headers
/// (`name: value` pairs joined by `, `, escaped for a JSON string).
pub const ECHO_HEADERS: &str = "{headers}";

/// The request's headers for an echo, escaped to sit inside a JSON string.
fn echoed(seen: &Seen) -> String {
    let joined = seen
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join(", ");
    let quoted = serde_json::to_string(&joined).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_string()
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// When the request head was read.
    pub at: Instant,
    /// `POST`, ...
    pub method: String,
    /// Path and query, e.g. `/v1/messages`.
    pub target: String,
    /// Headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The request body (JSON for the HTTP providers).
    pub body: String,
    /// When the first response byte was written.
    pub responded_at: Option<Instant>,
}

impl Seen {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON; panics when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

/// Something the server observed that a test can wait for.
#[derive(Debug, PartialEq, Eq)]
pub enum Observed {
    /// Request number n (0-based) arrived.
    Request(usize),
    /// The client closed the connection while request n was answered.
    ClientClosed(usize),
}

/// The server; stops when dropped.
pub struct FakeServer {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    observed: mpsc::UnboundedReceiver<Observed>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Serves `scripts` in order, one per request.
    pub async fn start(scripts: Vec<Vec<Step>>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, scripts)
    }

    /// Same, on a given address (to start listening on a port that refused
    /// connections before).
    pub async fn start_on(addr: SocketAddr, scripts: Vec<Vec<Step>>) -> FakeServer {
        let listener = TcpListener::bind(addr).await.expect("bind again");
        Self::serve(listener, scripts)
    }

    fn serve(listener: TcpListener, scripts: Vec<Vec<Step>>) -> FakeServer {
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let scripts = Arc::new(Mutex::new(scripts.into_iter()));
        let (tx, observed) = mpsc::unbounded_channel();
        let state = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (seen, scripts, tx) = (state.clone(), scripts.clone(), tx.clone());
                tokio::spawn(async move {
                    let _ = connection(socket, seen, scripts, tx).await;
                });
            }
        });
        FakeServer {
            addr,
            seen,
            observed,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) for the server to observe `what`.
    pub async fn wait_for(&mut self, what: Observed) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.observed.recv()).await {
                Ok(Some(event)) if event == what => return,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("server stopped before {what:?}"),
                Err(_) => panic!("server did not observe {what:?} within 10 s"),
            }
        }
    }
}

type Scripts = Arc<Mutex<std::vec::IntoIter<Vec<Step>>>>;

async fn connection(
    mut socket: TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    scripts: Scripts,
    observed: mpsc::UnboundedSender<Observed>,
) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut socket, &mut buffer).await? else {
            return Ok(());
        };
        let index = {
            let mut seen = seen.lock().unwrap();
            seen.push(request);
            seen.len() - 1
        };
        let _ = observed.send(Observed::Request(index));
        let steps = scripts.lock().unwrap().next().unwrap_or_else(|| {
            json_response(500, &[], r#"{"error":{"message":"no script left"}}"#)
        });
        for step in steps {
            if let Step::Raw(_)
            | Step::Chunk(_)
            | Step::End
            | Step::EchoJson { .. }
            | Step::EchoChunk(_) = step
            {
                let mut seen = seen.lock().unwrap();
                seen[index].responded_at.get_or_insert_with(Instant::now);
            }
            let step = match step {
                Step::EchoJson { status, body } => {
                    let headers = echoed(&seen.lock().unwrap()[index]);
                    Step::Raw(json_bytes(
                        status,
                        &[],
                        &body.replace(ECHO_HEADERS, &headers),
                    ))
                }
                Step::EchoChunk(template) => {
                    let headers = echoed(&seen.lock().unwrap()[index]);
                    Step::Chunk(template.replace(ECHO_HEADERS, &headers).into_bytes())
                }
                step => step,
            };
            match step {
                Step::Raw(bytes) => {
                    socket.write_all(&bytes).await?;
                    socket.flush().await?;
                }
                Step::Chunk(bytes) => {
                    let mut frame = format!("{:x}\r\n", bytes.len()).into_bytes();
                    frame.extend_from_slice(&bytes);
                    frame.extend_from_slice(b"\r\n");
                    socket.write_all(&frame).await?;
                    socket.flush().await?;
                }
                Step::End => {
                    socket.write_all(b"0\r\n\r\n").await?;
                    socket.flush().await?;
                }
                Step::Pause(duration) => tokio::time::sleep(duration).await,
                Step::AwaitClose => {
                    let mut sink = [0u8; 1024];
                    loop {
                        match socket.read(&mut sink).await {
                            Ok(0) | Err(_) => break,
                            Ok(_) => continue,
                        }
                    }
                    let _ = observed.send(Observed::ClientClosed(index));
                    return Ok(());
                }
                Step::Drop => return Ok(()),
                Step::Hang => std::future::pending::<()>().await,
                Step::EchoJson { .. } | Step::EchoChunk(_) => unreachable!("replaced above"),
            }
        }
    }
}

/// Reads one request; `None` when the client closed the connection first.
async fn read_request(
    socket: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<Seen>> {
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
    buffer.drain(..head_end + length);
    Ok(Some(Seen {
        at,
        method,
        target,
        headers,
        body,
        responded_at: None,
    }))
}

/// The head of a streamed (chunked) response.
pub fn sse_head(headers: &[(&str, &str)]) -> Step {
    let mut head = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n\
         transfer-encoding: chunked\r\ncache-control: no-cache\r\n",
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Step::Raw(head.into_bytes())
}

/// A complete streamed response: each string is one HTTP chunk.
pub fn sse_response(headers: &[(&str, &str)], pieces: &[&str]) -> Vec<Step> {
    let mut steps = vec![sse_head(headers)];
    steps.extend(pieces.iter().map(|p| Step::Chunk(p.as_bytes().to_vec())));
    steps.push(Step::End);
    steps
}

/// A complete JSON response with a content length.
pub fn json_response(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<Step> {
    vec![Step::Raw(json_bytes(status, headers, body))]
}

/// A JSON error response whose body carries the request's headers where
/// `body` says [`ECHO_HEADERS`].
pub fn echo_json_response(status: u16, body: &str) -> Vec<Step> {
    vec![Step::EchoJson {
        status,
        body: body.to_string(),
    }]
}

fn json_bytes(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        529 => "Site Overloaded",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(body);
    head.into_bytes()
}

/// A config pointed at `base_url` with fast retries and timeouts.
pub fn fast_config(kind: Kind, base_url: &str) -> ProviderConfig {
    let mut config = ProviderConfig::new(kind);
    config.base_url = Some(base_url.to_string());
    config.retry_base_delay = Some(crate::ConfigDuration::millis(5));
    config.retry_max_delay = Some(crate::ConfigDuration::secs(5));
    config.first_byte_timeout = Some(crate::ConfigDuration::secs(10));
    config.idle_timeout = Some(crate::ConfigDuration::secs(10));
    config
}

/// An environment with one key set.
pub fn env_with(var: &'static str, value: &'static str) -> impl Fn(&str) -> Option<String> {
    move |name: &str| (name == var).then(|| value.to_string())
}

/// Runs one call, collecting every chunk sent.
pub async fn call(
    provider: &dyn crate::Provider,
    request: crate::Request,
) -> (Result<Completion, ProviderError>, Vec<Chunk>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let cancel = crate::CancellationToken::new();
    let result = provider.stream(request, tx, cancel).await;
    let mut chunks = Vec::new();
    while let Ok(chunk) = rx.try_recv() {
        chunks.push(chunk);
    }
    (result, chunks)
}

/// The text chunks among `chunks`.
pub fn texts(chunks: &[Chunk]) -> Vec<String> {
    chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}
