//! The pipeline end to end in one process: a real engine with its models
//! runs a workflow against the fake Anthropic server on 127.0.0.1, the
//! telemetry layer exports to a local OTLP/HTTP receiver, and the receiver
//! gets the run, step, command and model-call spans with their attributes,
//! and the metrics with the usage the server reported. Both encodings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentls_engine::{Engine, EngineOptions, Inputs, RunStatus, StartRequest};
use agentls_models::SessionModels;
use agentls_provider::testing::{fast_config, sse_response, FakeServer};
use agentls_provider::{Kind, ProvidersConfig};
use agentls_telemetry::testing::{Receiver, Span};
use agentls_telemetry::{Protocol, Settings, Telemetry};
use agentls_workflow::{Source, SourceKind};
use tracing_subscriber::layer::SubscriberExt;

const KEY: &str = "sk-ant-api03-PIPELINE-SECRET-0042";
const PROMPT: &str = "Summarise the build log, token 7f1c";

/// Anthropic's documented stream: 25 input tokens + 10 cache reads, 15 output.
const STREAM: &[&str] = &[
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":10,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"The build is green.\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
];

struct Outcome {
    receiver: Receiver,
    run_id: String,
    status: RunStatus,
    flushed: bool,
}

/// Runs a `true` step and a prompt step with telemetry exporting to a
/// fresh receiver, then shuts the pipeline down.
async fn run_exported(protocol: Protocol, record_content: bool) -> Outcome {
    let receiver = Receiver::start();
    let server = FakeServer::start(vec![sse_response(
        &[("request-id", "req_018EeWyXxfu5pfWkrYcMdjWG")],
        STREAM,
    )])
    .await;
    let settings = Settings {
        traces_endpoint: Some(format!("{}/v1/traces", receiver.endpoint())),
        metrics_endpoint: Some(format!("{}/v1/metrics", receiver.endpoint())),
        protocol,
        service_name: "agentls-test".into(),
        record_content,
        timeout: Duration::from_secs(5),
    };
    let telemetry = Telemetry::start(&settings).expect("pipeline");
    let subscriber = tracing_subscriber::registry().with(telemetry.layer());
    let _scope = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).expect("workspace");
    let options = EngineOptions {
        retry_backoff: Duration::from_millis(10),
        ..EngineOptions::default()
    };
    let engine = Engine::open(&root, &dir.path().join("ws-0123456789ab"), options).expect("engine");
    let config = ProvidersConfig {
        default_provider: Some("claude".into()),
        providers: [(
            "claude".to_string(),
            fast_config(Kind::Anthropic, &server.base_url()),
        )]
        .into(),
    };
    let env = |var: &str| (var == "ANTHROPIC_API_KEY").then(|| KEY.to_string());
    engine.set_models(Some(Arc::new(SessionModels::new(config, &root, env))));
    // The prompt carries the key: recorded content must show it redacted.
    let toml = format!(
        "[[steps]]\nid = \"check\"\nrun = \"true\"\n\n[[steps]]\nid = \"ask\"\nprompt = \"{PROMPT} {KEY}\"\n"
    );
    let parsed = agentls_workflow::parse(
        "telemetry-wf",
        Source::new(SourceKind::User, Some(PathBuf::from("wf.toml")), toml),
    );
    let workflow = parsed.workflow.expect("workflow parses");
    let run = engine
        .start(StartRequest {
            workflow,
            params: BTreeMap::new(),
            inputs: Inputs::default(),
        })
        .expect("run starts");
    let record = engine.wait(&run).await.expect("run record");
    let flushed = telemetry.shutdown(Duration::from_secs(5));
    Outcome {
        receiver,
        run_id: run.to_string(),
        status: record.status,
        flushed,
    }
}

fn one<'a>(spans: &'a [Span], what: &str, pick: impl Fn(&Span) -> bool) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| pick(s)).collect();
    assert_eq!(found.len(), 1, "expected one {what} span in {spans:#?}");
    found[0]
}

