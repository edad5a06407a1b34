//! `OutputBuffer`: a step's output, capped. When a command prints more than
//! the cap, the earliest bytes go and the tail stays (the end of a build log
//! is where the error is), with a marker line saying how much was dropped.

use std::collections::VecDeque;

/// The default per-step output cap: 8 MiB.
pub const DEFAULT_OUTPUT_CAP: usize = 8 * 1024 * 1024;

/// A byte accumulator that keeps at most `cap` bytes: the most recent ones.
#[derive(Debug, Clone)]
pub struct OutputBuffer {
    cap: usize,
    tail: VecDeque<u8>,
    dropped: u64,
}

impl Default for OutputBuffer {
    fn default() -> Self {
        OutputBuffer::new()
    }
}

impl OutputBuffer {
    /// A buffer with the default cap (8 MiB).
    pub fn new() -> OutputBuffer {
        OutputBuffer::with_cap(DEFAULT_OUTPUT_CAP)
    }

    /// A buffer that keeps at most `cap` bytes.
    pub fn with_cap(cap: usize) -> OutputBuffer {
        OutputBuffer {
            cap,
            tail: VecDeque::new(),
            dropped: 0,
        }
    }

    /// Appends bytes, dropping the oldest ones beyond the cap.
    pub fn push(&mut self, bytes: &[u8]) {
        // Only the last `cap` bytes of a huge chunk can survive: never copy more.
        let keep_from = bytes.len().saturating_sub(self.cap);
        self.dropped += keep_from as u64;
        let bytes = &bytes[keep_from..];
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(self.cap);
        if overflow > 0 {
            self.tail.drain(..overflow);
            self.dropped += overflow as u64;
        }
        self.tail.extend(bytes);
    }

    /// The cap in bytes.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes currently kept.
    pub fn len(&self) -> usize {
        self.tail.len()
    }

    /// Whether nothing has been kept.
    pub fn is_empty(&self) -> bool {
        self.tail.is_empty()
    }

    /// Bytes dropped from the front so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether any output was dropped.
    pub fn is_truncated(&self) -> bool {
        self.dropped > 0
    }

    /// The kept output as text, after a marker line when bytes were dropped.
    /// Invalid UTF-8 is replaced (U+FFFD); a character cut in half by the cap
    /// is dropped whole and counted in the marker rather than mangled.
    pub fn text(&self) -> String {
        let (front, back) = self.tail.as_slices();
        let mut bytes = Vec::with_capacity(front.len() + back.len());
        bytes.extend_from_slice(front);
        bytes.extend_from_slice(back);
        let mut start = 0;
        if self.dropped > 0 {
            // UTF-8 continuation bytes look like 0b10xx_xxxx; a character has
            // at most three of them.
            while start < 3 && bytes.get(start).is_some_and(|b| b & 0xC0 == 0x80) {
                start += 1;
            }
        }
        let body = String::from_utf8_lossy(&bytes[start..]);
        if self.dropped == 0 {
            return body.into_owned();
        }
        let dropped = self.dropped + start as u64;
        format!(
            "[agentls: {dropped} earlier bytes dropped; output capped at {}]\n{body}",
            human_size(self.cap)
        )
    }
}

impl OutputBuffer {
    /// [`OutputBuffer::text`], reusing the buffer's memory instead of
    /// copying it: with the output at its cap, a copy is another 8 MiB at
    /// the moment a step ends.
    pub fn into_text(self) -> String {
        let mut bytes = Vec::from(self.tail);
        let mut start = 0;
        if self.dropped > 0 {
            while start < 3 && bytes.get(start).is_some_and(|b| b & 0xC0 == 0x80) {
                start += 1;
            }
            let marker = format!(
                "[agentls: {} earlier bytes dropped; output capped at {}]\n",
                self.dropped + start as u64,
                human_size(self.cap)
            );
            // Exact: amortised growth would double the allocation.
            bytes.reserve_exact(marker.len().saturating_sub(start));
            bytes.splice(..start, marker.into_bytes());
        }
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        }
    }
}

