//! One step's pending live output, and how it shrinks when the editor falls
//! behind: the head and the tail are kept, the middle is replaced by a single
//! marker that points the user at `agent.output`.
//!
//! Owns: the byte accounting of one pending chunk run and the marker text.
//! Must never know: rates, runs, or the sink. Skipping here only affects the
//! live view; the full output lives in the store and the transcript.

/// Bytes reserved in the accounting for the marker of a compacted segment.
/// The longest marker (a 20-digit count) is shorter than this, so the bound
/// on pending bytes holds with the marker included.
pub(crate) const MARKER_RESERVE: usize = 128;

/// The line that replaces skipped output in the live stream.
pub fn skip_marker(skipped: u64) -> String {
    format!(
        "\n[agentls: {skipped} bytes skipped in the live view; `agent.output` has the full output]\n"
    )
}

/// Output of one step waiting for its turn to be sent.
///
/// Uncompacted, all text lives in `tail` so appending stays cheap. Once
/// compacted, `head` holds the fixed beginning, `skipped` counts the bytes
/// dropped after it, and `tail` keeps receiving new text.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) step: String,
    head: String,
    skipped: u64,
    tail: String,
}

impl Segment {
    pub(crate) fn new(step: String) -> Self {
        Segment {
            step,
            head: String::new(),
            skipped: 0,
            tail: String::new(),
        }
    }

    /// Bytes this segment counts against the pending limits.
    pub(crate) fn len(&self) -> usize {
        let marker = if self.skipped > 0 { MARKER_RESERVE } else { 0 };
        self.head.len() + self.tail.len() + marker
    }

    pub(crate) fn push_str(&mut self, text: &str) {
        self.tail.push_str(text);
    }

    /// Shrinks the segment to at most `keep` counted bytes (or the marker
    /// reserve, whichever is larger) by dropping the middle. Returns the
    /// number of bytes newly skipped. Never makes the segment larger.
    ///
    /// The dropped bytes are always contiguous: the end of the old head, the
    /// previously skipped bytes and the start of the tail are neighbours in
    /// the original text, so one marker still describes them all.
    pub(crate) fn compact(&mut self, keep: usize) -> u64 {
        if self.len() <= keep.max(MARKER_RESERVE) {
            return 0;
        }
        let budget = keep.saturating_sub(MARKER_RESERVE);
        let mut dropped = 0usize;
        if self.skipped == 0 {
            // First compaction: the head is carved out of the tail.
            let head_len = floor_char_boundary(&self.tail, budget / 2);
            self.head = self.tail[..head_len].to_owned();
            let tail_keep = budget - head_len;
            let start = ceil_char_boundary(&self.tail, self.tail.len() - tail_keep);
            dropped += start - head_len;
            // A fresh allocation: after a huge burst the old buffer's
            // capacity would otherwise stay reserved forever.
            self.tail = self.tail[start..].to_owned();
        } else {
            let head_len = floor_char_boundary(&self.head, (budget / 2).min(self.head.len()));
            dropped += self.head.len() - head_len;
            self.head.truncate(head_len);
            let tail_keep = budget - head_len;
            let start = ceil_char_boundary(&self.tail, self.tail.len().saturating_sub(tail_keep));
            dropped += start;
            self.tail = self.tail[start..].to_owned();
        }
        let dropped = dropped as u64;
        self.skipped += dropped;
        dropped
    }

    /// The step and the text to send: head, marker (when anything was
    /// skipped), tail.
    pub(crate) fn into_parts(self) -> (String, String) {
        if self.skipped == 0 {
            return (self.step, self.tail);
        }
        let marker = skip_marker(self.skipped);
        let mut text = String::with_capacity(self.head.len() + marker.len() + self.tail.len());
        text.push_str(&self.head);
        text.push_str(&marker);
        text.push_str(&self.tail);
        (self.step, text)
    }
}

/// The largest char boundary `<= index` (std's version needs Rust 1.91).
fn floor_char_boundary(s: &str, index: usize) -> usize {
    let mut i = index.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary `>= index`.
fn ceil_char_boundary(s: &str, index: usize) -> usize {
    let mut i = index.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(text: &str) -> Segment {
        let mut s = Segment::new("step".into());
        s.push_str(text);
        s
    }

    /// Checks that `sent` is `original` with one contiguous middle part
    /// replaced by a marker that counts it exactly.
    fn assert_head_marker_tail(original: &str, sent: &str) {
        let open = sent.find("\n[agentls: ").expect("marker present");
        let rest = &sent[open + "\n[agentls: ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let skipped: usize = digits.parse().expect("marker counts bytes");
        let marker = skip_marker(skipped as u64);
        assert_eq!(&sent[open..open + marker.len()], marker);
        let (head, tail) = (&sent[..open], &sent[open + marker.len()..]);
        assert!(original.starts_with(head), "head is a prefix");
        assert!(original.ends_with(tail), "tail is a suffix");
        assert_eq!(head.len() + skipped + tail.len(), original.len());
    }

    #[test]
    fn small_segment_is_left_alone() {
        let mut s = segment("hello");
        assert_eq!(s.compact(1000), 0);
        assert_eq!(s.into_parts().1, "hello");
    }

    #[test]
    fn compaction_keeps_head_and_tail_around_one_marker() {
        let original: String = (0..10_000).map(|i| format!("{i}\n")).collect();
        let mut s = segment(&original);
        let skipped = s.compact(4096);
        assert!(skipped > 0);
        assert!(s.len() <= 4096);
        assert_head_marker_tail(&original, &s.into_parts().1);
    }

    #[test]
    fn repeated_compaction_with_appends_keeps_a_single_marker() {
        let mut original = String::new();
        let mut s = Segment::new("step".into());
        for i in 0..2_000 {
            let chunk = format!("line {i}\n");
            original.push_str(&chunk);
            s.push_str(&chunk);
            if s.len() > 2048 {
                s.compact(1024);
            }
            assert!(s.len() <= 2048);
        }
        let sent = s.into_parts().1;
        assert_eq!(sent.matches("[agentls: ").count(), 1);
        assert_head_marker_tail(&original, &sent);
    }

    #[test]
    fn shrinking_an_already_compacted_head_stays_contiguous() {
        let original = "a".repeat(5000) + &"b".repeat(5000);
        let mut s = segment(&original);
        s.compact(4096);
        s.compact(512);
        assert!(s.len() <= 512);
        assert_head_marker_tail(&original, &s.into_parts().1);
    }

    #[test]
    fn compaction_never_splits_a_character() {
        // Three- and four-byte characters: every cut point is tried.
        let original: String = "€𝄞".repeat(3000);
        for keep in 200..260 {
            let mut s = segment(&original);
            s.compact(keep);
            assert!(s.len() <= keep.max(MARKER_RESERVE));
            assert_head_marker_tail(&original, &s.into_parts().1);
        }
    }

    #[test]
    fn marker_fits_its_reserve() {
        assert!(skip_marker(u64::MAX).len() <= MARKER_RESERVE);
        assert!(skip_marker(7).contains("`agent.output`"));
    }
}
