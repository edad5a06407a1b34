//! Newline-delimited JSON-RPC over the agent's pipes, with a bound on a
//! line: an agent that writes a line longer than [`MAX_LINE`] gets it
//! dropped (and said), never buffered whole.

use std::sync::Arc;

use futures::{Sink, Stream};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};

use crate::Host;

/// The longest message accepted from an agent (a whole file it writes is
/// one message; agentls-files caps documents at 64 MiB).
pub(crate) const MAX_LINE: usize = 64 * 1024 * 1024;

pub(crate) fn incoming(
    stdout: ChildStdout,
    host: Arc<dyn Host>,
) -> impl Stream<Item = std::io::Result<String>> + Send + 'static {
    let reader = BufReader::with_capacity(64 * 1024, stdout);
    futures::stream::unfold((reader, host), |(mut reader, host)| async move {
        loop {
            match read_line(&mut reader, MAX_LINE).await {
                Ok(Line::Eof) => return None,
                Ok(Line::TooLong(len)) => {
                    host.dropped(format!(
                        "a message of more than {len} bytes (the limit is {MAX_LINE})"
                    ));
                    continue;
                }
                Ok(Line::Text(line)) if line.trim().is_empty() => continue,
                Ok(Line::Text(line)) => return Some((Ok(line), (reader, host))),
                Err(error) => return Some((Err(error), (reader, host))),
            }
        }
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Line {
    Text(String),
    TooLong(usize),
    Eof,
}

/// One line, without its end; invalid UTF-8 is replaced (the JSON parser
/// then refuses it, the SDK answers with a parse error).
async fn read_line(reader: &mut (impl AsyncBufRead + Unpin), max: usize) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut skipped = 0usize;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() && skipped == 0 {
                Line::Eof
            } else if skipped > 0 {
                Line::TooLong(skipped)
            } else {
                Line::Text(String::from_utf8_lossy(&line).into_owned())
            });
        }
        let (chunk, end) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if skipped > 0 || line.len() + chunk.len() > max {
            skipped += line.len() + chunk.len();
            line = Vec::new();
        } else {
            line.extend_from_slice(chunk);
        }
        let used = end.unwrap_or(buf.len());
        reader.consume(used);
        if end.is_some() {
            return Ok(if skipped > 0 {
                Line::TooLong(skipped)
            } else {
                Line::Text(String::from_utf8_lossy(&line).into_owned())
            });
        }
    }
}

pub(crate) fn outgoing(stdin: ChildStdin) -> impl Sink<String, Error = std::io::Error> + Send {
    futures::sink::unfold(stdin, |mut stdin, line: String| async move {
        stdin.write_all(line.as_bytes()).await?;
        stdin.write_all(b"\n").await?;
        stdin.flush().await?;
        Ok(stdin)
    })
}

#[cfg(test)]
mod tests {
    use super::{read_line, Line};

    async fn lines(input: &[u8], max: usize, chunk: usize) -> Vec<Line> {
        // A small buffer: lines arrive in pieces, as from a pipe.
        let mut reader = tokio::io::BufReader::with_capacity(chunk, input);
        let mut out = Vec::new();
        loop {
            match read_line(&mut reader, max).await.unwrap() {
                Line::Eof => return out,
                line => out.push(line),
            }
        }
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_skipped_whole_and_the_next_one_is_read() {
        let long = "x".repeat(100);
        let input = format!("{{\"a\":1}}\n{long}\n{{\"b\":2}}\nno end");
        assert_eq!(
            lines(input.as_bytes(), 16, 7).await,
            [
                Line::Text("{\"a\":1}".into()),
                Line::TooLong(100),
                Line::Text("{\"b\":2}".into()),
                Line::Text("no end".into()),
            ]
        );
    }

    #[tokio::test]
    async fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(
            lines(b"ab\xffcd\n", 16, 4).await,
            [Line::Text("ab\u{fffd}cd".into())]
        );
    }
}
