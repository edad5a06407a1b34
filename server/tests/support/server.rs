//! `TestServer`: the real `agentls` binary driven over stdio exactly as an editor does.
//!
//! Owns the child process, one reader thread (parses frames from stdout, records every
//! notification and server request, answers server requests), one writer thread (the
//! only writer of the child's stdin, so the reader can answer without ever blocking on
//! a full pipe) and one stderr collector. Tests wait on recorded messages through a
//! Condvar: no sleeps.

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::responder::{answer_server_request, Responder};
use super::transport::{encode_frame, read_frame};
use super::TestEnv;

/// How long a request or a wait may take before the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The stderr buffer keeps only its tail: debug logs of long tests can be large.
const STDERR_KEEP_BYTES: usize = 1 << 20;

/// Extra arguments and environment for the child.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl ServerOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// A JSON-RPC error object returned by the server.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn from_value(v: &Value) -> Self {
        RpcError {
            code: v.get("code").and_then(Value::as_i64).unwrap_or(i64::MIN),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            data: v.get("data").cloned(),
        }
    }
}

/// A server-to-client notification, in arrival order.
#[derive(Clone, Debug)]
pub struct Notification {
    pub method: String,
    pub params: Value,
    /// When the reader thread parsed it (for rate and latency checks).
    pub received: Instant,
}

/// A server-to-client request and the answer the harness gave.
#[derive(Clone, Debug)]
pub struct ServerRequest {
    pub id: Value,
    pub method: String,
    pub params: Value,
    pub answered_method_not_found: bool,
    /// Left unanswered on purpose (see `TestServer::never_answer`).
    pub unanswered: bool,
}

/// Everything the reader thread recorded. Tests read it through `wait_for`.
#[derive(Debug, Default)]
pub struct Recorded {
    pub notifications: Vec<Notification>,
    pub server_requests: Vec<ServerRequest>,
    /// Responses whose id is not one of our requests' integer ids (e.g. `id: null`
    /// answers to unparseable frames), in arrival order.
    pub orphan_responses: Vec<Value>,
    /// Things the server wrote to stdout that are not valid frames.
    pub protocol_errors: Vec<String>,
    /// The server's stdout reached end of stream.
    pub stdout_closed: bool,
    responses: HashMap<i64, Value>,
}

impl Recorded {
    /// Params of every notification with this method, in order.
    pub fn notifications(&self, method: &str) -> Vec<Value> {
        self.notifications
            .iter()
            .filter(|n| n.method == method)
            .map(|n| n.params.clone())
            .collect()
    }
}

/// The reader's "stop reading stdout" switch, for stalled-editor tests.
#[derive(Debug, Default)]
struct Pause {
    paused: Mutex<bool>,
    resumed: Condvar,
}

struct Shared {
    recorded: Mutex<Recorded>,
    /// Notification methods recorded without their params (benchmarks).
    light: Mutex<Vec<String>>,
    changed: Condvar,
    responder: Mutex<Responder>,
    stderr: Mutex<Vec<u8>>,
    /// Set once the server's stderr reached its end.
    stderr_closed: Mutex<bool>,
    stderr_ended: Condvar,
    pause: Pause,
}

enum WriterMsg {
    Bytes(Vec<u8>),
    Close,
}

