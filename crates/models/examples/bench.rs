//! Benchmarks of the model bridge, numbers for docs/benchmarks.md.
//!
//! ```sh
//! cargo run --release -p agentls-models --example bench -- throughput [--deltas 200000] [--rate 0] [--rounds 5]
//! cargo run --release -p agentls-models --example bench -- fanout [--rounds 5]
//! cargo run --release -p agentls-models --example bench -- tools [--deltas 20000] [--rounds 5]
//! ```
//!
//! `throughput`: a local server sends one OpenAI-style Chat Completions
//! stream of `--deltas` content deltas as fast as it can; agentls (a
//! `SessionModels` prompt, its live output channel drained) is timed against
//! `curl -N -s` reading the same stream to /dev/null, and so is the provider
//! alone (its chunks drained), to show what the bridge adds. Tokens/s counts
//! one token per delta. `--rate N` paces the server at N deltas per second
//! instead (a server-bound stream, like a real model's).
//!
//! `fanout`: three fake vendors (Anthropic, OpenAI, Gemini) answer after
//! 300, 600 and 900 ms; a fan-out over the three is timed against the
//! slowest one alone.
//!
//! `tools`: for Anthropic and OpenAI, a turn whose one tool call's
//! arguments stream as `--deltas` fragments, against a turn of as many
//! text deltas; for Gemini, whose calls come whole, a turn of `--deltas`
//! text deltas ending in a call. Each through `SessionModels::turn`, the
//! server unpaced: what decoding a tool call costs per delta.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentls_engine::chat::{Message, ToolSpec};
use agentls_engine::{Models, PromptCall, TurnCall};
use agentls_models::SessionModels;
use agentls_provider::testing::{fast_config, sse_response, FakeServer, Step, Turn, Wire};
use agentls_provider::{Kind, ProviderConfig, ProvidersConfig, Request};
use agentls_workflow::Pick;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = flag("--rounds", 5).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match args.first().map(String::as_str) {
        Some("throughput") => runtime.block_on(throughput(
            flag("--deltas", 200_000),
            rounds,
            flag("--rate", 0),
        )),
        Some("fanout") => runtime.block_on(fanout(rounds)),
        Some("tools") => runtime.block_on(tools(flag("--deltas", 20_000), rounds)),
        _ => {
            eprintln!(
                "usage: bench throughput [--deltas N] [--rate DELTAS_PER_S] [--rounds R] \
                 | bench fanout [--rounds R] | bench tools [--deltas N] [--rounds R]"
            );
            std::process::exit(2);
        }
    }
}

// ---- streaming throughput ------------------------------------------------

/// The whole SSE body: a role chunk, `deltas` content chunks, the finish
/// chunk, the usage chunk, `[DONE]`; the chunk objects as OpenAI sends them.
fn openai_body(deltas: usize) -> (Vec<u8>, usize) {
    let chunk = |choices: &str, usage: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{choices}],\"usage\":{usage}}}\n\n"
        )
    };
    let mut body = String::new();
    body.push_str(&chunk(
        "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}",
        "null",
    ));
    let mut text_len = 0;
    for i in 0..deltas {
        let token = format!(" tok{}", i % 1000);
        text_len += token.len();
        body.push_str(&chunk(
            &format!("{{\"index\":0,\"delta\":{{\"content\":\"{token}\"}},\"logprobs\":null,\"finish_reason\":null}}"),
            "null",
        ));
    }
    body.push_str(&chunk(
        "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}",
        "null",
    ));
    body.push_str(&chunk(
        "",
        &format!(
            "{{\"prompt_tokens\":12,\"completion_tokens\":{deltas},\"total_tokens\":{}}}",
            deltas + 12
        ),
    ));
    body.push_str("data: [DONE]\n\n");
    (body.into_bytes(), text_len)
}

