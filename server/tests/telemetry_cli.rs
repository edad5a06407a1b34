//! Telemetry as a user turns it on: `agentls run` with the standard OTLP
//! variables (or the user's `[telemetry]` config) exports to a local
//! OTLP/HTTP receiver on 127.0.0.1, the fake vendor servers answer the
//! model calls, and `agentls stats` reads the same usage back from the
//! store. Nothing leaves 127.0.0.1.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use agentls_provider::testing::{sse_response, FakeServer};
use agentls_telemetry::testing::{Receiver, Span};
use serde_json::Value;
use support::TestEnv;

const KEY: &str = "sk-ant-api03-TELEMETRY-SECRET-7731";
const PROMPT: &str = "Explain the flaky test in crate zebra-7";

/// Anthropic's stream: 9 input tokens, 2 output tokens.
const ANTHROPIC: &[&str] = &[
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01Tele\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"It races.\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
];

/// OpenAI's stream: 11 prompt tokens (4 cached), 6 completion tokens.
const OPENAI: &[&str] = &[
    "data: {\"id\":\"chatcmpl-Tele\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4.1-2025-04-14\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-Tele\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4.1-2025-04-14\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Also races.\"},\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-Tele\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4.1-2025-04-14\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-Tele\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4.1-2025-04-14\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":6,\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n",
    "data: [DONE]\n\n",
];

/// A workspace with a user workflow `ask`: a `true` step, then a prompt to
/// the `claude` provider pointed at `server`. The prompt ends with the
/// `token` parameter (the tests pass the key there: recorded content must
/// show it redacted).
struct Setup {
    env: TestEnv,
    ws: PathBuf,
    _runtime: tokio::runtime::Runtime,
    claude: FakeServer,
}

fn setup(answers: usize) -> Setup {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let claude = runtime.block_on(FakeServer::start(
        (0..answers)
            .map(|_| sse_response(&[("request-id", "req_tele_1")], ANTHROPIC))
            .collect(),
    ));
    let env = TestEnv::new();
    env.write(
        "config/agentls/config.toml",
        &format!(
            "[providers.claude]\nkind = \"anthropic\"\nbase_url = \"{}\"\nretry_base_delay = \"5ms\"\n",
            claude.base_url()
        ),
    );
    env.write(
        "config/agentls/workflows/ask.toml",
        &format!(
            "[params.token]\ndefault = \"\"\n\n[[steps]]\nid = \"check\"\nrun = \"true\"\n\n\
             [[steps]]\nid = \"ask\"\nprompt = \"{PROMPT} {{{{ params.token }}}}\"\n"
        ),
    );
    let ws = env.mkdir("ws");
    Setup {
        env,
        ws,
        _runtime: runtime,
        claude,
    }
}

