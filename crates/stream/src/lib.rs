//! agentls-stream: the outbox, the only path by which run events reach the
//! editor.
//!
//! Producers (PTY readers, model streams, the engine) [`Outbox::push`]
//! [`Message`]s without ever blocking; one task hands [`Outgoing`] messages
//! to a [`Sink`] at the pace the editor can take. Per run, output is
//! concatenated and sent at most [`Limits::output_per_second`] times a
//! second, progress reports and states are latest-wins, begin/end and final
//! states are never dropped and keep their order, and pending output is
//! bounded per run and across runs: past the bound the live stream keeps the
//! head and the tail and replaces the middle with a marker naming
//! `agent.output`, which has everything.
//!
//! Ordering, per run: events that must not be lost (begin, end, final
//! state, output) leave in push order; reports never precede their begin
//! and the latest one precedes its end; a non-final state never overtakes a
//! final one; a run notice (how the run ended) leaves after everything
//! pushed before it, the latest report and the end included. Output keeps
//! its order per step; steps writing concurrently are sent in turn.
//!
//! Architecture invariant: this crate knows nothing of LSP or JSON-RPC; the
//! sink (in the server's LSP layer) turns [`Outgoing`] into notifications.
//! It never awaits anything on a producer's behalf and never holds its lock
//! across an await.

mod message;
mod outbox;
mod run;
mod scheduler;
mod segment;

pub use message::{Limits, Message, Outgoing, Progress, Sink, SinkClosed, Stats};
pub use outbox::Outbox;
pub use segment::skip_marker;
