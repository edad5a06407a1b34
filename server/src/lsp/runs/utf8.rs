//! Turning a step's raw output chunks into text for `agent/output` without
//! mangling a character that a chunk boundary cut in two.

/// The undecoded end of the previous chunk (at most 3 bytes: the start of
/// a UTF-8 sequence still waiting for its continuation bytes).
#[derive(Debug, Default)]
pub struct Utf8Carry {
    pending: Vec<u8>,
}

impl Utf8Carry {
    /// The text of `bytes` after what was carried over; an incomplete
    /// sequence at the end is kept for the next chunk, invalid bytes become
    /// U+FFFD.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let joined;
        let input: &[u8] = if self.pending.is_empty() {
            bytes
        } else {
            let mut v = std::mem::take(&mut self.pending);
            v.extend_from_slice(bytes);
            joined = v;
            &joined
        };
        let mut out = String::with_capacity(input.len());
        let mut rest = input;
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.push_str(text);
                    return out;
                }
                Err(err) => {
                    let (valid, after) = rest.split_at(err.valid_up_to());
                    // Valid by construction: `valid_up_to` says so.
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match err.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                        None => {
                            self.pending = after.to_vec();
                            return out;
                        }
                    }
                }
            }
        }
    }

    /// What is left at the end of the stream (a truncated sequence).
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        String::from_utf8_lossy(&rest).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_split_across_chunks_are_joined() {
        let text = "héllo – 日本 🎉";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut carry = Utf8Carry::default();
            let mut got = carry.decode(&bytes[..cut]);
            got.push_str(&carry.decode(&bytes[cut..]));
            got.push_str(&carry.finish());
            assert_eq!(got, text, "cut at {cut}");
        }
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut carry = Utf8Carry::default();
        assert_eq!(carry.decode(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(carry.decode(b"\xe6\x97"), "");
        assert_eq!(carry.finish(), "\u{fffd}");
    }
}
