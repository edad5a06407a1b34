//! A real engine on a temporary workspace, with `SessionModels` as its
//! models, and the vendor streams the fake servers send.
//!
//! Shared by two test binaries (`models` and `secrets`); each uses part.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use agentls_engine::{
    Engine, EngineOptions, Event, Inputs, RunId, RunRecord, StartRequest, StepRecord, Subscriber,
};
use agentls_models::SessionModels;
use agentls_provider::testing::{fast_config, sse_response, FakeServer, Step};
use agentls_provider::{Kind, ProviderConfig, ProvidersConfig};
use agentls_workflow::{Source, SourceKind, Workflow};
use tokio::sync::watch;

/// Every event the engine announced, awaitable.
pub struct Events(watch::Sender<Vec<Event>>);

impl Subscriber for Events {
    fn event(&self, event: &Event) {
        self.0.send_modify(|events| events.push(event.clone()));
    }
}

impl Events {
    /// Waits (at most 10 s) until `done` holds for the events so far.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Event]) -> bool) {
        let mut rx = self.0.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|e| done(e))).await;
        assert!(matches!(waited, Ok(Ok(_))), "timed out waiting for {what}");
    }

    /// The live output of one step, every attempt, as announced.
    pub fn live(&self, run: &RunId, step_id: &str) -> String {
        let bytes: Vec<u8> = self
            .0
            .borrow()
            .iter()
            .filter_map(|event| match event {
                Event::Output {
                    run: r,
                    step,
                    bytes,
                } if r == run && step == step_id => Some(bytes.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        String::from_utf8(bytes).expect("live output is UTF-8")
    }
}

pub struct Fixture {
    dir: tempfile::TempDir,
    pub root: PathBuf,
    pub engine: Engine,
    pub events: Arc<Events>,
}

impl Fixture {
    /// An engine whose models are `config`'s providers, keys from `env`.
    pub fn new(config: ProvidersConfig, env: Env) -> Fixture {
        Fixture::with_models(|root| SessionModels::new(config, root, env.lookup()))
    }

    /// An engine whose models are made by `models` from the workspace root.
    pub fn with_models(models: impl FnOnce(&Path) -> SessionModels) -> Fixture {
        Fixture::with_options(EngineOptions::default(), models)
    }

    pub fn with_options(
        mut options: EngineOptions,
        models: impl FnOnce(&Path) -> SessionModels,
    ) -> Fixture {
        options.retry_backoff = Duration::from_millis(10);
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("ws");
        std::fs::create_dir_all(&root).expect("workspace");
        let root = root.canonicalize().expect("workspace path");
        let engine = Engine::open(&root, &dir.path().join("state"), options).expect("engine");
        let events = Arc::new(Events(watch::channel(Vec::new()).0));
        engine.subscribe(events.clone());
        engine.set_models(Some(Arc::new(models(&root))));
        Fixture {
            dir,
            root,
            engine,
            events,
        }
    }

    /// Where the engine keeps its store and transcripts.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn start(&self, toml: &str) -> RunId {
        self.engine
            .start(StartRequest {
                workflow: workflow(SourceKind::User, toml),
                params: BTreeMap::new(),
                inputs: Inputs::default(),
            })
            .expect("run starts")
    }

    pub async fn run(&self, toml: &str) -> (RunId, RunRecord) {
        let run = self.start(toml);
        let record = self.engine.wait(&run).await.expect("run record");
        (run, record)
    }

    /// The stored output of a step.
    pub fn output(&self, run: &RunId, step: &str) -> String {
        self.engine.store().step_output(run, step).expect("output")
    }
}

pub fn workflow(kind: SourceKind, toml: &str) -> Workflow {
    let path = (kind == SourceKind::Workspace).then(|| PathBuf::from(".agentls/workflows/wf.toml"));
    let parsed = agentls_workflow::parse("wf", Source::new(kind, path, toml));
    parsed
        .workflow
        .unwrap_or_else(|| panic!("bad workflow: {:?}", parsed.diagnostics))
}

pub fn step<'a>(record: &'a RunRecord, id: &str) -> &'a StepRecord {
    record
        .steps
        .iter()
        .find(|s| s.step_id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// A workflow with one prompt step `ask` asking `providers`.
pub fn ask(providers: &[&str], pick: &str) -> String {
    let list = providers
        .iter()
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("[[steps]]\nid = \"ask\"\nprompt = \"Explain the build\"\nprovider = [{list}]\npick = \"{pick}\"\n")
}

/// Environment variables the models see (the process environment is not
/// touched).
#[derive(Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    /// The three vendors' default key variables, set.
    pub fn keys() -> Env {
        Env::default()
            .with("ANTHROPIC_API_KEY", "sk-ant-test-0001")
            .with("OPENAI_API_KEY", "sk-proj-test-0002")
            .with("GEMINI_API_KEY", "AIza-test-0003")
    }

    pub fn with(mut self, var: &str, value: &str) -> Env {
        self.0.insert(var.to_string(), value.to_string());
        self
    }

    pub fn lookup(self) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        move |var| self.0.get(var).cloned()
    }
}