impl Setup {
    /// `agentls ARGS --workspace WS` with the key set.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.command();
        cmd.env("ANTHROPIC_API_KEY", KEY)
            .args(args)
            .arg("--workspace")
            .arg(&self.ws);
        cmd
    }

    /// `agentls run ask --json -p token=KEY` with extra environment.
    fn run(&self, vars: &[(&str, &str)]) -> Output {
        let mut cmd = self.env.command();
        cmd.env("ANTHROPIC_API_KEY", KEY)
            .args(["run", "ask", "--json", "-p"])
            .arg(format!("token={KEY}"))
            .arg("--workspace")
            .arg(&self.ws);
        for (name, value) in vars {
            cmd.env(name, value);
        }
        cmd.output().expect("agentls runs")
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

fn one<'a>(spans: &'a [Span], what: &str, pick: impl Fn(&Span) -> bool) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| pick(s)).collect();
    assert_eq!(found.len(), 1, "expected one {what} span in {spans:#?}");
    found[0]
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn run_is_exported(protocol: &str, content_type: &str) {
    let setup = setup(1);
    let receiver = Receiver::start();
    let out = setup.run(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_SERVICE_NAME", "agentls-ci"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run = json(&out);
    // Everything was flushed before the CLI exited: nothing to wait for.
    let exports = receiver.exports();
    assert!(!exports.is_empty(), "nothing exported:\n{}", text(&out));
    assert!(
        exports.iter().all(|e| e.content_type == content_type),
        "{:?}",
        exports.iter().map(|e| &e.content_type).collect::<Vec<_>>()
    );

    let spans = receiver.spans();
    let root = one(&spans, "run", |s| {
        s.attributes.contains_key("agentls.run.status")
    });
    assert_eq!(root.name, "run ask");
    assert_eq!(root.str("agentls.run.id"), run["id"].as_str());
    assert_eq!(root.str("agentls.workflow"), Some("ask"));
    assert_eq!(root.str("agentls.run.status"), Some("completed"));
    assert!(root
        .str("agentls.workspace.hash")
        .is_some_and(|h| h.len() == 16));
    assert_eq!(
        root.resource.get("service.name"),
        Some(&"agentls-ci".into())
    );
    for (id, kind) in [("check", "run"), ("ask", "prompt")] {
        let step = one(&spans, id, |s| s.str("agentls.step.id") == Some(id));
        assert_eq!(step.str("agentls.step.kind"), Some(kind));
        assert_eq!(step.int("agentls.step.attempt"), Some(1));
        assert_eq!(step.str("agentls.step.status"), Some("completed"));
        assert_eq!(step.parent_span_id, root.span_id);
    }
    let command = one(&spans, "command", |s| {
        s.attributes.contains_key("process.executable.name")
    });
    assert_eq!(command.str("process.executable.name"), Some("true"));
    assert_eq!(command.int("process.exit.code"), Some(0));
    assert!(
        command
            .attributes
            .keys()
            .all(|k| !k.contains("env") && !k.contains("args")),
        "a command span carries no environment or arguments: {command:?}"
    );

    let chat = one(&spans, "model call", |s| {
        s.attributes.contains_key("gen_ai.operation.name")
    });
    let ask = one(&spans, "ask", |s| s.str("agentls.step.id") == Some("ask"));
    assert_eq!(chat.parent_span_id, ask.span_id);
    assert_eq!(chat.trace_id, root.trace_id);
    let expected: [(&str, Value); 8] = [
        ("gen_ai.operation.name", "chat".into()),
        ("gen_ai.provider.name", "anthropic".into()),
        ("gen_ai.request.model", "claude-sonnet-4-5".into()),
        ("gen_ai.response.model", "claude-sonnet-4-5-20250929".into()),
        ("gen_ai.response.id", "req_tele_1".into()),
        (
            "gen_ai.response.finish_reasons",
            serde_json::json!(["end_turn"]),
        ),
        ("gen_ai.usage.input_tokens", 9.into()),
        ("gen_ai.usage.output_tokens", 2.into()),
    ];
    for (key, value) in expected {
        assert_eq!(chat.attributes.get(key), Some(&value), "{key} in {chat:#?}");
    }

    let tokens = receiver.points("gen_ai.client.token.usage");
    let sum_of = |kind: &str| -> f64 {
        tokens
            .iter()
            .filter(|p| p.str("gen_ai.token.type") == Some(kind))
            .map(|p| p.value)
            .sum()
    };
    assert_eq!(
        (sum_of("input"), sum_of("output")),
        (9.0, 2.0),
        "{tokens:#?}"
    );
    assert!(!receiver
        .points("gen_ai.client.operation.duration")
        .is_empty());
    let runs = receiver.points("agentls.runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].str("agentls.run.status"), Some("completed"));
    assert_eq!(
        run["steps"][1]["usage"]["input_tokens"], 9,
        "the run's own record agrees"
    );
}

#[test]
fn a_run_is_exported_over_http_json() {
    run_is_exported("http/json", "application/json");
}

#[test]
fn a_run_is_exported_over_http_protobuf_by_default() {
    // The default protocol: the variable is set to what the default is, and
    // the next test leaves it out.
    run_is_exported("http/protobuf", "application/x-protobuf");
}

#[test]
fn the_protocol_defaults_to_protobuf_and_the_config_file_can_point_at_the_collector() {
    let setup = setup(1);
    let receiver = Receiver::start();
    let config = std::fs::read_to_string(setup.env.user_config_path()).expect("config");
    setup.env.write(
        "config/agentls/config.toml",
        &format!(
            "{config}\n[telemetry]\notlp_endpoint = \"{}\"\n",
            receiver.endpoint()
        ),
    );
    let out = setup.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let exports = receiver.exports();
    assert!(
        exports.iter().any(|e| e.path == "/v1/traces"),
        "{}",
        text(&out)
    );
    assert!(exports.iter().any(|e| e.path == "/v1/metrics"));
    assert!(exports
        .iter()
        .all(|e| e.content_type == "application/x-protobuf"));
}

#[test]
fn an_unreachable_collector_leaves_the_run_and_its_result_unchanged() {
    let setup = setup(2);
    let baseline = setup.run(&[]);
    assert_eq!(baseline.status.code(), Some(0), "{}", text(&baseline));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let started = Instant::now();
    let exported = setup.run(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]);
    let took = started.elapsed();
    assert_eq!(exported.status.code(), Some(0), "{}", text(&exported));

    let (a, b) = (json(&baseline), json(&exported));
    assert_ne!(a["id"], b["id"], "two runs");
    assert_eq!(a["status"], b["status"]);
    let steps = |v: &Value| {
        v["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| {
                let u = &s["usage"];
                (
                    s["step_id"].clone(),
                    s["status"].clone(),
                    s["output"].clone(),
                    s["exit_code"].clone(),
                    (
                        u["input_tokens"].clone(),
                        u["output_tokens"].clone(),
                        u["model"].clone(),
                    ),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(steps(&a), steps(&b));
    assert_eq!(b["steps"][1]["output"], "It races.");
    assert!(
        took < Duration::from_secs(10),
        "the refused exports held the CLI {took:?}"
    );
    let stderr = String::from_utf8_lossy(&exported.stderr);
    assert!(
        stderr.matches("telemetry: exporting traces").count() <= 1,
        "export errors are reported at most once per interval:\n{stderr}"
    );
}

#[test]
fn neither_prompt_text_nor_keys_are_exported_by_default() {
    let setup = setup(1);
    let receiver = Receiver::start();
    let out = setup.run(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let raw = receiver.raw();
    assert!(contains(&raw, "gen_ai.usage.input_tokens"), "spans arrived");
    assert!(!contains(&raw, PROMPT), "the prompt was exported");
    assert!(!contains(&raw, "It races."), "the answer was exported");
    assert!(!contains(&raw, KEY), "the key was exported");
}

#[test]
fn opted_in_content_is_exported_without_the_key_and_never_logged() {
    let setup = setup(1);
    let receiver = Receiver::start();
    let config = std::fs::read_to_string(setup.env.user_config_path()).expect("config");
    setup.env.write(
        "config/agentls/config.toml",
        &format!("{config}\n[telemetry]\nrecord_content = true\n"),
    );
    let out = setup.run(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("AGENTLS_LOG", "trace"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let raw = receiver.raw();
    assert!(contains(&raw, PROMPT), "the prompt is recorded");
    assert!(contains(&raw, "It races."), "the answer is recorded");
    assert!(!contains(&raw, KEY), "the key was exported");
    let spans = receiver.spans();
    let chat = one(&spans, "model call", |s| {
        s.attributes.contains_key("gen_ai.operation.name")
    });
    let input = chat.str("gen_ai.input.messages").expect("input messages");
    assert!(input.contains(&format!("{PROMPT} ***")), "{input}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains(PROMPT),
        "the prompt reached the log:\n{stderr}"
    );
}

#[test]
fn stats_match_the_usage_the_servers_reported() {
    let setup = setup(2);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let gpt = runtime.block_on(FakeServer::start(vec![sse_response(
        &[("x-request-id", "req_gpt")],
        OPENAI,
    )]));
    let config = std::fs::read_to_string(setup.env.user_config_path()).expect("config");
    setup.env.write(
        "config/agentls/config.toml",
        &format!(
            "{config}\n[providers.gpt]\nkind = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-4.1\"\n",
            gpt.base_url()
        ),
    );
    setup.env.write(
        "config/agentls/workflows/both.toml",
        "[[steps]]\nid = \"two\"\nprompt = \"compare\"\nprovider = [\"claude\", \"gpt\"]\npick = \"all\"\n",
    );
    let first = setup.run(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let second = setup
        .command(&["run", "both", "--json"])
        .output()
        .expect("agentls runs");
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(setup.claude.requests().len(), 2);
    assert_eq!(gpt.requests().len(), 1);

    let out = setup
        .command(&["stats", "--json", "--since", "1h"])
        .output()
        .expect("agentls stats");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rows = json(&out);
    let row = |provider: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["provider"] == provider)
            .unwrap_or_else(|| panic!("no {provider} row in {rows:#}"))
            .clone()
    };
    let claude = row("claude");
    assert_eq!(claude["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(
        (
            &claude["calls"],
            &claude["errors"],
            &claude["input_tokens"],
            &claude["output_tokens"]
        ),
        (&2.into(), &0.into(), &18.into(), &4.into())
    );
    assert!(claude["p50_ms"].is_u64() && claude["p95_ms"].is_u64());
    let gpt_row = row("gpt");
    assert_eq!(gpt_row["model"], "gpt-4.1-2025-04-14");
    assert_eq!(
        (
            &gpt_row["calls"],
            &gpt_row["input_tokens"],
            &gpt_row["output_tokens"],
            &gpt_row["cached_tokens"]
        ),
        (&1.into(), &11.into(), &6.into(), &4.into())
    );

    let table = setup.command(&["stats"]).output().expect("agentls stats");
    assert_eq!(table.status.code(), Some(0), "{}", text(&table));
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("tokens in"), "{table}");
    let claude_line = table
        .lines()
        .find(|l| l.starts_with("claude "))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = claude_line.split_whitespace().collect();
    assert_eq!(
        &cells[..6],
        ["claude", "claude-sonnet-4-5-20250929", "2", "0", "18", "4"]
    );

    let bad = setup
        .command(&["stats", "--since", "yesterday"])
        .output()
        .expect("agentls stats");
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("24h"));
}

#[test]
fn an_interrupted_run_is_flushed_before_the_cli_exits() {
    let setup = setup(0);
    let receiver = Receiver::start();
    setup.env.write(
        "config/agentls/workflows/long.toml",
        "[[steps]]\nid = \"wait\"\nrun = \"echo started > started; sleep 1000\"\n",
    );
    let mut child = setup
        .command(&["run", "long"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agentls runs");
    let marker = setup.ws.join("started");
    let deadline = Instant::now() + Duration::from_secs(20);
    // The step's command is an external process: poll for its marker.
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: sends SIGINT to the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("exit status");
    assert_eq!(status.code(), Some(1));
    let spans = receiver.spans();
    let root = one(&spans, "run", |s| {
        s.attributes.contains_key("agentls.run.status")
    });
    assert_eq!(root.str("agentls.run.status"), Some("cancelled"));
    let step = one(&spans, "wait", |s| s.str("agentls.step.id") == Some("wait"));
    assert_eq!(step.str("agentls.step.status"), Some("cancelled"));
    let runs = receiver.points("agentls.runs");
    assert_eq!(runs[0].str("agentls.run.status"), Some("cancelled"));
}
