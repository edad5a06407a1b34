//! Collecting a step's output while announcing it live.

use agentls_store::{OutputBuffer, RunId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::engine::Inner;
use crate::event::Event;

/// Channel capacity in chunks: producers wait (backpressure) rather than
/// buffering without bound when the collector falls behind.
const CHUNKS: usize = 64;

/// A sender for the producer and a task that keeps the capped output and
/// emits every chunk as an [`Event::Output`].
pub fn collector(
    inner: &std::sync::Arc<Inner>,
    run: &RunId,
    step: &str,
) -> (mpsc::Sender<Vec<u8>>, JoinHandle<OutputBuffer>) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CHUNKS);
    let cap = inner.options().max_output_bytes;
    let inner = inner.clone();
    let (run, step) = (run.clone(), step.to_string());
    let task = tokio::spawn(async move {
        let mut buffer = OutputBuffer::with_cap(cap);
        while let Some(bytes) = rx.recv().await {
            buffer.push(&bytes);
            inner.emit(&Event::Output {
                run: run.clone(),
                step: step.clone(),
                bytes,
            });
        }
        buffer
    });
    (tx, task)
}
