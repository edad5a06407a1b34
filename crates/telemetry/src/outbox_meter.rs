//! The outbox counters: how many notifications the editor stream sent, and
//! how many pushes it coalesced or dropped to keep up with a slow editor.
//!
//! The outbox keeps running totals; an [`OutboxMeter`] turns them into
//! increments of the `agentls.outbox.notifications` counter (attribute
//! `agentls.outbox.outcome`: `sent`, `coalesced`, `dropped`). It reads the
//! process's global meter provider, which [`crate::Telemetry::install_global`]
//! sets: without telemetry the counter is a no-op.

use std::sync::{Mutex, OnceLock};

use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;

/// An outbox's running totals since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxTotals {
    /// Messages handed to the editor.
    pub sent: u64,
    /// Pushes merged into a message already waiting.
    pub coalesced: u64,
    /// Pushes discarded (bounds, a closed editor).
    pub dropped: u64,
}

/// Feeds one outbox's totals into the counters. Call [`OutboxMeter::record`]
/// as often as is convenient (it only adds what changed since the last
/// call); use one meter per outbox.
#[derive(Debug, Default)]
pub struct OutboxMeter {
    last: Mutex<OutboxTotals>,
    counter: OnceLock<Counter<u64>>,
}

impl OutboxMeter {
    pub fn new() -> OutboxMeter {
        OutboxMeter::default()
    }

    /// Adds the increase since the last call. Totals that went down mean a
    /// new outbox behind the same meter: they count from zero.
    pub fn record(&self, totals: OutboxTotals) {
        let delta = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            let step = |now: u64, before: u64| now.checked_sub(before).unwrap_or(now);
            let delta = OutboxTotals {
                sent: step(totals.sent, last.sent),
                coalesced: step(totals.coalesced, last.coalesced),
                dropped: step(totals.dropped, last.dropped),
            };
            *last = totals;
            delta
        };
        let counter = self.counter.get_or_init(|| {
            opentelemetry::global::meter("agentls")
                .u64_counter("agentls.outbox.notifications")
                .with_unit("{notification}")
                .with_description("Editor notifications of the run stream, by what became of them")
                .build()
        });
        for (outcome, count) in [
            ("sent", delta.sent),
            ("coalesced", delta.coalesced),
            ("dropped", delta.dropped),
        ] {
            if count > 0 {
                counter.add(count, &[KeyValue::new("agentls.outbox.outcome", outcome)]);
            }
        }
    }
}
