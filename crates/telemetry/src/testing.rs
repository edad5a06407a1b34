//! Test support (feature `testing`): a local OTLP/HTTP receiver on
//! 127.0.0.1 that accepts `/v1/traces` and `/v1/metrics` in both encodings
//! (`http/protobuf`, decoded with the OpenTelemetry protobuf definitions,
//! and `http/json`, decoded with serde_json), keeps every request, and
//! turns them into spans and metric points a test can assert on.
//!
//! Test code, not product code: it panics on setup failures (a port that
//! cannot be bound) because a test cannot go on without it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// One export request as received.
#[derive(Clone, Debug)]
pub struct Export {
    /// `/v1/traces` or `/v1/metrics`.
    pub path: String,
    /// `application/x-protobuf` or `application/json`.
    pub content_type: String,
    /// The body exactly as sent.
    pub body: Vec<u8>,
    /// The body decoded into OTLP/JSON (the protobuf decoded, then written
    /// in the JSON mapping), so both encodings are asserted the same way.
    pub json: Value,
}

/// A span from the receiver, its attributes as plain JSON values.
#[derive(Clone, Debug)]
pub struct Span {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    /// OTLP's span kind number (3: client).
    pub kind: i64,
    pub attributes: BTreeMap<String, Value>,
    /// The status code number (2: error), 0 when unset.
    pub status_code: i64,
    /// Event names.
    pub events: Vec<String>,
    /// The resource's attributes.
    pub resource: BTreeMap<String, Value>,
}

impl Span {
    /// An attribute as a string (`None` when missing or not a string).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    /// An attribute as an integer.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.attributes.get(key).and_then(Value::as_i64)
    }
}

/// One data point of a metric.
#[derive(Clone, Debug)]
pub struct Point {
    pub metric: String,
    pub unit: String,
    pub attributes: BTreeMap<String, Value>,
    /// Histograms: the sum; sums: the value.
    pub value: f64,
    /// Histograms: the number of measurements; sums: 1.
    pub count: u64,
}

impl Point {
    pub fn str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }
}

#[derive(Default)]
struct Received {
    exports: Mutex<Vec<Export>>,
    changed: Notify,
}

/// The receiver; stops when dropped. It runs on a runtime of its own, so
/// it keeps answering while the test's own runtime is blocked (say, in a
/// pipeline's shutdown waiting for this very receiver).
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Received>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Callable from inside another runtime, unlike a plain drop.
            runtime.shutdown_background();
        }
    }
}

