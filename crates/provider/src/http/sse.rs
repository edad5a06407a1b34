//! Server-sent events over a response body, with the idle timeout.
//!
//! The framing (lines split across chunks, CRLF, UTF-8 characters split
//! across chunks, multi-line `data`) is eventsource-stream's; this module
//! only adds the idle limit on the raw byte stream and error mapping.

use std::fmt::Display;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::stream::{BoxStream, Stream, StreamExt};

/// Why the event stream stopped early.
#[derive(Debug)]
pub(crate) enum SseError {
    /// No bytes for longer than the idle limit.
    Idle,
    /// The connection broke.
    Transport(String),
    /// Not UTF-8 or not SSE.
    Malformed(String),
}

#[derive(Debug)]
enum ByteError {
    Idle,
    Transport(String),
}

impl Display for ByteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ByteError::Idle => f.write_str("idle timeout"),
            ByteError::Transport(message) => f.write_str(message),
        }
    }
}

/// Largest piece of body handed to the SSE parser at once.
/// eventsource-stream moves what is left of its buffer after every line it
/// reads, which costs the square of a piece's size: a fast local server
/// delivering hundreds of kilobytes per read made that the main cost of a
/// stream. Pieces of this size keep the copying to about one extra pass.
const PIECE: usize = 1024;

/// The events of a body. The idle limit runs between byte chunks, not
/// events: a server that trickles bytes of one long event is alive.
pub(crate) fn events<S, E>(
    bytes: S,
    idle: Option<Duration>,
) -> BoxStream<'static, Result<Event, SseError>>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: Display + Send + 'static,
{
    let timed = futures::stream::unfold(Some(bytes), move |state| async move {
        let mut bytes = state?;
        let next = match idle {
            Some(limit) => match tokio::time::timeout(limit, bytes.next()).await {
                Ok(next) => next,
                Err(_) => return Some((Err(ByteError::Idle), None)),
            },
            None => bytes.next().await,
        };
        match next? {
            Ok(chunk) => Some((Ok(chunk), Some(bytes))),
            Err(err) => Some((Err(ByteError::Transport(err.to_string())), None)),
        }
    });
    let pieces = timed.flat_map(|item| {
        let pieces: Vec<Result<Bytes, ByteError>> = match item {
            // `slice` shares the chunk's memory: splitting copies nothing.
            Ok(chunk) => (0..chunk.len())
                .step_by(PIECE)
                .map(|at| Ok(chunk.slice(at..chunk.len().min(at + PIECE))))
                .collect(),
            Err(err) => vec![Err(err)],
        };
        futures::stream::iter(pieces)
    });
    Box::pin(pieces).eventsource().map(map_error).boxed()
}

fn map_error(item: Result<Event, EventStreamError<ByteError>>) -> Result<Event, SseError> {
    item.map_err(|err| match err {
        EventStreamError::Transport(ByteError::Idle) => SseError::Idle,
        EventStreamError::Transport(ByteError::Transport(message)) => SseError::Transport(message),
        EventStreamError::Utf8(err) => {
            SseError::Malformed(format!("the stream is not UTF-8: {err}"))
        }
        EventStreamError::Parser(err) => {
            SseError::Malformed(format!("the stream is not server-sent events: {err}"))
        }
    })
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
        events(stream, None)
            .map(|e| {
                let e = e.unwrap();
                (e.event, e.data)
            })
            .collect()
            .await
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
    async fn a_large_chunk_is_parsed_in_pieces_without_losing_anything() {
        // Multi-byte characters land on every piece boundary somewhere.
        let long = "\u{e9}\u{1F600}ab".repeat(700);
        let mut body = String::new();
        for i in 0..50 {
            body.push_str(&format!("event: e{i}\ndata: {long}\n\n"));
        }
        assert!(body.len() > 50 * PIECE);
        let events = collect(vec![body.into_bytes()]).await;
        assert_eq!(events.len(), 50);
        for (i, (event, data)) in events.iter().enumerate() {
            assert_eq!(event, &format!("e{i}"));
            assert_eq!(data, &long);
        }
    }

    #[tokio::test]
    async fn a_silent_body_times_out() {
        let stream = futures::stream::pending::<Result<Bytes, std::io::Error>>();
        let mut events = events(stream, Some(Duration::from_millis(20)));
        assert!(matches!(events.next().await, Some(Err(SseError::Idle))));
        assert!(events.next().await.is_none());
    }
}
