//! Cassettes: recorded answers, for offline demos and tests.
//!
//! A cassette is a JSON file:
//!
//! ```json
//! {
//!   "version": 2,
//!   "entries": [
//!     {
//!       "provider": "claude",
//!       "model": "claude-sonnet-4-5",
//!       "prompt": "Say hello",
//!       "chunks": ["Hel", "lo!"],
//!       "usage": {"input_tokens": 9, "output_tokens": 3, "cached_tokens": 0},
//!       "stop_reason": "end_turn",
//!       "request_id": "req_011"
//!     },
//!     {
//!       "provider": "claude",
//!       "chunks": ["Let me look."],
//!       "tool_calls": [
//!         {"id": "toolu_01", "name": "read_file", "input": {"path": "src/lib.rs"}}
//!       ],
//!       "stop_reason": "tool_use"
//!     }
//!   ]
//! }
//! ```
//!
//! Matching rule: a `replay` provider named `P` serves the entries whose
//! `provider` is `P`, in file order, one per call (one per model turn of an
//! agent step); the prompt is kept for people reading the file and is not
//! compared. Asking for more answers than were recorded is an error, and so
//! is an entry with tool calls answering a request that offers no tools.
//!
//! For hand-written cassettes (the offline demo), an entry may give `text`
//! instead of `chunks` (replayed word by word), and a tool call may leave
//! out its `id` (`replay-E-K` is used: entry E of the file, call K) and its
//! `input` (`{}`). Version 1 files (no tool calls) are read as they are.
//!
//! [`Recorder`] wraps any provider and appends each successful answer to a
//! [`CassetteWriter`] (one per run, shared by every wrapped provider), which
//! rewrites the file atomically after each entry. Failed and cancelled calls
//! are not recorded.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use agentls_chat::ToolCall;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{Chunk, Completion, Provider, ProviderError, Request, Usage};

/// The cassette format version this crate writes. It reads this one and
/// version 1 (the same format without tool calls).
pub const CASSETTE_VERSION: u32 = 2;

/// A cassette file's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cassette {
    /// Format version ([`CASSETTE_VERSION`]).
    pub version: u32,
    /// Recorded answers in the order they completed.
    #[serde(default)]
    pub entries: Vec<CassetteEntry>,
}

/// One recorded answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CassetteEntry {
    /// Name of the provider that gave it.
    pub provider: String,
    /// The model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The prompt that was asked (for readers; not used for matching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The answer's text chunks as they streamed.
    #[serde(default)]
    pub chunks: Vec<String>,
    /// The answer's text in one piece, for cassettes written by hand:
    /// replayed word by word. An entry has `chunks` or `text`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The tools the model asked to call, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<CassetteCall>,
    /// Token usage.
    #[serde(default)]
    pub usage: Usage,
    /// Why the model stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// The vendor's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A recorded tool call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CassetteCall {
    /// The call's id; when left out, `replay-E-K` (entry E of the file,
    /// call K, both from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tool's name.
    pub name: String,
    /// The arguments; `{}` when left out.
    #[serde(default = "empty_object")]
    pub input: Value,
    /// Opaque vendor data sent back with the call (Gemini's
    /// `thoughtSignature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

impl From<&ToolCall> for CassetteCall {
    fn from(call: &ToolCall) -> Self {
        CassetteCall {
            id: Some(call.id.clone()),
            name: call.name.clone(),
            input: call.input.clone(),
            signature: call.signature.clone(),
        }
    }
}

impl CassetteEntry {
    /// The text chunks to replay: `chunks`, or `text` cut after each run of
    /// whitespace.
    pub fn replay_chunks(&self) -> Vec<String> {
        let Some(text) = &self.text else {
            return self.chunks.clone();
        };
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut after_space = false;
        for (at, c) in text.char_indices() {
            if after_space && !c.is_whitespace() {
                pieces.push(text[start..at].to_string());
                start = at;
            }
            after_space = c.is_whitespace();
        }
        if start < text.len() {
            pieces.push(text[start..].to_string());
        }
        pieces
    }

    /// The tool calls, ids filled in: `number` is the entry's place in the
    /// file, from 1.
    pub fn replay_calls(&self, number: usize) -> Vec<ToolCall> {
        self.tool_calls
            .iter()
            .enumerate()
            .map(|(k, call)| ToolCall {
                id: call
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("replay-{number}-{}", k + 1)),
                name: call.name.clone(),
                input: call.input.clone(),
                signature: call.signature.clone(),
            })
            .collect()
    }
}