impl Receiver {
    /// Starts listening on a free port of 127.0.0.1.
    pub fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("receiver runtime");
        // Bound here (no block_on: the caller may be inside a runtime),
        // served on the receiver's own runtime.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("address");
        let received = Arc::new(Received::default());
        let state = received.clone();
        runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(listener) else {
                return;
            };
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        Receiver {
            addr,
            received,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`: the value for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn exports(&self) -> Vec<Export> {
        self.received.exports.lock().unwrap().clone()
    }

    /// Every body received, concatenated: to search for text that must
    /// (or must never) have been sent, in either encoding.
    pub fn raw(&self) -> Vec<u8> {
        self.exports()
            .into_iter()
            .flat_map(|export| export.body)
            .collect()
    }

    /// Every span received, in arrival order.
    pub fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for export in self.exports().iter().filter(|e| e.path == "/v1/traces") {
            for resource_spans in array(&export.json, "resourceSpans") {
                let resource = attributes(&resource_spans["resource"]);
                for scope in array(resource_spans, "scopeSpans") {
                    for span in array(scope, "spans") {
                        spans.push(Span {
                            name: text(&span["name"]),
                            trace_id: text(&span["traceId"]),
                            span_id: text(&span["spanId"]),
                            parent_span_id: text(&span["parentSpanId"]),
                            kind: number(&span["kind"]) as i64,
                            attributes: attributes(span),
                            status_code: number(&span["status"]["code"]) as i64,
                            events: array(span, "events")
                                .iter()
                                .map(|e| text(&e["name"]))
                                .collect(),
                            resource: resource.clone(),
                        });
                    }
                }
            }
        }
        spans
    }

    /// The data points of metric `name` in the last export that has it
    /// (metrics are cumulative: the last export holds the totals).
    pub fn points(&self, name: &str) -> Vec<Point> {
        let mut last = Vec::new();
        for export in self.exports().iter().filter(|e| e.path == "/v1/metrics") {
            let mut found = Vec::new();
            for resource_metrics in array(&export.json, "resourceMetrics") {
                for scope in array(resource_metrics, "scopeMetrics") {
                    for metric in array(scope, "metrics").iter().filter(|m| m["name"] == name) {
                        found.extend(points(metric));
                    }
                }
            }
            if !found.is_empty() {
                last = found;
            }
        }
        last
    }

    /// Waits (at most 10 s) until `done` holds for what was received.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&Receiver) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let changed = self.received.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("the receiver did not get {what} within 10 s");
            }
        }
    }
}

fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// OTLP/JSON writes 64-bit integers as strings.
fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or_default(),
        Value::String(s) => s.parse().unwrap_or_default(),
        _ => 0.0,
    }
}

/// `[{key, value: {stringValue|intValue|doubleValue|boolValue|arrayValue}}]`
/// as a map of plain JSON values.
fn attributes(holder: &Value) -> BTreeMap<String, Value> {
    array(holder, "attributes")
        .iter()
        .map(|kv| (text(&kv["key"]), any_value(&kv["value"])))
        .collect()
}

fn any_value(value: &Value) -> Value {
    if let Some(s) = value.get("stringValue") {
        return s.clone();
    }
    if let Some(i) = value.get("intValue") {
        return Value::from(number(i) as i64);
    }
    if let Some(d) = value.get("doubleValue") {
        return Value::from(number(d));
    }
    if let Some(b) = value.get("boolValue") {
        return b.clone();
    }
    if let Some(values) = value.get("arrayValue") {
        return Value::Array(array(values, "values").iter().map(any_value).collect());
    }
    Value::Null
}

fn points(metric: &Value) -> Vec<Point> {
    let name = text(&metric["name"]);
    let unit = text(&metric["unit"]);
    let point = |p: &Value, value: f64, count: u64| Point {
        metric: name.clone(),
        unit: unit.clone(),
        attributes: attributes(p),
        value,
        count,
    };
    if let Some(histogram) = metric.get("histogram") {
        return array(histogram, "dataPoints")
            .iter()
            .map(|p| point(p, number(&p["sum"]), number(&p["count"]) as u64))
            .collect();
    }
    if let Some(sum) = metric.get("sum") {
        return array(sum, "dataPoints")
            .iter()
            .map(|p| {
                let value = p.get("asInt").or_else(|| p.get("asDouble"));
                point(p, value.map(number).unwrap_or_default(), 1)
            })
            .collect();
    }
    Vec::new()
}

async fn serve(mut socket: TcpStream, received: Arc<Received>) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            let mut chunk = [0u8; 8192];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let path = head
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let header = |name: &str| {
            head.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let content_type = header("content-type").unwrap_or_default();
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        let json = decode(&path, &content_type, &body);
        received.exports.lock().unwrap().push(Export {
            path,
            content_type: content_type.clone(),
            body,
            json,
        });
        received.changed.notify_waiters();
        // An empty Export*ServiceResponse: zero bytes in protobuf, `{}` in JSON.
        let answer: &[u8] = if content_type.contains("json") {
            b"{}"
        } else {
            b""
        };
        let mut response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
            if content_type.is_empty() {
                "application/x-protobuf"
            } else {
                &content_type
            },
            answer.len()
        )
        .into_bytes();
        response.extend_from_slice(answer);
        socket.write_all(&response).await?;
        socket.flush().await?;
    }
}

fn decode(path: &str, content_type: &str, body: &[u8]) -> Value {
    if content_type.contains("json") {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    let decoded = match path {
        "/v1/traces" => ExportTraceServiceRequest::decode(body)
            .ok()
            .and_then(|r| serde_json::to_value(r).ok()),
        "/v1/metrics" => ExportMetricsServiceRequest::decode(body)
            .ok()
            .and_then(|r| serde_json::to_value(r).ok()),
        _ => None,
    };
    decoded.unwrap_or(Value::Null)
}
