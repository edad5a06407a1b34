//! Several providers in one step: concurrent, every answer kept, `pick`
//! choosing the output.

use std::time::Duration;

use agentls_engine::{Event, RunStatus, StepStatus};
use agentls_provider::testing::{json_response, FakeServer, Observed, Step};

use crate::support::*;

const VENDORS: [(&str, Vendor); 3] = [
    ("claude", Vendor::Anthropic),
    ("gpt", Vendor::Openai),
    ("gemini", Vendor::Gemini),
];

/// One fake server per vendor, answering `answers[i]` after `delays[i]`.
async fn three_servers(answers: [Vec<Step>; 3], delays: [u64; 3]) -> Vec<FakeServer> {
    let mut servers = Vec::new();
    for (answer, delay) in answers.into_iter().zip(delays) {
        let mut script = vec![Step::Pause(Duration::from_millis(delay))];
        script.extend(answer);
        servers.push(FakeServer::start(vec![script]).await);
    }
    servers
}

fn fixture(servers: &[FakeServer]) -> Fixture {
    Fixture::new(
        providers(
            VENDORS
                .iter()
                .zip(servers)
                .map(|((name, vendor), server)| (*name, vendor.config(server)))
                .collect(),
        ),
        Env::keys(),
    )
}

fn answers() -> [Vec<Step>; 3] {
    [
        Vendor::Anthropic.answer(&["Claude ", "says A."]),
        Vendor::Openai.answer(&["GPT ", "says B.\n"]),
        Vendor::Gemini.answer(&["Gemini ", "says C."]),
    ]
}

#[tokio::test]
async fn fan_out_over_three_vendors_keeps_every_answer_and_pick_all_joins_them() {
    let servers = three_servers(answers(), [0, 0, 0]).await;
    let f = fixture(&servers);

    let (run, record) = f.run(&ask(&["claude", "gpt", "gemini"], "all")).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(
        f.output(&run, "ask"),
        "## claude\n\nClaude says A.\n\n## gpt\n\nGPT says B.\n\n## gemini\n\nGemini says C.\n"
    );
    let ask = step(&record, "ask");
    assert_eq!(
        ask.outputs,
        Some(serde_json::json!({
            "claude": "Claude says A.",
            "gpt": "GPT says B.\n",
            "gemini": "Gemini says C.",
        }))
    );
    assert_eq!(ask.error, None);
    let usage = &ask.usage;
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.cached_tokens),
        (Some(35 + 9 + 8), Some(15 + 12 + 8), Some(10 + 4 + 2))
    );
    assert_eq!(usage.provider.as_deref(), Some("claude,gpt,gemini"));
    assert_eq!(
        usage.model.as_deref(),
        Some("claude-sonnet-4-5-20250929,gpt-4.1-2025-04-14,gemini-2.5-flash")
    );
    // The live output names each provider before its text.
    let live = f.events.live(&run, "ask");
    for (name, text) in [
        ("claude", "Claude "),
        ("gpt", "GPT "),
        ("gemini", "Gemini "),
    ] {
        assert!(live.contains(&format!("── {name} ──\n")), "{live}");
        let heading = live.find(&format!("── {name} ──")).unwrap();
        let first_text = live.find(text).unwrap();
        assert!(heading < first_text, "{live}");
    }
}

#[tokio::test]
async fn pick_first_outputs_the_first_answer_and_keeps_the_others() {
    let servers = three_servers(answers(), [400, 200, 0]).await;
    let f = fixture(&servers);

    let (run, record) = f.run(&ask(&["claude", "gpt", "gemini"], "first")).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(f.output(&run, "ask"), "Gemini says C.");
    let outputs = step(&record, "ask").outputs.clone().unwrap_or_default();
    assert_eq!(outputs["claude"], "Claude says A.");
    assert_eq!(outputs["gpt"], "GPT says B.\n");
    assert_eq!(outputs["gemini"], "Gemini says C.");
}

