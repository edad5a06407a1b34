//! The `command` provider: a CLI agent (`claude -p`, `gemini -p`,
//! `codex exec`) or any program, run through agentls-exec in the workspace
//! root, prompt on stdin or as its last argument, output streamed as the
//! answer.
//!
//! Runs with plain pipes, never a terminal: a terminal would echo the prompt
//! and make agents draw their interactive UI. stdout and stderr share one
//! pipe (so an agent's warnings are part of the answer). Provider keys are
//! scrubbed from the child's environment by agentls-exec; an agent that
//! needs one reads its own configuration.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use agentls_exec::{CommandSpec, PtyMode, Termination, Utf8Decoder};
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{Chunk, Completion, PromptVia, Provider, ProviderError, Request, Timeouts, Usage};

/// Characters of output quoted in a failure message.
const TAIL_CHARS: usize = 2000;

pub(crate) struct CommandProvider {
    pub name: String,
    pub command: String,
    pub prompt_via: PromptVia,
    pub cwd: PathBuf,
    pub model: Option<String>,
    pub timeouts: Timeouts,
}

/// Which limit ended a silent command.
#[derive(Clone, Copy)]
enum Stall {
    FirstByte(Duration),
    Idle(Duration),
}

impl CommandProvider {
    async fn run(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> Result<Completion, ProviderError> {
        let started = Instant::now();
        // A CLI agent answers a prompt with text; it has no way to hand
        // tool calls back (it runs its own tools, if any).
        if request.is_tool_turn() || !request.messages.is_empty() {
            return Err(ProviderError::NoToolCalling {
                provider: self.name.clone(),
                kind: "command",
            });
        }
        // CLI agents have no separate system channel on the command line.
        let prompt = match &request.system {
            Some(system) => format!("{system}\n\n{}", request.prompt),
            None => request.prompt,
        };
        let mut spec = CommandSpec::new(self.command.clone(), self.cwd.clone());
        spec.pty = PtyMode::Off;
        match self.prompt_via {
            PromptVia::Stdin => spec.stdin = Some(prompt.into_bytes()),
            PromptVia::Arg => spec.command = format!("{} {}", self.command, shell_quote(&prompt)),
        }
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        // Our own token, so a stall can stop the command without cancelling
        // the caller's run.
        let kill = cancel.child_token();
        let run = agentls_exec::run(spec, tx, kill.clone());
        let timeouts = self.timeouts;
        // `move`: the receiver must be dropped when reading stops, or the
        // runner's output thread could block on a full channel.
        let read = async move {
            let mut decoder = Utf8Decoder::default();
            let mut text = String::new();
            let mut first_chunk = None;
            let mut stall = None;
            loop {
                let limit = if first_chunk.is_none() {
                    timeouts.first_byte.map(Stall::FirstByte)
                } else {
                    timeouts.idle.map(Stall::Idle)
                };
                let next = match limit {
                    Some(kind) => {
                        let after = match kind {
                            Stall::FirstByte(d) | Stall::Idle(d) => d,
                        };
                        match tokio::time::timeout(after, rx.recv()).await {
                            Ok(next) => next,
                            Err(_) => {
                                stall = Some(kind);
                                kill.cancel();
                                break;
                            }
                        }
                    }
                    None => rx.recv().await,
                };
                let Some(bytes) = next else { break };
                if first_chunk.is_none() {
                    first_chunk = Some(started.elapsed());
                }
                let piece = decoder.decode(&bytes);
                if !piece.is_empty() {
                    text.push_str(&piece);
                    let _ = chunks.send(Chunk::Text(piece)).await;
                }
            }
            let rest = decoder.finish();
            if !rest.is_empty() {
                text.push_str(&rest);
                let _ = chunks.send(Chunk::Text(rest)).await;
            }
            (text, first_chunk, stall)
        };
        let (outcome, (text, first_chunk, stall)) = tokio::join!(run, read);
        let outcome = outcome.map_err(|source| ProviderError::Exec {
            provider: self.name.clone(),
            command: self.command.clone(),
            source,
        })?;
        if cancel.is_cancelled() {
            return Err(ProviderError::Cancelled {
                provider: self.name.clone(),
            });
        }
        let failed = |outcome: String| ProviderError::CommandFailed {
            provider: self.name.clone(),
            command: self.command.clone(),
            outcome,
            tail: tail(&text),
        };
        match (stall, outcome.termination) {
            (Some(Stall::FirstByte(after)), _) => Err(ProviderError::FirstByteTimeout {
                provider: self.name.clone(),
                after,
                attempts: 1,
            }),
            (Some(Stall::Idle(after)), _) => Err(ProviderError::IdleTimeout {
                provider: self.name.clone(),
                after,
                attempts: 1,
            }),
            (None, Termination::Exited(0)) => Ok(Completion {
                text,
                tool_calls: Vec::new(),
                usage: Usage::default(),
                stop_reason: Some("exit 0".to_string()),
                request_id: None,
                model: self.model.clone(),
                attempts: 1,
                first_chunk,
                latency: started.elapsed(),
            }),
            (None, Termination::Exited(code)) => Err(failed(format!("exited with code {code}"))),
            (None, Termination::Signaled(signal)) => {
                Err(failed(format!("was killed by signal {signal}")))
            }
            (None, Termination::TimedOut | Termination::Cancelled) => {
                Err(failed("was stopped".to_string()))
            }
        }
    }
}

impl Provider for CommandProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn stream(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<Completion, ProviderError>> {
        Box::pin(self.run(request, chunks, cancel))
    }
}

/// One POSIX shell word: single quotes, with `'` written as `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The last [`TAIL_CHARS`] characters of `text`.
fn tail(text: &str) -> String {
    let count = text.chars().count();
    text.chars()
        .skip(count.saturating_sub(TAIL_CHARS))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_survives_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