pub struct TestServer {
    env: TestEnv,
    child: Mutex<Child>,
    exit_status: Mutex<Option<ExitStatus>>,
    shared: Arc<Shared>,
    writer: Sender<WriterMsg>,
    next_id: AtomicI64,
    timeout: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread may poison a lock; the data is still what we recorded.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl TestServer {
    /// Starts `agentls` in a fresh, hermetic environment.
    pub fn spawn(opts: ServerOptions) -> Self {
        Self::spawn_in(TestEnv::new(), opts)
    }

    /// Starts `agentls` in a prepared environment (e.g. with a user config written).
    pub fn spawn_in(env: TestEnv, opts: ServerOptions) -> Self {
        let mut cmd = env.command();
        cmd.args(&opts.args);
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning the agentls binary");
        let stdin = child.stdin.take().expect("child stdin");
        let stdout = child.stdout.take().expect("child stdout");
        let mut stderr = child.stderr.take().expect("child stderr");

        let shared = Arc::new(Shared {
            recorded: Mutex::new(Recorded::default()),
            light: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            responder: Mutex::new(Responder {
                configuration: HashMap::new(),
                apply_edit: json!({ "applied": true }),
                never_answer: Vec::new(),
                answers: HashMap::new(),
                answers_in_turn: HashMap::new(),
            }),
            stderr: Mutex::new(Vec::new()),
            stderr_closed: Mutex::new(false),
            stderr_ended: Condvar::new(),
            pause: Pause::default(),
        });

        let (writer, writer_rx) = mpsc::channel::<WriterMsg>();
        thread::spawn(move || writer_loop(stdin, writer_rx));

        let reader_shared = Arc::clone(&shared);
        let reader_writer = writer.clone();
        thread::spawn(move || reader_loop(stdout, reader_shared, reader_writer));

        let stderr_shared = Arc::clone(&shared);
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = lock(&stderr_shared.stderr);
                s.extend_from_slice(&buf[..n]);
                if s.len() > STDERR_KEEP_BYTES {
                    let cut = s.len() - STDERR_KEEP_BYTES;
                    s.drain(..cut);
                }
            }
            *lock(&stderr_shared.stderr_closed) = true;
            stderr_shared.stderr_ended.notify_all();
        });

        TestServer {
            env,
            child: Mutex::new(child),
            exit_status: Mutex::new(None),
            shared,
            writer,
            next_id: AtomicI64::new(1),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Kills the server (SIGKILL, as a crash) and starts a new one in the
    /// same environment and state directory.
    pub fn crash_and_respawn(&self, opts: ServerOptions) -> TestServer {
        {
            let mut child = lock(&self.child);
            let _ = child.kill();
            let _ = child.wait();
        }
        TestServer::spawn_in(self.env.clone(), opts)
    }

    pub fn env(&self) -> &TestEnv {
        &self.env
    }

    /// The last `bytes` of the server's log file (`<state>/agentls.log`):
    /// stderr carries only warnings and errors, the log file the rest.
    pub fn log_tail(&self, bytes: usize) -> String {
        let log = std::fs::read(self.env.state_dir().join("agentls.log")).unwrap_or_default();
        let start = log.len().saturating_sub(bytes);
        String::from_utf8_lossy(&log[start..]).into_owned()
    }

    /// The last `bytes` of the server's stderr, for failure messages.
    pub fn stderr_tail(&self, bytes: usize) -> String {
        let s = lock(&self.shared.stderr);
        let start = s.len().saturating_sub(bytes);
        String::from_utf8_lossy(&s[start..]).into_owned()
    }

    /// Everything the server wrote to stderr (its tail), once the stream
    /// has ended: call after the process exited.
    pub fn stderr_at_end(&self) -> String {
        let closed = lock(&self.shared.stderr_closed);
        let (closed, waited) = self
            .shared
            .stderr_ended
            .wait_timeout_while(closed, self.timeout, |closed| !*closed)
            .unwrap_or_else(|e| e.into_inner());
        assert!(
            !waited.timed_out() && *closed,
            "the server's stderr never ended"
        );
        drop(closed);
        self.stderr_tail(STDERR_KEEP_BYTES)
    }

    /// Sets the answer to `workspace/configuration` items with this `section`.
    pub fn set_configuration(&self, section: &str, value: Value) {
        lock(&self.shared.responder)
            .configuration
            .insert(section.to_owned(), value);
    }

    /// Sets the answer to `workspace/applyEdit` (default `{"applied": true}`).
    pub fn set_apply_edit_response(&self, value: Value) {
        lock(&self.shared.responder).apply_edit = value;
    }

    /// Answers the next server requests `method` with `results`, one each
    /// in order (then as [`TestServer::answer_with`] says).
    pub fn answer_in_turn(&self, method: &str, results: Vec<Value>) {
        lock(&self.shared.responder)
            .answers_in_turn
            .insert(method.to_owned(), results.into());
    }

    /// Answers every later server request `method` with `result` (e.g. the
    /// button a user picks in `window/showMessageRequest`).
    pub fn answer_with(&self, method: &str, result: Value) {
        lock(&self.shared.responder)
            .answers
            .insert(method.to_owned(), result);
    }

    /// Records notifications `method` with `params` null (only the arrival):
    /// keeps a benchmark's memory flat.
    pub fn record_without_params(&self, method: &str) {
        lock(&self.shared.light).push(method.to_owned());
    }

    /// Server requests with this method are recorded but never answered,
    /// as by an editor that ignores them.
    pub fn never_answer(&self, method: &str) {
        lock(&self.shared.responder)
            .never_answer
            .push(method.to_owned());
    }

    /// Stops reading the server's stdout (its pipe fills and its writes
    /// block), as a stalled editor does. Messages already read stay recorded.
    pub fn pause_reading(&self) {
        *lock(&self.shared.pause.paused) = true;
    }

    /// Reads the server's stdout again after `pause_reading`.
    pub fn resume_reading(&self) {
        *lock(&self.shared.pause.paused) = false;
        self.shared.pause.resumed.notify_all();
    }

    /// The server process id (for /proc checks).
    pub fn pid(&self) -> u32 {
        lock(&self.child).id()
    }

    /// Writes arbitrary bytes to the server's stdin (for malformed frames).
    pub fn send_raw(&self, bytes: &[u8]) {
        // The writer thread outlives every sender; a send error means it is gone
        // because stdin was closed on purpose, which a test did itself.
        let _ = self.writer.send(WriterMsg::Bytes(bytes.to_vec()));
    }

    /// Closes the server's stdin (end of stream, as when an editor dies).
    pub fn close_stdin(&self) {
        let _ = self.writer.send(WriterMsg::Close);
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.send_raw(&encode_frame(
            &json!({ "jsonrpc": "2.0", "method": method, "params": params }),
        ));
    }

    /// Answers a server request left unanswered (`never_answer`) now, as a
    /// user who takes their time.
    pub fn reply(&self, id: &Value, result: Value) {
        self.send_raw(&encode_frame(
            &json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        ));
    }

    /// Sends a request without waiting; returns its id for `wait_response`.
    pub fn send_request(&self, method: &str, params: Value) -> i64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.send_raw(&encode_frame(
            &json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
        ));
        id
    }

    /// Waits for the response to request `id`; fails the test after `timeout`.
    pub fn wait_response(
        &self,
        id: i64,
        method: &str,
        timeout: Duration,
    ) -> Result<Value, RpcError> {
        let response = self.wait_for(&format!("response to `{method}` (id {id})"), timeout, |r| {
            r.responses.remove(&id)
        });
        if let Some(err) = response.get("error") {
            return Err(RpcError::from_value(err));
        }
        Ok(response.get("result").cloned().unwrap_or(Value::Null))
    }

    /// Sends a request and waits for its answer (default timeout 10 s).
    pub fn request(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.send_request(method, params);
        self.wait_response(id, method, self.timeout)
    }

    /// Blocks until `pred` returns `Some` over the recorded messages. Fails loudly on
    /// timeout, on the server closing stdout first, or on garbage on its stdout.
    pub fn wait_for<T>(
        &self,
        description: &str,
        timeout: Duration,
        mut pred: impl FnMut(&mut Recorded) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        let mut rec = lock(&self.shared.recorded);
        loop {
            if let Some(err) = rec.protocol_errors.first() {
                let err = err.clone();
                drop(rec);
                self.fail(&format!("while waiting for {description}: {err}"));
            }
            if let Some(v) = pred(&mut rec) {
                return v;
            }
            if rec.stdout_closed {
                drop(rec);
                self.fail(&format!(
                    "server closed stdout while waiting for {description}"
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                drop(rec);
                self.fail(&format!(
                    "timed out after {timeout:?} waiting for {description}"
                ));
            }
            rec = self
                .shared
                .changed
                .wait_timeout(rec, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Runs `f` over the recorded messages now, without waiting.
    pub fn with_recorded<T>(&self, f: impl FnOnce(&Recorded) -> T) -> T {
        f(&lock(&self.shared.recorded))
    }

    /// Params of every notification with this method received so far, in order.
    pub fn notifications(&self, method: &str) -> Vec<Value> {
        self.with_recorded(|r| r.notifications(method))
    }

    /// Every server-to-client request received so far, in order.
    pub fn server_requests(&self) -> Vec<ServerRequest> {
        self.with_recorded(|r| r.server_requests.clone())
    }

    /// Waits for the process to exit. Polling is fine here: process exit is an
    /// external fact with no event to wait on besides a blocking `wait()`.
    pub fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = *lock(&self.exit_status) {
                return Some(status);
            }
            let polled = lock(&self.child).try_wait().expect("try_wait on the child");
            if let Some(status) = polled {
                *lock(&self.exit_status) = Some(status);
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// `shutdown` (must succeed), then `exit`; returns the exit status. Stdin stays
    /// open: a server must exit on `exit`, not on end of input.
    pub fn shutdown_and_exit(&self) -> ExitStatus {
        if let Err(e) = self.request("shutdown", Value::Null) {
            self.fail(&format!("shutdown failed: {e:?}"));
        }
        self.notify("exit", Value::Null);
        let status = self
            .wait_exit(Duration::from_secs(5))
            .unwrap_or_else(|| self.fail("server did not exit within 5 s after shutdown + exit"));
        self.assert_no_unhandled_requests();
        status
    }

    /// Fails if the server sent a request this client does not support, or wrote
    /// anything but valid frames to stdout. Called by `shutdown_and_exit`.
    pub fn assert_no_unhandled_requests(&self) {
        let (unhandled, garbage) = self.with_recorded(|r| {
            let unhandled: Vec<String> = r
                .server_requests
                .iter()
                .filter(|q| q.answered_method_not_found)
                .map(|q| q.method.clone())
                .collect();
            (unhandled, r.protocol_errors.clone())
        });
        if !unhandled.is_empty() || !garbage.is_empty() {
            self.fail(&format!(
                "server sent requests the client does not handle: {unhandled:?}; \
                 protocol errors on stdout: {garbage:?}"
            ));
        }
    }

    /// `exit` without `shutdown`; returns the exit status.
    pub fn exit_without_shutdown(&self) -> ExitStatus {
        self.notify("exit", Value::Null);
        self.wait_exit(Duration::from_secs(5))
            .unwrap_or_else(|| self.fail("server did not exit within 5 s after exit"))
    }

    /// Fails the test with the message and the tail of the server's stderr.
    pub fn fail(&self, message: &str) -> ! {
        panic!(
            "{message}\n---- agentls stderr (tail) ----\n{}\n---- agentls.log (tail) ----\n{}\n\
             ---- end ----",
            self.stderr_tail(8192),
            self.log_tail(8192)
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let mut child = lock(&self.child);
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
        if thread::panicking() || std::env::var_os("AGENTLS_TEST_STDERR").is_some() {
            eprintln!(
                "---- agentls stderr (tail, at drop) ----\n{}\n---- end ----",
                self.stderr_tail(16384)
            );
        }
    }
}

fn writer_loop(mut stdin: ChildStdin, rx: mpsc::Receiver<WriterMsg>) {
    while let Ok(msg) = rx.recv() {
        match msg {
            WriterMsg::Bytes(bytes) => {
                // A write error means the server is gone; tests notice that through
                // their own waits, so keep draining instead of panicking here.
                if stdin
                    .write_all(&bytes)
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    continue;
                }
            }
            WriterMsg::Close => return,
        }
    }
}

fn reader_loop(stdout: std::process::ChildStdout, shared: Arc<Shared>, writer: Sender<WriterMsg>) {
    let mut reader = BufReader::new(stdout);
    loop {
        {
            let mut paused = lock(&shared.pause.paused);
            while *paused {
                paused = shared
                    .pause
                    .resumed
                    .wait(paused)
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        match read_frame(&mut reader) {
            Ok(Some(msg)) => handle_message(msg, &shared, &writer),
            Ok(None) => break,
            Err(e) => {
                lock(&shared.recorded).protocol_errors.push(e.to_string());
                break;
            }
        }
        shared.changed.notify_all();
    }
    lock(&shared.recorded).stdout_closed = true;
    shared.changed.notify_all();
}

fn handle_message(msg: Value, shared: &Shared, writer: &Sender<WriterMsg>) {
    let method = msg.get("method").and_then(Value::as_str).map(str::to_owned);
    let id = msg.get("id").cloned();
    let params = msg.get("params").cloned().unwrap_or(Value::Null);
    match (method, id) {
        (Some(method), Some(id)) => {
            if !id.is_i64() {
                // docs/protocol.md: server-to-client requests use integer ids.
                lock(&shared.recorded)
                    .protocol_errors
                    .push(format!("server request {method} has a non-integer id {id}"));
            }
            let unanswered = lock(&shared.responder).never_answer.contains(&method);
            let reply = answer_server_request(&method, &params, &mut lock(&shared.responder));
            let not_found = reply.is_err();
            let frame = match reply {
                Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
                Err(()) => json!({ "jsonrpc": "2.0", "id": id, "error": {
                    "code": -32601, "message": format!("test client does not handle {method}") } }),
            };
            lock(&shared.recorded).server_requests.push(ServerRequest {
                id,
                method,
                params,
                answered_method_not_found: not_found && !unanswered,
                unanswered,
            });
            if !unanswered {
                let _ = writer.send(WriterMsg::Bytes(encode_frame(&frame)));
            }
        }
        (Some(method), None) => {
            let received = Instant::now();
            let params = if lock(&shared.light).contains(&method) {
                Value::Null
            } else {
                params
            };
            lock(&shared.recorded).notifications.push(Notification {
                method,
                params,
                received,
            });
        }
        (None, id) => {
            let mut rec = lock(&shared.recorded);
            match id.as_ref().and_then(Value::as_i64) {
                Some(n) => {
                    rec.responses.insert(n, msg);
                }
                None => rec.orphan_responses.push(msg),
            }
        }
    }
}