async fn spans_and_token_metrics_arrive(protocol: Protocol) {
    let outcome = run_exported(protocol, false).await;
    assert_eq!(outcome.status, RunStatus::Completed);
    assert!(outcome.flushed, "shutdown flushed in time");
    let receiver = &outcome.receiver;
    let content_type = match protocol {
        Protocol::HttpProtobuf => "application/x-protobuf",
        Protocol::HttpJson => "application/json",
    };
    assert!(
        receiver
            .exports()
            .iter()
            .all(|e| e.content_type == content_type && !e.json.is_null()),
        "every export is {content_type} and decodes"
    );

    let spans = receiver.spans();
    let run = one(&spans, "run", |s| {
        s.attributes.contains_key("agentls.run.status")
    });
    assert_eq!(run.name, "run telemetry-wf");
    assert_eq!(run.str("agentls.run.id"), Some(outcome.run_id.as_str()));
    assert_eq!(run.str("agentls.workflow"), Some("telemetry-wf"));
    assert_eq!(run.str("agentls.run.status"), Some("completed"));
    let hash = run.str("agentls.workspace.hash").expect("workspace hash");
    assert!(
        hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{hash}"
    );
    assert_eq!(
        run.resource.get("service.name"),
        Some(&"agentls-test".into())
    );

    let step = |id: &str| one(&spans, id, |s| s.str("agentls.step.id") == Some(id));
    let (check, ask) = (step("check"), step("ask"));
    for (span, kind) in [(check, "run"), (ask, "prompt")] {
        assert_eq!(span.str("agentls.step.kind"), Some(kind));
        assert_eq!(span.int("agentls.step.attempt"), Some(1), "{span:#?}");
        assert_eq!(span.str("agentls.step.status"), Some("completed"));
        assert_eq!(
            span.parent_span_id, run.span_id,
            "steps are children of the run"
        );
        assert_eq!(span.trace_id, run.trace_id);
    }

    let command = one(&spans, "command", |s| {
        s.attributes.contains_key("process.executable.name")
    });
    assert_eq!(command.str("process.executable.name"), Some("true"));
    assert_eq!(command.int("process.exit.code"), Some(0));
    assert_eq!(command.parent_span_id, check.span_id);

    let chat = one(&spans, "model call", |s| {
        s.attributes.contains_key("gen_ai.operation.name")
    });
    assert_eq!(chat.name, "chat claude-sonnet-4-5");
    assert_eq!(chat.kind, 3, "client span");
    assert_eq!(chat.parent_span_id, ask.span_id);
    let expected = [
        ("gen_ai.operation.name", "chat".into()),
        ("gen_ai.provider.name", "anthropic".into()),
        ("gen_ai.request.model", "claude-sonnet-4-5".into()),
        ("gen_ai.response.model", "claude-sonnet-4-5-20250929".into()),
        ("gen_ai.response.id", "req_018EeWyXxfu5pfWkrYcMdjWG".into()),
        (
            "gen_ai.response.finish_reasons",
            serde_json::json!(["end_turn"]),
        ),
        ("gen_ai.usage.input_tokens", 35.into()),
        ("gen_ai.usage.output_tokens", 15.into()),
        ("agentls.provider", "claude".into()),
    ];
    for (key, value) in expected {
        assert_eq!(chat.attributes.get(key), Some(&value), "{key}");
    }
    assert!(!chat.attributes.contains_key("error.type"));

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
        (35.0, 15.0),
        "{tokens:#?}"
    );
    assert!(tokens.iter().all(|p| p.unit == "{token}"
        && p.str("gen_ai.provider.name") == Some("anthropic")
        && p.str("gen_ai.response.model") == Some("claude-sonnet-4-5-20250929")));
    let durations = receiver.points("gen_ai.client.operation.duration");
    assert_eq!(durations.iter().map(|p| p.count).sum::<u64>(), 1);
    assert_eq!(durations[0].unit, "s");
    assert_eq!(
        receiver
            .points("gen_ai.client.operation.time_to_first_chunk")
            .iter()
            .map(|p| p.count)
            .sum::<u64>(),
        1
    );
    let steps = receiver.points("agentls.step.duration");
    assert_eq!(steps.iter().map(|p| p.count).sum::<u64>(), 2);
    let runs = receiver.points("agentls.runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].str("agentls.run.status"), runs[0].value),
        (Some("completed"), 1.0)
    );
}

