//! What one render may cost: instructions ([`TEMPLATE_FUEL`], counted by
//! minijinja) and output ([`TEMPLATE_OUTPUT_CAP`], counted by
//! [`CappedOutput`]), so that a template from a repository always ends and
//! never fills memory; see docs/workflows.md.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// Instructions one template (or `when` condition) may execute. Far above
/// what any real template needs (a loop over 10,000 diagnostics with a
/// dozen fields each takes under a million); a loop over a loop of 10^5
/// each stops here after well under a second.
pub const TEMPLATE_FUEL: u64 = 10_000_000;

/// The most text one rendered field may produce: 64 MiB, the largest
/// document an editor can send, so a template that copies a whole file
/// still fits.
pub const TEMPLATE_OUTPUT_CAP: usize = 64 * 1024 * 1024;

/// Why [`CappedOutput`] refused a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    TooLarge,
    Stopped,
}

/// The render's output: fails the write that would pass the cap, and any
/// write once `stop` is set, which makes minijinja abandon the render.
pub(crate) struct CappedOutput<'a> {
    buf: Vec<u8>,
    cap: usize,
    stop: &'a AtomicBool,
    refused: Option<Refused>,
}

impl<'a> CappedOutput<'a> {
    pub fn new(cap: usize, stop: &'a AtomicBool) -> Self {
        CappedOutput {
            buf: Vec::new(),
            cap,
            stop,
            refused: None,
        }
    }

    /// Why a write was refused, if one was.
    pub fn refused(&self) -> Option<Refused> {
        self.refused
    }

    pub fn into_string(self) -> String {
        // minijinja writes whole `str`s and only whole writes are kept.
        String::from_utf8(self.buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

impl io::Write for CappedOutput<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            self.refused = Some(Refused::Stopped);
            return Err(io::Error::other("rendering stopped"));
        }
        if self.buf.len().saturating_add(bytes.len()) > self.cap {
            self.refused = Some(Refused::TooLarge);
            return Err(io::Error::other("rendered text too large"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// "20,000,000".
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "64 MiB".
pub(crate) fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}
