//! Turning a byte stream that arrives in pieces (a command's output, an
//! HTTP body) into text without mangling a character that a piece boundary
//! cut in two.

/// An incremental UTF-8 decoder: the undecoded end of the previous piece
/// (at most 3 bytes: the start of a sequence still waiting for its
/// continuation bytes) is carried into the next. Invalid bytes become
/// U+FFFD, as the WHATWG "UTF-8 decode" does.
#[derive(Debug, Default)]
pub struct Utf8Decoder {
    pending: Vec<u8>,
}

impl Utf8Decoder {
    /// The text of `bytes` after what was carried over.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len() + self.pending.len());
        self.decode_into(bytes, &mut out);
        out
    }

    /// Appends the text of `bytes` (after what was carried over) to `out`.
    /// A piece that is whole, valid UTF-8 is checked once and copied once.
    pub fn decode_into(&mut self, bytes: &[u8], out: &mut String) {
        if self.pending.is_empty() {
            self.decode_fresh(bytes, out);
        } else {
            // Rare (a character cut by the piece boundary): join and decode
            // as one, which gives what decoding the whole stream would.
            let mut joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(bytes);
            self.decode_fresh(&joined, out);
        }
    }

    fn decode_fresh(&mut self, mut bytes: &[u8], out: &mut String) {
        loop {
            match std::str::from_utf8(bytes) {
                Ok(text) => return out.push_str(text),
                Err(err) => {
                    let (valid, after) = bytes.split_at(err.valid_up_to());
                    // Valid by construction: `valid_up_to` says so.
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match err.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            bytes = &after[bad..];
                        }
                        None => {
                            self.pending.extend_from_slice(after);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// What is left at the end of the stream: a truncated sequence, as
    /// U+FFFD, or nothing.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        String::from_utf8_lossy(&rest).into_owned()
    }

    /// Whether bytes of an unfinished character are carried.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(pieces: &[&[u8]]) -> String {
        let mut decoder = Utf8Decoder::default();
        let mut out = String::new();
        for piece in pieces {
            out.push_str(&decoder.decode(piece));
        }
        out + &decoder.finish()
    }

    #[test]
    fn characters_split_across_pieces_are_joined() {
        let text = "h\u{e9}llo \u{2013} \u{65e5}\u{672c} \u{1F389}z";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            for second in cut..=bytes.len() {
                let got = decoded(&[&bytes[..cut], &bytes[cut..second], &bytes[second..]]);
                assert_eq!(got, text, "cut at {cut} and {second}");
            }
        }
        let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decoded(&one_by_one), text);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut decoder = Utf8Decoder::default();
        assert_eq!(decoder.decode(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(decoder.decode(b"\xe6\x97"), "");
        assert!(decoder.is_pending());
        assert_eq!(decoder.finish(), "\u{fffd}");
        assert!(!decoder.is_pending());
    }

    #[test]
    fn a_carried_start_that_is_not_continued_is_invalid_alone() {
        // Cut after the lead byte, then a byte that cannot continue it.
        assert_eq!(decoded(&[b"x\xe6", b"\x97y"]), "x\u{fffd}y");
        assert_eq!(decoded(&[b"x\xe6", b"y\xc3\xa9"]), "x\u{fffd}y\u{e9}");
        assert_eq!(
            decoded(&[b"\xe6", b"\xe6", b"\x97\xa5"]),
            "\u{fffd}\u{65e5}"
        );
    }

    #[test]
    fn matches_the_lossy_decoding_of_the_whole_at_every_cut() {
        let bytes = b"ok \xe6\x97\xa5 \xff\xfe \xf0\x9f\x8e \xc3\xa9 \xe6\x97 end";
        let whole = String::from_utf8_lossy(bytes).into_owned();
        for cut in 0..=bytes.len() {
            assert_eq!(decoded(&[&bytes[..cut], &bytes[cut..]]), whole, "cut {cut}");
        }
    }
}
