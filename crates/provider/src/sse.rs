//! Server-sent events framing (the WHATWG `text/event-stream` format):
//! bytes in, events out, with nothing copied that need not be.
//!
//! A model's answer is thousands of small events; a parser that allocates
//! the event type and data of each one, or moves its buffer after every
//! line, spends more time on that than on reading the socket. Here the body
//! is appended to one buffer and each event is handed out borrowed from it
//! (its data is copied only when it spans several `data:` lines), so the
//! decoders can deserialise straight from the received bytes.
//!
//! What the format says and this follows: the stream is decoded as UTF-8,
//! invalid bytes becoming U+FFFD (also across reads); lines end in CRLF, LF
//! or a lone CR (also across reads); a leading byte order mark is skipped; lines
//! starting with `:` are comments; `field: value` loses one space after the
//! colon; a line without a colon is a field with an empty value; several
//! `data` lines join with `\n`; an event without `data` is not dispatched;
//! the type defaults to `message`; an event left without its blank line at
//! the end of the body is dropped. `id` and `retry` are read past: nothing
//! here reconnects.

use std::borrow::Cow;
use std::ops::Range;

use agentls_exec::Utf8Decoder;

/// One event, borrowed from the framer's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event<'a> {
    /// The event type (`message` when the stream named none).
    pub event: &'a str,
    /// The data lines, joined with `\n`.
    pub data: Cow<'a, str>,
}

/// The data of the event being read.
#[derive(Debug, Default)]
enum Data {
    #[default]
    None,
    /// One line, still in the buffer.
    One(Range<usize>),
    /// Several lines, joined.
    Many(String),
}

/// Splits a byte stream into events: [`push`](Framer::push) what arrives,
/// then take [`next`](Framer::next) until it returns `None`.
#[derive(Debug, Default)]
pub(crate) struct Framer {
    utf8: Utf8Decoder,
    /// What was pushed, as text.
    buffer: String,
    /// Where the first line not yet read starts.
    read: usize,
    /// Where the event being read starts: everything before it is done with.
    event_start: usize,
    event_type: Option<Range<usize>>,
    data: Data,
    /// The last line ended in CR: an LF right after it belongs to it.
    after_cr: bool,
    /// Whether the first character (a byte order mark?) was seen.
    started: bool,
}