/// Serves `body` to every request: as fast as the socket takes it when
/// `rate` is 0, else `rate` events per second (in batches, every
/// millisecond).
async fn stream_server(body: Arc<Vec<u8>>, rate: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                // Read the request head and body (a POST from agentls).
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 8192];
                let head_end = loop {
                    if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        break pos + 4;
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buffer.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                if rate == 0 {
                    let _ = socket.write_all(&body).await;
                } else {
                    paced(&mut socket, &body, rate).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// Writes `body` at `rate` SSE events per second.
async fn paced(socket: &mut tokio::net::TcpStream, body: &[u8], rate: usize) {
    let per_ms = (rate / 1000).max(1);
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut at = 0;
    while at < body.len() {
        ticks.tick().await;
        let mut end = at;
        for _ in 0..per_ms {
            end = match body[end..].windows(2).position(|w| w == b"\n\n") {
                Some(pos) => end + pos + 2,
                None => body.len(),
            };
            if end == body.len() {
                break;
            }
        }
        if socket.write_all(&body[at..end]).await.is_err() {
            return;
        }
        at = end;
    }
}

async fn throughput(deltas: usize, rounds: usize, rate: usize) {
    let (body, text_len) = openai_body(deltas);
    let bytes = body.len();
    let base = stream_server(Arc::new(body), rate).await;
    let pace = match rate {
        0 => "as fast as the socket takes it".to_string(),
        rate => format!("paced at {rate} deltas/s"),
    };
    println!(
        "stream: {deltas} deltas, {:.1} MB of SSE, {pace}, {rounds} rounds each",
        bytes as f64 / 1e6
    );

    let mut config = fast_config(Kind::Openai, &format!("{base}/v1"));
    config.model = Some("gpt-4.1".into());

    // The provider alone, its chunks drained: the bridge's baseline.
    let provider = agentls_provider::build("local", &config, &|_| None, &std::env::temp_dir())
        .expect("provider");
    let mut alone = Vec::new();
    for _ in 0..rounds {
        let (tx, mut rx) = mpsc::channel(64);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let started = Instant::now();
        let completion = provider
            .stream(
                Request::new("Write a long answer"),
                tx,
                CancellationToken::new(),
            )
            .await
            .expect("provider answer");
        alone.push(started.elapsed());
        let _ = drain.await;
        assert_eq!(completion.text.len(), text_len, "whole answer");
    }

    let models = models_with(vec![("local", config)]);
    let mut ours = Vec::new();
    for _ in 0..rounds {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let drain = tokio::spawn(async move {
            let mut n = 0usize;
            while let Some(chunk) = rx.recv().await {
                n += chunk.len();
            }
            n
        });
        let started = Instant::now();
        let outcome = models
            .prompt(call(&["local"], Pick::First), tx, CancellationToken::new())
            .await
            .expect("agentls answer");
        let live = drain.await.expect("drain");
        ours.push(started.elapsed());
        assert_eq!(outcome.output.len(), text_len, "whole answer");
        assert_eq!(live, text_len, "whole live output");
    }

    let url = format!("{base}/v1/chat/completions");
    let mut curl = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let status = tokio::process::Command::new("curl")
            .args(["-N", "-s", &url])
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .expect("curl runs");
        curl.push(started.elapsed());
        assert!(status.success(), "curl failed");
    }

    let rate = |d: Duration| deltas as f64 / d.as_secs_f64();
    let (alone, ours, curl) = (median(&mut alone), median(&mut ours), median(&mut curl));
    println!(
        "provider alone (chunks drained):         median {:>8.1} ms  {:>12.0} tokens/s",
        ms(alone),
        rate(alone)
    );
    println!(
        "agentls (SessionModels, output drained): median {:>8.1} ms  {:>12.0} tokens/s",
        ms(ours),
        rate(ours)
    );
    println!(
        "curl -N -s URL > /dev/null:              median {:>8.1} ms  {:>12.0} tokens/s",
        ms(curl),
        rate(curl)
    );
    println!("ratio agentls / curl: {:.2}", rate(ours) / rate(curl));
}

// ---- tool-call turns -------------------------------------------------------

async fn tools(deltas: usize, rounds: usize) {
    println!("{deltas} deltas per turn, unpaced, {rounds} rounds each");
    let pieces: Vec<String> = (0..deltas).map(|i| format!(" tok{}", i % 1000)).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    for wire in Wire::ALL {
        let text = Turn::text(&pieces);
        let call = match wire {
            // Gemini's calls come whole: many text deltas, then the call.
            Wire::Gemini => Turn::text(&pieces).call(
                "c",
                "write_file",
                &["{\"path\": \"a.txt\", \"content\": \"x\"}"],
            ),
            _ => {
                let mut arguments = vec!["{\"path\": \"a.txt\", \"content\": \""];
                arguments.extend(pieces.iter().copied());
                arguments.push("\"}");
                Turn::text(&[]).call("toolu_bench", "write_file", &arguments)
            }
        };
        let text_ms = turn_median(wire, &text, rounds).await;
        let call_ms = turn_median(wire, &call, rounds).await;
        println!(
            "{wire:?}: {deltas} text deltas median {text_ms:>7.1} ms ({:.2} µs/delta); \
             with the tool call median {call_ms:>7.1} ms ({:.2} µs/delta)",
            text_ms * 1000.0 / deltas as f64,
            call_ms * 1000.0 / deltas as f64,
        );
    }
}

/// The median time of `SessionModels::turn` answering `turn` in `wire`'s
/// format, live output drained.
async fn turn_median(wire: Wire, turn: &Turn, rounds: usize) -> f64 {
    let body = wire.events(turn).concat().into_bytes();
    let base = stream_server(Arc::new(body), 0).await;
    let mut config = match wire {
        Wire::Anthropic => fast_config(Kind::Anthropic, &base),
        Wire::Openai => fast_config(Kind::Openai, &format!("{base}/v1")),
        Wire::Gemini => fast_config(Kind::Gemini, &format!("{base}/v1beta")),
    };
    config.model = Some("bench".into());
    let models = models_with(vec![("p", config)]);
    let spec = ToolSpec {
        name: "write_file".into(),
        description: "Write a file.".into(),
        parameters: serde_json::json!({"type": "object"}),
    };
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let call = TurnCall {
            step: "bench".into(),
            provider: Some("p".into()),
            system: None,
            messages: vec![Message::User {
                text: "Write the file".into(),
            }],
            tools: vec![spec.clone()],
            calls: Default::default(),
        };
        let started = Instant::now();
        let outcome = models
            .turn(call, tx, CancellationToken::new())
            .await
            .expect("turn");
        samples.push(started.elapsed());
        let _ = drain.await;
        assert_eq!(outcome.tool_calls.len(), turn.calls.len(), "whole calls");
    }
    ms(median(&mut samples))
}

