//! The way to stdout: two lanes and a gate.
//!
//! Responses and the server's requests take the urgent lane and never wait
//! behind notifications, so a command answers quickly even while runs
//! stream. Notifications take the normal lane, and their bytes waiting for
//! the editor are bounded by the [`OutGate`]: the outboxes' sinks wait for
//! room before sending, so when the editor reads slowly (or not at all) the
//! outboxes coalesce instead of queueing frames here (docs/architecture.md, invariant 6).
//! Nothing on the way from a handler to stdout ever blocks, so a
//! response is never stuck behind a notification that waits for room.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};
use tower_lsp_server::ls_types::notification::Notification;

/// Notification bytes that may wait for stdout before senders must wait.
pub const OUT_BUDGET: usize = 2 * 1024 * 1024;

/// How many notification bytes wait for the editor, and who waits for room.
#[derive(Debug)]
pub struct OutGate {
    queued: AtomicUsize,
    room: Notify,
    budget: usize,
}

impl OutGate {
    pub fn new(budget: usize) -> Arc<Self> {
        Arc::new(Self {
            queued: AtomicUsize::new(0),
            room: Notify::new(),
            budget,
        })
    }

    /// Waits until the queued notifications are under the budget.
    pub async fn room(&self) {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            // Registered before looking, so a write in between is not missed.
            room.as_mut().enable();
            if self.queued.load(Ordering::Acquire) < self.budget {
                return;
            }
            room.await;
        }
    }

    /// Notification bytes waiting for stdout right now.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    fn add(&self, bytes: usize) {
        self.queued.fetch_add(bytes, Ordering::AcqRel);
    }

    fn written(&self, bytes: usize) {
        self.queued.fetch_sub(bytes, Ordering::AcqRel);
        self.room.notify_waiters();
    }
}

struct Frame {
    bytes: Vec<u8>,
    /// Counted by the gate (a notification).
    gated: bool,
}

/// The senders' end of the way to stdout.
#[derive(Clone)]
pub struct OutQueue {
    urgent: mpsc::UnboundedSender<Frame>,
    normal: mpsc::UnboundedSender<Frame>,
    gate: Arc<OutGate>,
}

/// The writer's end.
pub struct OutFrames {
    urgent: mpsc::UnboundedReceiver<Frame>,
    normal: mpsc::UnboundedReceiver<Frame>,
    gate: Arc<OutGate>,
}

pub fn out_queue(gate: Arc<OutGate>) -> (OutQueue, OutFrames) {
    let (urgent_tx, urgent) = mpsc::unbounded_channel();
    let (normal_tx, normal) = mpsc::unbounded_channel();
    (
        OutQueue {
            urgent: urgent_tx,
            normal: normal_tx,
            gate: gate.clone(),
        },
        OutFrames {
            urgent,
            normal,
            gate,
        },
    )
}

/// The writer is gone (stdout closed).
#[derive(Debug)]
pub struct Closed;

impl OutQueue {
    /// Waits until the notifications waiting for the editor are under the
    /// budget (see [`OutGate::room`]).
    pub async fn room(&self) {
        self.gate.room().await;
    }

    /// Queues a notification: framed once, here, and counted by the gate.
    pub fn notify<N: Notification>(&self, params: &N::Params) -> Result<(), Closed> {
        self.notify_raw(N::METHOD, params)
    }

    /// Queues a notification whose method is known only at run time (the
    /// notices of `agentls-stream`).
    pub fn notify_raw(&self, method: &str, params: &impl Serialize) -> Result<(), Closed> {
        self.queue_gated(frame(&Outgoing {
            jsonrpc: "2.0",
            method,
            params,
        })?)
    }

    /// Queues a whole notification message, counted by the gate.
    pub fn send_gated(&self, message: &impl Serialize) -> Result<(), Closed> {
        self.queue_gated(frame(message)?)
    }

    fn queue_gated(&self, frame: Vec<u8>) -> Result<(), Closed> {
        let len = frame.len();
        self.gate.add(len);
        self.normal
            .send(Frame {
                bytes: frame,
                gated: true,
            })
            .map_err(|_| {
                self.gate.written(len);
                Closed
            })
    }

    /// Queues a response, or a request to the editor: they never wait
    /// behind notifications.
    pub fn send_urgent(&self, message: &impl Serialize) -> Result<(), Closed> {
        self.send_reply(frame(message)?)
    }

    /// Queues a ready frame (a response) on the urgent lane.
    pub fn send_reply(&self, frame: Vec<u8>) -> Result<(), Closed> {
        self.urgent
            .send(Frame {
                bytes: frame,
                gated: false,
            })
            .map_err(|_| Closed)
    }
}

/// A notification as written to the editor.
#[derive(Serialize)]
struct Outgoing<'a, P> {
    jsonrpc: &'static str,
    method: &'a str,
    params: &'a P,
}

/// `message` as JSON with its `Content-Length` header.
fn frame(message: &impl Serialize) -> Result<Vec<u8>, Closed> {
    match serde_json::to_vec(message) {
        Ok(body) => Ok(encode(&body)),
        Err(err) => {
            tracing::error!("a message cannot be written: {err}");
            Err(Closed)
        }
    }
}

/// `body` with its `Content-Length` header.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body);
    frame
}

/// Writes whole frames to the editor, one at a time, flushing each;
/// responses and requests before notifications.
pub async fn write_client(mut output: impl AsyncWrite + Unpin, mut frames: OutFrames) {
    loop {
        let frame = tokio::select! {
            biased;
            Some(frame) = frames.urgent.recv() => frame,
            Some(frame) = frames.normal.recv() => frame,
            else => return,
        };
        let written = output.write_all(&frame.bytes).await.is_ok() && output.flush().await.is_ok();
        if frame.gated {
            frames.gate.written(frame.bytes.len());
        }
        if !written {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn responses_overtake_queued_notifications_and_the_gate_counts_bytes() {
        let gate = OutGate::new(10);
        let (queue, frames) = out_queue(gate.clone());
        queue.notify_raw("n", &1).unwrap();
        let note = encode(br#"{"jsonrpc":"2.0","method":"n","params":1}"#);
        assert_eq!(gate.queued(), note.len());
        let reply = encode(br#"{"jsonrpc":"2.0","result":1,"id":1}"#);
        queue.send_reply(reply.clone()).unwrap();
        drop(queue);
        let mut out = Vec::new();
        write_client(&mut out, frames).await;
        assert_eq!(out, [&reply[..], &note[..]].concat());
        assert_eq!(gate.queued(), 0);
        gate.room().await;
    }
}
