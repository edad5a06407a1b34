//! What a workspace's editor surface shares between its command handlers,
//! its engine subscriber and its editor: the client's abilities, the outbox,
//! the runs being streamed and the progress tokens in use.
//!
//! Nothing here awaits: locks are held for a push or a map update only, so
//! the engine's tasks (which call in through the subscriber) never wait on
//! the editor.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use agentls_engine::{RunId, Store, Tag, Transcripts};
use agentls_stream::Limits;
use agentls_text::PositionEncoding;
use tokio::runtime::Handle;
use tower_lsp_server::ls_types::ProgressToken;
use tower_lsp_server::Client;

use super::view::RunView;
use crate::lsp::client::ClientCaps;
use crate::lsp::requests::Requests;
use crate::lsp::sink::{self, ClientSink, Outbox};
use crate::lsp::stdout::OutQueue;
use crate::session::Session;

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The outbox new runs stream through, and the settings it was made with.
struct Stream {
    limits: Limits,
    outbox: Outbox,
    timeout: Duration,
}

pub struct Shared {
    pub session: Weak<Session>,
    /// The workspace folder, as the engine canonicalised it.
    pub root: PathBuf,
    pub caps: ClientCaps,
    pub encoding: PositionEncoding,
    pub store: Store,
    /// Where the engine writes run transcripts.
    pub transcripts: Transcripts,
    /// The runtime, for tasks started from engine callbacks.
    pub handle: Handle,
    /// The runs' runtime: engine operations that set a run going are
    /// called inside it (see `Surface::drive`).
    pub runs_handle: Handle,
    client: Client,
    out: OutQueue,
    stream: Mutex<Stream>,
    pub runs: Mutex<HashMap<RunId, RunView>>,
    /// Progress key (see [`sink::progress_key`]) to the run it shows.
    pub tokens: Mutex<HashMap<String, RunId>>,
    /// The progress token the editor gave with each operation that set a
    /// run going, by the tag the engine echoes on the drive's run events
    /// (see [`Shared::tag`]); the drive's first event claims it.
    pub drives: Mutex<HashMap<Tag, ProgressToken>>,
    /// The last tag handed out.
    tags: AtomicU64,
    /// Turns the outbox's running totals into exported metrics.
    pub outbox_meter: crate::telemetry::OutboxMeter,
}

pub struct SharedParts {
    pub session: Weak<Session>,
    pub root: PathBuf,
    pub caps: ClientCaps,
    pub encoding: PositionEncoding,
    pub store: Store,
    pub transcripts: Transcripts,
    pub client: Client,
    pub out: OutQueue,
    pub config: crate::config::StreamConfig,
    pub runs: Handle,
}

impl Shared {
    pub fn new(parts: SharedParts) -> Arc<Self> {
        let limits = sink::limits(&parts.config);
        let stream = Stream {
            outbox: Outbox::spawn(limits.clone(), ClientSink::new(parts.out.clone())),
            limits,
            timeout: Duration::from_millis(parts.config.request_timeout_ms),
        };
        Arc::new(Self {
            session: parts.session,
            root: parts.root,
            caps: parts.caps,
            encoding: parts.encoding,
            store: parts.store,
            transcripts: parts.transcripts,
            handle: Handle::current(),
            runs_handle: parts.runs,
            client: parts.client,
            out: parts.out,
            stream: Mutex::new(stream),
            runs: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            drives: Mutex::new(HashMap::new()),
            tags: AtomicU64::new(0),
            outbox_meter: crate::telemetry::OutboxMeter::new(),
        })
    }

    /// The outbox for a run seen from now on. A changed `[stream]`
    /// configuration gets a new outbox; runs already streaming keep theirs.
    pub fn outbox(&self) -> Outbox {
        let config = self
            .session
            .upgrade()
            .map(|s| s.config().stream)
            .unwrap_or_default();
        let limits = sink::limits(&config);
        let mut stream = lock(&self.stream);
        if stream.limits != limits {
            let sink = ClientSink::new(self.out.clone());
            stream.outbox = Outbox::spawn(limits.clone(), sink);
            stream.limits = limits;
        }
        stream.timeout = Duration::from_millis(config.request_timeout_ms);
        stream.outbox.clone()
    }

    /// Requests to the editor, with the configured timeout.
    pub fn requests(&self) -> Requests {
        let timeout = lock(&self.stream).timeout;
        Requests::new(self.client.clone(), timeout)
    }

    /// A new tag for an engine operation, standing for `token`.
    pub fn tag(&self, token: ProgressToken) -> Tag {
        let tag = Tag(self.tags.fetch_add(1, Ordering::Relaxed));
        lock(&self.drives).insert(tag, token);
        tag
    }

    /// A run's transcript file.
    pub fn transcript(&self, run: &RunId) -> PathBuf {
        self.transcripts.path(run)
    }

    pub fn session(&self) -> Result<Arc<Session>, String> {
        self.session
            .upgrade()
            .ok_or_else(|| "the workspace folder was closed".to_owned())
    }
}
