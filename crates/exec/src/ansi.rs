//! Terminal output to plain text, for templates and models.
//!
//! Raw bytes stay the record for display; this is the lossy view. Escape
//! sequences are parsed by `vte` (Alacritty's parser); this module only
//! decides what a line "says" once the terminal is done drawing it.

use vte::{Parser, Perform};

/// Plain text of terminal output: escape sequences (colours, cursor moves,
/// titles) removed, invalid UTF-8 replaced by U+FFFD, `\r\n` turned into `\n`.
///
/// Carriage returns redraw a line, as progress bars do: text after a lone `\r`
/// replaces the line so far, so `"10%\r100%\n"` reads `"100%\n"`. A `\r`
/// followed by nothing on its line changes nothing. Backspace removes the
/// previous character; tabs are kept; other control characters are dropped.
pub fn strip_ansi(bytes: &[u8]) -> String {
    let mut text = PlainText {
        out: String::with_capacity(bytes.len()),
        line_start: 0,
        redraw: false,
    };
    Parser::new().advance(&mut text, bytes);
    text.out
}

struct PlainText {
    out: String,
    /// Byte offset in `out` where the current line begins.
    line_start: usize,
    /// A `\r` was seen: the next character starts the line over.
    redraw: bool,
}

impl PlainText {
    fn push(&mut self, c: char) {
        if self.redraw {
            self.out.truncate(self.line_start);
            self.redraw = false;
        }
        self.out.push(c);
    }
}

impl Perform for PlainText {
    fn print(&mut self, c: char) {
        self.push(c);
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\n' => {
                self.out.push('\n');
                self.line_start = self.out.len();
                self.redraw = false;
            }
            b'\r' => self.redraw = true,
            b'\t' => self.push('\t'),
            0x08 if !self.redraw && self.out.len() > self.line_start => {
                self.out.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[track_caller]
    fn check(input: &[u8], expected: &str) {
        assert_eq!(strip_ansi(input), expected, "input: {input:?}");
    }

    #[test]
    fn plain_text_is_unchanged() {
        check(b"hello\nworld\n", "hello\nworld\n");
        check("héllo ✓ 日本\n".as_bytes(), "héllo ✓ 日本\n");
    }

    #[test]
    fn colours_and_styles_are_removed() {
        check(
            b"\x1b[1m\x1b[32m   Compiling\x1b[0m foo v0.1.0\n",
            "   Compiling foo v0.1.0\n",
        );
        check(b"\x1b[38;5;196mred\x1b[m plain", "red plain");
    }

    #[test]
    fn titles_and_cursor_moves_are_removed() {
        check(b"\x1b]0;my title\x07text", "text");
        check(b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link");
        check(b"\x1b[2J\x1b[H\x1b[?25lscreen\x1b[?25h", "screen");
    }

    #[test]
    fn crlf_becomes_lf() {
        check(b"a\r\nb\r\n", "a\nb\n");
    }

    #[test]
    fn carriage_return_redraws_the_line() {
        check(b"10%\r50%\r100%\ndone\n", "100%\ndone\n");
        check(
            b"\r\x1b[K   Building 1/3\r\x1b[K   Building 3/3\r\x1b[K    Finished\n",
            "    Finished\n",
        );
        check(b"keep\nlast frame\r", "keep\nlast frame");
    }

    #[test]
    fn tabs_are_kept_and_other_controls_dropped() {
        check(b"a\tb\x07c\x00d\x0c\n", "a\tbcd\n");
    }

    #[test]
    fn backspace_removes_the_previous_character() {
        check(b"a\x08ab\x08b\n", "ab\n");
        check(b"\x08x", "x");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        check(b"a\xffb\n", "a\u{FFFD}b\n");
    }
}
