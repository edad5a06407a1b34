//! `Content-Length` framing of a byte stream, built to recover from any
//! input.
//!
//! The rules (docs/protocol.md, "Bad input", says the same to clients):
//!
//! - A header block is at most [`Limits::max_header`] bytes up to its blank
//!   line. The search for the blank line is incremental: every byte is looked
//!   at once, however the stream is cut into reads.
//! - A frame whose length is known but larger than [`Limits::max_frame`] is
//!   reported at once, then skipped by counting: its body bytes are dropped
//!   as they arrive, never buffered, and the byte after it starts the next
//!   header. Its body can hold anything, headers included.
//! - A header block that cannot be used (no `Content-Length`, a value that is
//!   not a number, a line without `:`, no end within the limit) leaves the
//!   body length unknown. The framer then searches for the next
//!   `Content-Length` (in any case) from the byte after the bad block's
//!   start, and starts a header block there, dropping everything before it.
//!   The search looks anywhere, not only at line starts: a header follows the
//!   previous body directly, and bodies do not end with a newline. Each
//!   stretch of such garbage is reported once; candidates found while
//!   searching that are no header either are dropped silently.
//! - A `Content-Length` larger than the body that follows cannot be told
//!   from a slow sender: the framer takes that many bytes as the body, so
//!   the start of what follows is swallowed (the body then is not JSON and
//!   is reported by the caller). The bytes after it are read as a header
//!   block, which is garbage when they are the middle of a frame, so the
//!   framer re-syncs on the next `Content-Length` as above. Every frame
//!   that starts at or after the end of the claimed body is read normally.
//!
//! Nothing here keeps bytes from before a bad block once the search has
//! moved past them, so garbage is never glued to the next header.

/// How much the framer accepts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest body buffered; longer frames are skipped.
    pub max_frame: usize,
    /// The longest header block, blank line excluded.
    pub max_header: usize,
}

/// The limits for the editor's frames.
pub const CLIENT: Limits = Limits {
    max_frame: 64 * 1024 * 1024,
    max_header: 8 * 1024,
};

/// What the framer read.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete frame body.
    Body(Vec<u8>),
    /// Input that is no usable frame, to be answered with -32700.
    Bad(String),
}

const HEADER_END: &[u8] = b"\r\n\r\n";
/// Buffer room kept between frames.
const SHRINK_ABOVE: usize = 1024 * 1024;
const LENGTH_HEADER: &[u8] = b"content-length";

#[derive(Debug)]
enum State {
    /// A header block starts at the first unconsumed byte.
    Headers,
    /// The body of this many bytes starts at the first unconsumed byte.
    Body(usize),
    /// This many more bytes of a frame over the limit are to be dropped.
    Skip(usize),
    /// Searching the unconsumed bytes from `from` on for the next
    /// `Content-Length`.
    Resync { from: usize },
}

/// Incremental `Content-Length` framing; see the module doc for the rules.
pub struct Framer {
    limits: Limits,
    /// Bytes read; those before `pos` are consumed (dropped on the next
    /// push, so consuming a little at a time costs nothing).
    buf: Vec<u8>,
    pos: usize,
    state: State,
    /// `buf[..searched]` holds no complete header terminator: where the
    /// search for one goes on.
    searched: usize,
    /// The framer is re-syncing: a bad candidate header is not reported.
    quiet: bool,
}