// ---- fan-out wall time -----------------------------------------------------

async fn fanout(rounds: usize) {
    let vendors = [
        ("claude", Kind::Anthropic, 300u64),
        ("gpt", Kind::Openai, 600),
        ("gemini", Kind::Gemini, 900),
    ];
    let mut singles = vec![Vec::new(); vendors.len()];
    let mut fans = Vec::new();
    for _ in 0..rounds {
        // Fresh servers each round: one script per request.
        let mut servers = Vec::new();
        let mut configs = Vec::new();
        for (name, kind, delay) in vendors {
            let script = |_| {
                let mut steps = vec![Step::Pause(Duration::from_millis(delay))];
                steps.extend(answer(kind));
                steps
            };
            let server = FakeServer::start((0..2).map(script).collect()).await;
            configs.push((name, vendor_config(kind, &server)));
            servers.push(server);
        }
        let models = models_with(configs);
        for (i, (name, _, _)) in vendors.iter().enumerate() {
            singles[i].push(timed(&models, &[name], Pick::First).await);
        }
        fans.push(timed(&models, &["claude", "gpt", "gemini"], Pick::All).await);
    }
    let mut slowest = Duration::ZERO;
    for (i, (name, _, delay)) in vendors.iter().enumerate() {
        let single = median(&mut singles[i]);
        slowest = slowest.max(single);
        println!(
            "{name:>6} alone (server delay {delay} ms): median {:>7.1} ms",
            ms(single)
        );
    }
    let fan = median(&mut fans);
    println!(
        "fan-out over the three (pick = all):     median {:>7.1} ms",
        ms(fan)
    );
    println!(
        "fan-out / slowest single: {:.3} ({:+.1}%)",
        fan.as_secs_f64() / slowest.as_secs_f64(),
        (fan.as_secs_f64() / slowest.as_secs_f64() - 1.0) * 100.0
    );
}

async fn timed(models: &SessionModels, names: &[&str], pick: Pick) -> Duration {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let started = Instant::now();
    models
        .prompt(call(names, pick), tx, CancellationToken::new())
        .await
        .expect("answer");
    let elapsed = started.elapsed();
    let _ = drain.await;
    elapsed
}

fn answer(kind: Kind) -> Vec<Step> {
    let pieces: &[&str] = match kind {
        Kind::Anthropic => &[
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello!\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ],
        Kind::Openai => &[
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello!\"},\"finish_reason\":null}],\"usage\":null}\n\n",
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4.1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n",
            "data: [DONE]\n\n",
        ],
        _ => &[
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hello!\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": 2,\"totalTokenCount\": 10},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"r\"}\r\n\r\n",
        ],
    };
    sse_response(&[], pieces)
}

fn vendor_config(kind: Kind, server: &FakeServer) -> ProviderConfig {
    let base = server.base_url();
    match kind {
        Kind::Openai => {
            let mut config = fast_config(kind, &format!("{base}/v1"));
            config.model = Some("gpt-4.1".into());
            config
        }
        Kind::Gemini => fast_config(kind, &format!("{base}/v1beta")),
        _ => fast_config(kind, &base),
    }
}

fn models_with(list: Vec<(&str, ProviderConfig)>) -> SessionModels {
    let config = ProvidersConfig {
        default_provider: None,
        providers: list
            .into_iter()
            .map(|(name, config)| (name.to_string(), config))
            .collect(),
    };
    SessionModels::new(config, std::env::temp_dir(), |var| {
        var.ends_with("_API_KEY")
            .then(|| "bench-key-not-secret".to_string())
    })
}

fn call(names: &[&str], pick: Pick) -> PromptCall {
    PromptCall {
        step: "bench".into(),
        prompt: "Write a long answer".into(),
        providers: names.iter().map(|n| n.to_string()).collect(),
        pick,
        calls: Default::default(),
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