/// The three HTTP vendors.
#[derive(Clone, Copy, Debug)]
pub enum Vendor {
    Anthropic,
    Openai,
    Gemini,
}

impl Vendor {
    /// A provider of this vendor's kind pointed at `server`, with fast
    /// retries, reading the vendor's usual key variable.
    pub fn config(self, server: &FakeServer) -> ProviderConfig {
        let base = server.base_url();
        match self {
            Vendor::Anthropic => fast_config(Kind::Anthropic, &base),
            Vendor::Openai => {
                let mut config = fast_config(Kind::Openai, &format!("{base}/v1"));
                config.model = Some("gpt-4.1".into());
                config.api_key_env = Some("OPENAI_API_KEY".into());
                config
            }
            Vendor::Gemini => fast_config(Kind::Gemini, &format!("{base}/v1beta")),
        }
    }

    /// The response streaming `deltas` in this vendor's wire format, with
    /// the usage of [`Vendor::usage`].
    pub fn answer(self, deltas: &[&str]) -> Vec<Step> {
        let pieces = self.pieces(deltas);
        let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
        match self {
            Vendor::Anthropic => {
                sse_response(&[("request-id", "req_018EeWyXxfu5pfWkrYcMdjWG")], &pieces)
            }
            Vendor::Openai => sse_response(&[("x-request-id", "req_7f3b2a")], &pieces),
            Vendor::Gemini => sse_response(&[], &pieces),
        }
    }

    /// The response head and the first `n` deltas (no end: the test adds
    /// what follows).
    pub fn partial(self, deltas: &[&str], n: usize) -> Vec<Step> {
        let mut steps = self.answer(deltas);
        // head + (preamble events) + n deltas
        let preamble = match self {
            Vendor::Anthropic => 2,
            Vendor::Openai => 1,
            Vendor::Gemini => 0,
        };
        steps.truncate(1 + preamble + n);
        steps
    }

    /// `(input, output, cached, model)` as agentls reads them from what
    /// [`Vendor::answer`] sends.
    pub fn usage(self) -> (u64, u64, u64, &'static str) {
        match self {
            // 25 input + 10 cache reads; 15 output.
            Vendor::Anthropic => (35, 15, 10, "claude-sonnet-4-5-20250929"),
            Vendor::Openai => (9, 12, 4, "gpt-4.1-2025-04-14"),
            // 3 candidates + 5 thoughts tokens.
            Vendor::Gemini => (8, 8, 2, "gemini-2.5-flash"),
        }
    }

    /// The SSE events, one string each, as the vendor documents them.
    pub fn pieces(self, deltas: &[&str]) -> Vec<String> {
        let json = |text: &str| serde_json::to_string(text).expect("JSON string");
        match self {
            Vendor::Anthropic => {
                let mut pieces = vec![
                    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":10,\"output_tokens\":1}}}\n\n".to_string(),
                    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n".to_string(),
                ];
                pieces.extend(deltas.iter().map(|d| format!(
                    "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{}}}}}\n\n",
                    json(d)
                )));
                pieces.push("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n".into());
                pieces.push("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n".into());
                pieces.push("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into());
                pieces
            }
            Vendor::Openai => {
                let chunk = |choices: String, usage: &str| {
                    format!(
                    "data: {{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{choices}],\"usage\":{usage}}}\n\n"
                )
                };
                let choice = |delta: &str, finish: &str| {
                    format!("{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}")
                };
                let mut pieces = vec![chunk(
                    choice(
                        "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
                        "null",
                    ),
                    "null",
                )];
                pieces.extend(deltas.iter().map(|d| {
                    chunk(
                        choice(&format!("{{\"content\":{}}}", json(d)), "null"),
                        "null",
                    )
                }));
                pieces.push(chunk(choice("{}", "\"stop\""), "null"));
                pieces.push(chunk(
                    String::new(),
                    "{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21,\"prompt_tokens_details\":{\"cached_tokens\":4,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}",
                ));
                pieces.push("data: [DONE]\n\n".into());
                pieces
            }
            Vendor::Gemini => {
                let count = deltas.len();
                deltas
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let last = i + 1 == count;
                        let finish = if last { ",\"finishReason\": \"STOP\"" } else { "" };
                        let usage = if last {
                            "{\"promptTokenCount\": 8,\"candidatesTokenCount\": 3,\"totalTokenCount\": 16,\"cachedContentTokenCount\": 2,\"thoughtsTokenCount\": 5}"
                        } else {
                            "{\"promptTokenCount\": 8,\"totalTokenCount\": 8}"
                        };
                        format!(
                            "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": {}}}],\"role\": \"model\"}}{finish},\"index\": 0}}],\"usageMetadata\": {usage},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"mF9vaKqGLtW7nvgPkOSx8Qc\"}}\r\n\r\n",
                            json(d)
                        )
                    })
                    .collect()
            }
        }
    }
}

/// A `ProvidersConfig` with these providers and no default set.
pub fn providers(list: Vec<(&str, ProviderConfig)>) -> ProvidersConfig {
    ProvidersConfig {
        default_provider: None,
        providers: list
            .into_iter()
            .map(|(name, config)| (name.to_string(), config))
            .collect(),
    }
}