impl Framer {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buf: Vec::new(),
            pos: 0,
            state: State::Headers,
            searched: 0,
            quiet: false,
        }
    }

    /// Adds bytes read from the stream. Bytes of a skipped frame are
    /// dropped here, never buffered.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if let State::Skip(left) = &mut self.state {
            let drop = (*left).min(bytes.len());
            *left -= drop;
            bytes = &bytes[drop..];
            if *left == 0 {
                self.state = State::Headers;
            }
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        if self.buf.is_empty() && self.buf.capacity() > SHRINK_ABOVE {
            // A big body came through once; do not hold its room for ever.
            self.buf = Vec::new();
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held right now (bounded by the limits plus one read).
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The bytes not consumed yet.
    fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// The next frame or report, or `None` until more bytes arrive.
    pub fn next(&mut self) -> Option<Frame> {
        loop {
            match self.state {
                State::Body(len) => {
                    if self.rest().len() < len {
                        return None;
                    }
                    let body = self.rest()[..len].to_vec();
                    self.consume(len);
                    self.state = State::Headers;
                    self.searched = 0;
                    return Some(Frame::Body(body));
                }
                State::Skip(left) => {
                    let drop = left.min(self.rest().len());
                    self.consume(drop);
                    if left > drop {
                        self.state = State::Skip(left - drop);
                        return None;
                    }
                    self.state = State::Headers;
                }
                State::Resync { from } => match find_length_header(&self.rest()[from..]) {
                    Some(at) => {
                        self.consume(from + at);
                        self.state = State::Headers;
                    }
                    None => {
                        // A header split across reads may have begun in
                        // the last bytes: keep only those, still searching.
                        let keep_from = self
                            .rest()
                            .len()
                            .saturating_sub(LENGTH_HEADER.len() - 1)
                            .max(from);
                        self.consume(keep_from);
                        self.state = State::Resync { from: 0 };
                        return None;
                    }
                },
                State::Headers => {
                    if let Some(report) = self.headers() {
                        return Some(report);
                    }
                    if matches!(self.state, State::Headers) {
                        return None;
                    }
                }
            }
        }
    }

    /// Reads the header block at the first unconsumed byte if it is
    /// complete; moves to the next state, and returns what must be reported.
    fn headers(&mut self) -> Option<Frame> {
        // Only the first `max_header` bytes and the blank line can matter.
        let window = self
            .rest()
            .len()
            .min(self.limits.max_header + HEADER_END.len());
        let start = self
            .searched
            .saturating_sub(HEADER_END.len() - 1)
            .min(window);
        let Some(end) = find(&self.rest()[start..window], HEADER_END).map(|at| start + at) else {
            self.searched = window;
            if window < self.limits.max_header + HEADER_END.len() {
                return None;
            }
            return self.bad(format!(
                "header block longer than {} bytes",
                self.limits.max_header
            ));
        };
        let parsed = content_length(&String::from_utf8_lossy(&self.rest()[..end]));
        let len = match parsed {
            Ok(len) => len,
            Err(message) => return self.bad(message),
        };
        self.consume(end + HEADER_END.len());
        self.quiet = false;
        if len > self.limits.max_frame {
            self.state = State::Skip(len);
            return Some(Frame::Bad(format!(
                "frame of {len} bytes exceeds the limit of {} bytes; it is skipped",
                self.limits.max_frame
            )));
        }
        self.state = State::Body(len);
        None
    }

    /// The header block at the first unconsumed byte cannot be used: search
    /// on from its second byte, and report it unless this is a re-sync's
    /// candidate.
    fn bad(&mut self, message: String) -> Option<Frame> {
        self.state = State::Resync { from: 1 };
        if std::mem::replace(&mut self.quiet, true) {
            return None;
        }
        Some(Frame::Bad(message))
    }

    /// Consumes the first `n` unconsumed bytes.
    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.searched = self.searched.saturating_sub(n);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where `Content-Length` starts in `hay`, in any case.
fn find_length_header(hay: &[u8]) -> Option<usize> {
    hay.windows(LENGTH_HEADER.len())
        .position(|w| w.eq_ignore_ascii_case(LENGTH_HEADER))
}

fn content_length(headers: &str) -> Result<usize, String> {
    let mut length = None;
    for line in headers.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "malformed header line \"{}\"",
                crate::lsp::errors::echo(line)
            ));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            length = Some(value.parse::<usize>().map_err(|_| {
                format!(
                    "invalid Content-Length \"{}\"",
                    crate::lsp::errors::echo(value)
                )
            })?);
        }
    }
    length.ok_or_else(|| "missing Content-Length header".to_string())
}

#[cfg(test)]
mod tests;
