//! The live output of a prompt step or an agent step's turn: what a person
//! watching the run sees while the answers stream. Owns the layout (a `── name ──` line whenever
//! the speaking provider of a fan-out changes, bracketed notices for retries
//! and failures) and the coalescing of small pieces into fewer, larger
//! writes. The stored output never passes through here: it is built from
//! the completions, so it stays clean.

use agentls_provider::Chunk;
use tokio::sync::mpsc;

/// Coalesce at most this many bytes into one write of the live output.
const COALESCE_LIMIT: usize = 64 * 1024;

/// What the merged provider streams yield: a chunk from provider `index`,
/// or (fan-out) the failure of provider `index`.
pub enum Item {
    Chunk(usize, Chunk),
    Failed(usize, String),
}

/// The writer of one step's live output.
pub struct Live {
    output: mpsc::Sender<Vec<u8>>,
    names: Vec<String>,
    /// Fan-out: name the provider when the speaker changes.
    headings: bool,
    speaker: Option<usize>,
    at_line_start: bool,
    /// Text was written since the last notice: a retry now means the
    /// answer starts over (an agent step's turn, docs/providers.md).
    spoke: bool,
    buffer: Vec<u8>,
}

impl Live {
    pub fn new(output: mpsc::Sender<Vec<u8>>, names: Vec<String>) -> Live {
        Live {
            output,
            headings: names.len() > 1,
            names,
            speaker: None,
            at_line_start: true,
            spoke: false,
            buffer: Vec::new(),
        }
    }

    /// Whether enough is buffered to write it out now.
    pub fn is_full(&self) -> bool {
        self.buffer.len() >= COALESCE_LIMIT
    }

    /// Adds one item to the buffer.
    pub fn push(&mut self, item: Item) {
        match item {
            Item::Chunk(index, Chunk::Text(text)) => {
                if text.is_empty() {
                    return;
                }
                self.speak(index);
                self.buffer.extend_from_slice(text.as_bytes());
                self.at_line_start = text.ends_with('\n');
                self.spoke = true;
            }
            Item::Chunk(
                index,
                Chunk::Retrying {
                    attempt,
                    delay,
                    reason,
                },
            ) => {
                let over = if self.spoke {
                    "; the answer starts over"
                } else {
                    ""
                };
                self.notice(
                    index,
                    &format!(
                        "{reason}; retrying in {} (attempt {attempt}){over}",
                        show_delay(delay)
                    ),
                )
            }
            Item::Failed(index, error) => self.notice(index, &error),
            // Kinds of chunk added later carry nothing to show.
            Item::Chunk(_, _) => {}
        }
    }

    /// Writes what is buffered. A closed output (nobody watching) is not an
    /// error: the answer is still collected from the completions.
    pub async fn flush(&mut self) {
        if !self.buffer.is_empty() {
            let bytes = std::mem::take(&mut self.buffer);
            let _ = self.output.send(bytes).await;
        }
    }

    fn speak(&mut self, index: usize) {
        if !self.headings || self.speaker == Some(index) {
            return;
        }
        self.speaker = Some(index);
        self.line_start();
        let name = self.names.get(index).map(String::as_str).unwrap_or("?");
        self.buffer
            .extend_from_slice(format!("── {name} ──\n").as_bytes());
    }

    fn notice(&mut self, index: usize, message: &str) {
        self.speak(index);
        self.line_start();
        self.buffer
            .extend_from_slice(format!("[{message}]\n").as_bytes());
        self.at_line_start = true;
        self.spoke = false;
    }

    /// Ends the current line, so a heading or notice starts a line of its
    /// own.
    fn line_start(&mut self) {
        if !self.at_line_start {
            self.buffer.push(b'\n');
            self.at_line_start = true;
        }
    }
}

/// `250ms`, `1s`, `1.5s`.
fn show_delay(delay: std::time::Duration) -> String {
    let ms = delay.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", delay.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn text(index: usize, text: &str) -> Item {
        Item::Chunk(index, Chunk::Text(text.to_string()))
    }

    async fn written(names: &[&str], items: Vec<Item>) -> String {
        let (tx, mut rx) = mpsc::channel(16);
        let mut live = Live::new(tx, names.iter().map(|n| n.to_string()).collect());
        for item in items {
            live.push(item);
        }
        live.flush().await;
        drop(live);
        let mut out = Vec::new();
        while let Some(bytes) = rx.recv().await {
            out.extend(bytes);
        }
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn one_provider_streams_its_text_unchanged() {
        let out = written(&["claude"], vec![text(0, "Hel"), text(0, "lo\n")]).await;
        assert_eq!(out, "Hello\n");
    }

    #[tokio::test]
    async fn fan_out_names_the_speaker_each_time_it_changes() {
        let items = vec![
            text(0, "a1"),
            text(1, "b1\n"),
            text(0, "a2"),
            Item::Failed(2, "provider `gemini`: HTTP 401: bad key".into()),
            text(1, "b2"),
        ];
        let out = written(&["claude", "gpt", "gemini"], items).await;
        assert_eq!(
            out,
            "── claude ──\na1\n── gpt ──\nb1\n── claude ──\na2\n── gemini ──\n\
             [provider `gemini`: HTTP 401: bad key]\n── gpt ──\nb2"
        );
    }

    #[tokio::test]
    async fn a_retry_notice_is_a_line_of_its_own() {
        let items = vec![
            Item::Chunk(
                0,
                Chunk::Retrying {
                    attempt: 2,
                    delay: Duration::from_millis(1500),
                    reason: "provider `claude`: HTTP 429: slow down".into(),
                },
            ),
            text(0, "Hi"),
        ];
        let out = written(&["claude"], items).await;
        assert_eq!(
            out,
            "[provider `claude`: HTTP 429: slow down; retrying in 1.5s (attempt 2)]\nHi"
        );
    }

    #[tokio::test]
    async fn a_retry_after_text_says_the_answer_starts_over() {
        let retry = || {
            Item::Chunk(
                0,
                Chunk::Retrying {
                    attempt: 2,
                    delay: Duration::from_millis(5),
                    reason: "provider `claude`: the connection broke".into(),
                },
            )
        };
        let items = vec![text(0, "Let me"), retry(), retry(), text(0, "Let me look.")];
        let out = written(&["claude"], items).await;
        assert_eq!(
            out,
            "Let me\n[provider `claude`: the connection broke; retrying in 5ms (attempt 2); \
             the answer starts over]\n[provider `claude`: the connection broke; retrying in 5ms \
             (attempt 2)]\nLet me look."
        );
    }
}