#[tokio::test]
async fn spans_and_token_metrics_arrive_over_http_json() {
    spans_and_token_metrics_arrive(Protocol::HttpJson).await;
}

#[tokio::test]
async fn spans_and_token_metrics_arrive_over_http_protobuf() {
    spans_and_token_metrics_arrive(Protocol::HttpProtobuf).await;
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn prompt_text_and_keys_are_never_exported_by_default() {
    let outcome = run_exported(Protocol::HttpJson, false).await;
    let raw = outcome.receiver.raw();
    assert!(!raw.is_empty());
    assert!(!contains(&raw, PROMPT), "the prompt was exported");
    assert!(
        !contains(&raw, "The build is green."),
        "the answer was exported"
    );
    assert!(!contains(&raw, KEY), "the key was exported");
}

#[tokio::test]
async fn opted_in_content_is_exported_with_the_key_redacted() {
    let outcome = run_exported(Protocol::HttpProtobuf, true).await;
    let raw = outcome.receiver.raw();
    assert!(contains(&raw, PROMPT), "the prompt is recorded");
    assert!(
        contains(&raw, "The build is green."),
        "the answer is recorded"
    );
    assert!(!contains(&raw, KEY), "the key was exported");
    let spans = outcome.receiver.spans();
    let chat = one(&spans, "model call", |s| {
        s.attributes.contains_key("gen_ai.operation.name")
    });
    let input: serde_json::Value =
        serde_json::from_str(chat.str("gen_ai.input.messages").expect("input messages"))
            .expect("input messages are JSON");
    assert_eq!(
        input,
        serde_json::json!([{"role": "user", "parts": [{"type": "text", "content": format!("{PROMPT} ***")}]}])
    );
    let output: serde_json::Value =
        serde_json::from_str(chat.str("gen_ai.output.messages").expect("output messages"))
            .expect("output messages are JSON");
    assert_eq!(output[0]["parts"][0]["content"], "The build is green.");
    assert_eq!(output[0]["finish_reason"], "end_turn");
}

#[tokio::test]
async fn an_unreachable_collector_does_not_change_the_run() {
    // A port that refuses connections: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let server = FakeServer::start(vec![sse_response(&[], STREAM)]).await;
    let settings = Settings {
        traces_endpoint: Some(format!("{endpoint}/v1/traces")),
        metrics_endpoint: Some(format!("{endpoint}/v1/metrics")),
        protocol: Protocol::HttpProtobuf,
        service_name: "agentls".into(),
        record_content: false,
        timeout: Duration::from_secs(5),
    };
    let telemetry = Telemetry::start(&settings).expect("pipeline starts without a collector");
    let _scope =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(telemetry.layer()));
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(
        dir.path(),
        &dir.path().join("state"),
        EngineOptions::default(),
    )
    .expect("engine");
    let config = ProvidersConfig {
        default_provider: Some("claude".into()),
        providers: [(
            "claude".to_string(),
            fast_config(Kind::Anthropic, &server.base_url()),
        )]
        .into(),
    };
    engine.set_models(Some(Arc::new(SessionModels::new(
        config,
        dir.path(),
        |_| Some(KEY.to_string()),
    ))));
    let parsed = agentls_workflow::parse(
        "wf",
        Source::new(
            SourceKind::User,
            None,
            "[[steps]]\nid = \"ask\"\nprompt = \"hi\"\n",
        ),
    );
    let run = engine
        .start(StartRequest {
            workflow: parsed.workflow.expect("workflow"),
            params: BTreeMap::new(),
            inputs: Inputs::default(),
        })
        .expect("run starts");
    let record = engine.wait(&run).await.expect("record");
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(
        engine.store().step_output(&run, "ask").expect("output"),
        "The build is green."
    );
    let started = std::time::Instant::now();
    telemetry.shutdown(Duration::from_secs(3));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "shutdown is bounded: {:?}",
        started.elapsed()
    );
}
