//! A file's text as lines, keeping what a patch must not disturb: each line's
//! ending (`\n` or `\r\n`) and whether the file ends with a newline.
//! `Doc::parse(text).render() == text` for every string.

/// One line without its ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub text: String,
    /// Ends with `\r\n` rather than `\n` (when it ends at all).
    pub crlf: bool,
}

/// A text split into lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Doc {
    pub lines: Vec<Line>,
    /// Whether the last line has a line ending. Meaningless without lines.
    pub trailing_newline: bool,
}

impl Doc {
    pub fn parse(text: &str) -> Self {
        if text.is_empty() {
            return Self {
                lines: Vec::new(),
                trailing_newline: true,
            };
        }
        let trailing_newline = text.ends_with('\n');
        let body = if trailing_newline {
            &text[..text.len() - 1]
        } else {
            text
        };
        let mut lines: Vec<Line> = body
            .split('\n')
            .map(|piece| match piece.strip_suffix('\r') {
                Some(text) => Line {
                    text: text.to_owned(),
                    crlf: true,
                },
                None => Line {
                    text: piece.to_owned(),
                    crlf: false,
                },
            })
            .collect();
        if !trailing_newline {
            // The unterminated last line keeps a `\r` it has as text; should a
            // later edit give it an ending, that ending is the file's usual one.
            let crlf = mostly_crlf(&lines[..lines.len() - 1]);
            if let Some(last) = lines.last_mut() {
                if last.crlf {
                    last.text.push('\r');
                }
                last.crlf = crlf;
            }
        }
        Self {
            lines,
            trailing_newline,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.lines.iter().map(|l| l.text.len() + 2).sum());
        for (index, line) in self.lines.iter().enumerate() {
            out.push_str(&line.text);
            if index + 1 < self.lines.len() || self.trailing_newline {
                out.push_str(if line.crlf { "\r\n" } else { "\n" });
            }
        }
        out
    }

    /// The ending most terminated lines have (`true` for `\r\n`); `None`
    /// when no line is terminated yet, so the text does not say.
    pub fn crlf(&self) -> Option<bool> {
        let terminated = if self.trailing_newline {
            &self.lines[..]
        } else {
            &self.lines[..self.lines.len().saturating_sub(1)]
        };
        (!terminated.is_empty()).then(|| mostly_crlf(terminated))
    }

    /// Sets the ending the unterminated last line gets should an edit give it
    /// one; for texts whose own lines do not say (see [`Doc::crlf`]).
    pub fn set_last_line_ending(&mut self, crlf: bool) {
        if !self.trailing_newline {
            if let Some(last) = self.lines.last_mut() {
                last.crlf = crlf;
            }
        }
    }
}

fn mostly_crlf(lines: &[Line]) -> bool {
    let crlf = lines.iter().filter(|l| l.crlf).count();
    crlf * 2 > lines.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_endings_and_final_newline_state() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\r\nb",
            "a\r\nb\r\n",
            "a\r",
            "\r\n\r\n",
            "a\nb\r\nc",
        ] {
            assert_eq!(Doc::parse(text).render(), text, "{text:?}");
        }
    }

    #[test]
    fn unterminated_last_line_takes_the_files_ending_when_extended() {
        let mut doc = Doc::parse("a\r\nb");
        doc.lines.push(Line {
            text: "c".into(),
            crlf: true,
        });
        assert_eq!(doc.render(), "a\r\nb\r\nc");
    }

    proptest! {
        #[test]
        fn parse_then_render_is_identity(text in "[ab\r\n]{0,12}") {
            prop_assert_eq!(Doc::parse(&text).render(), text);
        }
    }
}
