//! agentls's own cost per tool call of an agent step: a model that answers
//! at once (always one `read_file` of a small file, then a final answer),
//! the real tools, the real store with its durable checkpoints (a model
//! turn, the call asked, started and finished, its result: each a
//! committed transaction). Prints the median and p95 time between two
//! model turns (one loop: checkpoints, the tool, the next request built),
//! and the resident memory along the loop.
//!
//! `cargo run --release -p agentls-engine --example agent_loop -- 499` (a
//! 500-turn loop: 499 tool calls and the answer)
//! (see docs/benchmarks.md).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentls_engine::chat::ToolCall;
use agentls_engine::{
    Engine, EngineOptions, Inputs, Models, PromptCall, PromptOutcome, RunStatus, StartRequest,
    TurnCall, TurnOutcome,
};
use agentls_workflow::{Source, SourceKind};
use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Answers at once; records when each turn was asked and the RSS then.
struct Instant0 {
    turns: usize,
    asked: Mutex<Vec<(Instant, u64)>>,
    /// The conversation's size as JSON at the last turn.
    conversation: Mutex<usize>,
}

impl Models for Instant0 {
    fn prompt(
        &self,
        _call: PromptCall,
        _output: mpsc::Sender<Vec<u8>>,
        _cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<PromptOutcome, String>> {
        Box::pin(async { Err("not used".into()) })
    }

    fn command_providers(&self, _names: &[String]) -> Vec<String> {
        Vec::new()
    }

    fn turn(
        &self,
        call: TurnCall,
        _output: mpsc::Sender<Vec<u8>>,
        _cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<TurnOutcome, String>> {
        let mut asked = self.asked.lock().unwrap();
        asked.push((Instant::now(), rss_kib()));
        let n = asked.len();
        drop(asked);
        *self.conversation.lock().unwrap() = serde_json::to_string(&call.messages)
            .map(|s| s.len())
            .unwrap_or(0);
        let outcome = if n > self.turns {
            TurnOutcome {
                text: "done".into(),
                ..TurnOutcome::default()
            }
        } else {
            TurnOutcome {
                tool_calls: vec![ToolCall {
                    id: format!("call_{}", call.messages.len()),
                    name: "read_file".into(),
                    input: serde_json::json!({"path": "lib.rs"}),
                    signature: None,
                }],
                ..TurnOutcome::default()
            }
        };
        Box::pin(async move { Ok(outcome) })
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let turns: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(499);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("lib.rs"), "pub fn answer() -> u32 {\n    42\n}\n").unwrap();
    let engine = Engine::open(&root, &dir.path().join("state"), EngineOptions::default()).unwrap();
    let model = Arc::new(Instant0 {
        turns,
        asked: Mutex::new(Vec::new()),
        conversation: Mutex::new(0),
    });
    engine.set_models(Some(model.clone()));
    let toml = format!(
        "[[steps]]\nid = \"a\"\nagent = \"read\"\nmax_turns = {}\n",
        turns + 1
    );
    let workflow = agentls_workflow::parse("bench", Source::new(SourceKind::User, None, toml))
        .workflow
        .unwrap();
    let started = Instant::now();
    let run = engine
        .start(StartRequest {
            workflow,
            params: BTreeMap::new(),
            inputs: Inputs::default(),
        })
        .unwrap();
    let record = engine.wait(&run).await.unwrap();
    let total = started.elapsed();
    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    let asked = model.asked.lock().unwrap().clone();
    let mut loops: Vec<Duration> = asked.windows(2).map(|w| w[1].0 - w[0].0).collect();
    loops.sort();
    let rss = |turn: usize| asked.get(turn.saturating_sub(1)).map(|a| a.1).unwrap_or(0);
    println!(
        "{turns} tool calls in {:.0} ms: per call median {:.2} ms, p95 {:.2} ms",
        total.as_secs_f64() * 1000.0,
        percentile(&loops, 0.5).as_secs_f64() * 1000.0,
        percentile(&loops, 0.95).as_secs_f64() * 1000.0,
    );
    println!(
        "RSS (KiB) at turn 10: {}, {}: {}, {}: {}, {}: {}",
        rss(10),
        turns / 4,
        rss(turns / 4),
        turns / 2,
        rss(turns / 2),
        turns,
        rss(turns)
    );
    println!(
        "the conversation at the last turn: {} KiB as JSON",
        *model.conversation.lock().unwrap() / 1024
    );
}