impl Framer {
    /// Adds bytes from the stream.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        // Drop what earlier events used, when that is at least half the
        // buffer: the move is then paid for by the bytes read since, so a
        // long event arriving in small reads is not moved once per read.
        if self.event_start > 0 && self.event_start * 2 >= self.buffer.len() {
            let shift = self.event_start;
            self.buffer.drain(..shift);
            self.read -= shift;
            self.event_start = 0;
            if let Some(range) = &mut self.event_type {
                *range = range.start - shift..range.end - shift;
            }
            if let Data::One(range) = &mut self.data {
                *range = range.start - shift..range.end - shift;
            }
        }
        self.utf8.decode_into(bytes, &mut self.buffer);
        if !self.started && self.read < self.buffer.len() {
            self.started = true;
            if self.buffer[self.read..].starts_with('\u{feff}') {
                self.read += '\u{feff}'.len_utf8();
                self.event_start = self.read;
            }
        }
    }

    /// The next complete event in what was pushed, or `None` until more
    /// arrives.
    pub(crate) fn next(&mut self) -> Option<Event<'_>> {
        if !self.started {
            return None;
        }
        loop {
            if self.after_cr {
                // Only now is it known whether an LF follows the CR.
                match self.buffer.as_bytes().get(self.read) {
                    None => return None,
                    Some(b'\n') => self.read += 1,
                    Some(_) => {}
                }
                self.after_cr = false;
            }
            let rest = &self.buffer.as_bytes()[self.read..];
            let end = memchr::memchr2(b'\n', b'\r', rest)?;
            let line = self.read..self.read + end;
            self.after_cr = rest[end] == b'\r';
            self.read += end + 1;
            if line.is_empty() {
                let Some((event, data)) = self.dispatch() else {
                    continue;
                };
                let event = match event {
                    Some(range) => &self.buffer[range],
                    None => "message",
                };
                let data = match data {
                    Data::One(range) => Cow::Borrowed(&self.buffer[range]),
                    Data::Many(text) => Cow::Owned(text),
                    Data::None => Cow::Borrowed(""),
                };
                return Some(Event { event, data });
            }
            self.field(line);
            if self.event_type.is_none() && matches!(self.data, Data::None) {
                // Nothing of an event is kept yet (comments, ignored
                // fields): keep-alive comments must not pile up.
                self.event_start = self.read;
            }
        }
    }

    /// Reads one field line.
    fn field(&mut self, line: Range<usize>) {
        let bytes = &self.buffer.as_bytes()[line.clone()];
        let (name, value) = match memchr::memchr(b':', bytes) {
            Some(0) => return, // a comment
            Some(colon) => {
                let skip = usize::from(bytes.get(colon + 1) == Some(&b' '));
                (&bytes[..colon], line.start + colon + 1 + skip..line.end)
            }
            None => (bytes, line.end..line.end),
        };
        match name {
            b"event" => self.event_type = Some(value),
            b"data" => {
                self.data = match std::mem::take(&mut self.data) {
                    Data::None => Data::One(value),
                    Data::One(first) => {
                        let mut text = self.buffer[first].to_string();
                        text.push('\n');
                        text.push_str(&self.buffer[value]);
                        Data::Many(text)
                    }
                    Data::Many(mut text) => {
                        text.push('\n');
                        text.push_str(&self.buffer[value]);
                        Data::Many(text)
                    }
                }
            }
            _ => {}
        }
    }

    /// Ends the event at a blank line: its type and data, or `None` when it
    /// had no data (the format says to drop it).
    fn dispatch(&mut self) -> Option<(Option<Range<usize>>, Data)> {
        let event_type = self.event_type.take();
        let data = std::mem::take(&mut self.data);
        // The event's lines stay in the buffer until the next push.
        self.event_start = self.read;
        match data {
            Data::None => None,
            data => Some((event_type.filter(|r| !r.is_empty()), data)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(pieces: &[&[u8]]) -> Vec<(String, String)> {
        let mut framer = Framer::default();
        let mut out = Vec::new();
        for piece in pieces {
            framer.push(piece);
            while let Some(event) = framer.next() {
                out.push((event.event.to_string(), event.data.into_owned()));
            }
        }
        out
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(e, d)| (e.to_string(), d.to_string()))
            .collect()
    }

    #[test]
    fn every_split_point_yields_the_same_events() {
        let body = "\u{feff}event: a\r\ndata: h\u{e9}llo \u{1F600}\r\n\r\ndata: line1\ndata: line2\n\n: comment\n\nevent: b\rdata:\u{4e16}\r\rdata\n\n";
        let whole = events(&[body.as_bytes()]);
        assert_eq!(
            whole,
            owned(&[
                ("a", "h\u{e9}llo \u{1F600}"),
                ("message", "line1\nline2"),
                ("b", "\u{4e16}"),
                ("message", ""),
            ])
        );
        let bytes = body.as_bytes();
        for cut in 0..=bytes.len() {
            let split = events(&[&bytes[..cut], &bytes[cut..]]);
            assert_eq!(split, whole, "split at byte {cut}");
            for second in cut..=bytes.len() {
                let split = events(&[&bytes[..cut], &bytes[cut..second], &bytes[second..]]);
                assert_eq!(split, whole, "split at bytes {cut} and {second}");
            }
        }
        let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(events(&one_by_one), whole);
    }

    #[test]
    fn a_large_body_in_one_piece_loses_nothing() {
        let long = "\u{e9}\u{1F600}ab".repeat(700);
        let mut body = String::new();
        for i in 0..50 {
            body.push_str(&format!("event: e{i}\ndata: {long}\n\n"));
        }
        let all = events(&[body.as_bytes()]);
        assert_eq!(all.len(), 50);
        for (i, (event, data)) in all.iter().enumerate() {
            assert_eq!(event, &format!("e{i}"));
            assert_eq!(data, &long);
        }
    }

    #[test]
    fn a_long_event_in_small_reads_is_whole() {
        let long = "x".repeat(100_000);
        let body = format!("data: {long}\ndata: {long}\n\ndata: after\n\n");
        let pieces: Vec<&[u8]> = body.as_bytes().chunks(100).collect();
        assert_eq!(
            events(&pieces),
            owned(&[
                ("message", &format!("{long}\n{long}")),
                ("message", "after")
            ])
        );
    }

    #[test]
    fn fields_without_data_and_unknown_fields_dispatch_nothing() {
        let body = b"event: lonely\n\nid: 7\nretry: 10\nfoo: bar\n\nevent\ndata:x\n\n";
        assert_eq!(events(&[body]), owned(&[("message", "x")]));
    }

    #[test]
    fn keep_alive_comments_do_not_pile_up_in_the_buffer() {
        let mut framer = Framer::default();
        for _ in 0..10_000 {
            framer.push(b": keep-alive\n");
            assert!(framer.next().is_none());
        }
        assert!(
            framer.buffer.len() < 100,
            "{} bytes kept",
            framer.buffer.len()
        );
        framer.push(b"data: x\n\n");
        assert_eq!(framer.next().map(|e| e.data.into_owned()), Some("x".into()));
    }

    #[test]
    fn an_event_without_its_blank_line_at_the_end_is_dropped() {
        assert_eq!(
            events(&[b"data: a\n\ndata: b\n"]),
            owned(&[("message", "a")])
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        let body = b"data: \xe6\x97\xa5 \xff\n\n";
        let whole = events(&[body]);
        assert_eq!(whole, owned(&[("message", "\u{65e5} \u{fffd}")]));
        for cut in 0..=body.len() {
            assert_eq!(events(&[&body[..cut], &body[cut..]]), whole, "cut {cut}");
        }
    }
}