impl Default for Cassette {
    fn default() -> Self {
        Cassette {
            version: CASSETTE_VERSION,
            entries: Vec::new(),
        }
    }
}

impl Cassette {
    /// Reads and checks a cassette file.
    pub fn load(path: &Path) -> Result<Cassette, ProviderError> {
        let error = |message: String| ProviderError::Cassette {
            path: path.to_path_buf(),
            message,
        };
        // The path comes from a config file, which a repository may write:
        // a FIFO or /dev/zero must fail here, not hang or fill memory.
        let text = agentls_files::read_to_string(path, agentls_files::Limit::CASSETTE)
            .map_err(|err| error(format!("cannot read: {}", err.reason())))?;
        let cassette: Cassette =
            serde_json::from_str(&text).map_err(|err| error(format!("not a cassette: {err}")))?;
        if !(1..=CASSETTE_VERSION).contains(&cassette.version) {
            return Err(error(format!(
                "format version {} is not supported (this agentls reads versions 1 to \
                 {CASSETTE_VERSION})",
                cassette.version
            )));
        }
        for (index, entry) in cassette.entries.iter().enumerate() {
            if entry.text.is_some() && !entry.chunks.is_empty() {
                return Err(error(format!(
                    "entry {} (provider `{}`) has both `chunks` and `text`; give one",
                    index + 1,
                    entry.provider
                )));
            }
        }
        Ok(cassette)
    }

    /// Writes the cassette atomically (a temporary file, then rename), so
    /// a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), ProviderError> {
        let error = |message: String| ProviderError::Cassette {
            path: path.to_path_buf(),
            message,
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|err| error(format!("cannot encode: {err}")))?;
        text.push('\n');
        let mut file = tempfile::NamedTempFile::new_in(dir)
            .map_err(|err| error(format!("cannot write in {}: {err}", dir.display())))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|err| error(format!("cannot write: {err}")))?;
        file.persist(path)
            .map_err(|err| error(format!("cannot write: {}", err.error)))?;
        Ok(())
    }

    /// The entries recorded for `provider`, in order.
    pub fn entries_for<'a>(&'a self, provider: &'a str) -> impl Iterator<Item = &'a CassetteEntry> {
        self.entries.iter().filter(move |e| e.provider == provider)
    }
}

/// The cassette being recorded during one run; share it (in an `Arc`)
/// between the [`Recorder`]s of that run.
#[derive(Debug)]
pub struct CassetteWriter {
    path: PathBuf,
    cassette: Mutex<Cassette>,
}

