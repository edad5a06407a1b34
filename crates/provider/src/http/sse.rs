//! Server-sent events over a response body, with the idle timeout.
//!
//! The framing is [`crate::sse`]'s; this module only adds reading the body,
//! the idle limit on the raw byte stream, and error mapping.

use std::fmt::Display;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{Stream, StreamExt};

use crate::sse::{Event, Framer};

/// Why the event stream stopped early.
#[derive(Debug)]
pub(crate) enum SseError {
    /// No bytes for longer than the idle limit.
    Idle,
    /// The connection broke.
    Transport(String),
}

/// The events of a body: [`read`](Events::read) more of it, then take
/// [`next`](Events::next) until it returns `None`. Events are borrowed from
/// what was read, so one read's events are decoded without copying them.
pub(crate) struct Events<S> {
    bytes: S,
    idle: Option<Duration>,
    framer: Framer,
}

impl<S, E> Events<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    /// The idle limit runs between byte chunks, not events: a server that
    /// trickles bytes of one long event is alive.
    pub(crate) fn new(bytes: S, idle: Option<Duration>) -> Self {
        Events {
            bytes,
            idle,
            framer: Framer::default(),
        }
    }

    /// Reads the next piece of the body; `false` at its end.
    pub(crate) async fn read(&mut self) -> Result<bool, SseError> {
        let next = match self.idle {
            Some(limit) => tokio::time::timeout(limit, self.bytes.next())
                .await
                .map_err(|_| SseError::Idle)?,
            None => self.bytes.next().await,
        };
        match next {
            Some(Ok(chunk)) => {
                self.framer.push(&chunk);
                Ok(true)
            }
            Some(Err(err)) => Err(SseError::Transport(err.to_string())),
            None => Ok(false),
        }
    }

    /// The next complete event of what was read.
    pub(crate) fn next(&mut self) -> Option<Event<'_>> {
        self.framer.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(pieces: Vec<Vec<u8>>) -> Vec<(String, String)> {
        let stream = futures::stream::iter(
            pieces
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(Bytes::from(p))),
        );
        let mut events = Events::new(stream, None);
        let mut out = Vec::new();
        while events.read().await.unwrap() {
            while let Some(event) = events.next() {
                out.push((event.event.to_string(), event.data.into_owned()));
            }
        }
        out
    }

    #[tokio::test]
    async fn every_split_point_yields_the_same_events() {
        let body = "event: a\r\ndata: h\u{e9}llo \u{1F600}\r\n\r\ndata: line1\ndata: line2\n\n: comment\n\nevent: b\ndata: \u{4e16}\n\n";
        let whole = collect(vec![body.as_bytes().to_vec()]).await;
        assert_eq!(
            whole,
            vec![
                ("a".to_string(), "h\u{e9}llo \u{1F600}".to_string()),
                ("message".to_string(), "line1\nline2".to_string()),
                ("b".to_string(), "\u{4e16}".to_string()),
            ]
        );
        let bytes = body.as_bytes();
        for cut in 1..bytes.len() {
            let split = collect(vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()]).await;
            assert_eq!(split, whole, "split at byte {cut}");
        }
        let one_by_one = collect(bytes.iter().map(|b| vec![*b]).collect()).await;
        assert_eq!(one_by_one, whole);
    }

    #[tokio::test]
    async fn a_silent_body_times_out() {
        let stream = futures::stream::pending::<Result<Bytes, std::io::Error>>();
        let mut events = Events::new(stream, Some(Duration::from_millis(20)));
        assert!(matches!(events.read().await, Err(SseError::Idle)));
    }
}