fn human_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_text_is_text() {
        let cases: &[(usize, &[&[u8]])] = &[
            (16, &[b"hello ", b"world"]),
            (4, &[b"ab", b"cdef", b"gh"]),
            (5, &["x\u{e9}\u{1F600}yz".as_bytes()]),
            (8, &[b"ok \xff\xfe done"]),
            (8, &[]),
        ];
        for (cap, chunks) in cases {
            let mut out = OutputBuffer::with_cap(*cap);
            for chunk in *chunks {
                out.push(chunk);
            }
            assert_eq!(out.clone().into_text(), out.text(), "cap {cap}, {chunks:?}");
        }
    }

    #[test]
    fn output_under_the_cap_is_kept_whole_without_marker() {
        let mut out = OutputBuffer::with_cap(16);
        out.push(b"hello ");
        out.push(b"world");
        assert_eq!(out.text(), "hello world");
        assert!(!out.is_truncated());
        assert_eq!(out.len(), 11);
    }

    #[test]
    fn output_at_exactly_the_cap_is_not_truncated() {
        let mut out = OutputBuffer::with_cap(4);
        out.push(b"ab");
        out.push(b"cd");
        assert_eq!(out.text(), "abcd");
        assert!(!out.is_truncated());
    }

    #[test]
    fn over_the_cap_keeps_the_tail_after_a_marker() {
        let mut out = OutputBuffer::with_cap(8);
        out.push(b"0123456789");
        out.push(b"abcdef");
        assert_eq!(out.dropped(), 8);
        assert_eq!(
            out.text(),
            "[agentls: 8 earlier bytes dropped; output capped at 8 bytes]\n89abcdef"
        );
    }

    #[test]
    fn a_chunk_larger_than_the_cap_keeps_its_own_tail() {
        let mut out = OutputBuffer::with_cap(3);
        out.push(b"xy");
        out.push(b"0123456789");
        assert_eq!(out.len(), 3);
        assert_eq!(out.dropped(), 9);
        assert!(out.text().ends_with("]\n789"));
    }

    #[test]
    fn default_cap_is_eight_mib_and_the_marker_says_so() {
        let mut out = OutputBuffer::new();
        assert_eq!(out.cap(), 8 * 1024 * 1024);
        out.push(&vec![b'a'; DEFAULT_OUTPUT_CAP]);
        out.push(b"END");
        let text = out.text();
        assert!(text.starts_with("[agentls: 3 earlier bytes dropped; output capped at 8 MiB]\naaa"));
        assert!(text.ends_with("aaEND"));
    }

    #[test]
    fn the_cut_never_splits_a_utf8_character() {
        // "é" is two bytes, "€" three, "😀" four; cut inside each of them.
        for (text, cap, expected_tail, extra) in [
            ("aé-b", 3, "-b", 1),
            ("aé-b", 4, "é-b", 0),
            ("a€-b", 3, "-b", 1),
            ("a€-b", 4, "-b", 2),
            ("a€-b", 5, "€-b", 0),
            ("a😀-b", 5, "-b", 3),
            ("a😀-b", 6, "😀-b", 0),
        ] {
            let mut out = OutputBuffer::with_cap(cap);
            out.push(text.as_bytes());
            let dropped = text.len() - cap + extra;
            assert_eq!(
                out.text(),
                format!(
                    "[agentls: {dropped} earlier bytes dropped; output capped at {cap} bytes]\n{expected_tail}"
                ),
                "{text:?} capped at {cap}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let mut out = OutputBuffer::with_cap(16);
        out.push(b"ok \xff\xfe done");
        assert_eq!(out.text(), "ok \u{fffd}\u{fffd} done");
    }

    #[test]
    fn cap_sizes_read_naturally() {
        assert_eq!(human_size(8 * 1024 * 1024), "8 MiB");
        assert_eq!(human_size(64 * 1024), "64 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