#[tokio::test]
async fn fan_out_runs_the_providers_concurrently() {
    let servers = three_servers(answers(), [300, 300, 300]).await;
    let f = fixture(&servers);

    let (_, record) = f.run(&ask(&["claude", "gpt", "gemini"], "all")).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    // Every request arrived before the first answer was sent.
    let arrivals: Vec<_> = servers.iter().map(|s| s.requests()[0].at).collect();
    let first_answer = servers
        .iter()
        .filter_map(|s| s.requests()[0].responded_at)
        .min()
        .unwrap();
    assert!(arrivals.iter().all(|at| *at < first_answer));
}

#[tokio::test]
async fn a_failed_provider_is_noted_and_the_others_answers_complete_the_step() {
    let mut list = answers();
    list[1] = json_response(
        401,
        &[],
        r#"{"error":{"message":"Incorrect API key provided: sk-proj-****0002.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
    );
    let servers = three_servers(list, [0, 0, 0]).await;
    let f = fixture(&servers);

    let (run, record) = f.run(&ask(&["claude", "gpt", "gemini"], "all")).await;

    assert_eq!(record.status, RunStatus::Completed, "{record:?}");
    assert_eq!(
        f.output(&run, "ask"),
        "## claude\n\nClaude says A.\n\n## gemini\n\nGemini says C.\n"
    );
    let ask = step(&record, "ask");
    let outputs = ask.outputs.clone().unwrap_or_default();
    assert!(outputs.get("gpt").is_none(), "{outputs}");
    let note = ask.error.clone().unwrap_or_default();
    assert!(
        note.starts_with("1 of 3 providers gave no answer: provider `gpt`: HTTP 401:"),
        "{note}"
    );
    assert_eq!(ask.usage.provider.as_deref(), Some("claude,gemini"));
    let live = f.events.live(&run, "ask");
    assert!(
        live.contains("── gpt ──\n[provider `gpt`: HTTP 401:"),
        "{live}"
    );
}

#[tokio::test]
async fn fan_out_fails_when_every_provider_fails() {
    let gone = || json_response(400, &[], r#"{"error":{"message":"model not found"}}"#);
    let servers = three_servers([gone(), gone(), gone()], [0, 0, 0]).await;
    let f = fixture(&servers);

    let (_, record) = f.run(&ask(&["claude", "gpt", "gemini"], "first")).await;

    assert_eq!(record.status, RunStatus::Failed);
    let ask = step(&record, "ask");
    assert_eq!(ask.status, StepStatus::Failed);
    let error = ask.error.clone().unwrap_or_default();
    assert!(
        error.starts_with("every provider failed: provider `claude`: HTTP 400"),
        "{error}"
    );
    for name in ["gpt", "gemini"] {
        assert!(
            error.contains(&format!("provider `{name}`: HTTP 400")),
            "{error}"
        );
    }
}

#[tokio::test]
async fn cancelling_a_fan_out_closes_every_connection() {
    let mut servers = Vec::new();
    for (_, vendor) in VENDORS {
        let mut script = vendor.partial(&["first", " second"], 1);
        script.push(Step::AwaitClose);
        servers.push(FakeServer::start(vec![script]).await);
    }
    let f = fixture(&servers);
    let run = f.start(&ask(&["claude", "gpt", "gemini"], "all"));
    f.events
        .wait_for("every provider to start answering", |events| {
            let live: Vec<u8> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Output { bytes, .. } => Some(bytes.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            String::from_utf8_lossy(&live).matches("first").count() == 3
        })
        .await;

    let record = f.engine.cancel(&run).await.expect("cancel");

    assert_eq!(record.status, RunStatus::Cancelled);
    assert_eq!(step(&record, "ask").status, StepStatus::Cancelled);
    for server in &mut servers {
        server.wait_for(Observed::ClientClosed(0)).await;
    }
}