impl CassetteWriter {
    /// Starts a cassette at `path`, writing an empty one at once so an
    /// unwritable path fails before any model is called. An existing file
    /// is replaced.
    pub fn create(path: impl Into<PathBuf>) -> Result<Arc<CassetteWriter>, ProviderError> {
        let path = path.into();
        let cassette = Cassette::default();
        cassette.save(&path)?;
        Ok(Arc::new(CassetteWriter {
            path,
            cassette: Mutex::new(cassette),
        }))
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an entry and rewrites the file.
    pub fn record(&self, entry: CassetteEntry) -> Result<(), ProviderError> {
        // A poisoned lock only means another recorder panicked mid-push;
        // the vector itself is still whole.
        let mut cassette = self.cassette.lock().unwrap_or_else(|p| p.into_inner());
        cassette.entries.push(entry);
        cassette.save(&self.path)
    }

    /// What has been recorded so far.
    pub fn snapshot(&self) -> Cassette {
        self.cassette
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A provider wrapper that passes every stream through unchanged and
/// records each successful answer into a cassette (`agentls run --record`).
pub struct Recorder {
    inner: Arc<dyn Provider>,
    tape: Arc<CassetteWriter>,
}

impl Recorder {
    /// Wraps `inner`; its answers are recorded under `inner.name()`.
    pub fn new(inner: Arc<dyn Provider>, tape: Arc<CassetteWriter>) -> Recorder {
        Recorder { inner, tape }
    }

    async fn run(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> Result<Completion, ProviderError> {
        let prompt = request.last_user_text().to_string();
        let (tee, mut tapped) = mpsc::channel(64);
        let answer = self.inner.stream(request, tee, cancel);
        let forward = async move {
            let mut texts = Vec::new();
            while let Some(chunk) = tapped.recv().await {
                match &chunk {
                    Chunk::Text(text) => texts.push(text.clone()),
                    // A tool turn retried after text starts over: the tape
                    // keeps the answer that succeeded, as the completion
                    // does.
                    Chunk::Retrying { .. } => texts.clear(),
                    _ => {}
                }
                let _ = chunks.send(chunk).await;
            }
            texts
        };
        let (result, texts) = tokio::join!(answer, forward);
        let completion = result?;
        self.tape.record(CassetteEntry {
            provider: self.inner.name().to_string(),
            model: completion.model.clone(),
            prompt: Some(prompt),
            chunks: texts,
            text: None,
            tool_calls: completion
                .tool_calls
                .iter()
                .map(CassetteCall::from)
                .collect(),
            usage: completion.usage,
            stop_reason: completion.stop_reason.clone(),
            request_id: completion.request_id.clone(),
        })?;
        Ok(completion)
    }
}

impl Provider for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
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

/// The `replay` provider: serves its entries of a cassette in order.
pub(crate) struct ReplayProvider {
    name: String,
    path: PathBuf,
    /// This provider's entries, with their place in the file (from 1).
    entries: Vec<(usize, CassetteEntry)>,
    /// Index of the next entry; per instance, so per session.
    next: AtomicUsize,
}

impl ReplayProvider {
    /// Loads `path` and keeps the entries recorded for `name`; a cassette
    /// without any is an error now rather than at the first prompt.
    pub(crate) fn load(name: &str, path: PathBuf) -> Result<ReplayProvider, ProviderError> {
        let cassette = Cassette::load(&path)?;
        let entries: Vec<(usize, CassetteEntry)> = cassette
            .entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.provider == name)
            .map(|(index, entry)| (index + 1, entry.clone()))
            .collect();
        if entries.is_empty() {
            let mut names: Vec<&str> = cassette
                .entries
                .iter()
                .map(|e| e.provider.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            let has = if names.is_empty() {
                "no answers at all".to_string()
            } else {
                format!("answers for {}", names.join(", "))
            };
            return Err(ProviderError::Cassette {
                path,
                message: format!(
                    "no answers recorded for provider `{name}` (it has {has}); \
                     a replay provider serves the answers recorded under its own name"
                ),
            });
        }
        Ok(ReplayProvider {
            name: name.to_string(),
            path,
            entries,
            next: AtomicUsize::new(0),
        })
    }

    async fn run(
        &self,
        request: Request,
        chunks: mpsc::Sender<Chunk>,
        cancel: CancellationToken,
    ) -> Result<Completion, ProviderError> {
        let started = Instant::now();
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let (number, entry) =
            self.entries
                .get(index)
                .ok_or_else(|| ProviderError::ReplayExhausted {
                    provider: self.name.clone(),
                    path: self.path.clone(),
                    recorded: self.entries.len(),
                })?;
        if !entry.tool_calls.is_empty() && !request.is_tool_turn() {
            return Err(ProviderError::Cassette {
                path: self.path.clone(),
                message: format!(
                    "entry {number} (answer {} for `{}`) calls tools, but the step offers none \
                     (a prompt step); the cassette was recorded for another workflow",
                    index + 1,
                    self.name
                ),
            });
        }
        let texts = entry.replay_chunks();
        let tool_calls = entry.replay_calls(*number);
        let mut first_chunk = None;
        let pieces =
            texts
                .iter()
                .map(|text| Chunk::Text(text.clone()))
                .chain(tool_calls.iter().map(|call| Chunk::ToolCall {
                    name: call.name.clone(),
                }));
        for chunk in pieces {
            if cancel.is_cancelled() {
                return Err(ProviderError::Cancelled {
                    provider: self.name.clone(),
                });
            }
            first_chunk.get_or_insert_with(|| started.elapsed());
            let _ = chunks.send(chunk).await;
            // Let consumers see chunks one by one, as they streamed.
            tokio::task::yield_now().await;
        }
        Ok(Completion {
            text: texts.concat(),
            tool_calls,
            usage: entry.usage,
            stop_reason: entry.stop_reason.clone(),
            request_id: entry.request_id.clone(),
            model: entry.model.clone(),
            attempts: 1,
            first_chunk,
            latency: started.elapsed(),
        })
    }
}

impl Provider for ReplayProvider {
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
